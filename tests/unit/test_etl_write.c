/* SPDX-License-Identifier: MIT */
/*
 * ETL codec tests: XPRESS vectors, clock arithmetic, the ETL writer read back
 * by the reader (32/64-bit, several CPUs, compressed, lost flags, clocks),
 * gzip input, and damaged files (truncated, bad sizes, garbage compressed
 * data) that must give an error or warnings, never a crash or a hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "etl/etl.h"
#include "pooltrace/etlwrite.h"
#include "pooltrace/pooltrace.h"

/* ---- XPRESS ---- */

/* MS-XCA 2.4 examples: 26 literals; "abc" x 100 as three literals and one long match. */
static void test_xpress_vectors(void **state)
{
	(void)state;
	static const uint8_t v1[] = {0x3f, 0x00, 0x00, 0x00, 'a', 'b', 'c', 'd', 'e', 'f', 'g',
				     'h',  'i',  'j',  'k',  'l', 'm', 'n', 'o', 'p', 'q', 'r',
				     's',  't',  'u',  'v',  'w', 'x', 'y', 'z'};
	uint8_t out[400];
	size_t got;
	assert_int_equal(pt__xpress_decompress(v1, sizeof(v1), out, sizeof(out), &got), 0);
	assert_int_equal(got, 26);
	assert_memory_equal(out, "abcdefghijklmnopqrstuvwxyz", 26);

	static const uint8_t v2[] = {0xff, 0xff, 0xff, 0x1f, 'a',  'b',  'c',
				     0x17, 0x00, 0x0f, 0xff, 0x26, 0x01};
	assert_int_equal(pt__xpress_decompress(v2, sizeof(v2), out, sizeof(out), &got), 0);
	assert_int_equal(got, 300);
	for (int i = 0; i < 300; i++)
		assert_int_equal(out[i], "abc"[i % 3]);

	/*
	 * Hand-made: "xyxyxyxyxyxy" + "xyxyxyxyxyxyxyxyxyxy": literals x y, match
	 * (offset 2, length 10: 3 + 7 with nibble 0), match (offset 2, length 20:
	 * nibble 10 in the high half of the same shared byte).
	 */
	static const uint8_t v3[] = {
		0xff, 0xff, 0xff, 0x3f, /* flags 0x3fffffff: 0 0 1 1, then the end mark */
		'x', 'y',
		0x0f, 0x00, 0xa0,       /* offset 2 (1 << 3), length code 7; shared nibble byte */
		0x0f, 0x00,             /* offset 2, length code 7; high nibble of 0xa0 = 10 */
	};
	assert_int_equal(pt__xpress_decompress(v3, sizeof(v3), out, sizeof(out), &got), 0);
	assert_int_equal(got, 2 + 10 + 20);
	for (size_t i = 0; i < got; i++)
		assert_int_equal(out[i], "xy"[i % 2]);

	/* output limit: stops when full */
	assert_int_equal(pt__xpress_decompress(v2, sizeof(v2), out, 100, &got), PT_EFORMAT);
	/* errors: offset before the start, truncated flags, truncated match, bad long length */
	static const uint8_t bad1[] = {0xff, 0xff, 0xff, 0x7f, 'a', 0x18, 0x00};
	assert_int_equal(pt__xpress_decompress(bad1, sizeof(bad1), out, sizeof(out), &got),
			 PT_EFORMAT);
	static const uint8_t bad2[] = {0x00, 0x00};
	assert_int_equal(pt__xpress_decompress(bad2, sizeof(bad2), out, sizeof(out), &got),
			 PT_EFORMAT);
	static const uint8_t bad3[] = {0xff, 0xff, 0xff, 0x7f, 'a', 0x07};
	assert_int_equal(pt__xpress_decompress(bad3, sizeof(bad3), out, sizeof(out), &got),
			 PT_EFORMAT);
	static const uint8_t bad4[] = {0xff, 0xff, 0xff, 0x7f, 'a', 0x07, 0x00, 0x0f, 0xff, 0x05, 0x00};
	assert_int_equal(pt__xpress_decompress(bad4, sizeof(bad4), out, sizeof(out), &got),
			 PT_EFORMAT);
	/* literals past the end of input */
	static const uint8_t bad5[] = {0x00, 0x00, 0x00, 0x00, 'a'};
	assert_int_equal(pt__xpress_decompress(bad5, sizeof(bad5), out, 5, &got), PT_EFORMAT);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void roundtrip(const uint8_t *in, size_t n)
{
	uint8_t *z = malloc(pt__xpress_bound(n));
	uint8_t *back = malloc(n + 1);
	assert_non_null(z);
	assert_non_null(back);
	size_t zl = pt__xpress_compress(in, n, z);
	assert_true(zl <= pt__xpress_bound(n));
	size_t got;
	assert_int_equal(pt__xpress_decompress(z, zl, back, n, &got), 0);
	assert_int_equal(got, n);
	if (n)
		assert_memory_equal(in, back, n);
	/* with a larger output buffer the end mark stops decoding */
	uint8_t *big = malloc(n + 64);
	assert_int_equal(pt__xpress_decompress(z, zl, big, n + 64, &got), 0);
	assert_int_equal(got, n);
	free(big);
	free(z);
	free(back);
}

static void test_xpress_roundtrip(void **state)
{
	(void)state;
	size_t sizes[] = {0, 1, 2, 3, 31, 32, 33, 64, 100, 1000, 4096, 70000, 300000};
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t n = sizes[si];
		uint8_t *buf = malloc(n + 1);
		/* random, runs, repeated text, and long runs (4-byte length form) */
		for (int kind = 0; kind < 4; kind++) {
			for (size_t i = 0; i < n; i++) {
				switch (kind) {
				case 0:
					buf[i] = (uint8_t)rnd();
					break;
				case 1:
					buf[i] = (uint8_t)((i / 7) % 5);
					break;
				case 2:
					buf[i] = "pool event Proc "[i % 16] ^ (uint8_t)(i % 97 == 0);
					break;
				default:
					buf[i] = 0xAA;
					break;
				}
			}
			roundtrip(buf, n);
		}
		free(buf);
	}
}

static void test_muldiv(void **state)
{
	(void)state;
	assert_int_equal(pt__muldiv_u64(10, 1000000000u, 10000000u), 1000);
	assert_int_equal(pt__muldiv_u64(UINT64_MAX / 2, 1000000000u, 1000000000u), UINT64_MAX / 2);
	/* 2^62 ticks at 3 GHz: the product overflows 64 bits, the result does not */
	assert_int_equal(pt__muldiv_u64(1ull << 62, 1000000000u, 3000000000u), 1537228672809129301ull);
	assert_int_equal(pt__muldiv_u64(UINT64_MAX, 1000000000u, 1), UINT64_MAX);
	struct pt_etl_clock c;
	pt__etl_clock_init(&c, PT_ETL_CLOCK_QPC, 10000000u, 1000);
	assert_int_equal(pt__etl_clock_ns(&c, 1000), 0);
	assert_int_equal(pt__etl_clock_ns(&c, 999), 0);
	assert_int_equal(pt__etl_clock_ns(&c, 1001), 100);
	assert_int_equal(pt__etl_clock_sns(&c, 990), -1000);
	pt__etl_clock_init(&c, PT_ETL_CLOCK_QPC, 2435947u, 0); /* odd frequency: generic path */
	assert_int_equal(pt__etl_clock_ns(&c, 2435947u * 5ull), 5000000000ull);
	assert_int_equal(pt__filetime_to_unix_ns(PT_FILETIME_UNIX_EPOCH + 10), 1000);
}

/* ---- the writer, read back ---- */

struct scenario {
	struct pt_tags *tags;
	struct pt_event *ev;
	char (*text)[32];
	size_t n;
};

static void make_scenario(struct scenario *sc, size_t n, uint32_t ncpus, bool addr32)
{
	sc->tags = pt_tags_new(0);
	sc->ev = calloc(n, sizeof(*sc->ev));
	sc->text = calloc(n, sizeof(*sc->text));
	sc->n = n;
	static const char *const tags[] = {"Proc", "File", "Leak", "Ab\x01z", "Ntf "};
	static const uint32_t types[] = {0, 1, 512, 32, 33, 544, 0x10000000u, 0x10000001u, 7};
	uint64_t t = 0;
	for (size_t i = 0; i < n; i++) {
		struct pt_event *e = &sc->ev[i];
		pt_event_init(e);
		t += 100 * (1 + rnd() % 50);
		e->ts_ns = t;
		e->cpu = (uint32_t)(rnd() % ncpus);
		e->pid = 4 + (uint32_t)(rnd() % 3);
		e->tid = 8 + (uint32_t)(rnd() % 5);
		unsigned k = (unsigned)(rnd() % 20);
		if (k == 0) {
			e->kind = PT_EV_MARKER;
			snprintf(sc->text[i], sizeof(sc->text[i]), "mark %zu", i);
			e->marker = sc->text[i];
			continue;
		}
		e->kind = k < 8 ? PT_EV_ALLOC : k < 15 ? PT_EV_FREE : k < 18 ? PT_EV_SESSION_ALLOC
										    : PT_EV_SESSION_FREE;
		const char *tg = tags[rnd() % 5];
		pt_tags_intern(sc->tags, tg, 4, &e->tag);
		e->raw_pool_type = types[rnd() % 9];
		e->pool = pt_pool_from_windows(e->raw_pool_type, &e->pool_flags);
		e->size = 1 + rnd() % 100000;
		e->addr = addr32 ? (uint32_t)rnd() : rnd();
		if (e->kind == PT_EV_SESSION_ALLOC || e->kind == PT_EV_SESSION_FREE)
			e->session_id = (uint32_t)(rnd() % 4);
	}
}

static void free_scenario(struct scenario *sc)
{
	pt_tags_free(sc->tags);
	free(sc->ev);
	free(sc->text);
}

/* Write a scenario with the given options into memory. */
static uint8_t *write_etl(const struct scenario *sc, const struct pt_etlw_opts *o, size_t *len)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	struct pt_etlw *w;
	assert_int_equal(pt_etlw_open(&w, f, o, sc->tags), 0);
	for (size_t i = 0; i < sc->n; i++)
		assert_int_equal(pt_etlw_event(w, &sc->ev[i]), 0);
	assert_int_equal(pt_etlw_finish(w), 0);
	pt_etlw_free(w);
	long end = ftell(f);
	assert_true(end > 0);
	uint8_t *buf = malloc((size_t)end);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)end, f), (size_t)end);
	fclose(f);
	*len = (size_t)end;
	return buf;
}

struct readres {
	int open_rc;
	int rc;            /* last next() result */
	uint64_t events;
	uint64_t warnings;
	char err[512];
};

/* Events per pt_reader_next_batch() call in read_etl(); 1 reads with pt_reader_next(). */
static size_t g_batch = 1;

/* Read data (format forced when given) to the end; never more than a bound of calls. */
static void read_etl(const uint8_t *data, size_t len, const char *format, bool keep_going,
		     struct pt_tags *tags, const struct scenario *expect, uint32_t ncpus, bool ids,
		     bool p32, struct readres *res)
{
	memset(res, 0, sizeof(*res));
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, data, len, "mem.etl"), 0);
	struct pt_reader_opts ro;
	memset(&ro, 0, sizeof(ro));
	ro.quiet = true;
	ro.keep_going = keep_going;
	struct pt_reader *r;
	res->open_rc = pt_reader_open_input(&r, in, format, tags, &ro, res->err, sizeof(res->err));
	if (res->open_rc < 0)
		return;
	struct pt_event evs[64];
	assert_true(g_batch >= 1 && g_batch <= 64);
	int got = 0, at = 0;
	uint64_t guard = 0;
	uint64_t last = 0;
	for (;;) {
		if (at == got) {
			at = 0;
			got = g_batch == 1 ? pt_reader_next(r, &evs[0])
					   : pt_reader_next_batch(r, evs, g_batch);
			res->rc = got;
			if (got <= 0)
				break;
		}
		const struct pt_event ev = evs[at++];
		assert_true(++guard < 10000000);
		if (expect) {
			assert_true(res->events < expect->n);
			const struct pt_event *x = &expect->ev[res->events];
			assert_int_equal(ev.ts_ns, x->ts_ns);
			assert_int_equal(ev.kind, x->kind);
			assert_int_equal(ev.cpu, x->cpu % ncpus);
			if (ids) {
				assert_int_equal(ev.pid, x->pid);
				assert_int_equal(ev.tid, x->tid);
			} else {
				assert_int_equal(ev.pid, PT_NONE32);
				assert_int_equal(ev.tid, PT_NONE32);
			}
			if (x->kind == PT_EV_MARKER) {
				assert_string_equal(ev.marker, x->marker);
			} else {
				assert_int_equal(ev.tag, x->tag);
				assert_int_equal(ev.pool, x->pool);
				assert_int_equal(ev.pool_flags, x->pool_flags);
				assert_int_equal(ev.raw_pool_type, x->raw_pool_type);
				assert_int_equal(ev.size, p32 ? (uint32_t)x->size : x->size);
				assert_int_equal(ev.addr, x->addr);
				assert_int_equal(ev.session_id, x->session_id);
			}
		}
		assert_true(ev.ts_ns >= last || !expect);
		last = ev.ts_ns;
		res->events++;
	}
	if (res->rc < 0)
		snprintf(res->err, sizeof(res->err), "%s", pt_reader_errmsg(r));
	res->warnings = r->warnings;
	pt_reader_free(r);
}

static void test_write_read_matrix(void **state)
{
	(void)state;
	for (int psz = 4; psz <= 8; psz += 4) {
		struct scenario sc;
		make_scenario(&sc, 3000, 3, psz == 4);
		for (int z = 0; z < 2; z++) {
			for (int h = 0; h < 3; h++) {
				struct pt_etlw_opts o;
				memset(&o, 0, sizeof(o));
				o.pointer_size = (uint32_t)psz;
				o.num_cpus = 3;
				o.buffer_size = 1024;
				o.compress = z;
				o.header = (enum pt_etlw_header)h;
				o.pool_tracing = 1;
				size_t len;
				uint8_t *data = write_etl(&sc, &o, &len);
				struct readres res;
				/* one event per call, then batches of odd sizes as the replay reads */
				static const size_t batches[] = {1, 7, 64};
				for (int bi = 0; bi < 3; bi++) {
					g_batch = batches[bi];
					read_etl(data, len, NULL, false, sc.tags, &sc, 3,
						 h != PT_ETLW_PERFINFO, psz == 4, &res);
					if (res.open_rc < 0 || res.rc < 0)
						fail_msg("psize %d compress %d header %d batch %zu: %s",
							 psz, z, h, g_batch, res.err);
					assert_int_equal(res.events, sc.n);
					assert_int_equal(res.warnings, 0);
				}
				g_batch = 1;
				free(data);
			}
		}
		free_scenario(&sc);
	}
}

static void le32put_fwd(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* More CPUs than the linear-scan merge takes: the heap merge gives the same order. */
static void test_many_cpus(void **state)
{
	(void)state;
	uint32_t counts[] = {16, 17, 40};
	for (int i = 0; i < 3; i++) {
		struct scenario sc;
		make_scenario(&sc, 4000, counts[i], false);
		struct pt_etlw_opts o;
		memset(&o, 0, sizeof(o));
		o.num_cpus = counts[i];
		o.buffer_size = 1024;
		o.compress = i == 2;
		size_t len;
		uint8_t *data = write_etl(&sc, &o, &len);
		struct readres res;
		read_etl(data, len, NULL, false, sc.tags, &sc, counts[i], true, false, &res);
		assert_int_equal(res.open_rc, 0);
		assert_int_equal(res.rc, 0);
		assert_int_equal(res.events, sc.n);
		/* the header claims 2 CPUs: the others are found on the way (scan, then heap) */
		le32put_fwd(data + 0x48 + 0x20 + 0xC, 2);
		read_etl(data, len, NULL, false, sc.tags, NULL, counts[i], true, false, &res);
		assert_int_equal(res.open_rc, 0);
		assert_int_equal(res.rc, 0);
		assert_int_equal(res.events, sc.n);
		free(data);
		free_scenario(&sc);
	}
}

static void test_write_meta_and_lost(void **state)
{
	(void)state;
	struct scenario sc;
	make_scenario(&sc, 2000, 4, false);
	struct pt_etlw_opts o;
	memset(&o, 0, sizeof(o));
	o.num_cpus = 4;
	o.buffer_size = 2048;
	o.compress = true;
	o.lost_flag_every = 3;
	o.events_lost = 2;
	o.buffers_lost = 5;
	o.os_build = 22631;
	o.pool_tracing = 0;
	o.logger = "Pool Session";
	o.start_unix_ns = 1700000000000000000LL;
	size_t len;
	uint8_t *data = write_etl(&sc, &o, &len);
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, data, len, "m.etl"), 0);
	struct pt_reader *r;
	char err[256];
	assert_int_equal(pt_reader_open_input(&r, in, NULL, sc.tags, NULL, err, sizeof(err)), 0);
	struct pt_event ev;
	uint64_t n = 0;
	while (pt_reader_next(r, &ev) > 0)
		n++;
	assert_int_equal(n, sc.n);
	const struct pt_trace_meta *m = pt_reader_meta(r);
	const struct pt_etl_stats *st = pt__etl_stats(r);
	assert_string_equal(m->format, "etl");
	assert_int_equal(m->os_build, 22631);
	assert_int_equal(m->num_cpus, 4);
	assert_int_equal(m->pointer_size, 8);
	assert_int_equal(m->clock, PT_CLOCK_QPC);
	assert_int_equal(m->start_unix_ns, 1700000000000000000LL);
	assert_string_equal(m->logger, "Pool Session");
	assert_int_equal(m->pool_tracing, 0); /* the mask says off, whatever the events say */
	uint64_t data_buffers = st->buffers - 1;
	assert_int_equal(st->buffers_compressed, data_buffers);
	assert_int_equal(st->buffers_events_lost, data_buffers / 3);
	assert_true(data_buffers >= 6);
	assert_int_equal(m->events_lost, data_buffers / 3 > 2 ? data_buffers / 3 : 2);
	assert_int_equal(m->buffers_lost, 5);
	assert_int_equal(st->buffers, st->buffers_written);
	assert_int_equal(st->streams, 4);
	assert_int_equal(st->merge_backwards, 0);
	assert_int_equal(m->end_ns, sc.ev[sc.n - 1].ts_ns);
	uint64_t allocs = 0;
	for (size_t i = 0; i < sc.n; i++)
		allocs += sc.ev[i].kind == PT_EV_ALLOC;
	assert_int_equal(st->pool_by_opcode[0], allocs);
	pt_reader_free(r);
	free(data);
	free_scenario(&sc);
}

static void test_clocks(void **state)
{
	(void)state;
	struct scenario sc;
	make_scenario(&sc, 500, 2, false);
	enum pt_clock clocks[] = {PT_CLOCK_SYSTEM_TIME, PT_CLOCK_CPU_CYCLES, PT_CLOCK_QPC};
	for (int i = 0; i < 3; i++) {
		struct pt_etlw_opts o;
		memset(&o, 0, sizeof(o));
		o.num_cpus = 2;
		o.clock = clocks[i];
		o.cpu_mhz = 2900;
		o.perf_freq = i == 2 ? 14318180 : 0; /* odd QPC rate: no exact ns per tick */
		o.pool_tracing = -1;
		size_t len;
		uint8_t *data = write_etl(&sc, &o, &len);
		struct pt_input *in;
		assert_int_equal(pt_input_open_memory(&in, data, len, "c.etl"), 0);
		struct pt_reader *r;
		char err[256];
		assert_int_equal(pt_reader_open_input(&r, in, "etl", sc.tags, NULL, err, sizeof(err)), 0);
		assert_int_equal(pt_reader_meta(r)->clock, clocks[i]);
		assert_int_equal(pt_reader_meta(r)->pool_tracing, -1);
		struct pt_event ev;
		size_t n = 0;
		while (pt_reader_next(r, &ev) > 0) {
			uint64_t want = sc.ev[n].ts_ns;
			/* 14318180 Hz ticks are ~69.8 ns: within one tick plus rounding */
			if (i == 2) {
				if (!(ev.ts_ns <= want && want - ev.ts_ns <= 70))
					fail_msg("event %zu at %llu ns, want %llu", n,
						 (unsigned long long)ev.ts_ns, (unsigned long long)want);
			} else {
				assert_int_equal(ev.ts_ns, want);
			}
			n++;
		}
		assert_int_equal(n, sc.n);
		assert_int_equal(pt_reader_meta(r)->pool_tracing, 1); /* pool events seen */
		pt_reader_free(r);
		free(data);
	}
	free_scenario(&sc);
}

static uint8_t *gzip_mem(const uint8_t *in, size_t n, size_t *outlen)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	size_t cap = deflateBound(&zs, (uLong)n);
	uint8_t *out = malloc(cap);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static void test_gzip_input(void **state)
{
	(void)state;
	struct scenario sc;
	make_scenario(&sc, 1500, 3, false);
	struct pt_etlw_opts o;
	memset(&o, 0, sizeof(o));
	o.num_cpus = 3;
	o.buffer_size = 1024;
	size_t len, zlen;
	uint8_t *data = write_etl(&sc, &o, &len);
	uint8_t *gz = gzip_mem(data, len, &zlen);
	struct readres res;
	read_etl(gz, zlen, NULL, false, sc.tags, &sc, 3, true, false, &res);
	assert_int_equal(res.open_rc, 0);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.events, sc.n);
	free(gz);
	free(data);
	free_scenario(&sc);
}

/* ---- damaged input ---- */

static uint8_t *small_file(bool compress, size_t *len, struct scenario *sc)
{
	make_scenario(sc, 400, 2, false);
	struct pt_etlw_opts o;
	memset(&o, 0, sizeof(o));
	o.num_cpus = 2;
	o.buffer_size = 1024;
	o.compress = compress;
	return write_etl(sc, &o, len);
}

static void test_truncated_everywhere(void **state)
{
	(void)state;
	for (int z = 0; z < 2; z++) {
		struct scenario sc;
		size_t len;
		uint8_t *data = small_file(z, &len, &sc);
		struct pt_tags *tags = pt_tags_new(0);
		uint64_t prev = 0;
		size_t step = len > 6000 ? 3 : 1;
		for (size_t cut = 0; cut <= len; cut += step) {
			struct readres res;
			read_etl(data, cut, "etl", false, tags, NULL, 2, true, false, &res);
			if (cut < 0x48 + 0x20)
				assert_true(res.open_rc < 0);
			assert_true(res.events <= sc.n);
			if (cut == len) {
				assert_int_equal(res.events, sc.n);
				assert_int_equal(res.warnings, 0);
			}
			(void)prev;
			prev = res.events;
		}
		pt_tags_free(tags);
		free(data);
		free_scenario(&sc);
	}
}

static void le32put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Offset of the n-th buffer (0 = header buffer). */
static size_t buffer_at(const uint8_t *d, size_t len, int n)
{
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		assert_true(off + 4 <= len);
		off += pt__le32(d + off);
	}
	assert_true(off + 0x48 <= len);
	return off;
}

static void test_bad_sizes(void **state)
{
	(void)state;
	struct scenario sc;
	size_t len;
	uint8_t *data = small_file(false, &len, &sc);
	uint8_t *d = malloc(len);
	struct readres res;

	/* zero-length input: probe fails; forced, the reader says so */
	read_etl(data, 0, NULL, false, sc.tags, NULL, 2, true, false, &res);
	assert_true(res.open_rc < 0);
	read_etl(data, 0, "etl", false, sc.tags, NULL, 2, true, false, &res);
	assert_true(res.open_rc < 0);
	assert_non_null(strstr(res.err, "mem.etl"));

	/* a buffer size pointing far past the end of the file */
	memcpy(d, data, len);
	size_t b2 = buffer_at(d, len, 2);
	le32put(d + b2, 0x0FFFFFF0u);
	read_etl(d, len, NULL, false, sc.tags, NULL, 2, true, false, &res);
	assert_int_equal(res.open_rc, 0);
	assert_int_equal(res.rc, 0);
	assert_true(res.warnings >= 1);
	assert_true(res.events > 0 && res.events < sc.n);

	/* a buffer size over the limit: reading stops there with a warning */
	le32put(d + b2, 0xFFFFFFF0u);
	read_etl(d, len, NULL, false, sc.tags, NULL, 2, true, false, &res);
	assert_int_equal(res.rc, 0);
	assert_true(res.warnings >= 1);

	/* a buffer size below the header size */
	le32put(d + b2, 0x20);
	read_etl(d, len, NULL, false, sc.tags, NULL, 2, true, false, &res);
	assert_int_equal(res.rc, 0);
	assert_true(res.warnings >= 1);

	/* Offset past BufferSize is clamped */
	memcpy(d, data, len);
	le32put(d + b2 + PT_ETL_BUF_OFFSET, 0x7FFFFFFF);
	read_etl(d, len, NULL, false, sc.tags, NULL, 2, true, false, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.events, sc.n);

	/* first record size 0, then one running past the buffer */
	for (int k = 0; k < 2; k++) {
		memcpy(d, data, len);
		uint8_t *rec = d + b2 + 0x48;
		assert_int_equal(rec[3], 0xC0);
		rec[4] = k == 0 ? 0 : 0xF0;
		rec[5] = k == 0 ? 0 : 0xFF;
		read_etl(d, len, NULL, false, sc.tags, NULL, 2, true, false, &res);
		assert_int_equal(res.rc, 0);
		assert_int_equal(res.warnings, 1);
		assert_true(res.events > 0 && res.events < sc.n);
	}

	/* a marker that is neither 0xC0 nor 0x90 */
	memcpy(d, data, len);
	d[b2 + 0x48 + 3] = 0x12;
	read_etl(d, len, NULL, false, sc.tags, NULL, 2, true, false, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.warnings, 1);

	/* a pool record too short for its payload: error, or skipped with keep_going */
	memcpy(d, data, len);
	uint8_t *rec = d + b2 + 0x48;
	rec[4] = 0x24; /* header 0x20 + 4 bytes */
	rec[5] = 0;
	read_etl(d, len, NULL, false, sc.tags, NULL, 2, true, false, &res);
	assert_true(res.rc < 0);
	assert_non_null(strstr(res.err, "offset"));
	read_etl(d, len, NULL, true, sc.tags, NULL, 2, true, false, &res);
	assert_int_equal(res.rc, 0);

	/*
	 * The same in the middle of a buffer, read in batches: every event before
	 * it in time order comes out first (read_etl() checks them against the
	 * scenario), then the error; records are decoded ahead in runs, so this
	 * is what keeps the error in its place.
	 */
	memcpy(d, data, len);
	rec = d + b2 + 0x48;
	for (int k = 0; k < 5; k++) {
		size_t sz = pt__le16(rec + 4);
		rec += (sz + 7) & ~(size_t)7;
	}
	assert_int_equal(rec[3], 0xC0);
	assert_int_equal(rec[7], 0x0E); /* a pool event */
	/* which event it is (by its address) and the one before it on its CPU */
	uint64_t bad_addr = pt__le64(rec + 0x20 + 16);
	size_t bad = sc.n, prev = sc.n;
	for (size_t i = 0; i < sc.n; i++)
		if (sc.ev[i].kind != PT_EV_MARKER && sc.ev[i].addr == bad_addr)
			bad = i;
	assert_true(bad < sc.n);
	for (size_t i = 0; i < bad; i++)
		if (sc.ev[i].cpu % 2 == sc.ev[bad].cpu % 2)
			prev = i;
	assert_true(prev < bad);
	rec[4] = 0x24;
	rec[5] = 0;
	for (int bi = 0; bi < 2; bi++) {
		g_batch = bi ? 64 : 1;
		read_etl(d, len, NULL, false, sc.tags, &sc, 2, true, false, &res);
		assert_true(res.rc < 0);
		assert_non_null(strstr(res.err, "payload is 4 bytes"));
		/* up to the bad event's predecessor on its CPU, whose stream then reaches it */
		assert_int_equal(res.events, prev + 1);
		uint64_t before = res.events;
		/* keep_going: skipped (the shortened record leaves the rest of its buffer unreadable) */
		read_etl(d, len, NULL, true, sc.tags, NULL, 2, true, false, &res);
		assert_int_equal(res.rc, 0);
		assert_true(res.events > before);
		assert_true(res.events < sc.n);
	}
	g_batch = 1;

	/* a header buffer that is not one */
	memcpy(d, data, len);
	d[PT_ETL_BUF_TYPE] = 0;
	read_etl(d, len, "etl", false, sc.tags, NULL, 2, true, false, &res);
	assert_true(res.open_rc < 0);
	assert_non_null(strstr(res.err, "header buffer"));

	free(d);
	free(data);
	free_scenario(&sc);
}

static void test_bad_compressed(void **state)
{
	(void)state;
	struct scenario sc;
	size_t len;
	uint8_t *data = small_file(true, &len, &sc);
	uint8_t *d = malloc(len);
	struct readres res;
	size_t b1 = buffer_at(data, len, 1);
	size_t b1len = pt__le32(data + b1);

	/* garbage in one compressed buffer: a warning, the others still read */
	memcpy(d, data, len);
	for (size_t i = b1 + 0x48; i < b1 + b1len; i++)
		d[i] = (uint8_t)(0xA5 ^ i);
	read_etl(d, len, NULL, false, sc.tags, NULL, 2, true, false, &res);
	assert_int_equal(res.open_rc, 0);
	assert_int_equal(res.rc, 0);
	assert_true(res.warnings >= 1);
	assert_true(res.events > 0 && res.events < sc.n);

	/* an unknown compression format: a clear error naming it */
	memcpy(d, data, len);
	d[b1 + PT_ETL_BUF_STATE] = 5;
	read_etl(d, len, NULL, false, sc.tags, NULL, 2, true, false, &res);
	assert_true(res.rc < 0);
	assert_non_null(strstr(res.err, "compression format 5"));

	/* a decompressed size over the limit */
	memcpy(d, data, len);
	le32put(d + b1 + PT_ETL_BUF_OFFSET, 0xFFFFFFF0u);
	read_etl(d, len, NULL, false, sc.tags, NULL, 2, true, false, &res);
	assert_int_equal(res.rc, 0);
	assert_true(res.warnings >= 1);

	/* random damage anywhere: never a crash, never a hang */
	for (int it = 0; it < 1500; it++) {
		memcpy(d, data, len);
		int flips = 1 + (int)(rnd() % 8);
		for (int f = 0; f < flips; f++)
			d[rnd() % len] ^= (uint8_t)(1 + rnd() % 255);
		read_etl(d, len, "etl", (it & 1) != 0, sc.tags, NULL, 2, true, false, &res);
	}
	free(d);
	free(data);

	/* the same on an uncompressed file */
	free_scenario(&sc);
	data = small_file(false, &len, &sc);
	d = malloc(len);
	for (int it = 0; it < 1500; it++) {
		memcpy(d, data, len);
		int flips = 1 + (int)(rnd() % 8);
		for (int f = 0; f < flips; f++)
			d[rnd() % len] ^= (uint8_t)(1 + rnd() % 255);
		read_etl(d, len, "etl", (it & 1) != 0, sc.tags, NULL, 2, true, false, &res);
	}
	free(d);
	free(data);
	free_scenario(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xpress_vectors),
		cmocka_unit_test(test_xpress_roundtrip),
		cmocka_unit_test(test_muldiv),
		cmocka_unit_test(test_write_read_matrix),
		cmocka_unit_test(test_many_cpus),
		cmocka_unit_test(test_write_meta_and_lost),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_gzip_input),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_bad_compressed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
