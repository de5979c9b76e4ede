/* SPDX-License-Identifier: MIT */
/* Tag to driver mapping: pooltag.txt parsing, wildcards, merging, lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"

#define FIX PT_SOURCE_DIR "/tests/fixtures/"

static struct pt_tagmap *load_mini(void)
{
	char err[512];
	struct pt_tagmap *m = pt_tagmap_new();
	assert_non_null(m);
	assert_int_equal(pt_tagmap_load_file(m, FIX "pooltag-mini.txt", err, sizeof(err)), 0);
	return m;
}

static const struct pt_tagmap_entry *look(const struct pt_tagmap *m, const char *t)
{
	return pt_tagmap_lookup(m, (const uint8_t *)t, strlen(t));
}

static void test_basic_lines(void **state)
{
	(void)state;
	struct pt_tagmap *m = load_mini();
	const struct pt_tagmap_entry *e = look(m, "Leak");
	assert_non_null(e);
	assert_string_equal(e->driver, "leaky.sys");
	assert_string_equal(e->desc, "Leaky test driver buffers");
	assert_int_equal(e->line, 5);
	assert_int_equal(e->wildcard, 0);
	char buf[PT_MAPPED_MAX];
	assert_string_equal(pt_tagmap_mapped_driver(e, buf, sizeof(buf)),
			    "leaky.sys - Leaky test driver buffers");
	assert_string_equal(pt_tagmap_mapped_driver(NULL, buf, sizeof(buf)), "");
	/* short padded tags: "Cc  " in a trace, "Cc" in the file */
	e = pt_tagmap_lookup(m, (const uint8_t *)"Cc  ", 4);
	assert_non_null(e);
	assert_string_equal(e->driver, "nt!cc");
	e = pt_tagmap_lookup(m, (const uint8_t *)"Cc\0\0", 4);
	assert_non_null(e);
	/* three-character tag with no description */
	e = look(m, "Fsb ");
	assert_non_null(e);
	assert_string_equal(e->driver, "netio.sys");
	assert_string_equal(e->desc, "");
	assert_string_equal(pt_tagmap_mapped_driver(e, buf, sizeof(buf)), "netio.sys");
	/* a tag with an inner space */
	e = look(m, "Dh 0");
	assert_non_null(e);
	assert_string_equal(e->desc, "Inner space tag");
	/* case-sensitive like PoolMon */
	assert_null(look(m, "leak"));
	assert_null(look(m, "Nope"));
	pt_tagmap_free(m);
}

static void test_irregular_lines(void **state)
{
	(void)state;
	struct pt_tagmap *m = load_mini();
	const struct pt_tagmap_entry *e = look(m, "ATmp");
	assert_non_null(e);
	assert_string_equal(e->driver, "");
	assert_string_equal(e->desc, "Tag with no binary field");
	e = look(m, "EtwO");
	assert_non_null(e);
	assert_string_equal(e->driver, "nt!etw");
	assert_string_equal(e->desc, "Missing second dash");
	struct pt_tagmap_stats st;
	pt_tagmap_stats(m, &st);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.comments, 3);
	/* Fsb (no description), ATmp, EtwO, the lone "<unknown>", "NoDash ..." */
	assert_int_equal(st.irregular, 5);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(st.merged, 1);
	assert_int_equal(st.patterns, 3);
	assert_int_equal(st.entries, pt_tagmap_count(m));
	pt_tagmap_free(m);
}

static void test_wildcards(void **state)
{
	(void)state;
	struct pt_tagmap *m = load_mini();
	/* most literal characters wins: Abc? over Ab?? */
	const struct pt_tagmap_entry *e = look(m, "Abcd");
	assert_non_null(e);
	assert_string_equal(e->driver, "abcd.sys");
	e = look(m, "Abxy");
	assert_non_null(e);
	assert_string_equal(e->driver, "abc.sys");
	assert_int_equal(e->wildcard, 1);
	e = look(m, "Zz12");
	assert_non_null(e);
	assert_string_equal(e->driver, "zz.sys");
	e = look(m, "Zz");
	assert_non_null(e);
	assert_null(look(m, "Abcde"));
	assert_null(look(m, "Xbcd"));
	pt_tagmap_free(m);
}

static void test_merge_and_second_file(void **state)
{
	(void)state;
	char err[512];
	struct pt_tagmap *m = load_mini();
	/* a real driver name replaces <unknown>; descriptions are joined */
	const struct pt_tagmap_entry *e = look(m, "Dup ");
	assert_non_null(e);
	assert_string_equal(e->driver, "dup.sys");
	assert_string_equal(e->desc, "First line / Second line");
	assert_int_equal(pt_tagmap_load_file(m, FIX "localtag-mini.txt", err, sizeof(err)), 0);
	e = look(m, "Newt");
	assert_non_null(e);
	assert_string_equal(e->driver, "new.sys");
	e = look(m, "Busy");
	assert_string_equal(e->driver, "busy.sys");
	assert_string_equal(e->desc, "Busy churn objects / Busy seen again");
	e = look(m, "Cc  ");
	assert_string_equal(e->driver, "nt!cc / nt!cc2");
	assert_string_equal(e->desc, "Cache manager (short, padded tag)");
	struct pt_tagmap_stats st;
	pt_tagmap_stats(m, &st);
	assert_int_equal(st.files, 2);
	pt_tagmap_free(m);
}

static void test_encoding_and_hostile(void **state)
{
	(void)state;
	struct pt_tagmap *m = load_mini();
	/* Latin-1 bytes become UTF-8; UTF-8 stays; CR at line end dropped */
	const struct pt_tagmap_entry *e = look(m, "Lat1");
	assert_non_null(e);
	assert_string_equal(e->desc, "Caf\xc3\xa9 cr\xc3\xa8me");
	e = look(m, "Utf8");
	assert_non_null(e);
	assert_string_equal(e->desc, "Caf\xc3\xa9");
	e = look(m, "Xml<");
	assert_non_null(e);
	assert_string_equal(e->driver, "x<y>&z.sys");
	assert_non_null(strstr(e->desc, "</script>"));
	pt_tagmap_free(m);
}

static void test_bad_input(void **state)
{
	(void)state;
	char err[512];
	struct pt_tagmap *m = pt_tagmap_new();
	assert_int_equal(pt_tagmap_load_file(m, FIX "no-such-file.txt", err, sizeof(err)), PT_EOPEN);
	assert_non_null(strstr(err, "no-such-file.txt"));
	/* odd bytes, NULs, lone dashes, overlong tags: no crash, nothing bogus */
	static const char junk[] = "-\n - \n-- - -\n\0\0\0 - x\n"
				   "ThisIsAVeryLongTagWithSpaces in it - d.sys - x\n\xff\xfe - \xff - \xff\n"
				   "Tag\t- tab.sys\t- tabbed\n";
	assert_int_equal(pt_tagmap_load_buffer(m, "junk", junk, sizeof(junk) - 1), 0);
	const struct pt_tagmap_entry *e = look(m, "Tag");
	assert_non_null(e);
	assert_string_equal(e->driver, "tab.sys");
	assert_null(pt_tagmap_lookup(NULL, (const uint8_t *)"Tag", 3));
	assert_null(pt_tagmap_lookup(m, (const uint8_t *)"    ", 4));
	/* many entries: the hash grows */
	for (int i = 0; i < 5000; i++) {
		char line[64];
		int n = snprintf(line, sizeof(line), "T%03x - d%d.sys - n\n", i, i);
		assert_int_equal(pt_tagmap_load_buffer(m, "gen", line, (size_t)n), 0);
	}
	e = look(m, "T7ff");
	assert_non_null(e);
	assert_string_equal(e->driver, "d2047.sys");
	pt_tagmap_free(m);
	pt_tagmap_free(NULL);
}

/* The real Microsoft lists, when present next to the checkout (not committed). */
static void test_real_pooltag_files(void **state)
{
	(void)state;
	static const char *const names[] = {"pooltag_PoolMonXv2.txt", "pooltag_rktools2k3.txt"};
	/* next to the checkout, or next to its parent folder (a worktree) */
	static const char *const dirs[] = {"/../shared/samples/pooltag/",
					   "/../../shared/samples/pooltag/"};
	int found = 0;
	for (size_t i = 0; i < 4; i++) {
		char path[1024], err[512];
		snprintf(path, sizeof(path), "%s%s%s", PT_SOURCE_DIR, dirs[i / 2], names[i % 2]);
		if (access(path, R_OK) != 0)
			continue;
		if (found >= 2)
			break;
		found++;
		struct pt_tagmap *m = pt_tagmap_new();
		assert_int_equal(pt_tagmap_load_file(m, path, err, sizeof(err)), 0);
		struct pt_tagmap_stats st;
		pt_tagmap_stats(m, &st);
		print_message("%s: %zu lines, %zu entries (%zu patterns), %zu comments, "
			      "%zu irregular (%zu skipped), %zu merged\n",
			      names[i % 2], st.lines, st.entries, st.patterns, st.comments, st.irregular,
			      st.skipped, st.merged);
		assert_true(st.entries > 1000);
		assert_true(st.irregular < st.lines / 20);
		const struct pt_tagmap_entry *e = look(m, "AfdB");
		assert_non_null(e);
		assert_string_equal(e->driver, "afd.sys");
		e = look(m, "Afd~"); /* only the Afd? pattern matches */
		assert_non_null(e);
		assert_int_equal(e->wildcard, 1);
		e = look(m, "Dh 0");
		assert_non_null(e);
		pt_tagmap_free(m);
	}
	if (!found)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_lines),
		cmocka_unit_test(test_irregular_lines),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_merge_and_second_file),
		cmocka_unit_test(test_encoding_and_hostile),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_real_pooltag_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
