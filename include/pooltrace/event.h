/* SPDX-License-Identifier: MIT */
/* The event stream every reader produces and the replay consumes. */
#ifndef POOLTRACE_EVENT_H
#define POOLTRACE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "Not known" value for pid, tid, cpu and session id. */
#define PT_NONE32 UINT32_MAX

/* What an event is. */
enum pt_event_kind {
	PT_EV_ALLOC = 0,     /* pool allocation (Windows opcode 32, Linux kmalloc/cache alloc) */
	PT_EV_FREE,          /* pool free (opcode 34, kfree/cache free) */
	PT_EV_SESSION_ALLOC, /* session pool allocation (opcode 33) */
	PT_EV_SESSION_FREE,  /* session pool free (opcode 35) */
	PT_EV_MARKER,        /* a user or tool mark; text in pt_event.marker */
	PT_EV_SNAPSHOT,      /* one PoolMon-style counter row at a point in time */
	PT_EV_STACK,         /* call stack of an earlier event (ETW StackWalk) */
	PT_EV_IMAGE,         /* an image (driver, DLL) mapped at addr..addr+size in pid */
	PT_EV_KIND_COUNT_
};

/*
 * Pool type, normalised. Windows POOL_TYPE values map onto these; Linux
 * slab caches and kmalloc call sites have their own kinds. Data, never a
 * string compare.
 */
enum pt_pool {
	PT_POOL_NONPAGED = 0,     /* POOL_TYPE 0 */
	PT_POOL_PAGED,            /* POOL_TYPE 1 */
	PT_POOL_NONPAGED_NX,      /* POOL_TYPE 512 */
	PT_POOL_NONPAGED_SESSION, /* POOL_TYPE 32 */
	PT_POOL_PAGED_SESSION,    /* POOL_TYPE 33 */
	PT_POOL_NONPAGED_SESSION_NX, /* POOL_TYPE 544 */
	PT_POOL_SLAB,             /* Linux kmem_cache_alloc: tag is the cache name */
	PT_POOL_KMALLOC,          /* Linux kmalloc: tag is the call site */
	PT_POOL_OTHER,            /* any other Windows POOL_TYPE; raw value kept */
	PT_POOL_COUNT_
};

/* pt_event.pool_flags bits. */
#define PT_POOLF_BIG 0x1u /* ETW_POOLTRACE_BIGPOOL_MASK (0x10000000) was set */

/* Interned tag: an index into a struct pt_tags. */
typedef uint32_t pt_tag_id;
#define PT_TAG_NONE UINT32_MAX

/*
 * One event. Strings are borrowed: valid until the next call to the
 * reader that produced the event.
 */
struct pt_event {
	uint64_t ts_ns;           /* ns since trace start (pt_trace_meta.start_unix_ns) */
	enum pt_event_kind kind;
	enum pt_pool pool;
	uint32_t pool_flags;      /* PT_POOLF_* */
	uint32_t raw_pool_type;   /* the source's own value (Windows POOL_TYPE) */
	pt_tag_id tag;            /* PT_TAG_NONE for markers */
	uint64_t size;            /* bytes; 0 when the source does not say (frees) */
	uint64_t addr;            /* allocation address; 0 when unknown */
	uint32_t pid, tid, cpu;   /* PT_NONE32 when unknown */
	uint32_t session_id;      /* PT_NONE32 when unknown */
	/* PT_EV_SNAPSHOT only: cumulative counters; size holds outstanding bytes */
	uint64_t snap_allocs, snap_frees;
	const char *marker;       /* PT_EV_MARKER: NUL-terminated text; PT_EV_IMAGE: file name */
	/*
	 * PT_EV_STACK only: the stack of the event of thread tid whose ts_ns is
	 * stack_ts_ns (pid is the process the stack was taken in). frames[0] is
	 * the innermost frame; borrowed like the strings.
	 */
	uint64_t stack_ts_ns;
	const uint64_t *frames;
	uint32_t nframes;
};

/* Frames a reader passes on at most; deeper stacks are cut (innermost frames kept). */
#define PT_STACK_MAX_FRAMES 256u

/* Clock the source timestamps came from. */
enum pt_clock {
	PT_CLOCK_UNKNOWN = 0,
	PT_CLOCK_QPC,
	PT_CLOCK_SYSTEM_TIME,
	PT_CLOCK_CPU_CYCLES,
	PT_CLOCK_MONOTONIC,   /* Linux trace clock "local"/"global"/mono */
	PT_CLOCK_WALL         /* absolute wall-clock timestamps in the source */
};

/* What the trace says about itself. Filled by the reader. */
struct pt_trace_meta {
	char format[24];          /* reader name, e.g. "tracerpt-xml" */
	char os[64];              /* free text, e.g. "Windows 10.0" or "Linux 6.1" */
	uint32_t os_build;        /* 0 when unknown */
	uint32_t pointer_size;    /* 4 or 8; 0 when unknown */
	uint32_t num_cpus;        /* 0 when unknown */
	enum pt_clock clock;
	uint64_t perf_freq;       /* ticks per second of the source clock; 0 unknown */
	bool has_start_time;
	int64_t start_unix_ns;    /* absolute time of ts_ns == 0 */
	uint64_t end_ns;          /* last timestamp seen or declared, ns since start */
	bool lost_known;
	uint64_t events_lost;
	uint64_t buffers_lost;
	bool snapshot_only;       /* counters only, no addresses (PoolMon logs) */
	int pool_tracing;         /* 1 on, 0 off, -1 unknown */
	char host[64];
	char logger[64];
};

/**
 * pt_pool_from_windows() - map a Windows POOL_TYPE (as in the pool event
 * payload, big-pool bit included) to a pt_pool.
 * @type: the raw 32-bit value.
 * @flags: receives PT_POOLF_* bits; may be NULL.
 * @return: the normalised pool type; PT_POOL_OTHER for values not listed.
 */
enum pt_pool pt_pool_from_windows(uint32_t type, uint32_t *flags);

/**
 * pt_pool_name() - display name of a pool type as PoolMon shows it
 * ("Nonp", "Paged", "NonpNx", "SessNp", "SessPg", "SessNx", "Slab",
 * "Kmalloc", "Other").
 * @return: a static string.
 */
const char *pt_pool_name(enum pt_pool pool);

/**
 * pt_pool_id() - stable machine name of a pool type for JSON/CSV
 * ("nonpaged", "paged", "nonpaged_nx", "session_nonpaged",
 * "session_paged", "session_nonpaged_nx", "slab", "kmalloc", "other").
 * @return: a static string.
 */
const char *pt_pool_id(enum pt_pool pool);

/**
 * pt_pool_parse() - inverse of pt_pool_id() and pt_pool_name(), case-insensitive.
 * @return: 0 and *out set, or PT_EUSAGE.
 */
int pt_pool_parse(const char *s, enum pt_pool *out);

/**
 * pt_pool_is_paged() - true for paged pools (Windows `Type & 1`).
 */
bool pt_pool_is_paged(enum pt_pool pool);

/**
 * pt_event_kind_name() - "alloc", "free", "session-alloc", "session-free",
 * "marker", "snapshot", "stack" or "image".
 */
const char *pt_event_kind_name(enum pt_event_kind kind);

/** pt_event_is_alloc() - true for PT_EV_ALLOC and PT_EV_SESSION_ALLOC. */
static inline bool pt_event_is_alloc(const struct pt_event *ev)
{
	return ev->kind == PT_EV_ALLOC || ev->kind == PT_EV_SESSION_ALLOC;
}

/** pt_event_is_free() - true for PT_EV_FREE and PT_EV_SESSION_FREE. */
static inline bool pt_event_is_free(const struct pt_event *ev)
{
	return ev->kind == PT_EV_FREE || ev->kind == PT_EV_SESSION_FREE;
}

/**
 * pt_event_is_aux() - true for PT_EV_STACK and PT_EV_IMAGE: events that
 * describe other events (where code ran) rather than pool activity.
 */
static inline bool pt_event_is_aux(const struct pt_event *ev)
{
	return ev->kind == PT_EV_STACK || ev->kind == PT_EV_IMAGE;
}

/**
 * pt_event_kind_borrows() - true for markers, stacks and images: their text
 * or frames are borrowed from the reader, valid until its next call, so a
 * batch of events (pt_reader_next_batch()) ends after one. One test of a bit
 * mask, for readers' per-event loops.
 */
static inline bool pt_event_kind_borrows(unsigned kind)
{
	return kind < 32 && (((1u << PT_EV_MARKER) | (1u << PT_EV_STACK) | (1u << PT_EV_IMAGE)) >> kind) & 1u;
}

/** pt_event_borrows() - pt_event_kind_borrows() of ev's kind. */
static inline bool pt_event_borrows(const struct pt_event *ev)
{
	return pt_event_kind_borrows((unsigned)ev->kind);
}

/** pt_event_init() - reset an event to "nothing known" (pid etc. PT_NONE32). */
void pt_event_init(struct pt_event *ev);

/** pt_trace_meta_init() - reset metadata to "nothing known". */
void pt_trace_meta_init(struct pt_trace_meta *m);

#ifdef __cplusplus
}
#endif
#endif
