/* SPDX-License-Identifier: MIT */
/* tracerpt XML reader: field forms, encodings, structure, bad input, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "pooltrace/pooltrace.h"
#include "pooltrace/xmlwrite.h"

#define NS_EVENT "http://schemas.microsoft.com/win/2004/08/events/event"
#define NS_TRACE "http://schemas.microsoft.com/win/2004/08/events/trace"
#define POOL_GUID "{0268a8b6-74fd-4302-9dd0-6e8f1795c0cf}"

/* A pool event in the shape tracerpt writes; every part can be replaced. */
struct evspec {
	const char *opcode;   /* System/Opcode text, NULL: no element */
	const char *time;
	const char *pid, *tid, *cpu;
	const char *type, *tag, *bytes, *entry, *session; /* NULL: no Data */
	const char *r_opcode, *r_name;                     /* NULL: no element */
	const char *guid;                                  /* NULL: no ExtendedTracingInfo */
};

static char *cat(char *buf, size_t *len, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static char *cat(char *buf, size_t *len, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap - *len);
	*len += (size_t)n;
	return buf;
}

static void event_xml(char *buf, size_t *len, size_t cap, const struct evspec *e)
{
	cat(buf, len, cap, "<Event xmlns=\"" NS_EVENT "\">\n  <System>\n"
			   "    <Provider Guid=\"{9e814aad-3204-11d2-9a82-006008a86939}\" />\n");
	if (e->opcode)
		cat(buf, len, cap, "    <Opcode>%s</Opcode>\n", e->opcode);
	cat(buf, len, cap, "    <TimeCreated SystemTime=\"%s\" />\n",
	    e->time ? e->time : "2024-01-01T00:00:00.0000000Z");
	cat(buf, len, cap,
	    "    <Execution ProcessID=\"%s\" ThreadID=\"%s\" ProcessorID=\"%s\" KernelTime=\"0\" />\n"
	    "    <Channel />\n    <Computer />\n  </System>\n  <EventData>\n",
	    e->pid ? e->pid : "4", e->tid ? e->tid : "120", e->cpu ? e->cpu : "0");
	if (e->type)
		cat(buf, len, cap, "    <Data Name=\"Type\">%s</Data>\n", e->type);
	if (e->tag)
		cat(buf, len, cap, "    <Data Name=\"Tag\">%s</Data>\n", e->tag);
	if (e->bytes)
		cat(buf, len, cap, "    <Data Name=\"NumberOfBytes\">%s</Data>\n", e->bytes);
	if (e->entry)
		cat(buf, len, cap, "    <Data Name=\"Entry\">%s</Data>\n", e->entry);
	if (e->session)
		cat(buf, len, cap, "    <Data Name=\"SessionId\">%s</Data>\n", e->session);
	cat(buf, len, cap, "  </EventData>\n  <RenderingInfo Culture=\"en-US\">\n");
	if (e->r_opcode)
		cat(buf, len, cap, "    <Opcode>%s</Opcode>\n", e->r_opcode);
	cat(buf, len, cap, "    <Provider>MSNT_SystemTrace</Provider>\n");
	if (e->r_name)
		cat(buf, len, cap, "    <EventName xmlns=\"" NS_TRACE "\">%s</EventName>\n", e->r_name);
	cat(buf, len, cap, "  </RenderingInfo>\n");
	if (e->guid)
		cat(buf, len, cap,
		    "  <ExtendedTracingInfo xmlns=\"" NS_TRACE "\">\n    <EventGuid>%s</EventGuid>\n"
		    "  </ExtendedTracingInfo>\n", e->guid);
	cat(buf, len, cap, "</Event>\n");
}

static const struct evspec base_alloc = {
	.opcode = "32", .type = "512", .tag = "0x636F7250", .bytes = "2048",
	.entry = "0xFFFFA30F12345000", .r_opcode = "PoolAllocation", .r_name = "Pool",
	.guid = POOL_GUID,
};

struct ctx {
	struct pt_tags *tags;
	struct pt_reader *r;
	char err[512];
};

static int open_buf(struct ctx *c, const void *data, size_t len, bool keep_going)
{
	struct pt_input *in;
	struct pt_reader_opts o = {0};
	o.keep_going = keep_going;
	o.quiet = true;
	c->err[0] = 0;
	if (!c->tags)
		c->tags = pt_tags_new(0);
	assert_non_null(c->tags);
	assert_int_equal(pt_input_open_memory(&in, data, len, "t.xml"), 0);
	return pt_reader_open_input(&c->r, in, NULL, c->tags, &o, c->err, sizeof(c->err));
}

static void ctx_done(struct ctx *c)
{
	pt_reader_free(c->r);
	pt_tags_free(c->tags);
	memset(c, 0, sizeof(*c));
}

/* Wrap events in <Events>. */
static size_t doc(char *buf, size_t cap, const struct evspec *const *evs, size_t n)
{
	size_t len = 0;
	cat(buf, &len, cap, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Events>\n");
	for (size_t i = 0; i < n; i++)
		event_xml(buf, &len, cap, evs[i]);
	cat(buf, &len, cap, "</Events>\n");
	return len;
}

static void expect_one(const struct evspec *e, struct pt_event *out, struct ctx *c)
{
	static char buf[16384];
	const struct evspec *list[1] = {e};
	size_t len = doc(buf, sizeof(buf), list, 1);
	int rc = open_buf(c, buf, len, false);
	if (rc < 0)
		fail_msg("open: %s", c->err);
	rc = pt_reader_next(c->r, out);
	if (rc != 1)
		fail_msg("next: %d %s", rc, pt_reader_errmsg(c->r));
	struct pt_event ev2;
	assert_int_equal(pt_reader_next(c->r, &ev2), 0);
}

static void check_tag(struct ctx *c, pt_tag_id id, const char *want)
{
	size_t n;
	const uint8_t *b = pt_tags_bytes(c->tags, id, &n);
	assert_non_null(b);
	assert_int_equal(n, 4);
	assert_memory_equal(b, want, 4);
}

static void test_example_shape(void **state)
{
	(void)state;
	struct ctx c = {0};
	struct pt_event ev;
	expect_one(&base_alloc, &ev, &c);
	assert_int_equal(ev.kind, PT_EV_ALLOC);
	assert_int_equal(ev.pool, PT_POOL_NONPAGED_NX);
	assert_int_equal(ev.raw_pool_type, 512);
	assert_int_equal(ev.pool_flags, 0);
	check_tag(&c, ev.tag, "Proc");
	assert_int_equal(ev.size, 2048);
	assert_true(ev.addr == 0xFFFFA30F12345000ULL);
	assert_int_equal(ev.pid, 4);
	assert_int_equal(ev.tid, 120);
	assert_int_equal(ev.cpu, 0);
	assert_int_equal(ev.session_id, PT_NONE32);
	assert_int_equal(ev.ts_ns, 0);
	assert_string_equal(c.r->meta.format, "tracerpt-xml");
	assert_int_equal(c.r->meta.clock, PT_CLOCK_WALL);
	assert_true(c.r->meta.has_start_time);
	assert_true(c.r->meta.start_unix_ns == 1704067200LL * 1000000000LL);
	ctx_done(&c);
}

static void test_number_forms(void **state)
{
	(void)state;
	static const struct {
		const char *type, *tag, *bytes, *entry;
		uint32_t want_type;
		const char *want_tag;
		uint64_t want_bytes, want_entry;
	} cases[] = {
		{"1", "0x6b61654c", "0x100", "1234", 1, "Leak", 256, 1234},
		{"0x1", "0X6B61654C", "256", "0xabcdef", 1, "Leak", 256, 0xabcdef},
		{"0", "1801545036", "0xFFFFFFFFFFFFFFFF", "0xffffffffffffffff", 0, "Leak",
		 UINT64_MAX, UINT64_MAX},
		{" 33 ", " 0x20202020 ", " 7 ", " 0x8 ", 33, "    ", 7, 8},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct evspec e = base_alloc;
		e.type = cases[i].type;
		e.tag = cases[i].tag;
		e.bytes = cases[i].bytes;
		e.entry = cases[i].entry;
		struct ctx c = {0};
		struct pt_event ev;
		expect_one(&e, &ev, &c);
		assert_int_equal(ev.raw_pool_type, cases[i].want_type);
		check_tag(&c, ev.tag, cases[i].want_tag);
		assert_true(ev.size == cases[i].want_bytes);
		assert_true(ev.addr == cases[i].want_entry);
		ctx_done(&c);
	}
}

static void test_guid_forms_and_opcodes(void **state)
{
	(void)state;
	static const struct {
		const char *guid, *opcode;
		enum pt_event_kind kind;
	} cases[] = {
		{"{0268A8B6-74FD-4302-9DD0-6E8F1795C0CF}", "32", PT_EV_ALLOC},
		{"0268a8b6-74fd-4302-9dd0-6e8f1795c0cf", "34", PT_EV_FREE},
		{" {0268a8b6-74fd-4302-9dd0-6e8f1795c0cf} ", "33", PT_EV_SESSION_ALLOC},
		{POOL_GUID, "35", PT_EV_SESSION_FREE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct evspec e = base_alloc;
		e.guid = cases[i].guid;
		e.opcode = cases[i].opcode;
		e.r_opcode = "Whatever"; /* the numeric opcode decides */
		struct ctx c = {0};
		struct pt_event ev;
		expect_one(&e, &ev, &c);
		assert_int_equal(ev.kind, cases[i].kind);
		ctx_done(&c);
	}
}

static void test_rendering_fallback(void **state)
{
	(void)state;
	static const struct {
		const char *name, *op;
		enum pt_event_kind kind;
	} cases[] = {
		{"Pool", "PoolAllocation", PT_EV_ALLOC},
		{"Pool", "PoolFree", PT_EV_FREE},
		{"PoolAllocation", "SessionPoolAllocation", PT_EV_SESSION_ALLOC},
		{"Pool", "SessionPoolFree", PT_EV_SESSION_FREE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct evspec e = base_alloc;
		e.guid = NULL;
		e.opcode = NULL;
		e.r_name = cases[i].name;
		e.r_opcode = cases[i].op;
		e.session = "3";
		struct ctx c = {0};
		struct pt_event ev;
		expect_one(&e, &ev, &c);
		assert_int_equal(ev.kind, cases[i].kind);
		if (cases[i].kind == PT_EV_SESSION_ALLOC || cases[i].kind == PT_EV_SESSION_FREE)
			assert_int_equal(ev.session_id, 3);
		else
			assert_int_equal(ev.session_id, PT_NONE32);
		ctx_done(&c);
	}
}

static void test_session_and_big_pool(void **state)
{
	(void)state;
	struct evspec e = base_alloc;
	e.opcode = "33";
	e.type = "268435489"; /* 0x10000021: big pool | PagedPoolSession */
	e.session = "0x2";
	struct ctx c = {0};
	struct pt_event ev;
	expect_one(&e, &ev, &c);
	assert_int_equal(ev.kind, PT_EV_SESSION_ALLOC);
	assert_int_equal(ev.pool, PT_POOL_PAGED_SESSION);
	assert_int_equal(ev.pool_flags, PT_POOLF_BIG);
	assert_int_equal(ev.raw_pool_type, 0x10000021);
	assert_int_equal(ev.session_id, 2);
	ctx_done(&c);

	/* A free without NumberOfBytes is fine: size 0. */
	e = base_alloc;
	e.opcode = "34";
	e.bytes = NULL;
	expect_one(&e, &ev, &c);
	assert_int_equal(ev.kind, PT_EV_FREE);
	assert_int_equal(ev.size, 0);
	ctx_done(&c);
}

static void test_unknown_ids(void **state)
{
	(void)state;
	struct evspec e = base_alloc;
	e.pid = "4294967295";
	e.tid = "4294967295";
	e.cpu = "4294967295";
	struct ctx c = {0};
	struct pt_event ev;
	expect_one(&e, &ev, &c);
	assert_int_equal(ev.pid, PT_NONE32);
	assert_int_equal(ev.tid, PT_NONE32);
	assert_int_equal(ev.cpu, PT_NONE32);
	ctx_done(&c);
}

static const char header_fmt[] =
	"<Event xmlns=\"" NS_EVENT "\">\n"
	"  <System>\n    <Provider Guid=\"{9e814aad-3204-11d2-9a82-006008a86939}\" />\n"
	"    <Opcode>0</Opcode>\n"
	"    <TimeCreated SystemTime=\"2024-05-01T10:00:00.0000000Z\" />\n"
	"    <Execution ProcessID=\"4294967295\" ThreadID=\"4294967295\" ProcessorID=\"0\" />\n"
	"    <Computer>WINBOX</Computer>\n  </System>\n"
	"  <EventData>\n"
	"    <Data Name=\"BufferSize\">65536</Data>\n"
	"    <Data Name=\"Version\">0x0000000A</Data>\n"
	"    <Data Name=\"ProviderVersion\">19045</Data>\n"
	"    <Data Name=\"NumberOfProcessors\">4</Data>\n"
	"    <Data Name=\"PointerSize\">8</Data>\n"
	"    <Data Name=\"EventsLost\">7</Data>\n"
	"    <Data Name=\"LoggerName\">NT Kernel Logger</Data>\n"
	"    <Data Name=\"PerfFreq\">10000000</Data>\n"
	"    <Data Name=\"StartTime\">%s</Data>\n"
	"    <Data Name=\"BuffersLost\">0x3</Data>\n"
	"  </EventData>\n"
	"  <RenderingInfo Culture=\"en-US\">\n    <Opcode>Header</Opcode>\n"
	"    <EventName xmlns=\"" NS_TRACE "\">EventTrace</EventName>\n  </RenderingInfo>\n"
	"%s"
	"</Event>\n";

static void test_header(void **state)
{
	(void)state;
	static const char *const starts[] = {
		"2024-05-01T09:59:59.5000000Z", /* ISO */
		"133590311995000000",            /* FILETIME of the same instant */
	};
	static const char ext[] = "  <ExtendedTracingInfo xmlns=\"" NS_TRACE "\">"
				  "<EventGuid>{68fdd900-4a3e-11d1-84f4-0000f80464e3}</EventGuid>"
				  "</ExtendedTracingInfo>\n";
	for (int with_guid = 0; with_guid < 2; with_guid++) {
		for (size_t i = 0; i < 2; i++) {
			char buf[16384];
			size_t len = 0;
			cat(buf, &len, sizeof(buf), "<Events>\n");
			cat(buf, &len, sizeof(buf), header_fmt, starts[i], with_guid ? ext : "");
			struct evspec e = base_alloc;
			e.time = "2024-05-01T10:00:01.2345678Z";
			event_xml(buf, &len, sizeof(buf), &e);
			cat(buf, &len, sizeof(buf), "</Events>\n");
			struct ctx c = {0};
			if (open_buf(&c, buf, len, false) < 0)
				fail_msg("open: %s", c.err);
			/* Metadata is known right after open. */
			const struct pt_trace_meta *m = &c.r->meta;
			assert_int_equal(m->pointer_size, 8);
			assert_int_equal(m->num_cpus, 4);
			assert_true(m->lost_known);
			assert_int_equal(m->events_lost, 7);
			assert_int_equal(m->buffers_lost, 3);
			assert_int_equal(m->perf_freq, 10000000);
			assert_int_equal(m->os_build, 19045);
			assert_string_equal(m->os, "Windows 10.0");
			assert_string_equal(m->host, "WINBOX");
			assert_string_equal(m->logger, "NT Kernel Logger");
			assert_true(m->has_start_time);
			assert_true(m->start_unix_ns == 1714557599500000000LL);
			struct pt_event ev;
			assert_int_equal(pt_reader_next(c.r, &ev), 1);
			assert_true(ev.ts_ns == 1734567800ULL);
			assert_int_equal(c.r->skipped_other, 0);
			ctx_done(&c);
		}
	}
}

static void test_time_precision(void **state)
{
	(void)state;
	static const struct {
		const char *t;
		uint64_t rel;
	} cases[] = {
		{"2024-01-01T00:00:00.0000001Z", 100},
		{"2024-01-01T00:00:00.123456789Z", 123456789},
		{"2024-01-01T01:00:01.5+01:00", 1500000000},
		{"2024-01-01T00:00:02Z", 2000000000},
		{"2023-12-31T19:00:03.25-05:00", 3250000000ULL},
		{"2024-01-01T00:00:04.1234567891234Z", 4123456789ULL},
	};
	char buf[65536];
	size_t len = 0;
	cat(buf, &len, sizeof(buf), "<Events>\n");
	struct evspec e = base_alloc;
	e.time = "2024-01-01T00:00:00Z";
	event_xml(buf, &len, sizeof(buf), &e);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e.time = cases[i].t;
		event_xml(buf, &len, sizeof(buf), &e);
	}
	cat(buf, &len, sizeof(buf), "</Events>\n");
	struct ctx c = {0};
	assert_int_equal(open_buf(&c, buf, len, false), 0);
	struct pt_event ev;
	assert_int_equal(pt_reader_next(c.r, &ev), 1);
	assert_int_equal(ev.ts_ns, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pt_reader_next(c.r, &ev), 1);
		assert_true(ev.ts_ns == cases[i].rel);
	}
	assert_int_equal(pt_reader_next(c.r, &ev), 0);
	ctx_done(&c);

	/* Bad times are field errors. */
	e.time = "2024-13-01T00:00:00Z";
	const struct evspec *list[1] = {&e};
	len = doc(buf, sizeof(buf), list, 1);
	assert_int_equal(open_buf(&c, buf, len, false), PT_EFORMAT);
	assert_non_null(strstr(c.err, "TimeCreated"));
	ctx_done(&c);
}

/* UTF-8 -> UTF-16 (ASCII test documents only). */
static uint8_t *to_utf16(const char *s, size_t len, bool be, bool bom, size_t *outlen)
{
	uint8_t *o = malloc(len * 2 + 2);
	size_t n = 0;
	if (bom) {
		o[n++] = be ? 0xFE : 0xFF;
		o[n++] = be ? 0xFF : 0xFE;
	}
	for (size_t i = 0; i < len; i++) {
		o[n++] = be ? 0 : (uint8_t)s[i];
		o[n++] = be ? (uint8_t)s[i] : 0;
	}
	*outlen = n;
	return o;
}

static uint8_t *gzip_buf(const void *data, size_t len, size_t *outlen)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	size_t cap = deflateBound(&zs, (uLong)len) + 64;
	uint8_t *o = malloc(cap);
	zs.next_in = (Bytef *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	zs.next_out = o;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return o;
}

static void check_two_events(struct ctx *c, const void *data, size_t len)
{
	int rc = open_buf(c, data, len, false);
	if (rc < 0)
		fail_msg("open: %s", c->err);
	struct pt_event ev;
	assert_int_equal(pt_reader_next(c->r, &ev), 1);
	assert_int_equal(ev.kind, PT_EV_ALLOC);
	check_tag(c, ev.tag, "Proc");
	assert_int_equal(pt_reader_next(c->r, &ev), 1);
	assert_int_equal(ev.kind, PT_EV_FREE);
	assert_int_equal(ev.ts_ns, 500000000);
	assert_int_equal(pt_reader_next(c->r, &ev), 0);
	ctx_done(c);
}

static size_t two_events(char *buf, size_t cap, bool root, bool decl)
{
	size_t len = 0;
	if (decl)
		cat(buf, &len, cap, "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<!-- dump -->\r\n");
	if (root)
		cat(buf, &len, cap, "<Events>\n");
	event_xml(buf, &len, cap, &base_alloc);
	struct evspec f = base_alloc;
	f.opcode = "34";
	f.time = "2024-01-01T00:00:00.5Z";
	event_xml(buf, &len, cap, &f);
	if (root)
		cat(buf, &len, cap, "</Events>\n");
	return len;
}

static void test_encodings(void **state)
{
	(void)state;
	char buf[16384];
	struct ctx c = {0};
	for (int root = 0; root < 2; root++) {
		for (int decl = 0; decl < 2; decl++) {
			size_t len = two_events(buf, sizeof(buf), root, decl);
			if (!decl)
				check_two_events(&c, buf, len); /* UTF-8 */
			/* UTF-8 with BOM */
			char *b8 = malloc(len + 3);
			memcpy(b8, "\xEF\xBB\xBF", 3);
			memcpy(b8 + 3, buf, len);
			if (!decl)
				check_two_events(&c, b8, len + 3);
			free(b8);
			for (int be = 0; be < 2; be++) {
				for (int bom = 0; bom < 2; bom++) {
					size_t n16;
					uint8_t *u = to_utf16(buf, len, be, bom, &n16);
					check_two_events(&c, u, n16);
					size_t ngz;
					uint8_t *gz = gzip_buf(u, n16, &ngz);
					check_two_events(&c, gz, ngz);
					free(gz);
					free(u);
				}
			}
		}
	}
	/* gzip of UTF-8 */
	size_t len = two_events(buf, sizeof(buf), true, false);
	size_t ngz;
	uint8_t *gz = gzip_buf(buf, len, &ngz);
	check_two_events(&c, gz, ngz);
	free(gz);
}

static void test_utf16_non_ascii(void **state)
{
	(void)state;
	/* A marker with a non-ASCII text (U+00E9 and U+1F600 as a surrogate pair). */
	static const uint16_t pre[] = u"<Events><Event><System><TimeCreated SystemTime=\"2024-01-01T00:00:00Z\"/>"
				       u"</System><EventData><Data Name=\"Mark\">caf\u00e9 \U0001F600</Data>"
				       u"</EventData><RenderingInfo><Opcode>Mark</Opcode>"
				       u"<EventName>PerfInfo</EventName></RenderingInfo></Event></Events>";
	size_t units = sizeof(pre) / 2 - 1;
	uint8_t *b = malloc(units * 2 + 2);
	b[0] = 0xFF;
	b[1] = 0xFE;
	for (size_t i = 0; i < units; i++) {
		b[2 + 2 * i] = (uint8_t)(pre[i] & 0xFF);
		b[3 + 2 * i] = (uint8_t)(pre[i] >> 8);
	}
	struct ctx c = {0};
	assert_int_equal(open_buf(&c, b, units * 2 + 2, false), 0);
	struct pt_event ev;
	assert_int_equal(pt_reader_next(c.r, &ev), 1);
	assert_int_equal(ev.kind, PT_EV_MARKER);
	assert_string_equal(ev.marker, "caf\xC3\xA9 \xF0\x9F\x98\x80");
	ctx_done(&c);
	free(b);
}

static void test_markers_and_other(void **state)
{
	(void)state;
	static const char d[] =
		"<Events>"
		"<Event><System><Opcode>0</Opcode><TimeCreated SystemTime=\"2024-01-01T00:00:00Z\"/></System>"
		"<EventData><Data Name=\"Mark\">workload-start</Data></EventData>"
		"<RenderingInfo><Opcode>Mark</Opcode><EventName>PerfInfo</EventName></RenderingInfo></Event>\n"
		"<Event><System><TimeCreated SystemTime=\"2024-01-01T00:00:01Z\"/></System>"
		"<EventData><Data Name=\"Name\">a &amp; b &lt;c&gt;</Data></EventData>"
		"<RenderingInfo><EventName>Mark</EventName></RenderingInfo></Event>\n"
		/* process start, a pool snapshot (opcode 40), an event with no names */
		"<Event><System><Opcode>1</Opcode><TimeCreated SystemTime=\"2024-01-01T00:00:02Z\"/></System>"
		"<RenderingInfo><EventName>Process</EventName></RenderingInfo>"
		"<ExtendedTracingInfo><EventGuid>{3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c}</EventGuid></ExtendedTracingInfo></Event>\n"
		"<Event><System><Opcode>40</Opcode><TimeCreated SystemTime=\"2024-01-01T00:00:02Z\"/></System>"
		"<ExtendedTracingInfo><EventGuid>" POOL_GUID "</EventGuid></ExtendedTracingInfo></Event>\n"
		"<Event/>\n"
		"<Event><System><TimeCreated SystemTime=\"2024-01-01T00:00:03Z\"/></System>"
		"<EventData><Data Name=\"Text\"><![CDATA[workload-end]]></Data></EventData>"
		"<RenderingInfo><EventName>Mark</EventName></RenderingInfo></Event>\n"
		"</Events>";
	struct ctx c = {0};
	assert_int_equal(open_buf(&c, d, sizeof(d) - 1, false), 0);
	struct pt_event ev;
	assert_int_equal(pt_reader_next(c.r, &ev), 1);
	assert_int_equal(ev.kind, PT_EV_MARKER);
	assert_string_equal(ev.marker, "workload-start");
	assert_int_equal(ev.ts_ns, 0);
	assert_int_equal(ev.tag, PT_TAG_NONE);
	assert_int_equal(pt_reader_next(c.r, &ev), 1);
	assert_string_equal(ev.marker, "a & b <c>");
	assert_int_equal(ev.ts_ns, 1000000000);
	assert_int_equal(pt_reader_next(c.r, &ev), 1);
	assert_string_equal(ev.marker, "workload-end");
	assert_int_equal(pt_reader_next(c.r, &ev), 0);
	assert_int_equal(c.r->skipped_other, 3);
	assert_int_equal(c.r->events, 3);
	ctx_done(&c);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char unclosed[] = "<Events>\n<Event>\n  <System>\n  <Opcode>32</Opcode>\n"
				       "</Event>\n</Events>\n";
	struct ctx c = {0};
	int rc = open_buf(&c, unclosed, sizeof(unclosed) - 1, false);
	if (rc == 0) {
		struct pt_event ev;
		rc = pt_reader_next(c.r, &ev);
		snprintf(c.err, sizeof(c.err), "%s", pt_reader_errmsg(c.r));
	}
	assert_int_equal(rc, PT_EFORMAT);
	assert_non_null(strstr(c.err, "t.xml:5:"));
	assert_non_null(strstr(c.err, "malformed XML"));
	ctx_done(&c);

	/* Truncated file, also with keep_going: still an error. */
	char buf[16384];
	size_t len = two_events(buf, sizeof(buf), true, false);
	assert_int_equal(open_buf(&c, buf, len - 40, true), 0);
	struct pt_event ev;
	assert_int_equal(pt_reader_next(c.r, &ev), 1);
	assert_int_equal(pt_reader_next(c.r, &ev), PT_EFORMAT);
	assert_non_null(strstr(pt_reader_errmsg(c.r), "t.xml:"));
	ctx_done(&c);

	/* Not XML at all / wrong root. */
	static const char wrong_root[] = "<Foo><Event/></Foo>";
	assert_int_equal(open_buf(&c, wrong_root, sizeof(wrong_root) - 1, false), PT_EFORMAT);
	assert_non_null(strstr(c.err, "<Foo>"));
	ctx_done(&c);
	static const char garbage[] = "<Events><Event>\x01\x02</Event></Events>";
	assert_int_equal(open_buf(&c, garbage, sizeof(garbage) - 1, false), PT_EFORMAT);
	ctx_done(&c);
}

static void test_field_errors(void **state)
{
	(void)state;
	static const struct {
		const char *field;
		const char *value; /* NULL: missing */
	} cases[] = {
		{"Tag", NULL},         {"Entry", NULL},         {"Type", NULL},
		{"NumberOfBytes", NULL}, {"NumberOfBytes", "12a"}, {"NumberOfBytes", "0x"},
		{"Tag", "0x1FFFFFFFF"}, {"Entry", "-5"},          {"Entry", "99999999999999999999"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct evspec e = base_alloc;
		const char **slot = !strcmp(cases[i].field, "Tag")     ? &e.tag
				    : !strcmp(cases[i].field, "Entry") ? &e.entry
				    : !strcmp(cases[i].field, "Type")  ? &e.type
								       : &e.bytes;
		*slot = cases[i].value;
		/* good, bad, good */
		struct evspec g = base_alloc;
		g.time = "2024-01-01T00:00:01Z";
		const struct evspec *list[3] = {&base_alloc, &e, &g};
		char buf[16384];
		size_t len = doc(buf, sizeof(buf), list, 3);
		struct ctx c = {0};
		assert_int_equal(open_buf(&c, buf, len, false), 0);
		struct pt_event ev;
		assert_int_equal(pt_reader_next(c.r, &ev), 1);
		assert_int_equal(pt_reader_next(c.r, &ev), PT_EFORMAT);
		const char *msg = pt_reader_errmsg(c.r);
		/* The line of the bad value, or of the event's EventData when missing. */
		char needle[64];
		if (cases[i].value)
			snprintf(needle, sizeof(needle), ">%s</Data>", cases[i].value);
		const char *at = strstr(buf, "<EventData>") + 1;
		at = cases[i].value ? strstr(buf, needle) : strstr(at, "<EventData>");
		assert_non_null(at);
		unsigned line = 1;
		for (const char *q = buf; q < at; q++)
			line += *q == '\n';
		char want[32];
		snprintf(want, sizeof(want), "t.xml:%u: ", line);
		if (!strstr(msg, cases[i].field) || strncmp(msg, want, strlen(want)))
			fail_msg("case %zu: message '%s', want '%s...'", i, msg, want);
		ctx_done(&c);

		/* keep_going: skipped and counted */
		assert_int_equal(open_buf(&c, buf, len, true), 0);
		assert_int_equal(pt_reader_next(c.r, &ev), 1);
		assert_int_equal(pt_reader_next(c.r, &ev), 1);
		assert_int_equal(ev.ts_ns, 1000000000);
		assert_int_equal(pt_reader_next(c.r, &ev), 0);
		assert_int_equal(c.r->skipped_bad, 1);
		assert_int_equal(c.r->warnings, 1);
		ctx_done(&c);
	}
	/* A bad pid is a field error too. */
	struct evspec e = base_alloc;
	e.pid = "four";
	const struct evspec *list[1] = {&e};
	char buf[16384];
	size_t len = doc(buf, sizeof(buf), list, 1);
	struct ctx c = {0};
	assert_int_equal(open_buf(&c, buf, len, false), PT_EFORMAT);
	assert_non_null(strstr(c.err, "ProcessID"));
	ctx_done(&c);
}

static void test_hostile(void **state)
{
	(void)state;
	static const char *const docs[] = {
		/* billion laughs */
		"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
		" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
		" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
		" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
		" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
		" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
		"]>\n<Events><Event><EventData><Data Name=\"Mark\">&lol9;</Data></EventData>"
		"<RenderingInfo><EventName>Mark</EventName></RenderingInfo></Event></Events>",
		/* external entity: a local file and a URL */
		"<!DOCTYPE Events [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
		"<Events><Event><EventData><Data Name=\"Mark\">&xxe;</Data></EventData></Event></Events>",
		"<!-- x --><!DOCTYPE Events SYSTEM \"http://127.0.0.1:9/evil.dtd\"><Events/>",
		/* DOCTYPE before a bare <Event> sequence */
		"<?xml version=\"1.0\"?><!DOCTYPE Event [<!ENTITY a \"b\">]><Event>&a;</Event>",
		/* an entity reference with no declaration */
		"<Events><Event><EventData><Data Name=\"Mark\">&xxe;</Data></EventData></Event></Events>",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct ctx c = {0};
		int rc = open_buf(&c, docs[i], strlen(docs[i]), true);
		if (rc == 0) {
			struct pt_event ev;
			while ((rc = pt_reader_next(c.r, &ev)) > 0)
				assert_true(ev.kind != PT_EV_MARKER || strlen(ev.marker) < 64);
			snprintf(c.err, sizeof(c.err), "%s", pt_reader_errmsg(c.r));
		}
		if (rc != PT_EFORMAT)
			fail_msg("doc %zu: rc %d", i, rc);
		if (i < 4)
			assert_non_null(strstr(c.err, "DOCTYPE"));
		ctx_done(&c);
	}
	/* Also as UTF-16. */
	size_t n16;
	uint8_t *u = to_utf16(docs[0], strlen(docs[0]), false, true, &n16);
	struct ctx c = {0};
	assert_int_equal(open_buf(&c, u, n16, false), PT_EFORMAT);
	assert_non_null(strstr(c.err, "t.xml:2: DOCTYPE"));
	ctx_done(&c);
	free(u);
}

/*
 * The hardening scan in front of libxml2 names the first byte past a cap and
 * its line. Runs of every length around the cap, at every alignment to the
 * scanner's 64-byte windows and across the 4 kB reads of libxml2, with
 * newlines in them and comments, CDATA and processing instructions (whose
 * content is not markup) before them.
 */
static int scan_doc(const char *doc, size_t len, uint64_t max_node, uint64_t max_depth, char *err,
		    size_t errsz)
{
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_input *in;
	struct pt_reader *r = NULL;
	struct pt_reader_opts o = {0};
	o.quiet = true;
	o.max_xml_node = max_node;
	o.max_xml_depth = max_depth;
	assert_non_null(tags);
	assert_int_equal(pt_input_open_memory(&in, doc, len, "t.xml"), 0);
	err[0] = 0;
	int rc = pt_reader_open_input(&r, in, NULL, tags, &o, err, errsz);
	if (rc == 0) {
		struct pt_event ev;
		while ((rc = pt_reader_next(r, &ev)) > 0)
			;
		snprintf(err, errsz, "%s", pt_reader_errmsg(r));
	}
	pt_reader_free(r);
	pt_tags_free(tags);
	return rc;
}

static unsigned line_of(const char *doc, size_t pos)
{
	unsigned line = 1;
	for (size_t i = 0; i <= pos; i++)
		line += doc[i] == '\n';
	return line;
}

static void test_scan_caps(void **state)
{
	(void)state;
	static const char *const heads[] = {
		"<Events>\n<Event>",
		"<Events>\n<!-- <a> \n - > --><Event><![CDATA[ <b> ]]>\n<?pi <c> ?>",
	};
	size_t cap = 20000;
	char *doc = malloc(cap), err[512], want[512];
	assert_non_null(doc);
	for (size_t h = 0; h < 2; h++) {
		for (size_t pad = 0; pad < 70; pad += 23) {
			for (size_t run = 4090; run < 4110; run++) {
				for (size_t max = run - 2; max <= run + 1; max++) {
					/* text run of `run` bytes: "a\n" repeated */
					size_t len = 0;
					len += (size_t)snprintf(doc + len, cap - len, "%s%*s", heads[h],
								(int)pad, "");
					size_t start = len - pad; /* the run starts after '>' */
					for (size_t k = 0; k < run; k++)
						doc[len++] = k % 2 ? '\n' : 'a';
					len += (size_t)snprintf(doc + len, cap - len, "</Event></Events>\n");
					int rc = scan_doc(doc, len, max, 0, err, sizeof(err));
					if (run + pad <= max) {
						if (rc < 0)
							fail_msg("text %zu/%zu: %s", run + pad, max, err);
						continue;
					}
					size_t e = start + max; /* first byte past the cap */
					snprintf(want, sizeof(want),
						 "t.xml:%u: XML text run longer than %zu bytes (raise the "
						 "cap with --max-xml-node)",
						 line_of(doc, e), max);
					assert_int_equal(rc, PT_ELIMIT);
					assert_string_equal(err, want);
				}
			}
		}
		/* a tag: its '<' counts, the byte after it does not */
		for (size_t run = 4090; run < 4110; run++) {
			for (size_t max = run - 2; max <= run + 1; max++) {
				size_t len = 0;
				len += (size_t)snprintf(doc + len, cap - len, "%s<Data Name=\"", heads[h]);
				size_t lt = len - 12;
				while (len - lt < run - 2) {
					char ch = len % 3 ? 'v' : '\n';
					doc[len++] = ch;
				}
				len += (size_t)snprintf(doc + len, cap - len, "\"/></Event></Events>\n");
				size_t tag = len - 19 - lt; /* tag bytes counted: up to its '>' */
				int rc = scan_doc(doc, len, max, 0, err, sizeof(err));
				if (tag <= max) {
					if (rc < 0)
						fail_msg("tag %zu/%zu: %s", tag, max, err);
					continue;
				}
				snprintf(want, sizeof(want),
					 "t.xml:%u: XML tag longer than %zu bytes (raise the cap with "
					 "--max-xml-node)",
					 line_of(doc, lt + max + 1), max);
				if (rc != PT_ELIMIT)
					fail_msg("tag %zu/%zu: %d %s", tag, max, rc, err);
				assert_string_equal(err, want);
			}
		}
	}
	/* depth: empty elements and end tags count right, markup in comments not at all */
	static const char deep[] = "<Events>\n<Event><a/><b></b><!-- <c> --><c>\n<d\n>";
	assert_int_equal(scan_doc(deep, strlen(deep), 0, 3, err, sizeof(err)), PT_ELIMIT);
	assert_string_equal(err, "t.xml:4: XML elements nested deeper than 3 (raise the cap with "
				 "--max-xml-depth)");
	/* attributes: the 1025th '=' of one element, not '=' in values or text */
	size_t len = 0;
	len += (size_t)snprintf(doc + len, cap - len, "<Events>a=b<Event x=\"=\"\n");
	for (int k = 0; k < 1023; k++)
		len += (size_t)snprintf(doc + len, cap - len, " a%d='%s'", k, k == 500 ? "\n" : "");
	size_t eq = len + 2;
	len += (size_t)snprintf(doc + len, cap - len, " z='1'/></Events>");
	assert_int_equal(scan_doc(doc, len, 0, 0, err, sizeof(err)), PT_ELIMIT);
	snprintf(want, sizeof(want), "t.xml:%u: XML element with more attributes than 1024",
		 line_of(doc, eq));
	assert_string_equal(err, want);
	assert_int_equal(line_of(doc, eq), 3);
	free(doc);
}

static void test_long_values(void **state)
{
	(void)state;
	/* A value far longer than any field: bounded, reported as a bad number. */
	size_t big = 1u << 20;
	char *v = malloc(big + 1);
	memset(v, '1', big);
	v[big] = 0;
	struct evspec e = base_alloc;
	e.bytes = v;
	char *buf = malloc(big + 8192);
	size_t len = 0;
	cat(buf, &len, big + 8192, "<Events>");
	event_xml(buf, &len, big + 8192, &e);
	cat(buf, &len, big + 8192, "</Events>");
	struct ctx c = {0};
	assert_int_equal(open_buf(&c, buf, len, false), PT_EFORMAT);
	assert_non_null(strstr(c.err, "NumberOfBytes"));
	ctx_done(&c);
	free(buf);
	free(v);
}

static void test_probe(void **state)
{
	(void)state;
	const struct pt_reader_ops *ops = pt_reader_find("tracerpt-xml");
	assert_non_null(ops);
	char buf[16384];
	size_t len = two_events(buf, sizeof(buf), true, true);
	assert_true(ops->probe((const uint8_t *)buf, len) >= 90);
	len = two_events(buf, sizeof(buf), false, false);
	assert_true(ops->probe((const uint8_t *)buf, len) >= 90);
	size_t n16;
	for (int be = 0; be < 2; be++) {
		for (int bom = 0; bom < 2; bom++) {
			uint8_t *u = to_utf16(buf, len, be, bom, &n16);
			assert_true(ops->probe(u, n16) >= 90);
			free(u);
		}
	}
	static const char *const no[] = {"", "hello", "<html><body/></html>",
					 "{\"Events\": 1}", "<?xml version=\"1.0\"?><root/>"};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(ops->probe((const uint8_t *)no[i], strlen(no[i])), 0);
	static const char plain[] = "<Event><System/></Event>";
	int s = ops->probe((const uint8_t *)plain, sizeof(plain) - 1);
	assert_true(s > 0 && s < 90);
}

static void test_iso8601(void **state)
{
	(void)state;
	int64_t t;
	assert_int_equal(pt_iso8601_parse("1970-01-01T00:00:00Z", 20, &t), 0);
	assert_true(t == 0);
	assert_int_equal(pt_iso8601_parse("2000-02-29T12:00:00.1Z", 22, &t), 0);
	assert_true(t == 951825600100000000LL);
	assert_int_equal(pt_iso8601_parse("2001-02-29T12:00:00Z", 20, &t), PT_EFORMAT);
	assert_int_equal(pt_iso8601_parse("2001-02-28T12:00:00Zjunk", 24, &t), PT_EFORMAT);
	assert_int_equal(pt_iso8601_parse("2001-02-28", 10, &t), PT_EFORMAT);
	char b[48];
	int64_t vals[] = {0, 1, 1714557600123456789LL, -1, 951825600100000000LL};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		pt_iso8601_format(vals[i], b, sizeof(b));
		assert_int_equal(pt_iso8601_parse(b, strlen(b), &t), 0);
		assert_true(t == vals[i]);
	}
	assert_string_equal(pt_iso8601_format(1714557600123456789LL, b, sizeof(b)),
			    "2024-05-01T10:00:00.123456789Z");
	assert_int_equal(pt_filetime_to_unix_ns(116444736000000000ULL, &t), 0);
	assert_true(t == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_shape),
		cmocka_unit_test(test_number_forms),
		cmocka_unit_test(test_guid_forms_and_opcodes),
		cmocka_unit_test(test_rendering_fallback),
		cmocka_unit_test(test_session_and_big_pool),
		cmocka_unit_test(test_unknown_ids),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_time_precision),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_utf16_non_ascii),
		cmocka_unit_test(test_markers_and_other),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_scan_caps),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_iso8601),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
