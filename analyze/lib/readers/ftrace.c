/* SPDX-License-Identifier: MIT */
/*
 * Linux ftrace text reader: the tracefs `trace` / `trace_pipe` text and
 * `trace-cmd report` output of the kmem tracepoints.
 *
 *   bash-1234    [002] d..1.  1234.567890: kmalloc: call_site=__alloc_skb+0x4e/0x1f0 ptr=...
 *   TASK-PID     CPU   FLAGS  SECONDS.FRACTION: EVENT: FIELDS
 *
 * kmalloc / kmalloc_node: tag = call-site function (without +offset),
 * pool PT_POOL_KMALLOC. kmem_cache_alloc[_node]: tag = cache name (name=),
 * else the call-site function, pool PT_POOL_SLAB. kfree / kmem_cache_free
 * carry the pointer; the replay matches them. tracing_mark_write lines are
 * markers. Other events are counted in skipped_other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/reader.h"
#include "readers/readers.h"
#include "readers/textparse.h"

struct ft_priv {
	bool have_first;
	uint64_t first_ts;
	bool ts_raw;         /* timestamps without a fraction */
};

/* The fixed part of an event line. */
struct ft_line {
	uint32_t pid, cpu;
	const char *ts;
	size_t ts_len;
	const char *name;    /* event name without the system prefix and ':' */
	size_t name_len;
	char *payload;       /* NUL-terminated, leading spaces skipped */
	size_t payload_len;
};

static bool is_ts(const char *s, size_t n)
{
	size_t i = 0, digits = 0;
	while (i < n && tp_isdigit((unsigned char)s[i])) {
		i++;
		digits++;
	}
	if (!digits)
		return false;
	if (i == n)
		return true;
	if (s[i] != '.')
		return false;
	i++;
	size_t frac = 0;
	while (i < n && tp_isdigit((unsigned char)s[i])) {
		i++;
		frac++;
	}
	return frac > 0 && i == n;
}

/* Split an event line. Returns false when it is not one. */
static bool split_event(char *line, size_t len, struct ft_line *out)
{
	/* the CPU column: " [003]" */
	size_t cb = 0, ce = 0;
	for (size_t i = 1; i + 2 < len; i++) {
		if (line[i] != '[' || !tp_isspace((unsigned char)line[i - 1]))
			continue;
		size_t j = i + 1;
		while (j < len && tp_isdigit((unsigned char)line[j]))
			j++;
		if (j > i + 1 && j < len && line[j] == ']' && j - i - 1 <= 6) {
			cb = i;
			ce = j;
			break;
		}
	}
	if (!ce)
		return false;
	uint64_t cpu;
	if (!tp_dec_u64(line + cb + 1, ce - cb - 1, &cpu))
		return false;
	out->cpu = cpu < PT_NONE32 ? (uint32_t)cpu : PT_NONE32;

	/* task: "comm-PID", optionally followed by a "(  TGID)" column */
	size_t tl = cb;
	const char *task = tp_trim_c(line, &tl);
	if (tl && task[tl - 1] == ')') {
		size_t k = tl;
		while (k > 0 && task[k - 1] != '(')
			k--;
		if (k > 0) {
			tl = k - 1;
			task = tp_trim_c(task, &tl);
		}
	}
	out->pid = PT_NONE32;
	size_t dash = tl;
	while (dash > 0 && task[dash - 1] != '-')
		dash--;
	uint64_t pid;
	if (dash > 0 && tp_dec_u64(task + dash, tl - dash, &pid) && pid < PT_NONE32)
		out->pid = (uint32_t)pid;

	/* then optional flags, the timestamp "SECONDS.FRACTION:" and "event:" */
	size_t i = ce + 1;
	out->ts = NULL;
	for (int tok = 0; tok < 2 && !out->ts; tok++) {
		while (i < len && tp_isspace((unsigned char)line[i]))
			i++;
		size_t s = i;
		while (i < len && !tp_isspace((unsigned char)line[i]))
			i++;
		if (i > s + 1 && line[i - 1] == ':' && is_ts(line + s, i - s - 1)) {
			out->ts = line + s;
			out->ts_len = i - s - 1;
		}
	}
	if (!out->ts)
		return false;
	while (i < len && tp_isspace((unsigned char)line[i]))
		i++;
	size_t ns = i;
	while (i < len && !tp_isspace((unsigned char)line[i]))
		i++;
	if (i - ns < 2 || line[i - 1] != ':')
		return false;
	size_t ne = i - 1;
	/* "kmem:kmalloc:" -> "kmalloc" */
	size_t k = ne;
	while (k > ns && line[k - 1] != ':')
		k--;
	out->name = line + k;
	out->name_len = ne - k;
	if (!out->name_len)
		return false;
	while (i < len && tp_isspace((unsigned char)line[i]))
		i++;
	out->payload = line + i;
	out->payload_len = len - i;
	return true;
}

static bool name_is(const struct ft_line *l, const char *s)
{
	return l->name_len == strlen(s) && !memcmp(l->name, s, l->name_len);
}

/* Fields of a kmem event. Pointers into the payload, NUL-terminated in place. */
struct kmem_fields {
	const char *call_site, *ptr, *bytes_alloc, *bytes_req, *name;
	const char *sym;     /* trace-cmd's "(func+0x4e)" before the fields */
	size_t sym_len;
};

static void split_fields(char *p, size_t len, struct kmem_fields *f)
{
	memset(f, 0, sizeof(*f));
	size_t i = 0;
	bool first = true;
	while (i < len) {
		while (i < len && tp_isspace((unsigned char)p[i]))
			i++;
		if (i >= len)
			break;
		size_t s = i;
		while (i < len && !tp_isspace((unsigned char)p[i]))
			i++;
		size_t e = i;
		if (i < len)
			p[i++] = '\0';
		else
			p[e] = '\0';
		char *tok = p + s;
		size_t tl = e - s;
		if (first && tok[0] == '(' && tl > 2 && tok[tl - 1] == ')') {
			f->sym = tok + 1;
			f->sym_len = tl - 2;
			first = false;
			continue;
		}
		first = false;
		char *eq = memchr(tok, '=', tl);
		if (!eq)
			continue; /* "[module]" after a call site, or other text */
		*eq = '\0';
		const char *v = eq + 1;
		if (!strcmp(tok, "call_site"))
			f->call_site = v;
		else if (!strcmp(tok, "ptr"))
			f->ptr = v;
		else if (!strcmp(tok, "bytes_alloc"))
			f->bytes_alloc = v;
		else if (!strcmp(tok, "bytes_req"))
			f->bytes_req = v;
		else if (!strcmp(tok, "name"))
			f->name = v;
	}
}

static bool is_hex_text(const char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tp_hexval((unsigned char)s[i]) < 0)
			return false;
	return true;
}

/* Tag from the call site: function without "+0x4e/0x1f0"; raw hex stays as written. */
static int callsite_tag(struct pt_reader *r, const struct kmem_fields *f, pt_tag_id *out,
			uint64_t ln)
{
	const char *cs = f->call_site;
	size_t n;
	if (f->sym && (!cs || is_hex_text(cs))) {
		cs = f->sym;
		n = f->sym_len;
	} else if (cs) {
		n = strlen(cs);
	} else {
		return pt_reader_error(r, PT_EFORMAT, ln, "no call_site= field");
	}
	if (!is_hex_text(cs) || f->sym == cs) {
		const char *plus = memchr(cs, '+', n);
		if (plus && plus > cs)
			n = (size_t)(plus - cs);
	}
	if (n == 0)
		return pt_reader_error(r, PT_EFORMAT, ln, "empty call_site");
	int rc = pt_tags_intern(r->tags, cs, n, out);
	if (rc < 0)
		return pt_reader_error(r, rc, ln, "cannot store tag: %s", pt_strerror(rc));
	return 0;
}

static int parse_ptr(struct pt_reader *r, const char *v, uint64_t *out, uint64_t ln)
{
	if (!v)
		return pt_reader_error(r, PT_EFORMAT, ln, "no ptr= field");
	if (!strcmp(v, "(null)")) {
		*out = 0;
		return 0;
	}
	size_t n = strlen(v);
	if (!tp_hex_u64(v, n, out))
		return pt_reader_error(r, PT_EFORMAT, ln, "bad ptr '%.40s'", v);
	if (!r->meta.pointer_size) {
		size_t digits = n - ((n >= 2 && v[1] == 'x') ? 2 : 0);
		if (digits == 16)
			r->meta.pointer_size = 8;
		else if (digits == 8)
			r->meta.pointer_size = 4;
	}
	return 0;
}

/* Decode a kmem event. Returns 1 with ev filled, 0 when it is not one we use, <0 error. */
static int decode_kmem(struct pt_reader *r, struct ft_line *l, struct pt_event *ev, uint64_t ln)
{
	bool kmalloc = name_is(l, "kmalloc") || name_is(l, "kmalloc_node");
	bool cache_alloc = name_is(l, "kmem_cache_alloc") || name_is(l, "kmem_cache_alloc_node") ||
			   name_is(l, "kmem_cache_alloc_lru");
	bool kfree = name_is(l, "kfree");
	bool cache_free = name_is(l, "kmem_cache_free");
	if (!kmalloc && !cache_alloc && !kfree && !cache_free)
		return 0;
	struct kmem_fields f;
	split_fields(l->payload, l->payload_len, &f);
	int rc = parse_ptr(r, f.ptr, &ev->addr, ln);
	if (rc < 0)
		return rc;
	ev->pool = (kmalloc || kfree) ? PT_POOL_KMALLOC : PT_POOL_SLAB;
	if (kfree || cache_free) {
		ev->kind = PT_EV_FREE;
		if (cache_free && f.name && f.name[0]) {
			rc = pt_tags_intern(r->tags, f.name, strlen(f.name), &ev->tag);
			if (rc < 0)
				return pt_reader_error(r, rc, ln, "cannot store tag: %s", pt_strerror(rc));
		}
		return 1;
	}
	ev->kind = PT_EV_ALLOC;
	const char *sz = f.bytes_alloc ? f.bytes_alloc : f.bytes_req;
	if (!sz)
		return pt_reader_error(r, PT_EFORMAT, ln, "no bytes_alloc= field");
	if (!tp_dec_u64(sz, strlen(sz), &ev->size))
		return pt_reader_error(r, PT_EFORMAT, ln, "bad bytes_alloc '%.40s'", sz);
	if (ev->addr == 0)
		return 0; /* a failed allocation: nothing to track */
	if (cache_alloc && f.name && f.name[0]) {
		rc = pt_tags_intern(r->tags, f.name, strlen(f.name), &ev->tag);
		if (rc < 0)
			return pt_reader_error(r, rc, ln, "cannot store tag: %s", pt_strerror(rc));
		return 1;
	}
	rc = callsite_tag(r, &f, &ev->tag, ln);
	return rc < 0 ? rc : 1;
}

/* "[LOST 123 EVENTS]" anywhere in a line. Returns true when the line is one. */
static bool lost_line(struct pt_reader *r, const char *line, size_t len)
{
	const char *p = NULL;
	for (size_t i = 0; i + 6 <= len; i++) {
		if (!memcmp(line + i, "[LOST ", 6)) {
			p = line + i + 6;
			break;
		}
	}
	if (!p)
		return false;
	const char *end = line + len;
	uint64_t v = 0;
	size_t d = 0;
	while (p < end && tp_isdigit((unsigned char)*p) && d < 19) {
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
		d++;
	}
	r->meta.lost_known = true;
	r->meta.events_lost += v;
	return true;
}

/* "# entries-in-buffer/entries-written: 45/60   #P:4" */
static void header_comment(struct pt_reader *r, const char *line, size_t len)
{
	static const char key[] = "entries-in-buffer/entries-written:";
	const char *p = NULL;
	for (size_t i = 0; i + sizeof(key) - 1 <= len; i++) {
		if (!memcmp(line + i, key, sizeof(key) - 1)) {
			p = line + i + sizeof(key) - 1;
			break;
		}
	}
	if (!p)
		return;
	unsigned long long in_buf, written;
	int ncpu = 0;
	char tail[32] = "";
	int n = sscanf(p, " %llu/%llu %31s", &in_buf, &written, tail);
	if (n >= 2) {
		/* the ring buffer overwrote the oldest events */
		r->meta.lost_known = true;
		if (written > in_buf)
			r->meta.events_lost += written - in_buf;
	}
	if (n == 3 && sscanf(tail, "#P:%d", &ncpu) == 1 && ncpu > 0)
		r->meta.num_cpus = (uint32_t)ncpu;
}

static int ftrace_open(struct pt_reader *r)
{
	struct ft_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return PT_ENOMEM;
	r->priv = p;
	snprintf(r->meta.os, sizeof(r->meta.os), "Linux");
	r->meta.clock = PT_CLOCK_MONOTONIC;
	return 0;
}

static int ftrace_next(struct pt_reader *r, struct pt_event *ev)
{
	struct ft_priv *p = r->priv;
	for (;;) {
		char *line;
		size_t len;
		int rc = pt_input_getline(r->in, &line, &len, r->opts.max_line);
		if (rc <= 0)
			return rc;
		uint64_t ln = pt_input_lineno(r->in);
		size_t tl = len;
		const char *t = tp_trim_c(line, &tl);
		if (tl == 0)
			continue;
		if (t[0] == '#') {
			header_comment(r, t, tl);
			continue;
		}
		struct ft_line l;
		if (!split_event(line, len, &l)) {
			if (lost_line(r, t, tl))
				continue;
			if (tp_prefix_ci(t, tl, "cpus=")) {
				unsigned n = 0;
				if (sscanf(t + 5, "%u", &n) == 1 && n > 0)
					r->meta.num_cpus = n;
				continue;
			}
			/* trace-cmd report preamble: "version = 6", "CPU 3 is empty", ... */
			if (tp_prefix_ci(t, tl, "version") || tp_prefix_ci(t, tl, "cpu"))
				continue;
			pt_reader_warn(r, ln, "not a trace event line; skipped");
			continue;
		}
		uint64_t ts;
		if (!p->have_first)
			p->ts_raw = memchr(l.ts, '.', l.ts_len) == NULL;
		if (!tp_decimal_ns(l.ts, l.ts_len, p->ts_raw ? 1 : 1000000000ull, &ts)) {
			rc = pt_reader_error(r, PT_EFORMAT, ln, "bad timestamp '%.*s'", (int)l.ts_len,
					     l.ts);
			goto bad;
		}
		if (!p->have_first) {
			p->have_first = true;
			p->first_ts = ts;
			if (p->ts_raw)
				r->meta.clock = PT_CLOCK_UNKNOWN;
		}
		ev->ts_ns = ts > p->first_ts ? ts - p->first_ts : 0;
		ev->pid = l.pid;
		ev->cpu = l.cpu;

		if (name_is(&l, "tracing_mark_write") ||
		    (name_is(&l, "print") && tp_prefix_ci(l.payload, l.payload_len,
							   "tracing_mark_write:"))) {
			char *txt = l.payload;
			size_t n = l.payload_len;
			if (name_is(&l, "print")) {
				txt += strlen("tracing_mark_write:");
				n -= strlen("tracing_mark_write:");
				while (n && *txt == ' ') {
					txt++;
					n--;
				}
			}
			while (n && tp_isspace((unsigned char)txt[n - 1]))
				n--;
			txt[n] = '\0';
			ev->kind = PT_EV_MARKER;
			ev->marker = txt;
			return 1;
		}
		rc = decode_kmem(r, &l, ev, ln);
		if (rc > 0)
			return 1;
		if (rc == 0) {
			r->skipped_other++;
			pt_event_init(ev);
			continue;
		}
bad:
		if (rc != PT_EFORMAT || !r->opts.keep_going)
			return rc;
		tp_skip_bad(r, ln);
		pt_event_init(ev);
	}
}

static void ftrace_close(struct pt_reader *r)
{
	free(r->priv);
	r->priv = NULL;
}

static int ftrace_probe(const uint8_t *head, size_t len)
{
	const char *s = (const char *)head;
	size_t i = 0;
	int lines = 0, events = 0, kmem = 0;
	char buf[1024];
	while (i < len && lines < 200) {
		size_t e = i;
		while (e < len && s[e] != '\n')
			e++;
		size_t n = e - i;
		if (lines == 0 && n >= 9 && !memcmp(s + i, "# tracer:", 9))
			return 95;
		if (n < sizeof(buf) && e < len) {
			memcpy(buf, s + i, n);
			buf[n] = '\0';
			struct ft_line l;
			if (split_event(buf, n, &l)) {
				events++;
				if (name_is(&l, "kmalloc") || name_is(&l, "kfree") ||
				    name_is(&l, "kmem_cache_alloc") || name_is(&l, "kmem_cache_free") ||
				    name_is(&l, "tracing_mark_write"))
					kmem++;
			}
		}
		i = e + 1;
		lines++;
	}
	if (kmem)
		return 85;
	if (events >= 2)
		return 60;
	return 0;
}

const struct pt_reader_ops pt_reader_ftrace = {
	.name = "ftrace",
	.description = "Linux ftrace text (trace, trace_pipe, trace-cmd report) of kmem events",
	.probe = ftrace_probe,
	.open = ftrace_open,
	.next = ftrace_next,
	.close = ftrace_close,
};
