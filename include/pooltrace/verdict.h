/* SPDX-License-Identifier: MIT */
/* Leak detectors: a verdict with its evidence for every (tag, pool type). */
#ifndef POOLTRACE_VERDICT_H
#define POOLTRACE_VERDICT_H

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

/* Thresholds of the drain rule (see docs/leak-detection.md). */
struct pt_verdict_opts {
	uint64_t min_leak_bytes;  /* growth below this is never flagged (default 1) */
	double leak_max_drain;    /* drained fraction below this after growth: leak (default 0.10) */
	double ok_min_drain;      /* drained fraction at or above this: ok (default 0.50) */
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
	char reason[256];             /* one line of plain-language reasoning */
};

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
