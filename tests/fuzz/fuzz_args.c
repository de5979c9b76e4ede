/* SPDX-License-Identifier: MIT */
/*
 * The command line's value parsers: pt_parse_duration(), pt_parse_size(),
 * plus the tag, pool and sort-key parsers the options use. The input is
 * taken as one argument string (cut at the first NUL).
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "pooltrace/pooltrace.h"

#define MAX_ARG 4096

/* The number at the start of s as strtod reads it, for a cross-check. */
static bool leading_number(const char *s, double *v)
{
	char *end;
	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return false;
	*v = strtod(s, &end);
	return end != s;
}

/* A parsed value is within rounding of number * unit for some unit. */
static void check_scaled(const char *s, uint64_t got, const double *units, size_t n)
{
	double v;
	PT_FUZZ_CHECK(leading_number(s, &v));
	for (size_t i = 0; i < n; i++) {
		double want = v * units[i];
		if (fabs((double)got - want) <= 1.0 + want * 1e-9)
			return;
	}
	fprintf(stderr, "'%s' parsed to %llu, which is not its number times a unit\n", s,
		(unsigned long long)got);
	PT_FUZZ_CHECK(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double time_units[] = {1e9, 1e6, 1e3, 1, 60e9, 3600e9};
	static const double size_units[] = {1, 1024.0, 1048576.0, 1073741824.0};
	char s[MAX_ARG + 1];
	if (size > MAX_ARG)
		size = MAX_ARG;
	memcpy(s, data, size);
	s[size] = '\0';

	uint64_t v = 0;
	if (pt_parse_duration(s, &v) == 0)
		check_scaled(s, v, time_units, sizeof(time_units) / sizeof(time_units[0]));
	if (pt_parse_size(s, &v) == 0)
		check_scaled(s, v, size_units, sizeof(size_units) / sizeof(size_units[0]));

	uint8_t tag[PT_TAG_MAX_LEN];
	int n = pt_tag_unescape(s, tag, sizeof(tag));
	if (n >= 0) {
		PT_FUZZ_CHECK(n <= PT_TAG_MAX_LEN);
		/* display form and back gives the same bytes */
		char disp[PT_TAG_DISPLAY_MAX];
		uint8_t again[PT_TAG_MAX_LEN];
		pt_tag_escape(tag, (size_t)n, disp, sizeof(disp));
		int m = pt_tag_unescape(disp, again, sizeof(again));
		PT_FUZZ_CHECK(m == n && !memcmp(tag, again, (size_t)n));
		pt_tag_match(s, tag, (size_t)n);
	}
	const uint8_t *nl = memchr(data, '\n', size);
	if (nl) {
		size_t tl = size - (size_t)(nl + 1 - data);
		char *pat = strchr(s, '\n');
		if (pat)
			*pat = '\0';
		pt_tag_match(s, nl + 1, tl > PT_TAG_MAX_LEN ? PT_TAG_MAX_LEN : tl);
	}

	enum pt_pool pool;
	if (pt_pool_parse(s, &pool) == 0)
		PT_FUZZ_CHECK((unsigned)pool < PT_POOL_COUNT_);
	enum pt_sort sort;
	(void)pt_sort_parse(s, &sort);
	return 0;
}
