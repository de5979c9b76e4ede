/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <strings.h>

#include "pooltrace/error.h"
#include "pooltrace/event.h"

/* ETW_POOLTRACE_BIGPOOL_MASK (phnt ntwmi.h). */
#define BIGPOOL_MASK 0x10000000u

static const struct {
	const char *name; /* PoolMon-style column text */
	const char *id;   /* JSON/CSV identifier */
} pool_names[PT_POOL_COUNT_] = {
	[PT_POOL_NONPAGED] = {"Nonp", "nonpaged"},
	[PT_POOL_PAGED] = {"Paged", "paged"},
	[PT_POOL_NONPAGED_NX] = {"NonpNx", "nonpaged_nx"},
	[PT_POOL_NONPAGED_SESSION] = {"SessNp", "session_nonpaged"},
	[PT_POOL_PAGED_SESSION] = {"SessPg", "session_paged"},
	[PT_POOL_NONPAGED_SESSION_NX] = {"SessNx", "session_nonpaged_nx"},
	[PT_POOL_SLAB] = {"Slab", "slab"},
	[PT_POOL_KMALLOC] = {"Kmalloc", "kmalloc"},
	[PT_POOL_OTHER] = {"Other", "other"},
};

enum pt_pool pt_pool_from_windows(uint32_t type, uint32_t *flags)
{
	if (flags)
		*flags = (type & BIGPOOL_MASK) ? PT_POOLF_BIG : 0;
	switch (type & ~BIGPOOL_MASK) {
	case 0:
		return PT_POOL_NONPAGED;
	case 1:
		return PT_POOL_PAGED;
	case 512:
		return PT_POOL_NONPAGED_NX;
	case 32:
		return PT_POOL_NONPAGED_SESSION;
	case 33:
		return PT_POOL_PAGED_SESSION;
	case 544:
		return PT_POOL_NONPAGED_SESSION_NX;
	default:
		return PT_POOL_OTHER;
	}
}

const char *pt_pool_name(enum pt_pool pool)
{
	if ((unsigned)pool >= PT_POOL_COUNT_)
		return "?";
	return pool_names[pool].name;
}

const char *pt_pool_id(enum pt_pool pool)
{
	if ((unsigned)pool >= PT_POOL_COUNT_)
		return "unknown";
	return pool_names[pool].id;
}

int pt_pool_parse(const char *s, enum pt_pool *out)
{
	for (int i = 0; i < PT_POOL_COUNT_; i++) {
		if (!strcasecmp(s, pool_names[i].name) || !strcasecmp(s, pool_names[i].id)) {
			*out = (enum pt_pool)i;
			return 0;
		}
	}
	return PT_EUSAGE;
}

bool pt_pool_is_paged(enum pt_pool pool)
{
	return pool == PT_POOL_PAGED || pool == PT_POOL_PAGED_SESSION;
}

const char *pt_event_kind_name(enum pt_event_kind kind)
{
	static const char *const names[PT_EV_KIND_COUNT_] = {
		"alloc", "free", "session-alloc", "session-free", "marker", "snapshot", "stack", "image",
	};
	if ((unsigned)kind >= PT_EV_KIND_COUNT_)
		return "?";
	return names[kind];
}

void pt_event_init(struct pt_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->tag = PT_TAG_NONE;
	ev->pid = ev->tid = ev->cpu = ev->session_id = PT_NONE32;
}

void pt_trace_meta_init(struct pt_trace_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->pool_tracing = -1;
}
