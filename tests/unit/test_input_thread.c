/* SPDX-License-Identifier: MIT */
/*
 * Gzip inflated in a thread of its own (analyze/lib/input.c): the bytes
 * arrive whole and in order through reads, peeks and lines of odd sizes,
 * across the blocks of the ring; cut-short and damaged streams give the
 * same messages and offsets as inflating inline (POOLTRACE_THREADS=1);
 * closing the input early, or while a pipe is quiet, joins the thread.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"

bool pt__input_threaded(const struct pt_input *in);

#define CONTENT_LEN ((size_t)5 << 20)

static uint8_t *content;          /* what the gzip streams hold */
static uint8_t *gz;               /* two members, then zero padding */
static size_t gz_len;
static size_t member1_len;        /* compressed size of the first member */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void threads(bool on)
{
	setenv("POOLTRACE_THREADS", on ? "2" : "1", 1);
}

/* Lines of random letters (little to compress), a few of them longer than a block. */
static void make_content(void)
{
	content = malloc(CONTENT_LEN);
	assert_non_null(content);
	rng_state = 0x9e3779b97f4a7c15ull;
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<>";
	size_t i = 0;
	while (i < CONTENT_LEN) {
		uint32_t r = rnd();
		size_t len = r % 97 == 0 ? 70000 + r % 400000 : r % 300;
		for (size_t k = 0; k < len && i < CONTENT_LEN; k++)
			content[i++] = (uint8_t)alpha[rnd() % 64];
		if (i < CONTENT_LEN && r % 5 == 0)
			content[i++] = '\r';
		if (i < CONTENT_LEN)
			content[i++] = '\n';
	}
	content[CONTENT_LEN - 1] = 'z'; /* the last line has no newline */
}

static size_t deflate_into(uint8_t *out, size_t cap, const uint8_t *data, size_t len)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (uint8_t *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	size_t n = zs.total_out;
	deflateEnd(&zs);
	return n;
}

static int setup_all(void **state)
{
	(void)state;
	make_content();
	size_t split = CONTENT_LEN / 3 * 2 + 12345;
	size_t cap = compressBound((uLong)CONTENT_LEN) + 1024;
	gz = malloc(cap);
	assert_non_null(gz);
	member1_len = deflate_into(gz, cap, content, split);
	gz_len = member1_len + deflate_into(gz + member1_len, cap - member1_len, content + split,
					    CONTENT_LEN - split);
	memset(gz + gz_len, 0, 100); /* trailing zero padding is tolerated */
	gz_len += 100;
	/* both members large enough for the thread */
	assert_true(member1_len > (1u << 20) && gz_len - member1_len > (1u << 20));
	return 0;
}

static int teardown_all(void **state)
{
	(void)state;
	free(content);
	free(gz);
	unsetenv("POOLTRACE_THREADS");
	return 0;
}

/* The expected next line at off: its length without "\n"/"\r\n", and the bytes it takes. */
static void expect_line(size_t off, size_t total, size_t *len, size_t *used)
{
	const uint8_t *nl = memchr(content + off, '\n', total - off);
	size_t l = nl ? (size_t)(nl - (content + off)) : total - off;
	*used = nl ? l + 1 : l;
	if (l && content[off + l - 1] == '\r')
		l--;
	*len = l;
}

/* How read_mixed() checks what it reads. */
enum check {
	EXACT,   /* the stream holds content[0..total) exactly */
	PREFIX,  /* it holds a prefix of content[0..total) */
	SIZES,   /* bytes unknown (damaged data): sizes and offsets only */
};

/*
 * Read all of in with a mix of peeks, reads, full reads and lines of odd
 * sizes (fixed seed), checking the bytes against content[0..total).
 * @return: bytes read; *rc the negative return that stopped it, 0 at the end.
 */
static size_t read_mixed(struct pt_input *in, size_t total, enum check how, uint64_t seed,
			 int *rc)
{
	rng_state = seed;
	uint8_t *buf = malloc(1u << 20);
	assert_non_null(buf);
	size_t off = 0;
	uint64_t lines = 0, raw_prev = 0;
	bool at_end = false;
	*rc = 0;
	for (;;) {
		uint32_t r = rnd();
		size_t left = total - off;
		unsigned op = r % 4;
		if (how == SIZES && op == 3)
			op = 1; /* damaged data has lines of any length: no lines */
		switch (op) {
		case 0: {
			size_t want = rnd() % (PT_INPUT_PEEK_MAX + 5000), got;
			const uint8_t *p = pt_input_peek(in, want, &got);
			if (!p) {
				*rc = PT_EGZIP;
				goto out;
			}
			size_t w = want > PT_INPUT_PEEK_MAX ? PT_INPUT_PEEK_MAX : want;
			assert_true(got <= w);
			if (how == EXACT)
				assert_int_equal(got, w < left ? w : left);
			if (how != SIZES) {
				assert_true(got <= left);
				assert_memory_equal(p, content + off, got);
			}
			if (got == 0 && w > 0)
				goto out;
			break;
		}
		case 1: {
			size_t n = 1 + rnd() % (r % 3 ? 9000 : 900000);
			ssize_t got = pt_input_read(in, buf, n);
			if (got < 0) {
				*rc = (int)got;
				goto out;
			}
			if (got == 0)
				goto out;
			assert_true((size_t)got <= n);
			if (how != SIZES) {
				assert_true((size_t)got <= left);
				assert_memory_equal(buf, content + off, (size_t)got);
			}
			off += (size_t)got;
			break;
		}
		case 2: {
			size_t n = 1 + rnd() % 700000;
			ssize_t got = pt_input_read_full(in, buf, n);
			if (got < 0) {
				*rc = (int)got;
				goto out;
			}
			assert_true((size_t)got <= n);
			if (how == EXACT)
				assert_int_equal(got, n < left ? n : left);
			if (how != SIZES) {
				assert_true((size_t)got <= left);
				assert_memory_equal(buf, content + off, (size_t)got);
			}
			off += (size_t)got;
			if (got == 0)
				goto out;
			break;
		}
		default: {
			char *line;
			size_t len;
			int g = pt_input_getline(in, &line, &len, 1u << 20);
			if (g < 0) {
				*rc = g;
				goto out;
			}
			if (g == 0)
				goto out;
			assert_false(at_end);
			assert_int_equal(line[len], '\0');
			size_t used = (size_t)(pt_input_offset(in) - off);
			if (how != SIZES) {
				size_t l, u;
				expect_line(off, total, &l, &u);
				assert_memory_equal(line, content + off, len);
				if (how == PREFIX && len < l) {
					/* the last line of a cut stream ends where the data ends */
					assert_true(used == len || (used == len + 1 && content[off + len] == '\r'));
					at_end = true;
				} else {
					assert_int_equal(len, l);
					assert_int_equal(used, u);
				}
			}
			off += used;
			lines++;
			break;
		}
		}
		assert_int_equal(pt_input_offset(in), off);
		assert_int_equal(pt_input_lineno(in), lines);
		uint64_t raw = pt_input_raw_offset(in);
		assert_true(raw >= raw_prev);
		raw_prev = raw;
	}
out:
	/* a full read that fails keeps what it consumed before the failure */
	if (*rc == 0)
		assert_int_equal(pt_input_offset(in), off);
	free(buf);
	return (size_t)pt_input_offset(in);
}

static void test_order_memory(void **state)
{
	(void)state;
	for (int on = 1; on >= 0; on--) {
		threads(on);
		for (uint64_t seed = 1; seed <= 3; seed++) {
			struct pt_input *in;
			assert_int_equal(pt_input_open_memory(&in, gz, gz_len, "mem.gz"), 0);
			assert_true(pt_input_is_gzip(in));
			assert_int_equal(pt__input_threaded(in), on);
			int rc;
			size_t n = read_mixed(in, CONTENT_LEN, EXACT, seed * 0x2545f4914f6cdd1dull, &rc);
			assert_int_equal(rc, 0);
			assert_int_equal(n, CONTENT_LEN);
			assert_int_equal(pt_input_raw_offset(in), gz_len);
			assert_null(pt_input_cut_short(in));
			assert_string_equal(pt_input_error(in), "");
			/* the end stays the end */
			char c;
			assert_int_equal(pt_input_read(in, &c, 1), 0);
			pt_input_free(in);
		}
	}
}

static char *write_file(const char *name, const void *data, size_t len)
{
	char *path = malloc(1024);
	snprintf(path, 1024, "%s/%s", PT_BINARY_DIR, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* A file, and a chain of two files each with its own thread. */
static void test_order_files(void **state)
{
	(void)state;
	threads(true);
	char *a = write_file("input_thread_a.gz", gz, member1_len);
	char *b = write_file("input_thread_b.gz", gz + member1_len, gz_len - member1_len);
	char *whole = write_file("input_thread.gz", gz, gz_len);
	struct pt_input *in;
	char err[256];
	assert_int_equal(pt_input_open(&in, whole, err, sizeof(err)), 0);
	assert_true(pt__input_threaded(in));
	int rc;
	assert_int_equal(read_mixed(in, CONTENT_LEN, EXACT, 99, &rc), CONTENT_LEN);
	assert_int_equal(rc, 0);
	assert_int_equal(pt_input_raw_offset(in), gz_len);
	pt_input_free(in);

	const char *paths[2] = {a, b};
	assert_int_equal(pt_input_open_many(&in, paths, 2, err, sizeof(err)), 0);
	assert_true(pt__input_threaded(in));
	uint8_t *buf = malloc(CONTENT_LEN + 1);
	size_t off = 0;
	for (;;) {
		ssize_t r = pt_input_read(in, buf + off, 1 + (off * 7) % 70001);
		assert_true(r >= 0);
		if (r == 0)
			break;
		off += (size_t)r;
		assert_true(off <= CONTENT_LEN);
	}
	assert_int_equal(off, CONTENT_LEN);
	assert_memory_equal(buf, content, CONTENT_LEN);
	assert_int_equal(pt_input_file_index(in), 1);
	assert_true(pt__input_threaded(in));
	assert_null(pt_input_cut_short(in));
	pt_input_free(in);
	free(buf);
	unlink(a);
	unlink(b);
	unlink(whole);
	free(a);
	free(b);
	free(whole);
}

struct outcome {
	size_t bytes;
	int rc;
	char err[300];
	char cut[300];
	uint64_t raw;
};

static void read_outcome(const uint8_t *data, size_t len, bool on, size_t total, enum check how,
			 uint64_t seed, struct outcome *o)
{
	threads(on);
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, data, len, "x.gz"), 0);
	assert_int_equal(pt__input_threaded(in), on);
	o->bytes = read_mixed(in, total, how, seed, &o->rc);
	snprintf(o->err, sizeof(o->err), "%s", pt_input_error(in));
	const char *cut = pt_input_cut_short(in);
	snprintf(o->cut, sizeof(o->cut), "%s", cut ? cut : "");
	o->raw = pt_input_raw_offset(in);
	/* after an error, the same error again */
	if (o->rc < 0) {
		char c;
		assert_int_equal(pt_input_read(in, &c, 1), o->rc);
		assert_string_equal(pt_input_error(in), o->err);
	}
	pt_input_free(in);
}

/* Cut short in the first member, in the second, and just after the first. */
static void test_cut_short(void **state)
{
	(void)state;
	size_t cuts[] = {member1_len / 2 + 3, member1_len, member1_len + 20000, gz_len - 200};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct outcome t, s;
		/* the bytes a cut stream holds: what inflating it inline gives */
		read_outcome(gz, cuts[i], false, CONTENT_LEN, PREFIX, 7, &s);
		read_outcome(gz, cuts[i], true, s.bytes, EXACT, 7, &t);
		assert_int_equal(t.rc, 0);
		assert_int_equal(s.rc, 0);
		assert_int_equal(t.bytes, s.bytes);
		assert_true(t.bytes < CONTENT_LEN);
		assert_string_equal(t.err, "");
		assert_int_equal(t.raw, s.raw);
		if (cuts[i] == member1_len) {
			/* a whole member and nothing after it is a whole stream */
			assert_string_equal(t.cut, "");
			assert_string_equal(s.cut, "");
			continue;
		}
		char want[200];
		snprintf(want, sizeof(want),
			 "x.gz: compressed data cut short at offset %zu; read up to there", cuts[i]);
		assert_string_equal(t.cut, want);
		assert_string_equal(s.cut, want);
	}
}

/* Damage in the deflate data of either member and in a member's checksum. */
static void test_corrupt(void **state)
{
	(void)state;
	uint8_t *bad = malloc(gz_len);
	size_t at[] = {member1_len / 2, member1_len + 300000, member1_len - 8};
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		memcpy(bad, gz, gz_len);
		memset(bad + at[i], 0xAA, 4);
		struct outcome t, s;
		read_outcome(bad, gz_len, false, CONTENT_LEN, SIZES, 11, &s);
		read_outcome(bad, gz_len, true, CONTENT_LEN, SIZES, 11, &t);
		assert_int_equal(s.rc, PT_EGZIP);
		assert_int_equal(t.rc, PT_EGZIP);
		/* the bytes of the inflate() call that fails are not given out: so
		 * many bytes come before the error as the output is cut into calls */
		assert_true(t.bytes < CONTENT_LEN && s.bytes < CONTENT_LEN);
		assert_int_equal(t.raw, s.raw);
		assert_non_null(strstr(t.err, "x.gz: corrupt gzip data at offset "));
		assert_string_equal(t.err, s.err);
		assert_string_equal(t.cut, "");
		if (at[i] == member1_len - 8)
			assert_non_null(strstr(t.err, "the member from offset 0 is damaged"));
	}
	free(bad);
}

/* Close at any point: nothing read, a little read, in the middle, after an error. */
static void test_early_close(void **state)
{
	(void)state;
	threads(true);
	uint8_t buf[4096];
	for (int k = 0; k < 4; k++) {
		struct pt_input *in;
		assert_int_equal(pt_input_open_memory(&in, gz, gz_len, "x.gz"), 0);
		assert_true(pt__input_threaded(in));
		if (k == 1)
			assert_int_equal(pt_input_read(in, buf, 10), 10);
		if (k == 2) {
			size_t got = 0;
			while (got < CONTENT_LEN / 2) {
				ssize_t r = pt_input_read_full(in, buf, sizeof(buf));
				assert_true(r > 0);
				got += (size_t)r;
			}
		}
		if (k == 3)
			nanosleep(&(struct timespec){0, 20000000}, NULL); /* the producer fills the ring and waits */
		pt_input_free(in);
	}
}

struct writer {
	int fd;
	size_t len;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool may_close;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	size_t off = 0;
	while (off < w->len) {
		ssize_t r = write(w->fd, gz + off, w->len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->may_close)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	close(w->fd);
	return NULL;
}

/* Standard input from a pipe: read through; and closed while the pipe stays quiet. */
static void test_pipe(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	alarm(60); /* a close that waits for the pipe would hang here */
	int saved = dup(0);
	assert_true(saved >= 0);
	for (int k = 0; k < 3; k++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		assert_int_equal(dup2(p[0], 0), 0);
		close(p[0]);
		struct writer w = {.fd = p[1], .len = k == 1 ? 300000 : gz_len, .may_close = k != 1};
		pthread_mutex_init(&w.mu, NULL);
		pthread_cond_init(&w.cv, NULL);
		pthread_t th;
		assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
		threads(k != 2);
		struct pt_input *in;
		char err[256];
		assert_int_equal(pt_input_open(&in, "-", err, sizeof(err)), 0);
		assert_int_equal(pt__input_threaded(in), k != 2);
		if (k == 1) {
			/* part of the stream came; the writer keeps the pipe open */
			uint8_t buf[1000];
			assert_int_equal(pt_input_read_full(in, buf, sizeof(buf)), (ssize_t)sizeof(buf));
			assert_memory_equal(buf, content, sizeof(buf));
			pt_input_free(in);
		} else {
			int rc;
			assert_int_equal(read_mixed(in, CONTENT_LEN, EXACT, 5, &rc), CONTENT_LEN);
			assert_int_equal(rc, 0);
			assert_null(pt_input_cut_short(in));
			pt_input_free(in);
		}
		pthread_mutex_lock(&w.mu);
		w.may_close = true;
		pthread_cond_signal(&w.cv);
		pthread_mutex_unlock(&w.mu);
		assert_int_equal(dup2(saved, 0), 0); /* closes the pipe: a writer still writing gets EPIPE */
		pthread_join(th, NULL);
		pthread_cond_destroy(&w.cv);
		pthread_mutex_destroy(&w.mu);
	}
	close(saved);
	alarm(0);
}

/* Small inputs are inflated inline. */
static void test_small_inline(void **state)
{
	(void)state;
	threads(true);
	uint8_t small[4096];
	size_t n = deflate_into(small, sizeof(small), (const uint8_t *)"hello\n", 6);
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, small, n, "s.gz"), 0);
	assert_false(pt__input_threaded(in));
	char *line;
	size_t len;
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 1);
	assert_string_equal(line, "hello");
	pt_input_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_memory),
		cmocka_unit_test(test_order_files),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_early_close),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_small_inline),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
