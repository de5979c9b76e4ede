/* SPDX-License-Identifier: MIT */
/* Leak detectors: a verdict with its evidence for every (tag, pool type). */
#ifndef POOLTRACE_VERDICT_H
#define POOLTRACE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pooltrace/replay.h"

#ifdef __cplusplus
extern "C" {
#endif

enum pt_verdict_kind {
	PT_VERDICT_OK = 0,
	PT_VERDICT_SUSPECT,
	PT_VERDICT_LEAK
};

/* Thresholds of the rules (see docs/leak-detection.md). */
struct pt_verdict_opts {
	uint64_t min_leak_bytes;  /* growth below this is never flagged (default 1) */
	double leak_max_drain;    /* drained fraction below this after growth: leak (default 0.10) */
	double ok_min_drain;      /* drained fraction at or above this: ok (default 0.50) */
	double min_score;         /* leaks scored below this are reported as suspects (default 0) */
	bool lost_known;          /* the trace says how many events were lost */
	uint64_t events_lost;     /* from the trace metadata */
};

/* Shape of a tag's outstanding bytes during the workload. */
enum pt_pattern {
	PT_PATTERN_NONE = 0,   /* too few points to tell */
	PT_PATTERN_FLAT,       /* no trend */
	PT_PATTERN_SAWTOOTH,   /* rises and falls, troughs flat */
	PT_PATTERN_STEADY,     /* troughs rise steadily */
	PT_PATTERN_STAIRCASE,  /* troughs rise in a few steps */
	PT_PATTERN_PLATEAU     /* rose, then levelled off */
};

/* Trend of the troughs (lowest outstanding bytes of each window) during the workload. */
struct pt_trend {
	bool valid;               /* at least 4 windows */
	uint32_t windows;
	double slope;             /* bytes per second, Theil-Sen estimate */
	double slope_lo, slope_hi;/* its 95 % confidence interval (Sen's method) */
	bool late_valid;
	double late_slope, late_lo, late_hi; /* the same over the second half of the workload */
	double trough_first, trough_last;    /* bytes */
	double peak_to_trough;    /* mean (window peak - window trough), bytes */
};

#define PT_AGE_BINS 8
#define PT_OLDEST_MAX 5
#define PT_TOP_PIDS 5
#define PT_TOP_STACKS 5

/* Live allocations at trace end, by when they were made (WPA's AIFO and friends). */
struct pt_age {
	uint64_t live_before, bytes_before; /* allocated before the workload start */
	uint64_t live_inside, bytes_inside; /* allocated inside the workload (AIFO) */
	uint64_t live_early, bytes_early;   /* of those, allocated in its first half */
	uint64_t live_after, bytes_after;   /* allocated during the cool-down */
	uint64_t hist_count[PT_AGE_BINS];   /* bin i: allocated in [i, i+1) x trace end / PT_AGE_BINS */
	uint64_t hist_bytes[PT_AGE_BINS];
	struct pt_live_alloc oldest[PT_OLDEST_MAX];
	uint32_t noldest;
};

/* Live bytes of one process. */
struct pt_pid_bytes {
	uint32_t pid;     /* PT_NONE32 when the trace does not say */
	uint64_t live;
	uint64_t bytes;
};

/* Live bytes allocated from one call stack (pt_replay_stack()). */
struct pt_stack_bytes {
	uint32_t stack;
	uint64_t live;
	uint64_t bytes;
};

/* The verdict on one entry of pt_replay_stats(), with its numbers. */
struct pt_tag_verdict {
	size_t stat;                  /* index into pt_replay_stats() */
	enum pt_verdict_kind verdict;
	double score;                 /* 0..1, how sure the leak call is */
	struct pt_counts at_wstart;   /* counters at workload start */
	struct pt_counts at_wend;     /* counters at workload end */
	struct pt_counts at_end;      /* counters at trace end */
	int64_t growth_bytes;         /* bytes at workload end - bytes at workload start */
	double drained;               /* fraction of that growth freed by trace end (can be < 0) */
	int64_t residual_bytes;       /* bytes at trace end - bytes at workload start */
	struct pt_trend trend;
	enum pt_pattern pattern;
	struct pt_age age;            /* empty for snapshot-only traces */
	struct pt_pid_bytes pids[PT_TOP_PIDS]; /* processes holding the most live bytes */
	uint32_t npids;
	/* live bytes by allocation stack, when the trace has stacks (pt_replay_has_stacks()) */
	struct pt_stack_bytes stacks[PT_TOP_STACKS]; /* most live bytes first */
	uint32_t nstacks;
	uint32_t stacks_distinct;     /* distinct stacks holding live bytes of this entry */
	uint64_t live_nostack, bytes_nostack; /* live allocations whose stack is not known */
	bool lost_events_matter;      /* lost events could explain what is outstanding */
	bool hidden;                  /* left out by --tags / --exclude: not shown, not counted */
	bool suppressed;              /* matched a suppression: shown, but not counted as a failure */
	char suppress_reason[128];
	char reason[320];             /* one line of plain-language reasoning */
};

/** pt_pattern_name() - "none", "flat", "sawtooth", "steady growth", "staircase", "plateau". */
const char *pt_pattern_name(enum pt_pattern p);

/** pt_verdict_opts_init() - the defaults. */
void pt_verdict_opts_init(struct pt_verdict_opts *o);

/**
 * pt_judge() - judge every entry of a finished replay.
 * @out: receives an array aligned with pt_replay_stats() (free with free()).
 * @return: 0 or PT_ENOMEM.
 */
int pt_judge(const struct pt_replay *rp, const struct pt_verdict_opts *opts,
	     struct pt_tag_verdict **out);

/** pt_verdict_name() - "ok", "suspect" or "leak". */
const char *pt_verdict_name(enum pt_verdict_kind v);

#ifdef __cplusplus
}
#endif
#endif
