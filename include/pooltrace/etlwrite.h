/* SPDX-License-Identifier: MIT */
/*
 * A small ETL (.etl) writer for test fixtures and the scenario generator:
 * pool alloc/free events, marks, stacks and images as kernel records in per-CPU buffers,
 * 32- or 64-bit layout, plain or XPRESS-compressed, optional lost-event
 * flags. It writes what the "etl" reader reads (docs/etl.md); it is not a
 * replacement for Windows' own logger.
 */
#ifndef POOLTRACE_ETLWRITE_H
#define POOLTRACE_ETLWRITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pooltrace/event.h"
#include "pooltrace/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Record header used for pool events and marks. */
enum pt_etlw_header {
	PT_ETLW_SYSTEM = 0,  /* SYSTEM_TRACE_HEADER (thread and process ids kept) */
	PT_ETLW_COMPACT,     /* COMPACT header (ids kept, no kernel/user times) */
	PT_ETLW_PERFINFO     /* PERFINFO header (no ids) */
};

/* Zero-initialise, then set what differs from the defaults. */
struct pt_etlw_opts {
	uint32_t pointer_size;     /* 4 or 8 (0 = 8) */
	uint32_t num_cpus;         /* CPUs; events go to ev->cpu % num_cpus (0 = 1) */
	uint32_t buffer_size;      /* bytes per buffer, multiple of 8, >= 1024 (0 = 65536) */
	bool compress;             /* XPRESS-compressed data buffers, as the Windows relogger writes */
	enum pt_clock clock;       /* PT_CLOCK_QPC (default), PT_CLOCK_SYSTEM_TIME or PT_CLOCK_CPU_CYCLES */
	uint64_t perf_freq;        /* QPC ticks per second (0 = 10 MHz) */
	uint32_t cpu_mhz;          /* CPU speed, the cycle clock's rate (0 = 3000) */
	int64_t start_unix_ns;     /* time of ts_ns 0 (0 = 2024-01-01T00:00:00Z) */
	uint64_t end_ns;           /* declared trace end after the start (0 = the last event) */
	uint32_t os_build;         /* 0 = 19045 */
	int pool_tracing;          /* group mask record: 1 with PERF_POOL, 0 without, -1 none */
	enum pt_etlw_header header;
	uint32_t events_lost;      /* logfile header EventsLost */
	uint32_t buffers_lost;     /* logfile header BuffersLost */
	uint32_t lost_flag_every;  /* EVENTS_LOST flag on every Nth data buffer (0 = none) */
	const char *logger;        /* session name (NULL = "pooltrace") */
};

struct pt_etlw;

/**
 * pt_etlw_open() - start an ETL file on fp (written from its current
 * position; a seekable fp gets BuffersWritten and EndTime filled in by
 * pt_etlw_finish()).
 * @tags: where the events' tag ids come from (borrowed).
 * @return: 0, PT_EUSAGE for bad options, PT_ENOMEM or PT_EIO.
 */
int pt_etlw_open(struct pt_etlw **out, FILE *fp, const struct pt_etlw_opts *opts,
		 const struct pt_tags *tags);

/**
 * pt_etlw_event() - append one event (alloc, free, session alloc/free,
 * marker, stack as a StackWalk record (EventTimeStamp from stack_ts_ns) or
 * image as an image rundown (DCStart) record; snapshot events have no ETL
 * form and are counted, not written).
 * Timestamps are kept at the clock's resolution (100 ns for the default QPC).
 * @return: 0 or a negative PT_E* code.
 */
int pt_etlw_event(struct pt_etlw *w, const struct pt_event *ev);

/**
 * pt_etlw_finish() - write the partly filled buffers and, when fp is
 * seekable, fill in the header. fp is flushed, not closed.
 * @return: 0 or PT_EIO.
 */
int pt_etlw_finish(struct pt_etlw *w);

/** pt_etlw_buffers() - buffers written so far, the header buffer included. */
uint64_t pt_etlw_buffers(const struct pt_etlw *w);

/** pt_etlw_skipped() - events that have no ETL form (snapshots). */
uint64_t pt_etlw_skipped(const struct pt_etlw *w);

/** pt_etlw_free() - free the writer (fp is not closed); NULL is accepted. */
void pt_etlw_free(struct pt_etlw *w);

#ifdef __cplusplus
}
#endif
#endif
