/* SPDX-License-Identifier: MIT */
/* XML writer: events -> XML -> tracerpt-xml reader gives the same events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"
#include "pooltrace/xmlwrite.h"
#include "scenario.h"

static const char scenario[] =
	"seed 7\n"
	"start 2024-05-01T10:00:00.123456789Z\n"
	"duration 20s\nworkload-start 1s\nworkload-end 15s\n"
	"pointer-size 8\ncpus 3\nhost BOX\nevents-lost 5\nbuffers-lost 2\nfree-size yes\n"
	"marker 1s workload-start\n"
	"marker 15s workload-end: a <b> & \"c\"\n"
	"tag Leak nonpaged rate=5/s size=256 lifetime=forever\n"
	"tag Busy paged rate=50/s size=64..512 lifetime=10ms..2s\n"
	"tag Big  nonpaged-nx rate=2/s size=70000..90000 lifetime=1s big\n"
	"tag Ses  paged rate=3/s size=100 lifetime=0.5s session=2\n"
	"tag SNx  nx rate=1/s size=100 lifetime=0.5s session=3 phase=always\n"
	"tag Lo   nonpaged rate=20/s size=32 lifetime=1ms..5ms lost-frees=0.25\n";

/* Generate all events of the scenario, keeping copies. */
struct evlist {
	struct pt_event *ev;
	char (*marker)[128];
	size_t n, cap;
};

static void push(struct evlist *l, const struct pt_event *ev)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->ev = realloc(l->ev, l->cap * sizeof(*l->ev));
		l->marker = realloc(l->marker, l->cap * sizeof(*l->marker));
		assert_non_null(l->ev);
		assert_non_null(l->marker);
	}
	l->ev[l->n] = *ev;
	l->marker[l->n][0] = 0;
	if (ev->kind == PT_EV_MARKER)
		snprintf(l->marker[l->n], sizeof(l->marker[0]), "%s", ev->marker);
	l->n++;
}

static char *write_xml(const struct evlist *l, const struct pt_trace_meta *m,
		       const struct pt_tags *tags, enum pt_xmlw_encoding enc, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	assert_non_null(f);
	struct pt_xmlw_opts o = {.encoding = enc};
	struct pt_xmlw *w = pt_xmlw_new_opts(f, m, tags, &o);
	assert_non_null(w);
	for (size_t i = 0; i < l->n; i++) {
		struct pt_event e = l->ev[i];
		if (e.kind == PT_EV_MARKER)
			e.marker = l->marker[i];
		assert_int_equal(pt_xmlw_event(w, &e), 0);
	}
	assert_int_equal(pt_xmlw_finish(w), 0);
	pt_xmlw_free(w);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void same_tag(const struct pt_tags *a, pt_tag_id x, const struct pt_tags *b, pt_tag_id y)
{
	if (x == PT_TAG_NONE || y == PT_TAG_NONE) {
		assert_int_equal(x, y);
		return;
	}
	size_t n1, n2;
	const uint8_t *p1 = pt_tags_bytes(a, x, &n1), *p2 = pt_tags_bytes(b, y, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(p1, p2, n1);
}

static void read_back(const char *xml, size_t len, const struct evlist *l,
		      const struct pt_tags *tags, const struct pt_trace_meta *m)
{
	struct pt_tags *t2 = pt_tags_new(0);
	struct pt_input *in;
	struct pt_reader *r;
	char err[512];
	assert_int_equal(pt_input_open_memory(&in, xml, len, "rt.xml"), 0);
	int rc = pt_reader_open_input(&r, in, NULL, t2, NULL, err, sizeof(err));
	if (rc < 0)
		fail_msg("open: %s", err);
	assert_string_equal(r->meta.format, "tracerpt-xml");
	assert_int_equal(r->meta.pointer_size, m->pointer_size);
	assert_int_equal(r->meta.num_cpus, m->num_cpus);
	assert_true(r->meta.start_unix_ns == m->start_unix_ns);
	assert_true(r->meta.lost_known);
	assert_int_equal(r->meta.events_lost, m->events_lost);
	assert_int_equal(r->meta.buffers_lost, m->buffers_lost);
	assert_int_equal(r->meta.perf_freq, m->perf_freq);
	assert_int_equal(r->meta.os_build, m->os_build);
	assert_string_equal(r->meta.host, m->host);
	assert_string_equal(r->meta.os, m->os);
	struct pt_event ev;
	for (size_t i = 0; i < l->n; i++) {
		rc = pt_reader_next(r, &ev);
		if (rc != 1)
			fail_msg("event %zu: %d %s", i, rc, pt_reader_errmsg(r));
		const struct pt_event *e = &l->ev[i];
		assert_true(ev.ts_ns == e->ts_ns);
		assert_int_equal(ev.kind, e->kind);
		assert_int_equal(ev.pid, e->pid);
		assert_int_equal(ev.tid, e->tid);
		assert_int_equal(ev.cpu, e->cpu);
		if (e->kind == PT_EV_MARKER) {
			if (strcmp(ev.marker, l->marker[i]))
				fail_msg("event %zu: marker '%s', want '%s'", i, ev.marker, l->marker[i]);
			continue;
		}
		assert_int_equal(ev.pool, e->pool);
		assert_int_equal(ev.pool_flags, e->pool_flags);
		assert_int_equal(ev.raw_pool_type, e->raw_pool_type);
		same_tag(t2, ev.tag, tags, e->tag);
		assert_true(ev.size == e->size);
		assert_true(ev.addr == e->addr);
		assert_int_equal(ev.session_id, e->session_id);
	}
	assert_int_equal(pt_reader_next(r, &ev), 0);
	assert_int_equal(r->skipped_other, 0);
	assert_int_equal(r->skipped_bad, 0);
	assert_int_equal(r->warnings, 0);
	assert_true(r->meta.end_ns == m->end_ns);
	pt_reader_free(r);
	pt_tags_free(t2);
}

static void test_round_trip_generated(void **state)
{
	(void)state;
	struct ptg_scenario *s;
	char err[256];
	if (ptg_scenario_parse(scenario, sizeof(scenario) - 1, "rt.scn", &s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	struct pt_tags *tags = pt_tags_new(0);
	struct ptg_gen *g = ptg_gen_new(s, tags);
	assert_non_null(g);
	struct evlist l = {0};
	struct pt_event ev;
	int rc;
	bool kinds[PT_EV_KIND_COUNT_] = {0};
	bool big = false;
	while ((rc = ptg_gen_next(g, &ev)) > 0) {
		push(&l, &ev);
		kinds[ev.kind] = true;
		big |= (ev.pool_flags & PT_POOLF_BIG) != 0;
	}
	assert_int_equal(rc, 0);
	/* The scenario exercises every kind a tracerpt trace carries. */
	assert_true(kinds[PT_EV_ALLOC] && kinds[PT_EV_FREE] && kinds[PT_EV_SESSION_ALLOC] &&
		    kinds[PT_EV_SESSION_FREE] && kinds[PT_EV_MARKER] && big);
	struct pt_trace_meta m;
	ptg_scenario_meta(s, &m);
	static const enum pt_xmlw_encoding encs[] = {PT_XMLW_UTF8, PT_XMLW_UTF16LE, PT_XMLW_UTF16BE};
	for (size_t i = 0; i < 3; i++) {
		size_t len;
		char *xml = write_xml(&l, &m, tags, encs[i], &len);
		read_back(xml, len, &l, tags, &m);
		free(xml);
	}
	free(l.ev);
	free(l.marker);
	ptg_gen_free(g);
	pt_tags_free(tags);
	ptg_scenario_free(s);
}

static void test_round_trip_edge_events(void **state)
{
	(void)state;
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_trace_meta m;
	pt_trace_meta_init(&m);
	m.has_start_time = true;
	m.start_unix_ns = 1000000000LL * 1700000000LL + 1; /* ns precision survives */
	m.pointer_size = 4;
	m.num_cpus = 1;
	m.perf_freq = 3579545;
	m.lost_known = true;
	snprintf(m.os, sizeof(m.os), "Windows 6.1");
	m.os_build = 7601;
	m.end_ns = 5000000000ULL;
	struct evlist l = {0};
	struct pt_event ev;
	pt_tag_id t1, t2;
	assert_int_equal(pt_tags_intern(tags, "\x01\xff<&", 4, &t1), 0);
	assert_int_equal(pt_tags_intern(tags, "Cc  ", 4, &t2), 0);
	pt_event_init(&ev);
	ev.kind = PT_EV_ALLOC;
	ev.tag = t1;
	ev.pool = PT_POOL_PAGED;
	ev.raw_pool_type = 1;
	ev.size = UINT64_MAX;
	ev.addr = 0;
	push(&l, &ev);
	pt_event_init(&ev);
	ev.kind = PT_EV_FREE;
	ev.ts_ns = 1;
	ev.tag = t2;
	ev.pool = PT_POOL_OTHER;
	ev.raw_pool_type = 7; /* a POOL_TYPE with no name is kept as is */
	ev.addr = 0xFFFFFFFF;
	ev.pid = 0;
	ev.tid = 0;
	ev.cpu = 0;
	push(&l, &ev);
	pt_event_init(&ev);
	ev.kind = PT_EV_MARKER;
	ev.ts_ns = 4999999999ULL;
	ev.marker = "tab\there, line\nbreak, cr\r, <xml> & \"quotes\" 'apos' caf\xC3\xA9";
	push(&l, &ev);
	pt_event_init(&ev);
	ev.kind = PT_EV_SESSION_ALLOC;
	ev.ts_ns = 5000000000ULL;
	ev.tag = t2;
	ev.pool = PT_POOL_NONPAGED_SESSION_NX;
	ev.pool_flags = PT_POOLF_BIG;
	ev.raw_pool_type = 0; /* inconsistent with pool: the writer derives 544 | big */
	ev.session_id = PT_NONE32;
	push(&l, &ev);
	size_t len;
	char *xml = write_xml(&l, &m, tags, PT_XMLW_UTF8, &len);
	l.ev[3].raw_pool_type = 544 | 0x10000000;
	read_back(xml, len, &l, tags, &m);
	free(xml);

	/* What cannot be written is refused without output. */
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	struct pt_xmlw *w = pt_xmlw_new(f, &m, tags);
	pt_tag_id longtag;
	assert_int_equal(pt_tags_intern(tags, "kmalloc-64", 10, &longtag), 0);
	pt_event_init(&ev);
	ev.kind = PT_EV_ALLOC;
	ev.tag = longtag;
	assert_int_equal(pt_xmlw_event(w, &ev), PT_EUNSUPPORTED);
	ev.tag = t1;
	ev.pool = PT_POOL_SLAB;
	assert_int_equal(pt_xmlw_event(w, &ev), PT_EUNSUPPORTED);
	ev.kind = PT_EV_SNAPSHOT;
	ev.pool = PT_POOL_PAGED;
	assert_int_equal(pt_xmlw_event(w, &ev), PT_EUNSUPPORTED);
	assert_int_equal(pt_xmlw_finish(w), 0);
	pt_xmlw_free(w);
	fclose(f);
	assert_null(strstr(buf, "kmalloc"));
	assert_non_null(strstr(buf, "</Events>"));
	free(buf);
	free(l.ev);
	free(l.marker);
	pt_tags_free(tags);
}

static void test_shape(void **state)
{
	(void)state;
	/* The pool event looks like the reference example. */
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_trace_meta m;
	pt_trace_meta_init(&m);
	m.has_start_time = true;
	m.start_unix_ns = 1704067200LL * 1000000000LL;
	pt_tag_id t;
	assert_int_equal(pt_tags_intern_u32(tags, 0x636F7250, &t), 0);
	struct pt_event ev;
	pt_event_init(&ev);
	ev.kind = PT_EV_ALLOC;
	ev.tag = t;
	ev.pool = PT_POOL_NONPAGED_NX;
	ev.raw_pool_type = 512;
	ev.size = 2048;
	ev.addr = 0xFFFFA30F12345000ULL;
	ev.pid = 4;
	ev.tid = 120;
	ev.cpu = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct pt_xmlw *w = pt_xmlw_new(f, &m, tags);
	assert_int_equal(pt_xmlw_event(w, &ev), 0);
	assert_int_equal(pt_xmlw_finish(w), 0);
	pt_xmlw_free(w);
	fclose(f);
	static const char *const want[] = {
		"        <Opcode>32</Opcode>\n",
		"        <TimeCreated SystemTime=\"2024-01-01T00:00:00.000000000Z\" />\n",
		"        <Execution ProcessID=\"4\" ThreadID=\"120\" ProcessorID=\"0\" KernelTime=\"0\" UserTime=\"0\" />\n",
		"        <Data Name=\"Type\">512</Data>\n"
		"        <Data Name=\"Tag\">0x636F7250</Data>\n"
		"        <Data Name=\"NumberOfBytes\">2048</Data>\n"
		"        <Data Name=\"Entry\">0xFFFFA30F12345000</Data>\n",
		"        <Opcode>PoolAllocation</Opcode>\n"
		"        <Provider>MSNT_SystemTrace</Provider>\n"
		"        <EventName xmlns=\"http://schemas.microsoft.com/win/2004/08/events/trace\">Pool</EventName>\n",
		"        <EventGuid>{0268a8b6-74fd-4302-9dd0-6e8f1795c0cf}</EventGuid>\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(buf, want[i]))
			fail_msg("missing: %s", want[i]);
	free(buf);
	pt_tags_free(tags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_generated),
		cmocka_unit_test(test_round_trip_edge_events),
		cmocka_unit_test(test_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
