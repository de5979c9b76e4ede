/* SPDX-License-Identifier: MIT */
/* Scenario engine: parsing, determinism, time order, ground truth, bounded memory. */
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

static const char base[] =
	"# a comment\n"
	"seed 42\n"
	"duration 60s\n"
	"workload-start 5s\n"
	"workload-end 40s   # cool-down after this\n"
	"pointer-size 8\n"
	"cpus 4\n"
	"start 2024-05-01T10:00:00Z\n"
	"marker 40s workload-end\n"
	"tag Leak nonpaged rate=20/s size=256 lifetime=forever\n"
	"tag Busy paged rate=2000/s size=64..512 lifetime=0.2s..2s\n"
	"tag Drip nonpaged rate=50/s size=128 lifetime=10ms..1s leak=0.1\n"
	"tag Lost nonpaged-nx rate=100/s size=32 lifetime=1ms..10ms lost-frees=0.05\n"
	"tag Sess paged rate=10/s size=96 lifetime=1s session=1\n"
	"tag Bg   paged rate=5/s size=64 lifetime=100ms..200ms phase=always\n";

static struct ptg_scenario *parse(const char *text)
{
	struct ptg_scenario *s;
	char err[256];
	if (ptg_scenario_parse(text, strlen(text), "t.scn", &s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return s;
}

static char *xml_of(const char *text, uint64_t seed, size_t *len)
{
	struct ptg_scenario *s = parse(text);
	s->seed = seed;
	struct pt_tags *tags = pt_tags_new(0);
	struct ptg_gen *g = ptg_gen_new(s, tags);
	struct pt_trace_meta m;
	ptg_scenario_meta(s, &m);
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	struct pt_xmlw *w = pt_xmlw_new(f, &m, tags);
	struct pt_event ev;
	int rc;
	while ((rc = ptg_gen_next(g, &ev)) > 0)
		assert_int_equal(pt_xmlw_event(w, &ev), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(pt_xmlw_finish(w), 0);
	pt_xmlw_free(w);
	fclose(f);
	ptg_gen_free(g);
	pt_tags_free(tags);
	ptg_scenario_free(s);
	return buf;
}

static void test_determinism(void **state)
{
	(void)state;
	static const char small[] = "seed 1\nduration 10s\nworkload-end 8s\n"
				    "tag Aaaa paged rate=200/s size=8..4096 lifetime=1ms..3s\n"
				    "tag Bbbb nonpaged rate=20/s size=64 lifetime=forever\n";
	size_t n1, n2, n3;
	char *a = xml_of(small, 99, &n1);
	char *b = xml_of(small, 99, &n2);
	char *c = xml_of(small, 100, &n3);
	assert_true(n1 > 10000);
	assert_int_equal(n1, n2);
	assert_memory_equal(a, b, n1);
	assert_true(n1 != n3 || memcmp(a, c, n1) != 0);
	free(a);
	free(b);
	free(c);
}

struct per_tag {
	uint64_t allocs, frees, bytes_live;
	uint64_t last_alloc_ns;
};

static void test_ground_truth(void **state)
{
	(void)state;
	struct ptg_scenario *s = parse(base);
	assert_int_equal(s->ntags, 6);
	struct pt_tags *tags = pt_tags_new(0);
	struct ptg_gen *g = ptg_gen_new(s, tags);
	struct per_tag pt[6];
	memset(pt, 0, sizeof(pt));
	struct pt_event ev;
	uint64_t last = 0, markers = 0, max_pending = 0;
	int rc;
	while ((rc = ptg_gen_next(g, &ev)) > 0) {
		assert_true(ev.ts_ns >= last);
		assert_true(ev.ts_ns < s->duration_ns);
		last = ev.ts_ns;
		size_t p = ptg_gen_pending(g);
		if (p > max_pending)
			max_pending = p;
		if (ev.kind == PT_EV_MARKER) {
			assert_string_equal(ev.marker, "workload-end");
			assert_true(ev.ts_ns == 40000000000ULL);
			markers++;
			continue;
		}
		assert_true(ev.tag < 6); /* tags interned in scenario order */
		struct per_tag *t = &pt[ev.tag];
		if (pt_event_is_alloc(&ev)) {
			t->allocs++;
			t->last_alloc_ns = ev.ts_ns;
			assert_true(ev.size >= s->tags[ev.tag].size_min &&
				    ev.size <= s->tags[ev.tag].size_max);
			assert_true(ev.cpu < 4);
		} else {
			t->frees++;
			assert_int_equal(ev.size, 0); /* free-size defaults to no */
		}
		if (ev.tag == 4) {
			assert_true(ev.kind == PT_EV_SESSION_ALLOC || ev.kind == PT_EV_SESSION_FREE);
			assert_int_equal(ev.session_id, 1);
			assert_int_equal(ev.pool, PT_POOL_PAGED_SESSION);
		} else {
			assert_true(ev.kind == PT_EV_ALLOC || ev.kind == PT_EV_FREE);
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(markers, 1);
	size_t n;
	const struct ptg_truth *tr = ptg_gen_truth(g, &n);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(tr[i].allocs, pt[i].allocs);
		assert_int_equal(tr[i].frees, pt[i].frees);
		assert_int_equal(tr[i].allocs, tr[i].frees + tr[i].lost_frees + tr[i].live_at_end);
	}
	/* Leak: about 20/s over 35 s, never freed. */
	assert_true(tr[0].leak);
	assert_int_equal(pt[0].frees, 0);
	assert_true(pt[0].allocs > 600 && pt[0].allocs < 800);
	assert_int_equal(tr[0].live_at_end, tr[0].allocs);
	assert_true(tr[0].bytes_at_end == 256 * tr[0].allocs);
	/* Busy: allocations stop at workload end, everything freed by the end. */
	assert_false(tr[1].leak);
	assert_true(pt[1].last_alloc_ns < 40000000000ULL);
	assert_true(pt[1].allocs > 60000);
	assert_int_equal(pt[1].frees, pt[1].allocs);
	assert_int_equal(tr[1].live_at_end, 0);
	assert_int_equal(tr[1].bytes_at_end, 0);
	assert_true(tr[1].bytes_at_wend > 0);
	/* Drip leaks about 10 %. */
	assert_true(tr[2].leak);
	assert_true(tr[2].never_freed > tr[2].allocs / 20 && tr[2].never_freed < tr[2].allocs / 5);
	/* Lost: about 5 % of frees missing from the trace, none leaked. */
	assert_false(tr[3].leak);
	assert_true(tr[3].lost_frees > 0 && tr[3].lost_frees < tr[3].allocs / 10);
	assert_int_equal(tr[3].bytes_at_end, 0);
	/* Background tag runs over the whole trace. */
	assert_false(tr[5].leak);
	assert_true(pt[5].last_alloc_ns > 50000000000ULL);
	/* Memory: pending frees stay near rate x lifetime (2000/s x 2 s), whatever the duration. */
	assert_true(max_pending < 6000);
	ptg_gen_free(g);
	pt_tags_free(tags);
	ptg_scenario_free(s);
}

static void test_duration_and_scale(void **state)
{
	(void)state;
	struct ptg_scenario *s = parse(base);
	ptg_scenario_set_duration(s, 120000000000ULL);
	assert_true(s->wstart_ns == 10000000000ULL);
	assert_true(s->wend_ns == 80000000000ULL);
	assert_true(s->markers[0].t_ns == 80000000000ULL);
	uint64_t p = s->tags[1].period_ns;
	ptg_scenario_scale_rates(s, 2);
	assert_true(s->tags[1].period_ns == p / 2);
	ptg_scenario_free(s);
}

static void test_parse_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"seed x\n", "t.scn:1: seed"},
		{"\n\nfrobnicate 1\n", "t.scn:3: unknown keyword"},
		{"tag TooLong paged\n", "t.scn:1: tag"},
		{"tag Abcd wet\n", "pool 'wet'"},
		{"tag Abcd paged rate=fast\n", "rate 'fast'"},
		{"tag Abcd paged size=10..5\n", "size '10..5'"},
		{"tag Abcd paged lifetime=soon\n", "lifetime 'soon'"},
		{"tag Abcd paged leak=2\n", "leak '2'"},
		{"tag Abcd paged colour=red\n", "unknown tag option"},
		{"duration 10s\nworkload-end 20s\n", "workload-end <= duration"},
		{"marker 1s\n", "t.scn:1: usage: marker"},
		{"pointer-size 6\n", "pointer-size"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ptg_scenario *s = NULL;
		char err[256] = "";
		int rc = ptg_scenario_parse(cases[i].text, strlen(cases[i].text), "t.scn", &s, err,
					    sizeof(err));
		if (rc != PT_EUSAGE || !strstr(err, cases[i].want))
			fail_msg("case %zu: rc %d, message '%s'", i, rc, err);
		assert_null(s);
	}
	/* Escaped and short tags are space padded; session pools by name. */
	struct ptg_scenario *s = parse("tag Cc paged\ntag \\x01\\xffAB session_paged big\n");
	assert_memory_equal(s->tags[0].bytes, "Cc  ", 4);
	assert_memory_equal(s->tags[1].bytes, "\x01\xff" "AB", 4);
	assert_int_equal(s->tags[1].raw_type, 0x10000021);
	assert_int_equal(s->tags[1].session, 1);
	ptg_scenario_free(s);
}

static void test_demo_sample(void **state)
{
	(void)state;
	/* The committed demo is the scenario's output (compared decompressed). */
	struct ptg_scenario *s;
	char err[256];
	if (ptg_scenario_load(PT_SOURCE_DIR "/sample-traces/demo.scn", &s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	struct pt_tags *tags = pt_tags_new(0);
	struct ptg_gen *g = ptg_gen_new(s, tags);
	struct pt_trace_meta m;
	ptg_scenario_meta(s, &m);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct pt_xmlw *w = pt_xmlw_new(f, &m, tags);
	struct pt_event ev;
	while (ptg_gen_next(g, &ev) > 0)
		assert_int_equal(pt_xmlw_event(w, &ev), 0);
	assert_int_equal(pt_xmlw_finish(w), 0);
	pt_xmlw_free(w);
	fclose(f);

	struct pt_input *in;
	char ierr[256];
	assert_int_equal(pt_input_open(&in, PT_SOURCE_DIR "/sample-traces/demo.xml.gz", ierr,
				       sizeof(ierr)), 0);
	assert_true(pt_input_is_gzip(in));
	char *got = malloc(len + 1);
	ssize_t n = pt_input_read_full(in, got, len + 1);
	pt_input_free(in);
	if (n != (ssize_t)len || memcmp(got, buf, len) != 0)
		fail_msg("sample-traces/demo.xml.gz differs from demo.scn's output; "
			 "run tools/make-samples.sh");
	free(got);
	free(buf);
	/* Ground truth: exactly one leaking tag. */
	size_t nt, leaks = 0;
	const struct ptg_truth *tr = ptg_gen_truth(g, &nt);
	for (size_t i = 0; i < nt; i++) {
		leaks += tr[i].leak;
		if (!tr[i].leak)
			assert_int_equal(tr[i].live_at_end, 0);
	}
	assert_int_equal(leaks, 1);
	ptg_gen_free(g);
	pt_tags_free(tags);
	ptg_scenario_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_ground_truth),
		cmocka_unit_test(test_duration_and_scale),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_demo_sample),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
