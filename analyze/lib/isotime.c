/* SPDX-License-Identifier: MIT */
/* ISO 8601 / xs:dateTime timestamps as used by tracerpt XML, and FILETIME. */
#include <stdio.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/xmlwrite.h"

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, size_t len, size_t *pos, unsigned n, unsigned *out)
{
	unsigned v = 0;
	for (unsigned i = 0; i < n; i++) {
		if (*pos >= len || s[*pos] < '0' || s[*pos] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[*pos] - '0');
		(*pos)++;
	}
	*out = v;
	return 0;
}

static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

int pt_iso8601_parse(const char *s, size_t len, int64_t *unix_ns)
{
	size_t p = 0;
	unsigned y, mo, d, h, mi, se, frac = 0, fdig = 0;
	while (p < len && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r'))
		p++;
	while (len > p && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
			   s[len - 1] == '\r'))
		len--;
	if (digits(s, len, &p, 4, &y) || p >= len || s[p++] != '-' ||
	    digits(s, len, &p, 2, &mo) || p >= len || s[p++] != '-' ||
	    digits(s, len, &p, 2, &d) || p >= len || (s[p] != 'T' && s[p] != 't' && s[p] != ' '))
		return PT_EFORMAT;
	p++;
	if (digits(s, len, &p, 2, &h) || p >= len || s[p++] != ':' ||
	    digits(s, len, &p, 2, &mi) || p >= len || s[p++] != ':' ||
	    digits(s, len, &p, 2, &se))
		return PT_EFORMAT;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
		return PT_EFORMAT;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return PT_EFORMAT;
	if (p < len && (s[p] == '.' || s[p] == ',')) {
		p++;
		if (p >= len || s[p] < '0' || s[p] > '9')
			return PT_EFORMAT;
		while (p < len && s[p] >= '0' && s[p] <= '9') {
			if (fdig < 9) {
				frac = frac * 10 + (unsigned)(s[p] - '0');
				fdig++;
			}
			p++;
		}
		while (fdig < 9) {
			frac *= 10;
			fdig++;
		}
	}
	int64_t off_s = 0;
	if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
		p++;
	} else if (p < len && (s[p] == '+' || s[p] == '-')) {
		int sign = s[p++] == '-' ? -1 : 1;
		unsigned oh, om = 0;
		if (digits(s, len, &p, 2, &oh))
			return PT_EFORMAT;
		if (p < len && s[p] == ':')
			p++;
		if (p < len && digits(s, len, &p, 2, &om))
			return PT_EFORMAT;
		if (oh > 23 || om > 59)
			return PT_EFORMAT;
		off_s = sign * (int64_t)(oh * 3600 + om * 60);
	}
	if (p != len)
		return PT_EFORMAT;
	int64_t days = days_from_civil((int64_t)y, mo, d);
	int64_t secs = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + (int64_t)se - off_s;
	/* int64 ns covers years 1678..2262. */
	if (secs < -9223372036LL || secs > 9223372035LL)
		return PT_EFORMAT;
	*unix_ns = secs * 1000000000LL + (int64_t)frac;
	return 0;
}

char *pt_iso8601_format(int64_t unix_ns, char *buf, size_t bufsz)
{
	int64_t secs = unix_ns / 1000000000LL;
	int64_t ns = unix_ns % 1000000000LL;
	if (ns < 0) {
		ns += 1000000000LL;
		secs--;
	}
	int64_t days = secs / 86400;
	int64_t rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, bufsz, "%04lld-%02u-%02uT%02u:%02u:%02u.%09lldZ", (long long)y, m, d,
		 (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
		 (long long)ns);
	return buf;
}

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define FILETIME_UNIX_DIFF 116444736000000000ULL

int pt_filetime_to_unix_ns(uint64_t ft, int64_t *unix_ns)
{
	if (ft < FILETIME_UNIX_DIFF)
		return PT_EFORMAT;
	uint64_t t = ft - FILETIME_UNIX_DIFF;
	if (t > (uint64_t)INT64_MAX / 100)
		return PT_EFORMAT;
	*unix_ns = (int64_t)(t * 100);
	return 0;
}
