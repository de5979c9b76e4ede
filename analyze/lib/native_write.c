/* SPDX-License-Identifier: MIT */
/* Writer of the native trace format (include/pooltrace/native.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#ifdef PT_HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include "native_codec.h"
#include "pooltrace/error.h"
#include "pooltrace/native.h"

struct pt_native_writer {
	FILE *fp;
	const struct pt_tags *tags;
	struct pt_native_info info;
	char *own[8];            /* copies of info's strings */
	uint8_t *buf;            /* records of the pending chunk */
	size_t len, cap;
	uint32_t nrec;
	uint8_t *zbuf;           /* compressed chunk */
	size_t zcap;
	enum pt_native_codec codec; /* of the chunks (never DEFAULT) */
#ifdef PT_HAVE_ZSTD
	ZSTD_CCtx *zc;
#endif
	uint32_t *tag_chunk;     /* per tag id: 1 + chunk number it was last defined in */
	size_t ntag_chunk;
	uint64_t chunk_no;       /* chunks written */
	bool layout3;            /* "PTC3" chunks (zstd); zlib chunks keep layout 2 */
	uint8_t *col[PT_NATIVE_STREAMS]; /* layout 3: the field streams of the pending chunk */
	size_t col_len[PT_NATIVE_STREAMS];
	size_t col_total;        /* sum of col_len */
	uint8_t *raw;            /* layout 3: the payload assembled for compression */
	size_t raw_cap;
	uint64_t prev_ts;
	uint64_t prev_addr[PT_POOL_COUNT_]; /* layout 2 uses [0] for every pool */
	uint64_t events, bytes;
	uint64_t events_done;    /* events of the chunks written and flushed */
	int sys_errno;           /* errno of the failed write, 0 if none */
	bool failed, finished;
};

/* A growable byte block for header and trailer fields. */
struct fields {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void fields_put(struct fields *f, uint16_t key, const void *val, size_t n)
{
	if (f->oom || n > 0xffff)
		return;
	if (f->len + 4 + n > f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		while (cap < f->len + 4 + n)
			cap *= 2;
		uint8_t *np = realloc(f->p, cap);
		if (!np) {
			f->oom = true;
			return;
		}
		f->p = np;
		f->cap = cap;
	}
	pt__put_u16(f->p + f->len, key);
	pt__put_u16(f->p + f->len + 2, (uint16_t)n);
	if (n)
		memcpy(f->p + f->len + 4, val, n);
	f->len += 4 + n;
}

static void fields_str(struct fields *f, uint16_t key, const char *s)
{
	if (s && s[0])
		fields_put(f, key, s, strnlen(s, 0xffff));
}

static void fields_u64(struct fields *f, uint16_t key, uint64_t v)
{
	uint8_t b[8];
	pt__put_u64(b, v);
	fields_put(f, key, b, 8);
}

static void fields_info(struct fields *f, const struct pt_native_info *in)
{
	const struct pt_trace_meta *m = &in->meta;
	fields_str(f, PT_NK_HOST, m->host);
	fields_str(f, PT_NK_OS, m->os);
	fields_str(f, PT_NK_KERNEL, in->kernel);
	if (m->os_build)
		fields_u64(f, PT_NK_OS_BUILD, m->os_build);
	if (m->pointer_size)
		fields_u64(f, PT_NK_POINTER_SIZE, m->pointer_size);
	if (m->num_cpus)
		fields_u64(f, PT_NK_NUM_CPUS, m->num_cpus);
	fields_u64(f, PT_NK_CLOCK, (uint64_t)m->clock);
	if (m->perf_freq)
		fields_u64(f, PT_NK_PERF_FREQ, m->perf_freq);
	if (m->has_start_time)
		fields_u64(f, PT_NK_START_UNIX_NS, (uint64_t)m->start_unix_ns);
	fields_str(f, PT_NK_SOURCE_FORMAT, in->source_format);
	fields_str(f, PT_NK_COMMAND_LINE, in->command_line);
	fields_str(f, PT_NK_TAG_FILTER, in->tag_filter);
	fields_str(f, PT_NK_POOL_FILTER, in->pool_filter);
	fields_str(f, PT_NK_LOGGER, m->logger);
	fields_u64(f, PT_NK_FLAGS, m->snapshot_only ? PT_NATIVE_FLAG_SNAPSHOT_ONLY : 0);
	fields_u64(f, PT_NK_POOL_TRACING, (uint64_t)(int64_t)m->pool_tracing);
	fields_str(f, PT_NK_TOOL, in->tool);
	fields_str(f, PT_NK_WORKLOAD, in->workload);
	if (in->buffer_kb)
		fields_u64(f, PT_NK_BUFFER_KB, in->buffer_kb);
	if (in->stacks)
		fields_u64(f, PT_NK_STACKS, 1);
	fields_str(f, PT_NK_TRACE_CLOCK, in->trace_clock);
	if (in->snapshot_ns)
		fields_u64(f, PT_NK_SNAPSHOT_NS, in->snapshot_ns);
}

/* A write failed: remember why (ENOSPC, EIO, ...); the writer writes nothing more. */
static int write_failed(struct pt_native_writer *w)
{
	if (!w->failed)
		w->sys_errno = errno ? errno : EIO;
	w->failed = true;
	return PT_EIO;
}

static int put_bytes(struct pt_native_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return PT_EIO;
	errno = 0;
	if (n && fwrite(p, 1, n, w->fp) != n)
		return write_failed(w);
	w->bytes += n;
	return 0;
}

/* Hand everything buffered to the system; a chunk counts as written only after this. */
static int flush_out(struct pt_native_writer *w)
{
	if (w->failed)
		return PT_EIO;
	errno = 0;
	if (fflush(w->fp) != 0)
		return write_failed(w);
	return 0;
}

/*
 * Make what was written durable before the trailer says the file is complete,
 * so that a power loss cannot leave a trailer behind chunks that never reached
 * the disk. Streams that are not regular files (pipes, memory) are left alone.
 */
static int sync_out(struct pt_native_writer *w)
{
	int fd = fileno(w->fp);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	errno = 0;
#ifdef _WIN32
	int rc = _commit(fd);
#else
	int rc = fsync(fd);
#endif
	if (rc != 0 && errno != EINVAL && errno != ENOTSUP)
		return write_failed(w);
	return 0;
}

/* The string fields of an info, in one fixed order. */
#define INFO_NSTR 8

static const char **info_str(struct pt_native_info *in, int i)
{
	const char **f[INFO_NSTR] = {&in->kernel, &in->source_format, &in->command_line,
				     &in->tag_filter, &in->pool_filter, &in->tool,
				     &in->workload, &in->trace_clock};
	return f[i];
}

static void info_free(struct pt_native_writer *w)
{
	for (int i = 0; i < INFO_NSTR; i++)
		free(w->own[i]);
}

static int info_copy(struct pt_native_writer *w, const struct pt_native_info *src)
{
	w->info = *src;
	for (int i = 0; i < INFO_NSTR; i++) {
		const char **f = info_str(&w->info, i);
		if (!*f)
			continue;
		w->own[i] = strdup(*f);
		if (!w->own[i])
			return PT_ENOMEM;
		*f = w->own[i];
	}
	return 0;
}

bool pt_native_codec_available(enum pt_native_codec codec)
{
#ifdef PT_HAVE_ZSTD
	if (codec == PT_NATIVE_CODEC_ZSTD)
		return true;
#endif
	return codec == PT_NATIVE_CODEC_ZLIB;
}

int pt_native_writer_new(struct pt_native_writer **out, FILE *fp, const struct pt_tags *tags,
			 const struct pt_native_info *info)
{
	*out = NULL;
	struct pt_native_writer *w = calloc(1, sizeof(*w));
	struct fields f = {0};
	int rc = PT_ENOMEM;
	if (!w)
		return PT_ENOMEM;
	w->fp = fp;
	w->tags = tags;
	w->codec = info->codec;
	if (w->codec == PT_NATIVE_CODEC_DEFAULT)
		w->codec = pt_native_codec_available(PT_NATIVE_CODEC_ZSTD) ? PT_NATIVE_CODEC_ZSTD :
									      PT_NATIVE_CODEC_ZLIB;
	if (!pt_native_codec_available(w->codec)) {
		rc = PT_EUNSUPPORTED;
		goto out;
	}
	/*
	 * zlib chunks ("PTCK", the Windows capture's) keep the layout every reader
	 * knows; zstd chunks use layout 3, whose per-pool address deltas and
	 * implied raw pool types make the records about a quarter smaller and
	 * cheaper to decompress (docs/performance.md, "Native").
	 */
	w->layout3 = w->codec != PT_NATIVE_CODEC_ZLIB;
	/* a chunk is closed below PT_NATIVE_CHUNK_TARGET bytes and an event adds
	 * at most 10 bytes to a field stream, so these never grow */
	for (int i = 0; w->layout3 && i < PT_NATIVE_STREAMS; i++) {
		w->col[i] = malloc(PT_NATIVE_CHUNK_TARGET + 64);
		if (!w->col[i])
			goto out;
	}
	if (info_copy(w, info) < 0)
		goto out;
	w->cap = PT_NATIVE_CHUNK_TARGET + 4096;
	w->buf = malloc(w->cap);
	if (!w->buf)
		goto out;
	fields_info(&f, info);
	if (f.oom)
		goto out;
	uint8_t hdr[PT_NATIVE_FILE_HDR_FIXED], crc[4];
	memcpy(hdr, PT_NATIVE_MAGIC, PT_NATIVE_MAGIC_LEN);
	pt__put_u16(hdr + 8, PT_NATIVE_VERSION_MAJOR);
	pt__put_u16(hdr + 10, PT_NATIVE_VERSION_MINOR);
	pt__put_u32(hdr + 12, (uint32_t)f.len);
	uLong c = crc32(0L, hdr + 8, 8);
	c = crc32(c, f.p, (uInt)f.len);
	pt__put_u32(crc, (uint32_t)c);
	rc = put_bytes(w, hdr, sizeof(hdr));
	if (!rc)
		rc = put_bytes(w, f.p, f.len);
	if (!rc)
		rc = put_bytes(w, crc, 4);
	if (!rc)
		rc = flush_out(w); /* a file that cannot take its header fails here, not later */
	if (rc < 0 && w->sys_errno)
		errno = w->sys_errno;
out:
	free(f.p);
	if (rc < 0) {
		pt_native_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/*
 * Layout 3: the payload of the pending chunk, as native.h describes it (the
 * stream lengths, the field streams, the record stream) in w->raw.
 * @return: its length, or 0 when out of memory.
 */
static size_t assemble(struct pt_native_writer *w)
{
	size_t n = 4 * PT_NATIVE_STREAMS + w->col_total + w->len;
	if (n > w->raw_cap) {
		uint8_t *nr = realloc(w->raw, n);
		if (!nr)
			return 0;
		w->raw = nr;
		w->raw_cap = n;
	}
	uint8_t *p = w->raw;
	for (int i = 0; i < PT_NATIVE_STREAMS; i++, p += 4)
		pt__put_u32(p, (uint32_t)w->col_len[i]);
	for (int i = 0; i < PT_NATIVE_STREAMS; i++) {
		memcpy(p, w->col[i], w->col_len[i]);
		p += w->col_len[i];
	}
	memcpy(p, w->buf, w->len);
	return n;
}

/*
 * Compress the pending chunk's @len payload bytes at @src into w->zbuf.
 * @return: the compressed length, or 0 on failure.
 */
static size_t compress_chunk(struct pt_native_writer *w, const uint8_t *src, size_t len)
{
	size_t bound = compressBound((uLong)len);
#ifdef PT_HAVE_ZSTD
	if (w->codec == PT_NATIVE_CODEC_ZSTD)
		bound = ZSTD_compressBound(len);
#endif
	if (bound > w->zcap) {
		uint8_t *nz = realloc(w->zbuf, bound);
		if (!nz)
			return 0;
		w->zbuf = nz;
		w->zcap = bound;
	}
#ifdef PT_HAVE_ZSTD
	if (w->codec == PT_NATIVE_CODEC_ZSTD) {
		if (!w->zc) {
			w->zc = ZSTD_createCCtx();
			if (!w->zc)
				return 0;
			/*
			 * level 3 (zstd's default): about zlib level 6's size, in less
			 * time. Matches of 6 bytes or more only: fewer, longer matches
			 * make decompression cheaper (about 140 instead of 155
			 * instructions an event on the churn benchmark) for 2.5 %
			 * more bytes.
			 */
			if (ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, 3)) ||
			    ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_minMatch, 6)))
				return 0;
		}
		size_t n = ZSTD_compress2(w->zc, w->zbuf, w->zcap, src, len);
		return ZSTD_isError(n) ? 0 : n;
	}
#endif
	uLongf zlen = (uLongf)w->zcap;
	if (compress2(w->zbuf, &zlen, src, (uLong)len, 6) != Z_OK)
		return 0;
	return (size_t)zlen;
}

static int emit_chunk(struct pt_native_writer *w)
{
	if (!w->nrec)
		return 0;
	const uint8_t *src = w->buf;
	size_t ulen = w->len;
	if (w->layout3) {
		ulen = assemble(w);
		if (!ulen)
			return PT_ENOMEM;
		src = w->raw;
	}
	size_t zlen = compress_chunk(w, src, ulen);
	if (!zlen)
		return PT_ENOMEM;
	/* zlib payloads keep the "PTCK" layout every reader version knows */
	bool v2 = w->codec != PT_NATIVE_CODEC_ZLIB;
	uint8_t hdr[PT_NATIVE_CHUNK2_HDR_SIZE];
	size_t hsize = v2 ? PT_NATIVE_CHUNK2_HDR_SIZE : PT_NATIVE_CHUNK_HDR_SIZE;
	uint8_t *f = hdr + 4;
	if (v2) {
		memcpy(hdr, w->layout3 ? PT_NATIVE_CHUNK3_MAGIC : PT_NATIVE_CHUNK2_MAGIC, 4);
		hdr[4] = (uint8_t)w->codec;
		hdr[5] = hdr[6] = hdr[7] = 0;
		f = hdr + 8;
	} else {
		memcpy(hdr, PT_NATIVE_CHUNK_MAGIC, 4);
	}
	pt__put_u32(f, (uint32_t)zlen);
	pt__put_u32(f + 4, (uint32_t)ulen);
	pt__put_u32(f + 8, w->nrec);
	pt__put_u32(f + 12, (uint32_t)crc32(0L, w->zbuf, (uInt)zlen));
	pt__put_u32(f + 16, (uint32_t)crc32(0L, hdr, (uInt)hsize - 4));
	int rc = put_bytes(w, hdr, hsize);
	if (!rc)
		rc = put_bytes(w, w->zbuf, zlen);
	/* whole chunks go out at once: what is counted as written has left the process */
	if (!rc)
		rc = flush_out(w);
	if (rc < 0)
		return rc;
	w->chunk_no++;
	w->events_done = w->events;
	w->len = 0;
	memset(w->col_len, 0, sizeof(w->col_len));
	w->col_total = 0;
	w->nrec = 0;
	w->prev_ts = 0;
	memset(w->prev_addr, 0, sizeof(w->prev_addr));
	return 0;
}

/* Make sure the tag is defined in the current chunk; append its record if not. */
static int define_tag(struct pt_native_writer *w, pt_tag_id id)
{
	if (id >= PT_NATIVE_MAX_TAG_ID)
		return PT_ELIMIT;
	if (id >= w->ntag_chunk) {
		size_t n = w->ntag_chunk ? w->ntag_chunk : 64;
		while (n <= id)
			n *= 2;
		uint32_t *nt = realloc(w->tag_chunk, n * sizeof(*nt));
		if (!nt)
			return PT_ENOMEM;
		memset(nt + w->ntag_chunk, 0, (n - w->ntag_chunk) * sizeof(*nt));
		w->tag_chunk = nt;
		w->ntag_chunk = n;
	}
	uint32_t mark = (uint32_t)(w->chunk_no + 1);
	if (w->tag_chunk[id] == mark)
		return 0;
	size_t len;
	const uint8_t *bytes = pt_tags_bytes(w->tags, id, &len);
	if (!bytes || len == 0 || len > PT_TAG_MAX_LEN)
		return PT_EUSAGE;
	uint8_t *p = w->buf + w->len;
	*p++ = PT_NATIVE_REC_TAG;
	p += pt__put_varint(p, id);
	p += pt__put_varint(p, len);
	memcpy(p, bytes, len);
	p += len;
	w->len = (size_t)(p - w->buf);
	w->nrec++;
	w->tag_chunk[id] = mark;
	return 0;
}

/* Append a prefix varint to field stream i of a layout-3 chunk. */
static inline void col_varint(struct pt_native_writer *w, int i, uint64_t v)
{
	size_t n = pt__put_pvarint(w->col[i] + w->col_len[i], v);
	w->col_len[i] += n;
	w->col_total += n;
}

/* Layout 3: the fields of an event that have a field stream, each into its own. */
static void put_fields3(struct pt_native_writer *w, const struct pt_event *ev, uint32_t bits)
{
	col_varint(w, PT_NATIVE_S_TS, pt__zigzag((int64_t)(ev->ts_ns - w->prev_ts)));
	w->prev_ts = ev->ts_ns;
	if (bits & PT_NATIVE_F_TAG)
		col_varint(w, PT_NATIVE_S_TAG, ev->tag);
	if (bits & PT_NATIVE_F_POOL) {
		w->col[PT_NATIVE_S_POOL][w->col_len[PT_NATIVE_S_POOL]++] = (uint8_t)ev->pool;
		w->col_total++;
	}
	if (bits & PT_NATIVE_F_SIZE)
		col_varint(w, PT_NATIVE_S_SIZE, ev->size);
	if (bits & PT_NATIVE_F_ADDR) {
		/* against the same pool's previous address: pools live apart */
		uint64_t *prev = &w->prev_addr[ev->pool];
		col_varint(w, PT_NATIVE_S_ADDR, pt__zigzag((int64_t)(ev->addr - *prev)));
		*prev = ev->addr;
	}
	if (bits & PT_NATIVE_F_PID)
		col_varint(w, PT_NATIVE_S_PID, ev->pid);
	if (bits & PT_NATIVE_F_TID)
		col_varint(w, PT_NATIVE_S_TID, ev->tid);
	if (bits & PT_NATIVE_F_CPU)
		col_varint(w, PT_NATIVE_S_CPU, ev->cpu);
}

int pt_native_write_event(struct pt_native_writer *w, const struct pt_event *ev)
{
	if (w->failed)
		return PT_EIO;
	if (w->finished)
		return PT_ESTATE;
	if ((unsigned)ev->kind >= PT_EV_KIND_COUNT_ || (unsigned)ev->pool >= PT_POOL_COUNT_)
		return PT_EUSAGE;
	uint32_t nframes = ev->kind == PT_EV_STACK && ev->frames ? ev->nframes : 0;
	if (nframes > PT_STACK_MAX_FRAMES)
		nframes = PT_STACK_MAX_FRAMES;
	size_t mlen = 0;
	if (ev->marker) {
		mlen = strlen(ev->marker);
		if (mlen > PT_NATIVE_MAX_MARKER)
			mlen = PT_NATIVE_MAX_MARKER;
	}
	/* worst case: tag record + event record */
	size_t need = 1 + 20 + PT_TAG_MAX_LEN + 1 + 2 * 10 + 15 * 10 + mlen + (size_t)nframes * 10;
	if (w->len + need > w->cap || w->len + w->col_total >= PT_NATIVE_CHUNK_TARGET) {
		int rc = emit_chunk(w);
		if (rc < 0)
			return rc;
	}
	if (w->len + need > w->cap) {
		uint8_t *nb = realloc(w->buf, w->len + need);
		if (!nb)
			return PT_ENOMEM;
		w->buf = nb;
		w->cap = w->len + need;
	}
	if (ev->tag != PT_TAG_NONE) {
		int rc = define_tag(w, ev->tag);
		if (rc < 0)
			return rc;
	}
	uint32_t bits = 0;
	if (ev->tag != PT_TAG_NONE)
		bits |= PT_NATIVE_F_TAG;
	if (ev->pool != 0)
		bits |= PT_NATIVE_F_POOL;
	if (ev->size)
		bits |= PT_NATIVE_F_SIZE;
	if (ev->addr)
		bits |= PT_NATIVE_F_ADDR;
	if (ev->pid != PT_NONE32)
		bits |= PT_NATIVE_F_PID;
	if (ev->tid != PT_NONE32)
		bits |= PT_NATIVE_F_TID;
	if (ev->cpu != PT_NONE32)
		bits |= PT_NATIVE_F_CPU;
	if (ev->pool_flags)
		bits |= PT_NATIVE_F_POOL_FLAGS;
	if (ev->raw_pool_type != (w->layout3 ? pt__native_raw_pool(ev->pool) : 0))
		bits |= PT_NATIVE_F_RAW_POOL;
	if (ev->session_id != PT_NONE32)
		bits |= PT_NATIVE_F_SESSION;
	if (ev->snap_allocs)
		bits |= PT_NATIVE_F_SNAP_ALLOCS;
	if (ev->snap_frees)
		bits |= PT_NATIVE_F_SNAP_FREES;
	if (ev->marker)
		bits |= PT_NATIVE_F_MARKER;
	if (ev->kind == PT_EV_STACK)
		bits |= PT_NATIVE_F_STACK_TS;
	if (nframes)
		bits |= PT_NATIVE_F_FRAMES;

	uint8_t *p = w->buf + w->len;
	*p++ = (uint8_t)(PT_NATIVE_REC_EVENT + ev->kind);
	p += pt__put_varint(p, bits);
	if (w->layout3) {
		put_fields3(w, ev, bits);
		goto rare;
	}
	p += pt__put_varint(p, pt__zigzag((int64_t)(ev->ts_ns - w->prev_ts)));
	w->prev_ts = ev->ts_ns;
	if (bits & PT_NATIVE_F_TAG)
		p += pt__put_varint(p, ev->tag);
	if (bits & PT_NATIVE_F_POOL)
		*p++ = (uint8_t)ev->pool;
	if (bits & PT_NATIVE_F_SIZE)
		p += pt__put_varint(p, ev->size);
	if (bits & PT_NATIVE_F_ADDR) {
		p += pt__put_varint(p, pt__zigzag((int64_t)(ev->addr - w->prev_addr[0])));
		w->prev_addr[0] = ev->addr;
	}
	if (bits & PT_NATIVE_F_PID)
		p += pt__put_varint(p, ev->pid);
	if (bits & PT_NATIVE_F_TID)
		p += pt__put_varint(p, ev->tid);
	if (bits & PT_NATIVE_F_CPU)
		p += pt__put_varint(p, ev->cpu);
rare:
	if (bits & PT_NATIVE_F_POOL_FLAGS)
		p += pt__put_varint(p, ev->pool_flags);
	if (bits & PT_NATIVE_F_RAW_POOL)
		p += pt__put_varint(p, ev->raw_pool_type);
	if (bits & PT_NATIVE_F_SESSION)
		p += pt__put_varint(p, ev->session_id);
	if (bits & PT_NATIVE_F_SNAP_ALLOCS)
		p += pt__put_varint(p, ev->snap_allocs);
	if (bits & PT_NATIVE_F_SNAP_FREES)
		p += pt__put_varint(p, ev->snap_frees);
	if (bits & PT_NATIVE_F_MARKER) {
		p += pt__put_varint(p, mlen);
		memcpy(p, ev->marker, mlen);
		p += mlen;
	}
	if (bits & PT_NATIVE_F_STACK_TS)
		p += pt__put_varint(p, pt__zigzag((int64_t)(ev->stack_ts_ns - ev->ts_ns)));
	if (bits & PT_NATIVE_F_FRAMES) {
		uint64_t prev = 0;
		p += pt__put_varint(p, nframes);
		for (uint32_t i = 0; i < nframes; i++) {
			p += pt__put_varint(p, pt__zigzag((int64_t)(ev->frames[i] - prev)));
			prev = ev->frames[i];
		}
	}
	w->len = (size_t)(p - w->buf);
	w->nrec++;
	w->events++;
	return 0;
}

int pt_native_writer_flush(struct pt_native_writer *w)
{
	if (w->failed)
		return PT_EIO;
	int rc = emit_chunk(w);
	if (rc < 0)
		return rc;
	return flush_out(w);
}

int pt_native_writer_finish(struct pt_native_writer *w, const struct pt_native_info *info,
			    const struct pt_native_totals *t)
{
	if (w->finished)
		return PT_ESTATE;
	int rc = pt_native_writer_flush(w);
	if (!rc)
		rc = sync_out(w);
	if (rc < 0)
		return rc; /* no trailer: the file reads back as cut short */
	struct fields f = {0};
	fields_info(&f, info ? info : &w->info);
	fields_u64(&f, PT_NK_T_EVENTS, w->events);
	fields_u64(&f, PT_NK_T_CHUNKS, w->chunk_no);
	fields_u64(&f, PT_NK_T_TAGS, pt_tags_count(w->tags));
	if (t) {
		fields_u64(&f, PT_NK_T_END_NS, t->end_ns);
		fields_u64(&f, PT_NK_T_LOST_KNOWN, t->lost_known ? 1 : 0);
		fields_u64(&f, PT_NK_T_EVENTS_LOST, t->events_lost);
		fields_u64(&f, PT_NK_T_BUFFERS_LOST, t->buffers_lost);
		if (t->lost_per_cpu && t->ncpus && t->ncpus <= 0xffff / 8) {
			uint8_t *a = malloc(t->ncpus * 8);
			if (!a) {
				f.oom = true;
			} else {
				for (size_t i = 0; i < t->ncpus; i++)
					pt__put_u64(a + 8 * i, t->lost_per_cpu[i]);
				fields_put(&f, PT_NK_T_LOST_PER_CPU, a, t->ncpus * 8);
				free(a);
			}
		}
		fields_str(&f, PT_NK_T_STOP_REASON, t->stop_reason);
		if (t->has_workload_status)
			fields_u64(&f, PT_NK_T_WORKLOAD_STATUS, (uint64_t)t->workload_status);
		if (t->untracked_frees)
			fields_u64(&f, PT_NK_T_UNTRACKED_FREES, t->untracked_frees);
	}
	if (f.oom) {
		free(f.p);
		return PT_ENOMEM;
	}
	uint8_t hdr[8], crc[4];
	memcpy(hdr, PT_NATIVE_TRAILER_MAGIC, 4);
	pt__put_u32(hdr + 4, (uint32_t)f.len);
	uLong c = crc32(0L, hdr + 4, 4);
	c = crc32(c, f.p, (uInt)f.len);
	pt__put_u32(crc, (uint32_t)c);
	rc = put_bytes(w, hdr, 8);
	if (!rc)
		rc = put_bytes(w, f.p, f.len);
	if (!rc)
		rc = put_bytes(w, crc, 4);
	free(f.p);
	if (!rc)
		rc = flush_out(w);
	if (!rc)
		rc = sync_out(w);
	w->finished = true;
	return rc;
}

void pt_native_writer_free(struct pt_native_writer *w)
{
	if (!w)
		return;
	info_free(w);
	free(w->buf);
	for (int i = 0; i < PT_NATIVE_STREAMS; i++)
		free(w->col[i]);
	free(w->raw);
	free(w->zbuf);
#ifdef PT_HAVE_ZSTD
	ZSTD_freeCCtx(w->zc);
#endif
	free(w->tag_chunk);
	free(w);
}

uint64_t pt_native_writer_events(const struct pt_native_writer *w)
{
	return w->events;
}

uint64_t pt_native_writer_bytes(const struct pt_native_writer *w)
{
	return w->bytes;
}

uint64_t pt_native_writer_chunks(const struct pt_native_writer *w)
{
	return w->chunk_no;
}

uint64_t pt_native_writer_events_done(const struct pt_native_writer *w)
{
	return w->events_done;
}

int pt_native_writer_errno(const struct pt_native_writer *w)
{
	return w->sys_errno;
}
