/* SPDX-License-Identifier: MIT */
/* Native trace format: writer/reader round trip, cut-off files, damaged chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "pooltrace/pooltrace.h"
#include "pooltrace/native.h"

#define NEV 30000

/* Chunk codec of the traces write_trace() makes. */
static enum pt_native_codec codec = PT_NATIVE_CODEC_DEFAULT;

/* A deterministic pseudo-random stream. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void make_event(struct pt_tags *tags, int i, uint64_t *ts, struct pt_event *ev)
{
	static char text[64];
	pt_event_init(ev);
	*ts += rnd() % 5000;
	ev->ts_ns = *ts;
	int k = (int)(rnd() % 100);
	char name[32];
	snprintf(name, sizeof(name), "tag%02d", (int)(rnd() % 40));
	pt_tag_id id;
	assert_int_equal(pt_tags_intern(tags, name, strlen(name), &id), 0);
	if (k < 2) {
		ev->kind = PT_EV_MARKER;
		snprintf(text, sizeof(text), "mark %d", i);
		ev->marker = text;
		ev->pid = 42;
		return;
	}
	if (k < 5) {
		ev->kind = PT_EV_SNAPSHOT;
		ev->tag = id;
		ev->pool = PT_POOL_SLAB;
		ev->snap_allocs = rnd() % 100000;
		ev->snap_frees = rnd() % 1000;
		ev->size = rnd() % 1000000;
		return;
	}
	ev->kind = (k & 1) ? PT_EV_ALLOC : PT_EV_FREE;
	if (k > 95)
		ev->kind = (k & 1) ? PT_EV_SESSION_ALLOC : PT_EV_SESSION_FREE;
	ev->tag = id;
	ev->pool = (enum pt_pool)(rnd() % PT_POOL_COUNT_);
	ev->raw_pool_type = (uint32_t)(rnd() % 600);
	ev->pool_flags = (uint32_t)(rnd() % 2);
	ev->size = ev->kind == PT_EV_ALLOC ? rnd() % 65536 : 0;
	ev->addr = 0xffff888000000000ull + (rnd() % (1ull << 32)) * 16;
	ev->pid = (uint32_t)(rnd() % 5000);
	ev->tid = (k % 3) ? ev->pid : PT_NONE32;
	ev->cpu = (uint32_t)(rnd() % 8);
	if (k > 95)
		ev->session_id = 1;
}

/* Writes NEV events into a malloc'ed buffer; the expected events go to exp. */
static uint8_t *write_trace(struct pt_tags *tags, struct pt_event *exp, char (*marks)[64],
			    size_t *len, bool trailer)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *fp = open_memstream(&buf, &blen);
	assert_non_null(fp);
	struct pt_native_info info = {0};
	pt_trace_meta_init(&info.meta);
	snprintf(info.meta.host, sizeof(info.meta.host), "testhost");
	snprintf(info.meta.os, sizeof(info.meta.os), "Linux 6.1");
	info.meta.pointer_size = 8;
	info.meta.num_cpus = 8;
	info.meta.clock = PT_CLOCK_MONOTONIC;
	info.meta.has_start_time = true;
	info.meta.start_unix_ns = 1700000000123456789ll;
	info.kernel = "#1 SMP";
	info.tag_filter = "tag0*";
	info.codec = codec;
	struct pt_native_writer *w;
	assert_int_equal(pt_native_writer_new(&w, fp, tags, &info), 0);
	rng_state = 0x1234567;
	uint64_t ts = 0;
	for (int i = 0; i < NEV; i++) {
		make_event(tags, i, &ts, &exp[i]);
		if (exp[i].marker) {
			snprintf(marks[i], 64, "%s", exp[i].marker);
			exp[i].marker = marks[i];
		}
		assert_int_equal(pt_native_write_event(w, &exp[i]), 0);
	}
	if (trailer) {
		uint64_t lost[2] = {3, 4};
		struct pt_native_totals t = {.end_ns = ts + 1000, .lost_known = true, .events_lost = 7,
					     .lost_per_cpu = lost, .ncpus = 2, .stop_reason = "test"};
		assert_int_equal(pt_native_writer_finish(w, NULL, &t), 0);
	} else {
		assert_int_equal(pt_native_writer_flush(w), 0);
	}
	assert_true(pt_native_writer_chunks(w) >= 2);
	pt_native_writer_free(w);
	fclose(fp);
	*len = blen;
	return (uint8_t *)buf;
}

static void same_event(const struct pt_tags *t1, const struct pt_event *a,
		       const struct pt_tags *t2, const struct pt_event *b)
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
	if (a->tag == PT_TAG_NONE) {
		assert_int_equal(b->tag, PT_TAG_NONE);
	} else {
		size_t l1, l2;
		const uint8_t *b1 = pt_tags_bytes(t1, a->tag, &l1);
		const uint8_t *b2 = pt_tags_bytes(t2, b->tag, &l2);
		assert_int_equal(l1, l2);
		assert_memory_equal(b1, b2, l1);
	}
	if (a->marker)
		assert_string_equal(a->marker, b->marker);
	else
		assert_null(b->marker);
}

static struct pt_event *exp_ev;
static char (*exp_marks)[64];

static int setup(void **state)
{
	exp_ev = calloc(NEV, sizeof(*exp_ev));
	exp_marks = calloc(NEV, 64);
	return exp_ev && exp_marks ? 0 : -1;
}

static int teardown(void **state)
{
	free(exp_ev);
	free(exp_marks);
	return 0;
}

/* Reads the buffer; returns the reader's final rc and the number of events. */
static int read_back(const uint8_t *buf, size_t len, struct pt_tags *t1, bool keep_going,
		     size_t *nread, struct pt_trace_meta *meta, char *err, size_t errsz)
{
	struct pt_tags *t2 = pt_tags_new(0);
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, buf, len, "mem.ptz"), 0);
	struct pt_reader *r;
	struct pt_reader_opts o = {.keep_going = keep_going, .quiet = true};
	int rc = pt_reader_open_input(&r, in, NULL, t2, &o, err, errsz);
	*nread = 0;
	if (rc < 0) {
		pt_tags_free(t2);
		return rc;
	}
	assert_string_equal(r->meta.format, "native");
	struct pt_event ev;
	while ((rc = pt_reader_next(r, &ev)) > 0) {
		if (!keep_going && t1) {
			assert_true(*nread < NEV);
			same_event(t1, &exp_ev[*nread], t2, &ev);
		}
		(*nread)++;
	}
	if (rc < 0)
		snprintf(err, errsz, "%s", pt_reader_errmsg(r));
	if (meta)
		*meta = *pt_reader_meta(r);
	pt_reader_free(r);
	pt_tags_free(t2);
	return rc;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Header size of the chunk at p: 24 ("PTCK"), 28 ("PTC2", "PTC3"), 0 for no chunk. */
static size_t chunk_hdr(const uint8_t *p)
{
	if (!memcmp(p, PT_NATIVE_CHUNK_MAGIC, 4))
		return PT_NATIVE_CHUNK_HDR_SIZE;
	if (!memcmp(p, PT_NATIVE_CHUNK2_MAGIC, 4) || !memcmp(p, PT_NATIVE_CHUNK3_MAGIC, 4))
		return PT_NATIVE_CHUNK2_HDR_SIZE;
	return 0;
}

/* Byte offsets of every chunk in a buffer. */
static size_t chunk_offsets(const uint8_t *buf, size_t len, size_t *offs, size_t max)
{
	size_t pos = PT_NATIVE_FILE_HDR_FIXED + get32(buf + 12) + 4, n = 0;
	while (pos + PT_NATIVE_CHUNK2_HDR_SIZE <= len && n < max) {
		size_t h = chunk_hdr(buf + pos);
		if (!h)
			break;
		offs[n++] = pos;
		pos += h + get32(buf + pos + h - 20);
	}
	return n;
}

/* Every chunk of the buffer has the layout and codec the writer was asked for. */
static void check_layout(const uint8_t *buf, size_t len)
{
	size_t offs[64];
	size_t nch = chunk_offsets(buf, len, offs, 64);
	assert_true(nch >= 2);
	bool zstd = codec == PT_NATIVE_CODEC_ZSTD ||
		    (codec == PT_NATIVE_CODEC_DEFAULT &&
		     pt_native_codec_available(PT_NATIVE_CODEC_ZSTD));
	for (size_t i = 0; i < nch; i++) {
		if (zstd) {
			/* zstd chunks use record layout 3 */
			assert_memory_equal(buf + offs[i], PT_NATIVE_CHUNK3_MAGIC, 4);
			assert_int_equal(chunk_hdr(buf + offs[i]), PT_NATIVE_CHUNK2_HDR_SIZE);
			assert_int_equal(buf[offs[i] + 4], PT_NATIVE_CODEC_ZSTD);
		} else {
			/* zlib chunks keep the layout older readers know */
			assert_int_equal(chunk_hdr(buf + offs[i]), PT_NATIVE_CHUNK_HDR_SIZE);
		}
	}
}

/* The tests below, once per codec. */
static const enum pt_native_codec codecs[] = {PT_NATIVE_CODEC_DEFAULT, PT_NATIVE_CODEC_ZLIB,
					      PT_NATIVE_CODEC_ZSTD};
#define FOR_CODECS                                                                   \
	for (size_t ci_ = 0; ci_ < sizeof(codecs) / sizeof(codecs[0]); ci_++)         \
		if ((codec = codecs[ci_]) == PT_NATIVE_CODEC_DEFAULT ||                \
		    pt_native_codec_available(codec))

static void round_trip(void)
{
	struct pt_tags *t1 = pt_tags_new(0);
	size_t len, n;
	uint8_t *buf = write_trace(t1, exp_ev, exp_marks, &len, true);
	check_layout(buf, len);
	struct pt_trace_meta m;
	char err[512] = "";
	assert_int_equal(read_back(buf, len, t1, false, &n, &m, err, sizeof(err)), 0);
	assert_int_equal(n, NEV);
	assert_string_equal(m.host, "testhost");
	assert_string_equal(m.os, "Linux 6.1");
	assert_int_equal(m.pointer_size, 8);
	assert_int_equal(m.num_cpus, 8);
	assert_int_equal(m.clock, PT_CLOCK_MONOTONIC);
	assert_true(m.has_start_time);
	assert_int_equal(m.start_unix_ns, 1700000000123456789ll);
	assert_true(m.lost_known);
	assert_int_equal(m.events_lost, 7);
	assert_int_equal(m.end_ns, exp_ev[NEV - 1].ts_ns + 1000);
	/* compact even for random field values */
	assert_true(len < (size_t)NEV * 24); /* random fields: incompressible */
	free(buf);
	pt_tags_free(t1);
}

static void test_round_trip(void **state)
{
	FOR_CODECS
		round_trip();
	codec = PT_NATIVE_CODEC_DEFAULT;
}

static void cut_short(void)
{
	struct pt_tags *t1 = pt_tags_new(0);
	size_t len, n;
	uint8_t *buf = write_trace(t1, exp_ev, exp_marks, &len, false);
	size_t offs[64];
	size_t nch = chunk_offsets(buf, len, offs, 64);
	assert_true(nch >= 2);
	char err[512] = "";
	/* no trailer: everything read, with a warning */
	assert_int_equal(read_back(buf, len, t1, false, &n, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, NEV);
	/* cut inside the second chunk: the first chunk's events come back */
	size_t first = 0;
	assert_int_equal(read_back(buf, offs[1], t1, false, &first, NULL, err, sizeof(err)), 0);
	assert_true(first > 0 && first < NEV);
	assert_int_equal(read_back(buf, offs[1] + 100, t1, false, &n, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, first);
	assert_int_equal(read_back(buf, offs[1] + 5, t1, false, &n, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, first);
	/* cut inside the header: an error */
	assert_true(read_back(buf, 20, t1, false, &n, NULL, err, sizeof(err)) < 0);
	free(buf);
	pt_tags_free(t1);
}

static void test_cut_short(void **state)
{
	FOR_CODECS
		cut_short();
	codec = PT_NATIVE_CODEC_DEFAULT;
}

static void bad_chunk(void)
{
	struct pt_tags *t1 = pt_tags_new(0);
	size_t len, n, all;
	uint8_t *buf = write_trace(t1, exp_ev, exp_marks, &len, true);
	size_t offs[64];
	size_t nch = chunk_offsets(buf, len, offs, 64);
	assert_true(nch >= 3);
	size_t h = chunk_hdr(buf + offs[1]);
	buf[offs[1] + h + 10] ^= 0x55;
	char err[512] = "", want[64];
	assert_int_equal(read_back(buf, len, t1, false, &n, NULL, err, sizeof(err)), PT_EFORMAT);
	snprintf(want, sizeof(want), "offset %zu ", offs[1]);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "checksum"));
	/* keep going: the damaged chunk is skipped, the rest read */
	assert_int_equal(read_back(buf, len, t1, true, &all, NULL, err, sizeof(err)), 0);
	assert_true(all < NEV && all > NEV / 2);
	/* a damaged chunk header: found again by the next chunk's magic */
	buf[offs[1] + h + 10] ^= 0x55;
	buf[offs[1] + h - 14] ^= 0x01;
	assert_int_equal(read_back(buf, len, t1, false, &n, NULL, err, sizeof(err)), PT_EFORMAT);
	assert_non_null(strstr(err, "header checksum"));
	assert_int_equal(read_back(buf, len, t1, true, &n, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, all);
	buf[offs[1] + h - 14] ^= 0x01;
	/* checksums right, but the payload makes one byte less than the header says */
	uint8_t *u = buf + offs[1] + h - 16;
	put32(u, get32(u) - 1);
	put32(buf + offs[1] + h - 4, (uint32_t)crc32(0L, buf + offs[1], (uInt)h - 4));
	assert_int_equal(read_back(buf, len, t1, false, &n, NULL, err, sizeof(err)), PT_EFORMAT);
	snprintf(want, sizeof(want), "offset %zu ", offs[1]);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "chunk does not decompress to its stated length"));
	assert_int_equal(read_back(buf, len, t1, true, &n, NULL, err, sizeof(err)), 0);
	assert_int_equal(n, all);
	if (h == PT_NATIVE_CHUNK2_HDR_SIZE) {
		/* a codec number from the future: refused by name, also when going on */
		buf[offs[1] + 4] = 9;
		put32(buf + offs[1] + h - 4, (uint32_t)crc32(0L, buf + offs[1], (uInt)h - 4));
		for (int kg = 0; kg < 2; kg++) {
			assert_int_equal(read_back(buf, len, t1, kg, &n, NULL, err, sizeof(err)),
					 PT_EUNSUPPORTED);
			assert_non_null(strstr(err, want));
			assert_non_null(strstr(err, "chunk codec 9"));
		}
	}
	free(buf);
	pt_tags_free(t1);
}

static void test_bad_chunk(void **state)
{
	FOR_CODECS
		bad_chunk();
	codec = PT_NATIVE_CODEC_DEFAULT;
}

/* Batches give the events one at a time would, and end after a marker. */
static void test_batch(void **state)
{
	FOR_CODECS {
		struct pt_tags *t1 = pt_tags_new(0), *t2 = pt_tags_new(0);
		size_t len, n = 0;
		uint8_t *buf = write_trace(t1, exp_ev, exp_marks, &len, true);
		struct pt_input *in;
		assert_int_equal(pt_input_open_memory(&in, buf, len, "mem.ptz"), 0);
		struct pt_reader *r;
		char err[256];
		assert_int_equal(pt_reader_open_input(&r, in, NULL, t2, NULL, err, sizeof(err)), 0);
		struct pt_event evs[97];
		int got;
		while ((got = pt_reader_next_batch(r, evs, 97)) > 0) {
			for (int i = 0; i < got; i++) {
				assert_true(n < NEV);
				same_event(t1, &exp_ev[n], t2, &evs[i]);
				if (evs[i].kind == PT_EV_MARKER)
					assert_int_equal(i, got - 1);
				n++;
			}
		}
		assert_int_equal(got, 0);
		assert_int_equal(n, NEV);
		assert_int_equal(r->events, NEV);
		pt_reader_free(r);
		free(buf);
		pt_tags_free(t1);
		pt_tags_free(t2);
	}
	codec = PT_NATIVE_CODEC_DEFAULT;
}

/* Damaged and cut-off variants never crash or hang. */
static void test_garbage(void **state)
{
	struct pt_tags *t1 = pt_tags_new(0);
	size_t len, n;
	uint8_t *buf = write_trace(t1, exp_ev, exp_marks, &len, true);
	uint8_t *copy = malloc(len);
	assert_non_null(copy);
	char err[512];
	rng_state = 99;
	for (int i = 0; i < 60; i++) {
		memcpy(copy, buf, len);
		for (int k = 0; k < 4; k++)
			copy[rnd() % len] = (uint8_t)rnd();
		size_t cut = (i % 3) ? len : (size_t)(rnd() % len);
		read_back(copy, cut, NULL, true, &n, NULL, err, sizeof(err));
		read_back(copy, cut, NULL, false, &n, NULL, err, sizeof(err));
	}
	free(copy);
	free(buf);
	pt_tags_free(t1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_bad_chunk),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
