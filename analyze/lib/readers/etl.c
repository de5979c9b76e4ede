/* SPDX-License-Identifier: MIT */
/*
 * Reader for raw Windows Event Trace Log (.etl) files, on any OS.
 *
 * The file is read once, front to back, buffer by buffer (no seeking: it may
 * be a pipe or a gzip stream). Buffers are per CPU and appear out of order,
 * so events are merged into time order:
 *   - every CPU is one stream with a queue of raw buffers (sorted by
 *     SequenceNumber) and at most one active, decoded buffer;
 *   - a binary heap keeps the streams by the timestamp of their next event;
 *   - before an event is returned, every known CPU must have its next event
 *     at hand; while one has none the reader reads ahead, up to a window of
 *     queued raw bytes (WINDOW_BYTES). A CPU silent past the window cannot
 *     hold the merge up: its later, earlier-stamped events then come out of
 *     order (counted in merge_backwards).
 * Memory bound: WINDOW_BYTES plus one buffer of queued raw data, plus one
 * decoded buffer per CPU stream (compressed buffers stay compressed in the
 * queue).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/etl.h"
#include "pooltrace/error.h"
#include "pooltrace/reader.h"
#include "pooltrace/tags.h"
#include "readers/readers.h"

#define WINDOW_BYTES (64u << 20)
#define MAX_STREAMS 2048u      /* ProcessorIndex is masked with 0x7FF */
#define MAX_GUIDS 1024u
#define MAX_MARK 4096u
#define FREE_LIST_MAX 64u
#define TAG_CACHE_BITS 8
#define POOL_TAB 1024u          /* POOL_TYPE values mapped by table */
#define SCAN_MAX 16u           /* streams merged by linear scan; more use the heap */
#define MAX_IMAGE_NAME 512u
/* stream ev_op values besides the pool opcodes 0x20..0x23 (0 is a mark) */
#define EV_OP_STACK 0xF0
#define EV_OP_IMAGE 0xF1

/* One buffer as read from the file (header included, possibly compressed). */
struct ebuf {
	struct ebuf *next;
	uint64_t off;       /* file offset (decompressed stream offset for .gz) */
	uint64_t seq;
	uint32_t len;       /* bytes present (less than BufferSize when truncated) */
	uint32_t cap;
	uint8_t data[];
};

/*
 * One decoded event waiting in its stream's queue. Pool events are decoded
 * when their buffer is walked (a run of up to EVQ at a time, in a tight
 * loop); the tag is interned and marks, stacks and images are decoded only
 * when the merge returns the event, so tag ids keep the order of time and
 * borrowed text and frames stay valid until the next call.
 */
struct qent {
	struct pt_event ev; /* pool events: ev.tag holds the raw 4 tag bytes until returned */
	const uint8_t *p;   /* the record (pool: for messages), payload (stack, image), text (mark) */
	uint32_t len;       /* mark text length; stack and image payload length */
	uint8_t op;         /* pool opcode 0x20..0x23, 0 for a mark, EV_OP_STACK/EV_OP_IMAGE */
	uint8_t ps;         /* payload pointer size */
};

/*
 * Events decoded per walk of a buffer (never across buffers: the buffer stays
 * until they are out). 32 keeps the queues of four CPUs (4.3 KB each) in L1:
 * cachegrind, 1 M-event churn ETL, L1 data misses 5.3 M with 64, 3.1 M with
 * 32, 3.0 M with 16 (which costs 2 % more instructions).
 */
#define EVQ 32u

struct stream {
	uint32_t cpu;
	uint32_t slot;      /* creation order; ties in time go to the lower slot */
	uint32_t heap_i;
	bool idle;          /* no event, no active buffer, empty queue */
	bool has_ev;        /* q[qi] is the next event */
	struct ebuf *q_head, *q_tail;
	struct ebuf *cur;   /* active buffer */
	const uint8_t *rd;  /* its records */
	size_t pos, end;
	bool rd_decoded;    /* rd points into dec (positions are decompressed bytes) */
	uint8_t *dec;
	size_t dec_cap;
	uint64_t ev_ts;     /* ns of the next event (q[qi].ev.ts_ns): the merge key */
	uint32_t qi, qn;    /* next event and count in q */
	struct qent q[EVQ]; /* slots keep pt_event_init() values in the fields pool events do not set */
};

/* One parsed record header. */
struct rec {
	const uint8_t *p;
	size_t size;
	enum pt_etl_rec kind;
	bool kernel;        /* SYSTEM, COMPACT or PERFINFO */
	bool ptr64;
	uint16_t hook;
	uint16_t version;
	size_t hdr;         /* header bytes, extension bytes included */
	uint64_t ts;
	bool has_ts;
	bool has_ids;
	uint32_t tid, pid;
	const uint8_t *guid;
	uint8_t opcode;     /* FULL/INSTANCE class type, EVENT_HEADER opcode */
};

struct etl {
	struct pt_etl_stats st;
	struct pt_etl_clock clk;
	uint32_t ptr_size;
	uint32_t compression;
	bool eof;
	uint64_t in_off;
	struct stream **streams;    /* by cpu, NULL when unseen */
	/*
	 * The merge: with few streams a linear scan over keys[] (no branches to
	 * mispredict), with more a binary heap. n_ready counts streams with an event.
	 */
	struct stream **slots;      /* by slot */
	uint64_t *keys;             /* by slot: next event time, UINT64_MAX when none */
	uint32_t nslots;
	uint32_t n_ready;
	bool use_heap;
	struct stream **heap;
	uint32_t heap_n;
	uint32_t n_idle;
	uint64_t q_bytes;
	uint32_t q_bufs;
	struct ebuf *free_list;
	uint32_t free_n;
	struct stream *last;        /* stream of the event returned last */
	uint64_t last_ts;
	size_t guid_hint;
	/* small caches in front of pt_pool_from_windows() and tag interning */
	uint8_t pool_tab[POOL_TAB];
	uint32_t tc_key[1u << TAG_CACHE_BITS];
	pt_tag_id tc_id[1u << TAG_CACHE_BITS];
	char mark[MAX_MARK];
	struct pt_event blank;      /* pt_event_init()ed once: the start of every queue slot */
	uint64_t frames[PT_STACK_MAX_FRAMES];
	char image_name[MAX_IMAGE_NAME];
};

static struct ebuf *buf_get(struct etl *e, uint32_t size)
{
	struct ebuf **pp = &e->free_list;
	while (*pp) {
		if ((*pp)->cap >= size) {
			struct ebuf *b = *pp;
			*pp = b->next;
			e->free_n--;
			b->next = NULL;
			return b;
		}
		pp = &(*pp)->next;
	}
	struct ebuf *b = malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->next = NULL;
	b->cap = size;
	return b;
}

static void buf_put(struct etl *e, struct ebuf *b)
{
	if (!b)
		return;
	if (e->free_n >= FREE_LIST_MAX) {
		free(b);
		return;
	}
	b->next = e->free_list;
	e->free_list = b;
	e->free_n++;
}

/* ---- record headers ---- */

/*
 * Parse the record at d[*pos]. @return 1 with *rc filled and *pos moved past
 * it, 0 at the end of data, -1 when the bytes are not a valid record
 * (*pos unchanged; the rest of the buffer cannot be trusted).
 */
static int rec_next(const uint8_t *d, size_t end, size_t *pos, struct rec *rc)
{
	size_t at = *pos;
	if (at >= end || end - at < 4)
		return 0;
	const uint8_t *p = d + at;
	size_t avail = end - at;
	uint32_t marker = pt__le32(p);
	if (marker == 0xFFFFFFFFu)
		return 0;
	rc->p = p;
	rc->kernel = false;
	rc->ptr64 = false;
	rc->hook = 0;
	rc->version = 0;
	rc->ts = 0;
	rc->has_ts = false;
	rc->has_ids = false;
	rc->tid = rc->pid = PT_NONE32;
	rc->guid = NULL;
	rc->opcode = 0;
	size_t size, hdr;
	if (p[3] == 0x90) {
		rc->kind = PT_ETL_REC_MESSAGE;
		size = pt__le16(p);
		hdr = 8;
	} else if (p[3] == 0xC0) {
		uint8_t ht = p[2];
		switch (ht) {
		case PT_ETL_HT_SYSTEM32:
		case PT_ETL_HT_SYSTEM64:
		case PT_ETL_HT_COMPACT32:
		case PT_ETL_HT_COMPACT64:
		case PT_ETL_HT_PERFINFO32:
		case PT_ETL_HT_PERFINFO64: {
			if (avail < 0x10)
				return -1;
			rc->kernel = true;
			rc->version = pt__le16(p);
			size = pt__le16(p + 4);
			rc->hook = pt__le16(p + 6);
			if (ht == PT_ETL_HT_SYSTEM32 || ht == PT_ETL_HT_SYSTEM64) {
				rc->kind = ht == PT_ETL_HT_SYSTEM32 ? PT_ETL_REC_SYSTEM32
								    : PT_ETL_REC_SYSTEM64;
				hdr = 0x20;
			} else if (ht == PT_ETL_HT_COMPACT32 || ht == PT_ETL_HT_COMPACT64) {
				rc->kind = ht == PT_ETL_HT_COMPACT32 ? PT_ETL_REC_COMPACT32
								     : PT_ETL_REC_COMPACT64;
				hdr = 0x18;
			} else {
				rc->kind = ht == PT_ETL_HT_PERFINFO32 ? PT_ETL_REC_PERFINFO32
								      : PT_ETL_REC_PERFINFO64;
				hdr = 0x10;
			}
			rc->ptr64 = ht == PT_ETL_HT_SYSTEM64 || ht == PT_ETL_HT_COMPACT64 ||
				    ht == PT_ETL_HT_PERFINFO64;
			if (size < hdr || size > avail)
				return -1;
			if (hdr == 0x10) {
				rc->ts = pt__le64(p + 8);
			} else {
				rc->tid = pt__le32(p + 8);
				rc->pid = pt__le32(p + 0xC);
				rc->ts = pt__le64(p + 0x10);
				rc->has_ids = true;
			}
			rc->has_ts = true;
			/* PEBS index and PMC counters sit between header and payload */
			hdr += ((rc->version & 0x8000) ? 8u : 0u) +
			       (size_t)((rc->version & 0x0700) >> 8) * 8u;
			break;
		}
		case PT_ETL_HT_FULL32:
		case PT_ETL_HT_FULL64:
		case PT_ETL_HT_INSTANCE32:
		case PT_ETL_HT_INSTANCE64:
			size = pt__le16(p);
			hdr = (ht == PT_ETL_HT_FULL32 || ht == PT_ETL_HT_FULL64) ? 0x30 : 0x48;
			if (ht == PT_ETL_HT_FULL32)
				rc->kind = PT_ETL_REC_FULL32;
			else if (ht == PT_ETL_HT_FULL64)
				rc->kind = PT_ETL_REC_FULL64;
			else if (ht == PT_ETL_HT_INSTANCE32)
				rc->kind = PT_ETL_REC_INSTANCE32;
			else
				rc->kind = PT_ETL_REC_INSTANCE64;
			rc->ptr64 = ht == PT_ETL_HT_FULL64 || ht == PT_ETL_HT_INSTANCE64;
			if (size < hdr || size > avail)
				return -1;
			rc->opcode = p[4];
			rc->tid = pt__le32(p + 8);
			rc->pid = pt__le32(p + 0xC);
			rc->has_ids = true;
			rc->ts = pt__le64(p + 0x10);
			rc->has_ts = true;
			rc->guid = p + 0x18;
			break;
		case PT_ETL_HT_EVENT32:
		case PT_ETL_HT_EVENT64: {
			size = pt__le16(p);
			hdr = 0x50;
			rc->kind = ht == PT_ETL_HT_EVENT32 ? PT_ETL_REC_EVENT32 : PT_ETL_REC_EVENT64;
			rc->ptr64 = ht == PT_ETL_HT_EVENT64;
			if (size < hdr || size > avail)
				return -1;
			rc->tid = pt__le32(p + 8);
			rc->pid = pt__le32(p + 0xC);
			rc->has_ids = true;
			rc->ts = pt__le64(p + 0x10);
			rc->has_ts = true;
			rc->guid = p + 0x18;
			rc->opcode = p[0x2C];
			if (pt__le16(p + 4) & 1) {
				/* extended data items: each 8-byte header plus data padded to 8 */
				size_t x = hdr;
				for (;;) {
					if (size - x < 8)
						return -1;
					uint16_t link = pt__le16(p + x + 4);
					size_t dsz = pt__le16(p + x + 6);
					size_t step = 8 + ((dsz + 7) & ~(size_t)7);
					if (step > size - x)
						return -1;
					x += step;
					if (!(link & 1))
						break;
				}
				hdr = x;
			}
			break;
		}
		case PT_ETL_HT_ERROR:
		case PT_ETL_HT_TIMED:
		case PT_ETL_HT_WNODE:
			size = pt__le16(p);
			hdr = 4;
			rc->kind = ht == PT_ETL_HT_ERROR   ? PT_ETL_REC_ERROR
				   : ht == PT_ETL_HT_TIMED ? PT_ETL_REC_TIMED
							   : PT_ETL_REC_WNODE;
			break;
		default:
			return -1;
		}
	} else {
		return -1;
	}
	if (size < hdr || size > avail)
		return -1;
	rc->size = size;
	rc->hdr = hdr;
	size_t step = (size + 7) & ~(size_t)7;
	*pos = step >= avail ? end : at + step;
	return 1;
}

/* ---- logfile header ---- */

static void utf16_to_utf8(const uint8_t *s, size_t maxunits, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < maxunits; i++) {
		uint32_t c = pt__le16(s + 2 * i);
		if (c == 0)
			break;
		if (c < 0x80) { /* ASCII, nearly every character of a path: no re-encoding */
			if (o + 2 > outsz)
				break;
			out[o++] = (char)c;
			continue;
		}
		if (c >= 0xD800 && c < 0xDC00 && i + 1 < maxunits) {
			uint32_t lo = pt__le16(s + 2 * i + 2);
			if (lo >= 0xDC00 && lo < 0xE000) {
				c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
				i++;
			} else {
				c = 0xFFFD;
			}
		} else if (c >= 0xD800 && c < 0xE000) {
			c = 0xFFFD;
		}
		char tmp[4];
		size_t n;
		if (c < 0x80) {
			tmp[0] = (char)c;
			n = 1;
		} else if (c < 0x800) {
			tmp[0] = (char)(0xC0 | (c >> 6));
			tmp[1] = (char)(0x80 | (c & 0x3F));
			n = 2;
		} else if (c < 0x10000) {
			tmp[0] = (char)(0xE0 | (c >> 12));
			tmp[1] = (char)(0x80 | ((c >> 6) & 0x3F));
			tmp[2] = (char)(0x80 | (c & 0x3F));
			n = 3;
		} else {
			tmp[0] = (char)(0xF0 | (c >> 18));
			tmp[1] = (char)(0x80 | ((c >> 12) & 0x3F));
			tmp[2] = (char)(0x80 | ((c >> 6) & 0x3F));
			tmp[3] = (char)(0x80 | (c & 0x3F));
			n = 4;
		}
		if (o + n + 1 > outsz)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	if (outsz)
		out[o] = '\0';
}

static int parse_logfile(struct pt_reader *r, struct etl *e, const struct rec *rc,
			 uint64_t file_off)
{
	const uint8_t *p = rc->p + rc->hdr;
	size_t len = rc->size - rc->hdr;
	if (len < 0x38)
		return pt_reader_error_at(r, PT_EFORMAT, file_off,
					  "logfile header record too short (%zu bytes)", len);
	struct pt_etl_stats *st = &e->st;
	st->buffer_size = pt__le32(p);
	st->version = pt__le32(p + 4);
	uint32_t build = pt__le32(p + 8);
	uint32_t ncpu = pt__le32(p + 0xC);
	int64_t end_ft = (int64_t)pt__le64(p + 0x10);
	st->logfile_mode = pt__le32(p + 0x20);
	st->buffers_written = pt__le32(p + 0x24);
	uint32_t psize = pt__le32(p + 0x2C);
	st->header_events_lost = pt__le32(p + 0x30);
	st->cpu_speed_mhz = pt__le32(p + 0x34);
	if (psize != 4 && psize != 8) {
		uint32_t guess = rc->ptr64 ? 8 : 4;
		pt_reader_warn(r, 0, "offset %" PRIu64 ": logfile header PointerSize %u, using %u",
			       file_off, psize, guess);
		psize = guess;
	}
	size_t base = psize == 8 ? 0xF8 : 0xF0;
	if (len < base + 0x20)
		return pt_reader_error_at(r, PT_EFORMAT, file_off,
					  "logfile header record too short for %u-bit layout "
					  "(%zu bytes, need %zu)",
					  psize * 8, len, base + 0x20);
	uint64_t perf_freq = pt__le64(p + base + 8);
	int64_t start_ft = (int64_t)pt__le64(p + base + 0x10);
	uint32_t clock = pt__le32(p + base + 0x18);
	st->header_buffers_lost = pt__le32(p + base + 0x1C);

	struct pt_trace_meta *m = &r->meta;
	snprintf(m->os, sizeof(m->os), "Windows %u.%u", st->version & 0xFF,
		 (st->version >> 8) & 0xFF);
	m->os_build = build & 0xFFFF;
	m->num_cpus = ncpu;
	m->pointer_size = psize;
	e->ptr_size = psize;
	uint64_t freq;
	switch (clock) {
	case PT_ETL_CLOCK_SYSTEM:
		m->clock = PT_CLOCK_SYSTEM_TIME;
		freq = 10000000u;
		break;
	case PT_ETL_CLOCK_CYCLES:
		m->clock = PT_CLOCK_CPU_CYCLES;
		freq = (uint64_t)st->cpu_speed_mhz * 1000000u;
		break;
	default:
		/* 1 = QPC; other values are not documented, QPC is the default since Vista */
		if (clock != PT_ETL_CLOCK_QPC)
			pt_reader_warn(r, 0, "offset %" PRIu64 ": unknown clock type %u, assuming QPC",
				       file_off, clock);
		m->clock = PT_CLOCK_QPC;
		freq = perf_freq;
		clock = PT_ETL_CLOCK_QPC;
		break;
	}
	if (freq == 0) {
		pt_reader_warn(r, 0, "offset %" PRIu64 ": clock frequency is 0, timestamps "
			       "taken as 100 ns units", file_off);
		freq = 10000000u;
	}
	m->perf_freq = freq;
	pt__etl_clock_init(&e->clk, (int)clock, freq, rc->ts);
	if (start_ft > 0) {
		m->has_start_time = true;
		m->start_unix_ns = pt__filetime_to_unix_ns(start_ft);
		if (end_ft > start_ft) {
			uint64_t d = (uint64_t)(end_ft - start_ft);
			m->end_ns = d > UINT64_MAX / 100 ? UINT64_MAX : d * 100;
		}
	}
	m->lost_known = true;
	m->events_lost = st->header_events_lost;
	m->buffers_lost = st->header_buffers_lost;
	size_t names = base + 0x20;
	utf16_to_utf8(p + names, (len - names) / 2, m->logger, sizeof(m->logger));
	return 0;
}

static void parse_extension(struct etl *e, const struct rec *rc)
{
	const uint8_t *p = rc->p + rc->hdr;
	size_t len = rc->size - rc->hdr;
	if (len < 32)
		return;
	e->st.have_masks = true;
	for (int i = 0; i < 8; i++)
		e->st.group_masks[i] = pt__le32(p + 4 * i);
	if (len >= 36)
		e->st.kernel_event_version = pt__le32(p + 32);
}

/* ---- streams and the merge heap ---- */

static bool ev_less(const struct stream *a, const struct stream *b)
{
	if (a->ev_ts != b->ev_ts)
		return a->ev_ts < b->ev_ts;
	return a->slot < b->slot;
}

static void heap_swap(struct etl *e, uint32_t i, uint32_t j)
{
	struct stream *t = e->heap[i];
	e->heap[i] = e->heap[j];
	e->heap[j] = t;
	e->heap[i]->heap_i = i;
	e->heap[j]->heap_i = j;
}

static void heap_push(struct etl *e, struct stream *s)
{
	uint32_t i = e->heap_n++;
	e->heap[i] = s;
	s->heap_i = i;
	while (i > 0) {
		uint32_t up = (i - 1) / 2;
		if (!ev_less(e->heap[i], e->heap[up]))
			break;
		heap_swap(e, i, up);
		i = up;
	}
}

/* Restore the heap after the root's key grew. */
static void heap_sift_root(struct etl *e)
{
	uint32_t i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, rr = l + 1, m = i;
		if (l < e->heap_n && ev_less(e->heap[l], e->heap[m]))
			m = l;
		if (rr < e->heap_n && ev_less(e->heap[rr], e->heap[m]))
			m = rr;
		if (m == i)
			break;
		heap_swap(e, i, m);
		i = m;
	}
}

/* Drop the root. */
static void heap_drop_root(struct etl *e)
{
	e->heap_n--;
	if (e->heap_n) {
		e->heap[0] = e->heap[e->heap_n];
		e->heap[0]->heap_i = 0;
		heap_sift_root(e);
	}
}

/* s just got an event while it had none. */
static void merge_add(struct etl *e, struct stream *s)
{
	e->n_ready++;
	if (e->use_heap)
		heap_push(e, s);
	else
		e->keys[s->slot] = s->ev_ts;
}

/* s was the stream of the last event and has been advanced. */
static void merge_update(struct etl *e, struct stream *s)
{
	if (!s->has_ev)
		e->n_ready--;
	if (e->use_heap) {
		if (s->has_ev)
			heap_sift_root(e);
		else
			heap_drop_root(e);
	} else {
		e->keys[s->slot] = s->has_ev ? s->ev_ts : UINT64_MAX;
	}
}

/* The stream with the earliest next event, NULL when none has one. */
static struct stream *merge_top(struct etl *e)
{
	if (e->n_ready == 0)
		return NULL;
	if (e->use_heap)
		return e->heap[0];
	uint32_t best = 0;
	uint64_t bk = e->keys[0];
	for (uint32_t i = 1; i < e->nslots; i++) {
		uint64_t k = e->keys[i];
		bool lt = k < bk;
		best = lt ? i : best;
		bk = lt ? k : bk;
	}
	return e->slots[best];
}

static struct stream *stream_get(struct etl *e, uint32_t cpu)
{
	if (cpu >= MAX_STREAMS)
		cpu = MAX_STREAMS - 1;
	if (e->streams[cpu])
		return e->streams[cpu];
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	for (uint32_t i = 0; i < EVQ; i++)
		s->q[i].ev = e->blank;
	s->cpu = cpu;
	s->slot = e->nslots;
	e->slots[e->nslots] = s;
	e->keys[e->nslots] = UINT64_MAX;
	e->nslots++;
	if (!e->use_heap && e->nslots > SCAN_MAX) {
		e->use_heap = true;
		for (uint32_t i = 0; i < e->nslots; i++)
			if (e->slots[i]->has_ev)
				heap_push(e, e->slots[i]);
	}
	s->idle = true;
	e->n_idle++;
	e->streams[cpu] = s;
	e->st.streams++;
	return s;
}

static struct pt_etl_guid_stat *guid_stat(struct etl *e, const uint8_t *g)
{
	struct pt_etl_stats *st = &e->st;
	if (e->guid_hint < st->nguids && !memcmp(st->guids[e->guid_hint].guid, g, 16))
		return &st->guids[e->guid_hint];
	for (size_t i = 0; i < st->nguids; i++) {
		if (!memcmp(st->guids[i].guid, g, 16)) {
			e->guid_hint = i;
			return &st->guids[i];
		}
	}
	if (st->nguids >= MAX_GUIDS)
		return NULL;
	if ((st->nguids & (st->nguids - 1)) == 0) {
		size_t ncap = st->nguids ? st->nguids * 2 : 8;
		struct pt_etl_guid_stat *ng = realloc(st->guids, ncap * sizeof(*ng));
		if (!ng)
			return NULL;
		st->guids = ng;
	}
	struct pt_etl_guid_stat *gs = &st->guids[st->nguids];
	memset(gs, 0, sizeof(*gs));
	memcpy(gs->guid, g, 16);
	e->guid_hint = st->nguids++;
	return gs;
}

/* Offset for messages: the file offset of a record, or its buffer for decompressed data. */
static uint64_t rec_off(const struct stream *s, const uint8_t *p)
{
	if (s->rd_decoded)
		return s->cur->off;
	return s->cur->off + PT_ETL_BUFHDR + (uint64_t)(p - s->rd);
}

/* ns of a raw timestamp as an event time: UINT64_MAX means "no event" in the merge, so never that. */
static inline uint64_t event_ns(const struct pt_etl_clock *clk, uint64_t ts)
{
	uint64_t ns = pt__etl_clock_ns(clk, ts);
	return ns == UINT64_MAX ? ns - 1 : ns;
}

/* Pointer size of a pool payload of len bytes (opcode op), 0 when too short for either. */
static inline size_t pool_ps(size_t len, bool ptr64, unsigned op)
{
	size_t extra = (op & 1) ? 4 : 0; /* 0x21, 0x23: session id */
	size_t ps = ptr64 ? 8 : 4;
	if (len >= 8 + 2 * ps + extra)
		return ps;
	size_t other = ps == 8 ? 4 : 8;
	return len >= 8 + 2 * other + extra ? other : 0;
}

/* A pool payload too short to decode: an error, or with keep_going skipped. @return 0 or <0. */
static int pool_bad(struct pt_reader *r, struct etl *e, struct stream *s, const uint8_t *rec,
		    uint16_t hook, unsigned op, size_t len, bool ptr64)
{
	e->st.pool_events_bad++;
	if (!r->opts.keep_going)
		return pt_reader_error_at(r, PT_EFORMAT, rec_off(s, rec),
					  "pool event 0x%04x payload is %zu bytes, need %zu",
					  hook ? hook : 0x0E00 + op, len,
					  (size_t)(8 + 2 * (ptr64 ? 8u : 4u) + ((op & 1) ? 4u : 0u)));
	r->skipped_bad++;
	return 0;
}

/* Decode a pool alloc/free payload p (ps from pool_ps()) into q; the tag stays raw. */
static inline void pool_fill(const struct etl *e, const struct pt_etl_clock *clk,
			     const struct stream *s, struct qent *q, const uint8_t *rec,
			     const uint8_t *p, size_t ps, unsigned op, uint64_t ts, uint32_t pid,
			     uint32_t tid)
{
	static const enum pt_event_kind kinds[4] = {PT_EV_ALLOC, PT_EV_SESSION_ALLOC, PT_EV_FREE,
						    PT_EV_SESSION_FREE};
	struct pt_event *ev = &q->ev;
	ev->ts_ns = event_ns(clk, ts);
	ev->kind = kinds[op & 3];
	uint32_t type = pt__le32(p);
	ev->raw_pool_type = type;
	uint32_t base = type & ~0x10000000u;
	if (base < POOL_TAB) {
		ev->pool = (enum pt_pool)e->pool_tab[base];
		ev->pool_flags = (type & 0x10000000u) ? PT_POOLF_BIG : 0;
	} else {
		ev->pool = pt_pool_from_windows(type, &ev->pool_flags);
	}
	ev->tag = pt__le32(p + 4);
	if (ps == 8) {
		ev->size = pt__le64(p + 8);
		ev->addr = pt__le64(p + 16);
		ev->session_id = (op & 1) ? pt__le32(p + 24) : PT_NONE32;
	} else {
		ev->size = pt__le32(p + 8);
		ev->addr = pt__le32(p + 12);
		ev->session_id = (op & 1) ? pt__le32(p + 16) : PT_NONE32;
	}
	ev->pid = pid;
	ev->tid = tid;
	ev->cpu = s->cpu;
	q->p = rec;
	q->op = (uint8_t)op;
}

/* Note a mark, StackWalk or image record in q (decoded when returned). */
static void other_fill(struct etl *e, const struct stream *s, struct qent *q,
		       const struct rec *rc, uint8_t op, const uint8_t *p, size_t len, size_t ps)
{
	q->ev = e->blank;
	q->ev.ts_ns = event_ns(&e->clk, rc->ts);
	q->ev.pid = rc->pid;
	q->ev.tid = rc->tid;
	q->ev.cpu = s->cpu;
	q->p = p;
	q->len = (uint32_t)len;
	q->op = op;
	q->ps = (uint8_t)ps;
}

/*
 * Check a StackWalk or image record and note it in q.
 * @return 1 event, 0 skipped.
 */
static int aux_event(struct etl *e, const struct stream *s, struct qent *q, const struct rec *rc,
		     uint8_t op)
{
	size_t len = rc->size - rc->hdr;
	size_t ps = rc->ptr64 ? 8 : 4;
	/* stack: EventTimeStamp, StackProcess, StackThread; image: base, size, pid ... FileName */
	size_t need = op == EV_OP_STACK ? 16 : 3 * ps + 32;
	if (len < need || len > UINT32_MAX) {
		e->st.aux_bad++;
		return 0;
	}
	if (op == EV_OP_STACK)
		e->st.stacks++;
	else
		e->st.images++;
	other_fill(e, s, q, rc, op, rc->p + rc->hdr, len, ps);
	return 1;
}

/* Decode a stack or image record noted by aux_event() into ev. */
static void decode_aux(struct etl *e, const struct qent *q, struct pt_event *ev)
{
	const uint8_t *p = q->p;
	size_t ps = q->ps;
	if (q->op == EV_OP_STACK) {
		ev->kind = PT_EV_STACK;
		ev->stack_ts_ns = event_ns(&e->clk, pt__le64(p)); /* as pool events' timestamps are */
		ev->pid = pt__le32(p + 8);
		ev->tid = pt__le32(p + 12);
		size_t n = (q->len - 16) / ps;
		if (n > PT_STACK_MAX_FRAMES)
			n = PT_STACK_MAX_FRAMES;
		for (size_t i = 0; i < n; i++)
			e->frames[i] = ps == 8 ? pt__le64(p + 16 + 8 * i) : pt__le32(p + 16 + 4 * i);
		ev->frames = e->frames;
		ev->nframes = (uint32_t)n;
		return;
	}
	ev->kind = PT_EV_IMAGE;
	if (ps == 8) {
		ev->addr = pt__le64(p);
		ev->size = pt__le64(p + 8);
	} else {
		ev->addr = pt__le32(p);
		ev->size = pt__le32(p + 4);
	}
	ev->pid = pt__le32(p + 2 * ps);
	size_t name_at = 3 * ps + 32;
	utf16_to_utf8(p + name_at, (q->len - name_at) / 2, e->image_name, sizeof(e->image_name));
	ev->marker = e->image_name;
}

#if defined(__GNUC__) || defined(__clang__)
#define PT_NOINLINE __attribute__((noinline))
#define PT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define PT_NOINLINE
#define PT_UNLIKELY(x) (x)
#endif

/* A tag not in the cache (set slot): intern it, fill way 0. */
static PT_NOINLINE int tag_miss(struct pt_reader *r, struct etl *e, const struct stream *s,
				struct pt_event *ev, uint32_t slot)
{
	const struct qent *q = &s->q[s->qi];
	uint32_t tag = q->ev.tag;
	int rcode = pt_tags_intern_u32(r->tags, tag, &ev->tag);
	if (rcode < 0)
		return pt_reader_error_at(r, rcode, rec_off(s, q->p), "cannot intern pool tag: %s",
					  pt_strerror(rcode));
	e->tc_key[slot + 1] = e->tc_key[slot];
	e->tc_id[slot + 1] = e->tc_id[slot];
	e->tc_key[slot] = tag;
	e->tc_id[slot] = ev->tag;
	if (r->meta.pool_tracing < 0)
		r->meta.pool_tracing = 1; /* the first pool event is a miss */
	return 0;
}

/* Fill ev from the stream's next event: intern the tag, decode marks, stacks and images. */
static inline int decode_event(struct pt_reader *r, struct etl *e, const struct stream *s,
			       struct pt_event *ev)
{
	const struct qent *q = &s->q[s->qi];
	*ev = q->ev;
	if (q->op >= EV_OP_STACK) {
		decode_aux(e, q, ev);
		return 0;
	}
	if (q->op == 0) {
		size_t n = q->len < MAX_MARK - 1 ? q->len : MAX_MARK - 1;
		memcpy(e->mark, q->p, n);
		e->mark[n] = '\0';
		ev->kind = PT_EV_MARKER;
		ev->marker = e->mark;
		return 0;
	}
	/*
	 * Tag cache: 2-way sets, so two busy tags that hash to one set (in the
	 * benchmark 'Irp ' and 'File' do) do not evict each other on every event.
	 * The way is chosen without a branch (busy tags alternate between the
	 * ways); an empty way holds PT_TAG_NONE, so it never hits. A miss moves
	 * way 0 to way 1 and fills way 0.
	 */
	uint32_t tag = q->ev.tag;
	uint32_t slot = ((tag * 2654435761u) >> (32 - TAG_CACHE_BITS)) & ~1u;
	uint32_t m0 = 0u - (uint32_t)(e->tc_key[slot] == tag);
	uint32_t m1 = ~m0 & (0u - (uint32_t)(e->tc_key[slot + 1] == tag));
	/* masks, not ?:, which the compiler turns back into a branch that mispredicts */
	pt_tag_id id = (e->tc_id[slot] & m0) | (e->tc_id[slot + 1] & m1) | (PT_TAG_NONE & ~(m0 | m1));
	ev->tag = id;
	if (PT_UNLIKELY(id == PT_TAG_NONE))
		return tag_miss(r, e, s, ev, slot);
	return 0;
}

/*
 * The generic path of walk() for the record at s->pos: anything but a plain
 * kernel pool record. @return 1 event noted in q, 0 none, 2 end of the
 * buffer's data, <0 error (s->pos back on the record when n_before > 0, so
 * the events before it go out first and the error comes on the next walk).
 */
static int walk_generic(struct pt_reader *r, struct etl *e, struct stream *s, struct qent *q,
			uint32_t n_before)
{
	struct pt_etl_stats *st = &e->st;
	struct rec rc;
	size_t at = s->pos;
	int k = rec_next(s->rd, s->end, &s->pos, &rc);
	if (k == 0)
		return 2;
	if (k < 0) {
		st->records_bad++;
		st->buffers_bad++;
		uint64_t off = s->rd_decoded ? s->cur->off : s->cur->off + PT_ETL_BUFHDR + at;
		pt_reader_warn(r, 0, "offset %" PRIu64 ": bad record (marker 0x%08x%s%zu); "
			       "rest of the buffer at %" PRIu64 " skipped",
			       off, s->end - at >= 4 ? pt__le32(s->rd + at) : 0,
			       s->rd_decoded ? ", decompressed byte " : ", byte ",
			       at + PT_ETL_BUFHDR, s->cur->off);
		s->pos = s->end;
		return 2;
	}
	/* a pool record: kernel hook of the pool group, or a FULL header with the pool GUID */
	bool full = rc.kind == PT_ETL_REC_FULL32 || rc.kind == PT_ETL_REC_FULL64;
	bool pool = rc.kernel ? (rc.hook >> 8) == PT_ETL_GROUP_POOL
			      : rc.guid && full && !memcmp(rc.guid, pt__etl_pool_guid, 16);
	unsigned code = !pool ? 0 : rc.kernel ? (rc.hook & 0xFFu) : rc.opcode;
	unsigned pool_op = code >= 0x20 && code <= 0x23 ? code : 0; /* an alloc/free to decode */
	uint16_t hook = pool && rc.kernel ? rc.hook : 0;
	size_t ps = 0;
	if (pool_op) {
		ps = pool_ps(rc.size - rc.hdr, rc.ptr64, pool_op);
		if (!ps && !r->opts.keep_going && n_before > 0) {
			s->pos = at; /* the events before it go out first */
			return 0;
		}
	}
	st->records++;
	st->rec_by_type[rc.kind]++;
	if (code >= 0x20 && code <= 0x2F)
		st->pool_by_opcode[code - 0x20]++;
	if (rc.kernel) {
		unsigned group = rc.hook >> 8;
		st->by_group[group]++;
		/* pool records (group 0x0E) match none of these; they are decoded below */
		if (rc.hook == PT_ETL_HOOK_STACKWALK) {
			return aux_event(e, s, q, &rc, EV_OP_STACK);
		} else if (group == PT_ETL_GROUP_IMAGE) {
			unsigned op = rc.hook & 0xFF;
			if (op == PT_ETL_OP_IMAGE_UNLOAD)
				st->images_unloaded++;
			else if (op == PT_ETL_OP_IMAGE_LOAD || op == PT_ETL_OP_IMAGE_DC_START ||
				 op == PT_ETL_OP_IMAGE_DC_END)
				return aux_event(e, s, q, &rc, EV_OP_IMAGE);
			return 0;
		} else if (rc.hook == PT_ETL_HOOK_MARK || rc.hook == PT_ETL_HOOK_ASYNCMARK) {
			const uint8_t *p = rc.p + rc.hdr;
			size_t len = rc.size - rc.hdr;
			size_t n = 0;
			while (n < len && p[n])
				n++;
			st->marks++;
			other_fill(e, s, q, &rc, 0, p, n, 0);
			return 1;
		}
	} else if (rc.guid) {
		struct pt_etl_guid_stat *gs = guid_stat(e, rc.guid);
		if (gs) {
			int64_t t = pt__etl_clock_sns(&e->clk, rc.ts);
			if (gs->records++ == 0 || t < gs->first_ns)
				gs->first_ns = t;
		} else {
			st->guids_dropped++;
		}
		if (full && !pool && rc.opcode == PT_ETL_OP_STACKWALK &&
		    !memcmp(rc.guid, pt__etl_stackwalk_guid, 16)) {
			return aux_event(e, s, q, &rc, EV_OP_STACK);
		} else if (full && !pool && !memcmp(rc.guid, pt__etl_image_guid, 16)) {
			if (rc.opcode == PT_ETL_OP_IMAGE_UNLOAD)
				st->images_unloaded++;
			else if (rc.opcode == PT_ETL_OP_IMAGE_LOAD ||
				 rc.opcode == PT_ETL_OP_IMAGE_DC_START ||
				 rc.opcode == PT_ETL_OP_IMAGE_DC_END)
				return aux_event(e, s, q, &rc, EV_OP_IMAGE);
			return 0;
		}
	}
	if (!pool_op)
		return 0;
	if (!ps)
		return pool_bad(r, e, s, rc.p, hook, pool_op, rc.size - rc.hdr, rc.ptr64);
	pool_fill(e, &e->clk, s, q, rc.p, rc.p + rc.hdr, ps, pool_op, rc.ts, rc.pid, rc.tid);
	return 1;
}

/*
 * The fast path of walk(): from s->pos, decode plain kernel pool records
 * into s->q[n..] until EVQ, the end of the data or another kind of record.
 * The common record is a SYSTEM or COMPACT kernel header (no PEBS/PMC
 * extension) of a pool alloc or free; it gets the checks of rec_next() and
 * pool_ps() and nothing else. Position, clock and counters are locals here
 * (stores into the queue could alias them otherwise) and the counters are
 * added once per run. @return the new n.
 */
static uint32_t walk_fast(struct etl *e, struct stream *s, uint32_t n)
{
	const uint8_t *rd = s->rd;
	size_t pos = s->pos, end = s->end;
	const struct pt_etl_clock clk = e->clk;
	uint64_t by_type[4] = {0}, by_op[4] = {0};
	uint32_t n0 = n;
	while (n < EVQ && pos < end && end - pos >= 0x20) {
		const uint8_t *p = rd + pos;
		size_t avail = end - pos;
		uint32_t w0 = pt__le32(p), w1 = pt__le32(p + 4);
		unsigned ht = (w0 >> 16) & 0xFF;
		if ((w0 >> 24) != 0xC0 || ht < PT_ETL_HT_SYSTEM32 || ht > PT_ETL_HT_COMPACT64 ||
		    (w0 & 0x8700u) || (w1 >> 18) != (0x0E20u >> 2))
			break;
		size_t size = w1 & 0xFFFF;
		size_t hdr = ht <= PT_ETL_HT_SYSTEM64 ? 0x20 : 0x18;
		bool ptr64 = ht == PT_ETL_HT_SYSTEM64 || ht == PT_ETL_HT_COMPACT64;
		unsigned op = (w1 >> 16) & 0xFF;
		size_t ps = size >= hdr && size <= avail ? pool_ps(size - hdr, ptr64, op) : 0;
		if (!ps)
			break;
		by_type[ht - 1]++; /* ht - 1 is the PT_ETL_REC_ index of SYSTEM32..COMPACT64 */
		by_op[op & 3]++;
		size_t step = (size + 7) & ~(size_t)7;
		pos = step >= avail ? end : pos + step;
		pool_fill(e, &clk, s, &s->q[n], p, p + hdr, ps, op, pt__le64(p + 0x10),
			  pt__le32(p + 0xC), pt__le32(p + 8));
		n++;
	}
	s->pos = pos;
	if (n > n0) {
		struct pt_etl_stats *st = &e->st;
		st->records += n - n0;
		st->by_group[PT_ETL_GROUP_POOL] += n - n0;
		for (int i = 0; i < 4; i++) {
			st->rec_by_type[i] += by_type[i];
			st->pool_by_opcode[i] += by_op[i];
		}
	}
	return n;
}

/*
 * Walk the active buffer: decode up to EVQ events into s->q, plain pool
 * records by walk_fast(), every other record by walk_generic().
 * @return the number of events (0: buffer done), <0 error.
 */
static int walk(struct pt_reader *r, struct etl *e, struct stream *s)
{
	uint32_t n = walk_fast(e, s, 0);
	while (n < EVQ) {
		size_t at = s->pos;
		int k = walk_generic(r, e, s, &s->q[n], n);
		if (k < 0)
			return k;
		if (k == 2 || (k == 0 && s->pos == at))
			break; /* end of data, or an error waits at this record: the events before it go first */
		n = walk_fast(e, s, n + (uint32_t)k);
	}
	return (int)n;
}

/* Make s->cur (just taken from the queue) readable. @return 1 ok, 0 skip it, <0 error. */
static int activate(struct pt_reader *r, struct etl *e, struct stream *s)
{
	struct ebuf *b = s->cur;
	const uint8_t *h = b->data;
	uint32_t bsize = pt__le32(h + PT_ETL_BUF_SIZE);
	uint32_t offset = pt__le32(h + PT_ETL_BUF_OFFSET);
	uint16_t flags = pt__le16(h + PT_ETL_BUF_FLAGS);
	s->pos = 0;
	s->rd_decoded = false;
	if (offset < PT_ETL_BUFHDR) {
		s->rd = b->data + PT_ETL_BUFHDR;
		s->end = 0;
		return 1;
	}
	if (!(flags & PT_ETL_BF_COMPRESSED)) {
		uint32_t lim = offset < bsize ? offset : bsize;
		if (lim > b->len)
			lim = b->len;
		s->rd = b->data + PT_ETL_BUFHDR;
		s->end = lim - PT_ETL_BUFHDR;
		return 1;
	}
	uint32_t fmt = pt__le32(h + PT_ETL_BUF_STATE) & 0xFFFF;
	if (fmt == 0)
		fmt = e->compression;
	if (fmt != PT_ETL_COMPRESSION_XPRESS)
		return pt_reader_error_at(r, PT_EUNSUPPORTED, b->off,
					  "compressed buffer uses compression format %u; only "
					  "format 3 (LZ77, \"XPRESS\") is supported",
					  fmt);
	size_t dlen = offset - PT_ETL_BUFHDR;
	if (dlen > r->opts.max_decompressed) {
		e->st.buffers_bad++;
		pt_reader_warn(r, 0, "offset %" PRIu64 ": compressed buffer would decompress to "
			       "%zu bytes, over the limit; skipped", b->off, dlen);
		return 0;
	}
	if (s->dec_cap < dlen) {
		uint8_t *nd = realloc(s->dec, dlen);
		if (!nd)
			return PT_ENOMEM;
		s->dec = nd;
		s->dec_cap = dlen;
	}
	size_t got;
	int rc = pt__xpress_decompress(b->data + PT_ETL_BUFHDR, b->len - PT_ETL_BUFHDR, s->dec,
				       dlen, &got);
	if (rc < 0 || got != dlen) {
		e->st.buffers_bad++;
		pt_reader_warn(r, 0, "offset %" PRIu64 ": corrupt compressed buffer (%zu of %zu "
			       "bytes decoded); skipped", b->off, got, dlen);
		return 0;
	}
	e->st.bytes_data += dlen;
	s->rd = s->dec;
	s->end = dlen;
	s->rd_decoded = true;
	return 1;
}

static void set_idle(struct etl *e, struct stream *s)
{
	if (!s->idle) {
		s->idle = true;
		e->n_idle++;
	}
}

/* Move s to its next event (s->has_ev), or leave it idle. @return 0 or <0. */
static int stream_advance(struct pt_reader *r, struct etl *e, struct stream *s)
{
	/*
	 * Only with the queue used up: etl_next_batch() takes a queued event
	 * itself, and enqueue() wakes idle streams, whose queue is empty.
	 */
	s->has_ev = false;
	s->qi = s->qn = 0;
	for (;;) {
		if (s->cur) {
			int k = walk(r, e, s);
			if (k < 0)
				return k;
			if (k > 0) {
				s->qn = (uint32_t)k;
				s->ev_ts = s->q[0].ev.ts_ns;
				s->has_ev = true;
				return 0;
			}
			buf_put(e, s->cur);
			s->cur = NULL;
		}
		struct ebuf *b = s->q_head;
		if (!b) {
			set_idle(e, s);
			return 0;
		}
		s->q_head = b->next;
		if (!s->q_head)
			s->q_tail = NULL;
		b->next = NULL;
		e->q_bytes -= b->len;
		e->q_bufs--;
		s->cur = b;
		int k = activate(r, e, s);
		if (k < 0)
			return k;
		if (k == 0) {
			buf_put(e, s->cur);
			s->cur = NULL;
		}
	}
}

/* Read one buffer from the input into *out. @return 1, 0 at end, <0 error. */
static int read_buffer(struct pt_reader *r, struct etl *e, struct ebuf **out)
{
	uint8_t h[PT_ETL_BUFHDR];
	*out = NULL;
	uint64_t off = e->in_off;
	ssize_t got = pt_input_read_full(r->in, h, sizeof(h));
	if (got < 0)
		return pt_reader_error_at(r, (int)got, off, "read error: %s", pt_input_error(r->in));
	if (got == 0)
		return 0;
	if ((size_t)got < sizeof(h)) {
		e->st.buffers_bad++;
		pt_reader_warn_cut(r, "offset %" PRIu64 ": file ends inside a buffer header "
			       "(%zd of 72 bytes)", off, got);
		e->in_off += (uint64_t)got;
		return 0;
	}
	uint32_t bsize = pt__le32(h + PT_ETL_BUF_SIZE);
	if (bsize == 0)
		return 0; /* unused tail of a preallocated file */
	if (bsize < PT_ETL_BUFHDR) {
		e->st.buffers_bad++;
		pt_reader_warn(r, 0, "offset %" PRIu64 ": buffer size %u is smaller than its "
			       "header; reading stops here", off, bsize);
		return 0;
	}
	if (bsize > r->opts.max_decompressed) {
		e->st.buffers_bad++;
		pt_reader_warn(r, 0, "offset %" PRIu64 ": buffer size %u is over the limit; "
			       "reading stops here", off, bsize);
		return 0;
	}
	struct ebuf *b = buf_get(e, bsize);
	if (!b)
		return PT_ENOMEM;
	memcpy(b->data, h, sizeof(h));
	ssize_t rest = pt_input_read_full(r->in, b->data + sizeof(h), bsize - sizeof(h));
	if (rest < 0) {
		buf_put(e, b);
		return pt_reader_error_at(r, (int)rest, off, "read error: %s", pt_input_error(r->in));
	}
	b->off = off;
	b->len = (uint32_t)(sizeof(h) + (size_t)rest);
	b->seq = pt__le64(h + PT_ETL_BUF_SEQ);
	e->in_off += b->len;
	struct pt_etl_stats *st = &e->st;
	st->buffers++;
	st->bytes_in += b->len;
	if (b->len < bsize) {
		st->buffers_bad++;
		pt_reader_warn_cut(r, "offset %" PRIu64 ": file ends inside a buffer (%u of %u "
			       "bytes)", off, b->len, bsize);
		e->eof = true;
	}
	uint16_t flags = pt__le16(h + PT_ETL_BUF_FLAGS);
	if (flags & PT_ETL_BF_COMPRESSED)
		st->buffers_compressed++;
	else
		st->bytes_data += (b->len > PT_ETL_BUFHDR ? b->len - PT_ETL_BUFHDR : 0);
	if (flags & PT_ETL_BF_EVENTS_LOST) {
		st->buffers_events_lost++;
		if (r->meta.events_lost < st->buffers_events_lost)
			r->meta.events_lost = st->buffers_events_lost;
	}
	if (flags & PT_ETL_BF_BUFFER_LOST) {
		st->buffers_buffer_lost++;
		if (r->meta.buffers_lost < st->buffers_buffer_lost)
			r->meta.buffers_lost = st->buffers_buffer_lost;
	}
	*out = b;
	return 1;
}

static uint32_t buf_cpu(const struct ebuf *b)
{
	uint16_t flags = pt__le16(b->data + PT_ETL_BUF_FLAGS);
	if (flags & PT_ETL_BF_PROC_INDEX)
		return pt__le16(b->data + PT_ETL_BUF_CTX) & 0x7FF;
	return b->data[PT_ETL_BUF_CTX];
}

/* Queue a buffer on its CPU's stream; wake the stream if it was idle. */
static int enqueue(struct pt_reader *r, struct etl *e, struct ebuf *b)
{
	struct stream *s = stream_get(e, buf_cpu(b));
	if (!s) {
		buf_put(e, b);
		return PT_ENOMEM;
	}
	if (!s->q_tail || b->seq >= s->q_tail->seq) {
		if (s->q_tail)
			s->q_tail->next = b;
		else
			s->q_head = b;
		s->q_tail = b;
	} else {
		struct ebuf **pp = &s->q_head;
		while (*pp && (*pp)->seq <= b->seq)
			pp = &(*pp)->next;
		b->next = *pp;
		*pp = b;
	}
	e->q_bytes += b->len;
	e->q_bufs++;
	if (e->q_bytes > e->st.window_peak_bytes)
		e->st.window_peak_bytes = e->q_bytes;
	if (e->q_bufs > e->st.window_peak_buffers)
		e->st.window_peak_buffers = e->q_bufs;
	if (s->idle) {
		s->idle = false;
		e->n_idle--;
		int rc = stream_advance(r, e, s);
		if (rc < 0)
			return rc;
		if (s->has_ev)
			merge_add(e, s);
	}
	return 0;
}

/* ---- ops ---- */

static int etl_probe(const uint8_t *h, size_t len)
{
	if (len < PT_ETL_BUFHDR + 0x20)
		return 0;
	uint32_t bsize = pt__le32(h + PT_ETL_BUF_SIZE);
	uint32_t offset = pt__le32(h + PT_ETL_BUF_OFFSET);
	if (pt__le16(h + PT_ETL_BUF_TYPE) != PT_ETL_BT_HEADER)
		return 0;
	if (bsize < PT_ETL_BUFHDR + 0x20 || offset < PT_ETL_BUFHDR + 0x20 || offset > bsize)
		return 0;
	uint32_t marker = pt__le32(h + PT_ETL_BUFHDR);
	if (marker != PT_ETL_MARKER_LOGFILE64 && marker != PT_ETL_MARKER_LOGFILE32)
		return 0;
	if (pt__le16(h + PT_ETL_BUFHDR + 6) != PT_ETL_HOOK_LOGFILE)
		return 0;
	return 95;
}

static void etl_close(struct pt_reader *r)
{
	struct etl *e = r->priv;
	if (!e)
		return;
	if (e->streams) {
		for (uint32_t i = 0; i < MAX_STREAMS; i++) {
			struct stream *s = e->streams[i];
			if (!s)
				continue;
			struct ebuf *b = s->q_head;
			while (b) {
				struct ebuf *n = b->next;
				free(b);
				b = n;
			}
			free(s->cur);
			free(s->dec);
			free(s);
		}
	}
	struct ebuf *b = e->free_list;
	while (b) {
		struct ebuf *n = b->next;
		free(b);
		b = n;
	}
	free(e->streams);
	free(e->heap);
	free(e->slots);
	free(e->keys);
	free(e->st.guids);
	free(e);
	r->priv = NULL;
}

static int etl_open(struct pt_reader *r)
{
	struct etl *e = calloc(1, sizeof(*e));
	if (!e)
		return PT_ENOMEM;
	r->priv = e;
	e->streams = calloc(MAX_STREAMS, sizeof(*e->streams));
	e->heap = calloc(MAX_STREAMS, sizeof(*e->heap));
	e->slots = calloc(MAX_STREAMS, sizeof(*e->slots));
	e->keys = calloc(MAX_STREAMS, sizeof(*e->keys));
	if (!e->streams || !e->heap || !e->slots || !e->keys)
		return PT_ENOMEM;
	r->meta.pool_tracing = -1;
	pt_event_init(&e->blank);
	for (size_t i = 0; i < (1u << TAG_CACHE_BITS); i++)
		e->tc_id[i] = PT_TAG_NONE;
	for (uint32_t i = 0; i < POOL_TAB; i++)
		e->pool_tab[i] = (uint8_t)pt_pool_from_windows(i, NULL);

	struct ebuf *b;
	int rc = read_buffer(r, e, &b);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return pt_reader_error_at(r, PT_EFORMAT, 0, "no ETL header buffer");
	const uint8_t *h = b->data;
	uint32_t offset = pt__le32(h + PT_ETL_BUF_OFFSET);
	uint32_t bsize = pt__le32(h + PT_ETL_BUF_SIZE);
	if (pt__le16(h + PT_ETL_BUF_TYPE) != PT_ETL_BT_HEADER ||
	    (pt__le16(h + PT_ETL_BUF_FLAGS) & PT_ETL_BF_COMPRESSED)) {
		buf_put(e, b);
		return pt_reader_error_at(r, PT_EFORMAT, 0,
					  "first buffer is not an uncompressed ETL header buffer");
	}
	e->compression = pt__le32(h + PT_ETL_BUF_STATE) & 0xFFFF;
	e->st.compression_format = e->compression;
	size_t end = offset < bsize ? offset : bsize;
	if (end > b->len)
		end = b->len;
	end = end > PT_ETL_BUFHDR ? end - PT_ETL_BUFHDR : 0;
	const uint8_t *d = b->data + PT_ETL_BUFHDR;
	size_t pos = 0;
	struct rec rec;
	int k = rec_next(d, end, &pos, &rec);
	if (k <= 0 || !rec.kernel || rec.hook != PT_ETL_HOOK_LOGFILE ||
	    (rec.kind != PT_ETL_REC_SYSTEM32 && rec.kind != PT_ETL_REC_SYSTEM64)) {
		buf_put(e, b);
		return pt_reader_error_at(r, PT_EFORMAT, PT_ETL_BUFHDR,
					  "first record is not a logfile header");
	}
	rc = parse_logfile(r, e, &rec, PT_ETL_BUFHDR);
	if (rc < 0) {
		buf_put(e, b);
		return rc;
	}
	while ((k = rec_next(d, end, &pos, &rec)) > 0) {
		if (rec.kernel && (rec.hook == PT_ETL_HOOK_EXTENSION ||
				   rec.hook == PT_ETL_HOOK_END_EXTENSION))
			parse_extension(e, &rec);
	}
	if (e->st.have_masks)
		r->meta.pool_tracing = (e->st.group_masks[PT_ETL_PERF_POOL_MASK_INDEX] &
					PT_ETL_PERF_POOL_BIT) ? 1 : 0;
	/* every CPU the header announces must show up before the merge trusts its order */
	uint32_t ncpu = r->meta.num_cpus < MAX_STREAMS ? r->meta.num_cpus : MAX_STREAMS;
	for (uint32_t i = 0; i < ncpu; i++)
		if (!stream_get(e, i))
			return PT_ENOMEM;
	return enqueue(r, e, b);
}

/* The last event's stream ran out of queued events: walk on, update the merge. */
static PT_NOINLINE int advance_slow(struct pt_reader *r, struct etl *e, struct stream *s)
{
	int rc = stream_advance(r, e, s);
	if (rc < 0)
		s->has_ev = false;
	merge_update(e, s);
	return rc;
}

/* Read buffers until every stream has an event or is known to have none (or the window is full). */
static PT_NOINLINE int read_more(struct pt_reader *r, struct etl *e)
{
	while (!e->eof && (e->n_idle > 0 || e->n_ready == 0) && e->q_bytes < WINDOW_BYTES) {
		struct ebuf *b;
		int rc = read_buffer(r, e, &b);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			e->eof = true;
			break;
		}
		rc = enqueue(r, e, b);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Up to max events in time order (pt_reader_next_batch(); etl_next() is a
 * batch of one). The common step, the next event of the last event's
 * stream, stays in this loop; the rest is in the functions above.
 */
static int etl_next_batch(struct pt_reader *r, struct pt_event *evs, size_t max)
{
	struct etl *e = r->priv;
	size_t n = 0;
	int rc = 0;
	while (n < max) {
		struct stream *s = e->last;
		if (s) {
			/* in heap mode the stream of the last event is still the root */
			e->last = NULL;
			if (s->qi + 1 < s->qn) {
				s->qi++;
				s->ev_ts = s->q[s->qi].ev.ts_ns;
				merge_update(e, s);
			} else {
				rc = advance_slow(r, e, s);
				if (rc < 0)
					break;
			}
		}
		if (PT_UNLIKELY(!e->eof && (e->n_idle > 0 || e->n_ready == 0) &&
				e->q_bytes < WINDOW_BYTES)) {
			rc = read_more(r, e);
			if (rc < 0)
				break;
		}
		s = merge_top(e);
		if (!s)
			break;
		struct pt_event *ev = &evs[n];
		rc = decode_event(r, e, s, ev); /* sets every field */
		if (rc < 0)
			break;
		if (ev->ts_ns < e->last_ts)
			e->st.merge_backwards++;
		else
			e->last_ts = ev->ts_ns;
		e->last = s;
		n++;
		/* marker text, image names and stack frames are borrowed: the batch ends there */
		if (pt_event_borrows(ev))
			break;
	}
	if (rc < 0) {
		if (!n)
			return rc;
		r->pending_err = rc;
	}
	return (int)n;
}

static int etl_next(struct pt_reader *r, struct pt_event *ev)
{
	return etl_next_batch(r, ev, 1);
}

const struct pt_etl_stats *pt__etl_stats(const struct pt_reader *r)
{
	if (!r || r->ops != &pt_reader_etl || !r->priv)
		return NULL;
	return &((const struct etl *)r->priv)->st;
}

/* ---- describe ---- */

static const char *pool_op_name(unsigned i)
{
	static const char *const names[16] = {
		"alloc", "session_alloc", "free", "session_free", "add_pool_page",
		"add_pool_page_session", "big_pool_page", "big_pool_page_session",
		"poolsnap_dc_start", "poolsnap_dc_end", "bigpoolsnap_dc_start",
		"bigpoolsnap_dc_end", "poolsnap_session_dc_start", "poolsnap_session_dc_end",
		"sessionbigpoolsnap_dc_start", "sessionbigpoolsnap_dc_end",
	};
	return i < 16 ? names[i] : "?";
}

static int describe_text(const struct etl *e, FILE *out)
{
	const struct pt_etl_stats *st = &e->st;
	fprintf(out, "  buffers: %" PRIu64 " (%" PRIu64 " compressed", st->buffers,
		st->buffers_compressed);
	if (st->buffers_compressed)
		fprintf(out, ", format %u", st->compression_format);
	fprintf(out, "; header says %u written)\n", st->buffers_written);
	fprintf(out, "  buffer size: %u\n", st->buffer_size);
	fprintf(out, "  log file mode: 0x%08x\n", st->logfile_mode);
	fprintf(out, "  bytes: %" PRIu64 " on disk, %" PRIu64 " of records\n", st->bytes_in,
		st->bytes_data);
	fprintf(out, "  buffers flagged events-lost: %" PRIu64 ", buffer-lost: %" PRIu64 "\n",
		st->buffers_events_lost, st->buffers_buffer_lost);
	if (st->buffers_bad || st->records_bad)
		fprintf(out, "  damaged: %" PRIu64 " buffers, %" PRIu64 " bad records\n",
			st->buffers_bad, st->records_bad);
	fprintf(out, "  records: %" PRIu64 "\n", st->records);
	for (int k = 0; k < PT_ETL_REC_COUNT_; k++)
		if (st->rec_by_type[k])
			fprintf(out, "    %-16s %" PRIu64 "\n", pt__etl_rec_name((enum pt_etl_rec)k),
				st->rec_by_type[k]);
	fprintf(out, "  kernel groups:\n");
	for (unsigned g = 0; g < 256; g++) {
		if (!st->by_group[g])
			continue;
		const char *n = pt__etl_group_name(g);
		char tmp[16];
		if (!n) {
			snprintf(tmp, sizeof(tmp), "0x%02x", g);
			n = tmp;
		}
		fprintf(out, "    %-16s %" PRIu64 "\n", n, st->by_group[g]);
	}
	fprintf(out, "  providers:\n");
	for (size_t i = 0; i < st->nguids; i++) {
		char g[40];
		pt__etl_guid_format(st->guids[i].guid, g, sizeof(g));
		fprintf(out, "    %s %" PRIu64 " (first at %.3f ms)\n", g, st->guids[i].records,
			(double)st->guids[i].first_ns / 1e6);
	}
	if (st->guids_dropped)
		fprintf(out, "    (other providers) %" PRIu64 "\n", st->guids_dropped);
	fprintf(out, "  pool events by opcode:\n");
	for (unsigned i = 0; i < 16; i++)
		if (st->pool_by_opcode[i])
			fprintf(out, "    0x%02x %-28s %" PRIu64 "\n", 0x20 + i, pool_op_name(i),
				st->pool_by_opcode[i]);
	if (st->pool_events_bad)
		fprintf(out, "    bad payloads: %" PRIu64 "\n", st->pool_events_bad);
	fprintf(out, "  marks: %" PRIu64 "\n", st->marks);
	fprintf(out, "  stacks: %" PRIu64 ", images: %" PRIu64 " (unloads %" PRIu64 ")\n",
		st->stacks, st->images, st->images_unloaded);
	if (st->aux_bad)
		fprintf(out, "    bad stack/image payloads: %" PRIu64 "\n", st->aux_bad);
	if (st->have_masks) {
		fprintf(out, "  group masks:");
		for (int i = 0; i < 8; i++)
			fprintf(out, " %08x", st->group_masks[i]);
		fputc('\n', out);
	} else {
		fprintf(out, "  group masks: not recorded\n");
	}
	fprintf(out, "  cpu streams: %u, merge window peak: %u buffers / %" PRIu64
		" bytes, out of order: %" PRIu64 "\n",
		st->streams, st->window_peak_buffers, st->window_peak_bytes, st->merge_backwards);
	return ferror(out) ? PT_EIO : 0;
}

static int describe_json(const struct etl *e, FILE *out)
{
	const struct pt_etl_stats *st = &e->st;
	fprintf(out, "{\"buffers\": %" PRIu64 ", \"buffers_compressed\": %" PRIu64
		", \"compression_format\": %u, \"buffers_written_header\": %u"
		", \"buffer_size\": %u, \"log_file_mode\": %u"
		", \"bytes_on_disk\": %" PRIu64 ", \"bytes_records\": %" PRIu64
		", \"buffers_events_lost\": %" PRIu64 ", \"buffers_buffer_lost\": %" PRIu64
		", \"buffers_bad\": %" PRIu64 ", \"records_bad\": %" PRIu64
		", \"records\": %" PRIu64 ", \"records_by_type\": {",
		st->buffers, st->buffers_compressed, st->compression_format, st->buffers_written,
		st->buffer_size, st->logfile_mode, st->bytes_in, st->bytes_data,
		st->buffers_events_lost, st->buffers_buffer_lost, st->buffers_bad, st->records_bad,
		st->records);
	const char *sep = "";
	for (int k = 0; k < PT_ETL_REC_COUNT_; k++) {
		if (!st->rec_by_type[k])
			continue;
		fprintf(out, "%s\"%s\": %" PRIu64, sep, pt__etl_rec_name((enum pt_etl_rec)k),
			st->rec_by_type[k]);
		sep = ", ";
	}
	fprintf(out, "}, \"kernel_groups\": {");
	sep = "";
	for (unsigned g = 0; g < 256; g++) {
		if (!st->by_group[g])
			continue;
		const char *n = pt__etl_group_name(g);
		if (n)
			fprintf(out, "%s\"%s\": %" PRIu64, sep, n, st->by_group[g]);
		else
			fprintf(out, "%s\"0x%02x\": %" PRIu64, sep, g, st->by_group[g]);
		sep = ", ";
	}
	fprintf(out, "}, \"providers\": [");
	for (size_t i = 0; i < st->nguids; i++) {
		char g[40];
		pt__etl_guid_format(st->guids[i].guid, g, sizeof(g));
		fprintf(out, "%s{\"guid\": \"%s\", \"records\": %" PRIu64 ", \"first_ns\": %" PRId64
			"}", i ? ", " : "", g, st->guids[i].records, st->guids[i].first_ns);
	}
	fprintf(out, "], \"providers_dropped\": %" PRIu64 ", \"pool_by_opcode\": {",
		st->guids_dropped);
	sep = "";
	for (unsigned i = 0; i < 16; i++) {
		if (!st->pool_by_opcode[i])
			continue;
		fprintf(out, "%s\"%s\": %" PRIu64, sep, pool_op_name(i), st->pool_by_opcode[i]);
		sep = ", ";
	}
	fprintf(out, "}, \"pool_events_bad\": %" PRIu64 ", \"marks\": %" PRIu64, st->pool_events_bad,
		st->marks);
	fprintf(out, ", \"stacks\": %" PRIu64 ", \"images\": %" PRIu64 ", \"images_unloaded\": %" PRIu64
		", \"aux_bad\": %" PRIu64, st->stacks, st->images, st->images_unloaded, st->aux_bad);
	if (st->have_masks) {
		fprintf(out, ", \"group_masks\": [");
		for (int i = 0; i < 8; i++)
			fprintf(out, "%s%u", i ? ", " : "", st->group_masks[i]);
		fprintf(out, "]");
	} else {
		fprintf(out, ", \"group_masks\": null");
	}
	fprintf(out, ", \"cpu_streams\": %u, \"window_peak_buffers\": %u, \"window_peak_bytes\": %"
		PRIu64 ", \"merge_out_of_order\": %" PRIu64 "}",
		st->streams, st->window_peak_buffers, st->window_peak_bytes, st->merge_backwards);
	return ferror(out) ? PT_EIO : 0;
}

static int cmp_guid_stat(const void *a, const void *b)
{
	const struct pt_etl_guid_stat *x = a, *y = b;
	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	return memcmp(x->guid, y->guid, 16);
}

static int etl_describe(struct pt_reader *r, FILE *out, bool json)
{
	struct etl *e = r->priv;
	if (!e)
		return PT_ESTATE;
	/* providers in the order of their first record (buffers are walked ahead of the merge) */
	if (e->st.nguids > 1) {
		qsort(e->st.guids, e->st.nguids, sizeof(*e->st.guids), cmp_guid_stat);
		e->guid_hint = 0;
	}
	return json ? describe_json(e, out) : describe_text(e, out);
}

const struct pt_reader_ops pt_reader_etl = {
	.name = "etl",
	.description = "Windows Event Trace Log (.etl), plain or XPRESS-compressed, read directly",
	.probe = etl_probe,
	.open = etl_open,
	.next = etl_next,
	.close = etl_close,
	.describe = etl_describe,
	.next_batch = etl_next_batch,
	/*
	 * Since the live map's fourth round the replay takes about a third of
	 * a run: handing events to it on the other core cost more CPU than it
	 * saved wall time (10 M-event churn ETL: 0.53-0.55 s wall with the
	 * reader thread, 0.46-0.48 s without; XPRESS: 1.09-1.13 s against
	 * 1.03-1.08 s). A .etl.gz is still inflated in its own thread.
	 */
	.serial = true,
};
