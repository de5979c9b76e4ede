/* SPDX-License-Identifier: MIT */
/* Internal to pooltrace-capture: the pieces shared by the program and its unit tests. */
#ifndef PT_CAPTURE_H
#define PT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pooltrace/pooltrace.h"

/* --- kernel symbols (/proc/kallsyms) --- */

struct pt_ksyms;

/**
 * pt_ksyms_load() - read the text symbols of a kallsyms-format stream.
 * @return: the table (possibly empty when addresses are hidden), NULL when out of memory.
 */
struct pt_ksyms *pt_ksyms_load(FILE *fp);

/** pt_ksyms_free() - free a table; NULL is accepted. */
void pt_ksyms_free(struct pt_ksyms *k);

/** pt_ksyms_count() - number of symbols kept. */
size_t pt_ksyms_count(const struct pt_ksyms *k);

/**
 * pt_ksyms_lookup() - the function containing addr (the nearest symbol at or
 * below it), without "+offset" or module suffix.
 * @return: borrowed name, or NULL when addr is below every symbol.
 */
const char *pt_ksyms_lookup(const struct pt_ksyms *k, uint64_t addr);

/* --- /proc/slabinfo --- */

/* One cache line of /proc/slabinfo. */
struct pt_slab_row {
	char name[64];
	uint64_t active_objs, num_objs, objsize;
};

/**
 * pt_slabinfo_parse_line() - parse one line of /proc/slabinfo (version 2.x).
 * @return: 1 for a cache row, 0 for a header or comment line, PT_EFORMAT otherwise.
 */
int pt_slabinfo_parse_line(const char *line, struct pt_slab_row *row);

/* --- time-ordered merge of per-CPU event streams --- */

/*
 * Events from per-CPU buffers come in order per CPU only. They wait here and
 * leave in timestamp order once no CPU can still deliver an earlier one.
 */
struct pt_pending;

/** pt_pending_new() - an empty queue. NULL when out of memory. */
struct pt_pending *pt_pending_new(void);

/** pt_pending_free() - free the queue and the marker texts it holds; NULL is accepted. */
void pt_pending_free(struct pt_pending *p);

/**
 * pt_pending_add() - queue an event (marker text copied).
 * @return: 0 or PT_ENOMEM.
 */
int pt_pending_add(struct pt_pending *p, const struct pt_event *ev);

/** pt_pending_count() - events waiting. */
size_t pt_pending_count(const struct pt_pending *p);

/**
 * pt_pending_drain() - pass every event with ts_ns <= upto to fn in time
 * order (ties keep their arrival order) and drop them; UINT64_MAX drains all.
 * @return: 0 or the first negative value fn returned.
 */
int pt_pending_drain(struct pt_pending *p, uint64_t upto,
		     int (*fn)(void *ctx, const struct pt_event *ev), void *ctx);

/* --- addresses of recorded allocations (for the --tags filter on untagged frees) --- */

struct pt_addrset;

/** pt_addrset_new() - an empty set holding at most max addresses (0 = 16M). NULL on OOM. */
struct pt_addrset *pt_addrset_new(size_t max);

/** pt_addrset_free() - free the set; NULL is accepted. */
void pt_addrset_free(struct pt_addrset *s);

/** pt_addrset_add() - add a non-zero address. @return: 0, PT_ELIMIT when full, PT_ENOMEM. */
int pt_addrset_add(struct pt_addrset *s, uint64_t addr);

/** pt_addrset_remove() - remove an address. @return: true when it was there. */
bool pt_addrset_remove(struct pt_addrset *s, uint64_t addr);

/** pt_addrset_count() - addresses held. */
size_t pt_addrset_count(const struct pt_addrset *s);

/** pt_addrset_full() - true once the cap was reached. */
bool pt_addrset_full(const struct pt_addrset *s);

#endif
