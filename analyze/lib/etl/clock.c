/* SPDX-License-Identifier: MIT */
/* ETL clocks: raw QPC / FILETIME / cycle counts to nanoseconds without overflow. */
#include <stdint.h>

#include "etl/etl.h"

uint64_t pt__muldiv_u64(uint64_t a, uint64_t b, uint64_t c)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 p = (unsigned __int128)a * b / c;
	return p > UINT64_MAX ? UINT64_MAX : (uint64_t)p;
#else
	/* a*b/c = (a/c)*b + (a%c)*b/c, the second term by long multiplication */
	uint64_t q = a / c, r = a % c;
	if (q && b > UINT64_MAX / q)
		return UINT64_MAX;
	uint64_t hi = q * b, lo = 0, rem = 0;
	for (int i = 63; i >= 0; i--) {
		/* (rem*2 + bit) tracked modulo c, quotient bits into lo */
		uint64_t bit = (b >> i) & 1;
		lo <<= 1;
		rem <<= 1;
		if (bit) {
			rem += r;
		}
		while (rem >= c) {
			rem -= c;
			lo++;
		}
	}
	if (lo > UINT64_MAX - hi)
		return UINT64_MAX;
	return hi + lo;
#endif
}

void pt__etl_clock_init(struct pt_etl_clock *c, int kind, uint64_t freq, uint64_t t0)
{
	c->kind = kind;
	c->freq = freq ? freq : 1;
	c->t0 = t0;
	c->mult = (1000000000u % c->freq == 0) ? 1000000000u / c->freq : 0;
}

int64_t pt__etl_clock_sns(const struct pt_etl_clock *c, uint64_t ts)
{
	if (ts >= c->t0) {
		uint64_t v = pt__etl_clock_ns(c, ts);
		return v > INT64_MAX ? INT64_MAX : (int64_t)v;
	}
	uint64_t v = pt__muldiv_u64(c->t0 - ts, 1000000000u, c->freq);
	return v > INT64_MAX ? INT64_MIN : -(int64_t)v;
}

int64_t pt__filetime_to_unix_ns(int64_t ft)
{
	int64_t d = ft - PT_FILETIME_UNIX_EPOCH;
	if (d > INT64_MAX / 100)
		return INT64_MAX;
	if (d < INT64_MIN / 100)
		return INT64_MIN;
	return d * 100;
}
