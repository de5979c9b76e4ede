/* SPDX-License-Identifier: MIT */
/* Findings of fuzzing and hostile-input reviews, kept as regression tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"
#include "pooltrace/tagmap.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* |a - b| <= tol, for values past double's exact integer range. */
static int near(uint64_t a, uint64_t b, uint64_t tol)
{
	return a > b ? a - b <= tol : b - a <= tol;
}

/* Large durations and sizes below 2^64 parse (llround() stopped at 2^63). */
static void test_parse_large_values(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(pt_parse_duration("9999999999s", &v), 0);
	assert_true(near(v, 9999999999000000000ull, 4096));
	assert_int_equal(pt_parse_duration("5000000000000000000ns", &v), 0);
	assert_true(near(v, 5000000000000000000ull, 4096));
	assert_int_equal(pt_parse_size("16000000000G", &v), 0);
	assert_true(near(v, 16000000000ull * 1073741824ull, 4096));
	assert_int_equal(pt_parse_duration("99999999999h", &v), PT_EUSAGE);
	assert_int_equal(pt_parse_size("99999999999G", &v), PT_EUSAGE);
}

/* Many '*' against a long tag must not backtrack exponentially. */
static void test_tag_match_no_blowup(void **state)
{
	(void)state;
	uint8_t tag[PT_TAG_MAX_LEN];
	memset(tag, 'a', sizeof(tag));
	double t0 = now_s();
	assert_false(pt_tag_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", tag, sizeof(tag)));
	assert_true(pt_tag_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", tag, sizeof(tag)));
	assert_true(now_s() - t0 < 1.0);
	/* the semantics the faster matcher keeps */
	assert_true(pt_tag_match("a*b*c", (const uint8_t *)"aXbYc", 5));
	assert_true(pt_tag_match("a*b*c", (const uint8_t *)"abbcbc", 6));
	assert_false(pt_tag_match("a*b*c", (const uint8_t *)"abcx", 4));
	assert_true(pt_tag_match("**", (const uint8_t *)"x", 1));
	assert_true(pt_tag_match("?*?", (const uint8_t *)"xy", 2));
	assert_false(pt_tag_match("?*?", (const uint8_t *)"x", 1));
	assert_true(pt_tag_match("*", (const uint8_t *)"", 0));
	assert_false(pt_tag_match("", (const uint8_t *)"x", 1));
	assert_true(pt_tag_match("Ntf?", (const uint8_t *)"Ntfx", 4));
}

/* A tag-file line whose tag holds control bytes or broken UTF-8 is skipped:
 * entries are promised to be clean UTF-8 (reports print them). */
static void test_tagmap_rejects_control_tags(void **state)
{
	(void)state;
	static const char text[] = "Ctl\x01 - c.sys - control\n"
				   "Bad\xff - b.sys - not UTF-8\n"
				   "Good - g.sys - fine\n";
	struct pt_tagmap *m = pt_tagmap_new();
	assert_non_null(m);
	assert_int_equal(pt_tagmap_load_buffer(m, "t", text, sizeof(text) - 1), 0);
	assert_int_equal(pt_tagmap_count(m), 1);
	assert_null(pt_tagmap_lookup(m, (const uint8_t *)"Ctl\x01", 4));
	assert_non_null(pt_tagmap_lookup(m, (const uint8_t *)"Good", 4));
	struct pt_tagmap_stats st;
	pt_tagmap_stats(m, &st);
	assert_int_equal(st.skipped, 2);
	pt_tagmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_large_values),
		cmocka_unit_test(test_tag_match_no_blowup),
		cmocka_unit_test(test_tagmap_rejects_control_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
