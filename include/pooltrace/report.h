/* SPDX-License-Identifier: MIT */
/* Reporters: one per output format, behind one ops table. */
#ifndef POOLTRACE_REPORT_H
#define POOLTRACE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pooltrace/event.h"
#include "pooltrace/replay.h"
#include "pooltrace/tagmap.h"
#include "pooltrace/verdict.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pt_tagfilter;

/* PoolMon's sort keys. */
enum pt_sort {
	PT_SORT_TAG = 0,
	PT_SORT_ALLOCS,
	PT_SORT_FREES,
	PT_SORT_DIFF,
	PT_SORT_BYTES,
	PT_SORT_PER_ALLOC
};

/* Which pools a table shows (PoolMon's /p). */
enum pt_pool_filter {
	PT_POOLSEL_BOTH = 0,
	PT_POOLSEL_NONPAGED,
	PT_POOLSEL_PAGED
};

struct pt_report_opts {
	enum pt_sort sort;
	bool sort_ascending;      /* default: tag ascending, numbers descending */
	enum pt_pool_filter pools;
	bool totals;              /* totals line (PoolMon /e) */
	bool deltas;              /* "( )" change columns against the previous point */
	uint64_t delta_ns;        /* deltas against this many ns before the table time (0 = one interval) */
	bool has_at;
	uint64_t at_ns;           /* table at this time instead of trace end */
	size_t limit;             /* rows at most (0 = all) */
	bool color;               /* ANSI colour (text reporter) */
	const struct pt_tagfilter *filter; /* --tags / --exclude (may be NULL) */
	const char *command_line; /* how the report was produced, for the record */
	const char *input_name;
	bool csv_series;          /* csv reporter: time series instead of the per-tag summary */
};

/* Everything a reporter needs, assembled by the caller. */
struct pt_report {
	const struct pt_replay *rp;
	const struct pt_tags *tags;
	const struct pt_trace_meta *meta;
	const struct pt_tag_verdict *verdicts; /* aligned with pt_replay_stats() */
	const struct pt_report_opts *opts;
	const size_t *rows;       /* stat indices to show, filtered and sorted */
	size_t nrows;
	uint64_t reader_skipped_bad, reader_skipped_other, reader_warnings;
	const char *incomplete;   /* why the trace is incomplete (its file or gzip stream was cut
				   * short), NULL when it was read to its end */
	const struct pt_tagmap *tagmap; /* tag -> driver names; may be NULL */
};

struct pt_tagmap;

struct pt_reporter_ops {
	const char *name;         /* "text", "json", ... (used by --format) */
	const char *description;
	/* Write the whole report. @return 0 or a negative PT_E* code. */
	int (*write)(const struct pt_report *rep, FILE *out);
};

/** pt_reporter_list() - the registered reporters, NULL-terminated. */
const struct pt_reporter_ops *const *pt_reporter_list(void);

/** pt_reporter_find() - a reporter by name, NULL if none. */
const struct pt_reporter_ops *pt_reporter_find(const char *name);

/**
 * pt_report_rows() - the stat indices a table shows: pool filter applied,
 * sorted by opts->sort (ties broken by tag, then pool type).
 * @out: receives a malloc'ed array (free()). @n: its length.
 * @return: 0 or PT_ENOMEM.
 */
int pt_report_rows(const struct pt_replay *rp, const struct pt_report_opts *opts,
		   size_t **out, size_t *n);

/**
 * pt_report_counts() - the counters a table shows for one entry: at
 * opts->at_ns when set, else at trace end.
 */
void pt_report_counts(const struct pt_report *rep, size_t stat, struct pt_counts *out);

/* Verdict counts over the tags a report covers (hidden ones left out). */
struct pt_verdict_summary {
	size_t leak, suspect, ok;  /* suppressed tags are not in these */
	size_t suppressed;
};

/** pt_report_summary() - count the verdicts of the tags not hidden by --tags/--exclude. */
void pt_report_summary(const struct pt_report *rep, struct pt_verdict_summary *out);

/** pt_sort_parse() - "tag", "allocs", "frees", "diff", "bytes", "per-alloc" (or PoolMon letters t a f d b m). */
int pt_sort_parse(const char *s, enum pt_sort *out);

/** pt_per_alloc() - Bytes / Diff as PoolMon shows it (0 when Diff <= 0). */
uint64_t pt_per_alloc(const struct pt_counts *c);

/* Escapers: each handles NULL as "". They write to out and return 0 or PT_EIO. */
/** pt_json_string() - a JSON string literal, quotes included; bytes >= 0x80 that are not UTF-8 become \u00XX. */
int pt_json_string(FILE *out, const char *s);
/** pt_html_escape() - text safe in HTML element content and quoted attributes. */
int pt_html_escape(FILE *out, const char *s);
/** pt_csv_field() - one RFC 4180 field (quoted when needed). */
int pt_csv_field(FILE *out, const char *s);

/** pt_md_escape() - text safe in a Markdown table cell (| \\ ` * _ [ ] < > # and friends escaped, newlines as spaces). */
int pt_md_escape(FILE *out, const char *s);

/**
 * pt_report_mapping() - the tag map entry for one stat index; NULL without
 * a tag map or when the tag is not in it.
 */
const struct pt_tagmap_entry *pt_report_mapping(const struct pt_report *rep, size_t stat);

/**
 * pt_report_chart_set() - the entries worth a chart: leaks, then suspects
 * (highest score first), then the largest others by peak outstanding bytes,
 * at most @max in all; entries that never held bytes are left out.
 * @out: at least @max elements. @return: how many were written.
 */
size_t pt_report_chart_set(const struct pt_report *rep, size_t *out, size_t max);

/** pt_report_bucket_end_ns() - the time a timeline bucket ends (capped at trace end). */
uint64_t pt_report_bucket_end_ns(const struct pt_replay *rp, uint32_t b);

/** pt_report_verdict_counts() - pt_report_summary() as n[PT_VERDICT_*] (hidden and suppressed tags left out). */
void pt_report_verdict_counts(const struct pt_report *rep, size_t n[3]);

/**
 * pt_report_stack_frames() - number of frames of a stack id (0 for an unknown id).
 */
uint32_t pt_report_stack_frames(const struct pt_report *rep, uint32_t stack);

/**
 * pt_report_frame() - frame i (0 = innermost) of a stack as "module+0xOFFSET",
 * or "0xADDRESS" where no image event of the trace covers it, into buf.
 * @return: buf.
 */
char *pt_report_frame(const struct pt_report *rep, uint32_t stack, uint32_t i, char *buf,
		      size_t bufsz);

/**
 * pt_report_stack_text() - up to max_frames frames of a stack joined with
 * " <- " (innermost first), with " <- ..." when cut, into buf (plain text,
 * escape it for the output format).
 * @return: buf.
 */
char *pt_report_stack_text(const struct pt_report *rep, uint32_t stack, uint32_t max_frames,
			   char *buf, size_t bufsz);

/** pt_format_time() - "12.345 s" style time since trace start into buf. @return buf. */
char *pt_format_time(uint64_t ns, char *buf, size_t bufsz);

/** pt_format_bytes() - "1.5 MiB" style into buf. @return buf. */
char *pt_format_bytes(uint64_t bytes, char *buf, size_t bufsz);

#ifdef __cplusplus
}
#endif
#endif
