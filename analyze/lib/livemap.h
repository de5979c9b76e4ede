/* SPDX-License-Identifier: MIT */
/*
 * The replay's live-allocation map: address -> (size, entry, time, pid, tid).
 * Internal to libpooltrace; the replay is its only user.
 *
 * Layout (docs/performance.md, "Replay"): open addressing with linear
 * probing and backward-shift deletion (no tombstones), at most 75 % full.
 * One slot is 32 bytes, placed 64-byte aligned, so two slots share a cache
 * line and no slot straddles two: a probe run of up to two slots costs one
 * cache miss. The size is kept in 32 bits; the rare allocation of 4 GiB - 1
 * bytes or more (or a hostile size field) stores PT__LIVE_BIG there and its
 * exact size in a small side map keyed by address, so sizes stay exact.
 *
 * The probe functions are inline so the replay's per-event path has no call;
 * pt__live_hash() is separate so a caller can hash addresses ahead of time
 * and prefetch their slots (pt__live_prefetch()) while it works on earlier
 * events.
 */
#ifndef PT_LIVEMAP_H
#define PT_LIVEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

/*
 * Prefetch helpers must be inlined early: GCC's IPA pure/const pass takes a
 * function whose only effect is __builtin_prefetch() for a const function
 * without a result and deletes its calls (GCC 12 at -O2 and -O3).
 */
#if defined(__GNUC__) || defined(__clang__)
#define PT__ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define PT__ALWAYS_INLINE static inline
#endif

#define PT__LIVE_BIG UINT32_MAX /* size field: the exact size is in the side map */

struct pt__live_slot {
	uint64_t addr;  /* 0 = empty */
	uint64_t ts_ns;
	uint32_t size;  /* bytes, or PT__LIVE_BIG */
	uint32_t stat;  /* the replay's entry index */
	uint32_t pid, tid;
};

struct pt__livemap {
	struct pt__live_slot *slot; /* 64-byte aligned, inside block */
	void *block;
	size_t block_len; /* 0: block is from calloc(); else a mapping of this length */
	size_t mask;    /* capacity - 1 (a power of two) */
	unsigned shift; /* 64 - log2(capacity): the home slot of hash h is h >> shift */
	size_t n;       /* occupied slots */
	/* sizes that do not fit 32 bits: addr -> size, linear probing on pt__mix64_half() */
	uint64_t *big_key, *big_val;
	size_t big_mask, big_n;
};

/**
 * pt__live_hash() - the hash of an address; pt__live_index() makes it a slot.
 * Multiplicative (Fibonacci) hashing: the top bits of addr times 2^64 / phi
 * are the home slot, so nearby addresses spread evenly over the table, one
 * multiply per event and per slot a removal looks at; and when the table
 * doubles, slot i moves to 2i or 2i + 1, so the rehash writes in order.
 */
static inline uint64_t pt__live_hash(uint64_t addr)
{
	return addr * 0x9e3779b97f4a7c15ull;
}

/** pt__live_index() - the home slot of hash h. */
static inline size_t pt__live_index(const struct pt__livemap *m, uint64_t h)
{
	return (size_t)(h >> m->shift);
}

/*
 * pt__live_prefetch() - start loading the home slot of hash h and the slot
 * after it (for writing): a lookup that does not stop at the home slot, and
 * the backward shift of a removal, read the next slot, which is on the next
 * cache line for every second home slot.
 */
PT__ALWAYS_INLINE void pt__live_prefetch(const struct pt__livemap *m, uint64_t h)
{
#if defined(__GNUC__) || defined(__clang__)
	size_t i = pt__live_index(m, h);
	__builtin_prefetch(&m->slot[i], 1, 3);
	__builtin_prefetch(&m->slot[(i + 1) & m->mask], 1, 3);
#else
	(void)m;
	(void)h;
#endif
}

/** pt__live_home() - the home slot of hash h (for a second-stage prefetch). */
static inline const struct pt__live_slot *pt__live_home(const struct pt__livemap *m, uint64_t h)
{
	return &m->slot[pt__live_index(m, h)];
}

/**
 * pt__live_lookup() - the slot holding addr (*found true), or the empty slot
 * where it would go (*found false). addr must not be 0; h = pt__live_hash(addr).
 */
static inline struct pt__live_slot *pt__live_lookup(const struct pt__livemap *m, uint64_t addr,
						    uint64_t h, bool *found)
{
	size_t i = pt__live_index(m, h);
	for (;;) {
		struct pt__live_slot *s = &m->slot[i];
		if (s->addr == addr) {
			*found = true;
			return s;
		}
		if (!s->addr) {
			*found = false;
			return s;
		}
		i = (i + 1) & m->mask;
	}
}

/**
 * pt__live_grow_at() - the count of occupied slots at which the map must grow
 * before taking one more (75 % of the capacity, a power of two >= 4).
 */
static inline size_t pt__live_grow_at(const struct pt__livemap *m)
{
	return (m->mask + 1) / 4 * 3;
}

/** pt__live_big_size() - the exact size of a PT__LIVE_BIG entry. */
uint64_t pt__live_big_size(const struct pt__livemap *m, uint64_t addr);

/** pt__live_size() - the exact size of an occupied slot. */
static inline uint64_t pt__live_size(const struct pt__livemap *m, const struct pt__live_slot *s)
{
	return s->size != PT__LIVE_BIG ? s->size : pt__live_big_size(m, s->addr);
}

/** pt__live_init() - an empty map. @return 0 or PT_ENOMEM. */
int pt__live_init(struct pt__livemap *m);

/** pt__live_release() - free the map's memory. */
void pt__live_release(struct pt__livemap *m);

/** pt__live_grow() - double the capacity; slot pointers become invalid. @return 0 or PT_ENOMEM. */
int pt__live_grow(struct pt__livemap *m);

/** pt__live_set_size_slow() - pt__live_set_size() when the side map is involved. */
int pt__live_set_size_slow(struct pt__livemap *m, struct pt__live_slot *s, uint64_t size);

/**
 * pt__live_set_size() - store size in slot s (whose addr is set), using the
 * side map when it does not fit 32 bits and dropping a side entry the slot
 * no longer needs. @return 0 or PT_ENOMEM.
 */
static inline int pt__live_set_size(struct pt__livemap *m, struct pt__live_slot *s, uint64_t size)
{
	if (size < PT__LIVE_BIG && s->size != PT__LIVE_BIG) {
		s->size = (uint32_t)size;
		return 0;
	}
	return pt__live_set_size_slow(m, s, size);
}

/** pt__live_remove_run() - pt__live_remove() when the slot after s is occupied or size is big. */
void pt__live_remove_run(struct pt__livemap *m, struct pt__live_slot *s);

/** pt__live_remove() - empty an occupied slot, shifting later members of its probe run back. */
static inline void pt__live_remove(struct pt__livemap *m, struct pt__live_slot *s)
{
	size_t i = (size_t)(s - m->slot);
	/* the usual case: the probe run ends here, nothing to shift */
	if (!m->slot[(i + 1) & m->mask].addr && s->size != PT__LIVE_BIG) {
		s->addr = 0;
		m->n--;
		return;
	}
	pt__live_remove_run(m, s);
}

#endif
