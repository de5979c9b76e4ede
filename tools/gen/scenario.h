/* SPDX-License-Identifier: MIT */
/*
 * Scenario engine: turns a small text description of pool activity (tags,
 * rates, sizes, lifetimes, leaks, phases, markers) into a time-ordered
 * stream of pt_events with a known answer. Deterministic for a seed; memory
 * grows with pending frees only, never with the duration.
 * The description format is documented in docs/scenarios.md.
 */
#ifndef PTGEN_SCENARIO_H
#define PTGEN_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pooltrace/event.h"
#include "pooltrace/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PTG_FOREVER UINT64_MAX

/* One `tag` line. */
struct ptg_tag {
	uint8_t bytes[4];        /* the tag, padded with spaces */
	enum pt_pool pool;
	uint32_t raw_type;       /* Windows POOL_TYPE written to the trace (big bit included) */
	uint32_t session;        /* PT_NONE32: not a session pool */
	uint64_t period_ns;      /* mean time between allocations; 0: none */
	uint64_t size_min, size_max;
	uint64_t life_min, life_max; /* PTG_FOREVER: never freed */
	double leak;             /* fraction of allocations never freed */
	double lost_frees;       /* fraction of frees dropped from the trace */
	bool always;             /* phase=always: allocate over the whole trace */
	bool has_from, has_until;
	uint64_t from_ns, until_ns; /* explicit allocation window */
	uint32_t pid;
	uint32_t threads;
	uint32_t line;           /* line in the description */
	uint64_t prelive;        /* allocations made before the trace, freed inside it */
	uint64_t prelive_until_ns; /* their frees are spread over [0, this); 0: half the trace */
};

struct ptg_marker {
	uint64_t t_ns;
	char text[128];
};

struct ptg_scenario {
	char name[128];
	uint64_t seed;
	uint64_t duration_ns;
	uint64_t wstart_ns, wend_ns;  /* wend_ns defaults to duration */
	uint32_t pointer_size;        /* 4 or 8 */
	uint32_t cpus;
	int64_t start_unix_ns;
	char host[64];
	uint32_t os_build;
	bool lost_known;
	uint64_t events_lost, buffers_lost;
	bool free_size;               /* frees carry NumberOfBytes */
	struct ptg_tag *tags;
	size_t ntags;
	struct ptg_marker *markers;   /* sorted by time */
	size_t nmarkers;
};

/* What really happened to one tag (known once the generator is done). */
struct ptg_truth {
	uint8_t bytes[4];
	enum pt_pool pool;
	bool leak;              /* the scenario makes it leak (lifetime=forever or leak>0) */
	uint64_t allocs;        /* allocation events written */
	uint64_t frees;         /* free events written */
	uint64_t lost_frees;    /* frees dropped from the trace (lost-frees) */
	uint64_t never_freed;   /* allocations that are never freed */
	uint64_t live_at_end;   /* allocations not freed by the end of the trace */
	uint64_t bytes_at_end;  /* their bytes */
	uint64_t bytes_at_wend; /* outstanding bytes at workload end */
};

/**
 * ptg_scenario_parse() - parse a description held in memory.
 * @name: used in messages ("demo.scn:12: ...").
 * @out: receives the scenario (ptg_scenario_free()).
 * @return: 0, PT_EUSAGE with err set, or PT_ENOMEM.
 */
int ptg_scenario_parse(const char *text, size_t len, const char *name,
		       struct ptg_scenario **out, char *err, size_t errsz);

/** ptg_scenario_load() - parse a description file. */
int ptg_scenario_load(const char *path, struct ptg_scenario **out, char *err, size_t errsz);

/** ptg_scenario_free() - NULL is accepted. */
void ptg_scenario_free(struct ptg_scenario *s);

/**
 * ptg_scenario_set_duration() - change the duration; workload phases,
 * markers and explicit tag windows move in proportion.
 */
void ptg_scenario_set_duration(struct ptg_scenario *s, uint64_t duration_ns);

/** ptg_scenario_scale_rates() - multiply every allocation rate by @factor (> 0). */
void ptg_scenario_scale_rates(struct ptg_scenario *s, double factor);

/** ptg_scenario_meta() - the trace metadata a writer puts in its header. */
void ptg_scenario_meta(const struct ptg_scenario *s, struct pt_trace_meta *m);

struct ptg_gen;

/**
 * ptg_gen_new() - a generator over @s (borrowed, must outlive it) that
 * interns its tags into @tags.
 * @return: the generator, or NULL when out of memory.
 */
struct ptg_gen *ptg_gen_new(const struct ptg_scenario *s, struct pt_tags *tags);

/**
 * ptg_gen_next() - the next event in time order.
 * @return: 1 with *ev filled (marker text valid until the next call), 0 at
 *          the end of the trace, or PT_ENOMEM.
 */
int ptg_gen_next(struct ptg_gen *g, struct pt_event *ev);

/**
 * ptg_gen_truth() - per tag of the scenario (same order): what happened so
 * far; complete once ptg_gen_next() returned 0.
 */
const struct ptg_truth *ptg_gen_truth(const struct ptg_gen *g, size_t *n);

/** ptg_gen_pending() - frees scheduled and not yet written (memory use). */
size_t ptg_gen_pending(const struct ptg_gen *g);

/** ptg_gen_free() - NULL is accepted. */
void ptg_gen_free(struct ptg_gen *g);

#ifdef __cplusplus
}
#endif
#endif
