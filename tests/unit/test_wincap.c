/* SPDX-License-Identifier: MIT */
/* The portable part of the Windows capture: ETW structures, pool tag snapshots, options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"
#include "pooltrace/native.h"
#include "wincap.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- group mask ---- */

static void test_groupmask(void **state)
{
	(void)state;
	struct pt_etw_groupmask gm;
	pt_etw_pool_groupmask(&gm);
	/* PERF_POOL 0x20000040: index 1, bit 0x40; process/thread/loader in Masks[0] */
	assert_int_equal(gm.masks[0], 0x7);
	assert_int_equal(gm.masks[1], 0x40);
	for (int i = 2; i < PT_PERF_NUM_MASKS; i++)
		assert_int_equal(gm.masks[i], 0);
	assert_true(pt_etw_groupmask_test(&gm, PT_PERF_POOL));
	assert_true(pt_etw_groupmask_test(&gm, PT_PERF_LOADER));
	/* PERF_POOLTRACE = PERF_MEMORY | PERF_POOL is not fully on */
	assert_false(pt_etw_groupmask_test(&gm, 0x20000041u));
	/* index 4 (e.g. PERF_OB_HANDLE 0x80000040) */
	pt_etw_groupmask_set(&gm, 0x80000040u);
	assert_int_equal(gm.masks[4], 0x40);

	uint8_t b[PT_PERF_GROUPMASK_SIZE];
	pt_etw_pool_groupmask(&gm);
	pt_etw_groupmask_encode(&gm, b);
	static const uint8_t want[PT_PERF_GROUPMASK_SIZE] = {7, 0, 0, 0, 0x40, 0, 0, 0};
	assert_memory_equal(b, want, sizeof(want));
}

/* ---- stack ids ---- */

static void test_stack_ids(void **state)
{
	(void)state;
	uint8_t b[200];
	memset(b, 0xAA, sizeof(b));
	size_t n = pt_etw_pool_stack_ids(b, sizeof(b));
	assert_int_equal(n, 4 * 24);
	/* {0268a8b6-74fd-4302-9dd0-6e8f1795c0cf} as stored in memory */
	static const uint8_t guid[16] = {0xb6, 0xa8, 0x68, 0x02, 0xfd, 0x74, 0x02, 0x43,
					 0x9d, 0xd0, 0x6e, 0x8f, 0x17, 0x95, 0xc0, 0xcf};
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = b + 24 * i;
		assert_memory_equal(e, guid, 16);
		assert_int_equal(e[16], 0x20 + i);
		for (int k = 17; k < 24; k++)
			assert_int_equal(e[k], 0);
	}
	assert_int_equal(b[96], 0xAA);
	assert_int_equal(pt_etw_pool_stack_ids(b, 95), 0);
}

/* ---- tag filter ---- */

static void test_tagfilter_parse(void **state)
{
	(void)state;
	struct pt_etw_tagfilter f;
	char err[256];
	assert_int_equal(pt_etw_tagfilter_parse(NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(pt_etw_tagfilter_parse("", &f, err, sizeof(err)), 0);
	assert_int_equal(f.n, 0);

	assert_int_equal(pt_etw_tagfilter_parse("Proc,Cc,Ab\\x00\\x00,x", &f, err, sizeof(err)),
			 0);
	assert_int_equal(f.n, 4);
	assert_int_equal(f.tags[0], 0x636F7250u); /* 'Proc' */
	assert_int_equal(f.tags[1], 0x20206343u); /* "Cc  " */
	assert_int_equal(f.tags[2], 0x00006241u); /* "Ab\0\0" */
	assert_int_equal(f.tags[3], 0x20202078u); /* "x   " */
	assert_memory_equal(f.bytes[1], "Cc  ", 4);

	static const char *const bad[] = {
		"Toolong",           /* more than 4 characters */
		"a,b,c,d,e",         /* more than 4 tags */
		"a,,b",              /* empty item */
		",a",                /* empty first */
		"a,",                /* empty last */
		"Ab*",               /* wildcard */
		"A?c",               /* wildcard */
		"Leak,Leak",         /* duplicate */
		"Cc,Cc  ",           /* duplicate after padding */
		"\\x41\\x42\\x43\\x44\\x45", /* 5 bytes after unescaping */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = '\0';
		assert_int_equal(pt_etw_tagfilter_parse(bad[i], &f, err, sizeof(err)), PT_EUSAGE);
		assert_true(strlen(err) > 0);
	}
	/* the message names the limit */
	pt_etw_tagfilter_parse("a,b,c,d,e", &f, err, sizeof(err));
	assert_non_null(strstr(err, "at most 4"));
	/* a very long item is refused without overflow */
	char longtag[300];
	memset(longtag, 'A', sizeof(longtag) - 1);
	longtag[sizeof(longtag) - 1] = '\0';
	assert_int_equal(pt_etw_tagfilter_parse(longtag, &f, err, sizeof(err)), PT_EUSAGE);
}

static void test_tagfilter_match(void **state)
{
	(void)state;
	struct pt_etw_tagfilter f;
	char err[256];
	assert_true(pt_etw_tagfilter_match(NULL, 0x1234));
	assert_int_equal(pt_etw_tagfilter_parse("Cc,Leak", &f, err, sizeof(err)), 0);
	assert_true(pt_etw_tagfilter_match(&f, 0x20206343u));  /* "Cc  " */
	assert_true(pt_etw_tagfilter_match(&f, 0x00006343u));  /* "Cc\0\0" */
	assert_true(pt_etw_tagfilter_match(&f, 0x6B61654Cu));  /* "Leak" */
	assert_false(pt_etw_tagfilter_match(&f, 0x20636343u)); /* "Ccc " */
	assert_false(pt_etw_tagfilter_match(&f, 0x636F7250u)); /* "Proc" */
}

static void test_tagfilter_info(void **state)
{
	(void)state;
	struct pt_etw_tagfilter f;
	char err[256];
	uint8_t b[64];
	assert_int_equal(pt_etw_tagfilter_parse("Proc,Leak", &f, err, sizeof(err)), 0);
	size_t n = pt_etw_tagfilter_info(&f, 0x1122334455667788ull, b, sizeof(b));
	assert_int_equal(n, 24);
	assert_int_equal(le32(b), 10); /* EventTracePoolTagFilterInformation */
	assert_int_equal(le32(b + 4), 0);
	assert_int_equal(le32(b + 8), 0x55667788u);
	assert_int_equal(le32(b + 12), 0x11223344u);
	assert_int_equal(le32(b + 16), 0x636F7250u);
	assert_int_equal(le32(b + 20), 0x6B61654Cu);
	assert_int_equal(pt_etw_tagfilter_info(&f, 1, b, 23), 0);
	struct pt_etw_tagfilter empty = {0};
	assert_int_equal(pt_etw_tagfilter_info(&empty, 1, b, sizeof(b)), 0);
}

/* ---- extension block ---- */

static void test_ext_build(void **state)
{
	(void)state;
	struct pt_etw_groupmask gm;
	struct pt_etw_tagfilter f;
	char err[256];
	uint8_t b[256];
	pt_etw_pool_groupmask(&gm);
	assert_int_equal(pt_etw_tagfilter_parse("Leak", &f, err, sizeof(err)), 0);
	static const uint16_t hooks[4] = {0x0E20, 0x0E21, 0x0E22, 0x0E23};

	/* group mask only */
	size_t n = pt_etw_ext_build(&gm, NULL, 0, NULL, b, sizeof(b));
	assert_int_equal(n, 4 * 10);
	assert_int_equal(le32(b), 10u | 1u << 16);
	assert_int_equal(le32(b + 4), 9u | 1u << 16);
	assert_int_equal(le32(b + 8), 7);
	assert_int_equal(le32(b + 12), 0x40);

	/* everything */
	n = pt_etw_ext_build(&gm, hooks, 4, &f, b, sizeof(b));
	size_t dw = 1 + 9 + 5 + 2;
	assert_int_equal(n, 4 * dw);
	assert_int_equal(le32(b), (uint32_t)dw | 3u << 16);
	const uint8_t *p = b + 4 + 36;
	assert_int_equal(le32(p), 5u | 3u << 16);
	for (int i = 0; i < 4; i++)
		assert_int_equal(le32(p + 4 + 4 * i), 0x0E20 + i);
	p += 20;
	assert_int_equal(le32(p), 2u | 4u << 16);
	assert_int_equal(le32(p + 4), 0x6B61654Cu);

	/* the total length agrees with the items */
	size_t sum = 4;
	p = b + 4;
	for (int i = 0; i < 3; i++) {
		uint32_t len = le32(p) & 0xFFFF;
		sum += 4 * len;
		p += 4 * len;
	}
	assert_int_equal(sum, n);

	assert_int_equal(pt_etw_ext_build(&gm, hooks, 4, &f, b, n - 1), 0);

	assert_int_equal(pt_etw_ext_enable_flags(0x1A0), 0x80FF01A0u);
	assert_int_equal(pt_etw_ext_enable_flags(0), 0);
	assert_int_equal(pt_etw_ext_enable_flags(0x10000), 0);
	assert_int_equal(pt_etw_ext_enable_flags(0x1A2), 0);
}

/* ---- mark ---- */

static void test_mark(void **state)
{
	(void)state;
	uint8_t b[2048];
	size_t n = pt_etw_mark_build("workload-start", b, sizeof(b));
	assert_int_equal(n, 4 + 14 + 1);
	assert_int_equal(le32(b), 0);
	assert_string_equal((const char *)b + 4, "workload-start");
	assert_int_equal(pt_etw_mark_build("abc", b, 7), 0);
	assert_int_equal(pt_etw_mark_build("abc", b, 8), 8);
	char big[3000];
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = pt_etw_mark_build(big, b, sizeof(b));
	assert_int_equal(n, 4 + PT_ETW_MAX_MARK + 1);
	assert_int_equal(b[n - 1], 0);
}

/* ---- SystemPoolTagInformation ---- */

struct entry {
	uint32_t tag, pa, pf;
	uint64_t pu;
	uint32_t na, nf;
	uint64_t nu;
};

/* Build a buffer as the kernel lays it out for a SIZE_T of ptr bytes. */
static size_t make_buf(uint8_t *b, size_t cap, unsigned ptr, const struct entry *e, size_t n)
{
	size_t off = ptr == 8 ? 8 : 4, esz = ptr == 8 ? 40 : 28;
	size_t len = off + n * esz;
	assert_true(len <= cap);
	memset(b, 0xCC, len); /* padding bytes must not matter */
	put32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = b + off + i * esz;
		put32(p, e[i].tag);
		put32(p + 4, e[i].pa);
		put32(p + 8, e[i].pf);
		if (ptr == 8) {
			put64(p + 16, e[i].pu);
			put32(p + 24, e[i].na);
			put32(p + 28, e[i].nf);
			put64(p + 32, e[i].nu);
		} else {
			put32(p + 12, (uint32_t)e[i].pu);
			put32(p + 16, e[i].na);
			put32(p + 20, e[i].nf);
			put32(p + 24, (uint32_t)e[i].nu);
		}
	}
	return len;
}

struct collect {
	struct pt_poolsnap_row rows[16];
	size_t n;
};

static int collect_fn(void *ctx, const struct pt_poolsnap_row *row)
{
	struct collect *c = ctx;
	if (c->n < 16)
		c->rows[c->n] = *row;
	c->n++;
	return 0;
}

static const struct entry sample[3] = {
	{0x636F7250u, 10, 4, 4096, 100, 90, 1ull << 33},
	{0x6B61654Cu, 0, 0, 0, 7, 2, 640},
	{0x20206343u, 0xFFFFFFFFu, 1, 123456789, 0, 0, 0},
};

static void test_decode(void **state)
{
	(void)state;
	uint8_t b[1024];
	char err[256];
	for (unsigned ptr = 4; ptr <= 8; ptr += 4) {
		size_t len = make_buf(b, sizeof(b), ptr, sample, 3);
		assert_int_equal(len, ptr == 8 ? 8 + 120 : 4 + 84);
		struct collect c = {0};
		assert_int_equal(pt_poolsnap_decode(b, len, ptr, collect_fn, &c, err, sizeof(err)),
				 0);
		assert_int_equal(c.n, 3);
		assert_int_equal(c.rows[0].tag, 0x636F7250u);
		assert_int_equal(c.rows[0].paged_allocs, 10);
		assert_int_equal(c.rows[0].paged_frees, 4);
		assert_int_equal(c.rows[0].paged_used, 4096);
		assert_int_equal(c.rows[0].nonpaged_allocs, 100);
		assert_int_equal(c.rows[0].nonpaged_frees, 90);
		/* a 32-bit SIZE_T cannot hold 2^33 */
		assert_int_equal(c.rows[0].nonpaged_used, ptr == 8 ? 1ull << 33 : 0);
		assert_int_equal(c.rows[2].paged_allocs, 0xFFFFFFFFu);
		assert_int_equal(c.rows[2].paged_used, 123456789);

		/* every shorter length is refused, never read past */
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			memcpy(copy, b, cut);
			struct collect c2 = {0};
			int rc = pt_poolsnap_decode(copy, cut, ptr, collect_fn, &c2, err, sizeof(err));
			assert_int_equal(rc, PT_ETRUNCATED);
			assert_int_equal(c2.n, 0);
			free(copy);
		}
		/* extra bytes after the entries are ignored */
		struct collect c3 = {0};
		assert_int_equal(pt_poolsnap_decode(b, len + 7 <= sizeof(b) ? len + 7 : len, ptr,
						    collect_fn, &c3, err, sizeof(err)),
				 0);
		assert_int_equal(c3.n, 3);
	}
	/* count 0 */
	put32(b, 0);
	struct collect c = {0};
	assert_int_equal(pt_poolsnap_decode(b, 4, 8, collect_fn, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 0);
	/* a huge count in a short buffer */
	put32(b, 0xFFFFFFFFu);
	assert_int_equal(pt_poolsnap_decode(b, 1024, 8, collect_fn, &c, err, sizeof(err)),
			 PT_ELIMIT);
	put32(b, 1000);
	assert_int_equal(pt_poolsnap_decode(b, 1024, 8, collect_fn, &c, err, sizeof(err)),
			 PT_ETRUNCATED);
	assert_non_null(strstr(err, "1000 entries"));
	/* bad pointer size, NULL buffer */
	assert_int_equal(pt_poolsnap_decode(b, 1024, 2, collect_fn, &c, err, sizeof(err)),
			 PT_EUSAGE);
	assert_int_equal(pt_poolsnap_decode(NULL, 0, 8, collect_fn, &c, err, sizeof(err)),
			 PT_ETRUNCATED);
	assert_int_equal(pt_poolsnap_entry_size(8), 40);
	assert_int_equal(pt_poolsnap_entry_size(4), 28);
	assert_int_equal(pt_poolsnap_array_offset(8), 8);
	assert_int_equal(pt_poolsnap_array_offset(4), 4);
}

static int stop_fn(void *ctx, const struct pt_poolsnap_row *row)
{
	(void)row;
	int *calls = ctx;
	return ++*calls == 2 ? PT_EIO : 0;
}

static void test_decode_callback_error(void **state)
{
	(void)state;
	uint8_t b[512];
	char err[256];
	int calls = 0;
	size_t len = make_buf(b, sizeof(b), 8, sample, 3);
	assert_int_equal(pt_poolsnap_decode(b, len, 8, stop_fn, &calls, err, sizeof(err)), PT_EIO);
	assert_int_equal(calls, 2);
}

/* ---- snapshot events ---- */

struct events {
	struct pt_event ev[64];
	size_t n;
};

static int ev_fn(void *ctx, const struct pt_event *ev)
{
	struct events *e = ctx;
	assert_true(e->n < 64);
	e->ev[e->n++] = *ev;
	return 0;
}

static const struct pt_event *find_ev(const struct events *e, struct pt_tags *tags,
				      const char *tag, enum pt_pool pool)
{
	for (size_t i = 0; i < e->n; i++) {
		size_t len;
		const uint8_t *b = pt_tags_bytes(tags, e->ev[i].tag, &len);
		if (len == 4 && !memcmp(b, tag, 4) && e->ev[i].pool == pool)
			return &e->ev[i];
	}
	return NULL;
}

static void test_emit(void **state)
{
	(void)state;
	uint8_t b[1024];
	char err[256];
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_poolsnap *s = pt_poolsnap_new(tags, NULL, PT_CAP_POOL_BOTH);
	assert_non_null(s);
	size_t len = make_buf(b, sizeof(b), 8, sample, 3);
	struct events e = {0};
	uint64_t rows = 0;
	assert_int_equal(pt_poolsnap_emit(s, b, len, 8, 5000, ev_fn, &e, &rows, err, sizeof(err)),
			 0);
	/* Proc: paged + nonpaged; Leak: nonpaged only; Cc: paged only */
	assert_int_equal(rows, 4);
	assert_int_equal(e.n, 4);
	const struct pt_event *p = find_ev(&e, tags, "Proc", PT_POOL_NONPAGED);
	assert_non_null(p);
	assert_int_equal(p->kind, PT_EV_SNAPSHOT);
	assert_int_equal(p->ts_ns, 5000);
	assert_int_equal(p->snap_allocs, 100);
	assert_int_equal(p->snap_frees, 90);
	assert_int_equal(p->size, 1ull << 33);
	assert_int_equal(p->raw_pool_type, 0);
	p = find_ev(&e, tags, "Proc", PT_POOL_PAGED);
	assert_non_null(p);
	assert_int_equal(p->raw_pool_type, 1);
	assert_null(find_ev(&e, tags, "Leak", PT_POOL_PAGED));
	assert_non_null(find_ev(&e, tags, "Leak", PT_POOL_NONPAGED));

	/* second sample: "Cc  " paged allocs wrap past 2^32 */
	struct entry next[1] = {{0x20206343u, 5, 2, 100, 0, 0, 0}};
	len = make_buf(b, sizeof(b), 8, next, 1);
	e.n = 0;
	assert_int_equal(pt_poolsnap_emit(s, b, len, 8, 6000, ev_fn, &e, &rows, err, sizeof(err)),
			 0);
	assert_int_equal(rows, 1);
	p = find_ev(&e, tags, "Cc  ", PT_POOL_PAGED);
	assert_non_null(p);
	assert_int_equal(p->snap_allocs, (1ull << 32) + 5);
	assert_int_equal(p->snap_frees, 2);
	pt_poolsnap_free(s);

	/* tag and pool filters */
	struct pt_etw_tagfilter f;
	assert_int_equal(pt_etw_tagfilter_parse("Proc,Cc", &f, err, sizeof(err)), 0);
	s = pt_poolsnap_new(tags, &f, PT_CAP_POOL_PAGED);
	len = make_buf(b, sizeof(b), 8, sample, 3);
	e.n = 0;
	assert_int_equal(pt_poolsnap_emit(s, b, len, 8, 1, ev_fn, &e, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows, 2);
	assert_non_null(find_ev(&e, tags, "Proc", PT_POOL_PAGED));
	assert_non_null(find_ev(&e, tags, "Cc  ", PT_POOL_PAGED));
	pt_poolsnap_free(s);

	/* errors come back with a message */
	s = pt_poolsnap_new(tags, NULL, PT_CAP_POOL_NONPAGED);
	err[0] = '\0';
	assert_int_equal(pt_poolsnap_emit(s, b, 3, 8, 1, ev_fn, &e, &rows, err, sizeof(err)),
			 PT_ETRUNCATED);
	assert_true(strlen(err) > 0);
	pt_poolsnap_free(s);
	pt_poolsnap_free(NULL);
	pt_tags_free(tags);
}

/* Many tags: the state table grows and keeps every counter. */
static int count_fn(void *ctx, const struct pt_event *ev)
{
	uint64_t *sum = ctx;
	*sum += ev->snap_allocs;
	return 0;
}

static void test_emit_grow(void **state)
{
	(void)state;
	enum { N = 3000 };
	struct entry *ent = calloc(N, sizeof(*ent));
	size_t cap = 8 + (size_t)N * 40;
	uint8_t *b = malloc(cap);
	char err[256];
	uint64_t want = 0;
	for (int i = 0; i < N; i++) {
		ent[i].tag = 0x41414141u + (uint32_t)i * 7;
		ent[i].na = (uint32_t)i + 1;
		ent[i].pa = 3;
		want += (uint64_t)i + 1 + 3;
	}
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_poolsnap *s = pt_poolsnap_new(tags, NULL, PT_CAP_POOL_BOTH);
	size_t len = make_buf(b, cap, 8, ent, N);
	for (int round = 0; round < 3; round++) {
		uint64_t rows = 0, sum = 0;
		assert_int_equal(pt_poolsnap_emit(s, b, len, 8, (uint64_t)round, count_fn, &sum,
						  &rows, err, sizeof(err)),
				 0);
		assert_int_equal(rows, 2 * N);
		assert_int_equal(sum, want);
	}
	assert_int_equal(pt_tags_count(tags), N);
	pt_poolsnap_free(s);
	pt_tags_free(tags);
	free(b);
	free(ent);
}

/* Snapshot rows written with the native writer read back intact. */
static void test_native_roundtrip(void **state)
{
	(void)state;
	char path[4096];
	snprintf(path, sizeof(path), "%s/test_wincap_snap.ptz", PT_BINARY_DIR);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_native_info info;
	memset(&info, 0, sizeof(info));
	pt_trace_meta_init(&info.meta);
	info.meta.snapshot_only = true;
	info.meta.pointer_size = 8;
	snprintf(info.meta.os, sizeof(info.meta.os), "Windows 10.0");
	info.source_format = "capture-windows";
	struct pt_native_writer *w = NULL;
	assert_int_equal(pt_native_writer_new(&w, fp, tags, &info), 0);
	struct pt_poolsnap *s = pt_poolsnap_new(tags, NULL, PT_CAP_POOL_BOTH);
	uint8_t b[512];
	char err[256];
	size_t len = make_buf(b, sizeof(b), 8, sample, 3);
	uint64_t rows;
	assert_int_equal(
		pt_poolsnap_emit(s, b, len, 8, 1000, pt_poolsnap_write_fn, w, &rows, err, sizeof(err)),
		0);
	assert_int_equal(rows, 4);
	assert_int_equal(pt_native_writer_finish(w, NULL, NULL), 0);
	pt_native_writer_free(w);
	fclose(fp);
	pt_poolsnap_free(s);

	struct pt_tags *t2 = pt_tags_new(0);
	struct pt_reader *r = NULL;
	assert_int_equal(pt_reader_open(&r, path, NULL, t2, NULL, err, sizeof(err)), 0);
	struct pt_event ev;
	int n = 0;
	bool saw_big = false;
	while (pt_reader_next(r, &ev) > 0) {
		assert_int_equal(ev.kind, PT_EV_SNAPSHOT);
		assert_int_equal(ev.ts_ns, 1000);
		if (ev.size == 1ull << 33) {
			saw_big = true;
			assert_int_equal(ev.pool, PT_POOL_NONPAGED);
			assert_int_equal(ev.snap_allocs, 100);
			assert_int_equal(ev.snap_frees, 90);
			size_t tl;
			const uint8_t *tb = pt_tags_bytes(t2, ev.tag, &tl);
			assert_int_equal(tl, 4);
			assert_memory_equal(tb, "Proc", 4);
		}
		n++;
	}
	assert_int_equal(n, 4);
	assert_true(saw_big);
	pt_reader_free(r);
	pt_tags_free(t2);
	pt_tags_free(tags);
	remove(path);
}

/*
 * A snapshot capture as the Windows program writes it (samples every second,
 * markers around the workload) is judged by the replay: the tag that grows
 * and stays is a leak, the one that grows and drains and the steady one are not.
 */
static void test_snapshot_capture_judged(void **state)
{
	(void)state;
	char path[4096], err[256];
	snprintf(path, sizeof(path), "%s/test_wincap_judge.ptz", PT_BINARY_DIR);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_native_info info;
	memset(&info, 0, sizeof(info));
	pt_trace_meta_init(&info.meta);
	info.meta.snapshot_only = true;
	info.source_format = "capture-windows";
	struct pt_native_writer *w = NULL;
	assert_int_equal(pt_native_writer_new(&w, fp, tags, &info), 0);
	struct pt_poolsnap *s = pt_poolsnap_new(tags, NULL, PT_CAP_POOL_BOTH);
	const uint64_t sec = 1000000000ull;
	uint8_t b[512];
	for (int i = 0; i <= 20; i++) {
		/* workload from sample 2 to sample 10, cool-down to sample 20 */
		uint32_t grown = (uint32_t)(i < 2 ? 0 : i > 10 ? 8 : i - 2);
		uint32_t tmp = i > 12 ? 0 : grown;
		struct entry e[3] = {
			{0x6B61654Cu, 0, 0, 0, 100 + grown * 16, 100, (uint64_t)grown * 65536}, /* Leak */
			{0x20706D54u, 50 + tmp, 50, (uint64_t)tmp * 32768, 0, 0, 0},          /* "Tmp " */
			{0x636F7250u, 0, 0, 0, 1000 + (uint32_t)i, 990 + (uint32_t)i, 4096},     /* Proc */
		};
		size_t len = make_buf(b, sizeof(b), 8, e, 3);
		uint64_t rows;
		assert_int_equal(pt_poolsnap_emit(s, b, len, 8, (uint64_t)i * sec,
						  pt_poolsnap_write_fn, w, &rows, err, sizeof(err)),
				 0);
		if (i == 2 || i == 10) {
			struct pt_event m;
			pt_event_init(&m);
			m.kind = PT_EV_MARKER;
			m.ts_ns = (uint64_t)i * sec + 1;
			m.marker = i == 2 ? "workload-start: leaky.exe" : "workload-end: exit status 0";
			assert_int_equal(pt_native_write_event(w, &m), 0);
		}
	}
	assert_int_equal(pt_native_writer_finish(w, NULL, NULL), 0);
	pt_native_writer_free(w);
	fclose(fp);
	pt_poolsnap_free(s);

	struct pt_tags *t2 = pt_tags_new(0);
	struct pt_reader *r = NULL;
	assert_int_equal(pt_reader_open(&r, path, NULL, t2, NULL, err, sizeof(err)), 0);
	struct pt_replay *rp = pt_replay_new(t2, NULL);
	assert_non_null(rp);
	assert_int_equal(pt_replay_run(rp, r, NULL, NULL), 0);
	const struct pt_phases *ph = pt_replay_phases(rp);
	assert_int_equal(ph->wstart_ns, 2 * sec + 1);
	assert_int_equal(ph->wend_ns, 10 * sec + 1);
	struct pt_verdict_opts vo;
	pt_verdict_opts_init(&vo);
	struct pt_tag_verdict *v = NULL;
	assert_int_equal(pt_judge(rp, &vo, &v), 0);
	size_t n;
	const struct pt_tagstat *st = pt_replay_stats(rp, &n);
	int seen = 0;
	for (size_t i = 0; i < n; i++) {
		size_t tl;
		const uint8_t *tb = pt_tags_bytes(t2, st[i].tag, &tl);
		assert_int_equal(tl, 4);
		if (!memcmp(tb, "Leak", 4)) {
			assert_int_equal(st[i].pool, PT_POOL_NONPAGED);
			assert_int_equal(v[i].verdict, PT_VERDICT_LEAK);
			assert_int_equal(v[i].growth_bytes, 8 * 65536);
			seen++;
		} else if (!memcmp(tb, "Tmp ", 4)) {
			assert_int_equal(st[i].pool, PT_POOL_PAGED);
			assert_int_equal(v[i].verdict, PT_VERDICT_OK);
			seen++;
		} else if (!memcmp(tb, "Proc", 4)) {
			assert_int_not_equal(v[i].verdict, PT_VERDICT_LEAK);
			seen++;
		}
	}
	assert_int_equal(seen, 3);
	free(v);
	pt_replay_free(rp);
	pt_reader_free(r);
	pt_tags_free(t2);
	pt_tags_free(tags);
	remove(path);
}

/* ---- options ---- */

static int parse(struct pt_capopts *o, char *err, size_t errsz, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, errsz);
	argv[argc++] = (char *)"pooltrace-capture";
	char *a;
	while ((a = va_arg(ap, char *)) != NULL && argc < 31)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	static char *keep[32];
	memcpy(keep, argv, sizeof(argv));
	return pt_capopts_parse(o, argc, keep, err, errsz);
}

static void test_options(void **state)
{
	(void)state;
	struct pt_capopts o;
	char err[256];
	assert_int_equal(parse(&o, err, sizeof(err), NULL), 0);
	assert_null(o.output);
	assert_null(o.cmd);
	assert_int_equal(o.pool, PT_CAP_POOL_BOTH);
	assert_int_equal(o.cooldown_ns, PT_CAP_DEFAULT_COOLDOWN_NS);
	assert_false(o.snapshots_only);
	assert_false(o.quiet);

	assert_int_equal(parse(&o, err, sizeof(err), "-o", "t.etl", "--tags", "Leak,Proc", "--pool",
			       "nonpaged", "--cooldown", "5s", "--snapshot-interval=250ms",
			       "--stacks", "--buffer-size", "64k", "--", "leaky.exe", "-n", "3", NULL),
			 0);
	assert_string_equal(o.output, "t.etl");
	assert_string_equal(o.tags, "Leak,Proc");
	assert_int_equal(o.pool, PT_CAP_POOL_NONPAGED);
	assert_int_equal(o.cooldown_ns, 5000000000ull);
	assert_int_equal(o.snapshot_ns, 250000000ull);
	assert_true(o.stacks);
	assert_int_equal(o.buffer_bytes, 65536);
	assert_int_equal(o.ncmd, 3);
	assert_string_equal(o.cmd[0], "leaky.exe");
	assert_string_equal(o.cmd[2], "3");
	assert_null(o.cmd[3]);

	/* a command gets the default cool-down; options after -- belong to it */
	assert_int_equal(parse(&o, err, sizeof(err), "--", "x", "--stacks", NULL), 0);
	assert_int_equal(o.cooldown_ns, PT_CAP_DEFAULT_COOLDOWN_NS);
	assert_false(o.stacks);
	assert_int_equal(o.ncmd, 2);
	assert_int_equal(parse(&o, err, sizeof(err), "--cooldown", "0", "--", "x", NULL), 0);
	assert_int_equal(o.cooldown_ns, 0);

	assert_int_equal(parse(&o, err, sizeof(err), "--duration", "2m", "--pool=paged", NULL), 0);
	assert_true(o.has_duration);
	assert_int_equal(o.duration_ns, 120000000000ull);
	assert_int_equal(o.pool, PT_CAP_POOL_PAGED);

	assert_int_equal(parse(&o, err, sizeof(err), "--mark", "phase 2", NULL), 0);
	assert_string_equal(o.mark, "phase 2");
	assert_int_equal(parse(&o, err, sizeof(err), "--mark=x", "--control", "/run/f", NULL), 0);
	assert_string_equal(o.control, "/run/f");
	assert_int_equal(parse(&o, err, sizeof(err), "-q", "--snapshots-only",
			       "--snapshot-interval", "1s", "--pool", "slab", NULL),
			 0);
	assert_true(o.quiet);
	assert_true(o.snapshots_only);
	assert_int_equal(o.pool, PT_CAP_POOL_SLAB);
	assert_int_equal(parse(&o, err, sizeof(err), "--pool", "kmalloc", NULL), 0);
	assert_int_equal(o.pool, PT_CAP_POOL_KMALLOC);
	assert_int_equal(parse(&o, err, sizeof(err), "-h", NULL), 0);
	assert_true(o.help);
	assert_int_equal(parse(&o, err, sizeof(err), "--version", NULL), 0);
	assert_true(o.version);

	struct {
		const char *a[4];
		const char *msg;
	} bad[] = {
		{{"--pool", "both2"}, "--pool"},
		{{"--duration", "soon"}, "--duration"},
		{{"--duration", "0"}, "more than 0"},
		{{"--snapshot-interval", "1ms"}, "minimum"},
		{{"--buffer-size", "lots"}, "--buffer-size"},
		{{"--frobnicate"}, "unknown option"},
		{{"--stacks=yes"}, "takes no value"},
		{{"--tags"}, "needs a value"},
		{{"leaky.exe"}, "after \"--\""},
		{{"--"}, "no command"},
		{{"--snapshots-only"}, "needs --snapshot-interval"},
		{{"--mark", "x", "--", "y"}, "--mark"},
		{{"--mark", ""}, "--mark"},
		{{"-o", ""}, "--output"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = '\0';
		assert_int_equal(parse(&o, err, sizeof(err), bad[i].a[0], bad[i].a[1], bad[i].a[2],
				       bad[i].a[3], NULL),
				 PT_EUSAGE);
		if (!strstr(err, bad[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].msg);
	}
	assert_string_equal(pt_cap_pool_name(PT_CAP_POOL_NONPAGED), "nonpaged");
	assert_non_null(strstr(pt_capopts_usage(), "--snapshot-interval"));
}

static void test_paths(void **state)
{
	(void)state;
	char b[64];
	assert_int_equal(pt_cap_snapshot_path("trace.etl", b, sizeof(b)), 0);
	assert_string_equal(b, "trace.snapshots.ptz");
	assert_int_equal(pt_cap_snapshot_path("C:\\t\\x.bin", b, sizeof(b)), 0);
	assert_string_equal(b, "C:\\t\\x.bin.snapshots.ptz");
	assert_int_equal(pt_cap_snapshot_path("a.etl", b, 10), PT_ELIMIT);
	assert_true(pt_cap_is_native_output("t.ptz"));
	assert_true(pt_cap_is_native_output("T.PTZ"));
	assert_false(pt_cap_is_native_output("t.etl"));
	assert_false(pt_cap_is_native_output("ptz"));
	assert_false(pt_cap_is_native_output(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groupmask),
		cmocka_unit_test(test_stack_ids),
		cmocka_unit_test(test_tagfilter_parse),
		cmocka_unit_test(test_tagfilter_match),
		cmocka_unit_test(test_tagfilter_info),
		cmocka_unit_test(test_ext_build),
		cmocka_unit_test(test_mark),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_callback_error),
		cmocka_unit_test(test_emit),
		cmocka_unit_test(test_emit_grow),
		cmocka_unit_test(test_native_roundtrip),
		cmocka_unit_test(test_snapshot_capture_judged),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
