/* SPDX-License-Identifier: MIT */
/*
 * xperf "-a dumper" text reader.
 *
 * The file opens with a BeginHeader ... EndHeader block that names the
 * columns of every event type ("PoolAlloc, TimeStamp, Process Name ( PID),
 * ThreadID, CPU, Tag, Type, Size, Entry"). The column map is built from that
 * block at run time; nothing depends on fixed positions. One metadata line
 * follows EndHeader. Rows are "Type, value, value, ..." split on ',' and
 * trimmed; the last column takes any remaining commas. TimeStamp is in µs.
 * No real dumper line of a pool event is known, so the pool type and column
 * names are matched against the plausible spellings listed in docs/formats.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/reader.h"
#include "readers/readers.h"
#include "readers/textparse.h"

/* Lines searched for BeginHeader before giving up. */
#define MAX_PREAMBLE_LINES 1000
/* Columns per event type kept (more are accepted and ignored). */
#define MAX_COLS 256

enum xp_kind {
	XK_OTHER = 0,
	XK_ALLOC,
	XK_FREE,
	XK_SALLOC,
	XK_SFREE,
	XK_MARK,
	XK_STACK
};

enum xp_col {
	XC_TS = 0,
	XC_PROC,
	XC_TID,
	XC_CPU,
	XC_TAG,
	XC_TYPE,
	XC_PAGED,   /* a "Paged" yes/no column instead of POOL_TYPE */
	XC_SIZE,
	XC_ADDR,
	XC_SESSION,
	XC_TEXT,
	XC_COUNT_
};

struct xp_type {
	char *name;
	enum xp_kind kind;
	int col[XC_COUNT_];  /* field index (1-based after the type), -1 absent */
	int ncols;           /* fields of a row, the type included */
	bool warned;
};

struct xp_priv {
	struct xp_type *types;
	size_t ntypes, cap;
	uint32_t *hash;      /* type index + 1, 0 empty */
	size_t hmask;
	char *pending;       /* the line after EndHeader when it is a row */
	size_t pending_len;
	uint64_t pending_line;
	bool pending_used;
	char *fields[MAX_COLS + 1];
	size_t flen[MAX_COLS + 1];
	/* unknown (undeclared) type names already warned about */
	char *unknown[16];
	size_t nunknown;
};

static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 31);
}

static struct xp_type *find_type(struct xp_priv *p, const char *name, size_t len)
{
	if (!p->hash)
		return NULL;
	size_t h = name_hash(name, len) & p->hmask;
	while (p->hash[h]) {
		struct xp_type *t = &p->types[p->hash[h] - 1];
		if (strlen(t->name) == len && !memcmp(t->name, name, len))
			return t;
		h = (h + 1) & p->hmask;
	}
	return NULL;
}

static int rehash(struct xp_priv *p, size_t nslots)
{
	uint32_t *nh = calloc(nslots, sizeof(*nh));
	if (!nh)
		return PT_ENOMEM;
	for (size_t i = 0; i < p->ntypes; i++) {
		size_t h = name_hash(p->types[i].name, strlen(p->types[i].name)) & (nslots - 1);
		while (nh[h])
			h = (h + 1) & (nslots - 1);
		nh[h] = (uint32_t)i + 1;
	}
	free(p->hash);
	p->hash = nh;
	p->hmask = nslots - 1;
	return 0;
}

/* The event kind a type name stands for ("PoolAlloc", "Pool/PoolAllocation", ...). */
static enum xp_kind classify_type(const char *name, size_t len)
{
	static const struct {
		const char *squashed;
		enum xp_kind kind;
	} names[] = {
		{"poolalloc", XK_ALLOC},          {"poolallocation", XK_ALLOC},
		{"allocatepool", XK_ALLOC},       {"poolallocate", XK_ALLOC},
		{"poolfree", XK_FREE},            {"freepool", XK_FREE},
		{"poolallocsession", XK_SALLOC},  {"poolallocationsession", XK_SALLOC},
		{"sessionpoolalloc", XK_SALLOC},  {"sessionpoolallocation", XK_SALLOC},
		{"allocatepoolsession", XK_SALLOC}, {"poolsessionalloc", XK_SALLOC},
		{"poolfreesession", XK_SFREE},    {"sessionpoolfree", XK_SFREE},
		{"freepoolsession", XK_SFREE},    {"poolsessionfree", XK_SFREE},
		{"mark", XK_MARK},                {"marker", XK_MARK},
		{"usermark", XK_MARK},            {"perfinfomark", XK_MARK},
		{"stack", XK_STACK},
	};
	/* "Pool/PoolAllocation": the part after the last '/' names the event. */
	for (size_t i = len; i > 0; i--) {
		if (name[i - 1] == '/') {
			name += i;
			len -= i;
			break;
		}
	}
	char sq[64];
	tp_squash(name, len, sq, sizeof(sq));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(sq, names[i].squashed))
			return names[i].kind;
	return XK_OTHER;
}

/* Which of our columns a header column name is, or -1. */
static int classify_col(const char *name, size_t len, enum xp_kind kind)
{
	static const struct {
		const char *squashed;
		enum xp_col col;
	} cols[] = {
		{"timestamp", XC_TS},       {"processnamepid", XC_PROC}, {"process", XC_PROC},
		{"threadid", XC_TID},       {"tid", XC_TID},             {"thread", XC_TID},
		{"cpu", XC_CPU},            {"processor", XC_CPU},
		{"tag", XC_TAG},            {"pooltag", XC_TAG},
		{"type", XC_TYPE},          {"pooltype", XC_TYPE},
		{"paged", XC_PAGED},
		{"size", XC_SIZE},          {"numberofbytes", XC_SIZE},  {"bytes", XC_SIZE},
		{"nbytes", XC_SIZE},        {"allocsize", XC_SIZE},      {"numbytes", XC_SIZE},
		{"entry", XC_ADDR},         {"address", XC_ADDR},        {"va", XC_ADDR},
		{"poolentry", XC_ADDR},     {"addr", XC_ADDR},           {"pointer", XC_ADDR},
		{"sessionid", XC_SESSION},  {"session", XC_SESSION},
	};
	static const char *const text_cols[] = {
		"mark", "text", "label", "name", "message", "markname", "description", "string",
	};
	char sq[64];
	tp_squash(name, len, sq, sizeof(sq));
	if (kind == XK_MARK) {
		for (size_t i = 0; i < sizeof(text_cols) / sizeof(text_cols[0]); i++)
			if (!strcmp(sq, text_cols[i]))
				return XC_TEXT;
	}
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (!strcmp(sq, cols[i].squashed))
			return (int)cols[i].col;
	return -1;
}

/*
 * Split a line into fields on ',' (trimmed); at most max fields, the last
 * one keeping the rest of the line. Returns the field count.
 */
static size_t split_fields(struct xp_priv *p, char *line, size_t len, size_t max)
{
	size_t n = 0;
	size_t i = 0;
	if (max > MAX_COLS + 1)
		max = MAX_COLS + 1;
	while (n < max) {
		size_t start = i;
		if (n + 1 < max) {
			while (i < len && line[i] != ',')
				i++;
		} else {
			i = len;
		}
		size_t flen = i - start;
		char *f = tp_trim(line + start, &flen);
		f[flen] = '\0';
		p->fields[n] = f;
		p->flen[n] = flen;
		n++;
		if (i >= len)
			break;
		i++; /* the comma */
	}
	return n;
}

static int add_header_line(struct pt_reader *r, char *line, size_t len, uint64_t lineno)
{
	struct xp_priv *p = r->priv;
	size_t n = split_fields(p, line, len, MAX_COLS + 1);
	if (n == 0 || p->flen[0] == 0)
		return 0;
	if (find_type(p, p->fields[0], p->flen[0])) {
		pt_reader_warn(r, lineno, "event type '%s' declared twice in the header; first kept",
			       p->fields[0]);
		return 0;
	}
	if (p->ntypes == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 64;
		struct xp_type *nt = realloc(p->types, ncap * sizeof(*nt));
		if (!nt)
			return PT_ENOMEM;
		p->types = nt;
		p->cap = ncap;
	}
	struct xp_type *t = &p->types[p->ntypes];
	memset(t, 0, sizeof(*t));
	t->name = strdup(p->fields[0]);
	if (!t->name)
		return PT_ENOMEM;
	t->kind = classify_type(p->fields[0], p->flen[0]);
	t->ncols = (int)n;
	for (int c = 0; c < XC_COUNT_; c++)
		t->col[c] = -1;
	for (size_t i = 1; i < n; i++) {
		int c = classify_col(p->fields[i], p->flen[i], t->kind);
		if (c >= 0 && t->col[c] < 0)
			t->col[c] = (int)i;
	}
	p->ntypes++;
	if (p->ntypes * 2 > p->hmask + 1 || !p->hash) {
		int rc = rehash(p, p->hash ? (p->hmask + 1) * 2 : 256);
		if (rc < 0)
			return rc;
	} else {
		size_t h = name_hash(t->name, strlen(t->name)) & p->hmask;
		while (p->hash[h])
			h = (h + 1) & p->hmask;
		p->hash[h] = (uint32_t)p->ntypes;
	}

	/* A pool type we cannot read is an error at its header line, not on every row. */
	if (t->kind >= XK_ALLOC && t->kind <= XK_SFREE) {
		const char *missing = NULL;
		if (t->col[XC_TS] < 0)
			missing = "TimeStamp";
		else if (t->col[XC_TAG] < 0)
			missing = "Tag (or PoolTag)";
		else if (t->col[XC_TYPE] < 0 && t->col[XC_PAGED] < 0)
			missing = "Type (or PoolType, Paged)";
		else if ((t->kind == XK_ALLOC || t->kind == XK_SALLOC) && t->col[XC_SIZE] < 0)
			missing = "Size (or NumberOfBytes, Bytes)";
		if (missing)
			return pt_reader_error(r, PT_EFORMAT, lineno,
					       "header of event type '%s' has no %s column",
					       t->name, missing);
		if (t->col[XC_ADDR] < 0)
			pt_reader_warn(r, lineno,
				       "header of event type '%s' has no Entry/Address column; "
				       "frees cannot be matched to allocations", t->name);
	} else if (t->kind == XK_MARK && t->col[XC_TS] < 0) {
		return pt_reader_error(r, PT_EFORMAT, lineno,
				       "header of event type '%s' has no TimeStamp column", t->name);
	}
	return 0;
}

static bool is_line(const char *line, size_t len, const char *word)
{
	size_t n = len;
	const char *s = tp_trim_c(line, &n);
	return n == strlen(word) && !memcmp(s, word, n);
}

static int xperf_open(struct pt_reader *r)
{
	struct xp_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return PT_ENOMEM;
	r->priv = p;
	snprintf(r->meta.os, sizeof(r->meta.os), "Windows");
	r->meta.pool_tracing = -1;

	char *line;
	size_t len;
	int rc;
	bool in_header = false, done = false;
	while (!done) {
		rc = pt_input_getline(r->in, &line, &len, r->opts.max_line);
		if (rc < 0)
			return rc;
		uint64_t ln = pt_input_lineno(r->in);
		if (rc == 0)
			return pt_reader_error(r, PT_EFORMAT, ln,
					       in_header ? "input ends inside the BeginHeader block "
							   "(no EndHeader line)"
							 : "no BeginHeader line: not xperf dumper output");
		if (!in_header) {
			if (is_line(line, len, "BeginHeader"))
				in_header = true;
			else if (ln >= MAX_PREAMBLE_LINES)
				return pt_reader_error(r, PT_EFORMAT, ln,
						       "no BeginHeader line in the first %d lines: "
						       "not xperf dumper output", MAX_PREAMBLE_LINES);
			continue;
		}
		if (is_line(line, len, "EndHeader")) {
			done = true;
			continue;
		}
		rc = add_header_line(r, line, len, ln);
		if (rc < 0)
			return rc;
	}
	/*
	 * One trace-metadata line follows EndHeader. It is skipped unless it is
	 * a row of a declared event type.
	 */
	rc = pt_input_getline(r->in, &line, &len, r->opts.max_line);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		size_t i = 0;
		while (i < len && line[i] != ',')
			i++;
		size_t tl = i;
		char *tn = tp_trim(line, &tl);
		if (tl && find_type(p, tn, tl)) {
			p->pending = malloc(len + 1);
			if (!p->pending)
				return PT_ENOMEM;
			memcpy(p->pending, line, len);
			p->pending[len] = '\0';
			p->pending_len = len;
			p->pending_line = pt_input_lineno(r->in);
		}
	}
	return 0;
}

/* A tag as 4 characters ("Leak", "Cc" padded with spaces) or a ULONG in hex. */
static int parse_tag(struct pt_reader *r, const char *s, size_t len, pt_tag_id *out,
		     uint64_t ln)
{
	if (len >= 2 && (s[0] == '\'' || s[0] == '"') && s[len - 1] == s[0]) {
		s++;
		len -= 2;
	}
	uint64_t v;
	if (len > 4 && len <= 10 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    tp_hex_u64(s, len, &v))
		return pt_tags_intern_u32(r->tags, (uint32_t)v, out);
	if (len == 0 || len > 4)
		return pt_reader_error(r, PT_EFORMAT, ln,
				       "pool tag '%.*s' is neither 1-4 characters nor 0x-hex",
				       (int)(len > 40 ? 40 : len), s);
	uint8_t b[4] = {' ', ' ', ' ', ' '};
	memcpy(b, s, len);
	uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		     (uint32_t)b[3] << 24;
	return pt_tags_intern_u32(r->tags, u, out);
}

/* POOL_TYPE as a number or a name (NonPagedPool, PagedPool, NonPagedPoolNx, ...). */
static bool parse_pool_type(const char *s, size_t len, uint32_t *out)
{
	static const struct {
		const char *squashed;
		uint32_t value;
	} names[] = {
		{"nonpagedpool", 0},            {"nonpaged", 0},           {"nonp", 0},
		{"pagedpool", 1},               {"paged", 1},
		{"nonpagedpoolnx", 512},        {"nonpagednx", 512},       {"nonpnx", 512},
		{"nonpagedpoolsession", 32},    {"sessnp", 32},
		{"pagedpoolsession", 33},       {"sesspg", 33},
		{"nonpagedpoolsessionnx", 544}, {"sessnx", 544},
	};
	uint64_t v;
	if (tp_num_u64(s, len, &v)) {
		if (v > UINT32_MAX)
			return false;
		*out = (uint32_t)v;
		return true;
	}
	char sq[40];
	tp_squash(s, len, sq, sizeof(sq));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(sq, names[i].squashed)) {
			*out = names[i].value;
			return true;
		}
	}
	return false;
}

/* A "Paged" column: Paged/NonPaged, True/False, Yes/No, 1/0. */
static bool parse_paged(const char *s, size_t len, uint32_t *out)
{
	char sq[24];
	tp_squash(s, len, sq, sizeof(sq));
	if (!strcmp(sq, "paged") || !strcmp(sq, "true") || !strcmp(sq, "yes") || !strcmp(sq, "1")) {
		*out = 1;
		return true;
	}
	if (!strcmp(sq, "nonpaged") || !strcmp(sq, "false") || !strcmp(sq, "no") ||
	    !strcmp(sq, "0")) {
		*out = 0;
		return true;
	}
	return false;
}

/* "chrome.exe (22128)" -> 22128; PT_NONE32 when absent or negative. */
static uint32_t parse_pid(const char *s, size_t len)
{
	size_t open = len, close = len;
	for (size_t i = len; i > 0; i--) {
		if (s[i - 1] == ')' && close == len)
			close = i - 1;
		else if (s[i - 1] == '(' && close != len) {
			open = i - 1;
			break;
		}
	}
	if (open == len || close == len || close <= open + 1)
		return PT_NONE32;
	size_t n = close - open - 1;
	const char *num = tp_trim_c(s + open + 1, &n);
	uint64_t v;
	if (!tp_dec_u64(num, n, &v) || v >= PT_NONE32)
		return PT_NONE32;
	return (uint32_t)v;
}

static uint32_t parse_u32_opt(const char *s, size_t len)
{
	uint64_t v;
	if (!tp_num_u64(s, len, &v) || v >= PT_NONE32)
		return PT_NONE32;
	return (uint32_t)v;
}

/* Fill ev from a split pool or mark row. Returns 1, or a negative error. */
static int decode_row(struct pt_reader *r, struct xp_type *t, size_t n, struct pt_event *ev,
		      uint64_t ln)
{
	struct xp_priv *p = r->priv;
	/* every column we use must be present */
	for (int c = 0; c < XC_COUNT_; c++) {
		if (c == XC_TEXT && t->kind == XK_MARK && t->col[c] < 0)
			continue;
		if (t->col[c] >= (int)n)
			return pt_reader_error(r, PT_EFORMAT, ln,
					       "%s row has %zu fields, the header declares %d",
					       t->name, n - 1, t->ncols - 1);
	}
#define F(c) p->fields[t->col[c]], p->flen[t->col[c]]
	uint64_t ts;
	if (!tp_decimal_ns(F(XC_TS), 1000, &ts))
		return pt_reader_error(r, PT_EFORMAT, ln, "bad TimeStamp '%s' (microseconds expected)",
				       p->fields[t->col[XC_TS]]);
	ev->ts_ns = ts;
	if (t->col[XC_PROC] >= 0)
		ev->pid = parse_pid(F(XC_PROC));
	if (t->col[XC_TID] >= 0)
		ev->tid = parse_u32_opt(F(XC_TID));
	if (t->col[XC_CPU] >= 0)
		ev->cpu = parse_u32_opt(F(XC_CPU));

	if (t->kind == XK_MARK) {
		ev->kind = PT_EV_MARKER;
		int c = t->col[XC_TEXT] >= 0 ? t->col[XC_TEXT] : (int)n - 1;
		ev->marker = c > 0 && (size_t)c < n ? p->fields[c] : "";
		return 1;
	}

	static const enum pt_event_kind kinds[] = {
		[XK_ALLOC] = PT_EV_ALLOC, [XK_FREE] = PT_EV_FREE,
		[XK_SALLOC] = PT_EV_SESSION_ALLOC, [XK_SFREE] = PT_EV_SESSION_FREE,
	};
	ev->kind = kinds[t->kind];
	int rc = parse_tag(r, F(XC_TAG), &ev->tag, ln);
	if (rc < 0) {
		if (rc == PT_EFORMAT)
			return rc;
		return pt_reader_error(r, rc, ln, "cannot store tag: %s", pt_strerror(rc));
	}
	uint32_t type;
	if (t->col[XC_TYPE] >= 0) {
		if (!parse_pool_type(F(XC_TYPE), &type))
			return pt_reader_error(r, PT_EFORMAT, ln, "bad pool type '%s'",
					       p->fields[t->col[XC_TYPE]]);
	} else if (!parse_paged(F(XC_PAGED), &type)) {
		return pt_reader_error(r, PT_EFORMAT, ln, "bad Paged value '%s'",
				       p->fields[t->col[XC_PAGED]]);
	}
	ev->raw_pool_type = type;
	ev->pool = pt_pool_from_windows(type, &ev->pool_flags);
	if (t->col[XC_SIZE] >= 0 && p->flen[t->col[XC_SIZE]] > 0) {
		if (!tp_num_u64(F(XC_SIZE), &ev->size))
			return pt_reader_error(r, PT_EFORMAT, ln, "bad size '%s'",
					       p->fields[t->col[XC_SIZE]]);
	}
	if (t->col[XC_ADDR] >= 0) {
		/* pointers are hex with or without 0x */
		if (!tp_hex_u64(F(XC_ADDR), &ev->addr))
			return pt_reader_error(r, PT_EFORMAT, ln, "bad address '%s'",
					       p->fields[t->col[XC_ADDR]]);
		if (ev->addr > UINT32_MAX)
			r->meta.pointer_size = 8;
	}
	if (t->col[XC_SESSION] >= 0 && p->flen[t->col[XC_SESSION]] > 0)
		ev->session_id = parse_u32_opt(F(XC_SESSION));
#undef F
	return 1;
}

static void note_unknown(struct pt_reader *r, const char *name, size_t len, uint64_t ln)
{
	struct xp_priv *p = r->priv;
	for (size_t i = 0; i < p->nunknown; i++)
		if (strlen(p->unknown[i]) == len && !memcmp(p->unknown[i], name, len))
			return;
	if (p->nunknown < sizeof(p->unknown) / sizeof(p->unknown[0])) {
		p->unknown[p->nunknown] = strndup(name, len);
		if (p->unknown[p->nunknown])
			p->nunknown++;
	}
	pt_reader_warn(r, ln, "event type '%.*s' is not declared in the header; its rows are skipped",
		       (int)(len > 60 ? 60 : len), name);
}

static int xperf_next(struct pt_reader *r, struct pt_event *ev)
{
	struct xp_priv *p = r->priv;
	for (;;) {
		char *line;
		size_t len;
		uint64_t ln;
		if (p->pending && p->pending_used) {
			/* its strings were valid until this call */
			free(p->pending);
			p->pending = NULL;
		}
		if (p->pending) {
			line = p->pending;
			len = p->pending_len;
			ln = p->pending_line;
			p->pending_used = true;
		} else {
			int rc = pt_input_getline(r->in, &line, &len, r->opts.max_line);
			if (rc <= 0)
				return rc;
			ln = pt_input_lineno(r->in);
		}
		size_t i = 0;
		while (i < len && line[i] != ',')
			i++;
		size_t tl = i;
		char *tn = tp_trim(line, &tl);
		int rc = 0;
		if (tl == 0) {
			/* blank line */
		} else {
			struct xp_type *t = find_type(p, tn, tl);
			enum xp_kind kind = t ? t->kind : classify_type(tn, tl);
			if (!t) {
				r->skipped_other++;
				if (kind != XK_STACK)
					note_unknown(r, tn, tl, ln);
			} else if (kind == XK_OTHER || kind == XK_STACK) {
				r->skipped_other++;
			} else {
				size_t n = split_fields(p, line, len, (size_t)t->ncols);
				rc = decode_row(r, t, n, ev, ln);
			}
		}
		if (rc > 0)
			return 1;
		if (rc < 0) {
			if (rc != PT_EFORMAT || !r->opts.keep_going)
				return rc;
			tp_skip_bad(r, ln);
		}
	}
}

static void xperf_close(struct pt_reader *r)
{
	struct xp_priv *p = r->priv;
	if (!p)
		return;
	for (size_t i = 0; i < p->ntypes; i++)
		free(p->types[i].name);
	for (size_t i = 0; i < p->nunknown; i++)
		free(p->unknown[i]);
	free(p->types);
	free(p->hash);
	free(p->pending);
	free(p);
	r->priv = NULL;
}

static int xperf_probe(const uint8_t *head, size_t len)
{
	/* "BeginHeader" alone on a line near the start */
	const char *s = (const char *)head;
	size_t i = 0;
	int lines = 0;
	while (i < len && lines < 50) {
		size_t e = i;
		while (e < len && s[e] != '\n')
			e++;
		size_t n = e - i;
		const char *t = tp_trim_c(s + i, &n);
		if (n == 11 && !memcmp(t, "BeginHeader", 11))
			return 90;
		i = e + 1;
		lines++;
	}
	return 0;
}

const struct pt_reader_ops pt_reader_xperf = {
	.name = "xperf-text",
	.description = "xperf -a dumper text export (BeginHeader ... EndHeader, rows in µs)",
	.probe = xperf_probe,
	.open = xperf_open,
	.next = xperf_next,
	.close = xperf_close,
};
