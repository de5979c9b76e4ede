/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/tagfilter.h"
#include "pooltrace/tags.h"

struct pat {
	char *pattern;
	char *reason; /* suppressions only */
};

struct pat_list {
	struct pat *v;
	size_t n, cap;
};

struct pt_tagfilter {
	struct pat_list inc, exc, sup;
};

struct pt_tagfilter *pt_tagfilter_new(void)
{
	return calloc(1, sizeof(struct pt_tagfilter));
}

static void list_free(struct pat_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].pattern);
		free(l->v[i].reason);
	}
	free(l->v);
}

void pt_tagfilter_free(struct pt_tagfilter *f)
{
	if (!f)
		return;
	list_free(&f->inc);
	list_free(&f->exc);
	list_free(&f->sup);
	free(f);
}

static int list_add(struct pat_list *l, const char *p, size_t plen, const char *reason)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		struct pat *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return PT_ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	char *pat = strndup(p, plen);
	char *rea = reason ? strdup(reason) : NULL;
	if (!pat || (reason && !rea)) {
		free(pat);
		free(rea);
		return PT_ENOMEM;
	}
	l->v[l->n].pattern = pat;
	l->v[l->n].reason = rea;
	l->n++;
	return 0;
}

int pt_tagfilter_add(struct pt_tagfilter *f, const char *patterns, bool exclude)
{
	const char *p = patterns;
	for (;;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (len == 0 || len > PT_TAG_MAX_LEN)
			return PT_EUSAGE;
		int rc = list_add(exclude ? &f->exc : &f->inc, p, len, NULL);
		if (rc < 0)
			return rc;
		if (!c)
			return 0;
		p = c + 1;
	}
}

int pt_tagfilter_load_suppressions(struct pt_tagfilter *f, const char *path, char *err,
				   size_t errsz)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return PT_EOPEN;
	}
	char line[1024];
	unsigned long lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof(line), fp)) {
		lineno++;
		size_t n = strlen(line);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			snprintf(err, errsz, "%s:%lu: line longer than %zu bytes", path, lineno,
				 sizeof(line) - 2);
			rc = PT_ELIMIT;
			goto out;
		}
		while (n && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		char *end = p;
		while (*end && !isspace((unsigned char)*end))
			end++;
		char *reason = end;
		while (isspace((unsigned char)*reason))
			reason++;
		if (!*reason) {
			snprintf(err, errsz, "%s:%lu: expected 'PATTERN reason', found no reason after '%s'",
				 path, lineno, p);
			rc = PT_EFORMAT;
			goto out;
		}
		if ((size_t)(end - p) > PT_TAG_MAX_LEN) {
			snprintf(err, errsz, "%s:%lu: pattern longer than %d bytes", path, lineno,
				 PT_TAG_MAX_LEN);
			rc = PT_EFORMAT;
			goto out;
		}
		rc = list_add(&f->sup, p, (size_t)(end - p), reason);
		if (rc < 0)
			goto out;
	}
	if (ferror(fp)) {
		snprintf(err, errsz, "%s: read error", path);
		rc = PT_EIO;
	}
out:
	fclose(fp);
	return rc;
}

static const struct pat *find(const struct pat_list *l, const uint8_t *tag, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (pt_tag_match(l->v[i].pattern, tag, len))
			return &l->v[i];
	return NULL;
}

bool pt_tagfilter_shown(const struct pt_tagfilter *f, const uint8_t *tag, size_t len)
{
	if (!f)
		return true;
	if (f->inc.n && !find(&f->inc, tag, len))
		return false;
	return !find(&f->exc, tag, len);
}

const char *pt_tagfilter_suppressed(const struct pt_tagfilter *f, const uint8_t *tag, size_t len)
{
	if (!f)
		return NULL;
	const struct pat *p = find(&f->sup, tag, len);
	return p ? p->reason : NULL;
}
