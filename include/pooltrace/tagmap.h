/* SPDX-License-Identifier: MIT */
/*
 * Tag to driver mapping from pooltag.txt-style files ("Tag - driver.sys -
 * description"), as PoolMon /g shows it in its Mapped_Driver column.
 */
#ifndef POOLTRACE_TAGMAP_H
#define POOLTRACE_TAGMAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pt_tagmap;

/* A buffer that holds any Mapped_Driver text. */
#define PT_MAPPED_MAX 2200

/* One mapping. Strings are valid UTF-8 without control characters. */
struct pt_tagmap_entry {
	const char *tag;    /* as written in the file, trailing spaces removed; may hold ? and * */
	const char *driver; /* binary name ("afd.sys", "nt!cc", "<unknown>"); "" when the line had none */
	const char *desc;   /* description; "" when none */
	const char *file;   /* the file it came from (first one when several added to it) */
	unsigned line;      /* its line in that file */
	int wildcard;       /* 1 when tag holds ? or * */
};

/* What loading saw, over all files. */
struct pt_tagmap_stats {
	size_t files;
	size_t lines;
	size_t entries;     /* distinct tags and patterns */
	size_t patterns;    /* of them with wildcards */
	size_t comments;    /* rem and // lines */
	size_t irregular;   /* lines not in the "Tag - binary - description" form (kept when a tag could be read) */
	size_t skipped;     /* irregular lines nothing could be read from */
	size_t merged;      /* lines naming a tag already known (added to its entry) */
};

/** pt_tagmap_new() - an empty map, or NULL when out of memory. Free with pt_tagmap_free(). */
struct pt_tagmap *pt_tagmap_new(void);

/** pt_tagmap_free() - free a map; NULL is accepted. */
void pt_tagmap_free(struct pt_tagmap *m);

/**
 * pt_tagmap_load_file() - add the lines of one pooltag.txt-style file.
 * Several files can be loaded; later lines for a known tag add to its entry
 * (a real driver name replaces "<unknown>", other names and descriptions are
 * joined with " / "). Bytes that are not UTF-8 are read as Latin-1.
 * @return: 0, PT_EOPEN / PT_EIO (err says which file), PT_ENOMEM or PT_ELIMIT.
 */
int pt_tagmap_load_file(struct pt_tagmap *m, const char *path, char *err, size_t errsz);

/**
 * pt_tagmap_load_buffer() - as pt_tagmap_load_file() for text in memory.
 * @name: shown as the entries' file.
 */
int pt_tagmap_load_buffer(struct pt_tagmap *m, const char *name, const char *text, size_t len);

/**
 * pt_tagmap_lookup() - the entry for a tag: the exact tag first (trailing
 * spaces and NULs of the tag are not significant), then the wildcard pattern
 * with the most literal characters (PoolMon rules: '?' one byte, '*' any run,
 * case-sensitive). NULL when nothing matches or m is NULL.
 */
const struct pt_tagmap_entry *pt_tagmap_lookup(const struct pt_tagmap *m, const uint8_t *tag,
					       size_t len);

/**
 * pt_tagmap_mapped_driver() - the Mapped_Driver text of an entry:
 * "driver - description", "driver" or "description"; "" for NULL.
 * @return: buf.
 */
char *pt_tagmap_mapped_driver(const struct pt_tagmap_entry *e, char *buf, size_t bufsz);

/** pt_tagmap_stats() - counters of what was loaded. */
void pt_tagmap_stats(const struct pt_tagmap *m, struct pt_tagmap_stats *out);

/** pt_tagmap_count() - number of entries (0 for NULL). */
size_t pt_tagmap_count(const struct pt_tagmap *m);

#ifdef __cplusplus
}
#endif
#endif
