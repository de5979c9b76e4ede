/* SPDX-License-Identifier: MIT */
/*
 * Decoding of NtQuerySystemInformation(SystemPoolTagInformation) buffers
 * into snapshot events (see wincap.h).
 *
 * Layout (phnt ntexapi.h, "Class 22"):
 *   SYSTEM_POOLTAG_INFORMATION { ULONG Count; SYSTEM_POOLTAG TagInfo[1]; }
 *   SYSTEM_POOLTAG { union { UCHAR Tag[4]; ULONG TagUlong; };
 *                    ULONG PagedAllocs; ULONG PagedFrees; SIZE_T PagedUsed;
 *                    ULONG NonPagedAllocs; ULONG NonPagedFrees; SIZE_T NonPagedUsed; }
 * With natural alignment: 64-bit entries are 40 bytes (PagedUsed at 16,
 * NonPagedAllocs at 24, NonPagedUsed at 32) and TagInfo starts at offset 8;
 * 32-bit entries are 28 bytes (12, 16, 24) and TagInfo starts at offset 4.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/native.h"
#include "wincap.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

size_t pt_poolsnap_entry_size(unsigned ptr_size)
{
	return ptr_size == 8 ? 40 : ptr_size == 4 ? 28 : 0;
}

size_t pt_poolsnap_array_offset(unsigned ptr_size)
{
	return ptr_size == 8 ? 8 : ptr_size == 4 ? 4 : 0;
}

int pt_poolsnap_decode(const uint8_t *buf, size_t len, unsigned ptr_size,
		       int (*fn)(void *ctx, const struct pt_poolsnap_row *row), void *ctx,
		       char *err, size_t errsz)
{
	size_t esz = pt_poolsnap_entry_size(ptr_size);
	size_t off = pt_poolsnap_array_offset(ptr_size);
	if (!esz) {
		snprintf(err, errsz, "pool tag buffer: pointer size %u is not 4 or 8", ptr_size);
		return PT_EUSAGE;
	}
	if (!buf || len < 4) {
		snprintf(err, errsz, "pool tag buffer: %zu bytes, too short for the entry count",
			 buf ? len : 0);
		return PT_ETRUNCATED;
	}
	uint32_t count = get32(buf);
	if (count > PT_POOLSNAP_MAX_ENTRIES) {
		snprintf(err, errsz, "pool tag buffer: entry count %lu is over the limit of %u",
			 (unsigned long)count, PT_POOLSNAP_MAX_ENTRIES);
		return PT_ELIMIT;
	}
	if (count == 0)
		return 0;
	if (len < off || (len - off) / esz < count) {
		snprintf(err, errsz,
			 "pool tag buffer: %lu entries of %zu bytes need %zu bytes, only %zu given",
			 (unsigned long)count, esz, off + (size_t)count * esz, len);
		return PT_ETRUNCATED;
	}
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = buf + off + (size_t)i * esz;
		struct pt_poolsnap_row row;
		row.tag = get32(e);
		row.paged_allocs = get32(e + 4);
		row.paged_frees = get32(e + 8);
		if (ptr_size == 8) {
			row.paged_used = get64(e + 16);
			row.nonpaged_allocs = get32(e + 24);
			row.nonpaged_frees = get32(e + 28);
			row.nonpaged_used = get64(e + 32);
		} else {
			row.paged_used = get32(e + 12);
			row.nonpaged_allocs = get32(e + 16);
			row.nonpaged_frees = get32(e + 20);
			row.nonpaged_used = get32(e + 24);
		}
		int rc = fn(ctx, &row);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Widening state of one (tag, pool side). */
struct wide {
	uint64_t key;         /* tag << 1 | side, + 1 (0 = empty slot) */
	pt_tag_id id;
	uint32_t last_allocs, last_frees;
	uint64_t high_allocs, high_frees; /* wrap-arounds seen, * 2^32 */
};

struct pt_poolsnap {
	struct pt_tags *tags;
	struct pt_etw_tagfilter filter;
	enum pt_cap_pool pool;
	struct wide *slots;
	size_t nslots, used;
	/* per emit call */
	uint64_t ts_ns, rows;
	int (*fn)(void *ctx, const struct pt_event *ev);
	void *ctx;
};

struct pt_poolsnap *pt_poolsnap_new(struct pt_tags *tags, const struct pt_etw_tagfilter *filter,
				    enum pt_cap_pool pool)
{
	struct pt_poolsnap *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->tags = tags;
	if (filter)
		s->filter = *filter;
	s->pool = pool;
	s->nslots = 1024;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	return s;
}

void pt_poolsnap_free(struct pt_poolsnap *s)
{
	if (!s)
		return;
	free(s->slots);
	free(s);
}

static size_t slot_hash(uint64_t key, size_t n)
{
	key *= 0x9E3779B97F4A7C15ull;
	return (size_t)(key >> 32) & (n - 1);
}

static int grow(struct pt_poolsnap *s)
{
	size_t n = s->nslots * 2;
	struct wide *ns = calloc(n, sizeof(*ns));
	if (!ns)
		return PT_ENOMEM;
	for (size_t i = 0; i < s->nslots; i++) {
		if (!s->slots[i].key)
			continue;
		size_t h = slot_hash(s->slots[i].key, n);
		while (ns[h].key)
			h = (h + 1) & (n - 1);
		ns[h] = s->slots[i];
	}
	free(s->slots);
	s->slots = ns;
	s->nslots = n;
	return 0;
}

/* The state of (tag, side); a new one has its tag interned. */
static int lookup(struct pt_poolsnap *s, uint32_t tag, int side, struct wide **out)
{
	uint64_t key = ((uint64_t)tag << 1 | (uint64_t)side) + 1;
	if ((s->used + 1) * 4 > s->nslots * 3) {
		int rc = grow(s);
		if (rc < 0)
			return rc;
	}
	size_t h = slot_hash(key, s->nslots);
	while (s->slots[h].key && s->slots[h].key != key)
		h = (h + 1) & (s->nslots - 1);
	struct wide *w = &s->slots[h];
	if (!w->key) {
		pt_tag_id id;
		int rc = pt_tags_intern_u32(s->tags, tag, &id);
		if (rc < 0)
			return rc;
		memset(w, 0, sizeof(*w));
		w->key = key;
		w->id = id;
		s->used++;
		/* first sight: no wrap known; the raw values stand */
		w->last_allocs = 0;
		w->last_frees = 0;
	}
	*out = w;
	return 0;
}

static int side_row(struct pt_poolsnap *s, uint32_t tag, int side, uint32_t allocs,
		    uint32_t frees, uint64_t used)
{
	if (!allocs && !frees && !used)
		return 0;
	struct wide *w;
	int rc = lookup(s, tag, side, &w);
	if (rc < 0)
		return rc;
	if (allocs < w->last_allocs)
		w->high_allocs += 1ull << 32;
	if (frees < w->last_frees)
		w->high_frees += 1ull << 32;
	w->last_allocs = allocs;
	w->last_frees = frees;
	struct pt_event ev;
	pt_event_init(&ev);
	ev.kind = PT_EV_SNAPSHOT;
	ev.ts_ns = s->ts_ns;
	ev.tag = w->id;
	ev.pool = side ? PT_POOL_NONPAGED : PT_POOL_PAGED;
	ev.raw_pool_type = side ? 0u : 1u; /* POOL_TYPE: NonPagedPool 0, PagedPool 1 */
	ev.snap_allocs = w->high_allocs + allocs;
	ev.snap_frees = w->high_frees + frees;
	ev.size = used;
	rc = s->fn(s->ctx, &ev);
	if (rc < 0)
		return rc;
	s->rows++;
	return 0;
}

static int on_row(void *ctx, const struct pt_poolsnap_row *row)
{
	struct pt_poolsnap *s = ctx;
	if (!pt_etw_tagfilter_match(&s->filter, row->tag))
		return 0;
	int rc = 0;
	if (s->pool != PT_CAP_POOL_NONPAGED)
		rc = side_row(s, row->tag, 0, row->paged_allocs, row->paged_frees, row->paged_used);
	if (rc >= 0 && s->pool != PT_CAP_POOL_PAGED)
		rc = side_row(s, row->tag, 1, row->nonpaged_allocs, row->nonpaged_frees,
			      row->nonpaged_used);
	return rc;
}

int pt_poolsnap_emit(struct pt_poolsnap *s, const uint8_t *buf, size_t len, unsigned ptr_size,
		     uint64_t ts_ns, int (*fn)(void *ctx, const struct pt_event *ev), void *ctx,
		     uint64_t *rows, char *err, size_t errsz)
{
	if (err && errsz)
		err[0] = '\0';
	s->ts_ns = ts_ns;
	s->rows = 0;
	s->fn = fn;
	s->ctx = ctx;
	int rc = pt_poolsnap_decode(buf, len, ptr_size, on_row, s, err, errsz);
	if (rows)
		*rows = s->rows;
	if (rc < 0 && err && errsz && !err[0])
		snprintf(err, errsz, "pool tag snapshot: %s", pt_strerror(rc));
	return rc;
}

int pt_poolsnap_write_fn(void *ctx, const struct pt_event *ev)
{
	return pt_native_write_event(ctx, ev);
}

int pt_cap_snapshot_path(const char *output, char *out, size_t outsz)
{
	size_t n = strlen(output);
	const char *suffix = ".snapshots.ptz";
	if (n >= 4 && (!strcmp(output + n - 4, ".etl") || !strcmp(output + n - 4, ".ETL")))
		n -= 4;
	if (n + strlen(suffix) + 1 > outsz)
		return PT_ELIMIT;
	memcpy(out, output, n);
	strcpy(out + n, suffix);
	return 0;
}

bool pt_cap_is_native_output(const char *output)
{
	size_t n = output ? strlen(output) : 0;
	if (n < 4)
		return false;
	const char *e = output + n - 4;
	return e[0] == '.' && (e[1] | 0x20) == 'p' && (e[2] | 0x20) == 't' && (e[3] | 0x20) == 'z';
}
