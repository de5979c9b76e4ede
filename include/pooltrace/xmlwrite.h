/* SPDX-License-Identifier: MIT */
/*
 * tracerpt-style XML output (what the tracerpt-xml reader reads back), and
 * the timestamp helpers the reader and the writer share.
 */
#ifndef POOLTRACE_XMLWRITE_H
#define POOLTRACE_XMLWRITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pooltrace/event.h"
#include "pooltrace/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pt_xmlw;

/* Output encodings. UTF-16 output starts with a byte order mark. */
enum pt_xmlw_encoding {
	PT_XMLW_UTF8 = 0,
	PT_XMLW_UTF16LE,
	PT_XMLW_UTF16BE
};

struct pt_xmlw_opts {
	enum pt_xmlw_encoding encoding;
};

/**
 * pt_xmlw_new() - a writer of tracerpt-style XML to @out (UTF-8).
 * Nothing is written until the first pt_xmlw_event() or pt_xmlw_finish():
 * then the XML declaration, the <Events> root and an EventTrace header
 * event made from @meta (start time, pointer size, CPUs, PerfFreq, lost
 * counts, host, OS build, logger) come first.
 * @meta, @tags: borrowed; must stay valid until pt_xmlw_free().
 * @return: the writer, or NULL when out of memory.
 */
struct pt_xmlw *pt_xmlw_new(FILE *out, const struct pt_trace_meta *meta, const struct pt_tags *tags);

/**
 * pt_xmlw_new_opts() - as pt_xmlw_new() with options (@opts may be NULL).
 */
struct pt_xmlw *pt_xmlw_new_opts(FILE *out, const struct pt_trace_meta *meta,
				 const struct pt_tags *tags, const struct pt_xmlw_opts *opts);

/**
 * pt_xmlw_event() - write one event as an <Event> element: pool events with
 * the PoolTrace GUID, numeric opcode 32..35 and the RenderingInfo names;
 * markers as PerfInfo "Mark" events with the text in Data Name="Mark".
 * Tags must be at most 4 bytes (shorter ones are padded with spaces).
 * @return: 0; PT_EUNSUPPORTED for snapshot rows, Linux pool kinds or longer
 *          tags (nothing written); PT_EIO when writing failed.
 */
int pt_xmlw_event(struct pt_xmlw *w, const struct pt_event *ev);

/**
 * pt_xmlw_finish() - close the root element and flush.
 * @return: 0 or PT_EIO.
 */
int pt_xmlw_finish(struct pt_xmlw *w);

/** pt_xmlw_free() - free the writer (the FILE is not closed); NULL is accepted. */
void pt_xmlw_free(struct pt_xmlw *w);

/**
 * pt_iso8601_parse() - an xs:dateTime such as "2024-05-01T10:00:00.123456789Z"
 * (fraction of up to 9 digits kept, more are cut; "Z", "+hh:mm", "-hh:mm" or
 * no zone, which is taken as UTC) to ns since the Unix epoch.
 * @s, @len: the text (surrounding white space is ignored).
 * @return: 0 or PT_EFORMAT.
 */
int pt_iso8601_parse(const char *s, size_t len, int64_t *unix_ns);

/**
 * pt_iso8601_format() - ns since the Unix epoch as "YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ".
 * @buf: at least 40 bytes. @return: buf.
 */
char *pt_iso8601_format(int64_t unix_ns, char *buf, size_t bufsz);

/**
 * pt_filetime_to_unix_ns() - a Windows FILETIME (100 ns units since 1601) to
 * ns since the Unix epoch.
 * @return: 0, or PT_EFORMAT for times before 1970 or past 2262.
 */
int pt_filetime_to_unix_ns(uint64_t ft, int64_t *unix_ns);

#ifdef __cplusplus
}
#endif
#endif
