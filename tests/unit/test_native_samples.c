/* SPDX-License-Identifier: MIT */
/*
 * Every sample trace under sample-traces/ that a reader accepts, written as a
 * native trace and read back, gives the identical event stream and metadata.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "pooltrace/native.h"
#include "pooltrace/pooltrace.h"

static int files_compared;

static void same_meta(const struct pt_trace_meta *a, const struct pt_trace_meta *b)
{
	assert_string_equal(a->os, b->os);
	assert_string_equal(a->host, b->host);
	assert_string_equal(a->logger, b->logger);
	assert_int_equal(a->os_build, b->os_build);
	assert_int_equal(a->pointer_size, b->pointer_size);
	assert_int_equal(a->num_cpus, b->num_cpus);
	assert_int_equal(a->clock, b->clock);
	assert_int_equal(a->perf_freq, b->perf_freq);
	assert_int_equal(a->has_start_time, b->has_start_time);
	if (a->has_start_time)
		assert_int_equal(a->start_unix_ns, b->start_unix_ns);
	assert_int_equal(a->end_ns, b->end_ns);
	assert_int_equal(a->lost_known, b->lost_known);
	assert_int_equal(a->events_lost, b->events_lost);
	assert_int_equal(a->buffers_lost, b->buffers_lost);
	assert_int_equal(a->snapshot_only, b->snapshot_only);
	assert_int_equal(a->pool_tracing, b->pool_tracing);
}

static void same_event(const struct pt_tags *ta, const struct pt_event *a,
		       const struct pt_tags *tb, const struct pt_event *b)
{
	assert_int_equal(a->ts_ns, b->ts_ns);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->pool, b->pool);
	assert_int_equal(a->pool_flags, b->pool_flags);
	assert_int_equal(a->raw_pool_type, b->raw_pool_type);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->addr, b->addr);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->tid, b->tid);
	assert_int_equal(a->cpu, b->cpu);
	assert_int_equal(a->session_id, b->session_id);
	assert_int_equal(a->snap_allocs, b->snap_allocs);
	assert_int_equal(a->snap_frees, b->snap_frees);
	assert_int_equal(a->stack_ts_ns, b->stack_ts_ns);
	uint32_t na = a->frames ? a->nframes : 0, nb = b->frames ? b->nframes : 0;
	assert_int_equal(na, nb);
	if (na)
		assert_memory_equal(a->frames, b->frames, na * sizeof(*a->frames));
	if (a->tag == PT_TAG_NONE) {
		assert_int_equal(b->tag, PT_TAG_NONE);
	} else {
		size_t la, lb;
		const uint8_t *ba = pt_tags_bytes(ta, a->tag, &la);
		const uint8_t *bb = pt_tags_bytes(tb, b->tag, &lb);
		assert_non_null(bb);
		assert_int_equal(la, lb);
		assert_memory_equal(ba, bb, la);
	}
	if (a->marker)
		assert_string_equal(a->marker, b->marker);
	else
		assert_null(b->marker);
}

static void check_file(const char *path)
{
	struct pt_reader_opts o = {.quiet = true};
	char err[512];
	struct pt_tags *t1 = pt_tags_new(0);
	struct pt_reader *r1;
	if (pt_reader_open(&r1, path, NULL, t1, &o, err, sizeof(err)) < 0) {
		pt_tags_free(t1); /* not a trace any reader takes */
		return;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	int rc = pt_native_copy(r1, fp, "test", "test", NULL, err, sizeof(err));
	fclose(fp);
	pt_reader_free(r1);
	pt_tags_free(t1);
	if (rc < 0) { /* a deliberately malformed fixture: nothing to compare */
		free(buf);
		return;
	}

	struct pt_tags *ta = pt_tags_new(0), *tb = pt_tags_new(0);
	struct pt_reader *a, *b;
	struct pt_input *in;
	assert_int_equal(pt_reader_open(&a, path, NULL, ta, &o, err, sizeof(err)), 0);
	assert_int_equal(pt_input_open_memory(&in, buf, len, "copy.ptz"), 0);
	assert_int_equal(pt_reader_open_input(&b, in, "native", tb, &o, err, sizeof(err)), 0);
	struct pt_event ea, eb;
	int ra, rb;
	uint64_t n = 0;
	for (;;) {
		ra = pt_reader_next(a, &ea);
		rb = pt_reader_next(b, &eb);
		if (ra != rb)
			fail_msg("%s: event %llu: original %d, copy %d (%s)", path,
				 (unsigned long long)n, ra, rb, pt_reader_errmsg(b));
		if (ra <= 0)
			break;
		same_event(ta, &ea, tb, &eb);
		n++;
	}
	assert_int_equal(ra, 0);
	same_meta(pt_reader_meta(a), pt_reader_meta(b));
	assert_int_equal(b->warnings, 0);
	pt_reader_free(a);
	pt_reader_free(b);
	pt_tags_free(ta);
	pt_tags_free(tb);
	free(buf);
	files_compared++;
}

static void walk(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d || depth > 4) {
		if (d)
			closedir(d);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			walk(path, depth + 1);
		else if (S_ISREG(st.st_mode))
			check_file(path);
	}
	closedir(d);
}

static void test_samples_round_trip(void **state)
{
	walk(PT_SOURCE_DIR "/sample-traces", 0);
	print_message("native round trip: %d sample traces compared\n", files_compared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
