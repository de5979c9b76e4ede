/* SPDX-License-Identifier: MIT */
/* Text reporter: the trace facts, a PoolMon-style table and the verdicts. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pooltrace/error.h"
#include "pooltrace/tags.h"
#include "pooltrace/version.h"
#include "reporters/reporters.h"

#define C_RED "\033[1;31m"
#define C_YEL "\033[33m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

static const char *sort_name(enum pt_sort s)
{
	static const char *const names[] = {"tag", "allocs", "frees", "diff", "bytes", "per-alloc"};
	return (unsigned)s < sizeof(names) / sizeof(*names) ? names[s] : "?";
}

static void print_abs_time(FILE *out, const struct pt_trace_meta *m)
{
	if (!m->has_start_time) {
		fputs("start time unknown", out);
		return;
	}
	time_t secs = (time_t)(m->start_unix_ns / 1000000000);
	struct tm tm;
	char buf[64];
	if (gmtime_r(&secs, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
		fputs(buf, out);
}

static void print_facts(const struct pt_report *rep, FILE *out)
{
	const struct pt_trace_meta *m = rep->meta;
	const struct pt_replay_totals *t = pt_replay_totals(rep->rp);
	const struct pt_phases *ph = pt_replay_phases(rep->rp);
	uint64_t end = pt_replay_end_ns(rep->rp);
	char a[32], b[32], c[32];

	fprintf(out, "Trace:   %s (%s)\n", rep->opts->input_name ? rep->opts->input_name : "-",
		m->format);
	fputs("         ", out);
	print_abs_time(out, m);
	fprintf(out, ", duration %s", pt_format_time(end, a, sizeof(a)));
	if (m->num_cpus)
		fprintf(out, ", %u CPUs", m->num_cpus);
	if (m->pointer_size)
		fprintf(out, ", %u-bit", m->pointer_size * 8);
	if (m->os[0])
		fprintf(out, ", %s", m->os);
	if (m->os_build)
		fprintf(out, " build %u", m->os_build);
	fputc('\n', out);
	if (rep->incomplete)
		fprintf(out, "Warning: the trace is incomplete, the numbers cover only what was read: %s\n",
			rep->incomplete);
	fprintf(out, "Events:  %" PRIu64 " (%" PRIu64 " allocs, %" PRIu64 " frees, %" PRIu64
		     " markers, %" PRIu64 " snapshot rows)",
		t->events, t->allocs, t->frees, t->markers, t->snapshots);
	if (m->lost_known)
		fprintf(out, "; events lost: %" PRIu64 ", buffers lost: %" PRIu64, m->events_lost,
			m->buffers_lost);
	else
		fputs("; lost events: not recorded in this format", out);
	fputc('\n', out);
	if (t->unmatched_frees || t->double_allocs || t->null_frees || t->live_dropped ||
	    rep->reader_skipped_bad)
		fprintf(out,
			"Account: %" PRIu64 " frees of allocations made before the trace (unmatched), %" PRIu64
			" double allocations, %" PRIu64 " NULL frees, %" PRIu64
			" allocations not tracked (cap), %" PRIu64 " bad events skipped\n",
			t->unmatched_frees, t->double_allocs, t->null_frees, t->live_dropped,
			rep->reader_skipped_bad);
	if (t->stacks || t->images)
		fprintf(out,
			"Stacks:  %" PRIu64 " stack events, %" PRIu64 " joined to live allocations (%" PRIu64
			" distinct), %" PRIu64 " of frees, %" PRIu64 " of allocations freed since, %" PRIu64
			" unmatched; %" PRIu64 " image events\n",
			t->stacks, t->stacks_joined, (uint64_t)pt_replay_nstacks(rep->rp), t->stacks_free,
			t->stacks_not_live, t->stacks_unmatched + t->stacks_dropped, t->images);
	fprintf(out, "Phases:  workload %s (%s", pt_format_time(ph->wstart_ns, a, sizeof(a)),
		pt_phase_source_name(ph->wstart_src));
	if (ph->wstart_src == PT_PHASE_MARKER)
		fprintf(out, " \"%s\"", ph->wstart_marker);
	fprintf(out, ") to %s (%s", pt_format_time(ph->wend_ns, b, sizeof(b)),
		pt_phase_source_name(ph->wend_src));
	if (ph->wend_src == PT_PHASE_MARKER)
		fprintf(out, " \"%s\"", ph->wend_marker);
	fprintf(out, "), cool-down %s\n", pt_format_time(end - ph->wend_ns, c, sizeof(c)));
	if (ph->wend_src == PT_PHASE_DEFAULT)
		fputs("         no workload end given (--workload-end) and no marker in the trace:\n"
		      "         the last quarter of the trace is taken as the cool-down\n",
		      out);
	if (m->snapshot_only)
		fputs("         counter snapshots only (no addresses): Bytes are as the snapshots report them\n",
		      out);
}

static void print_table(const struct pt_report *rep, FILE *out)
{
	const struct pt_report_opts *o = rep->opts;
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	uint64_t end = pt_replay_end_ns(rep->rp);
	uint64_t t = o->has_at ? o->at_ns : end;
	uint64_t dns = o->delta_ns ? o->delta_ns : pt_replay_interval_ns(rep->rp);
	char tb[32], tag[PT_TAG_DISPLAY_MAX];

	fprintf(out, "\nTable at %s, sorted by %s", pt_format_time(t, tb, sizeof(tb)),
		sort_name(o->sort));
	if (o->deltas)
		fprintf(out, "; ( ) = change over the previous %s", pt_format_time(dns, tb, sizeof(tb)));
	fputs("\n\n", out);
	if (o->deltas)
		fprintf(out, " %-6s %-7s %12s %8s %12s %8s %10s %14s %10s %9s", "Tag", "Type",
			"Allocs", "( )", "Frees", "( )", "Diff", "Bytes", "( )", "Per Alloc");
	else
		fprintf(out, " %-6s %-7s %12s %12s %10s %14s %9s", "Tag", "Type", "Allocs", "Frees",
			"Diff", "Bytes", "Per Alloc");
	fputs(rep->tagmap ? "   Mapped_Driver\n" : "\n", out);
	struct pt_counts tot = {0, 0, 0, 0};
	for (size_t i = 0; i < rep->nrows; i++) {
		size_t s = rep->rows[i];
		struct pt_counts c, p;
		pt_report_counts(rep, s, &c);
		tot.allocs += c.allocs;
		tot.frees += c.frees;
		tot.bytes += c.bytes;
		pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag));
		const struct pt_tag_verdict *v = rep->verdicts ? &rep->verdicts[s] : NULL;
		const char *on = "", *off = "";
		if (o->color && v && v->verdict == PT_VERDICT_LEAK)
			on = C_RED, off = C_OFF;
		else if (o->color && v && v->verdict == PT_VERDICT_SUSPECT)
			on = C_YEL, off = C_OFF;
		if (o->deltas) {
			pt_tagstat_at(rep->rp, &st[s], t > dns ? t - dns : 0, &p);
			if (t <= dns)
				memset(&p, 0, sizeof(p));
			fprintf(out,
				"%s %-6s %-7s %12" PRIu64 " (%6" PRIu64 ") %12" PRIu64 " (%6" PRIu64
				") %10" PRId64 " %14" PRIu64 " (%8" PRId64 ") %9" PRIu64 "%s",
				on, tag, pt_pool_name(st[s].pool), c.allocs, c.allocs - p.allocs, c.frees,
				c.frees - p.frees, pt_counts_diff(&c), c.bytes,
				(int64_t)(c.bytes - p.bytes), pt_per_alloc(&c), off);
		} else {
			fprintf(out,
				"%s %-6s %-7s %12" PRIu64 " %12" PRIu64 " %10" PRId64 " %14" PRIu64
				" %9" PRIu64 "%s",
				on, tag, pt_pool_name(st[s].pool), c.allocs, c.frees, pt_counts_diff(&c),
				c.bytes, pt_per_alloc(&c), off);
		}
		if (rep->tagmap) {
			char md[PT_MAPPED_MAX];
			fprintf(out, "   %s", pt_tagmap_mapped_driver(pt_report_mapping(rep, s), md, sizeof(md)));
		}
		fputc('\n', out);
	}
	if (o->totals)
		fprintf(out, " %-6s %-7s %12" PRIu64 " %12" PRIu64 " %10" PRId64 " %14" PRIu64 "\n",
			"Total", "", tot.allocs, tot.frees, (int64_t)(tot.allocs - tot.frees), tot.bytes);
}

static void print_evidence(const struct pt_report *rep, FILE *out, size_t s)
{
	const struct pt_tag_verdict *v = &rep->verdicts[s];
	const char *ind = "                        ";
	char b1[32], b2[32], b3[32], t1[32];

	fprintf(out, "%soutstanding: %s at workload start, %s at workload end, %s at trace end (%.0f%% drained)\n",
		ind, pt_format_bytes(v->at_wstart.bytes, b3, sizeof(b3)),
		pt_format_bytes(v->at_wend.bytes, b1, sizeof(b1)),
		pt_format_bytes(v->at_end.bytes, b2, sizeof(b2)), v->drained * 100.0);
	if (v->trend.valid)
		fprintf(out, "%strend of troughs: %+.1f B/s (95%% CI %+.1f to %+.1f) over %u windows; pattern: %s\n",
			ind, v->trend.slope, v->trend.slope_lo, v->trend.slope_hi, v->trend.windows,
			pt_pattern_name(v->pattern));
	const struct pt_age *g = &v->age;
	if (g->live_before + g->live_inside + g->live_after) {
		fprintf(out, "%slive at trace end: %llu allocated during the workload (%s), %llu before it, %llu in the cool-down\n",
			ind, (unsigned long long)g->live_inside,
			pt_format_bytes(g->bytes_inside, b1, sizeof(b1)),
			(unsigned long long)g->live_before, (unsigned long long)g->live_after);
		for (uint32_t i = 0; i < g->noldest && i < 3; i++) {
			const struct pt_live_alloc *a = &g->oldest[i];
			fprintf(out, "%s  oldest: 0x%llx, %llu bytes, at %s", ind, (unsigned long long)a->addr,
				(unsigned long long)a->size, pt_format_time(a->ts_ns, t1, sizeof(t1)));
			if (a->pid != PT_NONE32)
				fprintf(out, ", pid %u", a->pid);
			if (a->tid != PT_NONE32)
				fprintf(out, ", tid %u", a->tid);
			fputc('\n', out);
		}
	}
	if (v->npids && !(v->npids == 1 && v->pids[0].pid == PT_NONE32)) {
		fprintf(out, "%sby process:", ind);
		for (uint32_t i = 0; i < v->npids; i++) {
			if (v->pids[i].pid == PT_NONE32)
				fprintf(out, "%s unknown %s", i ? "," : "", pt_format_bytes(v->pids[i].bytes, b1, sizeof(b1)));
			else
				fprintf(out, "%s pid %u %s", i ? "," : "", v->pids[i].pid,
					pt_format_bytes(v->pids[i].bytes, b1, sizeof(b1)));
		}
		fputc('\n', out);
	}
	if (v->nstacks) {
		char sb[1024];
		fprintf(out, "%slive bytes by stack (%u stack%s", ind, v->stacks_distinct,
			v->stacks_distinct == 1 ? "" : "s");
		if (v->live_nostack)
			fprintf(out, "; %s in %llu allocations without a stack",
				pt_format_bytes(v->bytes_nostack, b1, sizeof(b1)),
				(unsigned long long)v->live_nostack);
		fputs("):\n", out);
		for (uint32_t i = 0; i < v->nstacks; i++)
			fprintf(out, "%s  %s in %llu: %s\n", ind,
				pt_format_bytes(v->stacks[i].bytes, b1, sizeof(b1)),
				(unsigned long long)v->stacks[i].live,
				pt_report_stack_text(rep, v->stacks[i].stack, 8, sb, sizeof(sb)));
	}
	const struct pt_tagmap_entry *me = pt_report_mapping(rep, s);
	if (me) {
		char md[PT_MAPPED_MAX];
		fprintf(out, "%sdriver: %s\n", ind, pt_tagmap_mapped_driver(me, md, sizeof(md)));
	}
}

static void print_verdicts(const struct pt_report *rep, FILE *out)
{
	const struct pt_report_opts *o = rep->opts;
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	char tag[PT_TAG_DISPLAY_MAX];
	struct pt_verdict_summary sum;

	if (!rep->verdicts)
		return;
	fputs("\nLeak verdicts\n\n", out);
	for (int pass = PT_VERDICT_LEAK; pass >= PT_VERDICT_SUSPECT; pass--) {
		for (size_t s = 0; s < ns; s++) {
			const struct pt_tag_verdict *v = &rep->verdicts[s];
			if ((int)v->verdict != pass || v->hidden || v->suppressed)
				continue;
			pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag));
			const char *on = "", *off = "";
			if (o->color)
				on = pass == PT_VERDICT_LEAK ? C_RED : C_YEL, off = C_OFF;
			fprintf(out, " %s%-7s%s %-6s %-7s %s (score %.2f)\n", on,
				pass == PT_VERDICT_LEAK ? "LEAK" : "SUSPECT", off, tag,
				pt_pool_name(st[s].pool), v->reason, v->score);
			print_evidence(rep, out, s);
		}
	}
	pt_report_summary(rep, &sum);
	if (sum.leak + sum.suspect == 0)
		fputs(" no tag grew without draining\n", out);
	if (sum.suppressed) {
		fputs("\nSuppressed (not counted)\n\n", out);
		for (size_t s = 0; s < ns; s++) {
			const struct pt_tag_verdict *v = &rep->verdicts[s];
			if (!v->suppressed || v->hidden)
				continue;
			pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag));
			fprintf(out, " %-7s %-6s %-7s %s\n", pt_verdict_name(v->verdict), tag,
				pt_pool_name(st[s].pool), v->suppress_reason);
		}
	}
	fprintf(out, "\n%s%zu leak%s%s, %zu suspect%s, %zu ok", o->color && sum.leak ? C_BOLD : "",
		sum.leak, sum.leak == 1 ? "" : "s", o->color && sum.leak ? C_OFF : "", sum.suspect,
		sum.suspect == 1 ? "" : "s", sum.ok);
	if (sum.suppressed)
		fprintf(out, ", %zu suppressed", sum.suppressed);
	fputc('\n', out);
}

static int text_write(const struct pt_report *rep, FILE *out)
{
	fprintf(out, "pooltrace %s report\n", PT_VERSION_STRING);
	print_facts(rep, out);
	print_table(rep, out);
	print_verdicts(rep, out);
	return ferror(out) ? PT_EIO : 0;
}

const struct pt_reporter_ops pt_reporter_text = {
	.name = "text",
	.description = "terminal table and verdicts (colour on a terminal unless NO_COLOR is set)",
	.write = text_write,
};
