/* SPDX-License-Identifier: MIT */
/* Reader front end: format detection, the shared state, error and warning text. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/reader.h"

#define MAX_WARNINGS_SHOWN 20

static void set_msg(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_msg(char *err, size_t errsz, const char *fmt, ...)
{
	if (!err || !errsz)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

int pt_reader_open_input(struct pt_reader **out, struct pt_input *in, const char *format,
			 struct pt_tags *tags, const struct pt_reader_opts *opts,
			 char *err, size_t errsz)
{
	*out = NULL;
	const struct pt_reader_ops *ops = NULL;
	if (format) {
		ops = pt_reader_find(format);
		if (!ops) {
			set_msg(err, errsz, "unknown format '%s' (see pooltrace --help)", format);
			pt_input_free(in);
			return PT_EUSAGE;
		}
	} else {
		size_t got;
		const uint8_t *head = pt_input_peek(in, PT_INPUT_PEEK_MAX, &got);
		if (!head) {
			set_msg(err, errsz, "%s", pt_input_error(in));
			pt_input_free(in);
			return PT_EIO;
		}
		if (got == 0 && pt_input_cut_short(in)) {
			set_msg(err, errsz, "%s; nothing in it inflates", pt_input_cut_short(in));
			pt_input_free(in);
			return PT_ETRUNCATED;
		}
		if (got == 0) {
			set_msg(err, errsz, "%s: empty input", pt_input_name(in));
			pt_input_free(in);
			return PT_EUNKNOWN_FORMAT;
		}
		int best = 0;
		const struct pt_reader_ops *const *list = pt_reader_list();
		for (size_t i = 0; list[i]; i++) {
			int score = list[i]->probe(head, got);
			if (score > best) {
				best = score;
				ops = list[i];
			}
		}
		if (!ops) {
			set_msg(err, errsz,
				"%s: not a trace format pooltrace knows (tracerpt XML, ETL, xperf text, "
				"PoolMon log, ftrace, native); use --input-format to force one",
				pt_input_name(in));
			pt_input_free(in);
			return PT_EUNKNOWN_FORMAT;
		}
	}
	struct pt_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		pt_input_free(in);
		return PT_ENOMEM;
	}
	r->ops = ops;
	r->in = in;
	r->tags = tags;
	if (opts)
		r->opts = *opts;
	if (!r->opts.max_line)
		r->opts.max_line = 1u << 20;
	if (!r->opts.max_decompressed)
		r->opts.max_decompressed = 256u << 20;
	if (!r->opts.max_xml_depth)
		r->opts.max_xml_depth = 256;
	if (!r->opts.max_xml_node)
		r->opts.max_xml_node = 8u << 20;
	pt_trace_meta_init(&r->meta);
	snprintf(r->meta.format, sizeof(r->meta.format), "%s", ops->name);
	int rc = ops->open(r);
	if (rc < 0) {
		const char *cut = pt_input_cut_short(in);
		if (cut)
			set_msg(err, errsz, "%s (%s)", r->errmsg[0] ? r->errmsg : pt_strerror(rc), cut);
		else
			set_msg(err, errsz, "%s", r->errmsg[0] ? r->errmsg : pt_strerror(rc));
		pt_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int pt_reader_open(struct pt_reader **out, const char *path, const char *format,
		   struct pt_tags *tags, const struct pt_reader_opts *opts,
		   char *err, size_t errsz)
{
	struct pt_input *in;
	*out = NULL;
	int rc = pt_input_open(&in, path, err, errsz);
	if (rc < 0)
		return rc;
	return pt_reader_open_input(out, in, format, tags, opts, err, errsz);
}

/* Record that the input ends early; the first message is kept for the report. */
static void note_cut(struct pt_reader *r, const char *msg)
{
	if (!r->cut_short)
		snprintf(r->cut_short_msg, sizeof(r->cut_short_msg), "%s", msg);
	r->cut_short = true;
}

/* pt_reader_next() after next() returned rc <= 0: error text, a cut input. */
static int next_end(struct pt_reader *r, int rc)
{
	if (rc < 0 && !r->errmsg[0]) {
		const char *ie = pt_input_error(r->in);
		snprintf(r->errmsg, sizeof(r->errmsg), "%s",
			 ie[0] ? ie : pt_strerror(rc));
	}
	const char *cut = pt_input_cut_short(r->in);
	if (!cut)
		return rc;
	/* a gzip stream cut short: everything that inflated has been read */
	if (rc < 0 && rc != PT_EFORMAT && rc != PT_ETRUNCATED)
		return rc; /* out of memory, a cap: not caused by the cut */
	char msg[sizeof(r->cut_short_msg)];
	if (rc < 0) {
		/* the parser met the cut inside a record: that last part is dropped */
		snprintf(msg, sizeof(msg), "%.200s (the incomplete end is dropped: %.250s)", cut,
			 r->errmsg);
		r->errmsg[0] = '\0';
	} else {
		snprintf(msg, sizeof(msg), "%s", cut);
	}
	/* pt_reader_warn() puts "file: warning: " in front: leave out our own name */
	const char *name = pt_input_name(r->in);
	size_t nl = strlen(name);
	const char *text = !strncmp(msg, name, nl) && !strncmp(msg + nl, ": ", 2) ? msg + nl + 2 : msg;
	if (!r->stopped_)
		pt_reader_warn(r, 0, "%s", text);
	/* the cut stream is the cause of any cut the format met before: it is the one reported */
	snprintf(r->cut_short_msg, sizeof(r->cut_short_msg), "%s", msg);
	r->cut_short = true;
	r->stopped_ = true;
	return 0;
}

int pt_reader_next(struct pt_reader *r, struct pt_event *ev)
{
	pt_event_init(ev);
	if (r->stopped_)
		return 0;
	int rc = r->ops->next(r, ev);
	if (rc > 0) {
		r->events++;
		if (ev->ts_ns > r->meta.end_ns)
			r->meta.end_ns = ev->ts_ns;
		return rc;
	}
	return next_end(r, rc);
}

int pt_reader_next_batch(struct pt_reader *r, struct pt_event *evs, size_t max)
{
	size_t n = 0;
	int rc = 1;
	if (r->pending_err)
		return r->pending_err; /* sticky, as a failing next() keeps failing */
	if (r->stopped_ || max == 0)
		return 0;
	if (max > INT_MAX)
		max = INT_MAX;
	if (r->ops->next_batch) {
		rc = r->ops->next_batch(r, evs, max);
		if (rc > 0) {
			n = (size_t)rc;
			rc = r->pending_err ? r->pending_err : 1;
			r->pending_err = 0;
		}
	} else {
		while (n < max) {
			pt_event_init(&evs[n]);
			rc = r->ops->next(r, &evs[n]);
			if (rc <= 0)
				break;
			if (pt_event_borrows(&evs[n++]))
				break;
		}
	}
	uint64_t end = r->meta.end_ns;
	for (size_t i = 0; i < n; i++)
		end = evs[i].ts_ns > end ? evs[i].ts_ns : end;
	r->meta.end_ns = end;
	r->events += n;
	if (rc <= 0) {
		/* the input ended or failed after these n events: as pt_reader_next() */
		rc = next_end(r, rc);
		if (rc == 0)
			r->stopped_ = true; /* the end is reached: later calls return 0 */
		else if (n)
			r->pending_err = rc;
	}
	return n ? (int)n : (rc > 0 ? 0 : rc);
}

const char *pt_reader_errmsg(const struct pt_reader *r)
{
	return r->errmsg;
}

const struct pt_trace_meta *pt_reader_meta(const struct pt_reader *r)
{
	return &r->meta;
}

void pt_reader_free(struct pt_reader *r)
{
	if (!r)
		return;
	if (r->ops && r->ops->close)
		r->ops->close(r);
	pt_input_free(r->in);
	free(r);
}

static int verror(struct pt_reader *r, int code, const char *where, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int verror(struct pt_reader *r, int code, const char *where, const char *fmt, va_list ap)
{
	int n = snprintf(r->errmsg, sizeof(r->errmsg), "%s%s: ", pt_input_name(r->in), where);
	if (n < 0 || (size_t)n >= sizeof(r->errmsg))
		return code;
	vsnprintf(r->errmsg + n, sizeof(r->errmsg) - (size_t)n, fmt, ap);
	return code;
}

int pt_reader_error(struct pt_reader *r, int code, uint64_t line, const char *fmt, ...)
{
	char where[32] = "";
	if (line)
		snprintf(where, sizeof(where), ":%llu", (unsigned long long)line);
	va_list ap;
	va_start(ap, fmt);
	verror(r, code, where, fmt, ap);
	va_end(ap);
	return code;
}

int pt_reader_error_at(struct pt_reader *r, int code, uint64_t offset, const char *fmt, ...)
{
	char where[48];
	snprintf(where, sizeof(where), ": offset %llu (0x%llx)", (unsigned long long)offset,
		 (unsigned long long)offset);
	va_list ap;
	va_start(ap, fmt);
	verror(r, code, where, fmt, ap);
	va_end(ap);
	return code;
}

void pt_reader_warn_cut(struct pt_reader *r, const char *fmt, ...)
{
	char text[sizeof(r->cut_short_msg)], msg[sizeof(r->cut_short_msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pt_reader_warn(r, 0, "%s", text);
	snprintf(msg, sizeof(msg), "%s: %.*s", pt_input_name(r->in), (int)(sizeof(msg) / 2), text);
	note_cut(r, msg);
}

void pt_reader_warn(struct pt_reader *r, uint64_t line, const char *fmt, ...)
{
	r->warnings++;
	if (r->opts.quiet || r->warnings > MAX_WARNINGS_SHOWN)
		return;
	if (line)
		fprintf(stderr, "%s:%llu: warning: ", pt_input_name(r->in), (unsigned long long)line);
	else
		fprintf(stderr, "%s: warning: ", pt_input_name(r->in));
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (r->warnings == MAX_WARNINGS_SHOWN)
		fprintf(stderr, "%s: further warnings are counted, not shown\n", pt_input_name(r->in));
}
