/* SPDX-License-Identifier: MIT */
/*
 * MS-XCA plain LZ77 ("XPRESS", COMPRESSION_FORMAT 3), both directions, written
 * from the published MS-XCA specification (sections 2.3 and 2.4). Every read
 * and write is bounds-checked; corrupt input gives PT_EFORMAT.
 */
#include <stdint.h>
#include <string.h>

#include "etl/etl.h"
#include "pooltrace/error.h"

int pt__xpress_decompress(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen,
			  size_t *produced)
{
	size_t ip = 0, op = 0;
	uint32_t flags = 0;
	unsigned nflags = 0;
	size_t half = 0; /* position of the pending shared length nibble, 0 = none */

	*produced = 0;
	while (op < outlen) {
		if (nflags == 0) {
			if (inlen - ip < 4)
				goto bad;
			flags = pt__le32(in + ip);
			ip += 4;
			nflags = 32;
		}
		nflags--;
		if (!(flags & (1u << nflags))) {
			if (ip >= inlen)
				goto bad;
			out[op++] = in[ip++];
			continue;
		}
		if (ip == inlen)
			break; /* end mark */
		if (inlen - ip < 2)
			goto bad;
		uint32_t mb = pt__le16(in + ip);
		ip += 2;
		size_t len = mb & 7;
		size_t dist = (mb >> 3) + 1;
		if (len == 7) {
			if (half == 0) {
				if (ip >= inlen)
					goto bad;
				len = in[ip] & 15;
				half = ip++;
			} else {
				len = in[half] >> 4;
				half = 0;
			}
			if (len == 15) {
				if (ip >= inlen)
					goto bad;
				len = in[ip++];
				if (len == 255) {
					if (inlen - ip < 2)
						goto bad;
					len = pt__le16(in + ip);
					ip += 2;
					if (len == 0) {
						if (inlen - ip < 4)
							goto bad;
						len = pt__le32(in + ip);
						ip += 4;
					}
					if (len < 15 + 7)
						goto bad;
					len -= 15 + 7;
				}
				len += 15;
			}
			len += 7;
		}
		len += 3;
		if (dist > op)
			goto bad;
		if (len > outlen - op)
			goto bad;
		const uint8_t *src = out + op - dist;
		uint8_t *dst = out + op;
		if (dist >= len) {
			memcpy(dst, src, len);
		} else {
			for (size_t i = 0; i < len; i++)
				dst[i] = src[i];
		}
		op += len;
	}
	*produced = op;
	return 0;
bad:
	*produced = op;
	return PT_EFORMAT;
}

size_t pt__xpress_bound(size_t inlen)
{
	/* literals only: one byte each plus a 4-byte flag word per 32, plus the end mark */
	return inlen + (inlen / 32 + 2) * 4 + 8;
}

#define HASH_BITS 13
#define MAX_DIST 8192

struct xenc {
	uint8_t *out;
	size_t op;
	size_t flag_pos;   /* where the current flag word goes */
	uint32_t flags;
	unsigned nflags;   /* flags used in the current word */
	size_t half;       /* pending shared nibble position, or SIZE_MAX */
};

static void put_flag(struct xenc *e, unsigned bit)
{
	if (e->nflags == 32) {
		uint8_t *p = e->out + e->flag_pos;
		p[0] = (uint8_t)e->flags;
		p[1] = (uint8_t)(e->flags >> 8);
		p[2] = (uint8_t)(e->flags >> 16);
		p[3] = (uint8_t)(e->flags >> 24);
		e->flag_pos = e->op;
		e->op += 4;
		e->flags = 0;
		e->nflags = 0;
	}
	e->flags = (e->flags << 1) | bit;
	e->nflags++;
}

static void put16(struct xenc *e, uint32_t v)
{
	e->out[e->op++] = (uint8_t)v;
	e->out[e->op++] = (uint8_t)(v >> 8);
}

static void put_match(struct xenc *e, size_t len, size_t dist)
{
	put_flag(e, 1);
	size_t l = len - 3;
	uint32_t d = (uint32_t)(dist - 1) << 3;
	if (l < 7) {
		put16(e, d | (uint32_t)l);
		return;
	}
	put16(e, d | 7);
	l -= 7;
	unsigned nib = l < 15 ? (unsigned)l : 15;
	if (e->half == SIZE_MAX) {
		e->half = e->op;
		e->out[e->op++] = (uint8_t)nib;
	} else {
		e->out[e->half] |= (uint8_t)(nib << 4);
		e->half = SIZE_MAX;
	}
	if (l < 15)
		return;
	l -= 15;
	if (l < 255) {
		e->out[e->op++] = (uint8_t)l;
		return;
	}
	e->out[e->op++] = 255;
	size_t full = len - 3;
	if (full <= 0xFFFF) {
		put16(e, (uint32_t)full);
	} else {
		put16(e, 0);
		put16(e, (uint32_t)full);
		put16(e, (uint32_t)(full >> 16));
	}
}

static uint32_t hash3(const uint8_t *p)
{
	uint32_t v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
	return (v * 2654435761u) >> (32 - HASH_BITS);
}

size_t pt__xpress_compress(const uint8_t *in, size_t inlen, uint8_t *out)
{
	size_t head[1u << HASH_BITS];
	for (size_t i = 0; i < (1u << HASH_BITS); i++)
		head[i] = SIZE_MAX;
	struct xenc e = {.out = out, .op = 4, .flag_pos = 0, .half = SIZE_MAX};
	size_t ip = 0;
	while (ip < inlen) {
		size_t best = 0, bdist = 0;
		if (inlen - ip >= 3) {
			uint32_t h = hash3(in + ip);
			size_t cand = head[h];
			head[h] = ip;
			if (cand != SIZE_MAX && ip - cand <= MAX_DIST) {
				size_t n = 0, max = inlen - ip;
				while (n < max && in[cand + n] == in[ip + n])
					n++;
				if (n >= 3) {
					best = n;
					bdist = ip - cand;
				}
			}
		}
		if (best) {
			put_match(&e, best, bdist);
			for (size_t k = 1; k < best && ip + k + 3 <= inlen; k++)
				head[hash3(in + ip + k)] = ip + k;
			ip += best;
		} else {
			put_flag(&e, 0);
			out[e.op++] = in[ip++];
		}
	}
	/* end mark: a set flag with nothing after it; unused bits are set too */
	put_flag(&e, 1);
	uint32_t f = e.flags << (32 - e.nflags);
	f |= (e.nflags < 32) ? ((1u << (32 - e.nflags)) - 1) : 0;
	uint8_t *p = out + e.flag_pos;
	p[0] = (uint8_t)f;
	p[1] = (uint8_t)(f >> 8);
	p[2] = (uint8_t)(f >> 16);
	p[3] = (uint8_t)(f >> 24);
	return e.op;
}
