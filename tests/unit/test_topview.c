/* SPDX-License-Identifier: MIT */
/* View model of `pooltrace top`: sort keys, P cycle, time steps, filter, deltas, playback, text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"
#include "pooltrace/topview.h"

#define S 1000000000ull
#define MS 1000000ull

struct fx {
	struct pt_tags *tags;
	struct pt_replay *rp;
	struct pt_tag_verdict *verdicts;
	struct pt_topview *v;
};

static void ev(struct fx *f, enum pt_event_kind k, uint64_t ts, const char *t, enum pt_pool pool,
	       uint64_t size, uint64_t addr)
{
	struct pt_event e;
	pt_event_init(&e);
	e.kind = k;
	e.ts_ns = ts;
	if (t)
		assert_int_equal(pt_tags_intern(f->tags, t, strlen(t), &e.tag), 0);
	e.pool = pool;
	e.size = size;
	e.addr = addr;
	assert_int_equal(pt_replay_event(f->rp, &e), 0);
}

/*
 * Aaaa Nonp : 5 allocs of 1000 at 0.2-0.6 s, 4 freed at 3.5-3.8 s
 * Bbbb Paged: 2 allocs of 3000 at 1.5, 1.6 s
 * Cccc Nonp : 8 allocs of 500 at 2.1-2.8 s, 2 freed at 4.5, 4.6 s
 * Dddd Paged: 1 alloc of 64 at 5.5 s, freed at 7 s (in the cool-down)
 * marker workload-end at 6 s, trace end 10 s, interval 1 s.
 * At the end: bytes B 6000 > C 3000 > A 1000 > D 0; allocs C 8 > A 5 > B 2 > D 1;
 * frees A 4 > C 2 > D 1 > B 0; diff C 6 > B 2 > A 1 > D 0; per alloc B > A > C > D.
 */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->tags = pt_tags_new(0);
	struct pt_replay_opts ro = {.interval_ns = S};
	f->rp = pt_replay_new(f->tags, &ro);
	assert_non_null(f->rp);
	for (int i = 0; i < 5; i++)
		ev(f, PT_EV_ALLOC, 200 * MS + (uint64_t)i * 100 * MS, "Aaaa", PT_POOL_NONPAGED, 1000,
		   0x1001 + (uint64_t)i);
	ev(f, PT_EV_ALLOC, 1500 * MS, "Bbbb", PT_POOL_PAGED, 3000, 0x2001);
	ev(f, PT_EV_ALLOC, 1600 * MS, "Bbbb", PT_POOL_PAGED, 3000, 0x2002);
	for (int i = 0; i < 8; i++)
		ev(f, PT_EV_ALLOC, 2100 * MS + (uint64_t)i * 100 * MS, "Cccc", PT_POOL_NONPAGED, 500,
		   0x3001 + (uint64_t)i);
	for (int i = 0; i < 4; i++)
		ev(f, PT_EV_FREE, 3500 * MS + (uint64_t)i * 100 * MS, "Aaaa", PT_POOL_NONPAGED, 0,
		   0x1001 + (uint64_t)i);
	ev(f, PT_EV_FREE, 4500 * MS, "Cccc", PT_POOL_NONPAGED, 0, 0x3001);
	ev(f, PT_EV_FREE, 4600 * MS, "Cccc", PT_POOL_NONPAGED, 0, 0x3002);
	ev(f, PT_EV_ALLOC, 5500 * MS, "Dddd", PT_POOL_PAGED, 64, 0x4001);
	struct pt_event m;
	pt_event_init(&m);
	m.kind = PT_EV_MARKER;
	m.ts_ns = 6 * S;
	m.marker = "workload-end";
	assert_int_equal(pt_replay_event(f->rp, &m), 0);
	ev(f, PT_EV_FREE, 7 * S, "Dddd", PT_POOL_PAGED, 0, 0x4001);
	assert_int_equal(pt_replay_finish(f->rp, 10 * S), 0);
	struct pt_verdict_opts vo;
	pt_verdict_opts_init(&vo);
	assert_int_equal(pt_judge(f->rp, &vo, &f->verdicts), 0);

	struct pt_topview_opts o;
	pt_topview_opts_init(&o);
	o.rp = f->rp;
	o.verdicts = f->verdicts;
	o.input_name = "synthetic";
	o.paused = true;
	f->v = pt_topview_new(&o);
	assert_non_null(f->v);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	pt_topview_free(f->v);
	free(f->verdicts);
	pt_replay_free(f->rp);
	pt_tags_free(f->tags);
	free(f);
	return 0;
}

/* The visible tags in order, as "A B C" from their first letters. */
static const char *order(struct fx *f)
{
	static char buf[64];
	size_t n, ns;
	const struct pt_topview_row *r = pt_topview_rows(f->v, &n);
	const struct pt_tagstat *st = pt_replay_stats(f->rp, &ns);
	size_t k = 0;
	for (size_t i = 0; i < n && k + 2 < sizeof(buf); i++) {
		size_t len;
		const uint8_t *t = pt_tags_bytes(f->tags, st[r[i].stat].tag, &len);
		if (k)
			buf[k++] = ' ';
		buf[k++] = (char)t[0];
	}
	buf[k] = '\0';
	return buf;
}

static const struct pt_topview_row *row(struct fx *f, char first)
{
	size_t n, ns;
	const struct pt_topview_row *r = pt_topview_rows(f->v, &n);
	const struct pt_tagstat *st = pt_replay_stats(f->rp, &ns);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		if (pt_tags_bytes(f->tags, st[r[i].stat].tag, &len)[0] == (uint8_t)first)
			return &r[i];
	}
	return NULL;
}

static void keys(struct fx *f, const char *s)
{
	for (; *s; s++)
		pt_topview_key(f->v, *s);
}

static void test_sort_keys(void **state)
{
	struct fx *f = *state;
	pt_topview_key(f->v, PT_TOPKEY_END);
	assert_int_equal(pt_topview_time(f->v), 10 * S);
	assert_string_equal(order(f), "B C A D"); /* default: bytes */
	keys(f, "a");
	assert_string_equal(order(f), "C A B D");
	keys(f, "F");
	assert_string_equal(order(f), "A C D B");
	keys(f, "d");
	assert_string_equal(order(f), "C B A D");
	keys(f, "m");
	assert_string_equal(order(f), "B A C D");
	keys(f, "t");
	assert_string_equal(order(f), "A B C D");
	keys(f, "T"); /* same key again: reversed */
	assert_string_equal(order(f), "D C B A");
	bool asc;
	assert_int_equal(pt_topview_sort(f->v, &asc, NULL), PT_SORT_TAG);
	assert_false(asc);
	keys(f, "b");
	assert_string_equal(order(f), "B C A D");
	keys(f, "B");
	assert_string_equal(order(f), "D A C B");
	assert_int_equal(pt_topview_sort(f->v, &asc, NULL), PT_SORT_BYTES);
	assert_true(asc);
	keys(f, "S"); /* S and D both sort by diff */
	assert_string_equal(order(f), "C B A D");
}

static void test_pool_cycle(void **state)
{
	struct fx *f = *state;
	pt_topview_key(f->v, PT_TOPKEY_END);
	keys(f, "t");
	assert_int_equal(pt_topview_pools(f->v), PT_POOLSEL_BOTH);
	keys(f, "p");
	assert_int_equal(pt_topview_pools(f->v), PT_POOLSEL_NONPAGED);
	assert_string_equal(order(f), "A C");
	keys(f, "P");
	assert_int_equal(pt_topview_pools(f->v), PT_POOLSEL_PAGED);
	assert_string_equal(order(f), "B D");
	keys(f, "p");
	assert_int_equal(pt_topview_pools(f->v), PT_POOLSEL_BOTH);
	assert_string_equal(order(f), "A B C D");
	/* header totals do not depend on the pool filter */
	keys(f, "p");
	struct pt_topview_totals t;
	pt_topview_totals(f->v, &t);
	assert_int_equal(t.nonpaged_bytes, 4000);
	assert_int_equal(t.paged_bytes, 6000);
	assert_int_equal(t.shown.bytes, 4000);
}

static void test_step_keys(void **state)
{
	struct fx *f = *state;
	size_t n;
	assert_int_equal(pt_topview_time(f->v), 0);
	pt_topview_rows(f->v, &n);
	assert_int_equal(n, 0); /* nothing seen at trace start */
	pt_topview_key(f->v, PT_TOPKEY_RIGHT);
	assert_int_equal(pt_topview_time(f->v), 1 * S);
	assert_true(pt_topview_paused(f->v));
	assert_string_equal(order(f), "A");
	assert_int_equal(row(f, 'A')->c.allocs, 5);
	assert_int_equal(row(f, 'A')->d_allocs, 5);
	assert_true(row(f, 'A')->changed);
	pt_topview_key(f->v, PT_TOPKEY_RIGHT);
	assert_int_equal(pt_topview_time(f->v), 2 * S);
	assert_string_equal(order(f), "B A");
	assert_int_equal(row(f, 'B')->d_bytes, 6000);
	assert_int_equal(row(f, 'A')->d_allocs, 0);
	assert_false(row(f, 'A')->changed);
	pt_topview_key(f->v, PT_TOPKEY_LEFT);
	assert_int_equal(pt_topview_time(f->v), 1 * S);
	assert_int_equal(pt_topview_prev_time(f->v), 2 * S);
	assert_string_equal(order(f), "A");
	pt_topview_key(f->v, PT_TOPKEY_END);
	assert_int_equal(pt_topview_time(f->v), 10 * S);
	pt_topview_key(f->v, PT_TOPKEY_RIGHT); /* stays at the end */
	assert_int_equal(pt_topview_time(f->v), 10 * S);
	pt_topview_key(f->v, PT_TOPKEY_HOME);
	assert_int_equal(pt_topview_time(f->v), 0);
	pt_topview_key(f->v, PT_TOPKEY_LEFT); /* stays at the start */
	assert_int_equal(pt_topview_time(f->v), 0);
	keys(f, "w");
	assert_int_equal(pt_topview_time(f->v), 6 * S);
	assert_int_equal(pt_topview_phase(f->v), PT_TOP_COOLDOWN);
	/* exact at the marker: Dddd allocated at 5.5 s and not yet freed */
	assert_int_equal(row(f, 'D')->c.bytes, 64);
	pt_topview_key(f->v, PT_TOPKEY_LEFT);
	assert_int_equal(pt_topview_time(f->v), 5 * S);
	assert_int_equal(pt_topview_phase(f->v), PT_TOP_WORKLOAD);
	pt_topview_key(f->v, PT_TOPKEY_RIGHT);
	assert_int_equal(pt_topview_time(f->v), 6 * S);
	keys(f, "c");
	assert_int_equal(pt_topview_time(f->v), 10 * S);
	pt_topview_step(f->v, -3);
	assert_int_equal(pt_topview_time(f->v), 7 * S);
	pt_topview_seek(f->v, 2500 * MS); /* between edges: the edge before */
	assert_null(row(f, 'C'));
	pt_topview_key(f->v, PT_TOPKEY_RIGHT);
	assert_int_equal(pt_topview_time(f->v), 3 * S);
	pt_topview_key(f->v, PT_TOPKEY_LEFT);
	assert_int_equal(pt_topview_time(f->v), 2 * S);
}

static void test_filter(void **state)
{
	struct fx *f = *state;
	pt_topview_key(f->v, PT_TOPKEY_END);
	keys(f, "t/A*");
	assert_string_equal(order(f), "A B C D"); /* not applied while typing */
	pt_topview_key(f->v, PT_TOPKEY_ENTER);
	assert_string_equal(pt_topview_filter(f->v), "A*");
	assert_string_equal(order(f), "A");
	keys(f, "/");
	pt_topview_key(f->v, PT_TOPKEY_BACKSPACE);
	pt_topview_key(f->v, PT_TOPKEY_BACKSPACE);
	keys(f, "?ccc");
	pt_topview_key(f->v, PT_TOPKEY_ENTER);
	assert_string_equal(order(f), "C");
	keys(f, "/xyz");
	pt_topview_key(f->v, PT_TOPKEY_ESC); /* cancel keeps the old filter */
	assert_string_equal(pt_topview_filter(f->v), "?ccc");
	keys(f, "/");
	for (int i = 0; i < 4; i++)
		pt_topview_key(f->v, PT_TOPKEY_BACKSPACE);
	pt_topview_key(f->v, PT_TOPKEY_ENTER);
	assert_string_equal(pt_topview_filter(f->v), "");
	assert_string_equal(order(f), "A B C D");
	keys(f, "/aaaa\r"); /* case-sensitive, as PoolMon */
	assert_string_equal(order(f), "");
	/* 'q' typed into the filter does not quit */
	assert_int_equal(pt_topview_key(f->v, '/') & PT_TOPV_QUIT, 0);
	assert_int_equal(pt_topview_key(f->v, 'q') & PT_TOPV_QUIT, 0);
	pt_topview_key(f->v, PT_TOPKEY_ESC);
	assert_int_equal(pt_topview_key(f->v, 'Q') & PT_TOPV_QUIT, PT_TOPV_QUIT);
}

static void test_deltas_and_change_sort(void **state)
{
	struct fx *f = *state;
	pt_topview_seek(f->v, 2 * S);
	pt_topview_seek(f->v, 5 * S);
	assert_int_equal(pt_topview_prev_time(f->v), 2 * S);
	assert_int_equal(row(f, 'C')->d_allocs, 8);
	assert_int_equal(row(f, 'C')->d_frees, 2);
	assert_int_equal(row(f, 'C')->d_bytes, 3000);
	assert_int_equal(row(f, 'C')->d_diff, 6);
	assert_int_equal(row(f, 'A')->d_frees, 4);
	assert_int_equal(row(f, 'A')->d_bytes, -4000);
	assert_int_equal(row(f, 'A')->d_diff, -4);
	assert_int_equal(row(f, 'B')->d_bytes, 0);
	assert_false(row(f, 'B')->changed);
	/* a key that does not move time keeps the deltas */
	keys(f, "(");
	assert_int_equal(row(f, 'C')->d_allocs, 8);
	assert_string_equal(order(f), "C B A"); /* bytes change: +3000, 0, -4000 */
	keys(f, "f");
	assert_string_equal(order(f), "A C B"); /* frees change: 4, 2, 0 */
	keys(f, "t");
	assert_string_equal(order(f), "A C B"); /* tag by change: changed rows first */
	keys(f, ")");
	assert_string_equal(order(f), "A B C");
	struct pt_topview_totals t;
	pt_topview_totals(f->v, &t);
	assert_int_equal(t.d_bytes, -1000);
	assert_int_equal(t.d_allocs, 8);
}

static void test_playback(void **state)
{
	struct fx *f = *state;
	assert_false(pt_topview_tick(f->v, S)); /* paused */
	keys(f, " ");
	assert_false(pt_topview_paused(f->v));
	keys(f, "[[[[]]]]"); /* back to the automatic speed: 10 s in 30 s */
	double sp = pt_topview_speed(f->v);
	assert_true(sp > 0.33 && sp < 0.34);
	keys(f, "]]]"); /* 8 / 3 trace seconds per second */
	assert_false(pt_topview_tick(f->v, 300 * MS)); /* 0.8 s owed: below one interval */
	assert_true(pt_topview_tick(f->v, 300 * MS));  /* 1.6 s: one interval */
	assert_int_equal(pt_topview_time(f->v), 1 * S);
	assert_true(pt_topview_tick(f->v, 3 * S)); /* 8.6 s owed: eight intervals */
	assert_int_equal(pt_topview_time(f->v), 9 * S);
	assert_true(pt_topview_tick(f->v, 100 * S));
	assert_int_equal(pt_topview_time(f->v), 10 * S);
	assert_true(pt_topview_paused(f->v)); /* pauses at the end */
	keys(f, " "); /* space at the end replays from the start */
	assert_int_equal(pt_topview_time(f->v), 0);
	assert_false(pt_topview_paused(f->v));
	pt_topview_key(f->v, PT_TOPKEY_RIGHT); /* stepping pauses */
	assert_true(pt_topview_paused(f->v));
}

struct capture {
	char lines[64][1024];
	unsigned attr[64];
	int n;
};

static void cap_line(void *ctx, int y, unsigned attr, const char *text)
{
	struct capture *c = ctx;
	assert_true(y >= 0 && y < 64);
	assert_true(strlen(text) < sizeof(c->lines[0]));
	strcpy(c->lines[y], text);
	c->attr[y] = attr;
	if (y + 1 > c->n)
		c->n = y + 1;
}

static void test_render(void **state)
{
	struct fx *f = *state;
	struct capture *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	pt_topview_seek(f->v, 9 * S);
	pt_topview_key(f->v, PT_TOPKEY_END);
	keys(f, "e");
	assert_int_equal(pt_topview_render(f->v, 80, 24, cap_line, c), 24);
	assert_int_equal(c->n, 24);
	for (int i = 0; i < c->n; i++)
		assert_true(strlen(c->lines[i]) <= 80);
	assert_non_null(strstr(c->lines[0], "synthetic"));
	assert_non_null(strstr(c->lines[1], "Pool N: 3.9 KiB"));
	assert_non_null(strstr(c->lines[2], "Sort: bytes"));
	assert_int_equal(c->attr[3] & PT_TOPL_KIND_MASK, PT_TOPL_COLUMNS);
	assert_non_null(strstr(c->lines[3], "Allocs"));
	assert_non_null(strstr(c->lines[3], "Per Alloc"));
	assert_int_equal(c->attr[4] & PT_TOPL_KIND_MASK, PT_TOPL_TOTALS);
	assert_non_null(strstr(c->lines[5], "Bbbb"));
	assert_true(c->attr[5] & PT_TOPA_LEAK);
	assert_non_null(strstr(c->lines[8], "Dddd"));
	assert_false(c->attr[8] & (PT_TOPA_LEAK | PT_TOPA_SUSPECT));
	assert_int_equal(c->attr[23] & PT_TOPL_KIND_MASK, PT_TOPL_STATUS);
	assert_non_null(strstr(c->lines[23], "10.000 s / 10.000 s  cool-down"));
	assert_non_null(strstr(c->lines[23], "leak: Bbbb Cccc Aaaa"));

	/* filtered view: leak flags for visible tags only */
	keys(f, "/D*\r");
	memset(c, 0, sizeof(*c));
	pt_topview_render(f->v, 80, 24, cap_line, c);
	assert_non_null(strstr(c->lines[23], "no leak flagged"));
	/* typing a filter shows the prompt in the status line */
	keys(f, "/B");
	memset(c, 0, sizeof(*c));
	pt_topview_render(f->v, 80, 24, cap_line, c);
	assert_int_equal(c->attr[23] & PT_TOPL_KIND_MASK, PT_TOPL_PROMPT);
	assert_non_null(strstr(c->lines[23], "Filter"));
	pt_topview_key(f->v, PT_TOPKEY_ESC);

	/* tiny screens do not overflow */
	for (int h = 1; h < 8; h++) {
		memset(c, 0, sizeof(*c));
		assert_int_equal(pt_topview_render(f->v, 20, h, cap_line, c), h);
		assert_int_equal(c->attr[h - 1] & PT_TOPL_KIND_MASK, PT_TOPL_STATUS);
		for (int i = 0; i < c->n; i++)
			assert_true(strlen(c->lines[i]) <= 20);
	}
	/* help overlay, closed by any key */
	keys(f, "?");
	memset(c, 0, sizeof(*c));
	pt_topview_render(f->v, 80, 24, cap_line, c);
	assert_int_equal(c->attr[3] & PT_TOPL_KIND_MASK, PT_TOPL_HELP);
	assert_int_equal(pt_topview_key(f->v, 'x'), PT_TOPV_REDRAW);
	memset(c, 0, sizeof(*c));
	pt_topview_render(f->v, 80, 24, cap_line, c);
	assert_int_equal(c->attr[3] & PT_TOPL_KIND_MASK, PT_TOPL_COLUMNS);
	free(c);
}

static void test_scroll(void **state)
{
	struct fx *f = *state;
	struct capture *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	pt_topview_key(f->v, PT_TOPKEY_END);
	keys(f, "t");
	/* 7 lines: 3 header, columns, 2 rows, status */
	pt_topview_key(f->v, PT_TOPKEY_DOWN);
	pt_topview_render(f->v, 80, 7, cap_line, c);
	assert_non_null(strstr(c->lines[4], "Bbbb"));
	assert_non_null(strstr(c->lines[5], "Cccc"));
	for (int i = 0; i < 10; i++)
		pt_topview_key(f->v, PT_TOPKEY_DOWN);
	memset(c, 0, sizeof(*c));
	pt_topview_render(f->v, 80, 7, cap_line, c);
	assert_non_null(strstr(c->lines[4], "Cccc")); /* clamped: the last rows fill the screen */
	assert_non_null(strstr(c->lines[5], "Dddd"));
	pt_topview_key(f->v, PT_TOPKEY_PGUP);
	pt_topview_key(f->v, PT_TOPKEY_PGUP);
	pt_topview_key(f->v, PT_TOPKEY_PGUP);
	memset(c, 0, sizeof(*c));
	pt_topview_render(f->v, 80, 7, cap_line, c);
	assert_non_null(strstr(c->lines[4], "Aaaa"));
	free(c);
}

static void test_once(void **state)
{
	struct fx *f = *state;
	struct pt_topview_opts o;
	pt_topview_opts_init(&o);
	o.rp = f->rp;
	o.once = true;
	o.has_at = true;
	o.at_ns = 5 * S;
	struct pt_topview *v = pt_topview_new(&o);
	assert_non_null(v);
	assert_int_equal(pt_topview_prev_time(v), 4 * S);
	assert_true(pt_topview_paused(v));
	struct capture *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	int n = pt_topview_render(v, 0, 0, cap_line, c);
	assert_int_equal(n, 3 + 1 + 3 + 1); /* header, columns, B C A, status */
	assert_non_null(strstr(c->lines[5], "Cccc"));
	assert_int_equal(c->lines[5][0], '*'); /* freed two between 4 and 5 s */
	assert_int_equal(c->lines[4][0], ' ');
	assert_non_null(strstr(c->lines[7], "[still]"));
	free(c);
	pt_topview_free(v);
	pt_topview_free(NULL);
	o.rp = NULL;
	assert_null(pt_topview_new(&o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sort_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deltas_and_change_sort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_playback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scroll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
