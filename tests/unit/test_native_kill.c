/* SPDX-License-Identifier: MIT */
/*
 * The native writer killed while it writes: a child process writes chunks of
 * a known content to a file and reports each chunk the writer has counted as
 * written; the parent kills it with SIGKILL at a random moment, then reads
 * the file back. Every read-back file must hold whole chunks only, at least
 * every chunk reported as written (at most one more: the kill can land
 * between the write and the report), each event exactly as written, and the
 * reader must warn that the file is cut short.
 *
 * Also: a failed write (a memory stream that is full) stops the writer, no
 * trailer follows, the errno is kept, and the file reads back with the chunks
 * written before; on /dev/full the header write fails at once with ENOSPC.
 *
 * PT_KILL_ITERATIONS (default 120) and PT_KILL_SEED (default: the time) change
 * the run; the seed is printed so that a failure can be replayed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"
#include "pooltrace/native.h"

#define PER_CHUNK 2000        /* events per chunk: the child flushes after each run */
#define MAX_CHUNKS 64         /* the child stops after this many */
#define TRACE PT_BINARY_DIR "/tests/native-kill.ptz"

static uint64_t seed_state;

static uint64_t rnd(void)
{
	seed_state ^= seed_state << 13;
	seed_state ^= seed_state >> 7;
	seed_state ^= seed_state << 17;
	return seed_state;
}

/* Event i of the stream: every field derived from i, so a reader can check it. */
static void make_event(pt_tag_id *ids, uint64_t i, struct pt_event *ev)
{
	pt_event_init(ev);
	ev->ts_ns = i * 1000 + (i * 7919) % 997;
	ev->kind = (i % 3) ? PT_EV_ALLOC : PT_EV_FREE;
	ev->tag = ids[i % 16];
	ev->pool = PT_POOL_SLAB;
	ev->size = ev->kind == PT_EV_ALLOC ? 16 + (i * 2654435761u) % 4096 : 0;
	/* addresses that compress badly, so a chunk takes many write() calls */
	ev->addr = 0xffff888000000000ull + ((i * 0x9e3779b97f4a7c15ull) >> 20) * 16;
	ev->pid = (uint32_t)(100 + i % 50);
	ev->cpu = (uint32_t)(i % 4);
}

static void intern_tags(struct pt_tags *tags, pt_tag_id *ids)
{
	for (int t = 0; t < 16; t++) {
		char name[16];
		snprintf(name, sizeof(name), "cache-%02d", t);
		if (pt_tags_intern(tags, name, strlen(name), &ids[t]) < 0)
			_exit(3);
	}
}

/*
 * Write the stream to fp: the header, then nchunks chunks. report_fd >= 0: one
 * byte after the header and one after each chunk (the child). bounds: the file
 * size after the header and after each chunk (may be NULL).
 * @return: 0, or the failing call's negative code.
 */
static int write_stream(FILE *fp, int nchunks, int report_fd, uint64_t *bounds,
			struct pt_native_writer **wout)
{
	static struct pt_tags *tags;
	static pt_tag_id ids[16];
	if (!tags) {
		tags = pt_tags_new(0); /* one table for the process, freed at exit by the system */
		if (!tags)
			return PT_ENOMEM;
		intern_tags(tags, ids);
	}
	struct pt_native_info info = {0};
	pt_trace_meta_init(&info.meta);
	info.tool = "test_native_kill";
	struct pt_native_writer *w;
	int rc = pt_native_writer_new(&w, fp, tags, &info);
	if (rc < 0)
		return rc;
	if (report_fd >= 0 && write(report_fd, "H", 1) != 1)
		return PT_EIO;
	if (bounds)
		bounds[0] = pt_native_writer_bytes(w);
	uint64_t i = 0;
	for (int c = 0; c < nchunks; c++) {
		for (int k = 0; k < PER_CHUNK; k++, i++) {
			struct pt_event ev;
			make_event(ids, i, &ev);
			if ((rc = pt_native_write_event(w, &ev)) < 0)
				goto out;
		}
		if ((rc = pt_native_writer_flush(w)) < 0)
			goto out;
		if (pt_native_writer_chunks(w) != (uint64_t)c + 1 ||
		    pt_native_writer_events_done(w) != i)
			return PT_ESTATE;
		if (bounds)
			bounds[c + 1] = pt_native_writer_bytes(w);
		if (report_fd >= 0 && write(report_fd, "C", 1) != 1)
			return PT_EIO;
	}
out:
	if (wout) {
		*wout = w; /* the caller checks and frees it */
		return rc;
	}
	pt_native_writer_free(w);
	return rc;
}

/* Self-kill mode: the child kills itself in its kill_at-th write() of at most 512 bytes,
 * after a random part of it. */
static int out_fd = -1;
static uint64_t kill_at, writes;

static ssize_t cookie_write(void *cookie, const char *b, size_t n)
{
	(void)cookie;
	size_t done = 0;
	while (done < n) {
		/* pieces of at most 512 bytes, one write() each */
		size_t piece = n - done > 512 ? 512 : n - done;
		if (++writes == kill_at) {
			size_t part = (size_t)(rnd() % (piece + 1));
			if (part && write(out_fd, b + done, part) < 0)
				_exit(3);
			kill(getpid(), SIGKILL);
		}
		ssize_t w = write(out_fd, b + done, piece);
		if (w <= 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)w;
	}
	return (ssize_t)n;
}

/* The child: chunk after chunk until killed (self_kill: by itself, inside a write). */
static void child_write(int report_fd, bool self_kill)
{
	static char buf[512];
	FILE *fp;
	if (self_kill) {
		out_fd = open(TRACE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		cookie_io_functions_t io = {.write = cookie_write};
		fp = out_fd >= 0 ? fopencookie(NULL, "w", io) : NULL;
	} else {
		fp = fopen(TRACE, "wb");
	}
	if (!fp)
		_exit(3);
	/* a small stdio buffer: a chunk takes many write() calls, so kills land inside one */
	setvbuf(fp, buf, _IOFBF, sizeof(buf));
	if (write_stream(fp, MAX_CHUNKS, report_fd, NULL, NULL) < 0)
		_exit(4);
	/* all chunks written before the parent's kill (a fast codec, a busy machine): wait for it */
	if (!self_kill)
		for (;;)
			pause();
	_exit(0);
}

/*
 * Read the trace back; check its events. Returns the number of events, or
 * UINT64_MAX when the file does not even hold a whole header (err says why).
 */
static uint64_t read_back(pt_tag_id *ids, uint64_t *warnings, bool *cut_short, char *err,
			  size_t errsz)
{
	struct pt_tags *tags = pt_tags_new(0);
	assert_non_null(tags);
	struct pt_reader_opts o = {.quiet = true};
	struct pt_reader *r;
	int rc = pt_reader_open(&r, TRACE, "native", tags, &o, err, errsz);
	if (rc < 0) {
		pt_tags_free(tags);
		return UINT64_MAX;
	}
	struct pt_event ev;
	uint64_t n = 0;
	while ((rc = pt_reader_next(r, &ev)) > 0) {
		struct pt_event want;
		make_event(ids, n, &want);
		size_t tl;
		const uint8_t *tb = pt_tags_bytes(tags, ev.tag, &tl);
		char tname[16];
		snprintf(tname, sizeof(tname), "cache-%02d", (int)(n % 16));
		if (ev.ts_ns != want.ts_ns || ev.kind != want.kind || ev.size != want.size ||
		    ev.addr != want.addr || ev.pid != want.pid || ev.cpu != want.cpu || !tb ||
		    tl != strlen(tname) || memcmp(tb, tname, tl))
			fail_msg("event %llu read back differs from the one written",
				 (unsigned long long)n);
		n++;
	}
	if (rc < 0)
		fail_msg("reading the killed writer's file: %s", pt_reader_errmsg(r));
	*warnings = r->warnings;
	*cut_short = r->cut_short;
	pt_reader_free(r);
	pt_tags_free(tags);
	return n;
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

static void test_sigkill_mid_write(void **state)
{
	(void)state;
	const char *e = getenv("PT_KILL_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL);
	seed_state = seed ? seed : 1;
	e = getenv("PT_KILL_ITERATIONS");
	int iters = e && atoi(e) > 0 ? atoi(e) : 120;
	printf("seed %llu, %d iterations (PT_KILL_SEED, PT_KILL_ITERATIONS)\n",
	       (unsigned long long)seed, iters);
	struct pt_tags *tags = pt_tags_new(0);
	pt_tag_id ids[16];
	assert_non_null(tags);
	intern_tags(tags, ids);
	/* where each chunk ends in the file, from the same stream written to memory */
	static uint64_t bounds[MAX_CHUNKS + 1];
	char *mbuf = NULL;
	size_t mlen = 0;
	FILE *mfp = open_memstream(&mbuf, &mlen);
	assert_non_null(mfp);
	assert_int_equal(write_stream(mfp, MAX_CHUNKS, -1, bounds, NULL), 0);
	fclose(mfp);
	free(mbuf);
	uint64_t total_chunks = 0, mid_chunk = 0, one_more = 0, partial_header = 0;
	for (int it = 0; it < iters; it++) {
		int pfd[2];
		assert_int_equal(pipe(pfd), 0);
		unlink(TRACE);
		/* every other run the child kills itself inside a write of the first 12 chunks */
		bool self_kill = it % 2;
		/* (after the header's writes: a file cut inside its header is no trace at all) */
		uint64_t header_writes = (bounds[0] + 511) / 512;
		kill_at = header_writes + 1 + rnd() % ((bounds[12] - bounds[0]) / 512 + 1);
		writes = 0;
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			child_write(pfd[1], self_kill);
		}
		close(pfd[1]);
		unsigned done = 0;
		bool header = false;
		char b;
		if (!self_kill) {
			/* wait for the header, then a random number of chunks, then a random pause */
			unsigned want = (unsigned)(rnd() % 12);
			assert_int_equal(read(pfd[0], &b, 1), 1);
			assert_int_equal(b, 'H');
			header = true;
			while (done < want && read(pfd[0], &b, 1) == 1)
				done++;
			sleep_us(rnd() % 3000);
			kill(pid, SIGKILL);
		} else {
			while (read(pfd[0], &b, 1) == 1) {
				done += b == 'C';
				header |= b == 'H';
			}
		}
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFSIGNALED(st))
			fail_msg("iteration %d: the writer ended before the kill (status %d)", it,
				 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		/* reports already sent are still in the pipe */
		while (read(pfd[0], &b, 1) == 1) {
			done += b == 'C';
			header |= b == 'H';
		}
		close(pfd[0]);

		uint64_t warnings;
		bool cut;
		char err[600] = "";
		uint64_t n = read_back(ids, &warnings, &cut, err, sizeof(err));
		if (n == UINT64_MAX) {
			/* killed inside the header write: nothing was recorded, and the reader says so */
			if (header || !strstr(err, "native header"))
				fail_msg("iteration %d: reading the killed writer's file: %s", it, err);
			partial_header++;
			continue;
		}
		if (n % PER_CHUNK)
			fail_msg("iteration %d: %llu events read back, not whole chunks of %d", it,
				 (unsigned long long)n, PER_CHUNK);
		uint64_t chunks = n / PER_CHUNK;
		if (chunks < done || chunks > (uint64_t)done + 1)
			fail_msg("iteration %d: %llu chunks read back, %u reported written", it,
				 (unsigned long long)chunks, done);
		if (!warnings || !cut)
			fail_msg("iteration %d: no cut-short warning", it);
		struct stat sb;
		assert_int_equal(stat(TRACE, &sb), 0);
		if ((uint64_t)sb.st_size < bounds[done])
			fail_msg("iteration %d: file of %lld bytes, but %u chunks (%llu bytes) were "
				 "reported written", it, (long long)sb.st_size, done,
				 (unsigned long long)bounds[done]);
		total_chunks += chunks;
		one_more += chunks > done;
		/* a tail that is not a whole chunk: the kill landed inside a chunk's writes */
		mid_chunk += (uint64_t)sb.st_size > bounds[chunks];
	}
	unlink(TRACE);
	pt_tags_free(tags);
	printf("%d kills: %llu chunks read back in all; %llu files with one more chunk than "
	       "reported, %llu with a partial chunk at the end, %llu with a partial header "
	       "(refused with a message)\n", iters, (unsigned long long)total_chunks,
	       (unsigned long long)one_more, (unsigned long long)mid_chunk,
	       (unsigned long long)partial_header);
}

/* A device that fills up: the writer stops, keeps ENOSPC, and writes no trailer. */
static void test_write_fails_when_full(void **state)
{
	(void)state;
	/* room for the header, two chunks and half of the third */
	static uint64_t bounds[4];
	char *mbuf = NULL;
	size_t mlen = 0;
	FILE *mfp = open_memstream(&mbuf, &mlen);
	assert_non_null(mfp);
	assert_int_equal(write_stream(mfp, 3, -1, bounds, NULL), 0);
	fclose(mfp);
	free(mbuf);
	size_t room = (size_t)(bounds[2] + (bounds[3] - bounds[2]) / 2);
	uint8_t *dev = calloc(1, room);
	assert_non_null(dev);
	FILE *fp = fmemopen(dev, room, "w");
	assert_non_null(fp);
	setvbuf(fp, NULL, _IONBF, 0);
	struct pt_native_writer *w = NULL;
	int rc = write_stream(fp, 3, -1, NULL, &w);
	assert_int_equal(rc, PT_EIO);
	assert_non_null(w);
	assert_true(pt_native_writer_errno(w) != 0); /* a memory stream says EIO */
	assert_int_equal(pt_native_writer_chunks(w), 2);
	assert_int_equal(pt_native_writer_events_done(w), 2 * PER_CHUNK);
	assert_int_equal(pt_native_writer_finish(w, NULL, NULL), PT_EIO);
	pt_native_writer_free(w);
	fclose(fp);
	/* read back: two whole chunks, cut short, no trailer */
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, dev, room, "full.ptz"), 0);
	struct pt_reader_opts o = {.quiet = true};
	struct pt_reader *r;
	char err[600];
	assert_int_equal(pt_reader_open_input(&r, in, "native", tags, &o, err, sizeof(err)), 0);
	struct pt_event ev;
	uint64_t n = 0;
	while ((rc = pt_reader_next(r, &ev)) > 0)
		n++;
	assert_int_equal(rc, 0);
	assert_int_equal(n, 2 * PER_CHUNK);
	assert_true(r->cut_short);
	pt_reader_free(r);
	pt_tags_free(tags);
	free(dev);

	/* a full disk from the start: the header is flushed at once, so it fails there */
	fp = fopen("/dev/full", "wb");
	if (!fp)
		return; /* no /dev/full on this system */
	errno = 0;
	rc = write_stream(fp, 1, -1, NULL, NULL);
	int e = errno;
	fclose(fp);
	assert_int_equal(rc, PT_EIO);
	assert_int_equal(e, ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_fails_when_full),
		cmocka_unit_test(test_sigkill_mid_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
