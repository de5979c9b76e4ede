/* SPDX-License-Identifier: MIT */
/* Internal: byte-level helpers shared by the native format writer and reader. */
#ifndef PT_NATIVE_CODEC_H
#define PT_NATIVE_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void pt__put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void pt__put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void pt__put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t pt__get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t pt__get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t pt__get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline uint64_t pt__zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t pt__unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* LEB128 into p (room for 10 bytes); returns the bytes written. */
static inline size_t pt__put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* LEB128 from [*p, end); returns 0, or -1 when it runs past end or is longer than 10 bytes. */
static inline int pt__get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	const uint8_t *q = *p;
	for (int shift = 0; shift < 70; shift += 7) {
		if (q >= end)
			return -1;
		uint8_t b = *q++;
		if (shift == 63 && b > 1)
			return -1;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*p = q;
			*out = v;
			return 0;
		}
	}
	return -1;
}

/*
 * Prefix varint (the field streams of layout 3): a value of up to 7 * L bits
 * (L = 1..8) takes L bytes, read as one little-endian number whose low L - 1
 * bits are ones and bit L - 1 is zero, the value above them; larger values
 * take a byte 0xff and the 8 bytes of the value. Unlike LEB128, the length is
 * known from the first byte, so a reader needs no branch per byte (the
 * lengths of timestamp and address deltas vary from event to event, and such
 * branches are mispredicted often). p has room for 9 bytes; returns the
 * bytes written.
 */
static inline size_t pt__put_pvarint(uint8_t *p, uint64_t v)
{
	unsigned bits = 64 - (unsigned)__builtin_clzll(v | 1);
	unsigned len = (bits + 6) / 7;
	if (len > 8) {
		p[0] = 0xff;
		pt__put_u64(p + 1, v);
		return 9;
	}
	uint64_t x = v << len | ((1ull << (len - 1)) - 1);
	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)(x >> (8 * i));
	return len;
}

/*
 * A prefix varint at p, which must have 9 readable bytes (the chunk's zero
 * padding provides them at its end). Every byte sequence is a value.
 * @return: the byte after it.
 */
static inline const uint8_t *pt__get_pvarint(const uint8_t *p, uint64_t *out)
{
	/* one 8-byte load (pt__get_u64()'s byte loop is not always made one) */
	uint64_t x;
	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	if (__builtin_expect((x & 0xff) == 0xff, 0)) {
		*out = pt__get_u64(p + 1);
		return p + 9;
	}
	/* the L bytes of each length (a table load is cheaper than the shifts) */
	static const uint64_t bytes[9] = {0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffffull,
					  0xffffffffffffull, 0xffffffffffffffull, ~0ull};
	unsigned len = (unsigned)__builtin_ctzll(~x) + 1; /* 1..8 */
	*out = (x & bytes[len]) >> len;
	return p + len;
}

/*
 * Layout 3 records: the raw pool type an event has when its RAW_POOL bit is
 * clear, per pt_pool (the Windows POOL_TYPE each pool comes from). A Windows
 * trace then stores the raw type only when it is unusual (big-pool bit set).
 */
static inline uint32_t pt__native_raw_pool(unsigned pool)
{
	static const uint32_t raw[] = {0, 1, 512, 32, 33, 544, 0, 0, 0};
	return pool < sizeof(raw) / sizeof(raw[0]) ? raw[pool] : 0;
}

#endif
