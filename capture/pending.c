/* SPDX-License-Identifier: MIT */
/* Time-ordered merge of per-CPU event streams (see capture.h). */
#include <stdlib.h>
#include <string.h>

#include "capture.h"

struct item {
	struct pt_event ev;
	uint64_t seq;
	char *marker;
};

struct pt_pending {
	struct item *v;
	size_t n, cap;
	uint64_t seq;
	bool sorted;
};

struct pt_pending *pt_pending_new(void)
{
	return calloc(1, sizeof(struct pt_pending));
}

void pt_pending_free(struct pt_pending *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].marker);
	free(p->v);
	free(p);
}

int pt_pending_add(struct pt_pending *p, const struct pt_event *ev)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4096;
		struct item *nv = realloc(p->v, cap * sizeof(*nv));
		if (!nv)
			return PT_ENOMEM;
		p->v = nv;
		p->cap = cap;
	}
	struct item *it = &p->v[p->n];
	it->ev = *ev;
	it->seq = p->seq++;
	it->marker = NULL;
	if (ev->marker) {
		it->marker = strdup(ev->marker);
		if (!it->marker)
			return PT_ENOMEM;
		it->ev.marker = it->marker;
	}
	if (p->n && (p->v[p->n - 1].ev.ts_ns > ev->ts_ns))
		p->sorted = false;
	else if (p->n == 0)
		p->sorted = true;
	p->n++;
	return 0;
}

size_t pt_pending_count(const struct pt_pending *p)
{
	return p->n;
}

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->ev.ts_ns != y->ev.ts_ns)
		return x->ev.ts_ns < y->ev.ts_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int pt_pending_drain(struct pt_pending *p, uint64_t upto,
		     int (*fn)(void *ctx, const struct pt_event *ev), void *ctx)
{
	if (!p->n)
		return 0;
	if (!p->sorted)
		qsort(p->v, p->n, sizeof(*p->v), cmp_item);
	p->sorted = true;
	size_t i = 0;
	int rc = 0;
	for (; i < p->n && p->v[i].ev.ts_ns <= upto; i++) {
		rc = fn(ctx, &p->v[i].ev);
		free(p->v[i].marker);
		p->v[i].marker = NULL;
		if (rc < 0) {
			i++;
			break;
		}
	}
	memmove(p->v, p->v + i, (p->n - i) * sizeof(*p->v));
	p->n -= i;
	return rc;
}
