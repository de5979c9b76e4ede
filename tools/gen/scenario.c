/* SPDX-License-Identifier: MIT */
/* Scenario engine: description parser and deterministic event generator. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pooltrace/error.h"
#include "pooltrace/util.h"
#include "pooltrace/xmlwrite.h"
#include "scenario.h"

#define MAX_TAGS 65536
#define MAX_MARKERS 4096
#define MAX_FILE (16u << 20)

/* ---------------------------------------------------------------- parser */

struct parse {
	const char *name;
	unsigned line;
	char *err;
	size_t errsz;
};

static int perr(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct parse *p, const char *fmt, ...)
{
	if (p->err && p->errsz) {
		int n = snprintf(p->err, p->errsz, "%s:%u: ", p->name, p->line);
		if (n < 0 || (size_t)n >= p->errsz)
			n = 0;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errsz - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return PT_EUSAGE;
}

static int parse_u64_dec(const char *s, uint64_t *v)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *e;
	unsigned long long x = strtoull(s, &e, 0);
	if (errno || *e)
		return -1;
	*v = x;
	return 0;
}

static int parse_fraction(const char *s, double *v)
{
	errno = 0;
	char *e;
	double d = strtod(s, &e);
	if (e == s || errno || !isfinite(d))
		return -1;
	if (*e == '%') {
		d /= 100;
		e++;
	}
	if (*e || d < 0 || d > 1)
		return -1;
	*v = d;
	return 0;
}

/* "20/s", "5/min", "2000/ms", "1/h" -> mean period in ns. */
static int parse_rate(const char *s, uint64_t *period_ns)
{
	errno = 0;
	char *e;
	double n = strtod(s, &e);
	if (e == s || errno || !isfinite(n) || n < 0 || *e != '/')
		return -1;
	const char *u = e + 1;
	double unit;
	if (!strcmp(u, "s") || !strcmp(u, "sec"))
		unit = 1e9;
	else if (!strcmp(u, "ms"))
		unit = 1e6;
	else if (!strcmp(u, "us"))
		unit = 1e3;
	else if (!strcmp(u, "min") || !strcmp(u, "m"))
		unit = 60e9;
	else if (!strcmp(u, "h"))
		unit = 3600e9;
	else
		return -1;
	if (n == 0) {
		*period_ns = 0;
		return 0;
	}
	double p = unit / n;
	if (p < 1 || p > 1e18)
		return -1;
	*period_ns = (uint64_t)p;
	return 0;
}

/* "A..B" or "A" with a parser for each side. */
static int parse_range(const char *s, int (*one)(const char *, uint64_t *), uint64_t *lo,
		       uint64_t *hi)
{
	const char *dots = strstr(s, "..");
	if (!dots) {
		if (one(s, lo) < 0)
			return -1;
		*hi = *lo;
		return 0;
	}
	char a[64];
	size_t n = (size_t)(dots - s);
	if (n == 0 || n >= sizeof(a))
		return -1;
	memcpy(a, s, n);
	a[n] = 0;
	if (one(a, lo) < 0 || one(dots + 2, hi) < 0 || *hi < *lo)
		return -1;
	return 0;
}

static int dur(const char *s, uint64_t *ns)
{
	return pt_parse_duration(s, ns);
}

static int size1(const char *s, uint64_t *b)
{
	return pt_parse_size(s, b);
}

/* Split a line into words in place. @return count. */
static int split(char *s, char **words, int max)
{
	int n = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (n == max)
			return max + 1;
		words[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = 0;
	}
	return n;
}

static int pool_word(const char *w, enum pt_pool *pool)
{
	if (!strcasecmp(w, "nonpaged") || !strcasecmp(w, "np"))
		*pool = PT_POOL_NONPAGED;
	else if (!strcasecmp(w, "paged") || !strcasecmp(w, "pg"))
		*pool = PT_POOL_PAGED;
	else if (!strcasecmp(w, "nonpaged-nx") || !strcasecmp(w, "nx"))
		*pool = PT_POOL_NONPAGED_NX;
	else if (pt_pool_parse(w, pool) < 0)
		return -1;
	return 0;
}

static int parse_tag(struct parse *p, struct ptg_scenario *s, char **w, int n,
		     double default_lost)
{
	if (n < 3)
		return perr(p, "usage: tag NAME POOL [rate=N/s] [size=A..B] [lifetime=A..B|forever] ...");
	if (s->ntags == MAX_TAGS)
		return perr(p, "too many tags (at most %d)", MAX_TAGS);
	struct ptg_tag t;
	memset(&t, 0, sizeof(t));
	uint8_t raw[PT_TAG_MAX_LEN];
	int tl = pt_tag_unescape(w[1], raw, sizeof(raw));
	if (tl <= 0 || tl > 4)
		return perr(p, "tag '%s': 1 to 4 bytes (\\xNN escapes allowed)", w[1]);
	memset(t.bytes, ' ', 4);
	memcpy(t.bytes, raw, (size_t)tl);
	if (pool_word(w[2], &t.pool) < 0)
		return perr(p, "pool '%s': nonpaged, paged, nonpaged-nx or a session pool name",
			    w[2]);
	if (t.pool == PT_POOL_SLAB || t.pool == PT_POOL_KMALLOC || t.pool == PT_POOL_OTHER)
		return perr(p, "pool '%s' is not a Windows pool", w[2]);
	t.session = PT_NONE32;
	t.period_ns = 1000000000; /* 1/s */
	t.size_min = t.size_max = 64;
	t.life_min = 100000000;
	t.life_max = 1000000000;
	t.lost_frees = default_lost;
	t.pid = 4;
	t.threads = 4;
	t.line = p->line;
	bool big = false;
	for (int i = 3; i < n; i++) {
		char *k = w[i], *v = strchr(k, '=');
		if (v)
			*v++ = 0;
		if (!v) {
			if (!strcmp(k, "big")) {
				big = true;
				continue;
			}
			return perr(p, "'%s': expected KEY=VALUE", k);
		}
		if (!strcmp(k, "rate")) {
			if (parse_rate(v, &t.period_ns) < 0)
				return perr(p, "rate '%s': expected N/s, N/ms, N/min or N/h", v);
		} else if (!strcmp(k, "size")) {
			if (parse_range(v, size1, &t.size_min, &t.size_max) < 0 || t.size_min == 0)
				return perr(p, "size '%s': expected BYTES or MIN..MAX", v);
		} else if (!strcmp(k, "lifetime")) {
			if (!strcmp(v, "forever")) {
				t.life_min = t.life_max = PTG_FOREVER;
			} else if (parse_range(v, dur, &t.life_min, &t.life_max) < 0 ||
				   t.life_max >= PTG_FOREVER) {
				return perr(p, "lifetime '%s': expected forever, TIME or MIN..MAX", v);
			}
		} else if (!strcmp(k, "leak")) {
			if (parse_fraction(v, &t.leak) < 0)
				return perr(p, "leak '%s': expected a fraction 0..1 (or N%%)", v);
		} else if (!strcmp(k, "lost-frees")) {
			if (parse_fraction(v, &t.lost_frees) < 0)
				return perr(p, "lost-frees '%s': expected a fraction 0..1", v);
		} else if (!strcmp(k, "phase")) {
			if (!strcmp(v, "workload"))
				t.always = false;
			else if (!strcmp(v, "always"))
				t.always = true;
			else
				return perr(p, "phase '%s': workload or always", v);
		} else if (!strcmp(k, "from")) {
			if (dur(v, &t.from_ns) < 0)
				return perr(p, "from '%s': expected a time", v);
			t.has_from = true;
		} else if (!strcmp(k, "until")) {
			if (dur(v, &t.until_ns) < 0)
				return perr(p, "until '%s': expected a time", v);
			t.has_until = true;
		} else if (!strcmp(k, "pid")) {
			uint64_t x;
			if (parse_u64_dec(v, &x) < 0 || x > UINT32_MAX)
				return perr(p, "pid '%s': expected a number", v);
			t.pid = (uint32_t)x;
		} else if (!strcmp(k, "threads")) {
			uint64_t x;
			if (parse_u64_dec(v, &x) < 0 || x == 0 || x > 1024)
				return perr(p, "threads '%s': expected 1..1024", v);
			t.threads = (uint32_t)x;
		} else if (!strcmp(k, "prelive")) {
			if (parse_u64_dec(v, &t.prelive) < 0 || t.prelive > 10000000)
				return perr(p, "prelive '%s': expected a count up to 10000000", v);
		} else if (!strcmp(k, "prelive-until")) {
			if (dur(v, &t.prelive_until_ns) < 0 || t.prelive_until_ns == 0)
				return perr(p, "prelive-until '%s': expected a time", v);
		} else if (!strcmp(k, "session")) {
			uint64_t x;
			if (parse_u64_dec(v, &x) < 0 || x >= UINT32_MAX)
				return perr(p, "session '%s': expected a session id", v);
			t.session = (uint32_t)x;
		} else {
			return perr(p, "unknown tag option '%s'", k);
		}
	}
	if (t.session != PT_NONE32) {
		if (t.pool == PT_POOL_NONPAGED)
			t.pool = PT_POOL_NONPAGED_SESSION;
		else if (t.pool == PT_POOL_PAGED)
			t.pool = PT_POOL_PAGED_SESSION;
		else if (t.pool == PT_POOL_NONPAGED_NX)
			t.pool = PT_POOL_NONPAGED_SESSION_NX;
	} else if (t.pool == PT_POOL_NONPAGED_SESSION || t.pool == PT_POOL_PAGED_SESSION ||
		   t.pool == PT_POOL_NONPAGED_SESSION_NX) {
		t.session = 1;
	}
	static const uint32_t types[PT_POOL_COUNT_] = {
		[PT_POOL_NONPAGED] = 0, [PT_POOL_PAGED] = 1, [PT_POOL_NONPAGED_NX] = 512,
		[PT_POOL_NONPAGED_SESSION] = 32, [PT_POOL_PAGED_SESSION] = 33,
		[PT_POOL_NONPAGED_SESSION_NX] = 544,
	};
	t.raw_type = types[t.pool] | (big ? 0x10000000u : 0);
	struct ptg_tag *nt = realloc(s->tags, (s->ntags + 1) * sizeof(*nt));
	if (!nt)
		return PT_ENOMEM;
	s->tags = nt;
	s->tags[s->ntags++] = t;
	return 0;
}

static int cmp_marker(const void *a, const void *b)
{
	const struct ptg_marker *x = a, *y = b;
	return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

static int parse_line(struct parse *p, struct ptg_scenario *s, char *line, double *default_lost,
		      bool *has_wend)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = 0;
	char *words[64];
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", line);
	int n = split(line, words, 64);
	if (n == 0)
		return 0;
	if (n > 64)
		return perr(p, "too many words");
	const char *k = words[0];
	if (!strcmp(k, "tag"))
		return parse_tag(p, s, words, n, *default_lost);
	if (!strcmp(k, "marker")) {
		if (n < 3)
			return perr(p, "usage: marker TIME TEXT");
		if (s->nmarkers == MAX_MARKERS)
			return perr(p, "too many markers");
		struct ptg_marker m;
		if (dur(words[1], &m.t_ns) < 0)
			return perr(p, "marker time '%s'", words[1]);
		/* The text is the rest of the original line after the time. */
		char *c = copy;
		while (*c == ' ' || *c == '\t')
			c++;
		c += strlen("marker");
		while (*c == ' ' || *c == '\t')
			c++;
		c += strlen(words[1]);
		while (*c == ' ' || *c == '\t')
			c++;
		size_t tl = strlen(c);
		while (tl && (c[tl - 1] == ' ' || c[tl - 1] == '\t'))
			tl--;
		if (tl >= sizeof(m.text))
			return perr(p, "marker text longer than %zu bytes", sizeof(m.text) - 1);
		memcpy(m.text, c, tl);
		m.text[tl] = 0;
		struct ptg_marker *nm = realloc(s->markers, (s->nmarkers + 1) * sizeof(*nm));
		if (!nm)
			return PT_ENOMEM;
		s->markers = nm;
		s->markers[s->nmarkers++] = m;
		return 0;
	}
	if (n != 2)
		return perr(p, "'%s' takes one value", k);
	const char *v = words[1];
	uint64_t x;
	if (!strcmp(k, "seed")) {
		if (parse_u64_dec(v, &s->seed) < 0)
			return perr(p, "seed '%s': expected a number", v);
	} else if (!strcmp(k, "duration")) {
		if (dur(v, &s->duration_ns) < 0 || s->duration_ns == 0)
			return perr(p, "duration '%s'", v);
	} else if (!strcmp(k, "workload-start")) {
		if (dur(v, &s->wstart_ns) < 0)
			return perr(p, "workload-start '%s'", v);
	} else if (!strcmp(k, "workload-end")) {
		if (dur(v, &s->wend_ns) < 0)
			return perr(p, "workload-end '%s'", v);
		*has_wend = true;
	} else if (!strcmp(k, "pointer-size")) {
		if (parse_u64_dec(v, &x) < 0 || (x != 4 && x != 8))
			return perr(p, "pointer-size: 4 or 8");
		s->pointer_size = (uint32_t)x;
	} else if (!strcmp(k, "cpus")) {
		if (parse_u64_dec(v, &x) < 0 || x == 0 || x > 4096)
			return perr(p, "cpus: 1..4096");
		s->cpus = (uint32_t)x;
	} else if (!strcmp(k, "start")) {
		if (pt_iso8601_parse(v, strlen(v), &s->start_unix_ns) < 0)
			return perr(p, "start '%s': expected an ISO 8601 time", v);
	} else if (!strcmp(k, "host")) {
		snprintf(s->host, sizeof(s->host), "%s", v);
	} else if (!strcmp(k, "os-build")) {
		if (parse_u64_dec(v, &x) < 0 || x > UINT32_MAX)
			return perr(p, "os-build '%s'", v);
		s->os_build = (uint32_t)x;
	} else if (!strcmp(k, "events-lost")) {
		if (parse_u64_dec(v, &s->events_lost) < 0)
			return perr(p, "events-lost '%s'", v);
	} else if (!strcmp(k, "buffers-lost")) {
		if (parse_u64_dec(v, &s->buffers_lost) < 0)
			return perr(p, "buffers-lost '%s'", v);
	} else if (!strcmp(k, "lost-frees")) {
		if (parse_fraction(v, default_lost) < 0)
			return perr(p, "lost-frees '%s': expected a fraction 0..1", v);
	} else if (!strcmp(k, "free-size")) {
		if (!strcmp(v, "yes"))
			s->free_size = true;
		else if (!strcmp(v, "no"))
			s->free_size = false;
		else
			return perr(p, "free-size: yes or no");
	} else {
		return perr(p, "unknown keyword '%s'", k);
	}
	return 0;
}

int ptg_scenario_parse(const char *text, size_t len, const char *name,
		       struct ptg_scenario **out, char *err, size_t errsz)
{
	*out = NULL;
	struct ptg_scenario *s = calloc(1, sizeof(*s));
	if (!s)
		return PT_ENOMEM;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->seed = 1;
	s->duration_ns = 60000000000ULL;
	s->pointer_size = 8;
	s->cpus = 4;
	s->start_unix_ns = 1704067200LL * 1000000000LL; /* 2024-01-01T00:00:00Z */
	snprintf(s->host, sizeof(s->host), "PT-GEN");
	s->os_build = 19045;
	s->lost_known = true;
	struct parse p = {name, 0, err, errsz};
	double default_lost = 0;
	bool has_wend = false;
	int rc = 0;
	size_t pos = 0;
	char line[1024];
	while (pos < len) {
		size_t e = pos;
		while (e < len && text[e] != '\n')
			e++;
		p.line++;
		size_t n = e - pos;
		if (n && text[pos + n - 1] == '\r')
			n--;
		if (n >= sizeof(line)) {
			rc = perr(&p, "line longer than %zu bytes", sizeof(line) - 1);
			goto out;
		}
		memcpy(line, text + pos, n);
		line[n] = 0;
		if (memchr(line, 0, n)) {
			rc = perr(&p, "NUL byte in the description");
			goto out;
		}
		rc = parse_line(&p, s, line, &default_lost, &has_wend);
		if (rc < 0)
			goto out;
		pos = e + 1;
	}
	p.line = 0;
	if (!has_wend)
		s->wend_ns = s->duration_ns;
	if (s->wstart_ns > s->wend_ns || s->wend_ns > s->duration_ns) {
		snprintf(err, errsz, "%s: need workload-start <= workload-end <= duration", name);
		rc = PT_EUSAGE;
		goto out;
	}
	if (s->nmarkers)
		qsort(s->markers, s->nmarkers, sizeof(*s->markers), cmp_marker);
out:
	if (rc < 0) {
		ptg_scenario_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int ptg_scenario_load(const char *path, struct ptg_scenario **out, char *err, size_t errsz)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return PT_EOPEN;
	}
	char *buf = malloc(MAX_FILE);
	if (!buf) {
		fclose(f);
		return PT_ENOMEM;
	}
	size_t n = fread(buf, 1, MAX_FILE, f);
	bool too_big = n == MAX_FILE;
	bool bad = ferror(f);
	fclose(f);
	int rc;
	if (bad) {
		snprintf(err, errsz, "%s: read error", path);
		rc = PT_EIO;
	} else if (too_big) {
		snprintf(err, errsz, "%s: larger than %u bytes", path, MAX_FILE);
		rc = PT_ELIMIT;
	} else {
		const char *base = strrchr(path, '/');
		rc = ptg_scenario_parse(buf, n, base ? base + 1 : path, out, err, errsz);
	}
	free(buf);
	return rc;
}

void ptg_scenario_free(struct ptg_scenario *s)
{
	if (!s)
		return;
	free(s->tags);
	free(s->markers);
	free(s);
}

static uint64_t scale_time(uint64_t t, double f)
{
	double r = (double)t * f;
	return r >= 1.8e19 ? UINT64_MAX - 1 : (uint64_t)r;
}

void ptg_scenario_set_duration(struct ptg_scenario *s, uint64_t duration_ns)
{
	if (!duration_ns || !s->duration_ns)
		return;
	double f = (double)duration_ns / (double)s->duration_ns;
	bool wend_at_end = s->wend_ns == s->duration_ns;
	s->wstart_ns = scale_time(s->wstart_ns, f);
	s->wend_ns = wend_at_end ? duration_ns : scale_time(s->wend_ns, f);
	if (s->wend_ns > duration_ns)
		s->wend_ns = duration_ns;
	if (s->wstart_ns > s->wend_ns)
		s->wstart_ns = s->wend_ns;
	for (size_t i = 0; i < s->nmarkers; i++)
		s->markers[i].t_ns = scale_time(s->markers[i].t_ns, f);
	for (size_t i = 0; i < s->ntags; i++) {
		s->tags[i].from_ns = scale_time(s->tags[i].from_ns, f);
		s->tags[i].until_ns = scale_time(s->tags[i].until_ns, f);
	}
	s->duration_ns = duration_ns;
}

void ptg_scenario_scale_rates(struct ptg_scenario *s, double factor)
{
	if (!(factor > 0))
		return;
	for (size_t i = 0; i < s->ntags; i++) {
		if (!s->tags[i].period_ns)
			continue;
		double p = (double)s->tags[i].period_ns / factor;
		s->tags[i].period_ns = p < 1 ? 1 : p > 1e18 ? (uint64_t)1e18 : (uint64_t)p;
	}
}

void ptg_scenario_meta(const struct ptg_scenario *s, struct pt_trace_meta *m)
{
	pt_trace_meta_init(m);
	snprintf(m->format, sizeof(m->format), "tracerpt-xml");
	snprintf(m->os, sizeof(m->os), "Windows 10.0");
	m->os_build = s->os_build;
	m->pointer_size = s->pointer_size;
	m->num_cpus = s->cpus;
	m->clock = PT_CLOCK_WALL;
	m->perf_freq = 10000000;
	m->has_start_time = true;
	m->start_unix_ns = s->start_unix_ns;
	m->end_ns = s->duration_ns;
	m->lost_known = s->lost_known;
	m->events_lost = s->events_lost;
	m->buffers_lost = s->buffers_lost;
	m->pool_tracing = 1;
	snprintf(m->host, sizeof(m->host), "%s", s->host);
	snprintf(m->logger, sizeof(m->logger), "NT Kernel Logger");
}

/* ---------------------------------------------------------------- generator */

/* splitmix64: small, fast, good enough, and the same on every platform. */
static uint64_t rng_next(uint64_t *st)
{
	uint64_t z = (*st += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0), without modulo bias worth caring about at 64 bits. */
static uint64_t rng_below(uint64_t *st, uint64_t n)
{
	if (n <= 1)
		return 0;
	/* 128-bit multiply-high. */
	unsigned __int128 m = (unsigned __int128)rng_next(st) * n;
	return (uint64_t)(m >> 64);
}

/* True with probability p, from integers only (p in 0..1). */
static bool rng_chance(uint64_t *st, uint64_t threshold)
{
	return threshold && rng_next(st) < threshold;
}

static uint64_t prob_threshold(double p)
{
	if (p <= 0)
		return 0;
	if (p >= 1)
		return UINT64_MAX;
	return (uint64_t)(p * 18446744073709551616.0);
}

struct pending_free {
	uint64_t t_ns;
	uint64_t seq;
	uint64_t addr;
	uint64_t size;
	uint32_t tag;    /* index into the scenario's tags */
	uint32_t tid;
	uint32_t cpu;
	bool lost;
	bool pre;        /* allocated before the trace: not in the trace, not in bytes_live */
};

struct gen_tag {
	uint64_t rng;
	uint64_t next_ns;    /* next allocation; UINT64_MAX: none */
	uint64_t until_ns;
	uint64_t leak_thr, lost_thr;
	pt_tag_id id;
	uint64_t bytes_live; /* outstanding bytes, lost frees counted as freed */
};

struct ptg_gen {
	const struct ptg_scenario *s;
	struct gen_tag *tags;
	struct ptg_truth *truth;
	struct pending_free *heap;
	size_t nheap, capheap;
	/* tags by (next allocation, index): the next allocation without a scan of every tag */
	uint32_t *theap;
	size_t next_marker;
	uint64_t seq;
	uint64_t addr_seq;
	bool wend_taken;
	bool done;
	char marker[128];
};

static bool pf_less(const struct pending_free *a, const struct pending_free *b)
{
	return a->t_ns < b->t_ns || (a->t_ns == b->t_ns && a->seq < b->seq);
}

static int heap_push(struct ptg_gen *g, const struct pending_free *f)
{
	if (g->nheap == g->capheap) {
		size_t cap = g->capheap ? g->capheap * 2 : 1024;
		struct pending_free *h = realloc(g->heap, cap * sizeof(*h));
		if (!h)
			return PT_ENOMEM;
		g->heap = h;
		g->capheap = cap;
	}
	size_t i = g->nheap++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!pf_less(f, &g->heap[parent]))
			break;
		g->heap[i] = g->heap[parent];
		i = parent;
	}
	g->heap[i] = *f;
	return 0;
}

static void heap_pop(struct ptg_gen *g, struct pending_free *out)
{
	*out = g->heap[0];
	struct pending_free last = g->heap[--g->nheap];
	size_t i = 0, n = g->nheap;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct pending_free *best = &last;
		if (l < n && pf_less(&g->heap[l], best)) {
			m = l;
			best = &g->heap[l];
		}
		if (r < n && pf_less(&g->heap[r], best))
			m = r;
		if (m == i)
			break;
		g->heap[i] = g->heap[m];
		i = m;
	}
	if (n)
		g->heap[i] = last;
}

static uint64_t next_gap(struct gen_tag *gt, uint64_t period)
{
	/* Uniform in [period/2, 3*period/2): mean `period`, integer arithmetic only. */
	return period / 2 + rng_below(&gt->rng, period) + 1;
}

static bool tag_less(const struct ptg_gen *g, uint32_t a, uint32_t b)
{
	uint64_t x = g->tags[a].next_ns, y = g->tags[b].next_ns;
	return x < y || (x == y && a < b);
}

/* Restore the tag heap below position i. */
static void theap_down(struct ptg_gen *g, size_t i)
{
	size_t n = g->s->ntags;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && tag_less(g, g->theap[l], g->theap[m]))
			m = l;
		if (r < n && tag_less(g, g->theap[r], g->theap[m]))
			m = r;
		if (m == i)
			return;
		uint32_t t = g->theap[i];
		g->theap[i] = g->theap[m];
		g->theap[m] = t;
		i = m;
	}
}

struct ptg_gen *ptg_gen_new(const struct ptg_scenario *s, struct pt_tags *tags)
{
	struct ptg_gen *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->s = s;
	g->tags = calloc(s->ntags ? s->ntags : 1, sizeof(*g->tags));
	g->truth = calloc(s->ntags ? s->ntags : 1, sizeof(*g->truth));
	g->theap = calloc(s->ntags ? s->ntags : 1, sizeof(*g->theap));
	if (!g->tags || !g->truth || !g->theap) {
		ptg_gen_free(g);
		return NULL;
	}
	for (size_t i = 0; i < s->ntags; i++) {
		const struct ptg_tag *t = &s->tags[i];
		struct gen_tag *gt = &g->tags[i];
		uint64_t st = s->seed ^ (0xD1B54A32D192ED03ULL * (i + 1));
		gt->rng = rng_next(&st);
		uint64_t from = t->has_from ? t->from_ns : t->always ? 0 : s->wstart_ns;
		uint64_t until = t->has_until ? t->until_ns : t->always ? s->duration_ns : s->wend_ns;
		if (until > s->duration_ns)
			until = s->duration_ns;
		gt->until_ns = until;
		gt->next_ns = UINT64_MAX;
		if (t->period_ns && from < until) {
			uint64_t first = from + rng_below(&gt->rng, t->period_ns);
			if (first < until)
				gt->next_ns = first;
		}
		gt->leak_thr = prob_threshold(t->leak);
		gt->lost_thr = prob_threshold(t->lost_frees);
		if (pt_tags_intern(tags, t->bytes, 4, &gt->id) < 0) {
			ptg_gen_free(g);
			return NULL;
		}
		/* objects allocated before the trace: only their frees are in it */
		uint64_t pre_until = t->prelive_until_ns ? t->prelive_until_ns : s->duration_ns / 2;
		for (uint64_t k = 0; k < t->prelive && pre_until; k++) {
			struct pending_free f;
			memset(&f, 0, sizeof(f));
			f.t_ns = rng_below(&gt->rng, pre_until);
			f.seq = g->seq++;
			uint64_t seq = g->addr_seq++;
			f.addr = s->pointer_size == 4 ?
					 0x80000000ULL + ((seq << 4) & 0x7FFFFFF0ULL) :
					 (pt_pool_is_paged(t->pool) ? 0xFFFFC00000000000ULL : 0xFFFFA00000000000ULL) +
						 (seq << 4);
			f.size = t->size_min + rng_below(&gt->rng, t->size_max - t->size_min + 1);
			f.tag = (uint32_t)i;
			f.tid = 100 + 4 * (uint32_t)(i * 64 + rng_below(&gt->rng, t->threads));
			f.cpu = (uint32_t)rng_below(&gt->rng, s->cpus);
			f.pre = true;
			if (heap_push(g, &f) < 0) {
				ptg_gen_free(g);
				return NULL;
			}
		}
		memcpy(g->truth[i].bytes, t->bytes, 4);
		g->truth[i].pool = t->pool;
		g->truth[i].leak = (t->life_min == PTG_FOREVER || t->leak > 0) &&
				   gt->next_ns != UINT64_MAX;
	}
	for (size_t i = 0; i < s->ntags; i++)
		g->theap[i] = (uint32_t)i;
	for (size_t i = s->ntags / 2; i-- > 0;)
		theap_down(g, i);
	return g;
}

static void fill_common(const struct ptg_tag *t, const struct gen_tag *gt, struct pt_event *ev)
{
	ev->pool = pt_pool_from_windows(t->raw_type, &ev->pool_flags);
	ev->raw_pool_type = t->raw_type;
	ev->tag = gt->id;
	ev->pid = t->pid;
	ev->session_id = t->session;
}

static void settle(struct ptg_gen *g)
{
	/* Everything still pending at the end is live at the end. */
	for (size_t i = 0; i < g->nheap; i++) {
		struct ptg_truth *tr = &g->truth[g->heap[i].tag];
		if (!g->heap[i].pre)
			tr->live_at_end++;
	}
	for (size_t i = 0; i < g->s->ntags; i++) {
		g->truth[i].live_at_end += g->truth[i].never_freed;
		g->truth[i].bytes_at_end = g->tags[i].bytes_live;
	}
}

static void take_wend(struct ptg_gen *g)
{
	g->wend_taken = true;
	for (size_t i = 0; i < g->s->ntags; i++)
		g->truth[i].bytes_at_wend = g->tags[i].bytes_live;
}

int ptg_gen_next(struct ptg_gen *g, struct pt_event *ev)
{
	const struct ptg_scenario *s = g->s;
	pt_event_init(ev);
	while (!g->done) {
		/* The earliest of: next marker, next free, next allocation. Ties in that order. */
		uint64_t t_mark = g->next_marker < s->nmarkers ? s->markers[g->next_marker].t_ns
							       : UINT64_MAX;
		uint64_t t_free = g->nheap ? g->heap[0].t_ns : UINT64_MAX;
		size_t ai = s->ntags ? g->theap[0] : 0;
		uint64_t t_alloc = s->ntags ? g->tags[ai].next_ns : UINT64_MAX;
		uint64_t t = t_mark < t_free ? t_mark : t_free;
		if (t_alloc < t)
			t = t_alloc;
		if (!g->wend_taken && t > s->wend_ns)
			take_wend(g);
		if (t >= s->duration_ns) {
			if (!g->wend_taken)
				take_wend(g);
			g->done = true;
			settle(g);
			return 0;
		}
		if (t == t_mark) {
			snprintf(g->marker, sizeof(g->marker), "%s", s->markers[g->next_marker].text);
			g->next_marker++;
			ev->kind = PT_EV_MARKER;
			ev->ts_ns = t;
			ev->marker = g->marker;
			ev->cpu = 0;
			return 1;
		}
		if (t == t_free) {
			struct pending_free f;
			heap_pop(g, &f);
			const struct ptg_tag *tg = &s->tags[f.tag];
			struct gen_tag *gt = &g->tags[f.tag];
			if (!f.pre)
				gt->bytes_live -= f.size;
			if (f.lost) {
				g->truth[f.tag].lost_frees++;
				continue;
			}
			g->truth[f.tag].frees++;
			fill_common(tg, gt, ev);
			ev->kind = tg->session != PT_NONE32 ? PT_EV_SESSION_FREE : PT_EV_FREE;
			ev->ts_ns = t;
			ev->addr = f.addr;
			ev->size = s->free_size ? f.size : 0;
			ev->tid = f.tid;
			ev->cpu = f.cpu;
			return 1;
		}
		/* An allocation of tag ai. */
		const struct ptg_tag *tg = &s->tags[ai];
		struct gen_tag *gt = &g->tags[ai];
		struct ptg_truth *tr = &g->truth[ai];
		uint64_t size = tg->size_min + rng_below(&gt->rng, tg->size_max - tg->size_min + 1);
		uint64_t seq = g->addr_seq++;
		uint64_t addr;
		if (s->pointer_size == 4)
			addr = 0x80000000ULL + ((seq << 4) & 0x7FFFFFF0ULL) + (pt_pool_is_paged(tg->pool) ? 8 : 0);
		else
			addr = (pt_pool_is_paged(tg->pool) ? 0xFFFFC00000000000ULL : 0xFFFFA00000000000ULL) +
			       (seq << 4);
		uint32_t tid = 100 + 4 * (uint32_t)(ai * 64 + rng_below(&gt->rng, tg->threads));
		uint32_t cpu = (uint32_t)rng_below(&gt->rng, s->cpus);
		bool never = tg->life_min == PTG_FOREVER || rng_chance(&gt->rng, gt->leak_thr);
		tr->allocs++;
		gt->bytes_live += size;
		if (never) {
			tr->never_freed++;
		} else {
			struct pending_free f;
			f.t_ns = t + tg->life_min + rng_below(&gt->rng, tg->life_max - tg->life_min + 1);
			f.seq = g->seq++;
			f.addr = addr;
			f.size = size;
			f.tag = (uint32_t)ai;
			f.tid = 100 + 4 * (uint32_t)(ai * 64 + rng_below(&gt->rng, tg->threads));
			f.cpu = (uint32_t)rng_below(&gt->rng, s->cpus);
			f.pre = false;
			f.lost = rng_chance(&gt->rng, gt->lost_thr);
			if (heap_push(g, &f) < 0)
				return PT_ENOMEM;
		}
		uint64_t gap = next_gap(gt, tg->period_ns);
		gt->next_ns = t + gap < gt->until_ns && t + gap > t ? t + gap : UINT64_MAX;
		theap_down(g, 0); /* ai was the root */
		fill_common(tg, gt, ev);
		ev->kind = tg->session != PT_NONE32 ? PT_EV_SESSION_ALLOC : PT_EV_ALLOC;
		ev->ts_ns = t;
		ev->addr = addr;
		ev->size = size;
		ev->tid = tid;
		ev->cpu = cpu;
		return 1;
	}
	return 0;
}

const struct ptg_truth *ptg_gen_truth(const struct ptg_gen *g, size_t *n)
{
	*n = g->s->ntags;
	return g->truth;
}

size_t ptg_gen_pending(const struct ptg_gen *g)
{
	return g->nheap;
}

void ptg_gen_free(struct ptg_gen *g)
{
	if (!g)
		return;
	free(g->tags);
	free(g->truth);
	free(g->theap);
	free(g->heap);
	free(g);
}
