/* SPDX-License-Identifier: MIT */
/*
 * Tag to driver mapping: pooltag.txt parser, a hash for exact tags and a
 * short list of wildcard patterns. Line format (from the file's header):
 * "<PoolTag> - <binary-name> - <Description>", "rem" and "//" comments.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pooltrace/error.h"
#include "pooltrace/tagmap.h"
#include "pooltrace/tags.h"

#define MAX_ENTRIES 1000000u
#define MAX_FILE_BYTES (64u << 20)
#define MAX_JOINED 1024u

struct entry {
	struct pt_tagmap_entry pub;
	char *tag, *driver, *desc, *file;
	size_t taglen;
};

struct pt_tagmap {
	struct entry **e;
	size_t n, cap;
	uint32_t *hash; /* entry index + 1, 0 = empty */
	size_t hcap;    /* power of two */
	size_t *pat;    /* indices of wildcard entries */
	size_t npat, patcap;
	struct pt_tagmap_stats st;
};

struct pt_tagmap *pt_tagmap_new(void)
{
	return calloc(1, sizeof(struct pt_tagmap));
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	free(e->tag);
	free(e->driver);
	free(e->desc);
	free(e->file);
	free(e);
}

void pt_tagmap_free(struct pt_tagmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		entry_free(m->e[i]);
	free(m->e);
	free(m->hash);
	free(m->pat);
	free(m);
}

size_t pt_tagmap_count(const struct pt_tagmap *m)
{
	return m ? m->n : 0;
}

void pt_tagmap_stats(const struct pt_tagmap *m, struct pt_tagmap_stats *out)
{
	if (m)
		*out = m->st;
	else
		memset(out, 0, sizeof(*out));
	if (m) {
		out->entries = m->n;
		out->patterns = m->npat;
	}
}

/* Tag bytes without the trailing spaces and NULs that pad short tags. */
static size_t trim_tag(const uint8_t *t, size_t len)
{
	while (len && (t[len - 1] == ' ' || t[len - 1] == '\0'))
		len--;
	return len;
}

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* Slot holding key, or the empty slot where it would go. */
static size_t hash_slot(const struct pt_tagmap *m, const uint8_t *key, size_t len)
{
	size_t mask = m->hcap - 1;
	size_t i = hash_bytes(key, len) & mask;
	for (;;) {
		uint32_t v = m->hash[i];
		if (!v)
			return i;
		const struct entry *e = m->e[v - 1];
		if (e->taglen == len && !memcmp(e->tag, key, len))
			return i;
		i = (i + 1) & mask;
	}
}

static int hash_grow(struct pt_tagmap *m)
{
	size_t ncap = m->hcap ? m->hcap * 2 : 1024;
	uint32_t *nh = calloc(ncap, sizeof(*nh));
	if (!nh)
		return PT_ENOMEM;
	free(m->hash);
	m->hash = nh;
	m->hcap = ncap;
	for (size_t k = 0; k < m->n; k++) {
		size_t s = hash_slot(m, (const uint8_t *)m->e[k]->tag, m->e[k]->taglen);
		m->hash[s] = (uint32_t)(k + 1);
	}
	return 0;
}

/* ---- text cleaning ---- */

static size_t utf8_seq(const unsigned char *s, size_t avail)
{
	size_t n;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0)
		n = 2, cp = s[0] & 0x1Fu;
	else if ((s[0] & 0xF0) == 0xE0)
		n = 3, cp = s[0] & 0x0Fu;
	else if ((s[0] & 0xF8) == 0xF0)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3Fu);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/*
 * A malloc'ed copy of s[0..n): surrounding blanks removed, UTF-8 kept, other
 * bytes >= 0x80 read as Latin-1, control characters as spaces.
 */
static char *clean_dup(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	char *out = malloc(n * 2 + 1);
	if (!out)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(p + i, n - i);
		if (k == 1) {
			out[o++] = (p[i] < 0x20 || p[i] == 0x7f) ? ' ' : (char)p[i];
			i++;
		} else if (k) {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		} else {
			out[o++] = (char)(0xC0 | (p[i] >> 6));
			out[o++] = (char)(0x80 | (p[i] & 0x3F));
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

/* s[0..n) is UTF-8 without control characters (what a tag must be to be kept as is). */
static bool printable_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(p + i, n - i);
		if (!k || (k == 1 && (p[i] < 0x20 || p[i] == 0x7f)))
			return false;
		i += k;
	}
	return true;
}

/* Append " / add" to *dst unless it is already there; capped in length. */
static int join(char **dst, const char *add)
{
	if (!add[0] || strstr(*dst, add))
		return 0;
	if (!(*dst)[0]) {
		char *c = strdup(add);
		if (!c)
			return PT_ENOMEM;
		free(*dst);
		*dst = c;
		return 0;
	}
	size_t a = strlen(*dst), b = strlen(add);
	if (a + 3 + b > MAX_JOINED)
		return 0;
	char *c = realloc(*dst, a + 3 + b + 1);
	if (!c)
		return PT_ENOMEM;
	memcpy(c + a, " / ", 3);
	memcpy(c + a + 3, add, b + 1);
	*dst = c;
	return 0;
}

static void publish(struct entry *e)
{
	e->pub.tag = e->tag;
	e->pub.driver = e->driver;
	e->pub.desc = e->desc;
	e->pub.file = e->file;
}

static bool is_unknown(const char *d)
{
	return !d[0] || !strcasecmp(d, "<unknown>");
}

/* Add or merge one mapping; takes ownership of drv and desc. */
static int add_entry(struct pt_tagmap *m, const char *tag, size_t taglen, char *drv, char *desc,
		     const char *file, unsigned line)
{
	int rc = 0;
	if (!m->hcap || (m->n + 1) * 2 > m->hcap) {
		rc = hash_grow(m);
		if (rc < 0)
			goto fail;
	}
	size_t s = hash_slot(m, (const uint8_t *)tag, taglen);
	if (m->hash[s]) {
		struct entry *e = m->e[m->hash[s] - 1];
		m->st.merged++;
		if (is_unknown(e->driver) && !is_unknown(drv)) {
			free(e->driver);
			e->driver = drv;
			drv = NULL;
		} else if (!is_unknown(drv)) {
			rc = join(&e->driver, drv);
		}
		if (rc == 0)
			rc = join(&e->desc, desc);
		publish(e);
		free(drv);
		free(desc);
		return rc;
	}
	if (m->n >= MAX_ENTRIES) {
		rc = PT_ELIMIT;
		goto fail;
	}
	if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 1024;
		struct entry **ne = realloc(m->e, ncap * sizeof(*ne));
		if (!ne) {
			rc = PT_ENOMEM;
			goto fail;
		}
		m->e = ne;
		m->cap = ncap;
	}
	struct entry *e = calloc(1, sizeof(*e));
	if (!e) {
		rc = PT_ENOMEM;
		goto fail;
	}
	e->tag = malloc(taglen + 1);
	e->file = strdup(file ? file : "");
	if (!e->tag || !e->file) {
		entry_free(e);
		rc = PT_ENOMEM;
		goto fail;
	}
	memcpy(e->tag, tag, taglen);
	e->tag[taglen] = '\0';
	e->taglen = taglen;
	e->driver = drv;
	e->desc = desc;
	e->pub.line = line;
	e->pub.wildcard = memchr(tag, '?', taglen) || memchr(tag, '*', taglen);
	if (e->pub.wildcard) {
		if (m->npat == m->patcap) {
			size_t ncap = m->patcap ? m->patcap * 2 : 64;
			size_t *np = realloc(m->pat, ncap * sizeof(*np));
			if (!np) {
				e->driver = e->desc = NULL;
				entry_free(e);
				rc = PT_ENOMEM;
				goto fail;
			}
			m->pat = np;
			m->patcap = ncap;
		}
		m->pat[m->npat++] = m->n;
	}
	publish(e);
	m->e[m->n] = e;
	m->hash[s] = (uint32_t)(m->n + 1);
	m->n++;
	return 0;
fail:
	free(drv);
	free(desc);
	return rc;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Does the word look like a binary name ("x.sys", "nt!cc", "<unknown>")? */
static bool binary_like(const char *s, size_t n)
{
	if (n >= 4 && s[0] == '<' && s[n - 1] == '>')
		return true;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '!' || s[i] == '.')
			return true;
	return false;
}

/* One line (no newline). */
static int parse_line(struct pt_tagmap *m, const char *s, size_t n, const char *file, unsigned line)
{
	while (n && (s[n - 1] == '\r' || blank(s[n - 1])))
		n--;
	size_t lead = 0;
	while (lead < n && blank(s[lead]))
		lead++;
	if (lead == n)
		return 0;
	if ((n - lead >= 2 && s[lead] == '/' && s[lead + 1] == '/') ||
	    (n - lead >= 3 && !strncasecmp(s + lead, "rem", 3) &&
	     (n - lead == 3 || blank(s[lead + 3])))) {
		m->st.comments++;
		return 0;
	}
	/* Tag field: up to the first '-' that follows a blank. */
	size_t sep = 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] == '-' && blank(s[i - 1])) {
			sep = i;
			break;
		}
	}
	if (lead || !sep) {
		m->st.irregular++;
		m->st.skipped++;
		return 0;
	}
	size_t tl = sep;
	while (tl && blank(s[tl - 1]))
		tl--;
	bool irregular = false;
	/* A tag longer than 4 bytes is a Linux name at most: no blanks in it. */
	if (tl == 0 || tl > PT_TAG_MAX_LEN || (tl > 4 && memchr(s, ' ', tl)) || memchr(s, '\t', tl)) {
		m->st.irregular++;
		m->st.skipped++;
		return 0;
	}
	/* The tag is kept byte for byte (it is matched against trace tags), so it
	 * must already be UTF-8 without control characters, as tagmap.h promises. */
	if (!printable_utf8(s, tl)) {
		m->st.irregular++;
		m->st.skipped++;
		return 0;
	}
	const char *rest = s + sep + 1;
	size_t rn = n - sep - 1;
	if (rn && !blank(rest[0]))
		irregular = true; /* "Tag -driver" */
	/* Binary field: up to the next '-' after a blank. */
	size_t dsep = 0;
	for (size_t i = 1; i < rn; i++) {
		if (rest[i] == '-' && blank(rest[i - 1])) {
			dsep = i;
			break;
		}
	}
	char *drv, *desc;
	if (dsep) {
		drv = clean_dup(rest, dsep);
		desc = clean_dup(rest + dsep + 1, rn - dsep - 1);
		if (dsep + 1 < rn && !blank(rest[dsep + 1]))
			irregular = true; /* "driver -description" */
	} else {
		/* No second dash: "binary   description" or a description alone. */
		irregular = true;
		size_t a = 0;
		while (a < rn && blank(rest[a]))
			a++;
		size_t b = a;
		while (b < rn && !blank(rest[b]))
			b++;
		if (b > a && binary_like(rest + a, b - a)) {
			drv = clean_dup(rest + a, b - a);
			desc = clean_dup(rest + b, rn - b);
		} else {
			drv = clean_dup("", 0);
			desc = clean_dup(rest, rn);
		}
	}
	if (!drv || !desc) {
		free(drv);
		free(desc);
		return PT_ENOMEM;
	}
	if (!drv[0] && !desc[0]) {
		free(drv);
		free(desc);
		m->st.irregular++;
		m->st.skipped++;
		return 0;
	}
	if (irregular)
		m->st.irregular++;
	return add_entry(m, s, tl, drv, desc, file, line);
}

int pt_tagmap_load_buffer(struct pt_tagmap *m, const char *name, const char *text, size_t len)
{
	unsigned line = 0;
	size_t i = 0;
	m->st.files++;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len;
		line++;
		m->st.lines++;
		int rc = parse_line(m, text + i, e - i, name, line);
		if (rc < 0)
			return rc;
		i = e + 1;
	}
	return 0;
}

int pt_tagmap_load_file(struct pt_tagmap *m, const char *path, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	if (!f) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return PT_EOPEN;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_FILE_BYTES) {
				snprintf(err, errsz, "%s: larger than %u MiB", path, MAX_FILE_BYTES >> 20);
				rc = PT_ELIMIT;
				goto out;
			}
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = PT_ENOMEM;
				snprintf(err, errsz, "%s: %s", path, pt_strerror(rc));
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		size_t k = fread(buf + len, 1, cap - len, f);
		len += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errsz, "%s: read error", path);
		rc = PT_EIO;
		goto out;
	}
	rc = pt_tagmap_load_buffer(m, path, buf, len);
	if (rc < 0)
		snprintf(err, errsz, "%s: %s", path, pt_strerror(rc));
out:
	free(buf);
	fclose(f);
	return rc;
}

/* Literal (non-wildcard) characters of a pattern: more is more specific. */
static size_t literal_count(const char *p)
{
	size_t k = 0;
	for (; *p; p++)
		if (*p != '?' && *p != '*')
			k++;
	return k;
}

const struct pt_tagmap_entry *pt_tagmap_lookup(const struct pt_tagmap *m, const uint8_t *tag,
					       size_t len)
{
	if (!m || !m->n || !tag)
		return NULL;
	len = trim_tag(tag, len);
	if (!len)
		return NULL;
	size_t s = hash_slot(m, tag, len);
	if (m->hash[s])
		return &m->e[m->hash[s] - 1]->pub;
	const struct entry *best = NULL;
	size_t best_lit = 0;
	for (size_t i = 0; i < m->npat; i++) {
		const struct entry *e = m->e[m->pat[i]];
		if (!pt_tag_match(e->tag, tag, len))
			continue;
		size_t lit = literal_count(e->tag);
		if (!best || lit > best_lit) {
			best = e;
			best_lit = lit;
		}
	}
	return best ? &best->pub : NULL;
}

char *pt_tagmap_mapped_driver(const struct pt_tagmap_entry *e, char *buf, size_t bufsz)
{
	if (!bufsz)
		return buf;
	if (!e)
		buf[0] = '\0';
	else if (e->driver[0] && e->desc[0])
		snprintf(buf, bufsz, "%s - %s", e->driver, e->desc);
	else
		snprintf(buf, bufsz, "%s", e->driver[0] ? e->driver : e->desc);
	return buf;
}
