/* SPDX-License-Identifier: MIT */
/* tracerpt-style XML: timestamp helpers shared by the reader and the writer. */
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
