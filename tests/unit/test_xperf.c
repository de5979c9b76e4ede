/* SPDX-License-Identifier: MIT */
/* xperf dumper text reader: header-driven column map, pool rows, marks, bad rows. */
#include "textreader_test.h"

/* Columns in an order unlike the sample, to prove nothing is positional. */
static const char dump[] =
	"C:\\traces\\pool.etl\n"
	"BeginHeader\n"
	"   UnknownEvent/Classic,  TimeStamp,     Process Name ( PID),   ThreadID, CPU,  EventGuid, Type, Level, Version, MofLength\n"
	"FirstReliableEventTimeStamp, TimeStamp\n"
	"              PoolAlloc,  TimeStamp,     Process Name ( PID),   ThreadID, CPU, PoolTag, Entry, NumberOfBytes, PoolType\n"
	"               PoolFree,  TimeStamp,     Process Name ( PID),   ThreadID, CPU, Entry, PoolType, PoolTag\n"
	"SessionPoolAllocation, TimeStamp, Process Name ( PID), ThreadID, CPU, Tag, Type, Size, Address, SessionId\n"
	"        PoolFreeSession, TimeStamp, Process Name ( PID), ThreadID, CPU, Tag, Type, VA, SessionId\n"
	"                   Mark,  TimeStamp,     Process Name ( PID),   ThreadID, Mark\n"
	"EndHeader\n"
	"      TraceMetadataLine, 1, 2, 3\n"
	"              PoolAlloc,       1000,       System (    4),        8,   0, Leak, 0xFFFFB20C41002400,    256, 512\n"
	"                  Stack,       1000,        8, ntoskrnl.exe!ExAllocatePool2, leaky.sys!Go\n"
	"                 Mark,       1500,     xperf.exe ( 6020),    6024, workload-end, phase 2\n"
	"               PoolFree,       2000, explorer.exe ( 3312),     1563,   2, 0xffffb20c41002400, 0, 0x6b61654c\n"
	"              PoolAlloc,       2500.5,  Idle (    0),        0,   1, Cc,   0x0000000041008000,   64, PagedPool\n"
	"SessionPoolAllocation, 3000, csrss.exe ( 600), 604, 3, Gh05, 33, 0x400, ffffb20c41009000, 1\n"
	"        PoolFreeSession, 3100, csrss.exe ( 600), 604, 3, Gh05, 33, ffffb20c41009000, 1\n"
	"               DiskRead,       3200,       System (    4),        8,   0, 1, 2, 3\n"
	"   UnknownEvent/Classic,       3300,       System (    4),        8,   0, {0268a8b6-74fd-4302-9dd0-6e8f1795c0cf}, 36, 0, 2, 24\n";

static void test_columns_from_header(void **state)
{
	(void)state;
	struct tr_run t;
	char buf[PT_TAG_DISPLAY_MAX];
	tr_run_str(&t, dump, NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "xperf-text");
	assert_int_equal(t.n, 6);

	struct pt_event *e = &t.evs[0].ev;
	assert_int_equal(e->kind, PT_EV_ALLOC);
	assert_int_equal(e->ts_ns, 1000000);
	assert_string_equal(tr_tag(&t, 0, buf, sizeof(buf)), "Leak");
	assert_int_equal(e->pool, PT_POOL_NONPAGED_NX);
	assert_int_equal(e->raw_pool_type, 512);
	assert_int_equal(e->size, 256);
	assert_int_equal(e->addr, 0xFFFFB20C41002400ull);
	assert_int_equal(e->pid, 4);
	assert_int_equal(e->tid, 8);
	assert_int_equal(e->cpu, 0);

	assert_int_equal(t.evs[1].ev.kind, PT_EV_MARKER);
	assert_int_equal(t.evs[1].ev.ts_ns, 1500000);
	/* the last column keeps its commas */
	assert_string_equal(t.evs[1].marker, "workload-end, phase 2");
	assert_int_equal(t.evs[1].ev.pid, 6020);

	e = &t.evs[2].ev;
	assert_int_equal(e->kind, PT_EV_FREE);
	assert_int_equal(e->addr, 0xFFFFB20C41002400ull);
	assert_int_equal(e->pool, PT_POOL_NONPAGED);
	/* the hex tag names the same interned tag as the 4 characters */
	assert_int_equal(e->tag, t.evs[0].ev.tag);

	e = &t.evs[3].ev;
	assert_int_equal(e->ts_ns, 2500500);
	assert_int_equal(e->pool, PT_POOL_PAGED);
	assert_string_equal(tr_tag(&t, 3, buf, sizeof(buf)), "Cc  ");
	assert_int_equal(e->pid, 0);

	e = &t.evs[4].ev;
	assert_int_equal(e->kind, PT_EV_SESSION_ALLOC);
	assert_int_equal(e->size, 1024);
	assert_int_equal(e->session_id, 1);
	assert_int_equal(e->pool, PT_POOL_PAGED_SESSION);
	assert_int_equal(e->addr, 0xffffb20c41009000ull);
	assert_int_equal(t.evs[5].ev.kind, PT_EV_SESSION_FREE);

	/* Stack, DiskRead (undeclared), UnknownEvent/Classic */
	assert_int_equal(t.r->skipped_other, 3);
	assert_int_equal(t.r->skipped_bad, 0);
	assert_int_equal(t.r->meta.pointer_size, 8);
	assert_string_equal(t.r->meta.format, "xperf-text");
	tr_free(&t);
}

static void test_sample_file(void **state)
{
	(void)state;
	struct tr_run t;
	char buf[PT_TAG_DISPLAY_MAX];
	tr_run_path(&t, PT_SOURCE_DIR "/sample-traces/xperf-pool.txt", NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "xperf-text");
	assert_int_equal(tr_count(&t, PT_EV_MARKER), 2);
	size_t leak_allocs = 0, leak_frees = 0;
	uint64_t last = 0;
	for (size_t i = 0; i < t.n; i++) {
		assert_true(t.evs[i].ev.ts_ns >= last);
		last = t.evs[i].ev.ts_ns;
		if (t.evs[i].ev.kind == PT_EV_MARKER)
			continue;
		if (!strcmp(tr_tag(&t, i, buf, sizeof(buf)), "Leak")) {
			leak_allocs += t.evs[i].ev.kind == PT_EV_ALLOC;
			leak_frees += t.evs[i].ev.kind == PT_EV_FREE;
		}
	}
	assert_true(leak_allocs > 100);
	assert_int_equal(leak_frees, 0);
	assert_true(tr_count(&t, PT_EV_SESSION_ALLOC) > 0);
	assert_int_equal(t.r->skipped_bad, 0);
	assert_true(t.r->skipped_other > 0);
	tr_free(&t);
}

static const char bad_rows[] =
	"BeginHeader\n"
	"PoolAlloc, TimeStamp, Process Name ( PID), ThreadID, CPU, Type, Tag, Size, Entry\n"
	"EndHeader\n"
	"meta\n"
	"PoolAlloc, 10, System (4), 8, 0, 0, Leak, 64, 0x1000\n"
	"PoolAlloc, 2x0, System (4), 8, 0, 0, Leak, 64, 0x2000\n"
	"PoolAlloc, 30, System (4), 8, 0, 0, TooLongTag, 64, 0x3000\n"
	"PoolAlloc, 40, System (4), 8, 0, 0, Leak\n"
	"PoolAlloc, 50, System (4), 8, 0, Weird, Leak, 64, 0x5000\n"
	"PoolAlloc, 60, System (4), 8, 0, 1, Leak, 64, 0x6000\n";

static void test_bad_rows(void **state)
{
	(void)state;
	struct tr_run t;
	tr_run_str(&t, bad_rows, "xperf-text", NULL);
	assert_int_equal(t.rc, PT_EFORMAT);
	assert_int_equal(t.n, 1);
	assert_non_null(strstr(t.err, "test.txt:6:"));
	assert_non_null(strstr(t.err, "TimeStamp"));
	tr_free(&t);

	struct pt_reader_opts o = {.keep_going = true};
	tr_run_str(&t, bad_rows, "xperf-text", &o);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.evs[1].ev.ts_ns, 60000);
	assert_int_equal(t.r->skipped_bad, 4);
	assert_int_equal(t.r->warnings, 4);
	tr_free(&t);
}

static void test_bad_header(void **state)
{
	(void)state;
	struct tr_run t;
	tr_run_str(&t, "BeginHeader\nPoolAlloc, TimeStamp, Type, Size, Entry\nEndHeader\n",
		   "xperf-text", NULL);
	assert_int_equal(t.rc, PT_EFORMAT);
	assert_non_null(strstr(t.err, "test.txt:2:"));
	assert_non_null(strstr(t.err, "Tag"));
	tr_free(&t);

	tr_run_str(&t, "BeginHeader\nPoolAlloc, TimeStamp, Tag, Type, Size\n", "xperf-text", NULL);
	assert_int_equal(t.rc, PT_EFORMAT);
	assert_non_null(strstr(t.err, "EndHeader"));
	tr_free(&t);

	tr_run_str(&t, "just some text\nand more\n", "xperf-text", NULL);
	assert_int_equal(t.rc, PT_EFORMAT);
	assert_non_null(strstr(t.err, "BeginHeader"));
	tr_free(&t);
}

static void test_crlf_and_gzip(void **state)
{
	(void)state;
	struct tr_run t;
	char *crlf = tr_crlf(dump);
	tr_run_str(&t, crlf, NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 6);
	assert_string_equal(t.evs[1].marker, "workload-end, phase 2");
	tr_free(&t);

	size_t zlen;
	unsigned char *gz = tr_gzip(crlf, &zlen);
	tr_run_mem(&t, gz, zlen, "dump.txt.gz", NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "xperf-text");
	assert_int_equal(t.n, 6);
	assert_int_equal(t.evs[5].ev.kind, PT_EV_SESSION_FREE);
	tr_free(&t);
	free(gz);
	free(crlf);
}

/* The line after EndHeader is a real row when it names a declared type. */
static void test_row_right_after_header(void **state)
{
	(void)state;
	struct tr_run t;
	tr_run_str(&t,
		   "BeginHeader\nPoolAlloc, TimeStamp, Tag, Type, Size, Entry\nEndHeader\n"
		   "PoolAlloc, 5, Abcd, 1, 16, 0x10\nPoolAlloc, 6, Abcd, 1, 16, 0x20",
		   "xperf-text", NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.evs[0].ev.addr, 0x10);
	assert_int_equal(t.evs[1].ev.addr, 0x20);
	tr_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns_from_header),
		cmocka_unit_test(test_sample_file),
		cmocka_unit_test(test_bad_rows),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_crlf_and_gzip),
		cmocka_unit_test(test_row_right_after_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
