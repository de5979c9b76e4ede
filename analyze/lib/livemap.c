/* SPDX-License-Identifier: MIT */
/* The replay's live-allocation map: growth, removal and the side map of big sizes (livemap.h). */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS, madvise() */
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include "livemap.h"
#include "pooltrace/error.h"

#define LIVE_MIN_SHIFT 12
#define LIVE_MIN_CAP (1u << LIVE_MIN_SHIFT)
#define BIG_MIN_CAP 16u

#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MAP_ANONYMOUS)
/*
 * Tables of HUGE_MIN bytes or more are mapped directly, 2 MiB aligned, and
 * asked for transparent huge pages: a random probe of the table then costs
 * no TLB miss of its own, and filling it one page fault per 2 MiB instead
 * of per 4 KiB. Fresh anonymous pages are zero. Only whole huge pages of
 * the table get them (madvise() splits the mapping at its end), so a table
 * just past 2 MiB does not take 4. From 2 MiB (64 k slots): the 10 M-event
 * churn ETL (a 4 MiB table) runs about 4 % faster than with 4 KiB pages
 * (docs/performance.md, "Replay: the live map").
 */
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_MIN ((size_t)2 << 20)

static struct pt__live_slot *slots_map(size_t bytes, void **block, size_t *block_len)
{
	size_t len = bytes + HUGE_PAGE;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	(void)madvise((void *)a, bytes, MADV_HUGEPAGE); /* a hint: fine if refused */
	*block = p;
	*block_len = len;
	return (struct pt__live_slot *)(void *)a;
}
#endif

/*
 * Slots 64-byte aligned: two per cache line, none across two lines; the
 * control bytes after them (cap is a multiple of 16, so they are 16-byte
 * aligned), all zero (empty). calloc() (fresh zero pages from the kernel for
 * a big table, no memset pass) with 64 bytes to spare; the block calloc()
 * returned is kept in *block for free(), *block_len 0; or a mapping of
 * *block_len bytes (slots_map()).
 */
static struct pt__live_slot *slots_new(size_t cap, void **block, size_t *block_len)
{
	size_t bytes = cap * (sizeof(struct pt__live_slot) + 1);
	*block_len = 0;
#ifdef HUGE_MIN
	if (bytes >= HUGE_MIN) {
		struct pt__live_slot *sl = slots_map(bytes, block, block_len);
		if (sl)
			return sl;
	}
#endif
	unsigned char *b = calloc(1, bytes + 64);
	*block = b;
	if (!b)
		return NULL;
	return (struct pt__live_slot *)(void *)(b + (64 - ((uintptr_t)b & 63)) % 64);
}

static void slots_free(void *block, size_t block_len)
{
#ifdef HUGE_MIN
	if (block_len) {
		munmap(block, block_len);
		return;
	}
#endif
	(void)block_len;
	free(block);
}

/* Slots of a map of capacity cap that may be filled between rebuilds (75 %). */
static size_t fill_max(size_t cap)
{
	return cap / 4 * 3;
}

int pt__live_init(struct pt__livemap *m)
{
	memset(m, 0, sizeof(*m));
	m->slot = slots_new(LIVE_MIN_CAP, &m->block, &m->block_len);
	if (!m->slot)
		return PT_ENOMEM;
	m->ctrl = (uint8_t *)(m->slot + LIVE_MIN_CAP);
	m->mask = LIVE_MIN_CAP - 1;
	m->shift = 64 - LIVE_MIN_SHIFT;
	m->room = fill_max(LIVE_MIN_CAP);
	m->mult = pt__random64() | 1; /* odd: pt__live_hash() */
	return 0;
}

void pt__live_release(struct pt__livemap *m)
{
	slots_free(m->block, m->block_len);
	free(m->big_key);
	free(m->big_val);
	memset(m, 0, sizeof(*m));
}

int pt__live_rebuild(struct pt__livemap *m)
{
	size_t cap = m->mask + 1;
	/* deleted slots are most of what filled it: the same size gets the room back */
	size_t ncap = m->n < fill_max(cap) / 2 ? cap : cap * 2;
	struct pt__livemap nm = *m;
	nm.slot = slots_new(ncap, &nm.block, &nm.block_len);
	if (!nm.slot)
		return PT_ENOMEM;
	nm.ctrl = (uint8_t *)(nm.slot + ncap);
	nm.mask = ncap - 1;
	nm.shift = ncap == cap ? m->shift : m->shift - 1;
	nm.n = 0;
	nm.room = fill_max(ncap);
	for (size_t i = 0; i < cap; i++) {
		if (!m->slot[i].addr)
			continue;
		uint64_t h = pt__live_hash(&nm, m->slot[i].addr);
		struct pt__live_slot *s = pt__live_free_slot(&nm, h);
		pt__live_insert(&nm, s, m->slot[i].addr, h);
		*s = m->slot[i];
	}
	slots_free(m->block, m->block_len);
	*m = nm;
	return 0;
}

/* ---- side map of sizes that do not fit 32 bits ---- */

static size_t big_find(const struct pt__livemap *m, uint64_t addr, bool *found)
{
	size_t i = (size_t)pt__mix64_half(addr ^ m->mult) & m->big_mask;
	for (;;) {
		if (m->big_key[i] == addr) {
			*found = true;
			return i;
		}
		if (!m->big_key[i]) {
			*found = false;
			return i;
		}
		i = (i + 1) & m->big_mask;
	}
}

uint64_t pt__live_big_size(const struct pt__livemap *m, uint64_t addr)
{
	bool found;
	if (!m->big_key)
		return 0;
	size_t i = big_find(m, addr, &found);
	return found ? m->big_val[i] : 0;
}

static int big_grow(struct pt__livemap *m)
{
	size_t ncap = m->big_key ? (m->big_mask + 1) * 2 : BIG_MIN_CAP, nmask = ncap - 1;
	uint64_t *nk = calloc(ncap, sizeof(*nk));
	uint64_t *nv = calloc(ncap, sizeof(*nv));
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return PT_ENOMEM;
	}
	if (m->big_key) {
		for (size_t i = 0; i <= m->big_mask; i++) {
			if (!m->big_key[i])
				continue;
			size_t h = (size_t)pt__mix64_half(m->big_key[i] ^ m->mult) & nmask;
			while (nk[h])
				h = (h + 1) & nmask;
			nk[h] = m->big_key[i];
			nv[h] = m->big_val[i];
		}
	}
	free(m->big_key);
	free(m->big_val);
	m->big_key = nk;
	m->big_val = nv;
	m->big_mask = nmask;
	return 0;
}

static void big_drop(struct pt__livemap *m, uint64_t addr)
{
	bool found;
	if (!m->big_key)
		return;
	size_t i = big_find(m, addr, &found);
	if (!found)
		return;
	size_t j = i;
	for (;;) {
		j = (j + 1) & m->big_mask;
		if (!m->big_key[j])
			break;
		size_t k = (size_t)pt__mix64_half(m->big_key[j] ^ m->mult) & m->big_mask;
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			m->big_key[i] = m->big_key[j];
			m->big_val[i] = m->big_val[j];
			i = j;
		}
	}
	m->big_key[i] = 0;
	m->big_n--;
}

int pt__live_set_size_slow(struct pt__livemap *m, struct pt__live_slot *s, uint64_t size)
{
	if (size < PT__LIVE_BIG) {
		if (s->size == PT__LIVE_BIG)
			big_drop(m, s->addr);
		s->size = (uint32_t)size;
		return 0;
	}
	bool found = false;
	size_t i = 0;
	if (m->big_key)
		i = big_find(m, s->addr, &found);
	if (!found) {
		if ((!m->big_key || (m->big_n + 1) * 4 > (m->big_mask + 1) * 3) && big_grow(m) < 0)
			return PT_ENOMEM;
		i = big_find(m, s->addr, &found);
		m->big_key[i] = s->addr;
		m->big_n++;
	}
	m->big_val[i] = size;
	s->size = PT__LIVE_BIG;
	return 0;
}
