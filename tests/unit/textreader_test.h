/* SPDX-License-Identifier: MIT */
/* Shared by the text reader tests: open a reader on a string, collect its events. */
#ifndef PT_TEXTREADER_TEST_H
#define PT_TEXTREADER_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "pooltrace/pooltrace.h"

/* One event as returned, with its marker text copied. */
struct tr_event {
	struct pt_event ev;
	char marker[128];
};

struct tr_run {
	struct pt_tags *tags;
	struct pt_reader *r;
	struct tr_event *evs;
	size_t n;
	int rc;           /* open or last next() result: 0 ok, < 0 error */
	char err[512];
};

static inline void tr_collect(struct tr_run *t)
{
	struct pt_event ev;
	size_t cap = 0;
	int rc;
	while ((rc = pt_reader_next(t->r, &ev)) > 0) {
		if (t->n == cap) {
			cap = cap ? cap * 2 : 256;
			t->evs = realloc(t->evs, cap * sizeof(*t->evs));
			assert_non_null(t->evs);
		}
		t->evs[t->n].ev = ev;
		t->evs[t->n].marker[0] = '\0';
		if (ev.kind == PT_EV_MARKER && ev.marker)
			snprintf(t->evs[t->n].marker, sizeof(t->evs[t->n].marker), "%s", ev.marker);
		t->evs[t->n].ev.marker = NULL;
		t->n++;
	}
	t->rc = rc;
	if (rc < 0)
		snprintf(t->err, sizeof(t->err), "%s", pt_reader_errmsg(t->r));
}

/* Run a reader over data (any bytes); format NULL = probe. */
static inline void tr_run_mem(struct tr_run *t, const void *data, size_t len, const char *name,
			      const char *format, const struct pt_reader_opts *opts)
{
	struct pt_input *in;
	memset(t, 0, sizeof(*t));
	t->tags = pt_tags_new(0);
	assert_non_null(t->tags);
	assert_int_equal(pt_input_open_memory(&in, data, len, name), 0);
	struct pt_reader_opts o = {0};
	if (opts)
		o = *opts;
	o.quiet = true;
	t->rc = pt_reader_open_input(&t->r, in, format, t->tags, &o, t->err, sizeof(t->err));
	if (t->rc < 0)
		return;
	tr_collect(t);
}

static inline void tr_run_str(struct tr_run *t, const char *text, const char *format,
			      const struct pt_reader_opts *opts)
{
	tr_run_mem(t, text, strlen(text), "test.txt", format, opts);
}

/* Run a reader over a file or folder path. */
static inline void tr_run_path(struct tr_run *t, const char *path, const char *format,
			       const struct pt_reader_opts *opts)
{
	memset(t, 0, sizeof(*t));
	t->tags = pt_tags_new(0);
	assert_non_null(t->tags);
	struct pt_reader_opts o = {0};
	if (opts)
		o = *opts;
	o.quiet = true;
	t->rc = pt_reader_open(&t->r, path, format, t->tags, &o, t->err, sizeof(t->err));
	if (t->rc < 0)
		return;
	tr_collect(t);
}

static inline void tr_free(struct tr_run *t)
{
	pt_reader_free(t->r);
	pt_tags_free(t->tags);
	free(t->evs);
	memset(t, 0, sizeof(*t));
}

/* The display form of an event's tag ("" for none). */
static inline const char *tr_tag(struct tr_run *t, size_t i, char *buf, size_t bufsz)
{
	if (t->evs[i].ev.tag == PT_TAG_NONE) {
		buf[0] = '\0';
		return buf;
	}
	return pt_tags_display(t->tags, t->evs[i].ev.tag, buf, bufsz);
}

/* CRLF copy of text (malloc'ed). */
static inline char *tr_crlf(const char *text)
{
	size_t n = strlen(text);
	char *out = malloc(2 * n + 1);
	assert_non_null(out);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\n')
			out[o++] = '\r';
		out[o++] = text[i];
	}
	out[o] = '\0';
	return out;
}

/* gzip-compress text (malloc'ed, length in *outlen). */
static inline unsigned char *tr_gzip(const char *text, size_t *outlen)
{
	size_t n = strlen(text);
	size_t cap = n + n / 2 + 128;
	unsigned char *out = malloc(cap);
	assert_non_null(out);
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (unsigned char *)(uintptr_t)text;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* Count events of one kind. */
static inline size_t tr_count(const struct tr_run *t, enum pt_event_kind kind)
{
	size_t c = 0;
	for (size_t i = 0; i < t->n; i++)
		c += t->evs[i].ev.kind == kind;
	return c;
}

#endif
