/* SPDX-License-Identifier: MIT */
/*
 * The replay's live-allocation map: address -> (size, entry, time, pid, tid).
 * Internal to libpooltrace; the replay is its only user.
 *
 * Layout (docs/performance.md, "Replay: the live map"): open addressing in
 * aligned groups of 16 slots, with one control byte per slot kept apart from
 * the slots (the scheme of Abseil's "Swiss tables"): 0 empty, 1 deleted,
 * 0x80 | 7 bits of the hash for an occupied slot. A lookup compares the 16
 * control bytes of a group at once (SSE2, or a loop) and reads a slot only
 * where those 7 bits match, so a long probe costs a few instructions and
 * no branch per slot, and the control bytes (1 byte a slot) stay in the
 * cache when the slots do not. A removal marks its slot deleted, or empty
 * when its group has an empty slot (no probe ever went past such a group),
 * instead of shifting later slots back. At most 75 % of the slots are ever
 * filled between rebuilds ("room"), so every probe meets an empty slot;
 * when the room is used up the map is rebuilt, at twice the size or, when
 * deleted slots are most of what filled it, at the same size.
 *
 * One slot is 32 bytes, placed 64-byte aligned, so two slots share a cache
 * line and no slot straddles two. A new address goes to the free slot
 * nearest its home slot in the group, so it is usually at home or next to
 * it, which is what pt__live_prefetch() loads. The size is kept in 32 bits;
 * the rare allocation of 4 GiB - 1 bytes or more (or a hostile size field)
 * stores PT__LIVE_BIG there and its exact size in a small side map keyed by
 * address, so sizes stay exact.
 *
 * The probe functions are inline so the replay's per-event path has no call;
 * pt__live_hash() (keyed by a random multiplier) is separate so a caller can
 * hash addresses ahead of time and prefetch their slots while it works on
 * earlier events.
 */
#ifndef PT_LIVEMAP_H
#define PT_LIVEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#if defined(__SSE2__) && !defined(PT__LIVE_NO_SIMD)
#include <emmintrin.h>
#endif

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

#define PT__LIVE_GROUP 16u    /* slots per control group */
#define PT__LIVE_EMPTY 0x00u  /* control byte: never filled since the last rebuild */
#define PT__LIVE_DELETED 0x01u /* control byte: emptied, in a group a probe may pass */
#define PT__LIVE_FULL 0x80u   /* control byte bit: occupied; the low 7 bits are hash bits */

struct pt__live_slot {
	uint64_t addr;  /* 0 = not occupied */
	uint64_t ts_ns;
	uint32_t size;  /* bytes, or PT__LIVE_BIG */
	uint32_t stat;  /* the replay's entry index */
	uint32_t pid, tid;
};

struct pt__livemap {
	struct pt__live_slot *slot; /* 64-byte aligned, inside block */
	uint8_t *ctrl;  /* a control byte per slot, 16-byte aligned, inside block after the slots */
	void *block;
	size_t block_len; /* 0: block is from calloc(); else a mapping of this length */
	size_t mask;    /* capacity - 1 (a power of two, at least PT__LIVE_GROUP) */
	unsigned shift; /* 64 - log2(capacity): the home slot of hash h is h >> shift */
	size_t n;       /* occupied slots */
	size_t room;    /* empty slots that may still be filled before a rebuild */
	uint64_t mult;  /* the hash's multiplier: odd, random (pt__live_hash()) */
	/* sizes that do not fit 32 bits: addr -> size, linear probing on pt__mix64_half(addr ^ mult) */
	uint64_t *big_key, *big_val;
	size_t big_mask, big_n;
};

/**
 * pt__live_hash() - the hash of an address; pt__live_index() makes it a slot.
 * Multiply-shift hashing: the top bits of addr times an odd 64-bit number
 * are the home slot, one multiply per event; the 7 bits below them go into
 * the control byte. The multiplier is drawn at random for each map
 * (pt__live_init()): multiply-shift with a random odd multiplier is a
 * universal family (Dietzfelbinger et al., 1997), so a hostile trace cannot
 * choose addresses that all land in one group, as it could for a fixed
 * multiplier (60 k such allocations took seconds, and the time grows with
 * their square). Nothing the replay reports depends on the slots' order.
 */
static inline uint64_t pt__live_hash(const struct pt__livemap *m, uint64_t addr)
{
	return addr * m->mult;
}

/** pt__live_index() - the home slot of hash h. */
static inline size_t pt__live_index(const struct pt__livemap *m, uint64_t h)
{
	return (size_t)(h >> m->shift);
}

/** pt__live_h7() - the control byte of an occupied slot whose address has hash h. */
static inline uint8_t pt__live_h7(const struct pt__livemap *m, uint64_t h)
{
	return (uint8_t)(PT__LIVE_FULL | ((h >> (m->shift - 7)) & 0x7F));
}

/*
 * pt__live_prefetch() - start loading the control bytes of the home group of
 * hash h, the home slot and the slot after it (for writing).
 */
PT__ALWAYS_INLINE void pt__live_prefetch(const struct pt__livemap *m, uint64_t h)
{
#if defined(__GNUC__) || defined(__clang__)
	size_t i = pt__live_index(m, h);
	__builtin_prefetch(&m->ctrl[i], 1, 3);
	__builtin_prefetch(&m->slot[i], 1, 3);
	__builtin_prefetch(&m->slot[(i & ~(size_t)(PT__LIVE_GROUP - 1)) | ((i + 1) & (PT__LIVE_GROUP - 1))],
			   1, 3);
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

/* Bit i set where control byte i of the group at g equals c. */
static inline unsigned pt__live_match(const uint8_t *g, uint8_t c)
{
#if defined(__SSE2__) && !defined(PT__LIVE_NO_SIMD)
	__m128i v = _mm_load_si128((const __m128i *)(const void *)g);
	/*
	 * The byte repeated through a 32-bit multiply: GCC 12 builds
	 * _mm_set1_epi8() by storing the byte and loading 4, which waits for
	 * the store (a store-forwarding stall on every lookup).
	 */
	__m128i k = _mm_set1_epi32((int)(0x01010101u * c));
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, k));
#else
	unsigned r = 0;
	for (unsigned i = 0; i < PT__LIVE_GROUP; i++)
		r |= (unsigned)(g[i] == c) << i;
	return r;
#endif
}

/* Bit i set where slot i of the group at g is not occupied (empty or deleted). */
static inline unsigned pt__live_free_mask(const uint8_t *g)
{
#if defined(__SSE2__) && !defined(PT__LIVE_NO_SIMD)
	__m128i v = _mm_load_si128((const __m128i *)(const void *)g);
	return (unsigned)_mm_movemask_epi8(v) ^ 0xFFFFu;
#else
	unsigned r = 0;
	for (unsigned i = 0; i < PT__LIVE_GROUP; i++)
		r |= (unsigned)!(g[i] & PT__LIVE_FULL) << i;
	return r;
#endif
}

static inline unsigned pt__live_ctz(unsigned x)
{
#if defined(__GNUC__) || defined(__clang__)
	return (unsigned)__builtin_ctz(x);
#else
	unsigned n = 0;
	while (!(x & 1u)) {
		x >>= 1;
		n++;
	}
	return n;
#endif
}

/*
 * pt__live_free_slot() - the free slot where an address with hash h goes:
 * in the first group of its probe with one, the first at or after the home
 * slot's place in that group, wrapping around it.
 */
static inline struct pt__live_slot *pt__live_free_slot(const struct pt__livemap *m, uint64_t h)
{
	size_t i = pt__live_index(m, h);
	size_t g = i & ~(size_t)(PT__LIVE_GROUP - 1);
	unsigned at = (unsigned)(i & (PT__LIVE_GROUP - 1));
	for (;;) {
		unsigned f = pt__live_free_mask(m->ctrl + g);
		if (f) {
			unsigned r = ((f >> at) | (f << (PT__LIVE_GROUP - at))) & 0xFFFFu;
			return &m->slot[g + ((at + pt__live_ctz(r)) & (PT__LIVE_GROUP - 1))];
		}
		g = (g + PT__LIVE_GROUP) & m->mask;
		at = 0;
	}
}

/**
 * pt__live_lookup() - the slot holding addr (*found true), or the free slot
 * where it would go (*found false; fill it with pt__live_insert()). addr must
 * not be 0; h = pt__live_hash(addr).
 */
static inline struct pt__live_slot *pt__live_lookup(const struct pt__livemap *m, uint64_t addr,
						    uint64_t h, bool *found)
{
	uint8_t c = pt__live_h7(m, h);
	size_t g = pt__live_index(m, h) & ~(size_t)(PT__LIVE_GROUP - 1);
	for (;;) {
		const uint8_t *cg = m->ctrl + g;
		for (unsigned hit = pt__live_match(cg, c); hit; hit &= hit - 1) {
			struct pt__live_slot *s = &m->slot[g + pt__live_ctz(hit)];
			if (s->addr == addr) {
				*found = true;
				return s;
			}
		}
		if (pt__live_match(cg, PT__LIVE_EMPTY))
			break; /* no probe goes past a group with an empty slot */
		g = (g + PT__LIVE_GROUP) & m->mask;
	}
	*found = false;
	return pt__live_free_slot(m, h);
}

/**
 * pt__live_insert() - occupy s (from pt__live_lookup(), *found false) with
 * addr, whose hash is h. The map must have room (pt__live_room()); the other
 * fields of s are the caller's to set.
 */
static inline void pt__live_insert(struct pt__livemap *m, struct pt__live_slot *s, uint64_t addr,
				   uint64_t h)
{
	size_t i = (size_t)(s - m->slot);
	m->room -= m->ctrl[i] == PT__LIVE_EMPTY;
	m->ctrl[i] = pt__live_h7(m, h);
	s->addr = addr;
	m->n++;
}

/** pt__live_room() - true when an address can be inserted without a rebuild. */
static inline bool pt__live_room(const struct pt__livemap *m)
{
	return m->room > 0;
}

/** pt__live_big_size() - the exact size of a PT__LIVE_BIG entry. */
uint64_t pt__live_big_size(const struct pt__livemap *m, uint64_t addr);

/** pt__live_size() - the exact size of an occupied slot. */
static inline uint64_t pt__live_size(const struct pt__livemap *m, const struct pt__live_slot *s)
{
	return s->size != PT__LIVE_BIG ? s->size : pt__live_big_size(m, s->addr);
}

/** pt__live_init() - an empty map with a random hash multiplier. @return 0 or PT_ENOMEM. */
int pt__live_init(struct pt__livemap *m);

/** pt__live_release() - free the map's memory. */
void pt__live_release(struct pt__livemap *m);

/**
 * pt__live_rebuild() - make room: rebuild the map, at twice the capacity
 * unless deleted slots are most of what filled it. Slot pointers become
 * invalid. @return 0 or PT_ENOMEM.
 */
int pt__live_rebuild(struct pt__livemap *m);

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

/** pt__live_remove() - empty an occupied slot (pointers to other slots stay valid). */
static inline void pt__live_remove(struct pt__livemap *m, struct pt__live_slot *s)
{
	if (s->size == PT__LIVE_BIG)
		pt__live_set_size_slow(m, s, 0);
	size_t i = (size_t)(s - m->slot);
	s->addr = 0;
	m->n--;
	/* a probe passes a group only when it has no empty slot: then keep it so */
	if (pt__live_match(m->ctrl + (i & ~(size_t)(PT__LIVE_GROUP - 1)), PT__LIVE_EMPTY)) {
		m->ctrl[i] = PT__LIVE_EMPTY;
		m->room++;
	} else {
		m->ctrl[i] = PT__LIVE_DELETED;
	}
}

#endif
