/* SPDX-License-Identifier: MIT */
/* Tags, input layer (plain, gzip, lines, limits), argument parsers, atomic outputs, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"

static void test_tags_intern(void **state)
{
	(void)state;
	struct pt_tags *t = pt_tags_new(0);
	pt_tag_id a, b, c, d;
	assert_int_equal(pt_tags_intern(t, "Leak", 4, &a), 0);
	assert_int_equal(pt_tags_intern_u32(t, 0x6b61654c, &b), 0); /* 'Leak' little-endian */
	assert_int_equal(a, b);
	assert_int_equal(pt_tags_intern_u32(t, 0x636F7250, &c), 0); /* 'Proc' */
	assert_int_not_equal(a, c);
	assert_int_equal(pt_tags_intern(t, "kmalloc-256", 11, &d), 0);
	assert_int_equal(pt_tags_count(t), 3);
	char buf[PT_TAG_DISPLAY_MAX];
	assert_string_equal(pt_tags_display(t, c, buf, sizeof(buf)), "Proc");
	assert_string_equal(pt_tags_hex(t, a, buf, sizeof(buf)), "4c65616b");
	assert_int_equal(pt_tags_intern(t, "", 0, &d), PT_EUSAGE);
	/* many tags: the index grows and every id stays stable */
	for (uint32_t i = 0; i < 20000; i++) {
		pt_tag_id x, y;
		assert_int_equal(pt_tags_intern_u32(t, 0x41000000u + i, &x), 0);
		assert_int_equal(pt_tags_intern_u32(t, 0x41000000u + i, &y), 0);
		assert_int_equal(x, y);
	}
	pt_tag_id again;
	assert_int_equal(pt_tags_intern(t, "Proc", 4, &again), 0);
	assert_int_equal(again, c);
	pt_tags_free(t);
	pt_tags_free(NULL);
}

static void test_tags_limit(void **state)
{
	(void)state;
	struct pt_tags *t = pt_tags_new(2);
	pt_tag_id x;
	assert_int_equal(pt_tags_intern(t, "a", 1, &x), 0);
	assert_int_equal(pt_tags_intern(t, "b", 1, &x), 0);
	assert_int_equal(pt_tags_intern(t, "c", 1, &x), PT_ELIMIT);
	assert_int_equal(pt_tags_intern(t, "a", 1, &x), 0);
	pt_tags_free(t);
}

static void test_tag_escape(void **state)
{
	(void)state;
	char buf[PT_TAG_DISPLAY_MAX];
	const uint8_t raw[] = {'A', 0x00, '\\', 0xff};
	assert_string_equal(pt_tag_escape(raw, 4, buf, sizeof(buf)), "A\\x00\\\\\\xff");
	uint8_t back[PT_TAG_MAX_LEN];
	assert_int_equal(pt_tag_unescape(buf, back, sizeof(back)), 4);
	assert_memory_equal(back, raw, 4);
	assert_int_equal(pt_tag_unescape("", back, sizeof(back)), PT_EUSAGE);
	/* escaping never overruns a small buffer */
	char small[5];
	pt_tag_escape(raw, 4, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
}

static void test_tag_match(void **state)
{
	(void)state;
	assert_true(pt_tag_match("Afd?", (const uint8_t *)"AfdX", 4));
	assert_false(pt_tag_match("Afd?", (const uint8_t *)"AfdXY", 5));
	assert_true(pt_tag_match("Acp*", (const uint8_t *)"AcpiX", 5));
	assert_true(pt_tag_match("*", (const uint8_t *)"Zzzz", 4));
	assert_true(pt_tag_match("Cc", (const uint8_t *)"Cc  ", 4));
	assert_false(pt_tag_match("cc", (const uint8_t *)"Cc  ", 4)); /* case-sensitive like PoolMon */
	assert_true(pt_tag_match("*-256", (const uint8_t *)"kmalloc-256", 11));
}

static void test_pool_types(void **state)
{
	(void)state;
	uint32_t fl;
	assert_int_equal(pt_pool_from_windows(0, &fl), PT_POOL_NONPAGED);
	assert_int_equal(fl, 0);
	assert_int_equal(pt_pool_from_windows(1, NULL), PT_POOL_PAGED);
	assert_int_equal(pt_pool_from_windows(512, NULL), PT_POOL_NONPAGED_NX);
	assert_int_equal(pt_pool_from_windows(33, NULL), PT_POOL_PAGED_SESSION);
	assert_int_equal(pt_pool_from_windows(544, NULL), PT_POOL_NONPAGED_SESSION_NX);
	assert_int_equal(pt_pool_from_windows(0x10000001, &fl), PT_POOL_PAGED);
	assert_int_equal(fl, PT_POOLF_BIG);
	assert_int_equal(pt_pool_from_windows(7, NULL), PT_POOL_OTHER);
	assert_true(pt_pool_is_paged(PT_POOL_PAGED_SESSION));
	assert_false(pt_pool_is_paged(PT_POOL_NONPAGED_NX));
	enum pt_pool p;
	assert_int_equal(pt_pool_parse("Paged", &p), 0);
	assert_int_equal(p, PT_POOL_PAGED);
	assert_int_equal(pt_pool_parse("session_nonpaged", &p), 0);
	assert_int_equal(p, PT_POOL_NONPAGED_SESSION);
	assert_int_equal(pt_pool_parse("bogus", &p), PT_EUSAGE);
}

static void test_input_plain_lines(void **state)
{
	(void)state;
	const char text[] = "one\r\ntwo\n\nlast-no-newline";
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, text, strlen(text), "mem"), 0);
	assert_false(pt_input_is_gzip(in));
	size_t got;
	const uint8_t *p = pt_input_peek(in, 3, &got);
	assert_int_equal(got, 3);
	assert_memory_equal(p, "one", 3);
	char *line;
	size_t len;
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 1);
	assert_string_equal(line, "one");
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 1);
	assert_string_equal(line, "two");
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 1);
	assert_int_equal(len, 0);
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 1);
	assert_string_equal(line, "last-no-newline");
	assert_int_equal(pt_input_lineno(in), 4);
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 0);
	pt_input_free(in);
}

static void test_input_line_limit(void **state)
{
	(void)state;
	size_t n = 5000;
	char *big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\n';
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, big, n + 1, "big"), 0);
	char *line;
	size_t len;
	assert_int_equal(pt_input_getline(in, &line, &len, 1000), PT_ELIMIT);
	assert_non_null(strstr(pt_input_error(in), "longer than"));
	pt_input_free(in);
	free(big);
}

static unsigned char *gzip_mem(const void *data, size_t len, size_t *outlen)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	size_t cap = deflateBound(&zs, (uLong)len) + 64;
	unsigned char *out = malloc(cap);
	zs.next_in = (unsigned char *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static void test_input_gzip(void **state)
{
	(void)state;
	/* 3 MiB of lines: crosses the internal buffer size several times */
	size_t n = 3u << 20;
	char *plain = malloc(n);
	for (size_t i = 0; i < n; i++)
		plain[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	size_t glen;
	unsigned char *gz = gzip_mem(plain, n, &glen);
	/* two members back to back, as `cat a.gz b.gz` makes */
	unsigned char *two = malloc(glen * 2);
	memcpy(two, gz, glen);
	memcpy(two + glen, gz, glen);
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, two, glen * 2, "two.gz"), 0);
	assert_true(pt_input_is_gzip(in));
	char *buf = malloc(n * 2 + 10);
	ssize_t r = pt_input_read_full(in, buf, n * 2 + 10);
	assert_int_equal(r, (ssize_t)(n * 2));
	assert_memory_equal(buf, plain, n);
	assert_memory_equal(buf + n, plain, n);
	pt_input_free(in);

	/* truncated gzip: everything that inflates is read, then the end is reported, not silent */
	assert_int_equal(pt_input_open_memory(&in, gz, glen / 2, "cut.gz"), 0);
	assert_null(pt_input_cut_short(in));
	r = pt_input_read_full(in, buf, n);
	assert_true(r > 0 && (size_t)r < n);
	assert_memory_equal(buf, plain, (size_t)r);
	const char *cut = pt_input_cut_short(in);
	assert_non_null(cut);
	char want[96];
	snprintf(want, sizeof(want), "cut.gz: compressed data cut short at offset %zu;", glen / 2);
	assert_non_null(strstr(cut, want));
	assert_string_equal(pt_input_error(in), "");
	pt_input_free(in);
	/* a whole stream is not cut short */
	assert_int_equal(pt_input_open_memory(&in, gz, glen, "whole.gz"), 0);
	assert_int_equal(pt_input_read_full(in, buf, n + 1), (ssize_t)n);
	assert_null(pt_input_cut_short(in));
	pt_input_free(in);

	/* corrupt gzip */
	unsigned char *bad = malloc(glen);
	memcpy(bad, gz, glen);
	memset(bad + 20, 0xAA, 40);
	assert_int_equal(pt_input_open_memory(&in, bad, glen, "bad.gz"), 0);
	r = pt_input_read_full(in, buf, n);
	assert_int_equal(r, PT_EGZIP);
	assert_non_null(strstr(pt_input_error(in), "bad.gz: corrupt gzip data at offset "));
	pt_input_free(in);

	free(bad);
	free(buf);
	free(two);
	free(gz);
	free(plain);
}

/* Reads of a plain file in mixed sizes, with peeks between: the bytes and offsets stay right. */
static void test_input_mixed_reads(void **state)
{
	(void)state;
	size_t n = (5u << 20) + 12345;
	uint8_t *data = malloc(n);
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	const char *path = PT_BINARY_DIR "/direct-reads.bin";
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	static const size_t sizes[] = {72, 65536 - 72, 65536, 100, (1u << 20) + 3, 40000, 1, 300000};
	uint8_t *buf = malloc(1u << 21);
	assert_non_null(buf);
	struct pt_input *in;
	char err[256];
	assert_int_equal(pt_input_open(&in, path, err, sizeof(err)), 0);
	size_t pos = 0;
	for (size_t k = 0; pos < n; k++) {
		size_t want = sizes[k % (sizeof(sizes) / sizeof(sizes[0]))];
		if (k % 5 == 4) {
			size_t got;
			const uint8_t *p = pt_input_peek(in, 64, &got);
			assert_non_null(p);
			assert_true(got == 64 || got == n - pos);
			assert_memory_equal(p, data + pos, got);
		}
		ssize_t r = pt_input_read_full(in, buf, want);
		size_t expect = want < n - pos ? want : n - pos;
		assert_int_equal(r, (ssize_t)expect);
		assert_memory_equal(buf, data + pos, expect);
		pos += expect;
		assert_int_equal(pt_input_offset(in), pos);
	}
	assert_int_equal(pt_input_read(in, buf, 65536), 0);
	assert_int_equal(pt_input_read(in, buf, 10), 0);
	pt_input_free(in);
	unlink(path);
	free(buf);
	free(data);
}

static void test_input_file_errors(void **state)
{
	(void)state;
	struct pt_input *in;
	char err[256];
	assert_int_equal(pt_input_open(&in, "/nonexistent/trace.xml", err, sizeof(err)), PT_EOPEN);
	assert_non_null(strstr(err, "/nonexistent/trace.xml"));
	/* a folder is read as its files; an empty one is an error */
	const char *empty = PT_BINARY_DIR "/empty-input-dir";
	rmdir(empty);
	assert_int_equal(mkdir(empty, 0755), 0);
	assert_int_equal(pt_input_open(&in, empty, err, sizeof(err)), PT_EOPEN);
	assert_non_null(strstr(err, "directory"));
	rmdir(empty);
}

static void test_parse_duration(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(pt_parse_duration("90", &v), 0);
	assert_int_equal(v, 90000000000ull);
	assert_int_equal(pt_parse_duration("1.5s", &v), 0);
	assert_int_equal(v, 1500000000ull);
	assert_int_equal(pt_parse_duration("30m", &v), 0);
	assert_int_equal(v, 1800000000000ull);
	assert_int_equal(pt_parse_duration("2h", &v), 0);
	assert_int_equal(v, 7200000000000ull);
	assert_int_equal(pt_parse_duration("250ms", &v), 0);
	assert_int_equal(v, 250000000ull);
	assert_int_equal(pt_parse_duration("100us", &v), 0);
	assert_int_equal(v, 100000ull);
	assert_int_equal(pt_parse_duration("-1", &v), PT_EUSAGE);
	assert_int_equal(pt_parse_duration("abc", &v), PT_EUSAGE);
	assert_int_equal(pt_parse_duration("10x", &v), PT_EUSAGE);
	assert_int_equal(pt_parse_duration("1e30", &v), PT_EUSAGE);
	assert_int_equal(pt_parse_duration("", &v), PT_EUSAGE);
	assert_int_equal(pt_parse_duration(NULL, &v), PT_EUSAGE);
}

static void test_parse_size(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(pt_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(pt_parse_size("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(pt_parse_size("1MiB", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(pt_parse_size("2G", &v), 0);
	assert_int_equal(v, 2147483648ull);
	assert_int_equal(pt_parse_size("1q", &v), PT_EUSAGE);
	assert_int_equal(pt_parse_size("-5", &v), PT_EUSAGE);
}

static void test_outfile_atomic(void **state)
{
	(void)state;
	char dir[] = "pt-out-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], err[256];
	snprintf(path, sizeof(path), "%s/report.txt", dir);
	FILE *f = fopen(path, "w");
	fputs("old contents\n", f);
	fclose(f);
	struct pt_outfile o;
	assert_int_equal(pt_outfile_open(&o, path, NULL, err, sizeof(err)), 0);
	fputs("new contents\n", o.fp);
	/* until commit the old file is untouched */
	char buf[64] = "";
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "old contents\n");
	assert_int_equal(pt_outfile_commit(&o, err, sizeof(err)), 0);
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "new contents\n");
	/* abort leaves the target as it was and no temporary behind */
	assert_int_equal(pt_outfile_open(&o, path, NULL, err, sizeof(err)), 0);
	fputs("discarded\n", o.fp);
	pt_outfile_abort(&o);
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "new contents\n");
	/* refuses to overwrite the input */
	assert_int_equal(pt_outfile_open(&o, path, path, err, sizeof(err)), PT_EUSAGE);
	assert_non_null(strstr(err, "input"));
	unlink(path);
	assert_int_equal(rmdir(dir), 0); /* empty: no temporary left */
}

static void test_errors(void **state)
{
	(void)state;
	assert_string_equal(pt_strerror(0), "success");
	assert_string_equal(pt_strerror(PT_EFORMAT), "malformed input");
	assert_string_equal(pt_err_name(PT_ENOMEM), "PT_ENOMEM");
	assert_string_equal(pt_strerror(12345), "unknown error");
	assert_true(PT_ENOMEM < 0 && PT_ESTATE < 0);
}

static void test_reader_unknown(void **state)
{
	(void)state;
	struct pt_tags *t = pt_tags_new(0);
	struct pt_input *in;
	const char junk[] = "this is not a trace\n";
	assert_int_equal(pt_input_open_memory(&in, junk, sizeof(junk) - 1, "junk.txt"), 0);
	struct pt_reader *r;
	char err[512];
	assert_int_equal(pt_reader_open_input(&r, in, NULL, t, NULL, err, sizeof(err)),
			 PT_EUNKNOWN_FORMAT);
	assert_non_null(strstr(err, "junk.txt"));
	assert_int_equal(pt_input_open_memory(&in, "", 0, "empty"), 0);
	assert_int_equal(pt_reader_open_input(&r, in, NULL, t, NULL, err, sizeof(err)),
			 PT_EUNKNOWN_FORMAT);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(pt_input_open_memory(&in, junk, 3, "x"), 0);
	assert_int_equal(pt_reader_open_input(&r, in, "no-such-format", t, NULL, err, sizeof(err)),
			 PT_EUSAGE);
	pt_tags_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags_intern),
		cmocka_unit_test(test_tags_limit),
		cmocka_unit_test(test_tag_escape),
		cmocka_unit_test(test_tag_match),
		cmocka_unit_test(test_pool_types),
		cmocka_unit_test(test_input_plain_lines),
		cmocka_unit_test(test_input_line_limit),
		cmocka_unit_test(test_input_gzip),
		cmocka_unit_test(test_input_mixed_reads),
		cmocka_unit_test(test_input_file_errors),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_outfile_atomic),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_reader_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
