/* SPDX-License-Identifier: MIT */
/* Shared report helpers: row selection and order, counters, escapers, number formats. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pooltrace/error.h"
#include "pooltrace/report.h"
#include "pooltrace/tagfilter.h"
#include "pooltrace/tags.h"

uint64_t pt_per_alloc(const struct pt_counts *c)
{
	int64_t d = pt_counts_diff(c);
	return d > 0 ? c->bytes / (uint64_t)d : 0;
}

int pt_sort_parse(const char *s, enum pt_sort *out)
{
	static const struct {
		const char *name, *letter;
		enum pt_sort key;
	} keys[] = {
		{"tag", "t", PT_SORT_TAG},       {"allocs", "a", PT_SORT_ALLOCS},
		{"frees", "f", PT_SORT_FREES},   {"diff", "d", PT_SORT_DIFF},
		{"bytes", "b", PT_SORT_BYTES},   {"per-alloc", "m", PT_SORT_PER_ALLOC},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		if (!strcasecmp(s, keys[i].name) || !strcasecmp(s, keys[i].letter)) {
			*out = keys[i].key;
			return 0;
		}
	}
	if (!strcasecmp(s, "per_alloc") || !strcasecmp(s, "peralloc")) {
		*out = PT_SORT_PER_ALLOC;
		return 0;
	}
	return PT_EUSAGE;
}

static bool pool_selected(enum pt_pool_filter f, enum pt_pool p)
{
	switch (f) {
	case PT_POOLSEL_PAGED:
		return pt_pool_is_paged(p);
	case PT_POOLSEL_NONPAGED:
		return !pt_pool_is_paged(p);
	default:
		return true;
	}
}

/* Sorting context (qsort has none): rows sort on precomputed keys. */
struct row_key {
	size_t stat;
	struct pt_counts c;
	const uint8_t *tag;
	size_t taglen;
	enum pt_pool pool;
};

static enum pt_sort g_sort;
static bool g_asc;

static int cmp_tag(const struct row_key *a, const struct row_key *b)
{
	size_t n = a->taglen < b->taglen ? a->taglen : b->taglen;
	int r = memcmp(a->tag, b->tag, n);
	if (r)
		return r;
	if (a->taglen != b->taglen)
		return a->taglen < b->taglen ? -1 : 1;
	return (int)a->pool - (int)b->pool;
}

static int cmp_u(uint64_t x, uint64_t y)
{
	return x < y ? -1 : x > y;
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct row_key *a = pa, *b = pb;
	int r = 0;
	switch (g_sort) {
	case PT_SORT_ALLOCS:
		r = cmp_u(a->c.allocs, b->c.allocs);
		break;
	case PT_SORT_FREES:
		r = cmp_u(a->c.frees, b->c.frees);
		break;
	case PT_SORT_DIFF: {
		int64_t x = pt_counts_diff(&a->c), y = pt_counts_diff(&b->c);
		r = x < y ? -1 : x > y;
		break;
	}
	case PT_SORT_BYTES:
		r = cmp_u(a->c.bytes, b->c.bytes);
		break;
	case PT_SORT_PER_ALLOC:
		r = cmp_u(pt_per_alloc(&a->c), pt_per_alloc(&b->c));
		break;
	default:
		break;
	}
	if (g_sort != PT_SORT_TAG && !g_asc)
		r = -r;
	if (r)
		return r;
	r = cmp_tag(a, b);
	return (g_sort == PT_SORT_TAG && !g_asc) ? -r : r;
}

static void counts_for(const struct pt_replay *rp, const struct pt_report_opts *o,
		       const struct pt_tagstat *st, struct pt_counts *out)
{
	if (o && o->has_at)
		pt_tagstat_at(rp, st, o->at_ns, out);
	else
		*out = st->now;
}

int pt_report_rows(const struct pt_replay *rp, const struct pt_report_opts *opts,
		   size_t **out, size_t *n)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rp, &ns);
	const struct pt_tags *tags = pt_replay_tags(rp);
	struct row_key *keys = calloc(ns ? ns : 1, sizeof(*keys));
	size_t *rows = calloc(ns ? ns : 1, sizeof(*rows));
	if (!keys || !rows) {
		free(keys);
		free(rows);
		return PT_ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < ns; i++) {
		if (opts && !pool_selected(opts->pools, st[i].pool))
			continue;
		keys[k].stat = i;
		counts_for(rp, opts, &st[i], &keys[k].c);
		keys[k].tag = pt_tags_bytes(tags, st[i].tag, &keys[k].taglen);
		if (opts && opts->filter && !pt_tagfilter_shown(opts->filter, keys[k].tag, keys[k].taglen))
			continue;
		keys[k].pool = st[i].pool;
		k++;
	}
	g_sort = opts ? opts->sort : PT_SORT_TAG;
	g_asc = opts ? opts->sort_ascending : false;
	if (g_sort == PT_SORT_TAG && opts && !opts->sort_ascending)
		g_asc = true; /* tags read A to Z unless asked otherwise */
	qsort(keys, k, sizeof(*keys), cmp_rows);
	size_t lim = (opts && opts->limit && opts->limit < k) ? opts->limit : k;
	for (size_t i = 0; i < lim; i++)
		rows[i] = keys[i].stat;
	free(keys);
	*out = rows;
	*n = lim;
	return 0;
}

void pt_report_counts(const struct pt_report *rep, size_t stat, struct pt_counts *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	if (stat >= ns) {
		memset(out, 0, sizeof(*out));
		return;
	}
	counts_for(rep->rp, rep->opts, &st[stat], out);
}

void pt_report_summary(const struct pt_report *rep, struct pt_verdict_summary *out)
{
	size_t ns;
	memset(out, 0, sizeof(*out));
	pt_replay_stats(rep->rp, &ns);
	for (size_t s = 0; rep->verdicts && s < ns; s++) {
		const struct pt_tag_verdict *v = &rep->verdicts[s];
		if (v->hidden)
			continue;
		if (v->suppressed)
			out->suppressed++;
		else if (v->verdict == PT_VERDICT_LEAK)
			out->leak++;
		else if (v->verdict == PT_VERDICT_SUSPECT)
			out->suspect++;
		else
			out->ok++;
	}
}

/* ---- escapers ---- */

/* Length of a valid UTF-8 sequence at s, 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n;
	uint32_t cp;
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

int pt_json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	if (fputc('"', out) == EOF)
		return PT_EIO;
	while (*p) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
			p++;
		} else if (c == '\n') {
			fputs("\\n", out);
			p++;
		} else if (c == '\t') {
			fputs("\\t", out);
			p++;
		} else if (c == '\r') {
			fputs("\\r", out);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			p++;
		} else if (c == '<' || c == '>' || c == '&') {
			/* safe to embed in HTML <script> blocks */
			fprintf(out, "\\u%04x", c);
			p++;
		} else if (c >= 0x80) {
			size_t n = utf8_len(p);
			if (n) {
				fwrite(p, 1, n, out);
				p += n;
			} else {
				fprintf(out, "\\u%04x", c);
				p++;
			}
		} else {
			fputc(c, out);
			p++;
		}
	}
	return fputc('"', out) == EOF ? PT_EIO : 0;
}

int pt_html_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	for (; *p; p++) {
		switch (*p) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			if (*p >= 0x80) {
				size_t n = utf8_len(p);
				if (n) {
					fwrite(p, 1, n, out);
					p += n - 1;
				} else {
					fprintf(out, "&#%u;", (unsigned)*p);
				}
			} else if (*p < 0x20 && *p != '\n' && *p != '\t') {
				fprintf(out, "&#xfffd;");
			} else {
				fputc(*p, out);
			}
		}
	}
	return ferror(out) ? PT_EIO : 0;
}

int pt_csv_field(FILE *out, const char *s)
{
	s = s ? s : "";
	bool quote = strpbrk(s, ",\"\r\n") != NULL || (s[0] == ' ') ||
		     (s[0] && s[strlen(s) - 1] == ' ');
	/* a leading = + - @ would be a formula in spreadsheets: quote and prefix */
	bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
	if (!quote && !formula) {
		fputs(s, out);
		return ferror(out) ? PT_EIO : 0;
	}
	fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
	return ferror(out) ? PT_EIO : 0;
}

char *pt_format_time(uint64_t ns, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%" PRIu64 ".%03u s", ns / 1000000000u,
		 (unsigned)((ns / 1000000u) % 1000u));
	return buf;
}

char *pt_format_bytes(uint64_t bytes, char *buf, size_t bufsz)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;
	while (u + 1 < sizeof(units) / sizeof(*units) && (bytes >> (10 * u)) >= 1024)
		u++;
	if (u == 0) {
		snprintf(buf, bufsz, "%" PRIu64 " B", bytes);
		return buf;
	}
	if (bytes >> 53) {
		/* past 2^53 the double is not exact: let printf round what it would print */
		snprintf(buf, bufsz, "%.1f %s", (double)bytes / (double)(1ull << (10 * u)), units[u]);
		return buf;
	}
	/*
	 * bytes / 1024^u to one decimal, as printf("%.1f") rounds the exact
	 * quotient: to nearest, a tie to the even digit. In integers: printf's
	 * floating-point path was a sixth of a report with 50 k tags.
	 */
	unsigned sh = 10 * (unsigned)u;
	uint64_t d = 1ull << sh;
	uint64_t q = (bytes >> sh) * 10, r = (bytes & (d - 1)) * 10;
	q += r >> sh;
	r &= d - 1;
	if (r > d / 2 || (r == d / 2 && (q & 1)))
		q++;
	snprintf(buf, bufsz, "%" PRIu64 ".%u %s", q / 10, (unsigned)(q % 10), units[u]);
	return buf;
}

int pt_md_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	for (; *p; p++) {
		switch (*p) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '\\': case '`': case '*': case '_': case '[': case ']': case '{': case '}':
		case '#': case '|': case '!': case '~': case '$':
			fputc('\\', out);
			fputc(*p, out);
			break;
		case '\n': case '\r': case '\t':
			fputc(' ', out);
			break;
		default:
			if (*p >= 0x80) {
				size_t n = utf8_len(p);
				if (n) {
					fwrite(p, 1, n, out);
					p += n - 1;
				} else {
					fprintf(out, "\\\\x%02x", *p);
				}
			} else if (*p < 0x20 || *p == 0x7f) {
				fprintf(out, "\\\\x%02x", *p);
			} else {
				fputc(*p, out);
			}
		}
	}
	return ferror(out) ? PT_EIO : 0;
}

const struct pt_tagmap_entry *pt_report_mapping(const struct pt_report *rep, size_t stat)
{
	size_t ns, len;
	if (!rep->tagmap)
		return NULL;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	if (stat >= ns)
		return NULL;
	const uint8_t *b = pt_tags_bytes(rep->tags, st[stat].tag, &len);
	return b ? pt_tagmap_lookup(rep->tagmap, b, len) : NULL;
}

size_t pt_report_chart_set(const struct pt_report *rep, size_t *out, size_t max)
{
	size_t ns, k = 0;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	if (!max)
		return 0;
	/* flagged first: leaks then suspects, each by score (a selection: max is small) */
	for (int pass = PT_VERDICT_LEAK; pass >= PT_VERDICT_SUSPECT && rep->verdicts; pass--) {
		while (k < max) {
			size_t best = ns;
			for (size_t s = 0; s < ns; s++) {
				const struct pt_tag_verdict *v = &rep->verdicts[s];
				if ((int)v->verdict != pass || v->hidden)
					continue;
				bool taken = false;
				for (size_t i = 0; i < k && !taken; i++)
					taken = out[i] == s;
				if (!taken && (best == ns || v->score > rep->verdicts[best].score))
					best = s;
			}
			if (best == ns)
				break;
			out[k++] = best;
		}
	}
	/* then the largest of the rest by peak bytes */
	while (k < max) {
		size_t best = ns;
		for (size_t s = 0; s < ns; s++) {
			if (rep->verdicts &&
			    (rep->verdicts[s].verdict != PT_VERDICT_OK || rep->verdicts[s].hidden))
				continue;
			if (!st[s].peak_bytes)
				continue;
			bool taken = false;
			for (size_t i = 0; i < k && !taken; i++)
				taken = out[i] == s;
			if (taken)
				continue;
			if (best == ns || st[s].peak_bytes > st[best].peak_bytes)
				best = s;
		}
		if (best == ns)
			break;
		out[k++] = best;
	}
	return k;
}

uint64_t pt_report_bucket_end_ns(const struct pt_replay *rp, uint32_t b)
{
	uint64_t t = ((uint64_t)b + 1) * pt_replay_interval_ns(rp);
	uint64_t end = pt_replay_end_ns(rp);
	return t > end ? end : t;
}

void pt_report_verdict_counts(const struct pt_report *rep, size_t n[3])
{
	struct pt_verdict_summary sum;
	pt_report_summary(rep, &sum);
	n[PT_VERDICT_LEAK] = sum.leak;
	n[PT_VERDICT_SUSPECT] = sum.suspect;
	n[PT_VERDICT_OK] = sum.ok;
}

uint32_t pt_report_stack_frames(const struct pt_report *rep, uint32_t stack)
{
	uint32_t n;
	(void)pt_replay_stack(rep->rp, stack, &n, NULL);
	return n;
}

char *pt_report_frame(const struct pt_report *rep, uint32_t stack, uint32_t i, char *buf,
		      size_t bufsz)
{
	uint32_t n, pid;
	const uint64_t *f = pt_replay_stack(rep->rp, stack, &n, &pid);
	if (!f || i >= n) {
		if (bufsz)
			buf[0] = '\0';
		return buf;
	}
	pt_replay_frame_name(rep->rp, f[i], pid, buf, bufsz);
	return buf;
}

char *pt_report_stack_text(const struct pt_report *rep, uint32_t stack, uint32_t max_frames,
			   char *buf, size_t bufsz)
{
	uint32_t n = pt_report_stack_frames(rep, stack);
	size_t o = 0;
	if (!bufsz)
		return buf;
	buf[0] = '\0';
	for (uint32_t i = 0; i < n; i++) {
		char fb[160];
		const char *piece = fb;
		if (max_frames && i == max_frames)
			piece = "...";
		else
			pt_report_frame(rep, stack, i, fb, sizeof(fb));
		int k = snprintf(buf + o, bufsz - o, "%s%s", i ? " <- " : "", piece);
		if (k < 0 || (size_t)k >= bufsz - o) {
			buf[o] = '\0';
			break;
		}
		o += (size_t)k;
		if (max_frames && i == max_frames)
			break;
	}
	if (!n)
		snprintf(buf, bufsz, "(no frames)");
	return buf;
}
