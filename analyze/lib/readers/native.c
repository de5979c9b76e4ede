/* SPDX-License-Identifier: MIT */
/*
 * Reader of the native trace format (include/pooltrace/native.h).
 * A file cut short reads up to its last whole chunk, with a warning; a
 * damaged chunk is an error naming its offset, or with keep_going is
 * skipped (the next chunk is found by its magic).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef PT_HAVE_ZSTD
#include <zstd.h>
#endif

#include "native_codec.h"
#include "pooltrace/error.h"
#include "pooltrace/native.h"
#include "readers/readers.h"

struct native {
	uint8_t *chunk;          /* decompressed records of the current chunk */
	size_t len, pos;
	size_t cap;
	uint8_t *zbuf;
	size_t zcap;
	uint64_t chunk_off;      /* file offset of the current chunk */
	uint32_t rec_no;         /* records decoded in the current chunk */
	bool layout3;            /* the current chunk is a "PTC3" chunk (record layout 3) */
	uint64_t prev_ts;
	uint64_t prev_addr[PT_POOL_COUNT_]; /* per pool in layout 3; [0] only before */
	const uint8_t *col[PT_NATIVE_STREAMS];     /* layout 3: next value of each field stream */
	const uint8_t *col_end[PT_NATIVE_STREAMS]; /* and where each stream ends */
	pt_tag_id *tagmap;       /* file tag id -> table id (PT_TAG_NONE: not defined) */
	size_t ntagmap;
	bool done;
	int failed;              /* error of a bad record: later calls return it again */
	bool saw_trailer;
	uint64_t chunks;
	z_stream zs;             /* raw inflate of zlib payloads */
	bool zs_ready;
#ifdef PT_HAVE_ZSTD
	ZSTD_DCtx *zd;
#endif
	char marker[PT_NATIVE_MAX_MARKER + 1];
	uint64_t frames[PT_STACK_MAX_FRAMES];
};

static int probe(const uint8_t *head, size_t len)
{
	if (len >= PT_NATIVE_MAGIC_LEN && !memcmp(head, PT_NATIVE_MAGIC, PT_NATIVE_MAGIC_LEN))
		return 100;
	return 0;
}

static void copy_str(char *dst, size_t dstsz, const uint8_t *v, size_t n)
{
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (dst[i] == '\0')
			dst[i] = ' ';
}

/* Apply a header or trailer field block to the metadata. */
static int apply_fields(struct pt_reader *r, const uint8_t *p, size_t len, uint64_t off)
{
	struct pt_trace_meta *m = &r->meta;
	const uint8_t *end = p + len;
	while (p < end) {
		if ((size_t)(end - p) < 4)
			return pt_reader_error_at(r, PT_EFORMAT, off, "field block ends inside a field header");
		uint16_t key = pt__get_u16(p), n = pt__get_u16(p + 2);
		p += 4;
		if ((size_t)(end - p) < n)
			return pt_reader_error_at(r, PT_EFORMAT, off,
						  "field %u claims %u bytes, only %zu left", key, n,
						  (size_t)(end - p));
		const uint8_t *v = p;
		p += n;
		bool is_u64 = n == 8;
		uint64_t u = is_u64 ? pt__get_u64(v) : 0;
		switch (key) {
		case PT_NK_HOST:
			copy_str(m->host, sizeof(m->host), v, n);
			break;
		case PT_NK_OS:
			copy_str(m->os, sizeof(m->os), v, n);
			break;
		case PT_NK_LOGGER:
			copy_str(m->logger, sizeof(m->logger), v, n);
			break;
		case PT_NK_OS_BUILD:
			if (is_u64 && u <= UINT32_MAX)
				m->os_build = (uint32_t)u;
			break;
		case PT_NK_POINTER_SIZE:
			if (is_u64 && (u == 4 || u == 8))
				m->pointer_size = (uint32_t)u;
			break;
		case PT_NK_NUM_CPUS:
			if (is_u64 && u <= UINT32_MAX)
				m->num_cpus = (uint32_t)u;
			break;
		case PT_NK_CLOCK:
			if (is_u64 && u <= PT_CLOCK_WALL)
				m->clock = (enum pt_clock)u;
			break;
		case PT_NK_PERF_FREQ:
			if (is_u64)
				m->perf_freq = u;
			break;
		case PT_NK_START_UNIX_NS:
			if (is_u64) {
				m->has_start_time = true;
				m->start_unix_ns = (int64_t)u;
			}
			break;
		case PT_NK_FLAGS:
			if (is_u64)
				m->snapshot_only = (u & PT_NATIVE_FLAG_SNAPSHOT_ONLY) != 0;
			break;
		case PT_NK_POOL_TRACING:
			if (is_u64 && ((int64_t)u >= -1 && (int64_t)u <= 1))
				m->pool_tracing = (int)(int64_t)u;
			break;
		case PT_NK_T_END_NS:
			if (is_u64 && u > m->end_ns)
				m->end_ns = u;
			break;
		case PT_NK_T_LOST_KNOWN:
			if (is_u64)
				m->lost_known = u != 0;
			break;
		case PT_NK_T_EVENTS_LOST:
			if (is_u64)
				m->events_lost = u;
			break;
		case PT_NK_T_BUFFERS_LOST:
			if (is_u64)
				m->buffers_lost = u;
			break;
		default:
			break; /* other keys: informational, or newer than this reader */
		}
	}
	return 0;
}

static int open_native(struct pt_reader *r)
{
	struct native *s = calloc(1, sizeof(*s));
	uint8_t *blk = NULL;
	int rc;
	if (!s)
		return PT_ENOMEM;
	r->priv = s;
	uint8_t hdr[PT_NATIVE_FILE_HDR_FIXED];
	ssize_t got = pt_input_read_full(r->in, hdr, sizeof(hdr));
	if (got < 0)
		return (int)got;
	if ((size_t)got < sizeof(hdr))
		return pt_reader_error_at(r, PT_ETRUNCATED, 0, "file ends inside the native header");
	if (memcmp(hdr, PT_NATIVE_MAGIC, PT_NATIVE_MAGIC_LEN))
		return pt_reader_error_at(r, PT_EFORMAT, 0, "not a native pooltrace file (bad magic)");
	uint16_t major = pt__get_u16(hdr + 8);
	uint32_t flen = pt__get_u32(hdr + 12);
	if (major != PT_NATIVE_VERSION_MAJOR)
		return pt_reader_error_at(r, PT_EUNSUPPORTED, 8,
					  "native format version %u.%u; this reader knows %u.x",
					  major, pt__get_u16(hdr + 10), PT_NATIVE_VERSION_MAJOR);
	if (flen > PT_NATIVE_MAX_FIELDS_LEN)
		return pt_reader_error_at(r, PT_ELIMIT, 12, "header field block of %u bytes (limit %u)",
					  flen, PT_NATIVE_MAX_FIELDS_LEN);
	blk = malloc((size_t)flen + 4);
	if (!blk)
		return PT_ENOMEM;
	got = pt_input_read_full(r->in, blk, (size_t)flen + 4);
	if (got < 0) {
		rc = (int)got;
		goto out;
	}
	if ((size_t)got < (size_t)flen + 4) {
		rc = pt_reader_error_at(r, PT_ETRUNCATED, PT_NATIVE_FILE_HDR_FIXED,
					"file ends inside the native header");
		goto out;
	}
	uLong c = crc32(0L, hdr + 8, 8);
	c = crc32(c, blk, (uInt)flen);
	if ((uint32_t)c != pt__get_u32(blk + flen)) {
		rc = pt_reader_error_at(r, PT_EFORMAT, PT_NATIVE_FILE_HDR_FIXED + flen,
					"header checksum mismatch");
		goto out;
	}
	rc = apply_fields(r, blk, flen, PT_NATIVE_FILE_HDR_FIXED);
out:
	free(blk);
	return rc;
}

/* Skip n bytes of input. */
static int skip_bytes(struct pt_reader *r, uint64_t n)
{
	uint8_t tmp[4096];
	while (n) {
		size_t want = n < sizeof(tmp) ? (size_t)n : sizeof(tmp);
		ssize_t got = pt_input_read(r->in, tmp, want);
		if (got <= 0)
			return got < 0 ? (int)got : 0;
		n -= (uint64_t)got;
	}
	return 0;
}

/* keep_going: move to the next chunk or trailer magic after the current position. */
static int resync(struct pt_reader *r)
{
	if (skip_bytes(r, 1) < 0)
		return PT_EIO;
	for (;;) {
		size_t got;
		const uint8_t *p = pt_input_peek(r->in, PT_INPUT_PEEK_MAX, &got);
		if (!p)
			return PT_EIO;
		if (got < 4)
			return skip_bytes(r, got);
		for (size_t i = 0; i + 4 <= got; i++)
			if (!memcmp(p + i, PT_NATIVE_CHUNK_MAGIC, 4) ||
			    !memcmp(p + i, PT_NATIVE_CHUNK2_MAGIC, 4) ||
			    !memcmp(p + i, PT_NATIVE_CHUNK3_MAGIC, 4) ||
			    !memcmp(p + i, PT_NATIVE_TRAILER_MAGIC, 4))
				return skip_bytes(r, i);
		int rc = skip_bytes(r, got - 3);
		if (rc < 0)
			return rc;
	}
}

static int read_trailer(struct pt_reader *r, uint64_t off)
{
	struct native *s = r->priv;
	uint8_t hdr[8];
	ssize_t got = pt_input_read_full(r->in, hdr, sizeof(hdr));
	if (got < 0)
		return (int)got;
	if ((size_t)got < sizeof(hdr)) {
		pt_reader_warn_cut(r, "offset %llu: file ends inside the trailer; totals and lost-event "
			       "counts are missing", (unsigned long long)off);
		return 0;
	}
	uint32_t flen = pt__get_u32(hdr + 4);
	if (flen > PT_NATIVE_MAX_FIELDS_LEN)
		return pt_reader_error_at(r, PT_ELIMIT, off, "trailer field block of %u bytes (limit %u)",
					  flen, PT_NATIVE_MAX_FIELDS_LEN);
	uint8_t *blk = malloc((size_t)flen + 4);
	if (!blk)
		return PT_ENOMEM;
	int rc = 0;
	got = pt_input_read_full(r->in, blk, (size_t)flen + 4);
	if (got < 0) {
		rc = (int)got;
		goto out;
	}
	if ((size_t)got < (size_t)flen + 4) {
		pt_reader_warn_cut(r, "offset %llu: file ends inside the trailer; totals and lost-event "
			       "counts are missing", (unsigned long long)off);
		goto out;
	}
	uLong c = crc32(0L, hdr + 4, 4);
	c = crc32(c, blk, (uInt)flen);
	if ((uint32_t)c != pt__get_u32(blk + flen)) {
		if (!r->opts.keep_going) {
			rc = pt_reader_error_at(r, PT_EFORMAT, off, "trailer checksum mismatch");
			goto out;
		}
		pt_reader_warn(r, 0, "offset %llu: trailer checksum mismatch; trailer ignored",
			       (unsigned long long)off);
		goto out;
	}
	rc = apply_fields(r, blk, flen, off + 8);
	if (rc == 0)
		s->saw_trailer = true;
out:
	free(blk);
	return rc;
}

/* Zero bytes kept after a chunk's records: a varint may be read that far past them. */
#define CHUNK_PAD 16

/* The 2-byte RFC 1950 header of a deflate stream without a preset dictionary. */
static bool zlib_header_ok(const uint8_t *p)
{
	return (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && !(p[1] & 0x20) &&
	       ((unsigned)p[0] << 8 | p[1]) % 31 == 0;
}

/*
 * Decompress a chunk payload whose CRC-32 was checked into s->chunk.
 * zlib payloads are inflated raw: the Adler-32 at their end would check the
 * same bytes again. @return: NULL, or what is wrong with the payload.
 */
static const char *decompress(struct native *s, unsigned codec, uint32_t clen, uint32_t ulen,
			      int *err)
{
	*err = 0;
	if (codec == PT_NATIVE_CODEC_ZLIB) {
		if (clen < 6 || !zlib_header_ok(s->zbuf))
			return "chunk does not decompress to its stated length";
		if (!s->zs_ready) {
			memset(&s->zs, 0, sizeof(s->zs));
			if (inflateInit2(&s->zs, -15) != Z_OK) {
				*err = PT_ENOMEM;
				return "out of memory";
			}
			s->zs_ready = true;
		} else if (inflateReset(&s->zs) != Z_OK) {
			return "chunk does not decompress to its stated length";
		}
		s->zs.next_in = s->zbuf + 2;
		s->zs.avail_in = clen - 2;
		s->zs.next_out = s->chunk;
		s->zs.avail_out = ulen;
		int zr = inflate(&s->zs, Z_FINISH);
		/* the stream ends exactly at U bytes, followed by nothing but its Adler-32 */
		if (zr != Z_STREAM_END || s->zs.avail_out != 0 || s->zs.avail_in < 4)
			return "chunk does not decompress to its stated length";
		return NULL;
	}
#ifdef PT_HAVE_ZSTD
	if (codec == PT_NATIVE_CODEC_ZSTD) {
		if (!s->zd) {
			s->zd = ZSTD_createDCtx();
			if (!s->zd) {
				*err = PT_ENOMEM;
				return "out of memory";
			}
		}
		size_t got = ZSTD_decompressDCtx(s->zd, s->chunk, ulen, s->zbuf, clen);
		if (ZSTD_isError(got) || got != ulen)
			return "chunk does not decompress to its stated length";
		return NULL;
	}
#endif
	*err = PT_EUNSUPPORTED;
	return "chunk codec not supported by this build";
}

/* Largest payload a chunk of ulen record bytes can need with its codec. */
static uint64_t payload_bound(unsigned codec, uint32_t ulen)
{
#ifdef PT_HAVE_ZSTD
	if (codec == PT_NATIVE_CODEC_ZSTD)
		return (uint64_t)ZSTD_compressBound(ulen) + 64;
#endif
	(void)codec;
	return (uint64_t)compressBound(ulen) + 64;
}

/*
 * Layout 3: find the field streams and the record stream in the ulen
 * decompressed bytes of s->chunk. @return: NULL, or what is wrong.
 */
static const char *split_streams(struct native *s, uint32_t ulen, size_t *rec_start)
{
	size_t pos = 4 * PT_NATIVE_STREAMS;
	if (ulen < pos)
		return "chunk field streams do not fit the chunk";
	for (int i = 0; i < PT_NATIVE_STREAMS; i++) {
		uint32_t n = pt__get_u32(s->chunk + 4 * i);
		if (n > ulen - pos)
			return "chunk field streams do not fit the chunk";
		s->col[i] = s->chunk + pos;
		pos += n;
		s->col_end[i] = s->chunk + pos;
	}
	*rec_start = pos;
	return NULL;
}

/*
 * Load the next chunk into s->chunk.
 * @return: 1 loaded, 0 end of the events (trailer or cut-off file), negative error.
 */
static int load_chunk(struct pt_reader *r)
{
	struct native *s = r->priv;
	for (;;) {
		uint64_t off = pt_input_offset(r->in);
		size_t got;
		const uint8_t *p = pt_input_peek(r->in, PT_NATIVE_CHUNK2_HDR_SIZE, &got);
		if (!p)
			return PT_EIO;
		if (got == 0) {
			pt_reader_warn_cut(r, "offset %llu: file ends without a trailer (capture cut short?); "
				       "events up to the last whole chunk were read",
				       (unsigned long long)off);
			return 0;
		}
		if (got >= 4 && !memcmp(p, PT_NATIVE_TRAILER_MAGIC, 4)) {
			int rc = read_trailer(r, off);
			return rc < 0 ? rc : 0;
		}
		/* "PTC3" has the "PTC2" header; only its records differ */
		bool v3 = got >= 4 && !memcmp(p, PT_NATIVE_CHUNK3_MAGIC, 4);
		bool v2 = v3 || (got >= 4 && !memcmp(p, PT_NATIVE_CHUNK2_MAGIC, 4));
		size_t hsize = v2 ? PT_NATIVE_CHUNK2_HDR_SIZE : PT_NATIVE_CHUNK_HDR_SIZE;
		if (!v2 && (got < 4 || memcmp(p, PT_NATIVE_CHUNK_MAGIC, 4))) {
			if (got < 4 || got < PT_NATIVE_CHUNK_HDR_SIZE) {
				pt_reader_warn_cut(r, "offset %llu: file ends inside a chunk header (cut short?); "
					       "events up to the last whole chunk were read",
					       (unsigned long long)off);
				return 0;
			}
			if (!r->opts.keep_going)
				return pt_reader_error_at(r, PT_EFORMAT, off,
							  "expected a chunk or the trailer");
			pt_reader_warn(r, 0, "offset %llu: expected a chunk or the trailer; looking for "
				       "the next chunk", (unsigned long long)off);
			r->skipped_bad++;
			int rc = resync(r);
			if (rc < 0)
				return rc;
			continue;
		}
		if (got < hsize) {
			pt_reader_warn_cut(r, "offset %llu: file ends inside a chunk header (cut short?); "
				       "events up to the last whole chunk were read",
				       (unsigned long long)off);
			return 0;
		}
		uint8_t hdr[PT_NATIVE_CHUNK2_HDR_SIZE];
		memcpy(hdr, p, hsize);
		/* the fields common to both layouts start at f */
		const uint8_t *f = v2 ? hdr + 8 : hdr + 4;
		unsigned codec = v2 ? hdr[4] : PT_NATIVE_CODEC_ZLIB;
		uint32_t clen = pt__get_u32(f), ulen = pt__get_u32(f + 4);
		uint32_t nrec = pt__get_u32(f + 8), pcrc = pt__get_u32(f + 12);
		const char *bad = NULL;
		uint64_t cap = r->opts.max_decompressed < PT_NATIVE_MAX_CHUNK ?
			       r->opts.max_decompressed : PT_NATIVE_MAX_CHUNK;
		if ((uint32_t)crc32(0L, hdr, (uInt)hsize - 4) != pt__get_u32(hdr + hsize - 4))
			bad = "chunk header checksum mismatch";
		else if (ulen > cap)
			return pt_reader_error_at(r, PT_ELIMIT, off,
						  "chunk of %u decompressed bytes is over the limit of %llu",
						  ulen, (unsigned long long)cap);
		else if (codec != PT_NATIVE_CODEC_ZLIB && codec != PT_NATIVE_CODEC_ZSTD)
			return pt_reader_error_at(r, PT_EUNSUPPORTED, off,
						  "chunk codec %u is newer than this reader", codec);
		else if (!pt_native_codec_available((enum pt_native_codec)codec))
			return pt_reader_error_at(r, PT_EUNSUPPORTED, off,
						  "chunk codec zstd is not in this build");
		else if (clen == 0 || clen > payload_bound(codec, ulen))
			bad = "chunk compressed length does not fit its decompressed length";
		if (bad) {
			if (!r->opts.keep_going)
				return pt_reader_error_at(r, PT_EFORMAT, off, "%s", bad);
			pt_reader_warn(r, 0, "offset %llu: %s; chunk skipped", (unsigned long long)off, bad);
			r->skipped_bad++;
			int rc = resync(r);
			if (rc < 0)
				return rc;
			continue;
		}
		if (clen > s->zcap) {
			uint8_t *nz = realloc(s->zbuf, clen);
			if (!nz)
				return PT_ENOMEM;
			s->zbuf = nz;
			s->zcap = clen;
		}
		if (ulen > s->cap || !s->chunk) {
			uint8_t *nc = realloc(s->chunk, (size_t)ulen + CHUNK_PAD);
			if (!nc)
				return PT_ENOMEM;
			s->chunk = nc;
			s->cap = ulen;
		}
		int rc = skip_bytes(r, hsize);
		if (rc < 0)
			return rc;
		ssize_t n = pt_input_read_full(r->in, s->zbuf, clen);
		if (n < 0)
			return (int)n;
		if ((size_t)n < clen) {
			pt_reader_warn_cut(r, "offset %llu: file ends inside a chunk (cut short?); "
				       "events up to the last whole chunk were read",
				       (unsigned long long)off);
			return 0;
		}
		int err = 0;
		if ((uint32_t)crc32(0L, s->zbuf, clen) != pcrc)
			bad = "chunk checksum mismatch";
		else
			bad = decompress(s, codec, clen, ulen, &err);
		if (err)
			return pt_reader_error_at(r, err, off, "%s", bad);
		size_t rec_start = 0;
		if (!bad && v3)
			bad = split_streams(s, ulen, &rec_start);
		if (bad) {
			if (!r->opts.keep_going)
				return pt_reader_error_at(r, PT_EFORMAT, off, "%s", bad);
			pt_reader_warn(r, 0, "offset %llu: %s; chunk of %u records skipped",
				       (unsigned long long)off, bad, nrec);
			r->skipped_bad += nrec;
			continue;
		}
		memset(s->chunk + ulen, 0, CHUNK_PAD);
		s->len = ulen;
		s->pos = rec_start;
		s->chunk_off = off;
		s->rec_no = 0;
		s->prev_ts = 0;
		memset(s->prev_addr, 0, sizeof(s->prev_addr));
		s->layout3 = v3;
		s->chunks++;
		return 1;
	}
}

static int bad_record(struct pt_reader *r, const char *what)
{
	struct native *s = r->priv;
	if (!r->opts.keep_going)
		return pt_reader_error_at(r, PT_EFORMAT, s->chunk_off, "chunk record %u: %s",
					  s->rec_no, what);
	pt_reader_warn(r, 0, "offset %llu: chunk record %u: %s; rest of the chunk skipped",
		       (unsigned long long)s->chunk_off, s->rec_no, what);
	r->skipped_bad++;
	s->pos = s->len;
	return 0;
}

static int define_tag(struct pt_reader *r, const uint8_t **pp, const uint8_t *end)
{
	struct native *s = r->priv;
	uint64_t id, len;
	if (pt__get_varint(pp, end, &id) || pt__get_varint(pp, end, &len))
		return bad_record(r, "tag definition cut short");
	if (id >= PT_NATIVE_MAX_TAG_ID)
		return bad_record(r, "tag id out of range");
	if (len == 0 || len > PT_TAG_MAX_LEN || (uint64_t)(end - *pp) < len)
		return bad_record(r, "bad tag length");
	if (id >= s->ntagmap) {
		size_t n = s->ntagmap ? s->ntagmap : 64;
		while (n <= id)
			n *= 2;
		pt_tag_id *nm = realloc(s->tagmap, n * sizeof(*nm));
		if (!nm)
			return PT_ENOMEM;
		for (size_t i = s->ntagmap; i < n; i++)
			nm[i] = PT_TAG_NONE;
		s->tagmap = nm;
		s->ntagmap = n;
	}
	pt_tag_id tid;
	int rc = pt_tags_intern(r->tags, *pp, (size_t)len, &tid);
	if (rc < 0)
		return pt_reader_error_at(r, rc, s->chunk_off, "chunk record %u: cannot keep tag: %s",
					  s->rec_no, pt_strerror(rc));
	s->tagmap[id] = tid;
	*pp += len;
	return 0;
}

/*
 * LEB128 at p, which is at most the end of the records: the CHUNK_PAD zero
 * bytes after them end any varint that runs past the end, so the caller
 * checks the result against the end once. @return: the byte after it, or
 * NULL when it is longer than 10 bytes or overflows 64 bits.
 */
static inline const uint8_t *varint_padded(const uint8_t *p, uint64_t *out)
{
	uint64_t b = p[0];
	if (b < 0x80) {
		*out = b;
		return p + 1;
	}
	uint64_t v = b & 0x7f;
	b = p[1];
	if (b < 0x80) {
		*out = v | b << 7;
		return p + 2;
	}
	v |= (b & 0x7f) << 7;
	for (unsigned i = 2; i < 10; i++) {
		b = p[i];
		if (i == 9 && b > 1)
			return NULL;
		v |= (b & 0x7f) << (7 * i);
		if (b < 0x80) {
			*out = v;
			return p + i + 1;
		}
	}
	return NULL;
}

/* Inside decode_event(): read a varint into var or give up on the record. */
#define GETV(var)                                                       \
	do {                                                            \
		p = varint_padded(p, &(var));                           \
		if (__builtin_expect(!p || p > end, 0))                 \
			return bad_record(r, "event record cut short"); \
	} while (0)

/* A 32-bit field: as GETV, then a range check. */
#define GETV32(dst)                                                          \
	do {                                                                 \
		GETV(v);                                                     \
		if (__builtin_expect(v > UINT32_MAX, 0))                     \
			return bad_record(r, "32-bit field out of range");   \
		(dst) = (uint32_t)v;                                         \
	} while (0)

/*
 * Layout 3, inside decode_event(): read the next prefix varint of field
 * stream i (pt__get_pvarint() reads 8 or 9 bytes without a branch on the
 * length). A stream's position is checked against its end after each read,
 * so the next read starts at most at that end and stays inside the chunk's
 * zero padding.
 */
#define COLV(i, var)                                                          \
	do {                                                                  \
		c[i] = pt__get_pvarint(c[i], &(var));                         \
		if (__builtin_expect(c[i] > s->col_end[i], 0))                \
			return bad_record(r, "event field stream cut short"); \
	} while (0)

/* Read field i of an event: from its stream in layout 3, else from the record. */
#define FIELDV(i, var)                \
	do {                          \
		if (l3)               \
			COLV(i, var); \
		else                  \
			GETV(var);    \
	} while (0)

/* As FIELDV() for a 32-bit field. */
#define FIELDV32(i, dst)                                                     \
	do {                                                                 \
		FIELDV(i, v);                                                \
		if (__builtin_expect(v > UINT32_MAX, 0))                     \
			return bad_record(r, "32-bit field out of range");   \
		(dst) = (uint32_t)v;                                         \
	} while (0)

/*
 * Decode the event record after its type byte at *pp into ev. Every field of
 * ev is stored once, straight from the record or as its "not known" value
 * (no blank event is copied first: that was 112 bytes an event). @l3: the
 * chunk's records use layout 3 (a constant where this is inlined); @c:
 * then the positions in the field streams (the caller's copy, kept in
 * registers once inlined).
 * @return: 1 decoded, 0 skipped (keep_going), negative error.
 */
static inline __attribute__((always_inline)) int
decode_event(struct pt_reader *r, struct native *s, unsigned kind,
			       const uint8_t **pp, const uint8_t *end, struct pt_event *ev,
			       const uint8_t **c, const bool l3)
{
	const uint8_t *p = *pp;
	uint64_t bits, v;
	GETV(bits);
	if (__builtin_expect(bits & ~(uint64_t)PT_NATIVE_F_ALL_, 0))
		return bad_record(r, "unknown event field bits");
	FIELDV(PT_NATIVE_S_TS, v);
	uint64_t ts = s->prev_ts + (uint64_t)pt__unzigzag(v);
	s->prev_ts = ts;
	pt_tag_id tag = PT_TAG_NONE;
	unsigned pool = 0;
	uint64_t size = 0, addr = 0;
	uint32_t pid = PT_NONE32, tid = PT_NONE32, cpu = PT_NONE32;
	if (bits & PT_NATIVE_F_TAG) {
		FIELDV(PT_NATIVE_S_TAG, v);
		if (__builtin_expect(v >= s->ntagmap || s->tagmap[v] == PT_TAG_NONE, 0))
			return bad_record(r, "event uses a tag id not defined before it");
		tag = s->tagmap[v];
	}
	if (l3) {
		/*
		 * Pool and size come and go from event to event (frees have no
		 * size, pools alternate): read both without a branch on their
		 * bit, and move on in a stream only when the bit is set.
		 */
		uint64_t has = -(uint64_t)((bits & PT_NATIVE_F_POOL) != 0);
		const uint8_t *q = c[PT_NATIVE_S_POOL];
		pool = (unsigned)(*q & has);
		c[PT_NATIVE_S_POOL] = q + (has & 1);
		if (__builtin_expect(c[PT_NATIVE_S_POOL] > s->col_end[PT_NATIVE_S_POOL], 0))
			return bad_record(r, "event field stream cut short");
		if (__builtin_expect(pool >= PT_POOL_COUNT_, 0))
			return bad_record(r, "unknown pool type");
		has = -(uint64_t)((bits & PT_NATIVE_F_SIZE) != 0);
		q = c[PT_NATIVE_S_SIZE];
		uint64_t sv;
		const uint8_t *next = pt__get_pvarint(q, &sv);
		size = sv & has;
		c[PT_NATIVE_S_SIZE] = q + ((size_t)(next - q) & has);
		if (__builtin_expect(c[PT_NATIVE_S_SIZE] > s->col_end[PT_NATIVE_S_SIZE], 0))
			return bad_record(r, "event field stream cut short");
	} else {
		if (bits & PT_NATIVE_F_POOL) {
			if (__builtin_expect(p >= end, 0))
				return bad_record(r, "event record cut short");
			if (__builtin_expect(*p >= PT_POOL_COUNT_, 0))
				return bad_record(r, "unknown pool type");
			pool = *p++;
		}
		if (bits & PT_NATIVE_F_SIZE)
			GETV(size);
	}
	if (bits & PT_NATIVE_F_ADDR) {
		FIELDV(PT_NATIVE_S_ADDR, v);
		/* layout 3: against the previous address of the same pool */
		uint64_t *prev = &s->prev_addr[l3 ? pool : 0];
		addr = *prev + (uint64_t)pt__unzigzag(v);
		*prev = addr;
	}
	if (bits & PT_NATIVE_F_PID)
		FIELDV32(PT_NATIVE_S_PID, pid);
	if (bits & PT_NATIVE_F_TID)
		FIELDV32(PT_NATIVE_S_TID, tid);
	if (bits & PT_NATIVE_F_CPU)
		FIELDV32(PT_NATIVE_S_CPU, cpu);
	ev->ts_ns = ts;
	ev->kind = (enum pt_event_kind)kind;
	ev->pool = (enum pt_pool)pool;
	ev->pool_flags = 0;
	/* layout 3: a clear RAW_POOL bit means the pool's usual POOL_TYPE */
	ev->raw_pool_type = l3 ? pt__native_raw_pool(pool) : 0;
	ev->tag = tag;
	ev->size = size;
	ev->addr = addr;
	ev->pid = pid;
	ev->tid = tid;
	ev->cpu = cpu;
	ev->session_id = PT_NONE32;
	ev->snap_allocs = 0;
	ev->snap_frees = 0;
	ev->marker = NULL;
	ev->stack_ts_ns = 0;
	ev->frames = NULL;
	ev->nframes = 0;
	if (__builtin_expect(bits & ~(uint64_t)(PT_NATIVE_F_TAG | PT_NATIVE_F_POOL | PT_NATIVE_F_SIZE |
						 PT_NATIVE_F_ADDR | PT_NATIVE_F_PID |
						 PT_NATIVE_F_TID | PT_NATIVE_F_CPU), 0)) {
		if (bits & PT_NATIVE_F_POOL_FLAGS)
			GETV32(ev->pool_flags);
		if (bits & PT_NATIVE_F_RAW_POOL)
			GETV32(ev->raw_pool_type);
		if (bits & PT_NATIVE_F_SESSION)
			GETV32(ev->session_id);
		if (bits & PT_NATIVE_F_SNAP_ALLOCS)
			GETV(ev->snap_allocs);
		if (bits & PT_NATIVE_F_SNAP_FREES)
			GETV(ev->snap_frees);
		if (bits & PT_NATIVE_F_MARKER) {
			GETV(v);
			if (v > PT_NATIVE_MAX_MARKER || (uint64_t)(end - p) < v)
				return bad_record(r, "bad marker length");
			memcpy(s->marker, p, (size_t)v);
			s->marker[v] = '\0';
			p += v;
			ev->marker = s->marker;
		}
		if (bits & PT_NATIVE_F_STACK_TS) {
			GETV(v);
			ev->stack_ts_ns = ts + (uint64_t)pt__unzigzag(v);
		}
		if (bits & PT_NATIVE_F_FRAMES) {
			uint64_t n, prev = 0;
			GETV(n);
			if (n > PT_STACK_MAX_FRAMES)
				return bad_record(r, "too many stack frames");
			for (uint64_t i = 0; i < n; i++) {
				GETV(v);
				prev += (uint64_t)pt__unzigzag(v);
				s->frames[i] = prev;
			}
			ev->frames = s->frames;
			ev->nframes = (uint32_t)n;
		}
	}
	*pp = p;
	return 1;
}

/*
 * Decode records of the current chunk from s->pos into evs[*np..max).
 * @l3: s->layout3, as a constant where this is inlined, so that each layout
 * gets its own loop without a test of the layout per field.
 * @return: 0 the chunk ended or evs is full, 1 the batch ends after a
 * borrowing event, negative error (kept in s->failed: the field streams may
 * have moved on inside the bad record, so later calls return the error
 * again instead of reading it again).
 */
static inline __attribute__((always_inline)) int
decode_records(struct pt_reader *r, struct native *s, struct pt_event *evs,
				 size_t *np, size_t max, const bool l3)
{
	const uint8_t *p = s->chunk + s->pos;
	const uint8_t *end = s->chunk + s->len;
	const uint8_t *cols[PT_NATIVE_STREAMS];
	size_t n = *np;
	int ret = 0, rc;
	if (l3)
		memcpy(cols, s->col, sizeof(cols));
	while (n < max && p < end) {
		unsigned type = *p;
		const uint8_t *q = p + 1;
		unsigned kind = type - PT_NATIVE_REC_EVENT;
		if (__builtin_expect(kind < PT_EV_KIND_COUNT_, 1)) {
			rc = decode_event(r, s, kind, &q, end, &evs[n], cols, l3);
			if (rc < 0)
				goto fail;
			if (rc == 0)
				break; /* skipped the rest of the chunk */
			n++;
			if (__builtin_expect(pt_event_kind_borrows(kind), 0)) {
				p = q;
				s->rec_no++;
				ret = 1;
				break;
			}
		} else if (type == PT_NATIVE_REC_TAG) {
			rc = define_tag(r, &q, end);
			if (rc < 0)
				goto fail;
			if (s->pos >= s->len)
				break; /* skipped the rest of the chunk */
		} else {
			rc = bad_record(r, "unknown record type");
			if (rc < 0)
				goto fail;
			break;
		}
		p = q;
		s->rec_no++;
	}
	if (s->pos < s->len)
		s->pos = (size_t)(p - s->chunk);
	if (l3)
		memcpy(s->col, cols, sizeof(cols));
	*np = n;
	return ret;
fail:
	s->pos = (size_t)(p - s->chunk);
	s->failed = rc;
	*np = n;
	return rc;
}

/*
 * Up to max events; the batch ends after a marker, stack or image event
 * (their text and frames live in the reader until the next call).
 */
static int native_next_batch(struct pt_reader *r, struct pt_event *evs, size_t max)
{
	struct native *s = r->priv;
	size_t n = 0;
	int rc = 0;
	if (s->failed)
		return s->failed;
	while (n < max) {
		if (s->pos >= s->len) {
			if (s->done)
				break;
			rc = load_chunk(r);
			if (rc <= 0) {
				s->done = true;
				break;
			}
			rc = 0;
			continue;
		}
		rc = s->layout3 ? decode_records(r, s, evs, &n, max, true) :
				  decode_records(r, s, evs, &n, max, false);
		if (rc < 0)
			break;
		if (rc == 1) {
			rc = 0;
			break;
		}
	}
	if (rc >= 0 || !n)
		return rc < 0 ? rc : (int)n;
	r->pending_err = rc;
	return (int)n;
}

static int next_native(struct pt_reader *r, struct pt_event *ev)
{
	return native_next_batch(r, ev, 1);
}

static void close_native(struct pt_reader *r)
{
	struct native *s = r->priv;
	if (!s)
		return;
	free(s->chunk);
	free(s->zbuf);
	if (s->zs_ready)
		inflateEnd(&s->zs);
#ifdef PT_HAVE_ZSTD
	ZSTD_freeDCtx(s->zd);
#endif
	free(s->tagmap);
	free(s);
	r->priv = NULL;
}

const struct pt_reader_ops pt_reader_native = {
	.name = "native",
	.description = "pooltrace native trace (.ptz), written by pooltrace-capture and convert",
	.probe = probe,
	.open = open_native,
	.next = next_native,
	.close = close_native,
	.next_batch = native_next_batch,
	.serial = true,
};
