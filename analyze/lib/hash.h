/* SPDX-License-Identifier: MIT */
/*
 * Integer mixers for the library's open-addressing tables (internal). Both
 * are MurmurHash3's 64-bit finaliser, fmix64: pt__mix64_half() is its first
 * round only (enough to spread addresses, which already differ in many bits,
 * and one multiply cheaper on the replay's per-event path); pt__fmix64() is
 * the whole of it, for keys that differ in few bits (ids, packed pairs).
 */
#ifndef POOLTRACE_LIB_HASH_H
#define POOLTRACE_LIB_HASH_H

#include <stdint.h>

static inline uint64_t pt__mix64_half(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static inline uint64_t pt__fmix64(uint64_t x)
{
	x = pt__mix64_half(x);
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/*
 * pt__random64() - 64 random bits for keying hash tables whose keys come
 * from the trace (getrandom() on Linux; elsewhere the clock, an address and
 * a counter, mixed), so a crafted trace cannot choose keys that collide.
 */
uint64_t pt__random64(void);

#endif
