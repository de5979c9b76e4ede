/* SPDX-License-Identifier: MIT */
/* Which tags a report shows (--tags, --exclude) and which leaks are suppressed (--suppress). */
#ifndef POOLTRACE_TAGFILTER_H
#define POOLTRACE_TAGFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pt_tagfilter;

/** pt_tagfilter_new() - an empty filter (shows everything). NULL when out of memory. */
struct pt_tagfilter *pt_tagfilter_new(void);

/** pt_tagfilter_free() - NULL is accepted. */
void pt_tagfilter_free(struct pt_tagfilter *f);

/**
 * pt_tagfilter_add() - add comma-separated PoolMon patterns ('*' any run,
 * '?' one character, case-sensitive) to the include list (@exclude false:
 * only matching tags are shown) or the exclude list.
 * @return: 0, PT_EUSAGE for an empty pattern, PT_ENOMEM.
 */
int pt_tagfilter_add(struct pt_tagfilter *f, const char *patterns, bool exclude);

/**
 * pt_tagfilter_load_suppressions() - read a suppression file: one
 * "PATTERN reason..." per line; blank lines and lines starting with '#'
 * are skipped. A pattern without a reason is an error.
 * @return: 0 or a negative PT_E* code with "file:line: ..." in err.
 */
int pt_tagfilter_load_suppressions(struct pt_tagfilter *f, const char *path, char *err,
				   size_t errsz);

/** pt_tagfilter_shown() - true when the include/exclude lists let this tag through. */
bool pt_tagfilter_shown(const struct pt_tagfilter *f, const uint8_t *tag, size_t len);

/**
 * pt_tagfilter_suppressed() - the reason a tag's leak is suppressed, or
 * NULL. The string lives as long as the filter.
 */
const char *pt_tagfilter_suppressed(const struct pt_tagfilter *f, const uint8_t *tag, size_t len);

#ifdef __cplusplus
}
#endif
#endif
