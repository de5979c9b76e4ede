/* SPDX-License-Identifier: MIT */
/*
 * PoolMon snapshot reader: `poolmon /n` logs and PoolMon screens pasted into
 * a text file, one or several per file, one or several files (a folder).
 *
 *  Memory:  260620K Avail:   96364K  PageFlts:     0   InRam Krnl: 1916K P:17856K
 *  Commit: 203500K Limit: 640916K Peak: 260632K            Pool N: 8332K P:27220K
 *  Tag  Type     Allocs            Frees            Diff   Bytes       Per Alloc
 *  Strg Paged     10385 (  10)      6658 (   4)     3727  317952 (  512)     85
 *
 * Each snapshot becomes one PT_EV_SNAPSHOT event per row. The whole input
 * is read at open: the time of every snapshot (a timestamp line, the file
 * name, or --snapshot-interval) can only be settled once all are known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/reader.h"
#include "readers/readers.h"
#include "readers/textparse.h"

#define MAX_TOKENS 24

struct pm_time {
	bool has_date, has_tod;
	int64_t days;        /* days since 1970-01-01 */
	int64_t tod_ns;      /* time of day */
	int64_t zone_ns;     /* offset east of UTC when written, else 0 */
};

struct pm_row {
	pt_tag_id tag;
	enum pt_pool pool;
	uint64_t allocs, frees, bytes;
};

struct pm_snap {
	size_t first_row, nrows;
	size_t file;
	uint64_t line;       /* where it starts */
	struct pm_time text; /* from timestamp lines */
	int64_t t_ns;        /* settled time (absolute or relative) */
	size_t order;        /* position in the input, for a stable sort */
};

struct pm_priv {
	struct pm_row *rows;
	size_t nrows, rows_cap;
	struct pm_snap *snaps;
	size_t nsnaps, snaps_cap;
	char **files;        /* names of the files read */
	size_t nfiles;
	/* reading */
	bool in_snap;
	char *pending;       /* a row that ended early: maybe wrapped */
	size_t pending_len, pending_cap;
	uint64_t pending_line;
	char pending_why[160]; /* what is wrong with it on its own */
	size_t wrapped, truncated;
	/* iteration */
	size_t si, ri;
	int64_t base_ns;
};

enum row_result {
	ROW_NOT = 0, /* not a row */
	ROW_OK,
	ROW_SHORT,   /* a row start without all its columns */
	ROW_BAD,     /* garbage where a number belongs (message set) */
	ROW_ODD      /* numbers that do not agree with each other (message set) */
};

/* ------------------------------------------------------------------ time */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool valid_date(int y, int m, int d)
{
	return y >= 1970 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* Read up to maxd digits at s[*i]; returns the count read. */
static int read_digits(const char *s, size_t n, size_t *i, int maxd, int *out)
{
	int v = 0, k = 0;
	while (*i < n && k < maxd && tp_isdigit((unsigned char)s[*i])) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	*out = v;
	return k;
}

/* A date token: YYYY-MM-DD, YYYY/MM/DD, MM/DD/YYYY (DD/MM when the first is > 12), DD.MM.YYYY, DD-MM-YYYY. */
static bool parse_date(const char *s, size_t n, size_t *used, int64_t *days)
{
	size_t i = 0;
	int a, b, c;
	int ka = read_digits(s, n, &i, 4, &a);
	if (!ka || i >= n)
		return false;
	char sep = s[i];
	if (sep != '-' && sep != '/' && sep != '.')
		return false;
	i++;
	if (read_digits(s, n, &i, 2, &b) < 1 || i >= n || s[i] != sep)
		return false;
	i++;
	int kc = read_digits(s, n, &i, 4, &c);
	int y, m, d;
	if (ka == 4 && kc >= 1 && kc <= 2) {
		y = a;
		m = b;
		d = c;
	} else if (ka <= 2 && kc == 4) {
		y = c;
		if (sep == '/' && a <= 12) {
			m = a; /* US order */
			d = b;
		} else {
			d = a;
			m = b;
		}
	} else {
		return false;
	}
	if (!valid_date(y, m, d))
		return false;
	*used = i;
	*days = days_from_civil(y, (unsigned)m, (unsigned)d);
	return true;
}

/* A time token: H:MM[:SS[.frac|,frac]]. */
static bool parse_tod(const char *s, size_t n, size_t *used, int64_t *ns)
{
	size_t i = 0;
	int h, m, sec = 0;
	if (read_digits(s, n, &i, 2, &h) < 1 || i >= n || s[i] != ':')
		return false;
	i++;
	if (read_digits(s, n, &i, 2, &m) != 2)
		return false;
	int64_t frac = 0;
	if (i < n && s[i] == ':') {
		i++;
		if (read_digits(s, n, &i, 2, &sec) != 2)
			return false;
		if (i < n && (s[i] == '.' || s[i] == ',') && i + 1 < n &&
		    tp_isdigit((unsigned char)s[i + 1])) {
			i++;
			int64_t scale = 100000000;
			while (i < n && tp_isdigit((unsigned char)s[i])) {
				frac += (s[i] - '0') * scale;
				scale /= 10;
				i++;
			}
		}
	}
	if (h > 23 || m > 59 || sec > 60)
		return false;
	*used = i;
	*ns = ((int64_t)h * 3600 + m * 60 + sec) * 1000000000ll + frac;
	return true;
}

static bool word_is(const char *s, size_t n, const char *w)
{
	return n == strlen(w) && tp_prefix_ci(s, n, w);
}

static bool is_weekday(const char *s, size_t n)
{
	static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun",
					   "monday", "tuesday", "wednesday", "thursday",
					   "friday", "saturday", "sunday"};
	while (n && (s[n - 1] == ',' || s[n - 1] == '.'))
		n--;
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		if (word_is(s, n, days[i]))
			return true;
	return false;
}

/*
 * A line that is only a date and/or a time ("2024-05-01 10:30:00",
 * "Wed 05/01/2024", "10:30 AM", "2024-05-01T10:30:00Z", "=== 10:30 ===").
 */
static bool parse_time_line(const char *s, size_t n, struct pm_time *t)
{
	static const char deco[] = " \t=*#[]<>-";
	while (n && strchr(deco, s[0]))
		s++, n--;
	while (n && strchr(deco, s[n - 1]))
		n--;
	if (!n)
		return false;
	memset(t, 0, sizeof(*t));
	bool pm = false, am = false;
	size_t i = 0;
	while (i < n) {
		while (i < n && tp_isspace((unsigned char)s[i]))
			i++;
		if (i >= n)
			break;
		size_t e = i;
		while (e < n && !tp_isspace((unsigned char)s[e]))
			e++;
		const char *w = s + i;
		size_t wl = e - i;
		size_t used = 0;
		int64_t v;
		if (!t->has_date && !t->has_tod && is_weekday(w, wl)) {
			i = e;
			continue;
		}
		if (!t->has_date && parse_date(w, wl, &used, &v)) {
			t->has_date = true;
			t->days = v;
			if (used < wl && (w[used] == 'T' || w[used] == 't')) {
				used++; /* ISO 8601 date and time in one word */
				size_t u2;
				if (!parse_tod(w + used, wl - used, &u2, &v))
					return false;
				t->has_tod = true;
				t->tod_ns = v;
				used += u2;
			}
		} else if (!t->has_tod && parse_tod(w, wl, &used, &v)) {
			t->has_tod = true;
			t->tod_ns = v;
		} else if (t->has_tod && !am && !pm && (word_is(w, wl, "am") || word_is(w, wl, "pm"))) {
			am = word_is(w, wl, "am");
			pm = !am;
			i = e;
			continue;
		} else if (t->has_tod && (word_is(w, wl, "utc") || word_is(w, wl, "gmt") ||
					  word_is(w, wl, "z"))) {
			i = e;
			continue;
		} else {
			return false;
		}
		/* what follows in the same word: AM/PM, Z, +hh:mm */
		const char *rest = w + used;
		size_t rl = wl - used;
		if (rl && t->has_tod) {
			if (word_is(rest, rl, "am") || word_is(rest, rl, "pm")) {
				am = word_is(rest, rl, "am");
				pm = !am;
			} else if (word_is(rest, rl, "z")) {
				/* UTC */
			} else if ((rest[0] == '+' || rest[0] == '-') && rl == 6 && rest[3] == ':' &&
				   tp_isdigit((unsigned char)rest[1]) && tp_isdigit((unsigned char)rest[2]) &&
				   tp_isdigit((unsigned char)rest[4]) && tp_isdigit((unsigned char)rest[5])) {
				int64_t off = ((rest[1] - '0') * 10 + (rest[2] - '0')) * 3600 +
					      ((rest[4] - '0') * 10 + (rest[5] - '0')) * 60;
				t->zone_ns = (rest[0] == '-' ? -off : off) * 1000000000ll;
			} else {
				return false;
			}
		} else if (rl) {
			return false;
		}
		i = e;
	}
	if (!t->has_date && !t->has_tod)
		return false;
	if (am || pm) {
		int64_t h = t->tod_ns / 3600000000000ll;
		if (h < 1 || h > 12)
			return false;
		if (pm && h != 12)
			t->tod_ns += 12 * 3600000000000ll;
		if (am && h == 12)
			t->tod_ns -= 12 * 3600000000000ll;
	}
	return true;
}

/* Digit groups of a file name and the separator before each. */
struct digit_group {
	int64_t v;
	int len;
	char sep; /* character before the group ('\0' at the start, or when it is a letter) */
};

/*
 * A time in a file name: YYYYMMDD[sep]HHMM[SS], YYYYMMDDHHMM[SS],
 * YYYY-MM-DD[sep]HH-MM[-SS] (any of - _ . as separators), or without a date
 * HH-MM-SS / HH.MM.SS / HH_MM_SS or HHhMM.
 */
static bool parse_file_time(const char *path, struct pm_time *t)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	struct digit_group g[16];
	int ng = 0;
	size_t n = strlen(base);
	for (size_t i = 0; i < n && ng < 16;) {
		if (!tp_isdigit((unsigned char)base[i])) {
			i++;
			continue;
		}
		char sep = i ? base[i - 1] : '\0';
		int64_t v = 0;
		int len = 0;
		while (i < n && tp_isdigit((unsigned char)base[i])) {
			if (len < 18)
				v = v * 10 + (base[i] - '0');
			len++;
			i++;
		}
		g[ng].v = v;
		g[ng].len = len;
		g[ng].sep = sep;
		ng++;
	}
	memset(t, 0, sizeof(*t));
	for (int k = 0; k < ng; k++) {
		int y = 0, m = 0, d = 0, next = -1;
		if (g[k].len == 8 || g[k].len == 12 || g[k].len == 14) {
			int64_t v = g[k].v;
			int64_t hhmmss = -1;
			if (g[k].len == 12) {
				hhmmss = (v % 10000) * 100;
				v /= 10000;
			} else if (g[k].len == 14) {
				hhmmss = v % 1000000;
				v /= 1000000;
			}
			y = (int)(v / 10000);
			m = (int)(v / 100 % 100);
			d = (int)(v % 100);
			if (!valid_date(y, m, d))
				continue;
			t->has_date = true;
			t->days = days_from_civil(y, (unsigned)m, (unsigned)d);
			if (hhmmss >= 0) {
				int h = (int)(hhmmss / 10000), mi = (int)(hhmmss / 100 % 100),
				    s = (int)(hhmmss % 100);
				if (h > 23 || mi > 59 || s > 60)
					return false;
				t->has_tod = true;
				t->tod_ns = ((int64_t)h * 3600 + mi * 60 + s) * 1000000000ll;
				return true;
			}
			next = k + 1;
		} else if (g[k].len == 4 && k + 2 < ng && g[k + 1].len <= 2 && g[k + 2].len <= 2 &&
			   strchr("-_.", g[k + 1].sep) && g[k + 2].sep == g[k + 1].sep) {
			y = (int)g[k].v;
			m = (int)g[k + 1].v;
			d = (int)g[k + 2].v;
			if (!valid_date(y, m, d))
				continue;
			t->has_date = true;
			t->days = days_from_civil(y, (unsigned)m, (unsigned)d);
			next = k + 3;
		}
		if (next >= 0) {
			/* a time right after the date */
			if (next < ng && (g[next].len == 4 || g[next].len == 6) &&
			    strchr("-_.Tt ", g[next].sep) && g[next].sep) {
				int64_t v = g[next].v;
				if (g[next].len == 4)
					v *= 100;
				int h = (int)(v / 10000), mi = (int)(v / 100 % 100), s = (int)(v % 100);
				if (h <= 23 && mi <= 59 && s <= 60) {
					t->has_tod = true;
					t->tod_ns = ((int64_t)h * 3600 + mi * 60 + s) * 1000000000ll;
				}
			} else if (next + 1 < ng && g[next].len == 2 && g[next + 1].len == 2 &&
				   strchr("-_.Tt ", g[next].sep) && g[next].sep &&
				   strchr("-_.h:", g[next + 1].sep)) {
				int h = (int)g[next].v, mi = (int)g[next + 1].v, s = 0;
				if (next + 2 < ng && g[next + 2].len == 2 &&
				    g[next + 2].sep == g[next + 1].sep)
					s = (int)g[next + 2].v;
				if (h <= 23 && mi <= 59 && s <= 60) {
					t->has_tod = true;
					t->tod_ns = ((int64_t)h * 3600 + mi * 60 + s) * 1000000000ll;
				}
			}
			return true;
		}
	}
	/* no date: HH-MM-SS (same separator twice) or HHhMM */
	for (int k = 0; k + 1 < ng; k++) {
		if (g[k].len != 2 || g[k + 1].len != 2)
			continue;
		int h = (int)g[k].v, mi = (int)g[k + 1].v, s = 0;
		bool ok = false;
		if (g[k + 1].sep == 'h' || g[k + 1].sep == 'H') {
			ok = true;
		} else if (k + 2 < ng && g[k + 2].len == 2 && strchr("-_.", g[k + 1].sep) &&
			   g[k + 2].sep == g[k + 1].sep) {
			s = (int)g[k + 2].v;
			ok = true;
		}
		if (ok && h <= 23 && mi <= 59 && s <= 60) {
			t->has_tod = true;
			t->tod_ns = ((int64_t)h * 3600 + mi * 60 + s) * 1000000000ll;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------ rows */

static bool pool_word(const char *s, size_t n, enum pt_pool *out)
{
	char w[24];
	if (n == 0 || n >= sizeof(w))
		return false;
	memcpy(w, s, n);
	w[n] = '\0';
	enum pt_pool p;
	if (pt_pool_parse(w, &p) == 0) {
		if (p == PT_POOL_SLAB || p == PT_POOL_KMALLOC || p == PT_POOL_OTHER)
			return false;
		*out = p;
		return true;
	}
	if (word_is(s, n, "nonpaged") || word_is(s, n, "nonpgd")) {
		*out = PT_POOL_NONPAGED;
		return true;
	}
	return false;
}

static uint32_t raw_pool(enum pt_pool p)
{
	switch (p) {
	case PT_POOL_PAGED:
		return 1;
	case PT_POOL_NONPAGED_NX:
		return 512;
	case PT_POOL_NONPAGED_SESSION:
		return 32;
	case PT_POOL_PAGED_SESSION:
		return 33;
	case PT_POOL_NONPAGED_SESSION_NX:
		return 544;
	default:
		return 0;
	}
}

struct parsed_row {
	char tag[4];
	size_t tag_len;
	enum pt_pool pool;
	uint64_t allocs, frees, bytes, per;
	int64_t diff;
	char msg[160];
};

/*
 * Parse one row. The "( N)" change columns are dropped first; an opening
 * parenthesis without its closing one means the row was cut.
 */
static enum row_result parse_row(const char *line, size_t len, struct parsed_row *pr)
{
	char buf[1024];
	size_t o = 0;
	bool cut = false;
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '(') {
			size_t j = i + 1;
			while (j < len && line[j] != ')' && line[j] != '(')
				j++;
			if (j >= len || line[j] != ')') {
				cut = true;
				break;
			}
			buf[o++] = ' ';
			i = j;
			continue;
		}
		buf[o++] = line[i];
	}
	buf[o] = '\0';

	const char *tok[MAX_TOKENS];
	size_t tl[MAX_TOKENS];
	int nt = 0;
	for (size_t i = 0; i < o && nt < MAX_TOKENS;) {
		while (i < o && tp_isspace((unsigned char)buf[i]))
			i++;
		if (i >= o)
			break;
		size_t s = i;
		while (i < o && !tp_isspace((unsigned char)buf[i]))
			i++;
		tok[nt] = buf + s;
		tl[nt] = i - s;
		nt++;
	}
	if (nt < 2)
		return ROW_NOT;
	int ti;
	memset(pr, 0, sizeof(*pr));
	if (pool_word(tok[1], tl[1], &pr->pool)) {
		ti = 1;
		if (tl[0] > 4)
			return ROW_NOT;
		memcpy(pr->tag, tok[0], tl[0]);
		pr->tag_len = tl[0];
	} else if (nt >= 3 && tl[0] + 1 + tl[1] <= 4 && pool_word(tok[2], tl[2], &pr->pool)) {
		/* a tag with a space inside ("A B ") */
		ti = 2;
		memcpy(pr->tag, tok[0], tl[0]);
		pr->tag[tl[0]] = ' ';
		memcpy(pr->tag + tl[0] + 1, tok[1], tl[1]);
		pr->tag_len = tl[0] + 1 + tl[1];
	} else {
		return ROW_NOT;
	}
	/* text after the pool word that does not start with a number is a note, not a row */
	if (ti + 1 < nt && !tp_isdigit((unsigned char)tok[ti + 1][0]))
		return ROW_NOT;
	static const char *const names[] = {"Allocs", "Frees", "Diff", "Bytes", "Per Alloc"};
	uint64_t v[5];
	bool neg_diff = false;
	for (int k = 0; k < 5; k++) {
		int idx = ti + 1 + k;
		if (idx >= nt)
			return ROW_SHORT;
		const char *s = tok[idx];
		size_t n = tl[idx];
		if (k == 2 && n > 1 && s[0] == '-') {
			neg_diff = true;
			s++;
			n--;
		}
		if (!tp_dec_u64(s, n, &v[k])) {
			snprintf(pr->msg, sizeof(pr->msg), "expected a number for %s, found '%.*s'",
				 names[k], (int)(tl[idx] > 40 ? 40 : tl[idx]), tok[idx]);
			return ROW_BAD;
		}
	}
	if (cut)
		return ROW_SHORT;
	pr->allocs = v[0];
	pr->frees = v[1];
	pr->diff = neg_diff ? -(int64_t)v[2] : (int64_t)v[2];
	pr->bytes = v[3];
	pr->per = v[4];
	if ((uint64_t)pr->diff != pr->allocs - pr->frees) {
		snprintf(pr->msg, sizeof(pr->msg),
			 "Diff %lld is not Allocs - Frees (%llu - %llu); the row looks damaged",
			 (long long)pr->diff, (unsigned long long)pr->allocs,
			 (unsigned long long)pr->frees);
		return ROW_ODD;
	}
	/* Per Alloc = Bytes / Diff (older documentation: Bytes / Allocs) */
	bool per_ok = pr->diff <= 0 ? true : pr->per == pr->bytes / (uint64_t)pr->diff ||
		      pr->per == (pr->bytes + (uint64_t)pr->diff / 2) / (uint64_t)pr->diff;
	if (!per_ok && pr->allocs)
		per_ok = pr->per == pr->bytes / pr->allocs;
	if (!per_ok) {
		snprintf(pr->msg, sizeof(pr->msg),
			 "Per Alloc %llu does not match Bytes / Diff (%llu / %lld); the row looks damaged",
			 (unsigned long long)pr->per, (unsigned long long)pr->bytes,
			 (long long)pr->diff);
		return ROW_ODD;
	}
	return ROW_OK;
}

/* ------------------------------------------------------------------ reading */

static int new_snap(struct pt_reader *r, uint64_t line)
{
	struct pm_priv *p = r->priv;
	if (p->nsnaps == p->snaps_cap) {
		size_t ncap = p->snaps_cap ? p->snaps_cap * 2 : 32;
		struct pm_snap *ns = realloc(p->snaps, ncap * sizeof(*ns));
		if (!ns)
			return PT_ENOMEM;
		p->snaps = ns;
		p->snaps_cap = ncap;
	}
	struct pm_snap *s = &p->snaps[p->nsnaps];
	memset(s, 0, sizeof(*s));
	s->first_row = p->nrows;
	s->file = p->nfiles - 1;
	s->line = line;
	s->order = p->nsnaps;
	p->nsnaps++;
	p->in_snap = true;
	return 0;
}

static struct pm_snap *cur_snap(struct pm_priv *p)
{
	return p->in_snap ? &p->snaps[p->nsnaps - 1] : NULL;
}

static int add_row(struct pt_reader *r, const struct parsed_row *pr, uint64_t line)
{
	struct pm_priv *p = r->priv;
	if (!p->in_snap) {
		int rc = new_snap(r, line);
		if (rc < 0)
			return rc;
	}
	if (p->nrows == p->rows_cap) {
		size_t ncap = p->rows_cap ? p->rows_cap * 2 : 1024;
		struct pm_row *nr = realloc(p->rows, ncap * sizeof(*nr));
		if (!nr)
			return PT_ENOMEM;
		p->rows = nr;
		p->rows_cap = ncap;
	}
	struct pm_row *row = &p->rows[p->nrows];
	uint8_t b[4] = {' ', ' ', ' ', ' '};
	memcpy(b, pr->tag, pr->tag_len);
	uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		     (uint32_t)b[3] << 24;
	int rc = pt_tags_intern_u32(r->tags, u, &row->tag);
	if (rc < 0)
		return pt_reader_error(r, rc, line, "cannot store tag: %s", pt_strerror(rc));
	row->pool = pr->pool;
	row->allocs = pr->allocs;
	row->frees = pr->frees;
	row->bytes = pr->bytes;
	p->nrows++;
	p->snaps[p->nsnaps - 1].nrows++;
	return 0;
}

/* A damaged or cut row: counted and warned about, never fatal. */
static void damaged(struct pt_reader *r, uint64_t line, const char *why)
{
	r->skipped_bad++;
	pt_reader_warn(r, line, "%s; row skipped", why);
}

/* The held row did not continue on the next line. */
static void drop_pending(struct pt_reader *r)
{
	struct pm_priv *p = r->priv;
	if (!p->pending_len)
		return;
	p->truncated++;
	damaged(r, p->pending_line, p->pending_why);
	p->pending_len = 0;
}

static int hold_pending(struct pt_reader *r, const char *line, size_t len, uint64_t ln,
			const char *why)
{
	struct pm_priv *p = r->priv;
	snprintf(p->pending_why, sizeof(p->pending_why), "%s", why);
	if (len + 1 > p->pending_cap) {
		char *np = realloc(p->pending, len + 1);
		if (!np)
			return PT_ENOMEM;
		p->pending = np;
		p->pending_cap = len + 1;
	}
	memcpy(p->pending, line, len);
	p->pending[len] = '\0';
	p->pending_len = len;
	p->pending_line = ln;
	return 0;
}

/* Try the held row joined with this line (with and without a space). 1 joined, 0 not. */
static int try_join(struct pt_reader *r, const char *line, size_t len)
{
	struct pm_priv *p = r->priv;
	char buf[1024];
	size_t pl = p->pending_len;
	if (pl + 1 + len >= sizeof(buf))
		return 0;
	struct parsed_row pr;
	for (int sp = 1; sp >= 0; sp--) {
		memcpy(buf, p->pending, pl);
		size_t o = pl;
		if (sp)
			buf[o++] = ' ';
		memcpy(buf + o, line, len);
		o += len;
		buf[o] = '\0';
		if (parse_row(buf, o, &pr) == ROW_OK) {
			int rc = add_row(r, &pr, p->pending_line);
			if (rc < 0)
				return rc;
			p->wrapped++;
			pt_reader_warn(r, p->pending_line, "row continues on the next line; joined");
			p->pending_len = 0;
			return 1;
		}
	}
	return 0;
}

static bool is_column_header(const char *t, size_t n)
{
	size_t i = 0;
	while (i < n && !tp_isspace((unsigned char)t[i]))
		i++;
	if (!word_is(t, i, "tag"))
		return false;
	while (i < n && tp_isspace((unsigned char)t[i]))
		i++;
	size_t s = i;
	while (i < n && !tp_isspace((unsigned char)t[i]))
		i++;
	return word_is(t + s, i - s, "type");
}

static int read_line(struct pt_reader *r, char *line, size_t len, uint64_t ln)
{
	struct pm_priv *p = r->priv;
	size_t tl = len;
	const char *t = tp_trim_c(line, &tl);
	int rc;

	if (p->pending_len) {
		if (tl) {
			rc = try_join(r, t, tl);
			if (rc != 0)
				return rc < 0 ? rc : 0;
		}
		drop_pending(r);
	}
	if (!tl)
		return 0;

	struct pm_snap *cur = cur_snap(p);
	if (tp_prefix_ci(t, tl, "memory:") || is_column_header(t, tl)) {
		if (!cur || cur->nrows)
			return new_snap(r, ln);
		return 0;
	}
	struct parsed_row pr;
	enum row_result res = parse_row(t, tl, &pr);
	switch (res) {
	case ROW_OK:
		return add_row(r, &pr, ln);
	case ROW_SHORT:
		return hold_pending(r, t, tl, ln, "row is cut short (missing columns)");
	case ROW_ODD:
		/* maybe cut inside the last number: the next line may complete it */
		return hold_pending(r, t, tl, ln, pr.msg);
	case ROW_BAD:
		if (!r->opts.keep_going)
			return pt_reader_error(r, PT_EFORMAT, ln, "%s", pr.msg);
		r->skipped_bad++;
		pt_reader_warn(r, ln, "%s; row skipped", pr.msg);
		return 0;
	case ROW_NOT:
		break;
	}
	struct pm_time tm;
	if (parse_time_line(t, tl, &tm)) {
		if (!cur || cur->nrows) {
			rc = new_snap(r, ln);
			if (rc < 0)
				return rc;
			cur = cur_snap(p);
		}
		/* "date /t" and "time /t" on separate lines add up */
		if (tm.has_date) {
			cur->text.has_date = true;
			cur->text.days = tm.days;
		}
		if (tm.has_tod) {
			cur->text.has_tod = true;
			cur->text.tod_ns = tm.tod_ns;
		}
		if (tm.zone_ns)
			cur->text.zone_ns = tm.zone_ns;
		return 0;
	}
	/* other text: header lines, prompts, notes */
	return 0;
}

static int add_file(struct pt_reader *r)
{
	struct pm_priv *p = r->priv;
	char **nf = realloc(p->files, (p->nfiles + 1) * sizeof(*nf));
	if (!nf)
		return PT_ENOMEM;
	p->files = nf;
	p->files[p->nfiles] = strdup(pt_input_name(r->in));
	if (!p->files[p->nfiles])
		return PT_ENOMEM;
	p->nfiles++;
	return 0;
}

static int cmp_snap(const void *a, const void *b)
{
	const struct pm_snap *x = a, *y = b;
	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Settle the time of every snapshot. */
static int settle_times(struct pt_reader *r)
{
	struct pm_priv *p = r->priv;
	size_t n = p->nsnaps;
	if (!n)
		return 0;
	/* snapshots per file: a file-name time fits a file with one snapshot */
	size_t *per_file = calloc(p->nfiles, sizeof(*per_file));
	struct pm_time *ft = calloc(p->nfiles, sizeof(*ft));
	bool *ft_ok = calloc(p->nfiles, sizeof(*ft_ok));
	struct pm_time *chosen = calloc(n, sizeof(*chosen));
	int rc = 0;
	if (!per_file || !ft || !ft_ok || !chosen) {
		rc = PT_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		per_file[p->snaps[i].file]++;
	for (size_t f = 0; f < p->nfiles; f++)
		ft_ok[f] = parse_file_time(p->files[f], &ft[f]);
	size_t missing = n, timed = 0;
	bool any_nodate = false;
	for (size_t i = 0; i < n; i++) {
		struct pm_snap *s = &p->snaps[i];
		if (s->text.has_date || s->text.has_tod)
			chosen[i] = s->text;
		else if (per_file[s->file] == 1 && ft_ok[s->file])
			chosen[i] = ft[s->file];
		else {
			if (missing == n)
				missing = i;
			continue;
		}
		timed++;
		if (!chosen[i].has_date)
			any_nodate = true;
	}
	if (missing == n) {
		int64_t prev = 0, day = 0;
		for (size_t i = 0; i < n; i++) {
			int64_t t;
			if (any_nodate) {
				/* times of day only: a time earlier than the one before is the next day */
				t = day * 86400000000000ll + chosen[i].tod_ns;
				if (i && t < prev) {
					day++;
					t += 86400000000000ll;
				}
			} else {
				t = chosen[i].days * 86400000000000ll + chosen[i].tod_ns - chosen[i].zone_ns;
			}
			p->snaps[i].t_ns = t;
			prev = t;
		}
		r->meta.clock = PT_CLOCK_WALL;
		r->meta.has_start_time = !any_nodate;
	} else if (r->opts.snapshot_interval_s > 0) {
		if (timed)
			pt_reader_warn(r, 0,
				       "%zu of %zu snapshots have a time of their own; using "
				       "--snapshot-interval for all", timed, n);
		for (size_t i = 0; i < n; i++)
			p->snaps[i].t_ns = (int64_t)(r->opts.snapshot_interval_s * 1e9 * (double)i);
	} else if (n == 1) {
		p->snaps[0].t_ns = 0;
	} else {
		struct pm_snap *s = &p->snaps[missing];
		snprintf(r->errmsg, sizeof(r->errmsg),
			 "%s:%llu: snapshot %zu of %zu has no time: put a timestamp line above each "
			 "screen, a time in each file name (poolsnap_20240501_1030.log), or pass "
			 "--snapshot-interval (e.g. 1800 or 30m)",
			 p->files[s->file], (unsigned long long)s->line, missing + 1, n);
		rc = PT_EUSAGE;
		goto out;
	}
	for (size_t i = 1; i < n; i++) {
		if (p->snaps[i].t_ns < p->snaps[i - 1].t_ns) {
			pt_reader_warn(r, 0, "snapshot times are not in file order; sorted by time");
			qsort(p->snaps, n, sizeof(*p->snaps), cmp_snap);
			break;
		}
	}
	p->base_ns = p->snaps[0].t_ns;
	if (r->meta.has_start_time)
		r->meta.start_unix_ns = p->base_ns;
	r->meta.end_ns = (uint64_t)(p->snaps[n - 1].t_ns - p->base_ns);
out:
	free(per_file);
	free(ft);
	free(ft_ok);
	free(chosen);
	return rc;
}

static int poolmon_open(struct pt_reader *r)
{
	struct pm_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return PT_ENOMEM;
	r->priv = p;
	snprintf(r->meta.os, sizeof(r->meta.os), "Windows");
	r->meta.snapshot_only = true;
	int rc = add_file(r);
	if (rc < 0)
		return rc;
	for (;;) {
		char *line;
		size_t len;
		rc = pt_input_getline(r->in, &line, &len, r->opts.max_line);
		if (rc < 0)
			return rc;
		if (pt_input_take_boundary(r->in) || rc == 0) {
			/* a new file starts a new snapshot; a held row ends with its file */
			drop_pending(r);
			p->in_snap = false;
			if (rc == 0)
				break;
			rc = add_file(r);
			if (rc < 0)
				return rc;
		}
		rc = read_line(r, line, len, pt_input_lineno(r->in));
		if (rc < 0)
			return rc;
	}
	/* drop snapshots without rows (a note with a time, an empty screen) */
	size_t o = 0;
	for (size_t i = 0; i < p->nsnaps; i++)
		if (p->snaps[i].nrows)
			p->snaps[o++] = p->snaps[i];
	p->nsnaps = o;
	for (size_t i = 0; i < p->nsnaps; i++)
		p->snaps[i].order = i;
	if (!p->nsnaps)
		return pt_reader_error(r, PT_EFORMAT, 0, "no PoolMon rows found (Tag Type Allocs "
				       "Frees Diff Bytes Per Alloc)");
	if (p->wrapped || p->truncated)
		pt_reader_warn(r, 0, "%zu wrapped row(s) joined, %zu cut-off row(s) skipped",
			       p->wrapped, p->truncated);
	return settle_times(r);
}

static int poolmon_next(struct pt_reader *r, struct pt_event *ev)
{
	struct pm_priv *p = r->priv;
	while (p->si < p->nsnaps) {
		struct pm_snap *s = &p->snaps[p->si];
		if (p->ri >= s->nrows) {
			p->si++;
			p->ri = 0;
			continue;
		}
		const struct pm_row *row = &p->rows[s->first_row + p->ri++];
		ev->kind = PT_EV_SNAPSHOT;
		ev->ts_ns = (uint64_t)(s->t_ns - p->base_ns);
		ev->tag = row->tag;
		ev->pool = row->pool;
		ev->raw_pool_type = raw_pool(row->pool);
		ev->size = row->bytes;
		ev->snap_allocs = row->allocs;
		ev->snap_frees = row->frees;
		return 1;
	}
	return 0;
}

static void poolmon_close(struct pt_reader *r)
{
	struct pm_priv *p = r->priv;
	if (!p)
		return;
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p->rows);
	free(p->snaps);
	free(p->pending);
	free(p);
	r->priv = NULL;
}

static int poolmon_probe(const uint8_t *head, size_t len)
{
	const char *s = (const char *)head;
	size_t i = 0;
	int lines = 0, rows = 0;
	bool mem = false;
	while (i < len && lines < 400) {
		size_t e = i;
		while (e < len && s[e] != '\n')
			e++;
		size_t n = e - i;
		const char *t = tp_trim_c(s + i, &n);
		if (is_column_header(t, n)) {
			/* "Tag Type Allocs ..." */
			size_t k = 0;
			for (; k + 6 <= n; k++)
				if (tp_prefix_ci(t + k, n - k, "allocs"))
					return 90;
		}
		if (tp_prefix_ci(t, n, "memory:"))
			mem = true;
		if (mem && n > 7) {
			for (size_t k = 0; k + 7 <= n; k++)
				if (!memcmp(t + k, "Pool N:", 7))
					return 80;
		}
		struct parsed_row pr;
		if (e < len && n < 1000 && parse_row(t, n, &pr) == ROW_OK)
			rows++;
		i = e + 1;
		lines++;
	}
	if (rows >= 3)
		return 70;
	return rows ? 50 : 0;
}

const struct pt_reader_ops pt_reader_poolmon = {
	.name = "poolmon",
	.description = "PoolMon snapshots (poolmon /n logs, pasted screens; a file or a folder)",
	.probe = poolmon_probe,
	.open = poolmon_open,
	.next = poolmon_next,
	.close = poolmon_close,
};
