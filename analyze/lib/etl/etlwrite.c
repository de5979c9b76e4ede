/* SPDX-License-Identifier: MIT */
/* ETL writer for fixtures: kernel pool records in per-CPU buffers (see pooltrace/etlwrite.h). */
#include <stdlib.h>
#include <string.h>

#include "etl/etl.h"
#include "pooltrace/error.h"
#include "pooltrace/etlwrite.h"

#define DEFAULT_START_NS 1704067200000000000LL /* 2024-01-01T00:00:00Z */
#define T0_TICKS 1000000u                      /* raw timestamp of the header record (QPC, cycles) */

struct cpubuf {
	uint8_t *data;
	uint32_t used;   /* bytes used, header included */
	uint64_t last_ts;
};

struct pt_etlw {
	FILE *fp;
	const struct pt_tags *tags;
	struct pt_etlw_opts o;
	uint32_t psize;
	uint32_t ncpus;
	uint32_t bsize;
	uint64_t freq;
	uint64_t t0;
	int64_t start_ft;
	long header_pos;       /* file position of the header buffer, -1 when not seekable */
	uint32_t header_len;
	uint8_t *header;       /* the header buffer as written */
	struct cpubuf *cpus;
	uint8_t *zbuf;
	uint64_t seq;
	uint64_t buffers;
	uint64_t data_buffers;
	uint64_t skipped;
	uint64_t max_ts;
	bool failed;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
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

static uint64_t ns_to_ticks(const struct pt_etlw *w, uint64_t ns)
{
	return w->t0 + pt__muldiv_u64(ns, w->freq, 1000000000u);
}

/* Buffer header fields shared by every buffer. */
static void buf_header(uint8_t *b, uint32_t bsize, uint32_t saved, uint32_t offset, uint64_t seq,
		       uint16_t cpu, uint16_t flags, uint16_t type, uint32_t state)
{
	memset(b, 0, PT_ETL_BUFHDR);
	put32(b + PT_ETL_BUF_SIZE, bsize);
	put32(b + PT_ETL_BUF_SAVED, saved);
	put32(b + 0x08, offset);
	put64(b + PT_ETL_BUF_SEQ, seq);
	put16(b + PT_ETL_BUF_CTX, cpu);
	put32(b + PT_ETL_BUF_STATE, state);
	put32(b + PT_ETL_BUF_OFFSET, offset);
	put16(b + PT_ETL_BUF_FLAGS, flags);
	put16(b + PT_ETL_BUF_TYPE, type);
}

/* A kernel record header at p (type per w->o.header); returns the header length. */
static size_t kernel_header(const struct pt_etlw *w, uint8_t *p, uint16_t hook, size_t size,
			    uint64_t ts, uint32_t tid, uint32_t pid, bool force_system)
{
	bool p64 = w->psize == 8;
	enum pt_etlw_header h = force_system ? PT_ETLW_SYSTEM : w->o.header;
	uint8_t ht;
	size_t hdr;
	switch (h) {
	case PT_ETLW_COMPACT:
		ht = p64 ? PT_ETL_HT_COMPACT64 : PT_ETL_HT_COMPACT32;
		hdr = 0x18;
		break;
	case PT_ETLW_PERFINFO:
		ht = p64 ? PT_ETL_HT_PERFINFO64 : PT_ETL_HT_PERFINFO32;
		hdr = 0x10;
		break;
	default:
		ht = p64 ? PT_ETL_HT_SYSTEM64 : PT_ETL_HT_SYSTEM32;
		hdr = 0x20;
		break;
	}
	memset(p, 0, hdr);
	put16(p, 2); /* event version */
	p[2] = ht;
	p[3] = 0xC0;
	put16(p + 4, (uint16_t)(hdr + size));
	put16(p + 6, hook);
	if (hdr == 0x10) {
		put64(p + 8, ts);
	} else {
		put32(p + 8, tid);
		put32(p + 0xC, pid);
		put64(p + 0x10, ts);
	}
	return hdr;
}

static int write_all(struct pt_etlw *w, const void *p, size_t n)
{
	if (fwrite(p, 1, n, w->fp) != n) {
		w->failed = true;
		return PT_EIO;
	}
	return 0;
}

static int flush_cpu(struct pt_etlw *w, uint32_t cpu)
{
	struct cpubuf *c = &w->cpus[cpu];
	if (c->used <= PT_ETL_BUFHDR)
		return 0;
	w->data_buffers++;
	uint16_t flags = PT_ETL_BF_PROC_INDEX;
	if (w->o.lost_flag_every && w->data_buffers % w->o.lost_flag_every == 0)
		flags |= PT_ETL_BF_EVENTS_LOST;
	int rc;
	if (w->o.compress) {
		size_t clen = pt__xpress_compress(c->data + PT_ETL_BUFHDR, c->used - PT_ETL_BUFHDR,
						  w->zbuf + PT_ETL_BUFHDR);
		uint32_t total = (uint32_t)(PT_ETL_BUFHDR + clen);
		buf_header(w->zbuf, total, c->used, c->used, w->seq++, (uint16_t)cpu,
			   flags | PT_ETL_BF_COMPRESSED, 0, PT_ETL_COMPRESSION_XPRESS);
		rc = write_all(w, w->zbuf, total);
	} else {
		memset(c->data + c->used, 0xFF, w->bsize - c->used);
		buf_header(c->data, w->bsize, c->used, c->used, w->seq++, (uint16_t)cpu, flags, 0,
			   PT_ETL_COMPRESSION_XPRESS);
		rc = write_all(w, c->data, w->bsize);
	}
	w->buffers++;
	c->used = PT_ETL_BUFHDR;
	return rc;
}

/* Room for a record of len bytes (8-aligned) in cpu's buffer, flushing first if needed. */
static uint8_t *reserve(struct pt_etlw *w, uint32_t cpu, size_t len)
{
	size_t al = (len + 7) & ~(size_t)7;
	struct cpubuf *c = &w->cpus[cpu];
	if (c->used + al > w->bsize) {
		if (flush_cpu(w, cpu) < 0)
			return NULL;
	}
	uint8_t *p = c->data + c->used;
	memset(p, 0, al);
	c->used += (uint32_t)al;
	return p;
}

static void utf16(uint8_t *p, const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		put16(p + 2 * i, (uint8_t)s[i]);
	put16(p + 2 * i, 0);
}

/* The header buffer: logfile header record plus the group-mask extension record. */
static int build_header(struct pt_etlw *w)
{
	const char *logger = w->o.logger ? w->o.logger : "pooltrace";
	const char *logfile = "pooltrace.etl";
	size_t nl = strlen(logger), nf = strlen(logfile);
	if (nl > 200)
		nl = 200;
	size_t base = w->psize == 8 ? 0xF8 : 0xF0;
	size_t plen = base + 0x20 + 2 * (nl + 1) + 2 * (nf + 1);
	size_t rec1 = (0x20 + plen + 7) & ~(size_t)7;
	size_t rec2 = w->o.pool_tracing >= 0 ? 0x20 + 36 + 4 : 0;
	size_t used = PT_ETL_BUFHDR + rec1 + ((rec2 + 7) & ~(size_t)7);
	uint32_t hsize = w->o.compress ? 0x400 : w->bsize;
	while (hsize < used)
		hsize *= 2;
	w->header = calloc(1, hsize);
	if (!w->header)
		return PT_ENOMEM;
	w->header_len = hsize;
	memset(w->header + used, 0xFF, hsize - used);
	uint8_t *r = w->header + PT_ETL_BUFHDR;
	uint8_t *p = r + 0x20;
	/* SYSTEM header of the logfile record, hook 0, version 2 */
	put16(r, 2);
	r[2] = w->psize == 8 ? PT_ETL_HT_SYSTEM64 : PT_ETL_HT_SYSTEM32;
	r[3] = 0xC0;
	put16(r + 4, (uint16_t)(0x20 + plen));
	put16(r + 6, PT_ETL_HOOK_LOGFILE);
	put64(r + 0x10, w->t0);
	put32(p, w->bsize);
	put32(p + 4, 0x0000000A); /* Windows 10.0 */
	put32(p + 8, w->o.os_build);
	put32(p + 0xC, w->ncpus);
	put32(p + 0x18, 156250);
	put32(p + 0x20, w->o.compress ? 0x04010001u : 0x00000001u);
	put32(p + 0x28, 1);
	put32(p + 0x2C, w->psize);
	put32(p + 0x30, w->o.events_lost);
	put32(p + 0x34, w->o.cpu_mhz);
	put64(p + base, (uint64_t)w->start_ft - 36000000000ull); /* boot an hour earlier */
	uint32_t clock = PT_ETL_CLOCK_QPC;
	if (w->o.clock == PT_CLOCK_SYSTEM_TIME)
		clock = PT_ETL_CLOCK_SYSTEM;
	else if (w->o.clock == PT_CLOCK_CPU_CYCLES)
		clock = PT_ETL_CLOCK_CYCLES;
	put64(p + base + 8, clock == PT_ETL_CLOCK_QPC ? w->freq : 10000000u);
	put64(p + base + 0x10, (uint64_t)w->start_ft);
	put32(p + base + 0x18, clock);
	put32(p + base + 0x1C, w->o.buffers_lost);
	char name[201];
	memcpy(name, logger, nl);
	name[nl] = '\0';
	utf16(p + base + 0x20, name);
	utf16(p + base + 0x20 + 2 * (nl + 1), logfile);
	if (rec2) {
		uint8_t *x = r + rec1;
		put16(x, 2);
		x[2] = w->psize == 8 ? PT_ETL_HT_SYSTEM64 : PT_ETL_HT_SYSTEM32;
		x[3] = 0xC0;
		put16(x + 4, (uint16_t)rec2);
		put16(x + 6, PT_ETL_HOOK_EXTENSION);
		put64(x + 0x10, w->t0);
		uint8_t *m = x + 0x20;
		put32(m, 0x00000007); /* process, thread, image */
		if (w->o.pool_tracing > 0)
			put32(m + 4, PT_ETL_PERF_POOL_BIT);
		put32(m + 32, 2);
	}
	buf_header(w->header, hsize, (uint32_t)used, (uint32_t)used, w->seq++, 0,
		   w->o.compress ? PT_ETL_BF_FLUSH : (PT_ETL_BF_FLUSH | PT_ETL_BF_PROC_INDEX),
		   PT_ETL_BT_HEADER, PT_ETL_COMPRESSION_XPRESS);
	return 0;
}

int pt_etlw_open(struct pt_etlw **out, FILE *fp, const struct pt_etlw_opts *opts,
		 const struct pt_tags *tags)
{
	*out = NULL;
	struct pt_etlw *w = calloc(1, sizeof(*w));
	if (!w)
		return PT_ENOMEM;
	if (opts)
		w->o = *opts;
	w->fp = fp;
	w->tags = tags;
	w->psize = w->o.pointer_size ? w->o.pointer_size : 8;
	w->ncpus = w->o.num_cpus ? w->o.num_cpus : 1;
	w->bsize = w->o.buffer_size ? w->o.buffer_size : 65536;
	if (!w->o.os_build)
		w->o.os_build = 19045;
	if (!w->o.cpu_mhz)
		w->o.cpu_mhz = 3000;
	if (!w->o.start_unix_ns)
		w->o.start_unix_ns = DEFAULT_START_NS;
	if ((w->psize != 4 && w->psize != 8) || w->ncpus > 2048 || w->bsize < 1024 ||
	    (w->bsize & 7) || w->bsize > (64u << 20)) {
		free(w);
		return PT_EUSAGE;
	}
	w->start_ft = w->o.start_unix_ns / 100 + PT_FILETIME_UNIX_EPOCH;
	switch (w->o.clock) {
	case PT_CLOCK_SYSTEM_TIME:
		w->freq = 10000000u;
		w->t0 = (uint64_t)w->start_ft;
		break;
	case PT_CLOCK_CPU_CYCLES:
		w->freq = (uint64_t)w->o.cpu_mhz * 1000000u;
		w->t0 = T0_TICKS;
		break;
	default:
		w->o.clock = PT_CLOCK_QPC;
		w->freq = w->o.perf_freq ? w->o.perf_freq : 10000000u;
		w->t0 = T0_TICKS;
		break;
	}
	int rc = PT_ENOMEM;
	w->cpus = calloc(w->ncpus, sizeof(*w->cpus));
	w->zbuf = malloc(PT_ETL_BUFHDR + pt__xpress_bound(w->bsize));
	if (!w->cpus || !w->zbuf)
		goto fail;
	for (uint32_t i = 0; i < w->ncpus; i++) {
		w->cpus[i].data = malloc(w->bsize);
		if (!w->cpus[i].data)
			goto fail;
		w->cpus[i].used = PT_ETL_BUFHDR;
	}
	rc = build_header(w);
	if (rc < 0)
		goto fail;
	w->header_pos = ftell(fp);
	rc = write_all(w, w->header, w->header_len);
	if (rc < 0)
		goto fail;
	w->buffers = 1;
	*out = w;
	return 0;
fail:
	pt_etlw_free(w);
	return rc;
}

static uint32_t windows_pool_type(const struct pt_event *ev)
{
	uint32_t t;
	uint32_t f;
	if (pt_pool_from_windows(ev->raw_pool_type, &f) == ev->pool) {
		t = ev->raw_pool_type & ~0x10000000u;
	} else {
		switch (ev->pool) {
		case PT_POOL_PAGED:
			t = 1;
			break;
		case PT_POOL_NONPAGED_NX:
			t = 512;
			break;
		case PT_POOL_NONPAGED_SESSION:
			t = 32;
			break;
		case PT_POOL_PAGED_SESSION:
			t = 33;
			break;
		case PT_POOL_NONPAGED_SESSION_NX:
			t = 544;
			break;
		default:
			t = 0;
			break;
		}
	}
	if (ev->pool_flags & PT_POOLF_BIG)
		t |= 0x10000000u;
	return t;
}

/*
 * A StackWalk record (hook 0x1820: EventTimeStamp, StackProcess, StackThread,
 * frames) or an image rundown record (hook 0x1403, DCStart: ImageBase,
 * ImageSize, ProcessId, ImageCheckSum, TimeDateStamp, Reserved0, DefaultBase,
 * Reserved1..4, FileName). Frames and names are cut to fit one buffer.
 */
static int aux_record(struct pt_etlw *w, const struct pt_event *ev, uint32_t cpu, uint64_t ts)
{
	size_t hdr = w->o.header == PT_ETLW_SYSTEM ? 0x20 : w->o.header == PT_ETLW_COMPACT ? 0x18 : 0x10;
	size_t room = w->bsize - PT_ETL_BUFHDR - hdr;
	if (room > 0xFFF0 - hdr)
		room = 0xFFF0 - hdr; /* record sizes are 16-bit */
	size_t ps = w->psize;
	if (ev->kind == PT_EV_STACK) {
		size_t n = ev->frames ? ev->nframes : 0;
		if (n > (room - 16) / ps)
			n = (room - 16) / ps;
		size_t plen = 16 + n * ps;
		uint8_t *p = reserve(w, cpu, hdr + plen);
		if (!p)
			return PT_EIO;
		size_t h = kernel_header(w, p, PT_ETL_HOOK_STACKWALK, plen, ts, ev->tid, ev->pid, false);
		uint8_t *d = p + h;
		put64(d, ns_to_ticks(w, ev->stack_ts_ns));
		put32(d + 8, ev->pid);
		put32(d + 12, ev->tid);
		for (size_t i = 0; i < n; i++) {
			if (ps == 8)
				put64(d + 16 + 8 * i, ev->frames[i]);
			else
				put32(d + 16 + 4 * i, (uint32_t)ev->frames[i]);
		}
		return 0;
	}
	const char *name = ev->marker ? ev->marker : "";
	size_t fixed = 3 * ps + 32;
	size_t nlen = strlen(name);
	if (nlen > (room - fixed) / 2 - 1)
		nlen = (room - fixed) / 2 - 1;
	size_t plen = fixed + 2 * (nlen + 1);
	uint8_t *p = reserve(w, cpu, hdr + plen);
	if (!p)
		return PT_EIO;
	size_t h = kernel_header(w, p, (PT_ETL_GROUP_IMAGE << 8) | PT_ETL_OP_IMAGE_DC_START, plen, ts,
				 ev->tid, ev->pid, false);
	uint8_t *d = p + h;
	if (ps == 8) {
		put64(d, ev->addr);
		put64(d + 8, ev->size);
		put64(d + 24 + 8, ev->addr); /* DefaultBase */
	} else {
		put32(d, (uint32_t)ev->addr);
		put32(d + 4, (uint32_t)ev->size);
		put32(d + 12 + 12, (uint32_t)ev->addr);
	}
	put32(d + 2 * ps, ev->pid);
	for (size_t i = 0; i < nlen; i++)
		put16(d + fixed + 2 * i, (uint8_t)name[i]);
	put16(d + fixed + 2 * nlen, 0);
	return 0;
}

int pt_etlw_event(struct pt_etlw *w, const struct pt_event *ev)
{
	if (w->failed)
		return PT_EIO;
	uint32_t cpu = ev->cpu == PT_NONE32 ? 0 : ev->cpu % w->ncpus;
	uint64_t ts = ns_to_ticks(w, ev->ts_ns);
	if (ev->ts_ns > w->max_ts)
		w->max_ts = ev->ts_ns;
	if (ev->kind == PT_EV_MARKER) {
		const char *text = ev->marker ? ev->marker : "";
		size_t n = strlen(text);
		if (n > 1000)
			n = 1000;
		size_t hdr = w->o.header == PT_ETLW_SYSTEM ? 0x20 : w->o.header == PT_ETLW_COMPACT ? 0x18 : 0x10;
		uint8_t *p = reserve(w, cpu, hdr + n + 1);
		if (!p)
			return PT_EIO;
		size_t h = kernel_header(w, p, PT_ETL_HOOK_MARK, n + 1, ts, ev->tid, ev->pid, false);
		memcpy(p + h, text, n);
		p[h + n] = '\0';
		return 0;
	}
	if (ev->kind == PT_EV_STACK || ev->kind == PT_EV_IMAGE)
		return aux_record(w, ev, cpu, ts);
	uint16_t hook;
	switch (ev->kind) {
	case PT_EV_ALLOC:
		hook = PT_ETL_HOOK_POOL_ALLOC;
		break;
	case PT_EV_SESSION_ALLOC:
		hook = PT_ETL_HOOK_POOL_SESSION_ALLOC;
		break;
	case PT_EV_FREE:
		hook = PT_ETL_HOOK_POOL_FREE;
		break;
	case PT_EV_SESSION_FREE:
		hook = PT_ETL_HOOK_POOL_SESSION_FREE;
		break;
	default:
		w->skipped++;
		return 0;
	}
	bool session = hook == PT_ETL_HOOK_POOL_SESSION_ALLOC || hook == PT_ETL_HOOK_POOL_SESSION_FREE;
	size_t plen = 8 + 2 * (size_t)w->psize + (session ? 4 : 0);
	size_t hdr = w->o.header == PT_ETLW_SYSTEM ? 0x20 : w->o.header == PT_ETLW_COMPACT ? 0x18 : 0x10;
	uint8_t *p = reserve(w, cpu, hdr + plen);
	if (!p)
		return PT_EIO;
	size_t h = kernel_header(w, p, hook, plen, ts, ev->tid, ev->pid, false);
	uint8_t *d = p + h;
	put32(d, windows_pool_type(ev));
	uint32_t tag = 0x20202020u;
	size_t tlen = 0;
	const uint8_t *tb = ev->tag != PT_TAG_NONE ? pt_tags_bytes(w->tags, ev->tag, &tlen) : NULL;
	if (tb) {
		uint8_t t4[4] = {' ', ' ', ' ', ' '};
		memcpy(t4, tb, tlen < 4 ? tlen : 4);
		tag = pt__le32(t4);
	}
	put32(d + 4, tag);
	if (w->psize == 8) {
		put64(d + 8, ev->size);
		put64(d + 16, ev->addr);
	} else {
		put32(d + 8, (uint32_t)ev->size);
		put32(d + 12, (uint32_t)ev->addr);
	}
	if (session)
		put32(d + 8 + 2 * w->psize, ev->session_id);
	return 0;
}

int pt_etlw_finish(struct pt_etlw *w)
{
	for (uint32_t i = 0; i < w->ncpus; i++)
		if (flush_cpu(w, i) < 0)
			return PT_EIO;
	if (w->header_pos >= 0) {
		long pos = ftell(w->fp);
		uint8_t *p = w->header + PT_ETL_BUFHDR + 0x20;
		put32(p + 0x24, (uint32_t)w->buffers);
		uint64_t end = w->max_ts > w->o.end_ns ? w->max_ts : w->o.end_ns;
		uint64_t end_ft = (uint64_t)w->start_ft + end / 100;
		put64(p + 0x10, end_ft);
		if (pos >= 0 && fseek(w->fp, w->header_pos, SEEK_SET) == 0) {
			if (write_all(w, w->header, w->header_len) < 0)
				return PT_EIO;
			if (fseek(w->fp, pos, SEEK_SET) != 0)
				return PT_EIO;
		}
	}
	if (fflush(w->fp) != 0)
		return PT_EIO;
	return w->failed ? PT_EIO : 0;
}

uint64_t pt_etlw_buffers(const struct pt_etlw *w)
{
	return w->buffers;
}

uint64_t pt_etlw_skipped(const struct pt_etlw *w)
{
	return w->skipped;
}

void pt_etlw_free(struct pt_etlw *w)
{
	if (!w)
		return;
	if (w->cpus)
		for (uint32_t i = 0; i < w->ncpus; i++)
			free(w->cpus[i].data);
	free(w->cpus);
	free(w->zbuf);
	free(w->header);
	free(w);
}
