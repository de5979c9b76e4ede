/* SPDX-License-Identifier: MIT */
/* ftrace text reader: kernel field variants, trace-cmd report, markers, lost events, bad lines. */
#include "textreader_test.h"

static const char trace_new[] =
	"# tracer: nop\n"
	"#\n"
	"# entries-in-buffer/entries-written: 9/12   #P:8\n"
	"#\n"
	"#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
	"#              | |         |   |||||     |         |\n"
	"            bash-2211    [001] .....   100.000100: tracing_mark_write: workload-start\n"
	"       demo-load-4410    [002] d..1.   100.250000: kmem_cache_alloc: call_site=demo_submit+0x5c/0x1a0 [demo] ptr=00000000a1b2c3c0 name=demo_ctx_cache bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL node=-1 accounted=false\n"
	"            sshd-905     [000] ..s1.   100.300000: kmalloc: call_site=__alloc_skb+0x4e/0x1f0 ptr=000000006b0d5480 bytes_req=256 bytes_alloc=512 gfp_flags=GFP_ATOMIC|__GFP_NOWARN node=-1 accounted=false\n"
	"            sshd-905     [000] ..s1.   100.300500: sched_switch: prev_comm=sshd prev_pid=905 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120\n"
	"CPU:2 [LOST 123 EVENTS]\n"
	"          <idle>-0       [003] ..s1.   100.400000: kfree: call_site=kfree_skb_reason+0x5a/0x130 ptr=000000006b0d5480\n"
	"            sshd-905     [000] .....   100.410000: kfree: call_site=security_sk_free+0x1c/0x30 ptr=0000000000000000\n"
	"    kworker/u8:3-187     [001] .....   100.500000: kmem_cache_free: call_site=demo_complete+0x88/0x120 [demo] ptr=00000000a1b2c3c0 name=demo_ctx_cache\n"
	"            bash-2211    [001] .....   101.000000: tracing_mark_write: workload-end  \n";

static void test_trace_file(void **state)
{
	(void)state;
	struct tr_run t;
	char buf[PT_TAG_DISPLAY_MAX];
	tr_run_str(&t, trace_new, NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "ftrace");
	assert_int_equal(t.n, 7);

	assert_int_equal(t.evs[0].ev.kind, PT_EV_MARKER);
	assert_string_equal(t.evs[0].marker, "workload-start");
	assert_int_equal(t.evs[0].ev.ts_ns, 0);
	assert_int_equal(t.evs[0].ev.pid, 2211);
	assert_int_equal(t.evs[0].ev.cpu, 1);

	struct pt_event *e = &t.evs[1].ev;
	assert_int_equal(e->kind, PT_EV_ALLOC);
	assert_int_equal(e->pool, PT_POOL_SLAB);
	assert_string_equal(tr_tag(&t, 1, buf, sizeof(buf)), "demo_ctx_cache");
	assert_int_equal(e->size, 192);
	assert_int_equal(e->addr, 0xa1b2c3c0);
	assert_int_equal(e->ts_ns, 249900000);
	assert_int_equal(e->pid, 4410);
	assert_int_equal(e->cpu, 2);

	e = &t.evs[2].ev;
	assert_int_equal(e->pool, PT_POOL_KMALLOC);
	assert_string_equal(tr_tag(&t, 2, buf, sizeof(buf)), "__alloc_skb");
	assert_int_equal(e->size, 512);

	e = &t.evs[3].ev;
	assert_int_equal(e->kind, PT_EV_FREE);
	assert_int_equal(e->addr, 0x6b0d5480);
	assert_int_equal(e->tag, PT_TAG_NONE);
	assert_int_equal(e->pid, 0);

	/* NULL free: emitted with address 0 */
	assert_int_equal(t.evs[4].ev.kind, PT_EV_FREE);
	assert_int_equal(t.evs[4].ev.addr, 0);

	e = &t.evs[5].ev;
	assert_int_equal(e->kind, PT_EV_FREE);
	assert_int_equal(e->pool, PT_POOL_SLAB);
	assert_string_equal(tr_tag(&t, 5, buf, sizeof(buf)), "demo_ctx_cache");
	assert_int_equal(e->pid, 187);

	assert_string_equal(t.evs[6].marker, "workload-end");
	assert_int_equal(t.evs[6].ev.ts_ns, 999900000);

	assert_int_equal(t.r->skipped_other, 1);
	assert_true(t.r->meta.lost_known);
	assert_int_equal(t.r->meta.events_lost, 123 + 3);
	assert_int_equal(t.r->meta.num_cpus, 8);
	assert_int_equal(t.r->meta.pointer_size, 8);
	assert_string_equal(t.r->meta.os, "Linux");
	tr_free(&t);
}

/* Older kernels: raw hex call sites, ffff pointers, no flags column, no name= on cache events. */
static const char trace_old[] =
	"          <idle>-0     [000]  4380.358917: kmem_cache_alloc: call_site=ffffffff8155c8ae ptr=ffff88003c5e0000 bytes_req=232 bytes_alloc=256 gfp_flags=GFP_ATOMIC\n"
	"          <idle>-0     [000]  4380.358920: kmem_cache_alloc: call_site=sock_alloc_inode+0x1d/0xa0 ptr=ffff88003c5e0100 bytes_req=640 bytes_alloc=640 gfp_flags=GFP_KERNEL\n"
	"            bash-1021  [001]  4380.359000: kmalloc_node: call_site=ffffffff81234567 ptr=ffff88003d000000 bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL node=0\n"
	"            bash-1021  [001]  4380.359100: kmem_cache_free: call_site=ffffffff8155c9aa ptr=ffff88003c5e0000\n"
	"            bash-1021  [001]  4380.359200: kfree: call_site=ffffffff81234600 ptr=(null)\n";

static void test_old_kernel(void **state)
{
	(void)state;
	struct tr_run t;
	char buf[PT_TAG_DISPLAY_MAX];
	tr_run_str(&t, trace_old, NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "ftrace");
	assert_int_equal(t.n, 5);
	/* cache event without name=: the call site, raw hex stays hex text */
	assert_string_equal(tr_tag(&t, 0, buf, sizeof(buf)), "ffffffff8155c8ae");
	assert_int_equal(t.evs[0].ev.pool, PT_POOL_SLAB);
	assert_int_equal(t.evs[0].ev.addr, 0xffff88003c5e0000ull);
	assert_string_equal(tr_tag(&t, 1, buf, sizeof(buf)), "sock_alloc_inode");
	assert_int_equal(t.evs[2].ev.pool, PT_POOL_KMALLOC);
	assert_string_equal(tr_tag(&t, 2, buf, sizeof(buf)), "ffffffff81234567");
	assert_int_equal(t.evs[2].ev.size, 128);
	assert_int_equal(t.evs[3].ev.tag, PT_TAG_NONE);
	assert_int_equal(t.evs[4].ev.addr, 0);
	assert_int_equal(t.evs[4].ev.ts_ns, 283000);
	assert_false(t.r->meta.lost_known);
	tr_free(&t);
}

/* trace-cmd report: preamble, resolved "(func+off)" before raw fields, print events, tgid column. */
static const char tcmd[] =
	"version = 6\n"
	"CPU 3 is empty\n"
	"cpus=4\n"
	"            bash-1234  [002]  5678.123456: kmalloc:              (__alloc_skb+0x4e) call_site=ffffffff8155c8ae ptr=0xffff88003c5e0800 bytes_req=256 bytes_alloc=512 gfp_flags=GFP_KERNEL\n"
	"            bash-1234  [002]  5678.123460: print:                tracing_mark_write: workload-end\n"
	"            bash-1234  (   1230) [002]  5678.123470: kfree:                (skb_release_data+0x10c) call_site=ffffffff8155d01c ptr=0xffff88003c5e0800\n"
	"            bash-1234  [002]  5678.123480: print:                my_helper: not a marker\n";

static void test_trace_cmd(void **state)
{
	(void)state;
	struct tr_run t;
	char buf[PT_TAG_DISPLAY_MAX];
	tr_run_str(&t, tcmd, NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "ftrace");
	assert_int_equal(t.n, 3);
	assert_string_equal(tr_tag(&t, 0, buf, sizeof(buf)), "__alloc_skb");
	assert_int_equal(t.evs[0].ev.addr, 0xffff88003c5e0800ull);
	assert_int_equal(t.evs[1].ev.kind, PT_EV_MARKER);
	assert_string_equal(t.evs[1].marker, "workload-end");
	assert_int_equal(t.evs[2].ev.kind, PT_EV_FREE);
	assert_int_equal(t.evs[2].ev.pid, 1234);
	assert_int_equal(t.evs[2].ev.addr, 0xffff88003c5e0800ull);
	assert_int_equal(t.r->skipped_other, 1);
	assert_int_equal(t.r->meta.num_cpus, 4);
	tr_free(&t);
}

static const char bad[] =
	"# tracer: nop\n"
	"            bash-1  [000]  1.000000: kmalloc: call_site=a+0x1/0x2 ptr=0000000000001000 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL\n"
	"            bash-1  [000]  1.000001: kmalloc: call_site=a+0x1/0x2 ptr=zzzz bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL\n"
	"            bash-1  [000]  1.000002: kmalloc: call_site=a+0x1/0x2 ptr=0000000000002000 gfp_flags=GFP_KERNEL\n"
	"            bash-1  [000]  1.000003: kfree: call_site=a+0x1/0x2\n"
	"            bash-1  [000]  1.000004: kmalloc: call_site=a+0x1/0x2 ptr=0000000000003000 bytes_req=8 bytes_alloc=8x gfp_flags=GFP_KERNEL\n"
	"            bash-1  [000]  1.000005: kfree: call_site=a+0x1/0x2 ptr=0000000000001000\n"
	"            bash-1  [000]  1.000006: kmalloc: call_site=a+0x1/0x2 ptr=0000000000000000 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL\n"
	"this line was cut off by the pipe reader [00\n";

static void test_bad_lines(void **state)
{
	(void)state;
	struct tr_run t;
	tr_run_str(&t, bad, NULL, NULL);
	assert_int_equal(t.rc, PT_EFORMAT);
	assert_int_equal(t.n, 1);
	assert_non_null(strstr(t.err, "test.txt:3:"));
	assert_non_null(strstr(t.err, "ptr"));
	tr_free(&t);

	struct pt_reader_opts o = {.keep_going = true};
	tr_run_str(&t, bad, NULL, &o);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.evs[1].ev.kind, PT_EV_FREE);
	assert_int_equal(t.r->skipped_bad, 4);
	/* the failed allocation (ptr 0) is not an event */
	assert_int_equal(t.r->skipped_other, 1);
	/* 4 bad lines and the cut-off line */
	assert_int_equal(t.r->warnings, 5);
	tr_free(&t);
}

static void test_crlf_gzip_sample(void **state)
{
	(void)state;
	struct tr_run t;
	char *crlf = tr_crlf(trace_new);
	tr_run_str(&t, crlf, NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 7);
	assert_string_equal(t.evs[6].marker, "workload-end");
	tr_free(&t);
	free(crlf);

	char buf[PT_TAG_DISPLAY_MAX];
	tr_run_path(&t, PT_SOURCE_DIR "/sample-traces/ftrace-kmem.txt.gz", NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "ftrace");
	assert_int_equal(tr_count(&t, PT_EV_MARKER), 2);
	size_t demo_allocs = 0, null_frees = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (t.evs[i].ev.kind == PT_EV_ALLOC &&
		    !strcmp(tr_tag(&t, i, buf, sizeof(buf)), "demo_ctx_cache"))
			demo_allocs++;
		if (t.evs[i].ev.kind == PT_EV_FREE && t.evs[i].ev.addr == 0)
			null_frees++;
	}
	assert_true(demo_allocs > 100);
	assert_true(null_frees > 0);
	assert_int_equal(t.r->meta.events_lost, 37);
	assert_int_equal(t.r->skipped_bad, 0);
	assert_true(t.r->skipped_other > 0);
	assert_true(t.r->meta.end_ns > 30000000000ull);
	tr_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_file),
		cmocka_unit_test(test_old_kernel),
		cmocka_unit_test(test_trace_cmd),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_crlf_gzip_sample),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
