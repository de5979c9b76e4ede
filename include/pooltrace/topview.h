/* SPDX-License-Identifier: MIT */
/*
 * The view model of `pooltrace top`: PoolMon's screen over a replayed trace,
 * with no terminal. It holds the time position, pool filter, sort key and
 * direction, tag filter and playback state, turns keys into state changes
 * and renders the screen as text lines. Counters come from the replay's
 * timeline only.
 */
#ifndef POOLTRACE_TOPVIEW_H
#define POOLTRACE_TOPVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pooltrace/event.h"
#include "pooltrace/replay.h"
#include "pooltrace/report.h"
#include "pooltrace/verdict.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pt_topview;
struct pt_tagmap;

/* Keys that are not plain characters (characters are passed as themselves). */
enum {
	PT_TOPKEY_LEFT = 0x1000,
	PT_TOPKEY_RIGHT,
	PT_TOPKEY_UP,
	PT_TOPKEY_DOWN,
	PT_TOPKEY_PGUP,
	PT_TOPKEY_PGDN,
	PT_TOPKEY_HOME,
	PT_TOPKEY_END,
	PT_TOPKEY_ENTER,
	PT_TOPKEY_BACKSPACE,
	PT_TOPKEY_ESC
};

/* pt_topview_key() result bits. */
#define PT_TOPV_REDRAW 0x1u /* the screen changed */
#define PT_TOPV_QUIT 0x2u   /* the user asked to quit */

/* Where the view time lies. */
enum pt_top_phase {
	PT_TOP_BEFORE = 0, /* before workload start */
	PT_TOP_WORKLOAD,   /* workload start .. workload end */
	PT_TOP_COOLDOWN    /* workload end .. trace end */
};

/* Line kinds handed to the renderer callback (attr = kind | PT_TOPA_* bits). */
enum pt_top_line {
	PT_TOPL_HEADER = 0, /* trace facts and pool totals */
	PT_TOPL_INFO,       /* sort, pools, filter */
	PT_TOPL_COLUMNS,    /* column titles */
	PT_TOPL_TOTALS,     /* the totals line (E) */
	PT_TOPL_ROW,        /* one tag */
	PT_TOPL_HELP,       /* help overlay */
	PT_TOPL_STATUS,     /* time, phase, playback, leak flags */
	PT_TOPL_PROMPT      /* filter being typed */
};
#define PT_TOPL_KIND_MASK 0xffu
#define PT_TOPA_CHANGED 0x100u /* row changed since the previous refresh */
#define PT_TOPA_LEAK 0x200u    /* row judged a leak */
#define PT_TOPA_SUSPECT 0x400u /* row judged a suspect */

/* Start-up settings. */
struct pt_topview_opts {
	const struct pt_replay *rp;            /* finished replay (required) */
	const struct pt_tag_verdict *verdicts; /* aligned with pt_replay_stats(); may be NULL */
	const struct pt_trace_meta *meta;      /* may be NULL */
	const struct pt_tagmap *tagmap;        /* tag -> driver; may be NULL */
	const char *input_name;                /* shown in the header; may be NULL */
	enum pt_sort sort;                     /* default PT_SORT_BYTES */
	bool ascending;
	bool sort_by_change;
	enum pt_pool_filter pools;
	bool totals;
	const char *filter;                    /* tag pattern (pt_tag_match); NULL or "" = all */
	double speed;                          /* trace time per wall time; 0 = automatic */
	bool paused;
	bool has_at;                           /* start at this time instead of trace start */
	uint64_t at_ns;
	bool at_captured;                      /* the replay was made with this --at (exact table) */
	bool once;                             /* one still screen: deltas against one interval earlier */
};

/* One row of the table at the view time. */
struct pt_topview_row {
	size_t stat;                /* index into pt_replay_stats() */
	struct pt_counts c;         /* counters at the view time */
	int64_t d_allocs, d_frees;  /* change since the previous refresh */
	int64_t d_diff, d_bytes;
	int64_t d_per_alloc;
	bool changed;
	enum pt_verdict_kind verdict;
};

/* Header totals at the view time (all tags, whatever the filters). */
struct pt_topview_totals {
	uint64_t nonpaged_bytes, paged_bytes;
	uint64_t live;                      /* allocations outstanding */
	struct pt_counts shown;             /* sum over the visible rows */
	int64_t d_allocs, d_frees, d_bytes; /* change of the visible rows */
};

/** pt_topview_opts_init() - defaults: sort by bytes, both pools, playing, automatic speed. */
void pt_topview_opts_init(struct pt_topview_opts *o);

/**
 * pt_topview_new() - a view over a finished replay.
 * @return: the view, or NULL when out of memory or o->rp is NULL.
 */
struct pt_topview *pt_topview_new(const struct pt_topview_opts *o);

/** pt_topview_free() - free a view; NULL is accepted. */
void pt_topview_free(struct pt_topview *v);

/**
 * pt_topview_key() - apply one key (PoolMon's letters in either case, ( ) / ?
 * space [ ] w c, or a PT_TOPKEY_* code).
 * @return: PT_TOPV_* bits.
 */
unsigned pt_topview_key(struct pt_topview *v, int key);

/**
 * pt_topview_tick() - playback: wall_ns of wall-clock time went by. Moves
 * the time by whole intervals at the current speed unless paused; pauses
 * at trace end. @return: true when the time moved.
 */
bool pt_topview_tick(struct pt_topview *v, uint64_t wall_ns);

/**
 * pt_topview_seek() - show the table at t_ns (clamped to the trace); the
 * previous time becomes the base of the "( )" deltas.
 */
void pt_topview_seek(struct pt_topview *v, uint64_t t_ns);

/** pt_topview_step() - move n intervals (negative: back) along the interval edges. */
void pt_topview_step(struct pt_topview *v, int n);

/** pt_topview_time() - the view time, ns since trace start. */
uint64_t pt_topview_time(const struct pt_topview *v);

/** pt_topview_prev_time() - the time the deltas are taken against. */
uint64_t pt_topview_prev_time(const struct pt_topview *v);

/** pt_topview_phase() - which phase the view time lies in. */
enum pt_top_phase pt_topview_phase(const struct pt_topview *v);

/** pt_topview_phase_name() - "before workload", "workload" or "cool-down". */
const char *pt_topview_phase_name(enum pt_top_phase p);

/** pt_topview_paused() - true when playback is paused. */
bool pt_topview_paused(const struct pt_topview *v);

/** pt_topview_speed() - trace time per wall time. */
double pt_topview_speed(const struct pt_topview *v);

/** pt_topview_pools() - the pool filter (P cycles it). */
enum pt_pool_filter pt_topview_pools(const struct pt_topview *v);

/** pt_topview_sort() - the sort key; @ascending, @by_change may be NULL. */
enum pt_sort pt_topview_sort(const struct pt_topview *v, bool *ascending, bool *by_change);

/** pt_topview_filter() - the tag pattern in force ("" = all). */
const char *pt_topview_filter(const struct pt_topview *v);

/**
 * pt_topview_rows() - the visible rows at the view time, filtered and sorted.
 * @n: receives the count. @return: borrowed until the next call changing the view,
 * or NULL with *n == 0 when out of memory.
 */
const struct pt_topview_row *pt_topview_rows(struct pt_topview *v, size_t *n);

/** pt_topview_totals() - header and totals-line numbers at the view time. */
void pt_topview_totals(struct pt_topview *v, struct pt_topview_totals *out);

/** pt_topview_counts_at() - counters of one entry at t_ns as the view shows them. */
void pt_topview_counts_at(const struct pt_topview *v, size_t stat, uint64_t t_ns,
			  struct pt_counts *out);

/** Renderer callback: one screen line; @attr is a pt_top_line kind plus PT_TOPA_* bits. */
typedef void (*pt_topview_line_fn)(void *ctx, int y, unsigned attr, const char *text);

/**
 * pt_topview_render() - lay out the screen and hand every line to @fn.
 * @width: columns (0 = no limit); lines are cut to it.
 * @height: lines (0 = every row, the status line last).
 * @return: the number of lines emitted.
 */
int pt_topview_render(struct pt_topview *v, int width, int height, pt_topview_line_fn fn,
		      void *ctx);

/** pt_topview_status() - the status line text (time, phase, playback, leak flags). @return buf. */
char *pt_topview_status(struct pt_topview *v, char *buf, size_t bufsz);

#ifdef __cplusplus
}
#endif
#endif
