/* SPDX-License-Identifier: MIT */
/* Internal to pooltrace-capture: the Linux kmem tracepoint backend. */
#ifndef PT_LINUX_KMEM_H
#define PT_LINUX_KMEM_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"

/* Which events to record. */
enum pt_lk_which {
	PT_LK_ALL = 0,
	PT_LK_SLAB_ONLY,     /* kmem_cache_alloc / kmem_cache_free */
	PT_LK_KMALLOC_ONLY   /* kmalloc / kfree */
};

struct pt_lk_opts {
	const char *instance_name;
	enum pt_lk_which which;
	uint64_t buffer_kb;          /* per-CPU buffer, 0 = the kernel's default */
	char **tags;                 /* tag patterns (pt_tag_match), may be empty */
	size_t ntags;
};

struct pt_lk;

/** pt_lk_now() - CLOCK_MONOTONIC in ns (the trace clock "mono"). */
uint64_t pt_lk_now(void);

/**
 * pt_lk_open() - check the environment, mount tracefs if needed, create the
 * instance with the kmem events enabled (tracing still off).
 * @err: receives a message that says what to try on failure.
 * @return: 0 or a negative PT_E* code.
 */
int pt_lk_open(struct pt_lk **out, struct pt_tags *tags, const struct pt_lk_opts *o,
	       char *err, size_t errsz);

/** pt_lk_start() - tracing on; event times are made relative to start_mono. */
int pt_lk_start(struct pt_lk *lk, uint64_t start_mono);

/** pt_lk_stop() - tracing off (buffers still readable). */
int pt_lk_stop(struct pt_lk *lk);

/**
 * pt_lk_poll() - read what the per-CPU buffers hold now into pend.
 * @events: incremented by the raw events read; may be NULL.
 */
int pt_lk_poll(struct pt_lk *lk, struct pt_pending *pend, uint64_t *events);

/** pt_lk_lost() - events lost on each CPU (ring buffer overruns and drops). */
int pt_lk_lost(struct pt_lk *lk, uint64_t *per_cpu, int ncpus);

/** pt_lk_missed() - events the page headers reported missing. */
uint64_t pt_lk_missed(const struct pt_lk *lk);

/** pt_lk_ncpus() - CPUs with a buffer. */
int pt_lk_ncpus(const struct pt_lk *lk);

/** pt_lk_nsyms() - kernel text symbols known for call sites. */
size_t pt_lk_nsyms(const struct pt_lk *lk);

/** pt_lk_close() - remove the instance and free everything; NULL is accepted. */
void pt_lk_close(struct pt_lk *lk);

#endif
