/* SPDX-License-Identifier: MIT */
/*
 * Internal to pooltrace-capture for Windows: the portable part. Everything
 * declared here builds on any OS and is unit-tested on Linux; the Windows
 * program (capture/windows/win_*.c) hands the bytes it produces straight to
 * the Windows APIs. All multi-byte values are written little-endian, which
 * is the byte order of every Windows target.
 *
 * Sources of the layouts (see docs/capture-windows.md for the full list):
 * - PERFINFO_GROUPMASK, PERF_* values, hook ids, PoolGuid, ETW_EXT_* items,
 *   ETW_SET_MARK_INFORMATION, EVENT_TRACE_TAG_FILTER_INFORMATION:
 *   phnt ntwmi.h (System Informer), Geoff Chappell's ntwmi notes.
 * - Extension block encoding: microsoft/perfview ETWKernelControl.cs.
 * - CLASSIC_EVENT_ID, TRACE_INFO_CLASS values: evntrace.h (Windows SDK,
 *   learn.microsoft.com "TRACE_QUERY_INFO_CLASS").
 * - SYSTEM_POOLTAG_INFORMATION / SYSTEM_POOLTAG: phnt ntexapi.h.
 */
#ifndef PT_WINCAP_H
#define PT_WINCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pooltrace/event.h"
#include "pooltrace/tags.h"

/* ---------------------------------------------------------------------- */
/* Command line (shared shape with the Linux backend)                     */
/* ---------------------------------------------------------------------- */

/* Which pools --pool selects. */
enum pt_cap_pool {
	PT_CAP_POOL_BOTH = 0,
	PT_CAP_POOL_PAGED,
	PT_CAP_POOL_NONPAGED,
	PT_CAP_POOL_SLAB,    /* Linux: kmem_cache_* events only */
	PT_CAP_POOL_KMALLOC  /* Linux: kmalloc/kfree only */
};

/* Default cool-down after the workload exits. */
#define PT_CAP_DEFAULT_COOLDOWN_NS (10ull * 1000000000ull)
/* Smallest --snapshot-interval accepted. */
#define PT_CAP_MIN_SNAPSHOT_NS (10ull * 1000000ull)

/* Parsed pooltrace-capture options. Strings point into argv. */
struct pt_capopts {
	const char *output;         /* -o FILE; NULL = backend default */
	const char *tags;           /* --tags T1,T2,...; NULL = all */
	enum pt_cap_pool pool;      /* --pool */
	bool has_duration;
	uint64_t duration_ns;       /* --duration */
	bool has_cooldown;
	uint64_t cooldown_ns;       /* --cooldown (default PT_CAP_DEFAULT_COOLDOWN_NS with a command) */
	uint64_t snapshot_ns;       /* --snapshot-interval; 0 = none */
	uint64_t buffer_bytes;      /* --buffer-size; 0 = backend default */
	bool stacks;                /* --stacks */
	bool snapshots_only;        /* --snapshots-only (needs --snapshot-interval) */
	bool quiet;                 /* -q, --quiet: no summary line */
	const char *mark;           /* --mark TEXT: mark a running capture and exit */
	const char *control;        /* --control PATH (Linux: the marker FIFO) */
	bool help, version;
	char **cmd;                 /* the command after "--" (NULL-terminated argv), or NULL */
	int ncmd;
};

/**
 * pt_capopts_parse() - parse `pooltrace-capture [-o FILE] [--tags T1,T2,...]
 * [--pool paged|nonpaged|both|slab|kmalloc] [--duration D] [--cooldown D]
 * [--snapshot-interval D] [--snapshots-only] [--buffer-size SIZE] [--stacks]
 * [-q] [--mark TEXT [--control PATH]] [-- COMMAND ARGS...]`. Long options
 * take "--opt VALUE" or "--opt=VALUE". Which values a platform accepts
 * (--pool slab, --stacks, ...) is the backend's decision.
 * @argv: argv[0] is the program name; argv[argc] must be NULL.
 * @err, @errsz: a one-line message on failure.
 * @return: 0 or PT_EUSAGE.
 */
int pt_capopts_parse(struct pt_capopts *o, int argc, char **argv, char *err, size_t errsz);

/** pt_cap_pool_name() - "both", "paged", "nonpaged", "slab" or "kmalloc". */
const char *pt_cap_pool_name(enum pt_cap_pool pool);

/** pt_capopts_usage() - the usage text (static, ends with a newline). */
const char *pt_capopts_usage(void);

/* ---------------------------------------------------------------------- */
/* ETW kernel session structures                                          */
/* ---------------------------------------------------------------------- */

/* PERF_* group mask values (ntwmi.h): the top 3 bits select Masks[i]. */
#define PT_PERF_PROCESS 0x00000001u /* == EVENT_TRACE_FLAG_PROCESS */
#define PT_PERF_THREAD 0x00000002u  /* == EVENT_TRACE_FLAG_THREAD */
#define PT_PERF_LOADER 0x00000004u  /* == EVENT_TRACE_FLAG_IMAGE_LOAD */
#define PT_PERF_POOL 0x20000040u    /* Masks[1] bit 0x40; Windows 6.1 and later */
#define PT_PERF_NUM_MASKS 8
#define PT_PERF_GROUPMASK_SIZE (PT_PERF_NUM_MASKS * 4)

/* Hook ids (group << 8 | type) of the pool events and of the PerfInfo mark. */
#define PT_ETW_HOOK_POOL_ALLOC 0x0E20
#define PT_ETW_HOOK_POOL_ALLOC_SESSION 0x0E21
#define PT_ETW_HOOK_POOL_FREE 0x0E22
#define PT_ETW_HOOK_POOL_FREE_SESSION 0x0E23
#define PT_ETW_HOOK_MARK 0x0F22

/* TRACE_INFO_CLASS values used with TraceSetInformation (evntrace.h). */
#define PT_TRACE_STACK_TRACING_INFO 3
#define PT_TRACE_SYSTEM_TRACE_ENABLE_FLAGS_INFO 4

/* NtSetSystemInformation class and sub-class for the pool-tag filter (phnt). */
#define PT_SYSTEM_PERFORMANCE_TRACE_INFORMATION 31
#define PT_EVENT_TRACE_POOLTAG_FILTER_INFORMATION 10

/* NtQuerySystemInformation class of the per-tag pool counters. */
#define PT_SYSTEM_POOLTAG_INFORMATION 22

/* EVENT_TRACE_PROPERTIES.EnableFlags value that announces an extension block. */
#define PT_ETW_EXT_FLAG 0x80FF0000u
/* Extension item types (ETW_EXT_*). */
#define PT_ETW_EXT_ENABLE_FLAGS 1
#define PT_ETW_EXT_STACKWALK_FILTER 3
#define PT_ETW_EXT_POOLTAG_FILTER 4

/* The pool tag filter takes at most this many tags (ETW_MAX_POOLTAG_FILTER). */
#define PT_ETW_MAX_TAGS 4

/* Size of one CLASSIC_EVENT_ID {GUID EventGuid; UCHAR Type; UCHAR Reserved[7];}. */
#define PT_ETW_CLASSIC_ID_SIZE 24
/* Number of pool events stacks are asked for (opcodes 0x20..0x23). */
#define PT_ETW_POOL_STACK_EVENTS 4

/* PoolGuid {0268a8b6-74fd-4302-9dd0-6e8f1795c0cf} in GUID memory layout. */
extern const uint8_t pt_etw_pool_guid[16];

/* A PERFINFO_GROUPMASK: ULONG Masks[8]. */
struct pt_etw_groupmask {
	uint32_t masks[PT_PERF_NUM_MASKS];
};

/** pt_etw_groupmask_init() - clear every mask. */
void pt_etw_groupmask_init(struct pt_etw_groupmask *gm);

/** pt_etw_groupmask_set() - turn on one PERF_* value (index from its top 3 bits). */
void pt_etw_groupmask_set(struct pt_etw_groupmask *gm, uint32_t perf);

/** pt_etw_groupmask_test() - true when every bit of the PERF_* value is on. */
bool pt_etw_groupmask_test(const struct pt_etw_groupmask *gm, uint32_t perf);

/**
 * pt_etw_pool_groupmask() - the mask pooltrace-capture enables: pool
 * allocations and frees, plus process, thread and image-load events so that
 * stacks and process ids can be resolved.
 */
void pt_etw_pool_groupmask(struct pt_etw_groupmask *gm);

/**
 * pt_etw_groupmask_encode() - the PERFINFO_GROUPMASK bytes for
 * TraceSetInformation(TraceSystemTraceEnableFlagsInfo).
 * @out: PT_PERF_GROUPMASK_SIZE bytes.
 */
void pt_etw_groupmask_encode(const struct pt_etw_groupmask *gm, uint8_t out[PT_PERF_GROUPMASK_SIZE]);

/**
 * pt_etw_pool_stack_ids() - the CLASSIC_EVENT_ID array for
 * TraceSetInformation(TraceStackTracingInfo): {PoolGuid, 0x20..0x23}.
 * @out: at least PT_ETW_POOL_STACK_EVENTS * PT_ETW_CLASSIC_ID_SIZE bytes.
 * @return: the number of bytes written.
 */
size_t pt_etw_pool_stack_ids(uint8_t *out, size_t outsz);

/* A validated pool-tag filter. */
struct pt_etw_tagfilter {
	size_t n;                          /* 0 = no filter */
	uint32_t tags[PT_ETW_MAX_TAGS];    /* ULONG tag values ('Proc' == 0x636F7250) */
	uint8_t bytes[PT_ETW_MAX_TAGS][4]; /* the same tags as bytes */
};

/**
 * pt_etw_tagfilter_parse() - parse "T1,T2,..." into at most 4 tags of 1 to 4
 * characters. Short tags are padded with spaces, as pool tags are shown;
 * "\xNN" escapes give any byte (e.g. "Ab\x00\x00"). Wildcards are refused:
 * the kernel filter takes exact tags.
 * @list: NULL or "" means no filter.
 * @return: 0 or PT_EUSAGE with err set.
 */
int pt_etw_tagfilter_parse(const char *list, struct pt_etw_tagfilter *f, char *err, size_t errsz);

/**
 * pt_etw_tagfilter_match() - true when the filter is empty or holds the tag
 * (trailing spaces and NULs are not significant, as in pt_tag_match()).
 */
bool pt_etw_tagfilter_match(const struct pt_etw_tagfilter *f, uint32_t tag);

/**
 * pt_etw_tagfilter_info() - EVENT_TRACE_TAG_FILTER_INFORMATION for
 * NtSetSystemInformation(SystemPerformanceTraceInformation):
 * {ULONG class = 10; 4 bytes padding; ULONG64 TraceHandle; ULONG Filter[n]}.
 * @return: bytes written, or 0 when the filter is empty or out is too small.
 */
size_t pt_etw_tagfilter_info(const struct pt_etw_tagfilter *f, uint64_t trace_handle,
			     uint8_t *out, size_t outsz);

/**
 * pt_etw_ext_build() - the extension block appended to EVENT_TRACE_PROPERTIES
 * (the route for the NT Kernel Logger on Windows 7): a header DWORD
 * (total length in DWORDs | item count << 16), then items, each a DWORD
 * (length in DWORDs including itself | type << 16) and its data: the group
 * mask (8 DWORDs), the stack-walk hook ids (when nhooks > 0) and the pool
 * tags (when the filter is not empty).
 * @return: bytes written, or 0 when out is too small.
 */
size_t pt_etw_ext_build(const struct pt_etw_groupmask *gm, const uint16_t *hooks, size_t nhooks,
			const struct pt_etw_tagfilter *tf, uint8_t *out, size_t outsz);

/**
 * pt_etw_ext_enable_flags() - the EnableFlags value that points at an
 * extension block placed @offset bytes into the properties buffer.
 * @return: the value, or 0 when offset does not fit in 16 bits or is not a
 *          multiple of 4.
 */
uint32_t pt_etw_ext_enable_flags(size_t offset);

/* Longest mark text sent to the kernel (bytes, without the NUL). */
#define PT_ETW_MAX_MARK 1024

/**
 * pt_etw_mark_build() - the ETW_SET_MARK_INFORMATION block for EtwSetMark:
 * ULONG Flag (0), then the text bytes and a NUL. Such marks are logged as
 * PerfInfo Mark events (hook 0x0F22) with the text as payload.
 * @text: cut at PT_ETW_MAX_MARK bytes.
 * @return: bytes written, or 0 when out is too small.
 */
size_t pt_etw_mark_build(const char *text, uint8_t *out, size_t outsz);

/* ---------------------------------------------------------------------- */
/* SystemPoolTagInformation snapshots                                     */
/* ---------------------------------------------------------------------- */

/* One SYSTEM_POOLTAG entry, widened. */
struct pt_poolsnap_row {
	uint32_t tag;               /* TagUlong */
	uint32_t paged_allocs, paged_frees;
	uint64_t paged_used;
	uint32_t nonpaged_allocs, nonpaged_frees;
	uint64_t nonpaged_used;
};

/* Cap on the entry count of one buffer (the kernel has a few thousand tags). */
#define PT_POOLSNAP_MAX_ENTRIES (1u << 20)

/**
 * pt_poolsnap_entry_size() - bytes of one SYSTEM_POOLTAG for a SIZE_T of
 * @ptr_size bytes (28 for 4, 40 for 8; 0 for other sizes).
 */
size_t pt_poolsnap_entry_size(unsigned ptr_size);

/**
 * pt_poolsnap_array_offset() - offset of TagInfo[0] in
 * SYSTEM_POOLTAG_INFORMATION (4 for 32-bit, 8 for 64-bit; 0 otherwise).
 */
size_t pt_poolsnap_array_offset(unsigned ptr_size);

/**
 * pt_poolsnap_decode() - walk a SystemPoolTagInformation buffer
 * {ULONG Count; SYSTEM_POOLTAG TagInfo[Count]} produced with SIZE_T of
 * @ptr_size (4 or 8) bytes, calling fn for every entry.
 * @len: bytes valid in buf (the ReturnLength, not the allocation).
 * @return: 0, the first negative value fn returned, or PT_EFORMAT /
 *          PT_ETRUNCATED / PT_ELIMIT / PT_EUSAGE with err set.
 */
int pt_poolsnap_decode(const uint8_t *buf, size_t len, unsigned ptr_size,
		       int (*fn)(void *ctx, const struct pt_poolsnap_row *row), void *ctx,
		       char *err, size_t errsz);

/*
 * Turns successive buffers into PT_EV_SNAPSHOT events: one per tag and pool
 * side (paged, nonpaged) with any non-zero counter, filtered by tag and
 * pool. The 32-bit alloc/free counters are widened to 64 bits across
 * wrap-arounds between samples.
 */
struct pt_poolsnap;

/**
 * pt_poolsnap_new() - a sampler that interns tags in @tags (borrowed).
 * @filter: may be NULL; copied.
 * @return: NULL when out of memory.
 */
struct pt_poolsnap *pt_poolsnap_new(struct pt_tags *tags, const struct pt_etw_tagfilter *filter,
				    enum pt_cap_pool pool);

/** pt_poolsnap_free() - free a sampler; NULL is accepted. */
void pt_poolsnap_free(struct pt_poolsnap *s);

/**
 * pt_poolsnap_emit() - decode one buffer taken at @ts_ns and pass the rows
 * as events to fn.
 * @rows: receives the number of events passed; may be NULL.
 * @return: as pt_poolsnap_decode(), or PT_ENOMEM.
 */
int pt_poolsnap_emit(struct pt_poolsnap *s, const uint8_t *buf, size_t len, unsigned ptr_size,
		     uint64_t ts_ns, int (*fn)(void *ctx, const struct pt_event *ev), void *ctx,
		     uint64_t *rows, char *err, size_t errsz);

/**
 * pt_poolsnap_write_fn() - an fn for pt_poolsnap_emit() that appends to the
 * struct pt_native_writer given as ctx.
 */
int pt_poolsnap_write_fn(void *ctx, const struct pt_event *ev);

/**
 * pt_cap_snapshot_path() - the name of the snapshot side file of an .etl
 * output: "trace.etl" -> "trace.snapshots.ptz" (an extension other than
 * .etl is kept: "x.bin" -> "x.bin.snapshots.ptz").
 * @return: 0, or PT_ELIMIT when out is too small.
 */
int pt_cap_snapshot_path(const char *output, char *out, size_t outsz);

/** pt_cap_is_native_output() - true when the name ends in ".ptz" (any case). */
bool pt_cap_is_native_output(const char *output);

#endif
