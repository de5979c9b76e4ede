/* SPDX-License-Identifier: MIT */
/*
 * tracerpt-style XML writer. Each event is built in one buffer with small
 * hand-written formatters (no printf per field) and written in one call;
 * UTF-16 output is converted from that buffer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/xmlwrite.h"

#define BIGPOOL_MASK 0x10000000u
#define NS_EVENT "http://schemas.microsoft.com/win/2004/08/events/event"
#define NS_TRACE "http://schemas.microsoft.com/win/2004/08/events/trace"
#define SYSTEM_TRACE_GUID "{9e814aad-3204-11d2-9a82-006008a86939}"
#define POOL_GUID "{0268a8b6-74fd-4302-9dd0-6e8f1795c0cf}"
#define HEADER_GUID "{68fdd900-4a3e-11d1-84f4-0000f80464e3}"

struct pt_xmlw {
	FILE *out;
	const struct pt_trace_meta *meta;
	const struct pt_tags *tags;
	enum pt_xmlw_encoding enc;
	bool started, finished;
	int err;
	int64_t start_ns;
	char *buf;
	size_t len, cap;
	uint8_t *wide;
	size_t wide_cap;
	int64_t cached_sec;      /* second whose text is in cached_text */
	char cached_text[32];    /* "YYYY-MM-DDThh:mm:ss" */
};

static bool reserve(struct pt_xmlw *w, size_t extra)
{
	if (w->len + extra <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : 4096;
	while (cap < w->len + extra)
		cap *= 2;
	char *p = realloc(w->buf, cap);
	if (!p) {
		w->err = PT_ENOMEM;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

static void put(struct pt_xmlw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

#define PUTS(w, lit) put((w), (lit), sizeof(lit) - 1)

static void put_str(struct pt_xmlw *w, const char *s)
{
	put(w, s, strlen(s));
}

static void put_dec(struct pt_xmlw *w, uint64_t v)
{
	char t[24];
	int i = sizeof(t);
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, t + i, sizeof(t) - (size_t)i);
}

/* "0x" and uppercase hex without zero padding, as tracerpt renders pointers. */
static void put_hex(struct pt_xmlw *w, uint64_t v)
{
	static const char digits[] = "0123456789ABCDEF";
	char t[20];
	int i = sizeof(t);
	do {
		t[--i] = digits[v & 0xF];
		v >>= 4;
	} while (v);
	t[--i] = 'x';
	t[--i] = '0';
	put(w, t + i, sizeof(t) - (size_t)i);
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
			  cp == 0xFFFF)) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

/* Text for element content: markup escaped, CR/LF/TAB as references so
 * they survive parsing unchanged, other control bytes and invalid UTF-8 as '?'. */
static void put_text(struct pt_xmlw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		if (c == '&') {
			PUTS(w, "&amp;");
		} else if (c == '<') {
			PUTS(w, "&lt;");
		} else if (c == '>') {
			PUTS(w, "&gt;");
		} else if (c == '\n') {
			PUTS(w, "&#10;");
		} else if (c == '\r') {
			PUTS(w, "&#13;");
		} else if (c == '\t') {
			PUTS(w, "&#9;");
		} else if (c < 0x20 || c == 0x7F) {
			PUTS(w, "?");
		} else if (c < 0x80) {
			put(w, (const char *)p + i, 1);
		} else {
			size_t l = utf8_len(p + i, n - i);
			if (!l) {
				PUTS(w, "?");
				i++;
				continue;
			}
			put(w, (const char *)p + i, l);
			i += l;
			continue;
		}
		i++;
	}
}

static void put_time(struct pt_xmlw *w, int64_t abs_ns)
{
	int64_t sec = abs_ns / 1000000000LL, frac = abs_ns % 1000000000LL;
	if (frac < 0) {
		frac += 1000000000LL;
		sec--;
	}
	if (!w->cached_text[0] || sec != w->cached_sec) {
		char b[48];
		pt_iso8601_format(sec * 1000000000LL, b, sizeof(b));
		memcpy(w->cached_text, b, 19);
		w->cached_text[19] = 0;
		w->cached_sec = sec;
	}
	char t[32];
	memcpy(t, w->cached_text, 19);
	t[19] = '.';
	for (int i = 28; i >= 20; i--) {
		t[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	t[29] = 'Z';
	put(w, t, 30);
}

static int flush_buf(struct pt_xmlw *w)
{
	if (w->err)
		return w->err;
	const void *data = w->buf;
	size_t n = w->len;
	if (w->enc != PT_XMLW_UTF8) {
		/* Every byte of UTF-8 gives at most 2 bytes of UTF-16. */
		if (w->wide_cap < n * 2) {
			uint8_t *p = realloc(w->wide, n * 2);
			if (!p)
				return w->err = PT_ENOMEM;
			w->wide = p;
			w->wide_cap = n * 2;
		}
		const unsigned char *s = (const unsigned char *)w->buf;
		size_t o = 0, i = 0;
		bool be = w->enc == PT_XMLW_UTF16BE;
		while (i < n) {
			size_t l = utf8_len(s + i, n - i);
			uint32_t cp;
			if (l <= 1) {
				cp = l ? s[i] : '?';
				l = 1;
			} else {
				cp = s[i] & (0xFF >> (l + 1));
				for (size_t k = 1; k < l; k++)
					cp = cp << 6 | (s[i + k] & 0x3F);
			}
			i += l;
			uint16_t u[2];
			int nu = 1;
			if (cp >= 0x10000) {
				u[0] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
				u[1] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
				nu = 2;
			} else {
				u[0] = (uint16_t)cp;
			}
			for (int k = 0; k < nu; k++) {
				w->wide[o++] = (uint8_t)(be ? u[k] >> 8 : u[k] & 0xFF);
				w->wide[o++] = (uint8_t)(be ? u[k] & 0xFF : u[k] >> 8);
			}
		}
		data = w->wide;
		n = o;
	}
	w->len = 0;
	if (n && fwrite(data, 1, n, w->out) != n)
		return w->err = PT_EIO;
	return 0;
}

static void sys_begin(struct pt_xmlw *w, unsigned opcode, int64_t abs_ns, uint32_t pid,
		      uint32_t tid, uint32_t cpu)
{
	PUTS(w, "<Event xmlns=\"" NS_EVENT "\">\n"
		"    <System>\n"
		"        <Provider Guid=\"" SYSTEM_TRACE_GUID "\" />\n"
		"        <EventID>0</EventID>\n"
		"        <Version>2</Version>\n"
		"        <Level>0</Level>\n"
		"        <Task>0</Task>\n"
		"        <Opcode>");
	put_dec(w, opcode);
	PUTS(w, "</Opcode>\n"
		"        <Keywords>0x0</Keywords>\n"
		"        <TimeCreated SystemTime=\"");
	put_time(w, abs_ns);
	PUTS(w, "\" />\n"
		"        <Correlation ActivityID=\"{00000000-0000-0000-0000-000000000000}\" />\n"
		"        <Execution ProcessID=\"");
	put_dec(w, pid);
	PUTS(w, "\" ThreadID=\"");
	put_dec(w, tid);
	PUTS(w, "\" ProcessorID=\"");
	put_dec(w, cpu);
	PUTS(w, "\" KernelTime=\"0\" UserTime=\"0\" />\n"
		"        <Channel />\n");
}

static void sys_end(struct pt_xmlw *w, const char *computer)
{
	if (computer && computer[0]) {
		PUTS(w, "        <Computer>");
		put_text(w, computer);
		PUTS(w, "</Computer>\n");
	} else {
		PUTS(w, "        <Computer />\n");
	}
	PUTS(w, "    </System>\n");
}

static void data_dec(struct pt_xmlw *w, const char *name, uint64_t v)
{
	PUTS(w, "        <Data Name=\"");
	put_str(w, name);
	PUTS(w, "\">");
	put_dec(w, v);
	PUTS(w, "</Data>\n");
}

static void data_hex(struct pt_xmlw *w, const char *name, uint64_t v)
{
	PUTS(w, "        <Data Name=\"");
	put_str(w, name);
	PUTS(w, "\">");
	put_hex(w, v);
	PUTS(w, "</Data>\n");
}

static void data_text(struct pt_xmlw *w, const char *name, const char *text)
{
	PUTS(w, "        <Data Name=\"");
	put_str(w, name);
	PUTS(w, "\">");
	put_text(w, text);
	PUTS(w, "</Data>\n");
}

static void rendering(struct pt_xmlw *w, const char *opcode, const char *name, const char *guid)
{
	PUTS(w, "    <RenderingInfo Culture=\"en-US\">\n        <Opcode>");
	put_str(w, opcode);
	PUTS(w, "</Opcode>\n        <Provider>MSNT_SystemTrace</Provider>\n"
		"        <EventName xmlns=\"" NS_TRACE "\">");
	put_str(w, name);
	PUTS(w, "</EventName>\n    </RenderingInfo>\n");
	if (guid) {
		PUTS(w, "    <ExtendedTracingInfo xmlns=\"" NS_TRACE "\">\n        <EventGuid>");
		put_str(w, guid);
		PUTS(w, "</EventGuid>\n    </ExtendedTracingInfo>\n");
	}
	PUTS(w, "</Event>\n");
}

static int start(struct pt_xmlw *w)
{
	if (w->started)
		return w->err;
	w->started = true;
	const struct pt_trace_meta *m = w->meta;
	if (w->enc != PT_XMLW_UTF8) {
		/* U+FEFF, converted like the rest. */
		PUTS(w, "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<Events>\n");
	} else {
		PUTS(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Events>\n");
	}
	sys_begin(w, 0, w->start_ns, PT_NONE32, PT_NONE32, 0);
	sys_end(w, m->host);
	PUTS(w, "    <EventData>\n");
	data_dec(w, "BufferSize", 65536);
	unsigned major, minor;
	if (sscanf(m->os, "Windows %u.%u", &major, &minor) == 2 && major < 256 && minor < 256)
		data_hex(w, "Version", major | minor << 8);
	if (m->os_build)
		data_dec(w, "ProviderVersion", m->os_build);
	if (m->num_cpus)
		data_dec(w, "NumberOfProcessors", m->num_cpus);
	if (m->end_ns) {
		PUTS(w, "        <Data Name=\"EndTime\">");
		put_time(w, w->start_ns + (int64_t)m->end_ns);
		PUTS(w, "</Data>\n");
	}
	if (m->pointer_size)
		data_dec(w, "PointerSize", m->pointer_size);
	if (m->lost_known)
		data_dec(w, "EventsLost", m->events_lost);
	if (m->logger[0])
		data_text(w, "LoggerName", m->logger);
	if (m->perf_freq)
		data_dec(w, "PerfFreq", m->perf_freq);
	PUTS(w, "        <Data Name=\"StartTime\">");
	put_time(w, w->start_ns);
	PUTS(w, "</Data>\n");
	if (m->lost_known)
		data_dec(w, "BuffersLost", m->buffers_lost);
	PUTS(w, "    </EventData>\n");
	rendering(w, "Header", "EventTrace", HEADER_GUID);
	return flush_buf(w);
}

struct pt_xmlw *pt_xmlw_new_opts(FILE *out, const struct pt_trace_meta *meta,
				 const struct pt_tags *tags, const struct pt_xmlw_opts *opts)
{
	struct pt_xmlw *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->out = out;
	w->meta = meta;
	w->tags = tags;
	w->enc = opts ? opts->encoding : PT_XMLW_UTF8;
	w->start_ns = meta->has_start_time ? meta->start_unix_ns : 0;
	return w;
}

struct pt_xmlw *pt_xmlw_new(FILE *out, const struct pt_trace_meta *meta, const struct pt_tags *tags)
{
	return pt_xmlw_new_opts(out, meta, tags, NULL);
}

/* The Windows POOL_TYPE to write for an event. @return 0 or PT_EUNSUPPORTED. */
static int raw_type(const struct pt_event *ev, uint32_t *out)
{
	uint32_t flags;
	uint32_t big = (ev->pool_flags & PT_POOLF_BIG) ? BIGPOOL_MASK : 0;
	if (pt_pool_from_windows(ev->raw_pool_type, &flags) == ev->pool &&
	    (flags & PT_POOLF_BIG) == (ev->pool_flags & PT_POOLF_BIG)) {
		*out = ev->raw_pool_type;
		return 0;
	}
	static const uint32_t types[PT_POOL_COUNT_] = {
		[PT_POOL_NONPAGED] = 0, [PT_POOL_PAGED] = 1, [PT_POOL_NONPAGED_NX] = 512,
		[PT_POOL_NONPAGED_SESSION] = 32, [PT_POOL_PAGED_SESSION] = 33,
		[PT_POOL_NONPAGED_SESSION_NX] = 544,
	};
	switch (ev->pool) {
	case PT_POOL_NONPAGED:
	case PT_POOL_PAGED:
	case PT_POOL_NONPAGED_NX:
	case PT_POOL_NONPAGED_SESSION:
	case PT_POOL_PAGED_SESSION:
	case PT_POOL_NONPAGED_SESSION_NX:
		*out = types[ev->pool] | big;
		return 0;
	default:
		return PT_EUNSUPPORTED;
	}
}

int pt_xmlw_event(struct pt_xmlw *w, const struct pt_event *ev)
{
	int rc = start(w);
	if (rc < 0)
		return rc;
	int64_t abs_ns = w->start_ns + (int64_t)ev->ts_ns;
	if (pt_event_is_aux(ev))
		return 0; /* stacks and images are not written (docs/tracerpt-xml.md) */
	if (ev->kind == PT_EV_MARKER) {
		sys_begin(w, 0, abs_ns, ev->pid, ev->tid, ev->cpu);
		sys_end(w, NULL);
		PUTS(w, "    <EventData>\n");
		data_text(w, "Mark", ev->marker ? ev->marker : "");
		PUTS(w, "    </EventData>\n");
		rendering(w, "Mark", "PerfInfo", NULL);
		return flush_buf(w);
	}
	static const struct {
		unsigned opcode;
		const char *name;
	} kinds[] = {
		[PT_EV_ALLOC] = {32, "PoolAllocation"},
		[PT_EV_FREE] = {34, "PoolFree"},
		[PT_EV_SESSION_ALLOC] = {33, "SessionPoolAllocation"},
		[PT_EV_SESSION_FREE] = {35, "SessionPoolFree"},
	};
	if (ev->kind != PT_EV_ALLOC && ev->kind != PT_EV_FREE && ev->kind != PT_EV_SESSION_ALLOC &&
	    ev->kind != PT_EV_SESSION_FREE)
		return PT_EUNSUPPORTED;
	size_t tlen;
	const uint8_t *tb = pt_tags_bytes(w->tags, ev->tag, &tlen);
	if (!tb || tlen > 4)
		return PT_EUNSUPPORTED;
	uint8_t t4[4] = {' ', ' ', ' ', ' '};
	memcpy(t4, tb, tlen);
	uint32_t tag = (uint32_t)t4[0] | (uint32_t)t4[1] << 8 | (uint32_t)t4[2] << 16 |
		       (uint32_t)t4[3] << 24;
	uint32_t type;
	if (raw_type(ev, &type) < 0)
		return PT_EUNSUPPORTED;
	sys_begin(w, kinds[ev->kind].opcode, abs_ns, ev->pid, ev->tid, ev->cpu);
	sys_end(w, NULL);
	PUTS(w, "    <EventData>\n");
	data_dec(w, "Type", type);
	data_hex(w, "Tag", tag);
	data_dec(w, "NumberOfBytes", ev->size);
	data_hex(w, "Entry", ev->addr);
	if (ev->kind == PT_EV_SESSION_ALLOC || ev->kind == PT_EV_SESSION_FREE)
		data_dec(w, "SessionId", ev->session_id);
	PUTS(w, "    </EventData>\n");
	rendering(w, kinds[ev->kind].name, "Pool", POOL_GUID);
	return flush_buf(w);
}

int pt_xmlw_finish(struct pt_xmlw *w)
{
	int rc = start(w);
	if (rc < 0)
		return rc;
	if (w->finished)
		return 0;
	w->finished = true;
	PUTS(w, "</Events>\n");
	rc = flush_buf(w);
	if (rc < 0)
		return rc;
	if (fflush(w->out) != 0 || ferror(w->out))
		return w->err = PT_EIO;
	return 0;
}

void pt_xmlw_free(struct pt_xmlw *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w->wide);
	free(w);
}
