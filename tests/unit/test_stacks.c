/* SPDX-License-Identifier: MIT */
/*
 * Allocation stacks: joining stack events to pool events (late stacks,
 * unknown events, frees, mismatched threads, freed and re-used addresses),
 * live bytes by stack in the verdicts, the image map (kernel and process
 * images, zero-size, overlapping, huge), hostile frame counts, and stack and
 * image records in the native format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pooltrace/native.h"
#include "pooltrace/pooltrace.h"

#define NT 0xFFFFF80001000000ull
#define DRV 0xFFFFF80005000000ull

struct fx {
	struct pt_tags *tags;
	struct pt_replay *rp;
	pt_tag_id leak;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->tags = pt_tags_new(0);
	f->rp = pt_replay_new(f->tags, NULL);
	assert_non_null(f->rp);
	assert_int_equal(pt_tags_intern(f->tags, "Leak", 4, &f->leak), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	pt_replay_free(f->rp);
	pt_tags_free(f->tags);
	free(f);
}

static void pool(struct fx *f, enum pt_event_kind k, uint64_t ts, uint32_t tid, uint64_t size,
		 uint64_t addr)
{
	struct pt_event e;
	pt_event_init(&e);
	e.kind = k;
	e.ts_ns = ts;
	e.tag = f->leak;
	e.pool = PT_POOL_PAGED;
	e.size = size;
	e.addr = addr;
	e.tid = tid;
	e.pid = 4;
	assert_int_equal(pt_replay_event(f->rp, &e), 0);
}

static void stack(struct fx *f, uint64_t ts, uint64_t of_ts, uint32_t tid, uint32_t pid,
		  const uint64_t *frames, uint32_t n)
{
	struct pt_event e;
	pt_event_init(&e);
	e.kind = PT_EV_STACK;
	e.ts_ns = ts;
	e.stack_ts_ns = of_ts;
	e.tid = tid;
	e.pid = pid;
	e.frames = frames;
	e.nframes = n;
	assert_int_equal(pt_replay_event(f->rp, &e), 0);
}

static void image(struct fx *f, uint64_t base, uint64_t size, uint32_t pid, const char *path)
{
	struct pt_event e;
	pt_event_init(&e);
	e.kind = PT_EV_IMAGE;
	e.addr = base;
	e.size = size;
	e.pid = pid;
	e.marker = path;
	assert_int_equal(pt_replay_event(f->rp, &e), 0);
}

static const uint64_t path_a[] = {NT + 0x10, DRV + 0x100, DRV + 0x200};
static const uint64_t path_b[] = {NT + 0x10, DRV + 0x300};

static void test_join(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	image(f, NT, 0x100000, 0, "\\SystemRoot\\system32\\ntoskrnl.exe");
	image(f, DRV, 0x10000, 0, "\\SystemRoot\\system32\\drivers\\leaky.sys");
	/* a stack right after its allocation */
	pool(f, PT_EV_ALLOC, 100, 7, 64, 0x1000);
	stack(f, 101, 100, 7, 4, path_a, 3);
	/* a stack arriving after other threads' events */
	pool(f, PT_EV_ALLOC, 200, 8, 32, 0x2000);
	pool(f, PT_EV_ALLOC, 201, 9, 16, 0x3000);
	pool(f, PT_EV_ALLOC, 202, 9, 16, 0x3100);
	stack(f, 203, 200, 8, 4, path_b, 2);
	stack(f, 204, 201, 9, 4, path_a, 3);
	/* mismatched thread: not joined */
	stack(f, 205, 202, 10, 4, path_b, 2);
	/* a stack for no known event */
	stack(f, 206, 150, 7, 4, path_a, 3);
	/* a stack of a free: counted, not used */
	pool(f, PT_EV_ALLOC, 300, 7, 8, 0x4000);
	pool(f, PT_EV_FREE, 301, 7, 0, 0x4000);
	stack(f, 302, 301, 7, 4, path_a, 3);
	/* a stack of an allocation freed before the stack came */
	pool(f, PT_EV_ALLOC, 400, 7, 8, 0x5000);
	pool(f, PT_EV_FREE, 401, 7, 0, 0x5000);
	stack(f, 402, 400, 7, 4, path_a, 3);
	/* freed after its stack: its stack is forgotten; the address is re-used without a stack */
	pool(f, PT_EV_ALLOC, 500, 7, 8, 0x6000);
	stack(f, 501, 500, 7, 4, path_b, 2);
	pool(f, PT_EV_FREE, 502, 7, 0, 0x6000);
	pool(f, PT_EV_ALLOC, 503, 7, 8, 0x6000);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);

	const struct pt_replay_totals *t = pt_replay_totals(f->rp);
	assert_int_equal(t->stacks, 8);
	assert_int_equal(t->stacks_joined, 4);
	assert_int_equal(t->stacks_unmatched, 2);
	assert_int_equal(t->stacks_free, 1);
	assert_int_equal(t->stacks_not_live, 1);
	assert_int_equal(t->images, 2);
	assert_int_equal(t->events, 11); /* stacks and images are not pool events */
	assert_true(pt_replay_has_stacks(f->rp));
	assert_int_equal(pt_replay_nstacks(f->rp), 2); /* path_a and path_b, interned */

	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	/* live: 0x1000 (a, 64), 0x2000 (b, 32), 0x3000 (a, 16), 0x3100 and 0x6000 without */
	assert_int_equal(v[0].stacks_distinct, 2);
	assert_int_equal(v[0].nstacks, 2);
	assert_int_equal(v[0].stacks[0].bytes, 80);
	assert_int_equal(v[0].stacks[0].live, 2);
	assert_int_equal(v[0].stacks[1].bytes, 32);
	assert_int_equal(v[0].live_nostack, 2);
	assert_int_equal(v[0].bytes_nostack, 24);
	uint32_t n, pid;
	const uint64_t *fr = pt_replay_stack(f->rp, v[0].stacks[0].stack, &n, &pid);
	assert_int_equal(n, 3);
	assert_memory_equal(fr, path_a, sizeof(path_a));
	assert_int_equal(pid, PT_NONE32); /* kernel frames only: shared by all processes */
	char buf[128];
	assert_true(pt_replay_frame_name(f->rp, fr[1], pid, buf, sizeof(buf)));
	assert_string_equal(buf, "leaky.sys+0x100");
	assert_true(pt_replay_frame_name(f->rp, fr[0], pid, buf, sizeof(buf)));
	assert_string_equal(buf, "ntoskrnl.exe+0x10");
	assert_false(pt_replay_frame_name(f->rp, 0x1234, 4, buf, sizeof(buf)));
	assert_string_equal(buf, "0x1234");
	assert_null(pt_replay_stack(f->rp, 99, &n, &pid));
	assert_int_equal(n, 0);
	free(v);
	fx_free(f);
}

static void test_no_stacks_costs_nothing(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	pool(f, PT_EV_ALLOC, 100, 7, 64, 0x1000);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	assert_false(pt_replay_has_stacks(f->rp));
	assert_int_equal(pt_replay_nstacks(f->rp), 0);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	assert_int_equal(v[0].nstacks, 0);
	assert_int_equal(v[0].live_nostack, 0);
	char buf[32];
	assert_false(pt_replay_frame_name(f->rp, 0xABC, 4, buf, sizeof(buf)));
	assert_string_equal(buf, "0xabc");
	free(v);
	fx_free(f);
}

static void test_images(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	char buf[160];
	image(f, NT, 0x100000, 0, "\\SystemRoot\\system32\\ntoskrnl.exe");
	image(f, 0x10000000, 0, 0, "zero.sys");                    /* zero size: ignored */
	image(f, 0x400000, 0x10000, 100, "C:\\app\\one.exe");       /* process 100 */
	image(f, 0x400000, 0x10000, 200, "C:/other/two.exe");       /* same base, process 200 */
	image(f, 0x500000, 0x100000, 100, "outer.dll");             /* overlapping images */
	image(f, 0x510000, 0x1000, 100, "inner.dll");
	image(f, UINT64_MAX - 0x10, UINT64_MAX, 0, "top.sys");      /* size past the end */
	image(f, 0x600000, 0x1000, 100, "");                        /* no name */
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	const struct pt_replay *rp = f->rp;
	assert_true(pt_replay_frame_name(rp, NT + 0xFFFFF, 100, buf, sizeof(buf)));
	assert_string_equal(buf, "ntoskrnl.exe+0xfffff"); /* kernel images serve every process */
	assert_false(pt_replay_frame_name(rp, NT + 0x100000, 100, buf, sizeof(buf)));
	assert_false(pt_replay_frame_name(rp, 0x10000000, 0, buf, sizeof(buf)));
	assert_true(pt_replay_frame_name(rp, 0x400010, 100, buf, sizeof(buf)));
	assert_string_equal(buf, "one.exe+0x10");
	assert_true(pt_replay_frame_name(rp, 0x400010, 200, buf, sizeof(buf)));
	assert_string_equal(buf, "two.exe+0x10");
	assert_false(pt_replay_frame_name(rp, 0x400010, 300, buf, sizeof(buf)));
	assert_string_equal(buf, "0x400010");
	assert_true(pt_replay_frame_name(rp, 0x510010, 100, buf, sizeof(buf)));
	assert_string_equal(buf, "inner.dll+0x10");
	assert_true(pt_replay_frame_name(rp, 0x520000, 100, buf, sizeof(buf)));
	assert_string_equal(buf, "outer.dll+0x20000");
	assert_true(pt_replay_frame_name(rp, UINT64_MAX - 1, 7, buf, sizeof(buf)));
	assert_string_equal(buf, "top.sys+0xf");
	assert_true(pt_replay_frame_name(rp, 0x600001, 100, buf, sizeof(buf)));
	assert_string_equal(buf, "?+0x1");
	/* a tiny buffer is cut, never overrun */
	char tiny[4];
	pt_replay_frame_name(rp, 0x400010, 100, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), 3);
	fx_free(f);
}

static void test_hostile(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	/* many images, all overlapping the same range: lookups stay bounded */
	for (uint32_t i = 0; i < 70000; i++)
		image(f, 0x700000 + (i & 0xFF), 0x100000, 0, "same.sys");
	/* a stack with more frames than any reader passes on: cut */
	uint64_t *big = calloc(5000, sizeof(*big));
	assert_non_null(big);
	for (int i = 0; i < 5000; i++)
		big[i] = DRV + (uint64_t)i;
	pool(f, PT_EV_ALLOC, 100, 7, 64, 0x1000);
	stack(f, 101, 100, 7, 4, big, 5000);
	/* frames pointer NULL with a count: no frames */
	pool(f, PT_EV_ALLOC, 200, 7, 64, 0x2000);
	stack(f, 201, 200, 7, 4, NULL, 1000000);
	/* a second stack for the same allocation replaces the first */
	stack(f, 202, 200, 7, 4, path_b, 2);
	assert_int_equal(pt_replay_finish(f->rp, 0), 0);
	uint32_t n, pid;
	assert_non_null(pt_replay_stack(f->rp, 0, &n, &pid));
	assert_int_equal(n, PT_STACK_MAX_FRAMES);
	char buf[64];
	assert_true(pt_replay_frame_name(f->rp, 0x7000FF, 0, buf, sizeof(buf)));
	assert_int_equal(strncmp(buf, "same.sys+0x", 11), 0);
	struct pt_tag_verdict *v;
	assert_int_equal(pt_judge(f->rp, NULL, &v), 0);
	assert_int_equal(v[0].stacks_distinct, 2);
	assert_int_equal(v[0].live_nostack, 0);
	free(v);
	free(big);
	fx_free(f);
}

/* Stack and image events survive the native format (minor version 1). */
static void test_native_round_trip(void **state)
{
	(void)state;
	struct pt_tags *tags = pt_tags_new(0);
	char *buf = NULL;
	size_t blen = 0;
	FILE *fp = open_memstream(&buf, &blen);
	assert_non_null(fp);
	struct pt_native_info info = {0};
	pt_trace_meta_init(&info.meta);
	struct pt_native_writer *w;
	assert_int_equal(pt_native_writer_new(&w, fp, tags, &info), 0);
	uint64_t deep[300];
	for (int i = 0; i < 300; i++)
		deep[i] = (i & 1) ? DRV + (uint64_t)i * 16 : 0x7FF000000000ull - (uint64_t)i;
	struct pt_event e;
	pt_event_init(&e);
	e.kind = PT_EV_IMAGE;
	e.ts_ns = 5;
	e.addr = DRV;
	e.size = 0x10000;
	e.pid = 0;
	e.marker = "\\SystemRoot\\system32\\drivers\\leaky.sys";
	assert_int_equal(pt_native_write_event(w, &e), 0);
	pt_event_init(&e);
	e.kind = PT_EV_STACK;
	e.ts_ns = 10;
	e.stack_ts_ns = 7; /* before its own time, as ETW stacks are */
	e.pid = 4;
	e.tid = 8;
	e.frames = deep;
	e.nframes = 300; /* more than the format keeps */
	assert_int_equal(pt_native_write_event(w, &e), 0);
	e.ts_ns = 11;
	e.stack_ts_ns = 11;
	e.frames = NULL; /* an empty stack */
	e.nframes = 5;
	assert_int_equal(pt_native_write_event(w, &e), 0);
	assert_int_equal(pt_native_writer_finish(w, NULL, NULL), 0);
	pt_native_writer_free(w);
	fclose(fp);

	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, buf, blen, "mem.ptz"), 0);
	struct pt_reader *r;
	struct pt_reader_opts o = {.quiet = true};
	char err[256];
	assert_int_equal(pt_reader_open_input(&r, in, "native", tags, &o, err, sizeof(err)), 0);
	struct pt_event ev;
	assert_int_equal(pt_reader_next(r, &ev), 1);
	assert_int_equal(ev.kind, PT_EV_IMAGE);
	assert_int_equal(ev.addr, DRV);
	assert_int_equal(ev.size, 0x10000);
	assert_int_equal(ev.pid, 0);
	assert_string_equal(ev.marker, "\\SystemRoot\\system32\\drivers\\leaky.sys");
	assert_int_equal(pt_reader_next(r, &ev), 1);
	assert_int_equal(ev.kind, PT_EV_STACK);
	assert_int_equal(ev.ts_ns, 10);
	assert_int_equal(ev.stack_ts_ns, 7);
	assert_int_equal(ev.pid, 4);
	assert_int_equal(ev.tid, 8);
	assert_int_equal(ev.nframes, PT_STACK_MAX_FRAMES);
	assert_memory_equal(ev.frames, deep, PT_STACK_MAX_FRAMES * sizeof(*deep));
	assert_int_equal(pt_reader_next(r, &ev), 1);
	assert_int_equal(ev.kind, PT_EV_STACK);
	assert_int_equal(ev.stack_ts_ns, 11);
	assert_int_equal(ev.nframes, 0);
	assert_int_equal(pt_reader_next(r, &ev), 0);
	pt_reader_free(r);
	free(buf);
	pt_tags_free(tags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_no_stacks_costs_nothing),
		cmocka_unit_test(test_images),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_native_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
