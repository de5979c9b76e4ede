/* SPDX-License-Identifier: MIT */
/* Replay and first verdict: matching, unmatched frees, double allocs, phases, timeline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"

#define S 1000000000ull

struct fx {
	struct pt_tags *tags;
	struct pt_replay *rp;
};

static pt_tag_id tag(struct fx *f, const char *s)
{
	pt_tag_id id;
	assert_int_equal(pt_tags_intern(f->tags, s, strlen(s), &id), 0);
	return id;
}

static void ev(struct fx *f, enum pt_event_kind k, uint64_t ts, const char *t, enum pt_pool pool,
	       uint64_t size, uint64_t addr)
{
	struct pt_event e;
	pt_event_init(&e);
	e.kind = k;
	e.ts_ns = ts;
	e.tag = t ? tag(f, t) : PT_TAG_NONE;
	e.pool = pool;
	e.size = size;
	e.addr = addr;
	assert_int_equal(pt_replay_event(f->rp, &e), 0);
}

static void marker(struct fx *f, uint64_t ts, const char *text)
{
	struct pt_event e;
	pt_event_init(&e);
	e.kind = PT_EV_MARKER;
	e.ts_ns = ts;
	e.marker = text;
	assert_int_equal(pt_replay_event(f->rp, &e), 0);
}

static struct fx *fx_new(const struct pt_replay_opts *o)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->tags = pt_tags_new(0);
	f->rp = pt_replay_new(f->tags, o);
	assert_non_null(f->rp);
	return f;
}

static void fx_free(struct fx *f)
{
	pt_replay_free(f->rp);
	pt_tags_free(f->tags);
	free(f);
}

static const struct pt_tagstat *find(struct fx *f, const char *t, enum pt_pool pool)
{
	size_t n;
	const struct pt_tagstat *st = pt_replay_stats(f->rp, &n);
	pt_tag_id id = tag(f, t);
	for (size_t i = 0; i < n; i++)
		if (st[i].tag == id && st[i].pool == pool)
			return &st[i];
	fail_msg("no entry for %s", t);
	return NULL;
}

static int walk_fn_plain(void *ctx, const struct pt_live_alloc *a)
{
	(void)a;
	(*(size_t *)ctx)++;
	return 0;
}

struct walk {
	uint64_t seen_fn[200], seen_ahead[200];
	size_t nfn, nahead;
	size_t stop_after; /* fn returns 7 on this call (1-based); 0: never */
};

static int walk_fn(void *ctx, const struct pt_live_alloc *a)
{
	struct walk *w = ctx;
	assert_true(w->nfn < 200);
	/* ahead() saw this allocation first, in the same order */
	assert_true(w->nfn < w->nahead);
	assert_int_equal(w->seen_ahead[w->nfn], a->addr);
	w->seen_fn[w->nfn++] = a->addr;
	return w->nfn == w->stop_after ? 7 : 0;
}

static void walk_ahead(void *ctx, const struct pt_live_alloc *a)
{
	struct walk *w = ctx;
	assert_true(w->nahead < 200);
	w->seen_ahead[w->nahead++] = a->addr;
}

/* Every live allocation once to fn, after ahead; early stop; with few and many allocations. */
static void test_live_foreach_ahead(void **state)
{
	(void)state;
	static const size_t counts[] = {0, 1, 7, 8, 9, 150};
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct fx *f = fx_new(NULL);
		size_t n = counts[c];
		for (size_t i = 0; i < n; i++)
			ev(f, PT_EV_ALLOC, i + 1, "Walk", PT_POOL_PAGED, 16, 0x10000 + 64 * i);
		assert_int_equal(pt_replay_finish(f->rp, 0), 0);
		struct walk w;
		memset(&w, 0, sizeof(w));
		assert_int_equal(pt_replay_live_foreach_ahead(f->rp, walk_fn, walk_ahead, &w), 0);
		assert_int_equal(w.nfn, n);
		assert_int_equal(w.nahead, n);
		uint64_t sum = 0, want = 0;
		for (size_t i = 0; i < n; i++) {
			sum += w.seen_fn[i];
			want += 0x10000 + 64 * i;
			for (size_t j = 0; j < i; j++)
				assert_true(w.seen_fn[j] != w.seen_fn[i]);
		}
		assert_int_equal(sum, want);
		/* fn's non-zero value stops the walk and is returned */
		if (n >= 3) {
			memset(&w, 0, sizeof(w));
			w.stop_after = n - 1;
			assert_int_equal(pt_replay_live_foreach_ahead(f->rp, walk_fn, walk_ahead, &w), 7);
			assert_int_equal(w.nfn, n - 1);
		}
		/* without ahead: the same allocations */
		size_t before = 0;
		assert_int_equal(pt_replay_live_foreach_ahead(f->rp, walk_fn_plain, NULL, &before), 0);
		assert_int_equal(before, n);
		fx_free(f);
	}
}

static void test_match_and_counts(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	ev(f, PT_EV_ALLOC, 1, "Abcd", PT_POOL_PAGED, 100, 0x1000);
	ev(f, PT_EV_ALLOC, 2, "Abcd", PT_POOL_PAGED, 50, 0x2000);
	ev(f, PT_EV_ALLOC, 3, "Abcd", PT_POOL_NONPAGED, 8, 0x3000);
	/* PoolFree carries no size: the size comes from the allocation */
	ev(f, PT_EV_FREE, 4, "Abcd", PT_POOL_PAGED, 0, 0x1000);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	const struct pt_tagstat *p = find(f, "Abcd", PT_POOL_PAGED);
	assert_int_equal(p->now.allocs, 2);
	assert_int_equal(p->now.frees, 1);
	assert_int_equal(pt_counts_diff(&p->now), 1);
	assert_int_equal(p->now.bytes, 50);
	assert_int_equal(p->now.live, 1);
	assert_int_equal(p->peak_bytes, 150);
	assert_int_equal(p->peak_ns, 2);
	assert_int_equal(pt_per_alloc(&p->now), 50);
	const struct pt_tagstat *np = find(f, "Abcd", PT_POOL_NONPAGED);
	assert_int_equal(np->now.bytes, 8);
	assert_int_equal(pt_replay_totals(f->rp)->live, 2);
	fx_free(f);
}

static void test_unmatched_and_double(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	/* a free of something allocated before the trace */
	ev(f, PT_EV_FREE, 1, "Old ", PT_POOL_PAGED, 0, 0x9000);
	/* kfree of an untagged pre-trace object, and a NULL free */
	ev(f, PT_EV_FREE, 2, NULL, PT_POOL_SLAB, 0, 0xa000);
	ev(f, PT_EV_FREE, 3, NULL, PT_POOL_SLAB, 0, 0);
	/* double allocation at one address: the first one's free was lost */
	ev(f, PT_EV_ALLOC, 4, "Dbl ", PT_POOL_PAGED, 64, 0x5000);
	ev(f, PT_EV_ALLOC, 5, "Dbl ", PT_POOL_PAGED, 32, 0x5000);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	const struct pt_replay_totals *t = pt_replay_totals(f->rp);
	assert_int_equal(t->unmatched_frees, 2);
	assert_int_equal(t->null_frees, 1);
	assert_int_equal(t->double_allocs, 1);
	const struct pt_tagstat *o = find(f, "Old ", PT_POOL_PAGED);
	assert_int_equal(o->unmatched_frees, 1);
	assert_int_equal(o->now.frees, 1);
	assert_int_equal(o->now.bytes, 0);
	const struct pt_tagstat *d = find(f, "Dbl ", PT_POOL_PAGED);
	assert_int_equal(d->double_allocs, 1);
	assert_int_equal(d->now.allocs, 2);
	assert_int_equal(d->now.bytes, 32);
	assert_int_equal(d->now.live, 1);
	assert_int_equal(d->displaced_bytes, 64);
	fx_free(f);
}

/* Sizes of 4 GiB and more stay exact: new, displaced both ways, freed. */
static void test_big_sizes(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	const uint64_t big = 5ull << 30, huge = 1ull << 40;
	ev(f, PT_EV_ALLOC, 1, "Big ", PT_POOL_NONPAGED, big, 0x1000);
	ev(f, PT_EV_ALLOC, 2, "Big ", PT_POOL_NONPAGED, huge, 0x2000);
	ev(f, PT_EV_ALLOC, 3, "Big ", PT_POOL_NONPAGED, 64, 0x3000);
	/* a small allocation replaces a big one, a big one a small one */
	ev(f, PT_EV_ALLOC, 4, "Big ", PT_POOL_NONPAGED, 32, 0x1000);
	ev(f, PT_EV_ALLOC, 5, "Big ", PT_POOL_NONPAGED, huge + 7, 0x3000);
	const struct pt_tagstat *b = find(f, "Big ", PT_POOL_NONPAGED);
	assert_int_equal(b->now.bytes, 32 + huge + huge + 7);
	assert_int_equal(b->displaced_bytes, big + 64);
	ev(f, PT_EV_FREE, 6, "Big ", PT_POOL_NONPAGED, 0, 0x2000);
	ev(f, PT_EV_FREE, 7, "Big ", PT_POOL_NONPAGED, 0, 0x3000);
	b = find(f, "Big ", PT_POOL_NONPAGED);
	assert_int_equal(b->now.bytes, 32);
	assert_int_equal(b->now.live, 1);
	ev(f, PT_EV_FREE, 8, "Big ", PT_POOL_NONPAGED, 0, 0x1000);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	b = find(f, "Big ", PT_POOL_NONPAGED);
	assert_int_equal(b->now.bytes, 0);
	assert_int_equal(b->now.live, 0);
	assert_int_equal(pt_replay_totals(f->rp)->unmatched_frees, 0);
	fx_free(f);
}

/*
 * A leak among churn: the leak stays, the churn drains after the marker.
 * With bg, a background tag also churns at 50 allocations and frees a second
 * during the workload (a realistic event rate for the phase detection).
 */
static void scenario_bg(struct fx *f, bool with_marker, bool bg)
{
	uint64_t addr = 0x100000;
	for (uint64_t s = 0; s < 60; s++) {
		ev(f, PT_EV_ALLOC, s * S, "Leak", PT_POOL_NONPAGED, 256, addr++ * 16);
		uint64_t a = addr++ * 16;
		ev(f, PT_EV_ALLOC, s * S + 1, "Busy", PT_POOL_PAGED, 1000, a);
		if (s % 2)
			ev(f, PT_EV_FREE, s * S + 2, "Busy", PT_POOL_PAGED, 0, a);
		for (uint64_t i = 0; bg && i < 50; i++) {
			uint64_t t = s * S + 10 + i * (S / 50), ba = 0x70000000 + (s * 50 + i) * 16;
			ev(f, PT_EV_ALLOC, t, "Bg  ", PT_POOL_PAGED, 32, ba);
			ev(f, PT_EV_FREE, t + 1, "Bg  ", PT_POOL_PAGED, 0, ba);
		}
	}
	if (with_marker)
		marker(f, 60 * S, "workload-end");
	/* cool-down: Busy frees what it kept */
	addr = 0x100000;
	for (uint64_t s = 0; s < 60; s++) {
		addr++;
		uint64_t a = addr++ * 16;
		if (!(s % 2))
			ev(f, PT_EV_FREE, 61 * S + s, "Busy", PT_POOL_PAGED, 0, a);
	}
	ev(f, PT_EV_ALLOC, 80 * S, "Tail", PT_POOL_PAGED, 1, 0x77);
	ev(f, PT_EV_FREE, 80 * S + 1, "Tail", PT_POOL_PAGED, 0, 0x77);
}

static void scenario(struct fx *f, bool with_marker)
{
	scenario_bg(f, with_marker, false);
}

static const struct pt_tag_verdict *verdict_of(struct fx *f, struct pt_tag_verdict *v,
					       const char *t, enum pt_pool pool)
{
	const struct pt_tagstat *st = find(f, t, pool);
	size_t n;
	const struct pt_tagstat *all = pt_replay_stats(f->rp, &n);
	return &v[st - all];
}

static void test_verdict_marker(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	scenario(f, true);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	const struct pt_phases *ph = pt_replay_phases(f->rp);
	assert_int_equal(ph->wend_src, PT_PHASE_MARKER);
	assert_int_equal(ph->wend_ns, 60 * S);
	assert_string_equal(ph->wend_marker, "workload-end");
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	const struct pt_tag_verdict *lk = verdict_of(f, v, "Leak", PT_POOL_NONPAGED);
	assert_int_equal(lk->verdict, PT_VERDICT_LEAK);
	assert_int_equal(lk->at_wend.bytes, 60 * 256);
	assert_int_equal(lk->at_end.bytes, 60 * 256);
	assert_true(lk->drained == 0.0);
	const struct pt_tag_verdict *b = verdict_of(f, v, "Busy", PT_POOL_PAGED);
	assert_int_equal(b->verdict, PT_VERDICT_OK);
	assert_int_equal(b->at_wend.bytes, 30 * 1000);
	assert_int_equal(b->at_end.bytes, 0);
	assert_true(b->drained == 1.0);
	assert_int_equal(verdict_of(f, v, "Tail", PT_POOL_PAGED)->verdict, PT_VERDICT_OK);
	free(v);
	fx_free(f);
}

static void test_verdict_option_overrides_marker(void **state)
{
	(void)state;
	struct pt_replay_opts o = {0};
	o.has_wend = true;
	o.wend_ns = 30 * S + 5;
	struct fx *f = fx_new(&o);
	scenario(f, true);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	const struct pt_phases *ph = pt_replay_phases(f->rp);
	assert_int_equal(ph->wend_src, PT_PHASE_OPTION);
	assert_int_equal(ph->wend_ns, 30 * S + 5);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	/* exact capture at 30 s: 31 leak allocations (0..30 s) */
	assert_int_equal(verdict_of(f, v, "Leak", PT_POOL_NONPAGED)->at_wend.bytes, 31 * 256);
	assert_int_equal(verdict_of(f, v, "Leak", PT_POOL_NONPAGED)->verdict, PT_VERDICT_LEAK);
	free(v);
	fx_free(f);
}

static void test_auto_phase_from_rate(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	scenario_bg(f, false, true);
	assert_int_equal(pt_replay_finish(f->rp, 100 * S), 0);
	const struct pt_phases *ph = pt_replay_phases(f->rp);
	/* the event rate drops after 60 s (and the drain at 61 s): detected */
	assert_int_equal(ph->wend_src, PT_PHASE_AUTO);
	assert_int_equal(ph->wstart_src, PT_PHASE_DEFAULT);
	assert_true(ph->wend_ns >= 60 * S && ph->wend_ns <= 64 * S);
	assert_int_equal(pt_replay_totals(f->rp)->out_of_order, 0);
	assert_int_equal(pt_replay_end_ns(f->rp), 100 * S);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	assert_int_equal(verdict_of(f, v, "Leak", PT_POOL_NONPAGED)->verdict, PT_VERDICT_LEAK);
	assert_int_equal(verdict_of(f, v, "Busy", PT_POOL_PAGED)->verdict, PT_VERDICT_OK);
	free(v);
	fx_free(f);
}

static void test_default_phase_last_quarter(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	/* an even rate to the end: no drop to detect */
	for (uint64_t i = 0; i < 1000; i++)
		ev(f, PT_EV_ALLOC, i * (S / 10), "Leak", PT_POOL_NONPAGED, 256, 0x1000 + i * 16);
	assert_int_equal(pt_replay_finish(f->rp, 100 * S), 0);
	const struct pt_phases *ph = pt_replay_phases(f->rp);
	assert_int_equal(ph->wend_src, PT_PHASE_DEFAULT);
	assert_int_equal(ph->wstart_src, PT_PHASE_DEFAULT);
	assert_int_equal(ph->wend_ns, 75 * S);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	/* kept allocating after the assumed workload end: nothing drained, but the
	 * end of the workload is only assumed, so it stays a suspect */
	assert_int_equal(v[0].verdict, PT_VERDICT_SUSPECT);
	assert_non_null(strstr(v[0].reason, "--workload-end"));
	free(v);
	fx_free(f);
}

static void test_no_cooldown_is_suspect(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	ev(f, PT_EV_ALLOC, 1 * S, "Grow", PT_POOL_PAGED, 10, 0x10);
	ev(f, PT_EV_ALLOC, 2 * S, "Grow", PT_POOL_PAGED, 10, 0x20);
	marker(f, 2 * S, "workload-end");
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	assert_int_equal(v[0].verdict, PT_VERDICT_SUSPECT);
	free(v);
	fx_free(f);
}

static void test_partial_drain_and_min_bytes(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	/* a burst early in the workload, then flat: no trend */
	for (uint64_t i = 0; i < 10; i++)
		ev(f, PT_EV_ALLOC, i * (S / 10), "Part", PT_POOL_PAGED, 100, 0x100 + i * 16);
	ev(f, PT_EV_ALLOC, 9 * S, "Flat", PT_POOL_PAGED, 1, 0x5555);
	ev(f, PT_EV_FREE, 9 * S + 1, "Flat", PT_POOL_PAGED, 0, 0x5555);
	marker(f, 10 * S, "workload-end");
	for (uint64_t i = 0; i < 3; i++)
		ev(f, PT_EV_FREE, 11 * S + i, "Part", PT_POOL_PAGED, 0, 0x100 + i * 16);
	ev(f, PT_EV_ALLOC, 20 * S, "Tiny", PT_POOL_PAGED, 8, 0x9999);
	assert_int_equal(pt_replay_finish(f->rp, 30 * S), 0);
	struct pt_verdict_opts o;
	pt_verdict_opts_init(&o);
	o.min_leak_bytes = 100;
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, &o, &v), 0);
	assert_int_equal(verdict_of(f, v, "Part", PT_POOL_PAGED)->verdict, PT_VERDICT_SUSPECT);
	assert_true(verdict_of(f, v, "Part", PT_POOL_PAGED)->drained > 0.29);
	/* Tiny grew after the workload: no growth during it */
	assert_int_equal(verdict_of(f, v, "Tiny", PT_POOL_PAGED)->verdict, PT_VERDICT_OK);
	free(v);
	fx_free(f);
}

/* Heavy churn that drains, with a small leak underneath: the troughs give it away. */
static void test_slow_leak_under_churn(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	uint64_t churn = 0x10000000, leak = 0x20000000;
	for (uint64_t ms = 0; ms < 100000; ms += 100) {
		/* churn: 50 KiB that stays live for 2 s */
		ev(f, PT_EV_ALLOC, ms * 1000000, "Chrn", PT_POOL_PAGED, 51200, churn + ms * 16);
		if (ms >= 2000)
			ev(f, PT_EV_FREE, ms * 1000000 + 1, "Chrn", PT_POOL_PAGED, 0, churn + (ms - 2000) * 16);
		if (ms % 1000 == 0) /* 64 bytes a second that are never freed */
			ev(f, PT_EV_ALLOC, ms * 1000000 + 2, "Chrn", PT_POOL_PAGED, 64, leak + ms);
	}
	marker(f, 100 * S, "workload-end");
	for (uint64_t ms = 98000; ms < 100000; ms += 100)
		ev(f, PT_EV_FREE, 101 * S + ms, "Chrn", PT_POOL_PAGED, 0, churn + ms * 16);
	assert_int_equal(pt_replay_finish(f->rp, 130 * S), 0);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	const struct pt_tag_verdict *c = verdict_of(f, v, "Chrn", PT_POOL_PAGED);
	assert_true(c->drained > 0.9); /* by the drain rule alone it would be ok */
	assert_int_equal(c->verdict, PT_VERDICT_LEAK);
	assert_int_equal(c->age.live_inside, 100);
	assert_int_equal(c->age.bytes_inside, 6400);
	assert_true(c->trend.valid && c->trend.slope_lo > 0);
	assert_int_equal(c->pattern, PT_PATTERN_STEADY);
	free(v);
	fx_free(f);
}

/* A sawtooth cache: fills, empties, fills again; troughs flat. */
static void test_sawtooth_is_ok(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	uint64_t base = 0x30000000;
	for (uint64_t cyc = 0; cyc < 20; cyc++) {
		for (uint64_t i = 0; i < 50; i++)
			ev(f, PT_EV_ALLOC, cyc * 5 * S + i * (S / 20), "Saw ", PT_POOL_NONPAGED, 4096,
			   base + i * 4096);
		for (uint64_t i = 0; i < 50; i++)
			ev(f, PT_EV_FREE, cyc * 5 * S + 3 * S + i, "Saw ", PT_POOL_NONPAGED, 0, base + i * 4096);
	}
	/* the last cycle's fill happens after the last flush: allocate once more at the end */
	for (uint64_t i = 0; i < 50; i++)
		ev(f, PT_EV_ALLOC, 100 * S + i, "Saw ", PT_POOL_NONPAGED, 4096, base + i * 4096);
	marker(f, 101 * S, "workload-end");
	for (uint64_t i = 0; i < 50; i++)
		ev(f, PT_EV_FREE, 110 * S + i, "Saw ", PT_POOL_NONPAGED, 0, base + i * 4096);
	assert_int_equal(pt_replay_finish(f->rp, 130 * S), 0);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	assert_int_equal(v[0].verdict, PT_VERDICT_OK);
	assert_int_equal(v[0].pattern, PT_PATTERN_SAWTOOTH);
	free(v);
	fx_free(f);
}

/* A cache that grows, then stays at its bound and never drains: suspect, not leak. */
static void test_plateau_is_suspect(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	for (uint64_t i = 0; i < 200; i++)
		ev(f, PT_EV_ALLOC, i * (S / 10), "Cach", PT_POOL_PAGED, 512, 0x40000000 + i * 512);
	/* then it recycles: free one, allocate one, 3 a second for the rest of the workload */
	for (uint64_t t = 0; t < 240; t++) {
		uint64_t a = 0x40000000 + (t % 200) * 512, ts = 20 * S + t * (S / 3);
		ev(f, PT_EV_FREE, ts, "Cach", PT_POOL_PAGED, 0, a);
		ev(f, PT_EV_ALLOC, ts + 1, "Cach", PT_POOL_PAGED, 512, a);
	}
	marker(f, 100 * S, "workload-end");
	ev(f, PT_EV_ALLOC, 120 * S, "Othr", PT_POOL_PAGED, 1, 0x1);
	assert_int_equal(pt_replay_finish(f->rp, 130 * S), 0);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	const struct pt_tag_verdict *c = verdict_of(f, v, "Cach", PT_POOL_PAGED);
	assert_int_equal(c->pattern, PT_PATTERN_PLATEAU);
	assert_int_equal(c->verdict, PT_VERDICT_SUSPECT);
	free(v);
	fx_free(f);
}

/* The same growth, but the objects stay where they are: a leak that stopped growing. */
static void test_stuck_plateau_is_leak(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	for (uint64_t i = 0; i < 200; i++)
		ev(f, PT_EV_ALLOC, i * (S / 10), "Stuk", PT_POOL_PAGED, 512, 0x40000000 + i * 512);
	/* busy with short-lived objects later, which do not add to the troughs */
	for (uint64_t t = 0; t < 240; t++) {
		uint64_t a = 0x48000000 + t * 512, ts = 20 * S + t * (S / 3);
		ev(f, PT_EV_ALLOC, ts, "Stuk", PT_POOL_PAGED, 512, a);
		ev(f, PT_EV_FREE, ts + 1000, "Stuk", PT_POOL_PAGED, 0, a);
	}
	marker(f, 100 * S, "workload-end");
	ev(f, PT_EV_ALLOC, 120 * S, "Othr", PT_POOL_PAGED, 1, 0x1);
	assert_int_equal(pt_replay_finish(f->rp, 130 * S), 0);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	const struct pt_tag_verdict *c = verdict_of(f, v, "Stuk", PT_POOL_PAGED);
	assert_int_equal(c->pattern, PT_PATTERN_PLATEAU);
	assert_int_equal(c->verdict, PT_VERDICT_LEAK);
	assert_int_equal(c->age.live_early, 200);
	free(v);
	fx_free(f);
}

/* Lost events: a tag whose few outstanding allocations match the loss rate is only a suspect. */
static void test_lost_events_lower_confidence(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	for (uint64_t i = 0; i < 10000; i++) {
		ev(f, PT_EV_ALLOC, i * (S / 100), "Lost", PT_POOL_PAGED, 100, 0x50000000 + i * 16);
		if (i % 100 != 7) /* one free in a hundred never arrives */
			ev(f, PT_EV_FREE, i * (S / 100) + 5, "Lost", PT_POOL_PAGED, 0, 0x50000000 + i * 16);
	}
	marker(f, 100 * S, "workload-end");
	ev(f, PT_EV_ALLOC, 120 * S, "Othr", PT_POOL_PAGED, 1, 0x1);
	assert_int_equal(pt_replay_finish(f->rp, 130 * S), 0);
	struct pt_verdict_opts o;
	pt_verdict_opts_init(&o);
	struct pt_tag_verdict *v;
	/* without lost events recorded: 100 allocations never freed, rising troughs: a leak */
	assert_int_equal(pt_judge(f->rp, &o, &v), 0);
	assert_int_equal(verdict_of(f, v, "Lost", PT_POOL_PAGED)->verdict, PT_VERDICT_LEAK);
	free(v);
	o.lost_known = true;
	o.events_lost = 100;
	assert_int_equal(pt_judge(f->rp, &o, &v), 0);
	const struct pt_tag_verdict *l = verdict_of(f, v, "Lost", PT_POOL_PAGED);
	assert_int_equal(l->verdict, PT_VERDICT_SUSPECT);
	assert_true(l->lost_events_matter);
	assert_non_null(strstr(l->reason, "lost"));
	free(v);
	fx_free(f);
}

/* Times near 2^64 ns (a hostile trace): the age bins neither divide by zero nor overflow. */
static void test_age_bins_extreme_times(void **state)
{
	(void)state;
	static const uint64_t ends[] = {UINT64_MAX, UINT64_MAX - 1, (uint64_t)1 << 62};
	for (int k = 0; k < 3; k++) {
		struct fx *f = fx_new(NULL);
		ev(f, PT_EV_ALLOC, 0, "Huge", PT_POOL_PAGED, 8, 0x10);
		ev(f, PT_EV_ALLOC, ends[k] / 2, "Huge", PT_POOL_PAGED, 8, 0x20);
		ev(f, PT_EV_ALLOC, ends[k], "Huge", PT_POOL_PAGED, 8, 0x30);
		assert_int_equal(pt_replay_finish(f->rp, ends[k]), 0);
		struct pt_tag_verdict *v;
		assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
		const struct pt_tag_verdict *a = verdict_of(f, v, "Huge", PT_POOL_PAGED);
		uint64_t sum = 0;
		for (int i = 0; i < PT_AGE_BINS; i++)
			sum += a->age.hist_count[i];
		assert_int_equal(sum, 3);
		assert_int_equal(a->age.hist_count[0], 1);
		assert_int_equal(a->age.hist_count[PT_AGE_BINS - 1], 1);
		free(v);
		fx_free(f);
	}
}

static void test_age_and_pids(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct pt_event e;
	for (uint64_t i = 0; i < 30; i++) {
		if (i == 10)
			marker(f, 10 * S, "workload-start");
		if (i == 26)
			marker(f, 25 * S, "workload-end");
		pt_event_init(&e);
		e.kind = PT_EV_ALLOC;
		e.ts_ns = i * S;
		e.tag = tag(f, "Ages");
		e.pool = PT_POOL_PAGED;
		e.size = 10;
		e.addr = 0x1000 + i * 16;
		e.pid = i < 20 ? 100 : 200;
		e.tid = 7;
		assert_int_equal(pt_replay_event(f->rp, &e), 0);
	}
	ev(f, PT_EV_ALLOC, 40 * S, "Othr", PT_POOL_PAGED, 1, 0x1);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	const struct pt_tag_verdict *a = verdict_of(f, v, "Ages", PT_POOL_PAGED);
	assert_int_equal(a->age.live_before, 10); /* 0..9 s */
	assert_int_equal(a->age.live_inside, 16); /* 10..25 s */
	assert_int_equal(a->age.live_after, 4);   /* 26..29 s */
	assert_int_equal(a->age.noldest, PT_OLDEST_MAX);
	assert_int_equal(a->age.oldest[0].ts_ns, 0);
	assert_int_equal(a->age.oldest[4].ts_ns, 4 * S);
	assert_int_equal(a->age.oldest[0].tid, 7);
	uint64_t hist = 0;
	for (int i = 0; i < PT_AGE_BINS; i++)
		hist += a->age.hist_count[i];
	assert_int_equal(hist, 30);
	assert_int_equal(a->npids, 2);
	assert_int_equal(a->pids[0].pid, 100);
	assert_int_equal(a->pids[0].bytes, 200);
	assert_int_equal(a->pids[1].pid, 200);
	free(v);
	fx_free(f);
}

static void test_timeline_bounded(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	/* one hour, an event every 100 ms: the automatic timeline stays small */
	for (uint64_t i = 0; i < 36000; i++)
		ev(f, PT_EV_ALLOC, i * (S / 10), "Tick", PT_POOL_PAGED, 1, 0x1000 + i * 16);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	const struct pt_tagstat *t = find(f, "Tick", PT_POOL_PAGED);
	assert_true(t->nseries <= 128);
	assert_true(t->nseries >= 64);
	uint32_t nb = pt_replay_nbuckets(f->rp);
	assert_true(nb >= 64 && nb <= 129);
	struct pt_counts c;
	pt_tagstat_bucket(f->rp, t, nb - 1, &c);
	assert_int_equal(c.allocs, 36000);
	struct pt_counts h;
	pt_tagstat_at(f->rp, t, 1800 * S, &h);
	assert_true(h.allocs >= 18000 && h.allocs < 36000);
	fx_free(f);
}

static void test_live_map_growth_and_removal(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	/* many live entries, freed in another order: every one stays reachable */
	for (uint64_t i = 1; i <= 50000; i++)
		ev(f, PT_EV_ALLOC, i, "Map ", PT_POOL_PAGED, i, i * 4096);
	for (uint64_t i = 1; i <= 50000; i += 2)
		ev(f, PT_EV_FREE, 60000 + i, "Map ", PT_POOL_PAGED, 0, i * 4096);
	for (uint64_t i = 50000; i >= 2; i -= 2)
		ev(f, PT_EV_FREE, 120000 + (50000 - i), "Map ", PT_POOL_PAGED, 0, i * 4096);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	const struct pt_tagstat *m = find(f, "Map ", PT_POOL_PAGED);
	assert_int_equal(m->now.live, 0);
	assert_int_equal(m->now.bytes, 0);
	assert_int_equal(m->now.frees, 50000);
	assert_int_equal(pt_replay_totals(f->rp)->unmatched_frees, 0);
	fx_free(f);
}

static void test_snapshot_rows(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct pt_event e;
	for (uint64_t i = 0; i < 3; i++) {
		pt_event_init(&e);
		e.kind = PT_EV_SNAPSHOT;
		e.ts_ns = i * 1800 * S;
		e.tag = tag(f, "Strg");
		e.pool = PT_POOL_PAGED;
		e.snap_allocs = 100 + i * 10;
		e.snap_frees = 50;
		e.size = 1000 + i * 100;
		assert_int_equal(pt_replay_event(f->rp, &e), 0);
	}
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	const struct pt_tagstat *s = find(f, "Strg", PT_POOL_PAGED);
	assert_int_equal(s->now.allocs, 120);
	assert_int_equal(s->now.bytes, 1200);
	assert_int_equal(pt_counts_diff(&s->now), 70);
	fx_free(f);
}

static void test_marker_words(void **state)
{
	(void)state;
	assert_int_equal(pt_marker_phase("workload-start"), 1);
	assert_int_equal(pt_marker_phase("Workload Start"), 1);
	assert_int_equal(pt_marker_phase("workload-end"), 2);
	assert_int_equal(pt_marker_phase("workload-end: exit 0"), 2);
	assert_int_equal(pt_marker_phase("  WORKLOAD_STOP\n"), 2);
	assert_int_equal(pt_marker_phase("endless"), 0);
	assert_int_equal(pt_marker_phase("something else"), 0);
	assert_int_equal(pt_marker_phase(NULL), 0);
}

static void test_out_of_order_clamped(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	ev(f, PT_EV_ALLOC, 100, "Ooo ", PT_POOL_PAGED, 1, 0x10);
	ev(f, PT_EV_ALLOC, 50, "Ooo ", PT_POOL_PAGED, 1, 0x20);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	assert_int_equal(pt_replay_totals(f->rp)->out_of_order, 1);
	assert_int_equal(pt_replay_end_ns(f->rp), 100);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_and_counts),
		cmocka_unit_test(test_unmatched_and_double),
		cmocka_unit_test(test_big_sizes),
		cmocka_unit_test(test_verdict_marker),
		cmocka_unit_test(test_verdict_option_overrides_marker),
		cmocka_unit_test(test_auto_phase_from_rate),
		cmocka_unit_test(test_default_phase_last_quarter),
		cmocka_unit_test(test_no_cooldown_is_suspect),
		cmocka_unit_test(test_partial_drain_and_min_bytes),
		cmocka_unit_test(test_slow_leak_under_churn),
		cmocka_unit_test(test_sawtooth_is_ok),
		cmocka_unit_test(test_plateau_is_suspect),
		cmocka_unit_test(test_stuck_plateau_is_leak),
		cmocka_unit_test(test_lost_events_lower_confidence),
		cmocka_unit_test(test_age_and_pids),
		cmocka_unit_test(test_age_bins_extreme_times),
		cmocka_unit_test(test_timeline_bounded),
		cmocka_unit_test(test_live_map_growth_and_removal),
		cmocka_unit_test(test_live_foreach_ahead),
		cmocka_unit_test(test_snapshot_rows),
		cmocka_unit_test(test_marker_words),
		cmocka_unit_test(test_out_of_order_clamped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
