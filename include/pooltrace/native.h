/* SPDX-License-Identifier: MIT */
/*
 * The native pooltrace trace format (".ptz"): the one definition of its
 * layout, constants and the writer API. docs/trace-format.md describes it
 * in prose; this header is the reference.
 *
 * File  = file header, chunk*, trailer (the trailer is missing when the
 *         writer was killed; the reader then stops at the last whole chunk).
 * All fixed-width integers are little-endian.
 *
 * File header:
 *   u8[8]  magic PT_NATIVE_MAGIC
 *   u16    version major (PT_NATIVE_VERSION_MAJOR; a reader refuses others)
 *   u16    version minor (newer minors only add keys or record types)
 *   u32    length L of the field block that follows
 *   u8[L]  field block: fields (see below)
 *   u32    CRC-32 (zlib crc32) of the 8 bytes version+length and the L bytes
 *
 * Field block: a sequence of fields, each
 *   u16 key (enum pt_native_key), u16 length N, u8[N] value.
 *   Strings are UTF-8 without a NUL; integers are 8 bytes (u64/i64).
 *   Unknown keys are skipped, so new keys never break older readers.
 *
 * Chunk, one of two layouts:
 *  zlib chunk (all versions): a header of PT_NATIVE_CHUNK_HDR_SIZE bytes, then the payload:
 *   u8[4]  magic PT_NATIVE_CHUNK_MAGIC ("PTCK")
 *   u32    compressed length C (payload bytes that follow)
 *   u32    decompressed length U
 *   u32    number of records in the chunk
 *   u32    CRC-32 of the C payload bytes
 *   u32    CRC-32 of the 20 header bytes before it
 *   u8[C]  zlib stream (RFC 1950) that inflates to exactly U bytes of records
 *  coded chunk (since minor version 2): PT_NATIVE_CHUNK2_HDR_SIZE bytes of header:
 *   u8[4]  magic PT_NATIVE_CHUNK2_MAGIC ("PTC2")
 *   u8     codec (enum pt_native_codec) of the payload
 *   u8[3]  reserved, written 0, ignored by readers
 *   u32    C, u32 U, u32 records, u32 CRC-32 of the payload (as above)
 *   u32    CRC-32 of the 24 header bytes before it
 *   u8[C]  payload: a zlib stream (codec 1) or one zstd frame (RFC 8878,
 *          codec 2) that decompresses to exactly U bytes of records
 *  layout-3 chunk (since minor version 3): as the coded chunk, magic
 *   PT_NATIVE_CHUNK3_MAGIC ("PTC3"); its records use layout 3 (below).
 *  A reader checks the payload's CRC-32 before decompressing; the checksums
 *  inside the codec's own stream (zlib's Adler-32, an optional zstd content
 *  checksum) need not be checked again.
 * Every chunk decodes on its own: delta state starts from zero and every
 * tag is defined (again) in each chunk before its first use there, so a
 * damaged chunk can be skipped without losing the ones after it.
 *
 * Records (inside a decompressed chunk), each starting with a type byte:
 *   PT_NATIVE_REC_TAG:   varint file tag id, varint length (1..PT_TAG_MAX_LEN), bytes
 *   PT_NATIVE_REC_EVENT + kind (pt_event_kind; stack and image records, kinds 6
 *   and 7, since minor version 1):
 *     varint presence bits (PT_NATIVE_F_*), zigzag varint timestamp delta
 *     (ns, against the previous event of the chunk; the first is absolute),
 *     then, in bit order, each field whose bit is set:
 *       TAG varint file tag id     POOL u8 pt_pool       POOL_FLAGS varint
 *       RAW_POOL varint            SIZE varint           ADDR zigzag varint
 *       (delta against the previous address in the chunk)
 *       PID varint  TID varint  CPU varint  SESSION varint
 *       SNAP_ALLOCS varint  SNAP_FREES varint
 *       MARKER varint length (<= PT_NATIVE_MAX_MARKER) then the text bytes
 *       (an image's file name for image records)
 *       STACK_TS zigzag varint stack_ts_ns - ts_ns (stack records)
 *       FRAMES varint count (<= PT_STACK_MAX_FRAMES), then each frame as a
 *       zigzag varint delta against the frame before it (the first against 0)
 *     A field whose bit is clear has its "not known" value (PT_NONE32,
 *     PT_TAG_NONE, 0, or no marker text).
 *   Layout 3 ("PTC3" chunks): the decompressed payload is split in streams:
 *     u32[PT_NATIVE_STREAMS] lengths of the field streams, then the field
 *     streams in enum pt_native_stream order, then the record stream (the
 *     rest). The record stream holds the records as above, except that the
 *     eight fields TS, TAG, POOL, SIZE, ADDR, PID, TID and CPU of an event
 *     are the next value of their own field stream, so that like values lie
 *     together (smaller and faster to decompress). In the field streams,
 *     numbers are prefix varints: a value of up to 7 * L bits (L = 1..8)
 *     takes L bytes, read as a little-endian number whose low L - 1 bits are
 *     ones and bit L - 1 zero, the value above them; larger values take a
 *     byte 0xff and 8 bytes of value (the length is known from the first
 *     byte). The pool stream holds one byte a pool. Also:
 *     ADDR is the delta against the previous address of the same pool in the
 *     chunk (pt_pool; each starts at 0), and a clear RAW_POOL bit means the
 *     pool's usual Windows POOL_TYPE instead of 0 (in pt_pool order: 0, 1,
 *     512, 32, 33, 544, then 0 for the slab, kmalloc and other pools).
 *   varints are LEB128 (7 bits a byte, low first, at most 10 bytes);
 *   zigzag maps signed n to (n << 1) ^ (n >> 63).
 *
 * Trailer:
 *   u8[4]  magic PT_NATIVE_TRAILER_MAGIC ("PTEN")
 *   u32    length L of the field block
 *   u8[L]  field block (same keys as the header: values there replace the
 *          header's, plus the PT_NK_T_* totals)
 *   u32    CRC-32 of the length and the field block
 */
#ifndef POOLTRACE_NATIVE_H
#define POOLTRACE_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pooltrace/event.h"
#include "pooltrace/reader.h"
#include "pooltrace/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PT_NATIVE_MAGIC "\x89PTZ\r\n\x1a\n"
#define PT_NATIVE_MAGIC_LEN 8
#define PT_NATIVE_VERSION_MAJOR 1
#define PT_NATIVE_VERSION_MINOR 3 /* 1: stack and image records (kinds 6, 7); 2: coded chunks;
                                    3: "PTC3" chunks (record layout 3) */
#define PT_NATIVE_FILE_HDR_FIXED 16          /* magic + versions + length */
#define PT_NATIVE_MAX_FIELDS_LEN (1u << 20)  /* cap on a header/trailer field block */

#define PT_NATIVE_CHUNK_MAGIC "PTCK"
#define PT_NATIVE_CHUNK_HDR_SIZE 24
#define PT_NATIVE_CHUNK2_MAGIC "PTC2"
#define PT_NATIVE_CHUNK2_HDR_SIZE 28
#define PT_NATIVE_CHUNK3_MAGIC "PTC3" /* header as "PTC2"; records in layout 3 */

/* Layout 3: the field streams of a "PTC3" chunk, in payload order. */
enum pt_native_stream {
	PT_NATIVE_S_TS = 0,   /* zigzag varint timestamp deltas */
	PT_NATIVE_S_TAG,      /* varint file tag ids */
	PT_NATIVE_S_POOL,     /* u8 pt_pool */
	PT_NATIVE_S_SIZE,     /* varint sizes */
	PT_NATIVE_S_ADDR,     /* zigzag varint address deltas (per pool) */
	PT_NATIVE_S_PID,      /* varint */
	PT_NATIVE_S_TID,      /* varint */
	PT_NATIVE_S_CPU,      /* varint */
	PT_NATIVE_STREAMS
};

/* Codec of a coded chunk's payload ("PTC2" chunks; "PTCK" chunks are zlib). */
enum pt_native_codec {
	PT_NATIVE_CODEC_DEFAULT = 0, /* writer choice: zstd when the build has it, else zlib */
	PT_NATIVE_CODEC_ZLIB = 1,    /* RFC 1950 stream; the writer writes "PTCK" chunks */
	PT_NATIVE_CODEC_ZSTD = 2     /* one zstd frame (RFC 8878) */
};

/**
 * pt_native_codec_available() - whether this build writes and reads @codec
 * (zlib always; zstd when built with libzstd).
 */
bool pt_native_codec_available(enum pt_native_codec codec);
#define PT_NATIVE_TRAILER_MAGIC "PTEN"
/* Writers keep chunks at or under this many decompressed bytes; readers cap at
 * min(PT_NATIVE_MAX_CHUNK, pt_reader_opts.max_decompressed). */
#define PT_NATIVE_CHUNK_TARGET (256u << 10)
#define PT_NATIVE_MAX_CHUNK (64u << 20)
#define PT_NATIVE_MAX_MARKER 4096
#define PT_NATIVE_MAX_TAG_ID (1u << 24)

/* Record types. */
#define PT_NATIVE_REC_TAG 0x01
#define PT_NATIVE_REC_EVENT 0x10 /* + enum pt_event_kind */

/* Presence bits of an event record, in encoding order. */
enum pt_native_field {
	PT_NATIVE_F_TAG = 1u << 0,
	PT_NATIVE_F_POOL = 1u << 1,
	PT_NATIVE_F_SIZE = 1u << 2,
	PT_NATIVE_F_ADDR = 1u << 3,
	PT_NATIVE_F_PID = 1u << 4,
	PT_NATIVE_F_TID = 1u << 5,
	PT_NATIVE_F_CPU = 1u << 6,
	PT_NATIVE_F_POOL_FLAGS = 1u << 7,
	PT_NATIVE_F_RAW_POOL = 1u << 8,
	PT_NATIVE_F_SESSION = 1u << 9,
	PT_NATIVE_F_SNAP_ALLOCS = 1u << 10,
	PT_NATIVE_F_SNAP_FREES = 1u << 11,
	PT_NATIVE_F_MARKER = 1u << 12,
	PT_NATIVE_F_STACK_TS = 1u << 13, /* minor version 1 */
	PT_NATIVE_F_FRAMES = 1u << 14,   /* minor version 1 */
	PT_NATIVE_F_ALL_ = (1u << 15) - 1
};

/* Field keys of the header and trailer blocks. "s" string, "u" u64, "i" i64. */
enum pt_native_key {
	PT_NK_HOST = 1,            /* s: host name */
	PT_NK_OS = 2,              /* s: "Linux 6.1.0-18-amd64", "Windows 10.0" */
	PT_NK_KERNEL = 3,          /* s: kernel version string (uname -v) */
	PT_NK_OS_BUILD = 4,        /* u */
	PT_NK_POINTER_SIZE = 5,    /* u: 4 or 8 */
	PT_NK_NUM_CPUS = 6,        /* u */
	PT_NK_CLOCK = 7,           /* u: enum pt_clock */
	PT_NK_PERF_FREQ = 8,       /* u: ticks per second of the source clock */
	PT_NK_START_UNIX_NS = 9,   /* i: wall time of ts 0 */
	PT_NK_SOURCE_FORMAT = 10,  /* s: reader the events came from ("tracerpt-xml"), or "capture-linux" */
	PT_NK_COMMAND_LINE = 11,   /* s: the capture or convert command line */
	PT_NK_TAG_FILTER = 12,     /* s: comma-separated tag patterns, "" = all */
	PT_NK_POOL_FILTER = 13,    /* s: "both", "paged", "nonpaged" */
	PT_NK_LOGGER = 14,         /* s: session / instance name */
	PT_NK_FLAGS = 15,          /* u: PT_NATIVE_FLAG_* */
	PT_NK_POOL_TRACING = 16,   /* i: 1 on, 0 off, -1 unknown */
	PT_NK_TOOL = 17,           /* s: writer program and version */
	PT_NK_WORKLOAD = 18,       /* s: the command run under capture */
	PT_NK_BUFFER_KB = 19,      /* u: per-CPU buffer size */
	PT_NK_STACKS = 20,         /* u: 1 when stacks were requested */
	PT_NK_TRACE_CLOCK = 21,    /* s: the source's clock name ("local", "mono") */
	PT_NK_SNAPSHOT_NS = 22,    /* u: snapshot interval, 0 = none */
	PT_NK_T_EVENTS = 64,       /* u: events written */
	PT_NK_T_CHUNKS = 65,       /* u: chunks written */
	PT_NK_T_TAGS = 66,         /* u: distinct tags */
	PT_NK_T_END_NS = 67,       /* u: trace end, ns since start */
	PT_NK_T_EVENTS_LOST = 68,  /* u: events the source lost (ring buffer overruns) */
	PT_NK_T_BUFFERS_LOST = 69, /* u */
	PT_NK_T_LOST_PER_CPU = 70, /* u64 array: events lost per CPU, index = CPU */
	PT_NK_T_STOP_REASON = 71,  /* s: "workload-exit", "duration", "signal SIGINT", "end of input" */
	PT_NK_T_WORKLOAD_STATUS = 72, /* i: exit status (>= 0) or -signal */
	PT_NK_T_LOST_KNOWN = 73,   /* u: 1 when the loss counts are known */
	PT_NK_T_UNTRACKED_FREES = 74 /* u: frees whose allocation the writer did not see */
};

#define PT_NATIVE_FLAG_SNAPSHOT_ONLY 0x1u

/* What a writer puts in the header (and again, updated, in the trailer). */
struct pt_native_info {
	struct pt_trace_meta meta;   /* os, host, logger, clock, start time, ... */
	const char *kernel;          /* may be NULL */
	const char *source_format;   /* may be NULL */
	const char *command_line;    /* may be NULL */
	const char *tag_filter;      /* may be NULL */
	const char *pool_filter;     /* may be NULL */
	const char *tool;            /* may be NULL */
	const char *workload;        /* may be NULL */
	const char *trace_clock;     /* may be NULL */
	uint64_t buffer_kb;
	uint64_t snapshot_ns;
	bool stacks;
	enum pt_native_codec codec;  /* chunk codec; 0: the build's default */
};

/* Totals for the trailer. */
struct pt_native_totals {
	uint64_t end_ns;
	bool lost_known;
	uint64_t events_lost, buffers_lost;
	const uint64_t *lost_per_cpu; /* may be NULL */
	size_t ncpus;
	const char *stop_reason;      /* may be NULL */
	bool has_workload_status;
	int64_t workload_status;
	uint64_t untracked_frees;
};

struct pt_native_writer;

/**
 * pt_native_writer_new() - start a native trace on an open stream: writes
 * and flushes the file header at once.
 * @fp: borrowed; the caller closes it after pt_native_writer_finish().
 * @tags: the table the events' tag ids refer to (borrowed).
 * @info: header content; copied.
 * @return: 0, PT_ENOMEM or PT_EIO (errno then tells why, e.g. ENOSPC).
 */
int pt_native_writer_new(struct pt_native_writer **out, FILE *fp, const struct pt_tags *tags,
			 const struct pt_native_info *info);

/**
 * pt_native_write_event() - append one event. Chunks are compressed and
 * written when they reach PT_NATIVE_CHUNK_TARGET bytes.
 * @return: 0, PT_EUSAGE (bad tag id or kind), PT_ENOMEM or PT_EIO.
 */
int pt_native_write_event(struct pt_native_writer *w, const struct pt_event *ev);

/**
 * pt_native_writer_flush() - write the pending chunk (if any) and fflush,
 * so that a crash after it loses nothing written before.
 * @return: 0 or PT_EIO.
 */
int pt_native_writer_flush(struct pt_native_writer *w);

/**
 * pt_native_writer_finish() - flush, sync a regular file to disk, then write
 * (and sync) the trailer; the trailer is left out when anything before it
 * could not be written.
 * @info: updated header fields for the trailer; NULL repeats the header's.
 * @totals: may be NULL.
 * @return: 0 or PT_EIO. The writer can only be freed afterwards.
 */
int pt_native_writer_finish(struct pt_native_writer *w, const struct pt_native_info *info,
			    const struct pt_native_totals *totals);

/** pt_native_writer_free() - free the writer (the stream stays open); NULL is accepted. */
void pt_native_writer_free(struct pt_native_writer *w);

/** pt_native_writer_events() - events written so far. */
uint64_t pt_native_writer_events(const struct pt_native_writer *w);

/** pt_native_writer_bytes() - bytes written to the stream so far. */
uint64_t pt_native_writer_bytes(const struct pt_native_writer *w);

/**
 * pt_native_writer_chunks() - chunks written so far. A chunk is counted once
 * all its bytes were handed to the system (each chunk is flushed as a whole),
 * so after a crash or a failed write the file holds at least these chunks.
 */
uint64_t pt_native_writer_chunks(const struct pt_native_writer *w);

/** pt_native_writer_events_done() - events in the chunks counted by pt_native_writer_chunks(). */
uint64_t pt_native_writer_events_done(const struct pt_native_writer *w);

/**
 * pt_native_writer_errno() - the errno of the write that failed (ENOSPC for a
 * full disk), 0 while no write failed. After a failure the writer writes
 * nothing more, the trailer included: the file reads back as cut short.
 */
int pt_native_writer_errno(const struct pt_native_writer *w);

/**
 * pt_native_copy() - read every event of a reader and write them as a
 * native trace (header from the reader's metadata, trailer from its final
 * metadata). The tags are those of the reader's table.
 * @fp: output stream (borrowed, not closed).
 * @command_line, @tool: recorded in the header; may be NULL.
 * @events: receives the number of events written; may be NULL.
 * @err, @errsz: a one-line message on failure.
 * @return: 0, the reader's negative error, or PT_EIO / PT_ENOMEM for the output.
 */
int pt_native_copy(struct pt_reader *r, FILE *fp, const char *command_line, const char *tool,
		   uint64_t *events, char *err, size_t errsz);

#ifdef __cplusplus
}
#endif
#endif
