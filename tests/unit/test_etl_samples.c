/* SPDX-License-Identifier: MIT */
/* The public ETL samples in sample-traces/etl/ open, read to the end and give the known numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "etl/etl.h"
#include "pooltrace/pooltrace.h"

struct expect {
	const char *file;
	uint32_t build, cpus, psize;
	uint64_t buffers, compressed, records;
	uint64_t by_type[PT_ETL_REC_COUNT_];
	uint64_t events_lost;
	const char *logger;
};

static const struct expect samples[] = {
	{"airbus_AMSITrace.etl", 18362, 8, 8, 6, 0, 21,
	 {[PT_ETL_REC_SYSTEM64] = 2, [PT_ETL_REC_EVENT64] = 19}, 3, "AMSITraceSession"},
	{"airbus_ShutdownPerfDiagLogger.etl", 18362, 2, 8, 49, 0, 17078,
	 {[PT_ETL_REC_SYSTEM64] = 8433, [PT_ETL_REC_PERFINFO64] = 8645}, 0, "PerfDiag Logger"},
	{"airbus_lxcore_kernel.etl", 19041, 6, 8, 3, 0, 4,
	 {[PT_ETL_REC_SYSTEM64] = 2, [PT_ETL_REC_EVENT64] = 2}, 0, "lxcore_kernel"},
	{"perfview_SelfDescribingSingleEvent.etl", 22000, 12, 8, 3, 2, 23,
	 {[PT_ETL_REC_SYSTEM64] = 4, [PT_ETL_REC_FULL64] = 18, [PT_ETL_REC_EVENT64] = 1}, 0,
	 "Relogger"},
	{"perfview_gcevents_PerfViewData.etl", 19045, 8, 8, 5, 0, 71,
	 {[PT_ETL_REC_SYSTEM64] = 2, [PT_ETL_REC_EVENT64] = 69}, 0, "PerfViewSession"},
	{"perfview_gcrundown_PerfViewData.clrRundown.etl", 19045, 8, 8, 2, 0, 112,
	 {[PT_ETL_REC_SYSTEM64] = 2, [PT_ETL_REC_EVENT64] = 110}, 0, "PerfViewSessionRundown"},
	{"perfview_net.4.5.2.x64.etl.gz", 9200, 8, 8, 360, 359, 179474,
	 {[PT_ETL_REC_SYSTEM32] = 2, [PT_ETL_REC_SYSTEM64] = 3189, [PT_ETL_REC_PERFINFO64] = 100157,
	  [PT_ETL_REC_FULL32] = 27, [PT_ETL_REC_FULL64] = 7956, [PT_ETL_REC_EVENT32] = 33378,
	  [PT_ETL_REC_EVENT64] = 34765},
	 0, "Relogger"},
	{"perfview_net.4.5.2.x86.etl.gz", 9200, 8, 8, 276, 275, 168298,
	 {[PT_ETL_REC_SYSTEM32] = 2, [PT_ETL_REC_SYSTEM64] = 4472, [PT_ETL_REC_PERFINFO64] = 115091,
	  [PT_ETL_REC_FULL32] = 73, [PT_ETL_REC_FULL64] = 8162, [PT_ETL_REC_EVENT32] = 39425,
	  [PT_ETL_REC_EVENT64] = 1073},
	 0, "Relogger"},
	{"perfview_primitive-types.etl", 19043, 8, 8, 2, 0, 7,
	 {[PT_ETL_REC_SYSTEM64] = 2, [PT_ETL_REC_EVENT64] = 5}, 0, "solar_system"},
	{"s4_SIH.20230422.034724.362.1.etl", 22621, 1, 8, 2, 0, 12,
	 {[PT_ETL_REC_SYSTEM64] = 2, [PT_ETL_REC_EVENT64] = 10}, 0, "SIH_trace_log"},
	{"s4_WindowsUpdate.20251008.140245.443.8.etl", 22631, 1, 8, 7, 0, 82,
	 {[PT_ETL_REC_SYSTEM64] = 2, [PT_ETL_REC_EVENT64] = 80}, 41, "WindowsUpdate_trace_log"},
	/* the header buffer's Offset reaches two records past SavedOffset */
	{"s4_waasmedic.20251005_113019_195.etl", 22631, 1, 8, 2, 0, 21,
	 {[PT_ETL_REC_SYSTEM64] = 2, [PT_ETL_REC_PERFINFO64] = 2, [PT_ETL_REC_EVENT64] = 17}, 0,
	 "ECCB175F-1EB2-43DA-BFB5-A8D58A40A4D7"},
};

static struct pt_reader *open_sample(const char *name, struct pt_tags *tags)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/sample-traces/etl/%s", PT_SOURCE_DIR, name);
	struct pt_reader *r = NULL;
	char err[512];
	int rc = pt_reader_open(&r, path, NULL, tags, NULL, err, sizeof(err));
	if (rc < 0)
		fail_msg("%s: %s", name, err);
	assert_string_equal(pt_reader_meta(r)->format, "etl");
	return r;
}

static void test_all_samples(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct expect *x = &samples[i];
		struct pt_tags *tags = pt_tags_new(0);
		struct pt_reader *r = open_sample(x->file, tags);
		struct pt_event ev;
		int rc;
		while ((rc = pt_reader_next(r, &ev)) > 0)
			;
		if (rc < 0)
			fail_msg("%s: %s", x->file, pt_reader_errmsg(r));
		const struct pt_trace_meta *m = pt_reader_meta(r);
		const struct pt_etl_stats *st = pt__etl_stats(r);
		assert_non_null(st);
		assert_int_equal(m->os_build, x->build);
		assert_int_equal(m->num_cpus, x->cpus);
		assert_int_equal(m->pointer_size, x->psize);
		assert_int_equal(m->clock, PT_CLOCK_QPC);
		assert_int_equal(m->perf_freq, 10000000);
		assert_true(m->has_start_time);
		assert_true(m->lost_known);
		assert_int_equal(m->events_lost, x->events_lost);
		assert_string_equal(m->logger, x->logger);
		assert_int_equal(st->buffers, x->buffers);
		assert_int_equal(st->buffers, st->buffers_written);
		assert_int_equal(st->buffers_compressed, x->compressed);
		assert_int_equal(st->records, x->records);
		for (int k = 0; k < PT_ETL_REC_COUNT_; k++)
			assert_int_equal(st->rec_by_type[k], x->by_type[k]);
		assert_int_equal(st->buffers_bad, 0);
		assert_int_equal(st->records_bad, 0);
		assert_int_equal(r->warnings, 0);
		/* no public sample has pool events: only stacks, images and marks come out */
		assert_int_equal(r->events, st->stacks + st->images + st->marks);
		pt_reader_free(r);
		pt_tags_free(tags);
	}
}

/* PerfView's gcevents.baseline.txt: first CLR event at 8,184.674 ms after the header event. */
static void test_gcevents_time_baseline(void **state)
{
	(void)state;
	static const uint8_t clr[16] = {0x23, 0x0d, 0x3c, 0xe1, 0xbc, 0xcc, 0x12, 0x4e,
					0x93, 0x1b, 0xd9, 0xcc, 0x2e, 0xee, 0x27, 0xe4};
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_reader *r = open_sample("perfview_gcevents_PerfViewData.etl", tags);
	struct pt_event ev;
	while (pt_reader_next(r, &ev) > 0)
		;
	const struct pt_etl_stats *st = pt__etl_stats(r);
	bool found = false;
	for (size_t i = 0; i < st->nguids; i++) {
		if (memcmp(st->guids[i].guid, clr, 16))
			continue;
		found = true;
		assert_int_equal(st->guids[i].records, 69);
		/* 8,184.674 ms, rounded to the microsecond as PerfView prints it */
		int64_t us = (st->guids[i].first_ns + 500) / 1000;
		assert_int_equal(us, 8184674);
	}
	assert_true(found);
	/* StartTime 2023-03-14 00:46:36.69... UTC (the baseline's header line) */
	const struct pt_trace_meta *m = pt_reader_meta(r);
	assert_int_equal(m->start_unix_ns / 1000000000, 1678754796);
	pt_reader_free(r);
	pt_tags_free(tags);
}

/* Kernel logger: group masks recorded, pool tracing off; kernel groups counted. */
static void test_kernel_groups(void **state)
{
	(void)state;
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_reader *r = open_sample("airbus_ShutdownPerfDiagLogger.etl", tags);
	struct pt_event ev;
	while (pt_reader_next(r, &ev) > 0)
		;
	const struct pt_etl_stats *st = pt__etl_stats(r);
	const struct pt_trace_meta *m = pt_reader_meta(r);
	assert_true(st->have_masks);
	assert_int_equal(m->pool_tracing, 0);
	assert_int_equal(st->by_group[0x00], 9);
	assert_int_equal(st->by_group[0x03], 328);
	assert_int_equal(st->by_group[0x05], 3058);
	assert_int_equal(st->by_group[0x14], 13683);
	assert_int_equal(st->streams, 2);
	pt_reader_free(r);
	pt_tags_free(tags);
}

/* Probing: a real header buffer scores high, zeros and a short head score 0. */
static void test_probe(void **state)
{
	(void)state;
	const struct pt_reader_ops *ops = pt_reader_find("etl");
	assert_non_null(ops);
	uint8_t junk[256];
	memset(junk, 0, sizeof(junk));
	assert_int_equal(ops->probe(junk, sizeof(junk)), 0);
	char path[1024];
	snprintf(path, sizeof(path), "%s/sample-traces/etl/s4_SIH.20230422.034724.362.1.etl",
		 PT_SOURCE_DIR);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t head[4096];
	size_t n = fread(head, 1, sizeof(head), f);
	fclose(f);
	assert_true(ops->probe(head, n) >= 90);
	assert_int_equal(ops->probe(head, 0x40), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_samples),
		cmocka_unit_test(test_gcevents_time_baseline),
		cmocka_unit_test(test_kernel_groups),
		cmocka_unit_test(test_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
