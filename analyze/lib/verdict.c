/* SPDX-License-Identifier: MIT */
/*
 * The drain rule (docs/leak-detection.md):
 *   growth  = outstanding bytes at workload end - at workload start
 *   drained = (bytes at workload end - bytes at trace end) / growth
 * A tag whose growth is at least min_leak_bytes and of which less than
 * leak_max_drain was freed by the end of the trace is a leak; at least
 * ok_min_drain freed is ok; in between, or without a cool-down to test
 * draining, it is a suspect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/report.h"
#include "pooltrace/verdict.h"

void pt_verdict_opts_init(struct pt_verdict_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->min_leak_bytes = 1;
	o->leak_max_drain = 0.10;
	o->ok_min_drain = 0.50;
}

const char *pt_verdict_name(enum pt_verdict_kind v)
{
	switch (v) {
	case PT_VERDICT_LEAK:
		return "leak";
	case PT_VERDICT_SUSPECT:
		return "suspect";
	default:
		return "ok";
	}
}

static void judge_one(const struct pt_replay *rp, const struct pt_tagstat *st,
		      const struct pt_verdict_opts *o, struct pt_tag_verdict *v)
{
	const struct pt_phases *ph = pt_replay_phases(rp);
	uint64_t end = pt_replay_end_ns(rp);
	char t1[32], b1[32], b2[32];

	if (ph->wstart_src == PT_PHASE_DEFAULT)
		memset(&v->at_wstart, 0, sizeof(v->at_wstart)); /* nothing before the trace */
	else
		pt_tagstat_at(rp, st, ph->wstart_ns, &v->at_wstart);
	pt_tagstat_at(rp, st, ph->wend_ns, &v->at_wend);
	v->at_end = st->now;
	v->growth_bytes = (int64_t)v->at_wend.bytes - (int64_t)v->at_wstart.bytes;
	int64_t freed = (int64_t)v->at_wend.bytes - (int64_t)v->at_end.bytes;
	v->drained = v->growth_bytes > 0 ? (double)freed / (double)v->growth_bytes : 0.0;
	uint64_t cooldown = end > ph->wend_ns ? end - ph->wend_ns : 0;
	pt_format_time(cooldown, t1, sizeof(t1));

	if (v->growth_bytes <= 0 || (uint64_t)v->growth_bytes < o->min_leak_bytes) {
		v->verdict = PT_VERDICT_OK;
		v->score = 0;
		if (v->growth_bytes > 0)
			snprintf(v->reason, sizeof(v->reason),
				 "grew by %s during the workload, below --min-leak-bytes",
				 pt_format_bytes((uint64_t)v->growth_bytes, b1, sizeof(b1)));
		else
			snprintf(v->reason, sizeof(v->reason), "no growth during the workload");
		return;
	}
	pt_format_bytes((uint64_t)v->growth_bytes, b1, sizeof(b1));
	pt_format_bytes(v->at_end.bytes, b2, sizeof(b2));
	if (cooldown == 0) {
		v->verdict = PT_VERDICT_SUSPECT;
		v->score = 0.5;
		snprintf(v->reason, sizeof(v->reason),
			 "grew by %s during the workload; the trace has no cool-down after the "
			 "workload end, so draining cannot be tested",
			 b1);
		return;
	}
	double pct = v->drained * 100.0;
	if (v->drained >= o->ok_min_drain) {
		v->verdict = PT_VERDICT_OK;
		v->score = 0;
		snprintf(v->reason, sizeof(v->reason),
			 "grew by %s during the workload and %.0f%% of it was freed in %s of cool-down",
			 b1, pct, t1);
		return;
	}
	uint64_t still = v->at_end.live;
	if (v->drained < o->leak_max_drain) {
		v->verdict = PT_VERDICT_LEAK;
		v->score = 1.0 - (v->drained > 0 ? v->drained : 0);
		snprintf(v->reason, sizeof(v->reason),
			 "grew by %s during the workload; only %.0f%% freed in %s of cool-down; "
			 "%s in %llu allocations still outstanding",
			 b1, pct < 0 ? 0.0 : pct, t1, b2, (unsigned long long)still);
	} else {
		v->verdict = PT_VERDICT_SUSPECT;
		v->score = 0.5 * (1.0 - v->drained);
		snprintf(v->reason, sizeof(v->reason),
			 "grew by %s during the workload; %.0f%% freed in %s of cool-down (partial drain)",
			 b1, pct, t1);
	}
}

int pt_judge(const struct pt_replay *rp, const struct pt_verdict_opts *opts,
	     struct pt_tag_verdict **out)
{
	struct pt_verdict_opts def;
	if (!opts) {
		pt_verdict_opts_init(&def);
		opts = &def;
	}
	size_t n;
	const struct pt_tagstat *st = pt_replay_stats(rp, &n);
	struct pt_tag_verdict *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return PT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].stat = i;
		judge_one(rp, &st[i], opts, &v[i]);
	}
	*out = v;
	return 0;
}
