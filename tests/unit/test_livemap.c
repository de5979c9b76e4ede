/* SPDX-License-Identifier: MIT */
/*
 * The replay's live map (analyze/lib/livemap.h): random inserts and removals
 * checked against a plain reference set after every step, with the map's
 * invariants (control bytes agree with the slots, enough empty slots that
 * every probe ends, the room count); addresses chosen so their home slots
 * fall in one group, in the last group (probes wrap around), and on full
 * groups (deleted slots that must not end a probe); rebuilds at the same size
 * and at twice the size; sizes past 32 bits; addresses chosen to collide
 * under a fixed hash multiplier.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "livemap.h"

/* The inverse of m's hash multiplier mod 2^64: addresses with a chosen hash. */
static uint64_t inv_mult(const struct pt__livemap *m)
{
	uint64_t a = m->mult, x = a; /* Newton: x = x (2 - a x), 6 rounds for 64 bits */
	for (int i = 0; i < 6; i++)
		x *= 2 - a * x;
	return x;
}

/* An address whose home slot in m is slot, with hash bits below the index from salt. */
static uint64_t addr_at(const struct pt__livemap *m, size_t slot, uint64_t salt)
{
	uint64_t h = ((uint64_t)slot << m->shift) | (salt & ((1ull << m->shift) - 1));
	uint64_t a = h * inv_mult(m);
	return a ? a : 1;
}

/* xorshift64 */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The reference: a plain array of (addr, size). */
struct ref {
	uint64_t *addr, *size;
	size_t n, cap;
};

static void ref_add(struct ref *r, uint64_t a, uint64_t size)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->addr = realloc(r->addr, r->cap * sizeof(*r->addr));
		r->size = realloc(r->size, r->cap * sizeof(*r->size));
		assert_non_null(r->addr);
		assert_non_null(r->size);
	}
	r->addr[r->n] = a;
	r->size[r->n++] = size;
}

static void ref_del(struct ref *r, size_t i)
{
	r->addr[i] = r->addr[r->n - 1];
	r->size[i] = r->size[--r->n];
}

static void ref_free(struct ref *r)
{
	free(r->addr);
	free(r->size);
}

/* Each test's map (a random multiplier of its own) and reference set. */
struct fx {
	struct pt__livemap m;
	struct ref r;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f || pt__live_init(&f->m) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	pt__live_release(&f->m);
	ref_free(&f->r);
	free(f);
	return 0;
}

/* Every invariant of the map, and every reference entry found with its size. */
static void check(const struct pt__livemap *m, const struct ref *r)
{
	size_t cap = m->mask + 1, full = 0, empty = 0;
	for (size_t i = 0; i < cap; i++) {
		uint8_t c = m->ctrl[i];
		if (m->slot[i].addr) {
			full++;
			assert_int_equal(c, pt__live_h7(m, pt__live_hash(m, m->slot[i].addr)));
		} else {
			assert_true(c == PT__LIVE_EMPTY || c == PT__LIVE_DELETED);
			empty += c == PT__LIVE_EMPTY;
		}
	}
	assert_int_equal(full, m->n);
	assert_int_equal(m->n, r->n);
	/* at least a quarter stays empty, so every probe meets an empty slot */
	assert_true(empty >= cap / 4);
	assert_true(empty >= m->room + cap / 4);
	/* a group with an empty slot has no deleted one (it never filled up) */
	for (size_t g = 0; g < cap; g += PT__LIVE_GROUP) {
		bool e = false, d = false;
		for (size_t k = 0; k < PT__LIVE_GROUP; k++) {
			e |= m->ctrl[g + k] == PT__LIVE_EMPTY;
			d |= m->ctrl[g + k] == PT__LIVE_DELETED;
		}
		assert_false(e && d);
	}
	for (size_t i = 0; i < r->n; i++) {
		bool found;
		const struct pt__live_slot *s = pt__live_lookup(m, r->addr[i], pt__live_hash(m, r->addr[i]), &found);
		assert_true(found);
		assert_int_equal(s->addr, r->addr[i]);
		assert_int_equal(pt__live_size(m, s), r->size[i]);
		assert_int_equal(s->ts_ns, r->addr[i] ^ 0x5555);
	}
}

/* Insert a (not in the map), rebuilding first when there is no room. */
static void put(struct pt__livemap *m, struct ref *r, uint64_t a, uint64_t size)
{
	uint64_t h = pt__live_hash(m, a);
	bool found;
	struct pt__live_slot *s = pt__live_lookup(m, a, h, &found);
	assert_false(found);
	assert_int_equal(s->addr, 0);
	if (!pt__live_room(m)) {
		assert_int_equal(pt__live_rebuild(m), 0);
		s = pt__live_lookup(m, a, h, &found);
		assert_false(found);
	}
	pt__live_insert(m, s, a, h);
	s->size = 0;
	assert_int_equal(pt__live_set_size(m, s, size), 0);
	s->ts_ns = a ^ 0x5555;
	ref_add(r, a, size);
}

/* Remove the reference's entry i from both. */
static void del(struct pt__livemap *m, struct ref *r, size_t i)
{
	bool found;
	struct pt__live_slot *s = pt__live_lookup(m, r->addr[i], pt__live_hash(m, r->addr[i]), &found);
	assert_true(found);
	pt__live_remove(m, s);
	(void)pt__live_lookup(m, r->addr[i], pt__live_hash(m, r->addr[i]), &found);
	assert_false(found);
	ref_del(r, i);
}

static bool in_ref(const struct ref *r, uint64_t a)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->addr[i] == a)
			return true;
	return false;
}

/* Random churn with a live count that rises and falls, checked at every step. */
static void test_random_churn(void **state)
{
	struct fx *f = *state;
	struct pt__livemap *m = &f->m;
	struct ref *r = &f->r;
	uint64_t seed = 0x1234567;
	size_t caps_seen = 0, last_cap = m->mask + 1;
	for (int step = 0; step < 60000; step++) {
		/* the live count rises to about 7500 and falls back to 0, three times */
		bool rising = (step / 10000) % 2 == 0;
		uint64_t x = rnd(&seed);
		if (r->n > 0 && (!rising || x % 8 == 0)) {
			del(m, r, (size_t)(rnd(&seed) % r->n));
		} else {
			uint64_t a = (rnd(&seed) & 0xFFFFFFFFFFF0ull) | 0xFFFF000000000000ull;
			if (in_ref(r, a))
				continue;
			uint64_t size = x % 97 == 0 ? (1ull << 32) + x % 1000 : x % 5000;
			put(m, r, a, size);
		}
		if (m->mask + 1 != last_cap) {
			caps_seen++;
			last_cap = m->mask + 1;
		}
		if (step % 13 == 0 || step > 59900)
			check(m, r);
	}
	check(m, r);
	assert_true(caps_seen >= 2); /* it grew, twice */
	while (r->n)
		del(m, r, r->n - 1);
	check(m, r);
	assert_int_equal(m->big_n, 0); /* sizes past 32 bits left the side map with their slots */
}

/* Addresses whose home is one slot: a full group, deleted slots, probes into the next group. */
static void test_one_home(void **state)
{
	struct fx *f = *state;
	struct pt__livemap *m = &f->m;
	struct ref *r = &f->r;
	size_t cap = m->mask + 1;
	/* 40 addresses with home slot 5: groups 0, 1 and part of 2 fill */
	for (uint64_t k = 0; k < 40; k++)
		put(m, r, addr_at(m, 5, k * 7919 + 1), k);
	check(m, r);
	assert_int_equal(m->mask + 1, cap);
	/* the first lands at home, the next after it in the group */
	assert_int_equal(m->slot[5].addr, r->addr[0]);
	assert_int_equal(m->slot[6].addr, r->addr[1]);
	/* removing from the full first group leaves deleted slots: the rest stay reachable */
	uint64_t a5 = m->slot[5].addr, a6 = m->slot[6].addr;
	for (size_t i = 0; i < r->n; i++)
		if (r->addr[i] == a5 || r->addr[i] == a6)
			del(m, r, i--);
	check(m, r);
	assert_int_equal(m->ctrl[5], PT__LIVE_DELETED);
	assert_int_equal(m->ctrl[6], PT__LIVE_DELETED);
	/* new addresses of the same home reuse them, without using room */
	size_t room = m->room;
	put(m, r, addr_at(m, 5, 100 * 7919 + 1), 100);
	put(m, r, addr_at(m, 5, 101 * 7919 + 1), 101);
	assert_int_equal(m->room, room);
	assert_int_equal(m->slot[5].addr, r->addr[r->n - 2]);
	assert_int_equal(m->slot[6].addr, r->addr[r->n - 1]);
	check(m, r);
	/* a group that still has an empty slot gets empty slots back */
	uint64_t a32 = m->slot[32].addr;
	for (size_t i = 0; i < r->n; i++)
		if (r->addr[i] == a32)
			del(m, r, i--);
	assert_int_equal(m->ctrl[32], PT__LIVE_EMPTY);
	assert_int_equal(m->room, room + 1);
	check(m, r);
	while (r->n)
		del(m, r, r->n / 2);
	check(m, r);
}

/* Deleted slots that used up the room: a rebuild at the same size gets it back. */
static void test_rebuild_same_size(void **state)
{
	struct fx *f = *state;
	struct pt__livemap *m = &f->m;
	struct ref *r = &f->r;
	size_t cap = m->mask + 1, fill = cap / 4 * 3;
	/* fill whole groups: 16 addresses with home at the start of each */
	for (size_t g = 0; g < fill / PT__LIVE_GROUP; g++)
		for (uint64_t k = 0; k < PT__LIVE_GROUP; k++)
			put(m, r, addr_at(m, g * PT__LIVE_GROUP, k * 131 + g + 1), k);
	assert_false(pt__live_room(m));
	assert_int_equal(m->mask + 1, cap);
	check(m, r);
	/* empty them: every slot of a full group becomes deleted, no room comes back */
	while (r->n)
		del(m, r, r->n - 1);
	assert_false(pt__live_room(m));
	for (size_t i = 0; i < fill; i++)
		assert_int_equal(m->ctrl[i], PT__LIVE_DELETED);
	check(m, r);
	put(m, r, 0xFFFFA00000001230ull, 5);
	assert_int_equal(m->mask + 1, cap); /* not grown */
	assert_int_equal(m->room, fill - 1);
	check(m, r);
}

/* Homes in the last group: probes wrap around to group 0. */
static void test_wrap_around(void **state)
{
	struct fx *f = *state;
	struct pt__livemap *m = &f->m;
	struct ref *r = &f->r;
	size_t cap = m->mask + 1;
	for (uint64_t k = 0; k < 24; k++)
		put(m, r, addr_at(m, cap - 2, k * 104729 + 3), k + 1);
	check(m, r);
	size_t in_first = 0;
	for (size_t i = 0; i < PT__LIVE_GROUP; i++)
		in_first += m->slot[i].addr != 0;
	assert_int_equal(in_first, 8); /* 16 in the last group, 8 wrapped to the first */
	for (size_t i = 0; i < 12; i++)
		del(m, r, 0);
	check(m, r);
}

/* Growth keeps every entry and its fields; the map doubles at 75 % of its slots. */
static void test_growth(void **state)
{
	struct fx *f = *state;
	struct pt__livemap *m = &f->m;
	struct ref *r = &f->r;
	size_t cap0 = m->mask + 1;
	for (uint64_t i = 1; i <= cap0 / 4 * 3; i++)
		put(m, r, 0xFFFFA00000000000ull + i * 16, i);
	assert_int_equal(m->mask + 1, cap0);
	assert_false(pt__live_room(m));
	put(m, r, 0xFFFFB00000000000ull, 7);
	assert_int_equal(m->mask + 1, cap0 * 2);
	check(m, r);
	for (uint64_t i = 1; i <= 100000; i++)
		put(m, r, 0xFFFFC00000000000ull + i * 4096, i % 3 ? i : (1ull << 33) + i);
	check(m, r);
	assert_true(m->n * 4 <= (m->mask + 1) * 3);
}

/*
 * Addresses a hostile trace would choose against a fixed multiplier (2^64 /
 * phi, the hash before it was keyed): k times its inverse, whose hashes are
 * k, all with home slot 0. With the map's random multiplier they spread:
 * few sit outside their home group, and lookups stay short.
 */
static void test_chosen_addresses(void **state)
{
	struct fx *f = *state;
	struct pt__livemap *m = &f->m;
	struct ref *r = &f->r;
	assert_true(m->mult & 1);
	uint64_t phi = 0x9e3779b97f4a7c15ull, inv = phi;
	for (int i = 0; i < 6; i++)
		inv *= 2 - phi * inv;
	for (uint64_t k = 1; k <= 20000; k++)
		put(m, r, k * inv, 64);
	size_t away = 0;
	for (size_t i = 0; i <= m->mask; i++) {
		if (!m->slot[i].addr)
			continue;
		size_t home = pt__live_index(m, pt__live_hash(m, m->slot[i].addr));
		away += (home & ~(size_t)(PT__LIVE_GROUP - 1)) != (i & ~(size_t)(PT__LIVE_GROUP - 1));
	}
	/* at this load (20 k in 32 k slots) a few percent overflow their group; all would collide */
	assert_true(away < 20000 / 10);
	check(m, r);
	/* two maps draw different multipliers */
	struct pt__livemap m2;
	assert_int_equal(pt__live_init(&m2), 0);
	assert_true(m2.mult != m->mult);
	pt__live_release(&m2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_random_churn, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_home, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_same_size, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wrap_around, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_growth, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_chosen_addresses, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
