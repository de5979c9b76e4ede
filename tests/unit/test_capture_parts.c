/* SPDX-License-Identifier: MIT */
/* pooltrace-capture's portable parts: kallsyms lookup, slabinfo rows, time-ordered merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"

static void test_ksyms(void **state)
{
	static const char text[] =
		"ffffffff81000000 T _stext\n"
		"ffffffff81200000 t do_eventfd\n"
		"ffffffff81100000 T alloc_pipe_info\n"
		"ffffffff81300000 D some_data\n"
		"ffffffffc0000000 t mod_func\t[mymod]\n"
		"0000000000000000 T hidden\n"
		"garbage line\n";
	FILE *fp = fmemopen((void *)(uintptr_t)text, sizeof(text) - 1, "r");
	assert_non_null(fp);
	struct pt_ksyms *k = pt_ksyms_load(fp);
	fclose(fp);
	assert_non_null(k);
	assert_int_equal(pt_ksyms_count(k), 4);
	assert_null(pt_ksyms_lookup(k, 0xffffffff80000000ull));
	assert_string_equal(pt_ksyms_lookup(k, 0xffffffff81000010ull), "_stext");
	assert_string_equal(pt_ksyms_lookup(k, 0xffffffff81100000ull), "alloc_pipe_info");
	assert_string_equal(pt_ksyms_lookup(k, 0xffffffff81200abcull), "do_eventfd");
	assert_string_equal(pt_ksyms_lookup(k, 0xffffffff81300000ull), "do_eventfd");
	assert_string_equal(pt_ksyms_lookup(k, 0xffffffffc0000040ull), "mod_func");
	pt_ksyms_free(k);
}

static void test_slabinfo(void **state)
{
	struct pt_slab_row row;
	assert_int_equal(pt_slabinfo_parse_line("slabinfo - version: 2.1\n", &row), 0);
	assert_int_equal(pt_slabinfo_parse_line("# name            <active_objs> <num_objs> <objsize>\n", &row), 0);
	assert_int_equal(pt_slabinfo_parse_line(
		"filp                1664   1728    256   16    1 : tunables    0    0    0 : slabdata    108    108      0\n",
		&row), 1);
	assert_string_equal(row.name, "filp");
	assert_int_equal(row.active_objs, 1664);
	assert_int_equal(row.num_objs, 1728);
	assert_int_equal(row.objsize, 256);
	assert_int_equal(pt_slabinfo_parse_line("filp abc\n", &row), PT_EFORMAT);
	assert_int_equal(pt_slabinfo_parse_line("filp 1 2\n", &row), PT_EFORMAT);
}

struct sink {
	uint64_t ts[16];
	char text[16][16];
	int n;
};

static int collect(void *ctx, const struct pt_event *ev)
{
	struct sink *s = ctx;
	s->ts[s->n] = ev->ts_ns;
	snprintf(s->text[s->n], sizeof(s->text[0]), "%s", ev->marker ? ev->marker : "");
	s->n++;
	return 0;
}

static void test_pending(void **state)
{
	struct pt_pending *p = pt_pending_new();
	struct pt_event ev;
	static const uint64_t times[] = {50, 10, 30, 30, 70, 20};
	static const char *const names[] = {"a", "b", "c", "d", "e", "f"};
	for (int i = 0; i < 6; i++) {
		pt_event_init(&ev);
		ev.ts_ns = times[i];
		char buf[8];
		snprintf(buf, sizeof(buf), "%s", names[i]);
		ev.marker = buf; /* copied by the queue */
		assert_int_equal(pt_pending_add(p, &ev), 0);
	}
	struct sink s = {0};
	assert_int_equal(pt_pending_drain(p, 30, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.text[0], "b");
	assert_string_equal(s.text[1], "f");
	assert_string_equal(s.text[2], "c"); /* ties keep arrival order */
	assert_string_equal(s.text[3], "d");
	assert_int_equal(pt_pending_count(p), 2);
	pt_event_init(&ev);
	ev.ts_ns = 60;
	assert_int_equal(pt_pending_add(p, &ev), 0);
	assert_int_equal(pt_pending_drain(p, UINT64_MAX, collect, &s), 0);
	assert_int_equal(s.n, 7);
	assert_int_equal(s.ts[4], 50);
	assert_int_equal(s.ts[5], 60);
	assert_int_equal(s.ts[6], 70);
	assert_int_equal(pt_pending_count(p), 0);
	pt_pending_free(p);
}

static void test_addrset(void **state)
{
	struct pt_addrset *s = pt_addrset_new(0);
	assert_non_null(s);
	assert_int_equal(pt_addrset_add(s, 0), PT_EUSAGE);
	/* enough to grow several times; many share probe runs */
	for (uint64_t i = 1; i <= 50000; i++)
		assert_int_equal(pt_addrset_add(s, 0xffff888000000000ull + i * 64), 0);
	assert_int_equal(pt_addrset_count(s), 50000);
	assert_int_equal(pt_addrset_add(s, 0xffff888000000000ull + 64), 0); /* already there */
	assert_int_equal(pt_addrset_count(s), 50000);
	for (uint64_t i = 1; i <= 50000; i += 2)
		assert_true(pt_addrset_remove(s, 0xffff888000000000ull + i * 64));
	for (uint64_t i = 1; i <= 50000; i++)
		assert_int_equal(pt_addrset_remove(s, 0xffff888000000000ull + i * 64), (i % 2) == 0);
	assert_int_equal(pt_addrset_count(s), 0);
	assert_false(pt_addrset_remove(s, 12345));
	pt_addrset_free(s);

	s = pt_addrset_new(3);
	assert_int_equal(pt_addrset_add(s, 1), 0);
	assert_int_equal(pt_addrset_add(s, 2), 0);
	assert_int_equal(pt_addrset_add(s, 3), 0);
	assert_true(pt_addrset_full(s));
	assert_int_equal(pt_addrset_add(s, 4), PT_ELIMIT);
	pt_addrset_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ksyms),
		cmocka_unit_test(test_slabinfo),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_addrset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
