/* SPDX-License-Identifier: MIT */
/*
 * Replay: folds the event stream into per-(tag, pool type) counters, a
 * live-allocation map keyed by address, a timeline and the phases.
 * Memory grows with tags and live allocations, never with trace length.
 */
#ifndef POOLTRACE_REPLAY_H
#define POOLTRACE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pooltrace/event.h"
#include "pooltrace/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pt_replay;
struct pt_reader;

/* Counters of one (tag, pool type) at one moment. */
struct pt_counts {
	uint64_t allocs;   /* allocations seen (PoolMon "Allocs") */
	uint64_t frees;    /* frees seen, matched or not (PoolMon "Frees") */
	uint64_t bytes;    /* outstanding bytes of allocations still live */
	uint64_t live;     /* allocations still live (matched by address) */
};

/* Diff as PoolMon shows it: Allocs - Frees. */
static inline int64_t pt_counts_diff(const struct pt_counts *c)
{
	return (int64_t)(c->allocs - c->frees);
}

/* One timeline point of a tag: counters at the end of bucket `bucket`. */
struct pt_series_point {
	uint32_t bucket;
	struct pt_counts c;
	uint64_t min_bytes;  /* lowest outstanding bytes within the bucket (troughs) */
};

/* Moments the replay records exactly for every tag. */
enum pt_capture {
	PT_CAP_WSTART = 0, /* workload start */
	PT_CAP_WEND,       /* workload end */
	PT_CAP_AT,         /* the user's --at time */
	PT_CAP_COUNT_
};

/* Everything known about one (tag, pool type). */
struct pt_tagstat {
	pt_tag_id tag;
	enum pt_pool pool;
	struct pt_counts now;          /* at the end of the trace (or replay so far) */
	uint64_t peak_bytes;           /* highest outstanding bytes */
	uint64_t peak_ns;              /* when it was first reached */
	uint64_t alloc_bytes_total;    /* sum of sizes of all allocations */
	uint64_t unmatched_frees;      /* frees of addresses not live: allocated before the trace, or the alloc was lost */
	uint64_t double_allocs;        /* allocations at an address that was still live */
	uint64_t displaced_bytes;      /* bytes dropped because a double alloc replaced a live entry of this tag */
	uint64_t first_ns, last_ns;    /* first and last event of this tag */
	bool captured[PT_CAP_COUNT_];
	struct pt_counts cap[PT_CAP_COUNT_];
	struct pt_series_point *series; /* sparse: a point only for buckets where it changed */
	uint32_t nseries, series_cap;
};

/* Where a phase boundary came from. */
enum pt_phase_source {
	PT_PHASE_NONE = 0,  /* not known */
	PT_PHASE_OPTION,    /* command line */
	PT_PHASE_MARKER,    /* a marker event in the trace */
	PT_PHASE_AUTO,      /* detected from the event rate */
	PT_PHASE_DEFAULT    /* the fallback rule (start of trace / last quarter) */
};

struct pt_phases {
	uint64_t wstart_ns;
	uint64_t wend_ns;
	enum pt_phase_source wstart_src;
	enum pt_phase_source wend_src;
	char wstart_marker[64];   /* marker text that set it, if any */
	char wend_marker[64];
};

struct pt_replay_opts {
	uint64_t interval_ns;      /* timeline bucket width; 0 = automatic (about 100 points) */
	uint64_t max_live;         /* cap on live allocations tracked (0 = 100,000,000) */
	bool has_wstart, has_wend; /* phases given on the command line */
	uint64_t wstart_ns, wend_ns;
	bool has_at;               /* record the table at this time (--at) */
	uint64_t at_ns;
};

/* One live allocation (from pt_replay_live_foreach()). */
struct pt_live_alloc {
	uint64_t addr;
	uint64_t size;
	uint64_t ts_ns;
	uint32_t stat;    /* index into pt_replay_stats() */
	uint32_t pid, tid;
	uint32_t stack;   /* stack id (pt_replay_stack()); PT_NONE32 when not known */
};

/* Whole-trace accounting. */
struct pt_replay_totals {
	uint64_t events;           /* events replayed */
	uint64_t allocs, frees, markers, snapshots;
	uint64_t unmatched_frees, double_allocs;
	uint64_t null_frees;       /* frees of address 0 (Linux kfree(NULL)) */
	uint64_t out_of_order;     /* events whose timestamp went backwards (clamped) */
	uint64_t live;             /* live allocations now */
	uint64_t live_dropped;     /* allocations not tracked because max_live was hit */
	uint64_t first_ns, last_ns;
	/* stacks and images (not in events; they describe other events) */
	uint64_t stacks;           /* stack events seen */
	uint64_t stacks_joined;    /* joined to a live allocation */
	uint64_t stacks_free;      /* belonged to a free (not used) */
	uint64_t stacks_not_live;  /* belonged to an allocation no longer live, or not tracked */
	uint64_t stacks_unmatched; /* no recent pool event of that thread at that time */
	uint64_t stacks_dropped;   /* the stack table was full */
	uint64_t images;           /* image events seen */
};

/**
 * pt_replay_new() - create a replay over a tag table.
 * @tags: borrowed; must outlive the replay. @opts: may be NULL.
 * @return: the replay or NULL when out of memory. Free with pt_replay_free().
 */
struct pt_replay *pt_replay_new(const struct pt_tags *tags, const struct pt_replay_opts *opts);

/** pt_replay_free() - free a replay; NULL is accepted. */
void pt_replay_free(struct pt_replay *rp);

/**
 * pt_replay_event() - fold one event in. Events must come in time order;
 * a timestamp earlier than the last one is clamped to it and counted.
 * @return: 0 or PT_ENOMEM.
 */
int pt_replay_event(struct pt_replay *rp, const struct pt_event *ev);

/* Most events pt_replay_events() takes per internal round (any n is accepted). */
#define PT_REPLAY_BATCH_MAX 128

/**
 * pt_replay_events() - fold n events in, in order: the same as n calls of
 * pt_replay_event(), faster (the live-map slots of later events are
 * prefetched while earlier ones are processed).
 * @return: 0, or PT_ENOMEM / PT_ESTATE (events before the failing one are in).
 */
int pt_replay_events(struct pt_replay *rp, const struct pt_event *evs, size_t n);

/**
 * pt_replay_finish() - end of input: close the timeline, settle the phases
 * (fallback rule when neither option nor marker set them).
 * @end_ns: trace end (the metadata's end_ns, or 0 to use the last event).
 */
int pt_replay_finish(struct pt_replay *rp, uint64_t end_ns);

/**
 * pt_replay_run() - read every event of a reader into the replay and finish.
 * @progress: called every 65,536 events (may be NULL); keep it cheap.
 * @return: 0, or the reader's/replay's negative error.
 */
int pt_replay_run(struct pt_replay *rp, struct pt_reader *r,
		  void (*progress)(void *ctx, const struct pt_reader *r), void *ctx);

/** pt_replay_stats() - all (tag, pool) entries, in first-seen order. */
const struct pt_tagstat *pt_replay_stats(const struct pt_replay *rp, size_t *n);

/** pt_replay_totals() - whole-trace counters. */
const struct pt_replay_totals *pt_replay_totals(const struct pt_replay *rp);

/** pt_replay_phases() - workload start/end and where they came from. */
const struct pt_phases *pt_replay_phases(const struct pt_replay *rp);

/** pt_replay_end_ns() - trace end used by the replay (after finish). */
uint64_t pt_replay_end_ns(const struct pt_replay *rp);

/** pt_replay_interval_ns() - the timeline bucket width (after finish). */
uint64_t pt_replay_interval_ns(const struct pt_replay *rp);

/** pt_replay_nbuckets() - number of timeline buckets (after finish). */
uint32_t pt_replay_nbuckets(const struct pt_replay *rp);

/** pt_replay_tags() - the tag table the replay was created with. */
const struct pt_tags *pt_replay_tags(const struct pt_replay *rp);

/**
 * pt_tagstat_at() - counters of one entry at a time, from the timeline
 * (state at the end of the bucket holding t_ns; exact at bucket edges),
 * or exact where a capture was taken at that time.
 */
void pt_tagstat_at(const struct pt_replay *rp, const struct pt_tagstat *st, uint64_t t_ns,
		   struct pt_counts *out);

/**
 * pt_tagstat_bucket() - counters of one entry at the end of bucket b.
 */
void pt_tagstat_bucket(const struct pt_replay *rp, const struct pt_tagstat *st, uint32_t b,
		       struct pt_counts *out);

/**
 * pt_tagstat_bucket_min() - lowest outstanding bytes of one entry within bucket b
 * (the trough; equal to the bytes at the bucket end when nothing happened in it).
 */
uint64_t pt_tagstat_bucket_min(const struct pt_replay *rp, const struct pt_tagstat *st, uint32_t b);

/*
 * A walk over an entry's buckets in increasing order: one pass over its
 * series instead of a search per bucket (pt_tagstat_bucket() and
 * pt_tagstat_bucket_min() give the same answers).
 */
struct pt_series_cursor {
	const struct pt_tagstat *st;
	uint32_t next;                     /* the first point not yet passed */
	const struct pt_series_point *cur; /* the last point passed, NULL before the first */
};

/** pt_series_cursor_init() - a cursor before the first bucket of st. */
static inline void pt_series_cursor_init(struct pt_series_cursor *c, const struct pt_tagstat *st)
{
	c->st = st;
	c->next = 0;
	c->cur = NULL;
}

/**
 * pt_series_cursor_at() - the point that holds bucket b's state (the last one
 * with bucket <= b), NULL when there is none yet. b must not be less than in
 * the call before.
 */
static inline const struct pt_series_point *pt_series_cursor_at(struct pt_series_cursor *c,
								uint32_t b)
{
	while (c->next < c->st->nseries && c->st->series[c->next].bucket <= b)
		c->cur = &c->st->series[c->next++];
	return c->cur;
}

/**
 * pt_series_point_min() - the trough of bucket b (pt_tagstat_bucket_min())
 * from p, the point that holds it (NULL: 0).
 */
static inline uint64_t pt_series_point_min(const struct pt_series_point *p, uint32_t b)
{
	if (!p)
		return 0;
	return p->bucket == b ? p->min_bytes : p->c.bytes;
}

/**
 * pt_replay_bucket_events() - pool events (allocs + frees + snapshot rows) that fell in
 * bucket b, over all tags: the event rate the automatic phase detection uses.
 */
uint64_t pt_replay_bucket_events(const struct pt_replay *rp, uint32_t b);

/**
 * pt_replay_live_foreach() - call fn for every live allocation (arbitrary order).
 * Stops early and returns fn's value when it is non-zero.
 */
int pt_replay_live_foreach(const struct pt_replay *rp,
			   int (*fn)(void *ctx, const struct pt_live_alloc *a), void *ctx);

/**
 * pt_replay_live_foreach_ahead() - pt_replay_live_foreach(), and ahead(ctx, a)
 * for each allocation some calls before fn gets it, in the same order (ahead
 * may be NULL). With many entries fn's state for a random entry is a cache
 * miss; ahead can ask for it early (__builtin_prefetch()) so the misses overlap.
 */
int pt_replay_live_foreach_ahead(const struct pt_replay *rp,
				 int (*fn)(void *ctx, const struct pt_live_alloc *a),
				 void (*ahead)(void *ctx, const struct pt_live_alloc *a), void *ctx);

/**
 * pt_replay_has_stacks() - true when at least one stack was joined to an
 * allocation. Stacks (PT_EV_STACK) are joined to the pool event of the same
 * thread whose timestamp is the stack's stack_ts_ns, among the last 512
 * pool events; only stacks of allocations still live are kept, each
 * allocation's stack is forgotten when it is freed.
 */
bool pt_replay_has_stacks(const struct pt_replay *rp);

/** pt_replay_nstacks() - distinct stacks kept (ids are 0 .. n-1). */
size_t pt_replay_nstacks(const struct pt_replay *rp);

/**
 * pt_replay_stack() - frames of stack id, innermost first.
 * @pid: receives the process it was taken in, PT_NONE32 for stacks of
 * kernel addresses only (shared by all processes); may be NULL.
 * @return: the frames (valid until the replay is freed), NULL for a bad id.
 */
const uint64_t *pt_replay_stack(const struct pt_replay *rp, uint32_t id, uint32_t *nframes,
				uint32_t *pid);

/**
 * pt_replay_frame_name() - a frame as "module+0xOFFSET" using the image
 * events of the trace (images of pid, then kernel images), or "0xADDRESS"
 * when no image covers it.
 * @return: true when an image covered the address.
 */
bool pt_replay_frame_name(const struct pt_replay *rp, uint64_t addr, uint32_t pid, char *buf,
			  size_t bufsz);

/** pt_phase_source_name() - "none", "option", "marker", "auto", "default". */
const char *pt_phase_source_name(enum pt_phase_source s);

/**
 * pt_marker_phase() - what a marker text means for the phases:
 * 1 workload start ("workload-start", "workload start", "start"...),
 * 2 workload end ("workload-end", "workload stop", "stop"...), 0 other.
 * Case-insensitive; the exact words are listed in docs/architecture.md.
 */
int pt_marker_phase(const char *text);

#ifdef __cplusplus
}
#endif
#endif
