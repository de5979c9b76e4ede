/* SPDX-License-Identifier: MIT */
/* Trace readers: one per format, behind one small ops table, probed by content. */
#ifndef POOLTRACE_READER_H
#define POOLTRACE_READER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pooltrace/event.h"
#include "pooltrace/input.h"
#include "pooltrace/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pt_reader;

/* Options every reader honours. Zero-initialise, then set what you need. */
struct pt_reader_opts {
	bool keep_going;          /* skip bad events (counted) instead of failing */
	bool quiet;               /* no warnings on stderr */
	uint64_t max_line;        /* text formats: longest line (0 = 1 MiB) */
	uint64_t max_decompressed;/* cap on decompressed bytes of one buffer/chunk (0 = 256 MiB) */
	uint64_t max_xml_depth;   /* XML: deepest element nesting (0 = 256) */
	uint64_t max_xml_node;    /* XML: longest tag or text run in bytes (0 = 8 MiB) */
	double snapshot_interval_s; /* snapshot logs: seconds between snapshots when the log has no times (0 = unset) */
};

/*
 * The ops table of one format. A reader keeps its state in r->priv.
 * next() fills *ev (already pt_event_init()ed) and returns 1, 0 at end
 * of input, or a negative PT_E* after calling pt_reader_error().
 */
struct pt_reader_ops {
	const char *name;         /* "tracerpt-xml", "etl", ... (used by --format) */
	const char *description;  /* one line for --help */
	/* Confidence 0..100 that head (the first bytes, decompressed) is this format. */
	int (*probe)(const uint8_t *head, size_t len);
	int (*open)(struct pt_reader *r);
	int (*next)(struct pt_reader *r, struct pt_event *ev);
	void (*close)(struct pt_reader *r);
	/*
	 * Optional (NULL allowed): format-specific details for `pooltrace info`,
	 * best called after next() returned 0. Text: "  key: value" lines.
	 * JSON: one object, no trailing newline. @return 0 or a negative PT_E*.
	 */
	int (*describe)(struct pt_reader *r, FILE *out, bool json);
	/*
	 * Optional (NULL: next() in a loop): fill up to max events, each
	 * pt_event_init()ed by the reader, ending the batch after a marker,
	 * stack or image event (their text and frames are borrowed).
	 * @return: events filled (> 0), 0 at end, or a negative PT_E*. An error
	 * after some events were filled goes to r->pending_err and the events
	 * are returned.
	 */
	int (*next_batch)(struct pt_reader *r, struct pt_event *evs, size_t max);
	/*
	 * true: pt_replay_run() reads this format in the calling thread even
	 * with a CPU to spare, because decoding it costs less than handing its
	 * events to another core (docs/performance.md, "Native" and "Replay:
	 * the live map"). The gzip input layer's inflate thread is separate.
	 */
	bool serial;
};

/* Reader state shared by all formats (the part a format file may touch). */
struct pt_reader {
	const struct pt_reader_ops *ops;
	struct pt_input *in;          /* owned */
	struct pt_tags *tags;         /* borrowed: where tags are interned */
	struct pt_reader_opts opts;
	struct pt_trace_meta meta;    /* filled by open() and updated by next() */
	void *priv;                   /* the format's own state */
	uint64_t events;              /* events returned */
	uint64_t skipped_bad;         /* bad events skipped with keep_going */
	uint64_t skipped_other;       /* well-formed events of no interest */
	uint64_t warnings;            /* warnings issued */
	int pending_err;              /* pt_reader_next_batch(): error held back for the next call */
	bool cut_short;               /* the input ended early (a file or gzip stream cut
				       * off): the events up to there were read */
	bool stopped_;                /* ended (at a cut, or seen by a batch): next() returns 0 from now on */
	char cut_short_msg[512];      /* the first warning that said so */
	char errmsg[512];
};

/**
 * pt_reader_open() - open a trace, detecting its format.
 * @out: receives the reader.
 * @path: file path or "-" for stdin.
 * @format: a reader name to force, or NULL to probe.
 * @tags: table the reader interns tags into (borrowed, must outlive the reader).
 * @opts: may be NULL for defaults.
 * @err, @errsz: a one-line message on failure.
 * @return: 0 or a negative PT_E* code.
 */
int pt_reader_open(struct pt_reader **out, const char *path, const char *format,
		   struct pt_tags *tags, const struct pt_reader_opts *opts,
		   char *err, size_t errsz);

/**
 * pt_reader_open_input() - as pt_reader_open() on an already open input,
 * which the reader takes over (freed by pt_reader_free(), also on failure).
 */
int pt_reader_open_input(struct pt_reader **out, struct pt_input *in, const char *format,
			 struct pt_tags *tags, const struct pt_reader_opts *opts,
			 char *err, size_t errsz);

/**
 * pt_reader_next() - the next event in time order.
 * When a gzip input was cut short, the reader ends there with a warning
 * (r->cut_short set); an error of the format's parser after it reached the
 * cut (a record cut in half) becomes part of that warning, not an error.
 * @return: 1 with *ev filled, 0 at end, negative PT_E* on error (message in
 *          pt_reader_errmsg()).
 */
int pt_reader_next(struct pt_reader *r, struct pt_event *ev);

/**
 * pt_reader_next_batch() - up to max next events in time order, as max calls
 * of pt_reader_next() would give them. A batch ends after a marker, stack or
 * image event, so its borrowed text or frames stay valid until the next call.
 * An error after some events were read is returned by the next call.
 * @return: number of events (> 0), 0 at end, negative PT_E* on error.
 */
int pt_reader_next_batch(struct pt_reader *r, struct pt_event *evs, size_t max);

/** pt_reader_errmsg() - "file:line: what was expected" of the last error. */
const char *pt_reader_errmsg(const struct pt_reader *r);

/** pt_reader_meta() - trace metadata; complete after the last event. */
const struct pt_trace_meta *pt_reader_meta(const struct pt_reader *r);

/** pt_reader_free() - close the reader and its input; NULL is accepted. */
void pt_reader_free(struct pt_reader *r);

/**
 * pt_reader_list() - the registered readers, NULL-terminated, in probe order.
 */
const struct pt_reader_ops *const *pt_reader_list(void);

/** pt_reader_find() - a reader by name, NULL if none. */
const struct pt_reader_ops *pt_reader_find(const char *name);

/* --- for reader implementations --- */

/**
 * pt_reader_error() - record an error message prefixed with the input name
 * (and ":LINE" when line > 0, or ":offset N" via pt_reader_error_at()).
 * @return: code, so a reader can `return pt_reader_error(r, PT_EFORMAT, ...)`.
 */
int pt_reader_error(struct pt_reader *r, int code, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** pt_reader_error_at() - as pt_reader_error() with a byte offset instead of a line. */
int pt_reader_error_at(struct pt_reader *r, int code, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/**
 * pt_reader_warn_cut() - the input ends early (a file cut off mid-record):
 * a warning as pt_reader_warn(r, 0, ...) that also sets r->cut_short and
 * keeps the first such text in r->cut_short_msg ("file: ...").
 */
void pt_reader_warn_cut(struct pt_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * pt_reader_warn() - a warning "file:line: warning: ..." on stderr (unless
 * opts.quiet); counted in r->warnings. After 20 only the count grows.
 */
void pt_reader_warn(struct pt_reader *r, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
