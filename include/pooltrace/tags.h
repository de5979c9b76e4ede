/* SPDX-License-Identifier: MIT */
/* Interned pool tags: byte strings (4 raw bytes on Windows, names on Linux). */
#ifndef POOLTRACE_TAGS_H
#define POOLTRACE_TAGS_H

#include <stddef.h>
#include <stdint.h>

#include "pooltrace/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest tag kept, in bytes (Linux call-site names can be long). */
#define PT_TAG_MAX_LEN 128
/* Buffer size that holds any escaped display form plus NUL. */
#define PT_TAG_DISPLAY_MAX (PT_TAG_MAX_LEN * 4 + 1)

struct pt_tags;

/**
 * pt_tags_new() - create an empty tag table.
 * @max_tags: cap on distinct tags (0 = default 1,000,000); interning past
 *            it fails with PT_ELIMIT.
 * @return: the table, or NULL when out of memory. Free with pt_tags_free().
 */
struct pt_tags *pt_tags_new(size_t max_tags);

/** pt_tags_free() - free a table; NULL is accepted. */
void pt_tags_free(struct pt_tags *t);

/**
 * pt_tags_intern() - the id of a byte string, adding it if new.
 * @bytes, @len: the tag; len 1..PT_TAG_MAX_LEN (longer input is cut to it).
 * @out: receives the id. Ids are dense: 0, 1, 2, ... in first-seen order.
 * @return: 0, PT_EUSAGE for len 0, PT_ENOMEM or PT_ELIMIT.
 */
int pt_tags_intern(struct pt_tags *t, const void *bytes, size_t len, pt_tag_id *out);

/**
 * pt_tags_intern_u32() - intern a Windows tag given as its ULONG value;
 * the 4 bytes are taken little-endian ('Proc' == 0x636F7250).
 */
int pt_tags_intern_u32(struct pt_tags *t, uint32_t tag, pt_tag_id *out);

/** pt_tags_count() - number of distinct tags. */
size_t pt_tags_count(const struct pt_tags *t);

/**
 * pt_tags_bytes() - the raw bytes of a tag.
 * @len: receives the length. @return: borrowed pointer, NULL for a bad id.
 */
const uint8_t *pt_tags_bytes(const struct pt_tags *t, pt_tag_id id, size_t *len);

/**
 * pt_tags_display() - the printable form of a tag: printable ASCII as is,
 * '\\' as "\\\\", other bytes as "\\xNN". Same form in every output.
 * @buf: at least PT_TAG_DISPLAY_MAX bytes. @return: buf.
 */
char *pt_tags_display(const struct pt_tags *t, pt_tag_id id, char *buf, size_t bufsz);

/**
 * pt_tags_hex() - the raw tag bytes as lowercase hex ("4c65616b" for "Leak").
 * @buf: at least PT_TAG_MAX_LEN * 2 + 1 bytes. @return: buf.
 */
char *pt_tags_hex(const struct pt_tags *t, pt_tag_id id, char *buf, size_t bufsz);

/**
 * pt_tag_escape() - the display form of any byte string (as pt_tags_display).
 * @return: buf.
 */
char *pt_tag_escape(const uint8_t *bytes, size_t len, char *buf, size_t bufsz);

/**
 * pt_tag_unescape() - parse a display form ("Leak", "Ab\\x00 ") back to bytes.
 * @out: at least PT_TAG_MAX_LEN bytes. @return: length, or PT_EUSAGE.
 */
int pt_tag_unescape(const char *s, uint8_t *out, size_t outsz);

/**
 * pt_tag_match() - PoolMon-style wildcard match of a tag against a pattern:
 * '*' any run, '?' one byte; case-sensitive like PoolMon. Trailing spaces in
 * the tag are not significant ("Cc  " matches "Cc").
 */
int pt_tag_match(const char *pattern, const uint8_t *tag, size_t len);

#ifdef __cplusplus
}
#endif
#endif
