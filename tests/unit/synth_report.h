/* SPDX-License-Identifier: MIT */
/*
 * A deterministic synthetic trace for reporter tests: one plain leak, one
 * leak with a hostile tag, busy churn that drains, a tag with bytes >= 0x80,
 * a partially draining suspect, and a tag map whose texts are hostile too.
 * Header-only; include it from one test file.
 */
#ifndef PT_TEST_SYNTH_REPORT_H
#define PT_TEST_SYNTH_REPORT_H

#include <stdlib.h>
#include <string.h>

#include "pooltrace/pooltrace.h"

#define SYN_S 1000000000ull

/* Hostile texts, used by the checks too. */
#define SYN_HOSTILE_TAG "<&\"'"
#define SYN_HIGH_TAG "\xff\x80z!"
#define SYN_SLAB_TAG "</script><b>x"
#define SYN_CMDLINE "pooltrace report --tag-file \"a<b>&c.txt\" </script><script>alert(1)</script> 'q' | x"
#define SYN_INPUT "trace&<1>|\"x\".xml"

static const char syn_tagfile[] =
	"rem synthetic tags\n"
	"Leak - leaky.sys     - Leaky <b>driver</b> & \"friends\" </script>\n"
	"<&\"' - evil|pipe.sys - pipes | *stars* _under_ `tick` [link](x) caf\xe9\n"
	"Busy - busy.sys      - Busy, churn \"objects\"\n"
	"Par? - part.sys      - =SUM(A1) formula-looking description\n";

struct synth {
	struct pt_tags *tags;
	struct pt_replay *rp;
	struct pt_tag_verdict *verdicts;
	struct pt_tagmap *map;
	struct pt_trace_meta meta;
	struct pt_report_opts opts;
	size_t *rows;
	struct pt_report rep;
};

static int synth_ev(struct synth *x, enum pt_event_kind k, uint64_t ts, const char *t, size_t tlen,
		    enum pt_pool pool, uint64_t size, uint64_t addr)
{
	struct pt_event e;
	pt_event_init(&e);
	e.kind = k;
	e.ts_ns = ts;
	if (pt_tags_intern(x->tags, t, tlen, &e.tag) < 0)
		return -1;
	e.pool = pool;
	e.size = size;
	e.addr = addr;
	e.pid = 4;
	return pt_replay_event(x->rp, &e);
}

#define SYN_EV(x, k, ts, t, pool, size, addr) \
	synth_ev(x, k, ts, t, sizeof(t) - 1, pool, size, addr)

/* Build it; @with_map adds the tag map. Returns NULL on failure. */
static struct synth *synth_new(bool with_map)
{
	struct synth *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->tags = pt_tags_new(0);
	struct pt_replay_opts ro = {0};
	ro.interval_ns = 2 * SYN_S;
	x->rp = pt_replay_new(x->tags, &ro);
	int rc = 0;
	uint64_t addr = 0x10000;
	for (uint64_t s = 0; s < 60 && rc == 0; s++) {
		uint64_t t = s * SYN_S;
		rc |= SYN_EV(x, PT_EV_ALLOC, t, "Leak", PT_POOL_NONPAGED, 256, addr);
		addr += 0x100;
		rc |= SYN_EV(x, PT_EV_ALLOC, t + 1, SYN_HOSTILE_TAG, PT_POOL_PAGED, 64, addr);
		addr += 0x100;
		uint64_t b = addr;
		addr += 0x100;
		rc |= SYN_EV(x, PT_EV_ALLOC, t + 2, "Busy", PT_POOL_PAGED, 1000, b);
		if (s % 2)
			rc |= SYN_EV(x, PT_EV_FREE, t + 3, "Busy", PT_POOL_PAGED, 0, b - 0x400);
		rc |= SYN_EV(x, PT_EV_ALLOC, t + 4, SYN_HIGH_TAG, PT_POOL_NONPAGED_NX, 32, addr);
		rc |= SYN_EV(x, PT_EV_FREE, t + 5, SYN_HIGH_TAG, PT_POOL_NONPAGED_NX, 0, addr);
		addr += 0x100;
		if (s % 10 == 0) {
			rc |= SYN_EV(x, PT_EV_ALLOC, t + 6, "Part", PT_POOL_PAGED, 4096, 0x900000 + s * 0x1000);
			rc |= SYN_EV(x, PT_EV_ALLOC, t + 7, SYN_SLAB_TAG, PT_POOL_SLAB, 192, 0xa00000 + s);
		}
	}
	/* a free of something allocated before the trace, a double allocation */
	rc |= SYN_EV(x, PT_EV_FREE, 60 * SYN_S, "Busy", PT_POOL_PAGED, 0, 0xdead0);
	struct pt_event m;
	pt_event_init(&m);
	m.kind = PT_EV_MARKER;
	m.ts_ns = 60 * SYN_S + 3;
	m.marker = "workload-end <&>";
	rc |= pt_replay_event(x->rp, &m);
	rc |= SYN_EV(x, PT_EV_ALLOC, 60 * SYN_S + 4, "Dbl ", PT_POOL_PAGED, 16, 0xbeef0);
	rc |= SYN_EV(x, PT_EV_ALLOC, 60 * SYN_S + 5, "Dbl ", PT_POOL_PAGED, 16, 0xbeef0);
	/* cool-down: Busy frees what it kept, Part frees a third, slab nothing */
	for (uint64_t s = 1; s < 60 && rc == 0; s += 2)
		rc |= SYN_EV(x, PT_EV_FREE, 61 * SYN_S + s * 100, "Busy", PT_POOL_PAGED, 0,
			     0x10000 + s * 0x400 + 0x200);
	for (uint64_t s = 0; s < 60 && rc == 0; s += 30)
		rc |= SYN_EV(x, PT_EV_FREE, 62 * SYN_S + s, "Part", PT_POOL_PAGED, 0,
			     0x900000 + s * 0x1000);
	if (rc || pt_replay_finish(x->rp, 80 * SYN_S) < 0 || pt_judge(x->rp, NULL, &x->verdicts) < 0)
		goto fail;
	if (with_map) {
		x->map = pt_tagmap_new();
		if (!x->map || pt_tagmap_load_buffer(x->map, "synthetic-tags.txt", syn_tagfile,
						     sizeof(syn_tagfile) - 1) < 0)
			goto fail;
	}
	pt_trace_meta_init(&x->meta);
	strcpy(x->meta.format, "synthetic");
	strcpy(x->meta.os, "TestOS <10> & \"more\"");
	strcpy(x->meta.host, "host<1>&");
	x->meta.os_build = 19045;
	x->meta.pointer_size = 8;
	x->meta.num_cpus = 4;
	x->meta.has_start_time = true;
	x->meta.start_unix_ns = 1700000000ll * 1000000000ll;
	x->meta.lost_known = true;
	x->meta.end_ns = 80 * SYN_S;
	x->opts.sort = PT_SORT_BYTES;
	x->opts.command_line = SYN_CMDLINE;
	x->opts.input_name = SYN_INPUT;
	size_t n;
	if (pt_report_rows(x->rp, &x->opts, &x->rows, &n) < 0)
		goto fail;
	x->rep.rp = x->rp;
	x->rep.tags = x->tags;
	x->rep.meta = &x->meta;
	x->rep.verdicts = x->verdicts;
	x->rep.opts = &x->opts;
	x->rep.rows = x->rows;
	x->rep.nrows = n;
	x->rep.tagmap = x->map;
	return x;
fail:
	free(x->verdicts);
	pt_tagmap_free(x->map);
	pt_replay_free(x->rp);
	pt_tags_free(x->tags);
	free(x);
	return NULL;
}

static void synth_free(struct synth *x)
{
	if (!x)
		return;
	free(x->rows);
	free(x->verdicts);
	pt_tagmap_free(x->map);
	pt_replay_free(x->rp);
	pt_tags_free(x->tags);
	free(x);
}

#endif
