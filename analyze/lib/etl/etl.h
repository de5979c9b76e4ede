/* SPDX-License-Identifier: MIT */
/*
 * Internal: ETL (Event Trace Log) constants, the XPRESS codec, clock
 * conversion and the per-file statistics the "etl" reader keeps.
 * Layout facts come from the project's ETL format notes (docs/etl.md).
 */
#ifndef PT_ETL_H
#define PT_ETL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pooltrace/event.h"
#include "pooltrace/reader.h"

/* WMI_BUFFER_HEADER: 0x48 bytes on 32- and 64-bit Windows. */
#define PT_ETL_BUFHDR 0x48u
#define PT_ETL_BUF_SIZE 0x00      /* u32 BufferSize (on disk, header included) */
#define PT_ETL_BUF_SAVED 0x04     /* u32 SavedOffset */
#define PT_ETL_BUF_SEQ 0x18       /* i64 SequenceNumber */
#define PT_ETL_BUF_CTX 0x28       /* u16 ProcessorIndex (u8 before Windows 8), u16 LoggerId */
#define PT_ETL_BUF_STATE 0x2C     /* u32 State; low 16 bits: compression format */
#define PT_ETL_BUF_OFFSET 0x30    /* u32 Offset: end of valid data, header included */
#define PT_ETL_BUF_FLAGS 0x34     /* u16 BufferFlag */
#define PT_ETL_BUF_TYPE 0x36      /* u16 BufferType */

/* BufferFlag bits. */
#define PT_ETL_BF_FLUSH 0x0001
#define PT_ETL_BF_EVENTS_LOST 0x0002
#define PT_ETL_BF_BUFFER_LOST 0x0004
#define PT_ETL_BF_PROC_INDEX 0x0020
#define PT_ETL_BF_COMPRESSED 0x0040

/* BufferType values. */
#define PT_ETL_BT_HEADER 4

/* Record HeaderType (byte 2 of the marker when byte 3 is 0xC0). */
#define PT_ETL_HT_SYSTEM32 0x01
#define PT_ETL_HT_SYSTEM64 0x02
#define PT_ETL_HT_COMPACT32 0x03
#define PT_ETL_HT_COMPACT64 0x04
#define PT_ETL_HT_FULL32 0x0A
#define PT_ETL_HT_INSTANCE32 0x0B
#define PT_ETL_HT_TIMED 0x0C
#define PT_ETL_HT_ERROR 0x0D
#define PT_ETL_HT_WNODE 0x0E
#define PT_ETL_HT_PERFINFO32 0x10
#define PT_ETL_HT_PERFINFO64 0x11
#define PT_ETL_HT_EVENT32 0x12
#define PT_ETL_HT_EVENT64 0x13
#define PT_ETL_HT_FULL64 0x14
#define PT_ETL_HT_INSTANCE64 0x15

/* Marker of the logfile header record: SYSTEM header, version 2. */
#define PT_ETL_MARKER_LOGFILE64 0xC0020002u
#define PT_ETL_MARKER_LOGFILE32 0xC0010002u

/* Kernel hook ids (Group << 8 | Type). */
#define PT_ETL_HOOK_LOGFILE 0x0000
#define PT_ETL_HOOK_EXTENSION 0x0005
#define PT_ETL_HOOK_END_EXTENSION 0x0020
#define PT_ETL_GROUP_POOL 0x0E
#define PT_ETL_GROUP_PERFINFO 0x0F
#define PT_ETL_HOOK_POOL_ALLOC 0x0E20
#define PT_ETL_HOOK_POOL_SESSION_ALLOC 0x0E21
#define PT_ETL_HOOK_POOL_FREE 0x0E22
#define PT_ETL_HOOK_POOL_SESSION_FREE 0x0E23
#define PT_ETL_HOOK_MARK 0x0F22       /* PERFINFO_LOG_TYPE_MARK */
/* EVENT_TRACE_GROUP_IMAGE 0x1400 and EVENT_TRACE_GROUP_STACKWALK 0x1800 (phnt ntwmi.h). */
#define PT_ETL_GROUP_IMAGE 0x14
#define PT_ETL_GROUP_STACKWALK 0x18
#define PT_ETL_HOOK_STACKWALK 0x1820       /* PERFINFO_LOG_TYPE_STACKWALK */
#define PT_ETL_OP_IMAGE_UNLOAD 0x02        /* EVENT_TRACE_TYPE_END */
#define PT_ETL_OP_IMAGE_DC_START 0x03      /* rundown at trace start */
#define PT_ETL_OP_IMAGE_DC_END 0x04        /* rundown at trace end */
#define PT_ETL_OP_IMAGE_LOAD 0x0A          /* Image Load */
#define PT_ETL_OP_STACKWALK 0x20           /* StackWalk "Stack" */
#define PT_ETL_HOOK_ASYNCMARK 0x0F24  /* PERFINFO_LOG_TYPE_ASYNCMARK */

/* PERF_POOL = 0x20000040: bit 0x40 of GroupMask[1]. */
#define PT_ETL_PERF_POOL_MASK_INDEX 1
#define PT_ETL_PERF_POOL_BIT 0x40u

/* TRACE_LOGFILE_HEADER LogFileMode bit of relogged compressed files. */
#define PT_ETL_MODE_COMPRESSED 0x04000000u

/* ReservedFlags: clock type. */
#define PT_ETL_CLOCK_QPC 1
#define PT_ETL_CLOCK_SYSTEM 2
#define PT_ETL_CLOCK_CYCLES 3

/* COMPRESSION_FORMAT_XPRESS: MS-XCA plain LZ77. */
#define PT_ETL_COMPRESSION_XPRESS 3

/* FILETIME of 1970-01-01 in 100 ns units. */
#define PT_FILETIME_UNIX_EPOCH 116444736000000000LL

/* The kernel pool provider {0268a8b6-74fd-4302-9dd0-6e8f1795c0cf}, as stored (GUID layout). */
extern const uint8_t pt__etl_pool_guid[16];
/* StackWalk {def2fe46-7bd6-4b80-bd94-f57fe20d0ce3} and ImageLoad {2cb15d1d-5fc1-11d2-abe1-00a0c911f518}. */
extern const uint8_t pt__etl_stackwalk_guid[16];
extern const uint8_t pt__etl_image_guid[16];

static inline uint16_t pt__le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t pt__le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint64_t pt__le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/**
 * pt__xpress_decompress() - MS-XCA plain LZ77 ("XPRESS", format 3).
 * @in, @inlen: the compressed bytes.
 * @out, @outlen: the output buffer; decoding stops when it is full or the
 *               input ends at a match flag (the format's end mark).
 * @produced: receives the number of bytes written.
 * @return: 0, or PT_EFORMAT for corrupt input (never reads or writes out of bounds).
 */
int pt__xpress_decompress(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen,
			  size_t *produced);

/**
 * pt__xpress_compress() - greedy MS-XCA plain LZ77 compressor.
 * @out: at least pt__xpress_bound(inlen) bytes.
 * @return: the compressed length.
 */
size_t pt__xpress_compress(const uint8_t *in, size_t inlen, uint8_t *out);

/** pt__xpress_bound() - worst-case compressed size of inlen bytes. */
size_t pt__xpress_bound(size_t inlen);

/**
 * pt__muldiv_u64() - a * b / c without intermediate overflow; saturates at
 * UINT64_MAX when the result does not fit. c must not be 0.
 */
uint64_t pt__muldiv_u64(uint64_t a, uint64_t b, uint64_t c);

/* Clock conversion: raw timestamps to ns after the reference point. */
struct pt_etl_clock {
	int kind;          /* PT_ETL_CLOCK_* */
	uint64_t freq;     /* ticks per second */
	uint64_t t0;       /* raw timestamp of the reference point */
	uint64_t mult;     /* when 10^9 is a multiple of freq: ns per tick, else 0 */
};

/** pt__etl_clock_init() - set up a conversion for ticks at freq per second. */
void pt__etl_clock_init(struct pt_etl_clock *c, int kind, uint64_t freq, uint64_t t0);

/** pt__etl_clock_ns() - ns after t0 of a raw timestamp (0 for earlier ones). */
static inline uint64_t pt__etl_clock_ns(const struct pt_etl_clock *c, uint64_t ts)
{
	if (ts <= c->t0)
		return 0;
	uint64_t d = ts - c->t0;
	if (c->mult) {
#if defined(__GNUC__) || defined(__clang__)
		/* the overflow check without a 64-bit division per event */
		uint64_t ns;
		if (__builtin_mul_overflow(d, c->mult, &ns))
			return UINT64_MAX;
		return ns;
#else
		if (d > UINT64_MAX / c->mult)
			return UINT64_MAX;
		return d * c->mult;
#endif
	}
	return pt__muldiv_u64(d, 1000000000u, c->freq);
}

/** pt__etl_clock_sns() - signed ns from t0 (negative for earlier timestamps). */
int64_t pt__etl_clock_sns(const struct pt_etl_clock *c, uint64_t ts);

/** pt__filetime_to_unix_ns() - FILETIME (100 ns since 1601) to ns since 1970. */
int64_t pt__filetime_to_unix_ns(int64_t ft);

/* Record header kinds counted by the reader (display order). */
enum pt_etl_rec {
	PT_ETL_REC_SYSTEM32 = 0,
	PT_ETL_REC_SYSTEM64,
	PT_ETL_REC_COMPACT32,
	PT_ETL_REC_COMPACT64,
	PT_ETL_REC_PERFINFO32,
	PT_ETL_REC_PERFINFO64,
	PT_ETL_REC_FULL32,
	PT_ETL_REC_FULL64,
	PT_ETL_REC_INSTANCE32,
	PT_ETL_REC_INSTANCE64,
	PT_ETL_REC_EVENT32,
	PT_ETL_REC_EVENT64,
	PT_ETL_REC_MESSAGE,
	PT_ETL_REC_ERROR,
	PT_ETL_REC_TIMED,
	PT_ETL_REC_WNODE,
	PT_ETL_REC_COUNT_
};

/** pt__etl_rec_name() - "system64", "event_header64", "message" ... */
const char *pt__etl_rec_name(enum pt_etl_rec k);

/** pt__etl_group_name() - kernel group name ("pool", "process" ...) or NULL. */
const char *pt__etl_group_name(unsigned group);

/* Per provider GUID: record count and first timestamp. */
struct pt_etl_guid_stat {
	uint8_t guid[16];
	uint64_t records;
	int64_t first_ns;  /* earliest, in ns from the logfile header record; valid when records > 0 */
};

/* What the reader saw; complete once next() has returned 0. */
struct pt_etl_stats {
	uint64_t buffers;             /* buffers read, header buffer included */
	uint64_t buffers_compressed;
	uint64_t buffers_events_lost; /* BufferFlag EVENTS_LOST */
	uint64_t buffers_buffer_lost; /* BufferFlag BUFFER_LOST */
	uint64_t buffers_bad;         /* skipped in full or in part (warned) */
	uint64_t bytes_in;            /* on-disk bytes of all buffers */
	uint64_t bytes_data;          /* record bytes after decompression */
	uint64_t records;             /* all records */
	uint64_t rec_by_type[PT_ETL_REC_COUNT_];
	uint64_t records_bad;         /* records with a bad size or marker (rest of buffer skipped) */
	uint64_t by_group[256];       /* kernel records (SYSTEM/COMPACT/PERFINFO) by hook group */
	struct pt_etl_guid_stat *guids;
	size_t nguids;
	uint64_t guids_dropped;       /* records of providers past the table limit */
	uint64_t pool_by_opcode[16];  /* hook 0x0E20 + i */
	uint64_t pool_events_bad;     /* pool records with a too-short payload */
	uint64_t marks;
	uint64_t stacks;              /* StackWalk records passed on */
	uint64_t images;              /* image load / rundown records passed on */
	uint64_t images_unloaded;     /* image unload records (counted only) */
	uint64_t aux_bad;             /* stack or image records with a too-short payload */
	uint32_t compression_format;  /* State & 0xFFFF of the first buffer */
	uint32_t logfile_mode;
	uint32_t buffer_size;         /* logfile header BufferSize */
	uint32_t buffers_written;     /* logfile header BuffersWritten */
	uint32_t header_events_lost;
	uint32_t header_buffers_lost;
	uint32_t cpu_speed_mhz;
	uint32_t version;             /* logfile header Version (Major, Minor, Sub, SubMinor bytes) */
	bool have_masks;
	uint32_t group_masks[8];
	uint32_t kernel_event_version;
	uint32_t streams;             /* CPU streams seen */
	uint64_t window_peak_bytes;   /* most queued raw bytes held by the merge at once */
	uint32_t window_peak_buffers;
	uint64_t merge_backwards;     /* events emitted with a timestamp below the previous one */
};

/** pt__etl_stats() - the statistics of an open "etl" reader, NULL for other readers. */
const struct pt_etl_stats *pt__etl_stats(const struct pt_reader *r);

/** pt__etl_guid_format() - "{xxxxxxxx-xxxx-...}" into buf (at least 39 bytes). */
char *pt__etl_guid_format(const uint8_t guid[16], char *buf, size_t bufsz);

#endif
