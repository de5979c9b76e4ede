/* SPDX-License-Identifier: MIT */
/*
 * Replay engine.
 *
 * - Entries: one struct pt_tagstat per (tag, pool type), found through an
 *   open-addressing index keyed by (tag << 4 | pool).
 * - Live map (livemap.h): open addressing keyed by address, in groups of
 *   16 slots scanned through one control byte per slot (SSE2), so a probe
 *   costs few instructions and branches even at a 75 % load factor. One
 *   32-byte slot and one control byte per live allocation.
 * - Speed (docs/performance.md, "Replay"): pt_replay_events() takes events
 *   in batches and prefetches the live-map slot of an event a few events
 *   ahead, so the cache miss of a random address overlaps the work on the
 *   events before it; the (tag, pool) entry of an event is found through a
 *   per-tag array first; the timeline bucket is recomputed (a division) only
 *   when an event leaves the current bucket.
 * - Timeline: sparse per-entry series of bucket-end counters. In automatic
 *   mode the bucket width starts at 1 us and doubles (merging neighbouring
 *   buckets) whenever the trace outgrows PT_AUTO_BUCKETS, so memory per
 *   entry is bounded whatever the trace length.
 * - Captures: exact counters of every entry at workload start/end and at
 *   --at, taken just before the first event past that time.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "livemap.h"
#include "pooltrace/error.h"
#include "pooltrace/util.h"
#include "pooltrace/reader.h"
#include "pooltrace/replay.h"
#include "stacks.h"

#define PT_AUTO_BUCKETS 128u        /* automatic mode: 64..128 points */
#define PT_MAX_BUCKETS 65536u       /* fixed --interval: doubled past this */
#define PT_AUTO_START_NS 1000ull /* 1 us */

#define NO_STAT UINT32_MAX
#define BYTAG_MAX (1u << 20) /* tag ids past this use the hash index only */

/*
 * The last pool events with an address, so a stack that arrives after its
 * event can be joined to it (ETW logs the StackWalk event right after the
 * event it belongs to; other CPUs' events may come in between).
 */
#define RECENT 512u
struct recent {
	uint64_t ts_ns; /* as the reader gave it (before any clamping) */
	uint64_t addr;
};
#define RECENT_FREE (1ull << 32) /* in recent_tid: the event was a free */

/* A capture asked for on the command line. */
struct pending_cap {
	uint64_t ns;
	enum pt_capture which;
};

struct pt_replay {
	const struct pt_tags *tags;
	struct pt_replay_opts opts;

	struct pt_tagstat *stats;
	size_t nstats, stats_cap;
	uint64_t *sidx_key; /* (tag << 4 | pool) + 1, 0 = empty */
	uint32_t *sidx_val;
	size_t sidx_mask;
	/* fast path in front of the index: tag id -> the entry of the tag's last pool */
	uint32_t *bytag;
	size_t bytag_n;

	struct pt__livemap live;

	uint64_t interval_ns;
	bool auto_interval;
	uint32_t cur_bucket;
	uint64_t bucket_lo_ns;  /* start of cur_bucket: events before the next edge skip the division */
	uint64_t last_ns;
	bool any_event;
	/*
	 * The first time at which an event needs more than the common path: the
	 * end of the current bucket, a pending capture, or 0 before the first
	 * event. One compare per event instead of three.
	 */
	uint64_t next_edge_ns;

	/* pending captures from options, in time order */
	struct pending_cap pend[PT_CAP_COUNT_];
	size_t npend, next_pend;
	uint64_t cap_ns[PT_CAP_COUNT_];
	bool cap_taken[PT_CAP_COUNT_];

	uint64_t *rate;        /* pool events per bucket */
	uint32_t rate_cap;

	/* stacks and images: NULL until the first such event */
	struct pt__stacks *stk;
	struct recent recent[RECENT];
	uint64_t recent_tid[RECENT]; /* tid, | RECENT_FREE for a free */
	uint32_t recent_i;

	struct pt_phases phases;
	struct pt_replay_totals totals;
	uint64_t end_ns;
	bool finished;
};

struct pt_replay *pt_replay_new(const struct pt_tags *tags, const struct pt_replay_opts *opts)
{
	struct pt_replay *rp = calloc(1, sizeof(*rp));
	if (!rp)
		return NULL;
	rp->tags = tags;
	if (opts)
		rp->opts = *opts;
	if (!rp->opts.max_live)
		rp->opts.max_live = 100000000ull;
	rp->auto_interval = rp->opts.interval_ns == 0;
	rp->interval_ns = rp->auto_interval ? PT_AUTO_START_NS : rp->opts.interval_ns;
	rp->sidx_mask = 255;
	rp->sidx_key = calloc(rp->sidx_mask + 1, sizeof(*rp->sidx_key));
	rp->sidx_val = calloc(rp->sidx_mask + 1, sizeof(*rp->sidx_val));
	rp->rate_cap = 64;
	rp->rate = calloc(rp->rate_cap, sizeof(*rp->rate));
	if (!rp->sidx_key || !rp->sidx_val || !rp->rate || pt__live_init(&rp->live) < 0) {
		pt_replay_free(rp);
		return NULL;
	}
	/* captures requested on the command line, sorted by time */
	if (rp->opts.has_wstart) {
		rp->pend[rp->npend].ns = rp->opts.wstart_ns;
		rp->pend[rp->npend++].which = PT_CAP_WSTART;
		rp->phases.wstart_ns = rp->opts.wstart_ns;
		rp->phases.wstart_src = PT_PHASE_OPTION;
	}
	if (rp->opts.has_wend) {
		rp->pend[rp->npend].ns = rp->opts.wend_ns;
		rp->pend[rp->npend++].which = PT_CAP_WEND;
		rp->phases.wend_ns = rp->opts.wend_ns;
		rp->phases.wend_src = PT_PHASE_OPTION;
	}
	if (rp->opts.has_at) {
		rp->pend[rp->npend].ns = rp->opts.at_ns;
		rp->pend[rp->npend++].which = PT_CAP_AT;
	}
	for (size_t i = 1; i < rp->npend; i++)
		for (size_t j = i; j > 0 && rp->pend[j].ns < rp->pend[j - 1].ns; j--) {
			struct pending_cap tmp = rp->pend[j];
			rp->pend[j] = rp->pend[j - 1];
			rp->pend[j - 1] = tmp;
		}
	return rp;
}

void pt_replay_free(struct pt_replay *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->nstats; i++)
		free(rp->stats[i].series);
	free(rp->stats);
	free(rp->sidx_key);
	free(rp->sidx_val);
	free(rp->bytag);
	pt__live_release(&rp->live);
	free(rp->rate);
	pt__stacks_free(rp->stk);
	free(rp);
}

/* ---- (tag, pool) entries ---- */

static int grow_sidx(struct pt_replay *rp)
{
	size_t ncap = (rp->sidx_mask + 1) * 2;
	uint64_t *nk = calloc(ncap, sizeof(*nk));
	uint32_t *nv = calloc(ncap, sizeof(*nv));
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return PT_ENOMEM;
	}
	for (size_t i = 0; i <= rp->sidx_mask; i++) {
		if (!rp->sidx_key[i])
			continue;
		size_t h = pt__mix64_half(rp->sidx_key[i]) & (ncap - 1);
		while (nk[h])
			h = (h + 1) & (ncap - 1);
		nk[h] = rp->sidx_key[i];
		nv[h] = rp->sidx_val[i];
	}
	free(rp->sidx_key);
	free(rp->sidx_val);
	rp->sidx_key = nk;
	rp->sidx_val = nv;
	rp->sidx_mask = ncap - 1;
	return 0;
}

/* Index of the entry for (tag, pool), created when new. <0 on error. */
static int64_t stat_for(struct pt_replay *rp, pt_tag_id tag, enum pt_pool pool)
{
	uint64_t key = (((uint64_t)tag << 4) | (uint64_t)pool) + 1;
	size_t h = pt__mix64_half(key) & rp->sidx_mask;
	while (rp->sidx_key[h]) {
		if (rp->sidx_key[h] == key)
			return rp->sidx_val[h];
		h = (h + 1) & rp->sidx_mask;
	}
	if (rp->nstats == rp->stats_cap) {
		size_t ncap = rp->stats_cap ? rp->stats_cap * 2 : 64;
		struct pt_tagstat *ns = realloc(rp->stats, ncap * sizeof(*ns));
		if (!ns)
			return PT_ENOMEM;
		rp->stats = ns;
		rp->stats_cap = ncap;
	}
	struct pt_tagstat *st = &rp->stats[rp->nstats];
	memset(st, 0, sizeof(*st));
	st->tag = tag;
	st->pool = pool;
	rp->sidx_key[h] = key;
	rp->sidx_val[h] = (uint32_t)rp->nstats;
	int64_t idx = (int64_t)rp->nstats++;
	if (rp->nstats * 2 > rp->sidx_mask + 1 && grow_sidx(rp) < 0)
		return PT_ENOMEM;
	return idx;
}

/*
 * Remember idx as the entry of tag (ids are dense, so a plain array). The tag
 * table is not consulted: a reader thread may be interning into it.
 */
static void bytag_note(struct pt_replay *rp, pt_tag_id tag, uint32_t idx)
{
	if (tag >= BYTAG_MAX)
		return;
	if (tag >= rp->bytag_n) {
		size_t n = rp->bytag_n ? rp->bytag_n : 64;
		while (n <= tag)
			n *= 2;
		uint32_t *nb = realloc(rp->bytag, n * sizeof(*nb));
		if (!nb)
			return; /* the hash index still answers */
		for (size_t i = rp->bytag_n; i < n; i++)
			nb[i] = NO_STAT;
		rp->bytag = nb;
		rp->bytag_n = n;
	}
	rp->bytag[tag] = idx;
}

/* stat_for() with the per-tag array in front. */
static inline int64_t stat_lookup(struct pt_replay *rp, pt_tag_id tag, enum pt_pool pool)
{
	if (tag < rp->bytag_n) {
		uint32_t i = rp->bytag[tag];
		if (i != NO_STAT && rp->stats[i].pool == pool)
			return i;
	}
	int64_t i = stat_for(rp, tag, pool);
	if (i >= 0)
		bytag_note(rp, tag, (uint32_t)i);
	return i;
}

/* ---- timeline ---- */

/*
 * *dst = st->now, right after an event changed some of its counters. Copied
 * one 8-byte word at a time: GCC copies the struct with 16-byte loads, which
 * cannot take their data from the 8-byte stores of the counters still in
 * flight (a store-forwarding stall on every event: perf put about a sixth
 * of the batch loop's samples on that copy). The empty asm keeps each word a
 * separate load.
 */
_Static_assert(sizeof(struct pt_counts) == 4 * sizeof(uint64_t),
	       "counts_copy() copies every field of struct pt_counts");
static inline void counts_copy(struct pt_counts *dst, const struct pt_counts *src)
{
	uint64_t a = src->allocs, f = src->frees, b = src->bytes, l = src->live;
#if defined(__GNUC__) || defined(__clang__)
	__asm__("" : "+r"(a), "+r"(f), "+r"(b), "+r"(l));
#endif
	dst->allocs = a;
	dst->frees = f;
	dst->bytes = b;
	dst->live = l;
}

/* series_note() when the entry has no point for bucket yet: append one. */
static void series_add(struct pt_tagstat *st, uint32_t bucket, uint64_t prev_bytes)
{
	if (st->nseries == st->series_cap) {
		uint32_t ncap = st->series_cap ? st->series_cap * 2 : 8;
		struct pt_series_point *np = realloc(st->series, ncap * sizeof(*np));
		if (!np)
			return; /* keep going with a coarser series; counters stay exact */
		st->series = np;
		st->series_cap = ncap;
	}
	st->series[st->nseries].bucket = bucket;
	counts_copy(&st->series[st->nseries].c, &st->now);
	st->series[st->nseries].min_bytes = prev_bytes < st->now.bytes ? prev_bytes : st->now.bytes;
	st->nseries++;
}

/* The entry's last point is bucket's: bring it up to date. @return false when bucket needs a new point. */
static inline bool series_update_last(struct pt_tagstat *st, uint32_t bucket)
{
	if (!st->nseries)
		return false;
	struct pt_series_point *p = &st->series[st->nseries - 1];
	if (p->bucket != bucket)
		return false;
	counts_copy(&p->c, &st->now);
	if (st->now.bytes < p->min_bytes)
		p->min_bytes = st->now.bytes;
	return true;
}

/* Record the entry's counters for bucket; prev_bytes is what it held before this event. */
static inline void series_note(struct pt_tagstat *st, uint32_t bucket, uint64_t prev_bytes)
{
	if (!series_update_last(st, bucket))
		series_add(st, bucket, prev_bytes);
}

/* Double the bucket width: bucket b becomes b / 2, the later point wins. */
static void timeline_coarsen(struct pt_replay *rp)
{
	rp->interval_ns *= 2;
	rp->cur_bucket /= 2;
	rp->bucket_lo_ns = (uint64_t)rp->cur_bucket * rp->interval_ns;
	for (size_t i = 0; i < rp->nstats; i++) {
		struct pt_tagstat *st = &rp->stats[i];
		uint32_t o = 0;
		for (uint32_t k = 0; k < st->nseries; k++) {
			uint32_t nb = st->series[k].bucket / 2;
			if (o && st->series[o - 1].bucket == nb) {
				struct pt_series_point *p = &st->series[o - 1];
				p->c = st->series[k].c;
				if (st->series[k].min_bytes < p->min_bytes)
					p->min_bytes = st->series[k].min_bytes;
			} else {
				st->series[o] = st->series[k];
				st->series[o].bucket = nb;
				o++;
			}
		}
		st->nseries = o;
	}
	for (uint32_t b = 0; b < rp->rate_cap; b++) {
		uint64_t v = rp->rate[b];
		rp->rate[b] = 0;
		rp->rate[b / 2] += v;
	}
}

static uint32_t bucket_for(struct pt_replay *rp, uint64_t ts)
{
	uint32_t limit = rp->auto_interval ? PT_AUTO_BUCKETS : PT_MAX_BUCKETS;
	while (ts / rp->interval_ns >= limit)
		timeline_coarsen(rp);
	return (uint32_t)(ts / rp->interval_ns);
}

/* ---- captures ---- */

static void take_capture(struct pt_replay *rp, enum pt_capture which, uint64_t ns)
{
	for (size_t i = 0; i < rp->nstats; i++) {
		rp->stats[i].cap[which] = rp->stats[i].now;
		rp->stats[i].captured[which] = true;
	}
	/* entries created later start from zero at this capture */
	rp->cap_ns[which] = ns;
	rp->cap_taken[which] = true;
}

static void flush_pending(struct pt_replay *rp, uint64_t ts, bool all)
{
	while (rp->next_pend < rp->npend && (all || rp->pend[rp->next_pend].ns < ts)) {
		take_capture(rp, rp->pend[rp->next_pend].which, rp->pend[rp->next_pend].ns);
		rp->next_pend++;
	}
}

int pt_marker_phase(const char *text)
{
	static const char *const starts[] = {"workload-start", "workload start", "workload_start",
					     "workloadstart", "start-workload", "test-start",
					     "test start", "start"};
	static const char *const ends[] = {"workload-end",  "workload end",  "workload_end",
					   "workloadend",   "workload-stop", "workload stop",
					   "workload_stop", "end-workload",  "test-end",
					   "test end",      "test-stop",     "test stop",
					   "stop",          "end"};
	if (!text)
		return 0;
	while (*text == ' ' || *text == '\t')
		text++;
	size_t n = strlen(text);
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < sizeof(starts) / sizeof(*starts); i++) {
		size_t l = strlen(starts[i]);
		/* the word alone, or followed by ':' / ' ' and details */
		if (n >= l && !strncasecmp(text, starts[i], l) &&
		    (n == l || text[l] == ':' || text[l] == ' ' || text[l] == '='))
			return 1;
	}
	for (size_t i = 0; i < sizeof(ends) / sizeof(*ends); i++) {
		size_t l = strlen(ends[i]);
		if (n >= l && !strncasecmp(text, ends[i], l) &&
		    (n == l || text[l] == ':' || text[l] == ' ' || text[l] == '='))
			return 2;
	}
	return 0;
}

static void on_marker(struct pt_replay *rp, const struct pt_event *ev)
{
	int ph = pt_marker_phase(ev->marker);
	if (ph == 1 && rp->phases.wstart_src != PT_PHASE_OPTION &&
	    rp->phases.wstart_src != PT_PHASE_MARKER) {
		/* the first start marker counts */
		rp->phases.wstart_ns = ev->ts_ns;
		rp->phases.wstart_src = PT_PHASE_MARKER;
		snprintf(rp->phases.wstart_marker, sizeof(rp->phases.wstart_marker), "%s",
			 ev->marker);
		take_capture(rp, PT_CAP_WSTART, ev->ts_ns);
	} else if (ph == 2 && rp->phases.wend_src != PT_PHASE_OPTION) {
		/* the last end marker counts */
		rp->phases.wend_ns = ev->ts_ns;
		rp->phases.wend_src = PT_PHASE_MARKER;
		snprintf(rp->phases.wend_marker, sizeof(rp->phases.wend_marker), "%s", ev->marker);
		take_capture(rp, PT_CAP_WEND, ev->ts_ns);
	}
}

/* ---- events ---- */

static inline void note_peak(struct pt_tagstat *st, uint64_t ts)
{
	if (st->now.bytes > st->peak_bytes) {
		st->peak_bytes = st->now.bytes;
		st->peak_ns = ts;
	}
}

/* touch() when the entry has no point for bucket yet. */
static void touch_new(struct pt_tagstat *st, uint64_t ts, uint32_t bucket, uint64_t prev_bytes)
{
	if (!st->nseries)
		st->first_ns = ts; /* first touch: every touch adds a series point */
	series_add(st, bucket, prev_bytes);
}

static inline void touch(struct pt_tagstat *st, uint64_t ts, uint32_t bucket, uint64_t prev_bytes)
{
	st->last_ns = ts;
	if (!series_update_last(st, bucket))
		touch_new(st, ts, bucket, prev_bytes);
}

/* A live allocation of entry si was displaced or freed: take it off the entry. */
static inline void drop_live(struct pt_tagstat *st, uint64_t size)
{
	st->now.bytes -= size;
	st->now.live--;
}

PT__ALWAYS_INLINE int on_alloc(struct pt_replay *rp, const struct pt_event *ev, uint64_t ts,
			      uint32_t bucket, uint64_t h)
{
	int64_t si = stat_lookup(rp, ev->tag, ev->pool);
	if (si < 0)
		return (int)si;
	struct pt_tagstat *st = &rp->stats[si];
	uint64_t prev = st->now.bytes;
	st->now.allocs++;
	st->alloc_bytes_total += ev->size;
	rp->totals.allocs++;
	if (ev->addr) {
		bool found;
		struct pt__live_slot *s = pt__live_lookup(&rp->live, ev->addr, h, &found);
		if (found) {
			/* still live: its free was lost; the new allocation replaces it in place */
			struct pt_tagstat *old = &rp->stats[s->stat];
			uint64_t old_prev = old->now.bytes, old_size = pt__live_size(&rp->live, s);
			drop_live(old, old_size);
			old->displaced_bytes += old_size;
			st->double_allocs++;
			rp->totals.double_allocs++;
			if (old != st)
				series_note(old, bucket, old_prev);
		} else {
			if (rp->live.n >= rp->opts.max_live) {
				rp->totals.live_dropped++; /* the cap on tracked allocations */
				goto untracked;
			}
			if (!pt__live_room(&rp->live)) {
				if (pt__live_rebuild(&rp->live) < 0)
					return PT_ENOMEM;
				s = pt__live_lookup(&rp->live, ev->addr, h, &found);
			}
			pt__live_insert(&rp->live, s, ev->addr, h);
			s->size = 0; /* no side-map entry yet */
		}
		if (pt__live_set_size(&rp->live, s, ev->size) < 0) {
			pt__live_remove(&rp->live, s);
			return PT_ENOMEM;
		}
		s->ts_ns = ts;
		s->stat = (uint32_t)si;
		s->pid = ev->pid;
		s->tid = ev->tid;
		st->now.bytes += ev->size;
		st->now.live++;
	} else {
		/* no address: cannot be matched; count bytes as outstanding */
		st->now.bytes += ev->size;
		st->now.live++;
	}
untracked:
	note_peak(st, ts);
	touch(st, ts, bucket, prev);
	return 0;
}

PT__ALWAYS_INLINE int on_free(struct pt_replay *rp, const struct pt_event *ev, uint64_t ts,
			     uint32_t bucket, uint64_t h)
{
	rp->totals.frees++;
	if (!ev->addr) {
		rp->totals.null_frees++;
		return 0;
	}
	bool found;
	struct pt__live_slot *s = pt__live_lookup(&rp->live, ev->addr, h, &found);
	if (found) {
		struct pt_tagstat *st = &rp->stats[s->stat];
		uint64_t prev = st->now.bytes;
		st->now.frees++;
		drop_live(st, pt__live_size(&rp->live, s));
		pt__live_remove(&rp->live, s);
		touch(st, ts, bucket, prev);
		return 0;
	}
	rp->totals.unmatched_frees++;
	if (ev->tag == PT_TAG_NONE)
		return 0; /* e.g. kfree of an object allocated before the trace: no tag known */
	int64_t si = stat_lookup(rp, ev->tag, ev->pool);
	if (si < 0)
		return (int)si;
	struct pt_tagstat *st = &rp->stats[si];
	st->now.frees++;
	st->unmatched_frees++;
	touch(st, ts, bucket, st->now.bytes);
	return 0;
}

static int on_snapshot(struct pt_replay *rp, const struct pt_event *ev, uint64_t ts,
		       uint32_t bucket)
{
	int64_t si = stat_lookup(rp, ev->tag, ev->pool);
	if (si < 0)
		return (int)si;
	struct pt_tagstat *st = &rp->stats[si];
	uint64_t prev = st->now.bytes;
	rp->totals.snapshots++;
	st->now.allocs = ev->snap_allocs;
	st->now.frees = ev->snap_frees;
	st->now.bytes = ev->size;
	st->now.live = ev->snap_allocs > ev->snap_frees ? ev->snap_allocs - ev->snap_frees : 0;
	note_peak(st, ts);
	/* a snapshot is a sample, not a change: the bucket's trough is the sample itself */
	touch(st, ts, bucket, st->nseries ? prev : st->now.bytes);
	return 0;
}

/* ---- stacks and images ---- */

/* A stack: join it to a recent pool event of the same thread and time. */
static int on_stack(struct pt_replay *rp, const struct pt_event *ev)
{
	rp->totals.stacks++;
	const struct recent *hit = NULL;
	bool hit_free = false;
	for (uint32_t k = 1; k <= RECENT; k++) {
		uint32_t at = (rp->recent_i - k) & (RECENT - 1);
		const struct recent *c = &rp->recent[at];
		if (!c->addr)
			break; /* never written */
		uint32_t tid = (uint32_t)rp->recent_tid[at];
		if (c->ts_ns == ev->stack_ts_ns &&
		    (tid == ev->tid || tid == PT_NONE32 || ev->tid == PT_NONE32)) {
			hit = c;
			hit_free = (rp->recent_tid[at] & RECENT_FREE) != 0;
			break;
		}
	}
	if (!hit) {
		rp->totals.stacks_unmatched++;
		return 0;
	}
	if (hit_free) {
		rp->totals.stacks_free++;
		return 0;
	}
	bool live;
	(void)pt__live_lookup(&rp->live, hit->addr, pt__live_hash(&rp->live, hit->addr), &live);
	if (!live) {
		rp->totals.stacks_not_live++; /* freed already, or not tracked (max_live) */
		return 0;
	}
	uint32_t id;
	uint32_t n = ev->frames ? ev->nframes : 0;
	int rc = pt__stacks_intern(rp->stk, ev->pid, ev->frames, n, &id);
	if (rc < 0)
		return rc;
	if (id == UINT32_MAX) {
		rp->totals.stacks_dropped++;
		return 0;
	}
	rc = pt__stacks_bind(rp->stk, hit->addr, id);
	if (rc < 0)
		return rc;
	rp->totals.stacks_joined++;
	return 0;
}

static int on_aux(struct pt_replay *rp, const struct pt_event *ev)
{
	if (!rp->stk) {
		rp->stk = pt__stacks_new();
		if (!rp->stk)
			return PT_ENOMEM;
	}
	if (ev->kind == PT_EV_STACK)
		return on_stack(rp, ev);
	rp->totals.images++;
	int rc = pt__stacks_image(rp->stk, ev->addr, ev->size, ev->pid, ev->marker);
	return rc < 0 ? rc : 0;
}

/* Remember a pool event for on_stack(). */
static inline void note_recent(struct pt_replay *rp, const struct pt_event *ev, uint64_t is_free)
{
	uint32_t at = rp->recent_i++ & (RECENT - 1);
	rp->recent[at].ts_ns = ev->ts_ns;
	rp->recent[at].addr = ev->addr;
	rp->recent_tid[at] = ev->tid | is_free;
}

/* The event left the current bucket: find its bucket (coarsening as needed), grow the rate array. */
static int enter_bucket(struct pt_replay *rp, uint64_t ts)
{
	uint32_t bucket = bucket_for(rp, ts);
	if (bucket >= rp->rate_cap) {
		uint32_t ncap = rp->rate_cap ? rp->rate_cap : 64;
		while (ncap <= bucket)
			ncap *= 2;
		uint64_t *nr = realloc(rp->rate, ncap * sizeof(*nr));
		if (!nr)
			return PT_ENOMEM;
		memset(nr + rp->rate_cap, 0, (ncap - rp->rate_cap) * sizeof(*nr));
		rp->rate = nr;
		rp->rate_cap = ncap;
	}
	rp->cur_bucket = bucket;
	rp->bucket_lo_ns = (uint64_t)bucket * rp->interval_ns;
	return 0;
}

/* Recompute next_edge_ns after the first event, a capture or a bucket change. */
static void set_next_edge(struct pt_replay *rp)
{
	uint64_t e = rp->interval_ns > UINT64_MAX - rp->bucket_lo_ns ? UINT64_MAX
								     : rp->bucket_lo_ns + rp->interval_ns;
	/* a capture is taken before the first event past its time */
	if (rp->next_pend < rp->npend && rp->pend[rp->next_pend].ns < e)
		e = rp->pend[rp->next_pend].ns + 1;
	rp->next_edge_ns = e;
}

/*
 * The event at ts reached next_edge_ns: note the first event, take the
 * captures it passed, move to its bucket. ts >= bucket_lo_ns here (time
 * never goes back), so one compare tells whether the bucket changes.
 */
static int at_edge(struct pt_replay *rp, uint64_t ts)
{
	if (!rp->any_event) {
		rp->any_event = true;
		rp->totals.first_ns = ts;
	}
	if (rp->next_pend < rp->npend)
		flush_pending(rp, ts, false);
	if (ts - rp->bucket_lo_ns >= rp->interval_ns) {
		int rc = enter_bucket(rp, ts);
		if (rc < 0)
			return rc;
	}
	set_next_edge(rp);
	return 0;
}

/* Totals that the per-event path leaves to the end of a batch. */
static inline void sync_totals(struct pt_replay *rp)
{
	rp->totals.last_ns = rp->last_ns;
	rp->totals.live = rp->live.n;
}

/*
 * The start of every event but stacks and images: clamp a time that went
 * back, pass the next edge. @return 0 or a negative PT_E* code.
 */
PT__ALWAYS_INLINE int enter_event(struct pt_replay *rp, const struct pt_event *ev, uint64_t *tsp)
{
	uint64_t ts = ev->ts_ns;
	if (ts < rp->last_ns) {
		rp->totals.out_of_order++;
		ts = rp->last_ns;
	}
	rp->last_ns = ts;
	rp->totals.events++;
	*tsp = ts;
	if (ts >= rp->next_edge_ns)
		return at_edge(rp, ts);
	return 0;
}

/* Every event but a pool allocation or free. */
static int replay_other(struct pt_replay *rp, const struct pt_event *ev)
{
	if (ev->kind == PT_EV_STACK || ev->kind == PT_EV_IMAGE)
		return on_aux(rp, ev);
	uint64_t ts;
	int rc = enter_event(rp, ev, &ts);
	if (rc < 0)
		return rc;
	uint32_t bucket = rp->cur_bucket;
	switch (ev->kind) {
	case PT_EV_SNAPSHOT:
		rp->rate[bucket]++;
		if (ev->tag == PT_TAG_NONE)
			return 0;
		return on_snapshot(rp, ev, ts, bucket);
	case PT_EV_MARKER: {
		struct pt_event e = *ev;
		e.ts_ns = ts;
		rp->totals.markers++;
		on_marker(rp, &e);
		return 0;
	}
	default:
		rp->rate[bucket]++;
		return 0;
	}
}

_Static_assert(PT_EV_ALLOC == 0 && PT_EV_FREE == 1 && PT_EV_SESSION_ALLOC == 2 &&
		       PT_EV_SESSION_FREE == 3,
	       "replay_one() tells pool allocations from frees by the low bit of the kind");

/* One event; h is pt__live_hash(&rp->live, ev->addr) (computed ahead by the batch loop). */
PT__ALWAYS_INLINE int replay_one(struct pt_replay *rp, const struct pt_event *ev, uint64_t h)
{
	unsigned kind = (unsigned)ev->kind;
	if (kind > PT_EV_SESSION_FREE)
		return replay_other(rp, ev);
	uint64_t ts;
	int rc = enter_event(rp, ev, &ts);
	if (rc < 0)
		return rc;
	uint32_t bucket = rp->cur_bucket;
	rp->rate[bucket]++;
	if (!(kind & 1)) { /* PT_EV_ALLOC, PT_EV_SESSION_ALLOC */
		if (ev->tag == PT_TAG_NONE)
			return 0;
		if (rp->stk)
			pt__stacks_unbind(rp->stk, ev->addr); /* a stack of an earlier allocation here */
		rc = on_alloc(rp, ev, ts, bucket, h);
		if (ev->addr)
			note_recent(rp, ev, 0);
	} else { /* PT_EV_FREE, PT_EV_SESSION_FREE */
		rc = on_free(rp, ev, ts, bucket, h);
		if (rp->stk)
			pt__stacks_unbind(rp->stk, ev->addr);
		if (ev->addr)
			note_recent(rp, ev, RECENT_FREE);
	}
	return rc;
}

int pt_replay_event(struct pt_replay *rp, const struct pt_event *ev)
{
	if (rp->finished)
		return PT_ESTATE;
	int rc = replay_one(rp, ev, pt__live_hash(&rp->live, ev->addr));
	sync_totals(rp);
	return rc;
}

/*
 * How far ahead the batch loop prefetches. A live-map miss costs a few
 * hundred cycles and one event takes some tens: the slot of the event
 * PREFETCH_AHEAD events ahead is requested; PREFETCH_NEAR events ahead, once
 * that slot (or, for an allocation, the entry found through the per-tag
 * array) has arrived, the (tag, pool) entry and its last timeline point are
 * requested too. With thousands of tags those are cache misses of their own.
 */
#define PREFETCH_AHEAD 8
#define PREFETCH_NEAR 4
/*
 * Entries and timeline points are prefetched only past this many entries
 * (about 56 KB of entries): below it they stay in the cache and the
 * prefetch would only cost instructions.
 */
#define PREFETCH_ENTRIES_MIN 256

PT__ALWAYS_INLINE void prefetch_lines(const void *p, size_t bytes)
{
#if defined(__GNUC__) || defined(__clang__)
	for (size_t o = 0; o < bytes; o += 64)
		__builtin_prefetch((const char *)p + o, 1, 3);
#else
	(void)p;
	(void)bytes;
#endif
}

/* First stage: the live slot, and for an allocation its entry. */
PT__ALWAYS_INLINE void prefetch_far(const struct pt_replay *rp, const struct pt_event *ev, uint64_t h,
				   bool deep)
{
	if (ev->addr)
		pt__live_prefetch(&rp->live, h);
	if (deep && pt_event_is_alloc(ev) && ev->tag < rp->bytag_n && rp->bytag[ev->tag] != NO_STAT)
		prefetch_lines(&rp->stats[rp->bytag[ev->tag]], sizeof(struct pt_tagstat));
}

/* Second stage: the entry of a free (from its home slot), the last timeline point of an allocation. */
PT__ALWAYS_INLINE void prefetch_near(const struct pt_replay *rp, const struct pt_event *ev, uint64_t h)
{
	uint32_t si = NO_STAT;
	if (pt_event_is_alloc(ev)) {
		if (ev->tag < rp->bytag_n)
			si = rp->bytag[ev->tag];
		if (si != NO_STAT && rp->stats[si].nseries)
			prefetch_lines(&rp->stats[si].series[rp->stats[si].nseries - 1], 1);
	} else if (pt_event_is_free(ev) && ev->addr) {
		const struct pt__live_slot *s = pt__live_home(&rp->live, h);
		if (s->addr == ev->addr && s->stat < rp->nstats)
			prefetch_lines(&rp->stats[s->stat], sizeof(struct pt_tagstat));
	}
}

int pt_replay_events(struct pt_replay *rp, const struct pt_event *evs, size_t n)
{
	uint64_t h[PT_REPLAY_BATCH_MAX];
	if (rp->finished)
		return PT_ESTATE;
	while (n > 0) {
		size_t m = n < PT_REPLAY_BATCH_MAX ? n : PT_REPLAY_BATCH_MAX;
		for (size_t i = 0; i < m; i++)
			h[i] = pt__live_hash(&rp->live, evs[i].addr);
		/* with few entries they stay in the cache: only the live slots are worth a prefetch */
		bool deep = rp->nstats > PREFETCH_ENTRIES_MIN;
		for (size_t i = 0; i < m && i < PREFETCH_AHEAD; i++)
			prefetch_far(rp, &evs[i], h[i], deep);
		for (size_t i = 0; deep && i < m && i < PREFETCH_NEAR; i++)
			prefetch_near(rp, &evs[i], h[i]);
		for (size_t i = 0; i < m; i++) {
			if (i + PREFETCH_AHEAD < m)
				prefetch_far(rp, &evs[i + PREFETCH_AHEAD], h[i + PREFETCH_AHEAD], deep);
			if (deep && i + PREFETCH_NEAR < m)
				prefetch_near(rp, &evs[i + PREFETCH_NEAR], h[i + PREFETCH_NEAR]);
			int rc = replay_one(rp, &evs[i], h[i]);
			if (rc < 0) {
				sync_totals(rp);
				return rc;
			}
		}
		evs += m;
		n -= m;
	}
	sync_totals(rp);
	return 0;
}

/*
 * Automatic workload end: the first bucket k after which the pool event rate
 * stays quiet to the end of the trace. "Quiet" means every later bucket has at
 * most a fifth of the median rate of the active buckets before k, the quiet
 * tail spans at least 3 buckets and a tenth of the trace, and at least 4
 * active buckets precede it. Returns false when the trace shows no such drop.
 */
static bool detect_workload_end(const struct pt_replay *rp, uint64_t start_ns, uint64_t *wend)
{
	enum { MAXG = 128 };
	uint64_t g_rate[MAXG], sorted[MAXG];
	uint32_t nb = (uint32_t)(rp->end_ns / rp->interval_ns) + 1;
	uint32_t b0 = (uint32_t)(start_ns / rp->interval_ns);
	if (nb <= b0)
		return false;
	/* group the buckets after the workload start into at most MAXG groups */
	uint32_t per = (nb - b0 + MAXG - 1) / MAXG;
	uint32_t ng = (nb - b0 + per - 1) / per;
	for (uint32_t g = 0; g < ng; g++) {
		g_rate[g] = 0;
		for (uint32_t b = b0 + g * per; b < b0 + (g + 1) * per && b < nb; b++)
			g_rate[g] += pt_replay_bucket_events(rp, b);
	}
	if (ng < 8)
		return false;
	uint32_t min_tail = ng / 10 > 3 ? ng / 10 : 3;
	uint64_t tail_max = 0;
	uint32_t k = ng;
	bool found = false;
	while (k > 5) {
		uint64_t r = g_rate[k - 1];
		uint64_t nmax = r > tail_max ? r : tail_max;
		/* median rate of the active part before the candidate tail */
		uint32_t na = k - 1;
		memcpy(sorted, g_rate, na * sizeof(*sorted));
		for (uint32_t i = 1; i < na; i++)
			for (uint32_t j = i; j > 0 && sorted[j] < sorted[j - 1]; j--) {
				uint64_t t = sorted[j];
				sorted[j] = sorted[j - 1];
				sorted[j - 1] = t;
			}
		uint64_t med = sorted[na / 2];
		if (med == 0 || nmax * 5 > med)
			break;
		tail_max = nmax;
		k--;
		if (ng - k >= min_tail)
			found = true;
	}
	if (!found)
		return false;
	*wend = ((uint64_t)b0 + (uint64_t)k * per) * rp->interval_ns;
	return true;
}

int pt_replay_finish(struct pt_replay *rp, uint64_t end_ns)
{
	if (rp->finished)
		return 0;
	rp->finished = true;
	rp->end_ns = end_ns > rp->last_ns ? end_ns : rp->last_ns;
	flush_pending(rp, 0, true);
	/* the timeline reaches the trace end even if the last events came earlier */
	(void)bucket_for(rp, rp->end_ns);
	if (rp->phases.wstart_src == PT_PHASE_NONE) {
		rp->phases.wstart_ns = rp->any_event ? rp->totals.first_ns : 0;
		rp->phases.wstart_src = PT_PHASE_DEFAULT;
	}
	if (rp->phases.wend_src == PT_PHASE_NONE &&
	    detect_workload_end(rp, rp->phases.wstart_ns, &rp->phases.wend_ns)) {
		rp->phases.wend_src = PT_PHASE_AUTO;
	}
	if (rp->phases.wend_src == PT_PHASE_NONE) {
		/* fallback: the last quarter of the trace is the cool-down */
		uint64_t s = rp->phases.wstart_ns;
		rp->phases.wend_ns = s + (rp->end_ns - s) / 4 * 3;
		rp->phases.wend_src = PT_PHASE_DEFAULT;
	}
	if (rp->phases.wend_ns < rp->phases.wstart_ns)
		rp->phases.wend_ns = rp->phases.wstart_ns;
	sync_totals(rp);
	pt__stacks_seal(rp->stk);
	return 0;
}

/* ---- running a reader into the replay ---- */

/* One thread: read a batch, replay it. */
static int run_serial(struct pt_replay *rp, struct pt_reader *r,
		      void (*progress)(void *ctx, const struct pt_reader *r), void *ctx)
{
	struct pt_event evs[PT_REPLAY_BATCH_MAX];
	int rc;
	uint64_t n = 0;
	while ((rc = pt_reader_next_batch(r, evs, PT_REPLAY_BATCH_MAX)) > 0) {
		int k = pt_replay_events(rp, evs, (size_t)rc);
		if (k < 0)
			return k;
		uint64_t before = n;
		n += (uint64_t)rc;
		if (progress && (n >> 16) != (before >> 16))
			progress(ctx, r);
	}
	return rc;
}

/*
 * Two threads (docs/performance.md, "Replay"): a reader thread decodes the
 * trace into a ring of PIPE_SLOTS batches of up to PIPE_BATCH events while
 * the calling thread replays the batches before them. The reader thread owns
 * the reader (and calls progress); the replay thread owns the replay; they
 * share only the ring. Marker and image texts and stack frames are borrowed
 * from the reader: they are copied into their slot's arenas, so they stay
 * valid after the reader moved on. Memory: the ring, about 1 MB, plus the
 * arenas (the texts and stacks of one batch).
 */
#define PIPE_SLOTS 8
#define PIPE_BATCH 1024
#define NO_OFF SIZE_MAX

struct pipe_slot {
	struct pt_event ev[PIPE_BATCH];
	size_t n;
	/* copies of borrowed data; offsets per event while the arenas may still move */
	size_t foff[PIPE_BATCH], toff[PIPE_BATCH];
	uint64_t *frames;
	size_t frames_n, frames_cap;
	char *text;
	size_t text_n, text_cap;
};

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t can_fill, can_use;
	struct pipe_slot *slot;
	size_t head, tail, count;
	bool done, stop;
	int reader_rc;
	struct pt_reader *r;
	void (*progress)(void *ctx, const struct pt_reader *r);
	void *ctx;
};

static int arena_reserve(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 256;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(*p, ncap * elem);
	if (!np)
		return PT_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Copy the borrowed text (marker, image name) or frames of event i into the slot's arenas. */
static int keep_borrowed(struct pipe_slot *sl, size_t i)
{
	struct pt_event *ev = &sl->ev[i];
	if (ev->kind == PT_EV_STACK && ev->frames) {
		uint32_t nf = ev->nframes < PT_STACK_MAX_FRAMES ? ev->nframes : PT_STACK_MAX_FRAMES;
		if (arena_reserve((void **)&sl->frames, &sl->frames_cap, sl->frames_n + nf,
				  sizeof(*sl->frames)) < 0)
			return PT_ENOMEM;
		memcpy(sl->frames + sl->frames_n, ev->frames, nf * sizeof(*sl->frames));
		sl->foff[i] = sl->frames_n;
		sl->frames_n += nf;
		ev->nframes = nf;
		ev->frames = NULL;
	}
	if (ev->marker) {
		size_t len = strlen(ev->marker) + 1;
		if (arena_reserve((void **)&sl->text, &sl->text_cap, sl->text_n + len, 1) < 0)
			return PT_ENOMEM;
		memcpy(sl->text + sl->text_n, ev->marker, len);
		sl->toff[i] = sl->text_n;
		sl->text_n += len;
		ev->marker = NULL;
	}
	return 0;
}

/* The slot is full: point its events at the arenas (which no longer move). */
static void fix_borrowed(struct pipe_slot *sl)
{
	for (size_t i = 0; i < sl->n; i++) {
		if (sl->foff[i] != NO_OFF)
			sl->ev[i].frames = sl->frames + sl->foff[i];
		if (sl->toff[i] != NO_OFF)
			sl->ev[i].marker = sl->text + sl->toff[i];
	}
}

static void *pipe_reader(void *arg)
{
	struct pipe *p = arg;
	uint64_t n = 0;
	int rc = 0;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->count == PIPE_SLOTS && !p->stop)
			pthread_cond_wait(&p->can_fill, &p->mu);
		bool stop = p->stop;
		size_t idx = p->head;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		struct pipe_slot *sl = &p->slot[idx];
		sl->n = sl->frames_n = sl->text_n = 0;
		while (sl->n < PIPE_BATCH) {
			rc = pt_reader_next_batch(p->r, sl->ev + sl->n, PIPE_BATCH - sl->n);
			if (rc <= 0)
				break;
			size_t from = sl->n;
			sl->n += (size_t)rc;
			for (size_t i = from; i < sl->n; i++) {
				sl->foff[i] = sl->toff[i] = NO_OFF;
				if (sl->ev[i].marker || (sl->ev[i].kind == PT_EV_STACK && sl->ev[i].frames)) {
					int k = keep_borrowed(sl, i);
					if (k < 0)
						rc = k;
				}
			}
			if (rc < 0)
				break;
		}
		fix_borrowed(sl);
		uint64_t before = n;
		n += sl->n;
		if (p->progress && (n >> 16) != (before >> 16))
			p->progress(p->ctx, p->r);
		pthread_mutex_lock(&p->mu);
		if (sl->n) {
			p->head = (p->head + 1) % PIPE_SLOTS;
			p->count++;
		}
		if (rc <= 0) { /* end of input (0) or an error */
			p->done = true;
			p->reader_rc = rc;
		}
		pthread_cond_signal(&p->can_use);
		bool end = p->done;
		pthread_mutex_unlock(&p->mu);
		if (end)
			break;
	}
	pthread_mutex_lock(&p->mu);
	p->done = true;
	pthread_cond_signal(&p->can_use);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* @return: 1 when the two-thread run happened (result in *out), 0 to run serially. */
static int run_threaded(struct pt_replay *rp, struct pt_reader *r,
			void (*progress)(void *ctx, const struct pt_reader *r), void *ctx, int *out)
{
	struct pipe p;
	memset(&p, 0, sizeof(p));
	p.slot = calloc(PIPE_SLOTS, sizeof(*p.slot));
	if (!p.slot)
		return 0;
	p.r = r;
	p.progress = progress;
	p.ctx = ctx;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.can_fill, NULL);
	pthread_cond_init(&p.can_use, NULL);
	pthread_t th;
	if (pthread_create(&th, NULL, pipe_reader, &p) != 0) {
		pthread_cond_destroy(&p.can_use);
		pthread_cond_destroy(&p.can_fill);
		pthread_mutex_destroy(&p.mu);
		free(p.slot);
		return 0;
	}
	int rc = 0;
	for (;;) {
		pthread_mutex_lock(&p.mu);
		while (p.count == 0 && !p.done)
			pthread_cond_wait(&p.can_use, &p.mu);
		if (p.count == 0) {
			pthread_mutex_unlock(&p.mu);
			break;
		}
		size_t idx = p.tail;
		pthread_mutex_unlock(&p.mu);
		rc = pt_replay_events(rp, p.slot[idx].ev, p.slot[idx].n);
		pthread_mutex_lock(&p.mu);
		p.tail = (p.tail + 1) % PIPE_SLOTS;
		p.count--;
		if (rc < 0)
			p.stop = true;
		pthread_cond_signal(&p.can_fill);
		pthread_mutex_unlock(&p.mu);
		if (rc < 0)
			break;
	}
	pthread_join(th, NULL);
	if (rc == 0)
		rc = p.reader_rc;
	for (size_t i = 0; i < PIPE_SLOTS; i++) {
		free(p.slot[i].frames);
		free(p.slot[i].text);
	}
	free(p.slot);
	pthread_cond_destroy(&p.can_use);
	pthread_cond_destroy(&p.can_fill);
	pthread_mutex_destroy(&p.mu);
	*out = rc;
	return 1;
}

/* A reader thread pays off with a second CPU; POOLTRACE_THREADS=1 turns it off. */
int pt_replay_run(struct pt_replay *rp, struct pt_reader *r,
		  void (*progress)(void *ctx, const struct pt_reader *r), void *ctx)
{
	int rc;
	if (rp->finished)
		return PT_ESTATE;
	if (!pt_threads_allowed() || r->ops->serial || !run_threaded(rp, r, progress, ctx, &rc))
		rc = run_serial(rp, r, progress, ctx);
	if (rc < 0)
		return rc;
	return pt_replay_finish(rp, pt_reader_meta(r)->end_ns);
}

const struct pt_tagstat *pt_replay_stats(const struct pt_replay *rp, size_t *n)
{
	*n = rp->nstats;
	return rp->stats;
}

const struct pt_replay_totals *pt_replay_totals(const struct pt_replay *rp)
{
	return &rp->totals;
}

const struct pt_phases *pt_replay_phases(const struct pt_replay *rp)
{
	return &rp->phases;
}

uint64_t pt_replay_end_ns(const struct pt_replay *rp)
{
	return rp->finished ? rp->end_ns : rp->last_ns;
}

uint64_t pt_replay_interval_ns(const struct pt_replay *rp)
{
	return rp->interval_ns;
}

uint32_t pt_replay_nbuckets(const struct pt_replay *rp)
{
	return (uint32_t)(pt_replay_end_ns(rp) / rp->interval_ns) + 1;
}

const struct pt_tags *pt_replay_tags(const struct pt_replay *rp)
{
	return rp->tags;
}

/* The series point that holds bucket b's state: the last one with bucket <= b, or NULL. */
static const struct pt_series_point *point_for(const struct pt_tagstat *st, uint32_t b)
{
	uint32_t lo = 0, hi = st->nseries;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (st->series[mid].bucket <= b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &st->series[lo - 1] : NULL;
}

void pt_tagstat_bucket(const struct pt_replay *rp, const struct pt_tagstat *st, uint32_t b,
		       struct pt_counts *out)
{
	(void)rp;
	const struct pt_series_point *p = point_for(st, b);
	if (p)
		*out = p->c;
	else
		memset(out, 0, sizeof(*out));
}

void pt_tagstat_at(const struct pt_replay *rp, const struct pt_tagstat *st, uint64_t t_ns,
		   struct pt_counts *out)
{
	for (int c = 0; c < PT_CAP_COUNT_; c++) {
		if (rp->cap_taken[c] && rp->cap_ns[c] == t_ns) {
			if (st->captured[c])
				*out = st->cap[c];
			else
				memset(out, 0, sizeof(*out));
			return;
		}
	}
	if (t_ns >= pt_replay_end_ns(rp)) {
		*out = st->now;
		return;
	}
	uint64_t b = t_ns / rp->interval_ns;
	if (b > 0 && t_ns % rp->interval_ns == 0)
		b--; /* on a bucket edge: the state at the end of the bucket before */
	pt_tagstat_bucket(rp, st, (uint32_t)b, out);
}

uint64_t pt_tagstat_bucket_min(const struct pt_replay *rp, const struct pt_tagstat *st, uint32_t b)
{
	(void)rp;
	return pt_series_point_min(point_for(st, b), b);
}

uint64_t pt_replay_bucket_events(const struct pt_replay *rp, uint32_t b)
{
	return b < rp->rate_cap ? rp->rate[b] : 0;
}

int pt_replay_live_foreach(const struct pt_replay *rp,
			   int (*fn)(void *ctx, const struct pt_live_alloc *a), void *ctx)
{
	return pt_replay_live_foreach_ahead(rp, fn, NULL, ctx);
}

/* Allocations between ahead() and fn() in pt_replay_live_foreach_ahead() (a power of two). */
#define LIVE_AHEAD 8u

int pt_replay_live_foreach_ahead(const struct pt_replay *rp,
				 int (*fn)(void *ctx, const struct pt_live_alloc *a),
				 void (*ahead)(void *ctx, const struct pt_live_alloc *a), void *ctx)
{
	struct pt_live_alloc ring[LIVE_AHEAD];
	size_t n = 0; /* allocations put in the ring */
	for (size_t i = 0; i <= rp->live.mask; i++) {
		const struct pt__live_slot *s = &rp->live.slot[i];
		if (!s->addr)
			continue;
		struct pt_live_alloc *a = &ring[n % LIVE_AHEAD];
		if (n >= LIVE_AHEAD) {
			int rc = fn(ctx, a); /* the one LIVE_AHEAD before: its slot is reused */
			if (rc)
				return rc;
		}
		*a = (struct pt_live_alloc){s->addr, pt__live_size(&rp->live, s), s->ts_ns, s->stat,
					    s->pid, s->tid, pt__stacks_lookup(rp->stk, s->addr)};
		if (ahead)
			ahead(ctx, a);
		n++;
	}
	for (size_t k = n > LIVE_AHEAD ? n - LIVE_AHEAD : 0; k < n; k++) {
		int rc = fn(ctx, &ring[k % LIVE_AHEAD]);
		if (rc)
			return rc;
	}
	return 0;
}

bool pt_replay_has_stacks(const struct pt_replay *rp)
{
	return rp->totals.stacks_joined > 0;
}

size_t pt_replay_nstacks(const struct pt_replay *rp)
{
	return pt__stacks_count(rp->stk);
}

const uint64_t *pt_replay_stack(const struct pt_replay *rp, uint32_t id, uint32_t *nframes,
				uint32_t *pid)
{
	return pt__stacks_get(rp->stk, id, nframes, pid);
}

bool pt_replay_frame_name(const struct pt_replay *rp, uint64_t addr, uint32_t pid, char *buf,
			  size_t bufsz)
{
	return pt__stacks_frame(rp->stk, addr, pid, buf, bufsz);
}

const char *pt_phase_source_name(enum pt_phase_source s)
{
	switch (s) {
	case PT_PHASE_OPTION:
		return "option";
	case PT_PHASE_MARKER:
		return "marker";
	case PT_PHASE_AUTO:
		return "auto";
	case PT_PHASE_DEFAULT:
		return "default";
	default:
		return "none";
	}
}
