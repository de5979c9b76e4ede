/* SPDX-License-Identifier: MIT */
/*
 * Markdown reporter: a compact summary to paste into a bug ticket comment.
 * Tables are GitHub-flavoured (also read by Azure DevOps and Jira's Markdown
 * paste); every text from the trace or a tag file goes through pt_md_escape().
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pooltrace/error.h"
#include "pooltrace/tags.h"
#include "pooltrace/version.h"
#include "reporters/reporters.h"

#define SPARK_WIDTH 24
#define TOP_ROWS 10

static const char *const spark_chars[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

/* Outstanding bytes over the whole trace in SPARK_WIDTH characters (0 to peak). */
static void sparkline(const struct pt_report *rep, const struct pt_tagstat *st, FILE *out)
{
	uint32_t nb = pt_replay_nbuckets(rep->rp);
	uint64_t v[SPARK_WIDTH], max = 0;
	unsigned w = nb < SPARK_WIDTH ? nb : SPARK_WIDTH;
	if (!w)
		return;
	for (unsigned i = 0; i < w; i++) {
		uint32_t b0 = (uint32_t)((uint64_t)i * nb / w), b1 = (uint32_t)((uint64_t)(i + 1) * nb / w);
		v[i] = 0;
		for (uint32_t b = b0; b < b1 || b == b0; b++) {
			struct pt_counts c;
			pt_tagstat_bucket(rep->rp, st, b, &c);
			if (c.bytes > v[i])
				v[i] = c.bytes;
		}
		if (v[i] > max)
			max = v[i];
	}
	for (unsigned i = 0; i < w; i++) {
		unsigned k = max ? (unsigned)((v[i] * 7 + max / 2) / max) : 0;
		fputs(spark_chars[k > 7 ? 7 : k], out);
	}
}

static void tag_text(const struct pt_report *rep, size_t s, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	char tag[PT_TAG_DISPLAY_MAX];
	pt_md_escape(out, pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag)));
}

static void driver_text(const struct pt_report *rep, size_t s, FILE *out)
{
	char md[PT_MAPPED_MAX];
	pt_md_escape(out, pt_tagmap_mapped_driver(pt_report_mapping(rep, s), md, sizeof(md)));
}

static void write_headline(const struct pt_report *rep, FILE *out)
{
	size_t n[3];
	pt_report_verdict_counts(rep, n);
	fprintf(out, "### pooltrace: %zu leak%s, %zu suspect%s, %zu ok\n\n", n[PT_VERDICT_LEAK],
		n[PT_VERDICT_LEAK] == 1 ? "" : "s", n[PT_VERDICT_SUSPECT],
		n[PT_VERDICT_SUSPECT] == 1 ? "" : "s", n[PT_VERDICT_OK]);
}

/* The evidence of one flagged tag, as a nested list (the same facts as the text report). */
static void write_evidence(const struct pt_report *rep, size_t s, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	const struct pt_tag_verdict *v = &rep->verdicts[s];
	const struct pt_phases *ph = pt_replay_phases(rep->rp);
	uint64_t end = pt_replay_end_ns(rep->rp);
	char b1[32], b2[32], b3[32], t1[32];

	fprintf(out, "  - Drain: %s at workload start, %s at workload end, %s at trace end; "
		     "%.0f%% of the growth freed in %s of cool-down (score %.2f)\n",
		pt_format_bytes(v->at_wstart.bytes, b1, sizeof(b1)),
		pt_format_bytes(v->at_wend.bytes, b2, sizeof(b2)),
		pt_format_bytes(v->at_end.bytes, b3, sizeof(b3)), v->drained * 100.0,
		pt_format_time(end > ph->wend_ns ? end - ph->wend_ns : 0, t1, sizeof(t1)), v->score);
	if (v->trend.valid) {
		fprintf(out, "  - Trend of troughs: %+.1f B/s (95%% CI %+.1f to %+.1f) over %u windows",
			v->trend.slope, v->trend.slope_lo, v->trend.slope_hi, v->trend.windows);
		if (v->trend.late_valid)
			fprintf(out, ", second half %+.1f B/s (%+.1f to %+.1f)", v->trend.late_slope,
				v->trend.late_lo, v->trend.late_hi);
		fprintf(out, "; pattern: %s\n", pt_pattern_name(v->pattern));
	}
	const struct pt_age *g = &v->age;
	if (g->live_before + g->live_inside + g->live_after) {
		fprintf(out, "  - Live at trace end: %" PRIu64 " allocated during the workload (%s), %" PRIu64
			     " before it (%s), %" PRIu64 " in the cool-down (%s)\n",
			g->live_inside, pt_format_bytes(g->bytes_inside, b1, sizeof(b1)), g->live_before,
			pt_format_bytes(g->bytes_before, b2, sizeof(b2)), g->live_after,
			pt_format_bytes(g->bytes_after, b3, sizeof(b3)));
		fputs("  - Age histogram (live bytes by allocation time, eighths of the trace):", out);
		for (int i = 0; i < PT_AGE_BINS; i++)
			fprintf(out, "%s %s", i ? "," : "", pt_format_bytes(g->hist_bytes[i], b1, sizeof(b1)));
		fputc('\n', out);
		if (g->noldest) {
			fputs("  - Oldest live:", out);
			for (uint32_t i = 0; i < g->noldest && i < 3; i++) {
				const struct pt_live_alloc *a = &g->oldest[i];
				fprintf(out, "%s `0x%" PRIx64 "` %" PRIu64 " bytes at %s", i ? ";" : "",
					a->addr, a->size, pt_format_time(a->ts_ns, t1, sizeof(t1)));
				if (a->pid != PT_NONE32)
					fprintf(out, ", pid %u", a->pid);
				if (a->tid != PT_NONE32)
					fprintf(out, ", tid %u", a->tid);
			}
			fputc('\n', out);
		}
	}
	if (v->npids && !(v->npids == 1 && v->pids[0].pid == PT_NONE32)) {
		fputs("  - By process:", out);
		for (uint32_t i = 0; i < v->npids; i++) {
			if (v->pids[i].pid == PT_NONE32)
				fprintf(out, "%s unknown %s", i ? "," : "",
					pt_format_bytes(v->pids[i].bytes, b1, sizeof(b1)));
			else
				fprintf(out, "%s pid %u %s", i ? "," : "", v->pids[i].pid,
					pt_format_bytes(v->pids[i].bytes, b1, sizeof(b1)));
		}
		fputc('\n', out);
	}
	if (st[s].unmatched_frees || st[s].double_allocs || v->lost_events_matter) {
		fprintf(out, "  - Accounting: %" PRIu64 " frees of allocations made before the trace, %" PRIu64
			     " double allocations (%s displaced)%s\n",
			st[s].unmatched_frees, st[s].double_allocs,
			pt_format_bytes(st[s].displaced_bytes, b1, sizeof(b1)),
			v->lost_events_matter ? "; lost events could explain what is outstanding" : "");
	}
	if (v->nstacks) {
		fprintf(out, "  - Live bytes by stack (%u stack%s", v->stacks_distinct,
			v->stacks_distinct == 1 ? "" : "s");
		if (v->live_nostack)
			fprintf(out, "; %s in %" PRIu64 " allocations without a stack",
				pt_format_bytes(v->bytes_nostack, b1, sizeof(b1)), v->live_nostack);
		fputs("):\n", out);
		for (uint32_t i = 0; i < v->nstacks; i++) {
			fprintf(out, "    %u. %s in %" PRIu64 ": ", i + 1,
				pt_format_bytes(v->stacks[i].bytes, b1, sizeof(b1)), v->stacks[i].live);
			uint32_t id = v->stacks[i].stack, n = pt_report_stack_frames(rep, id);
			for (uint32_t k = 0; k < n && k < 8; k++) {
				char fb[160];
				fputs(k ? " ← " : "", out);
				pt_md_escape(out, pt_report_frame(rep, id, k, fb, sizeof(fb)));
			}
			fputs(n > 8 ? " ← …\n" : "\n", out);
		}
	}
}

/* One line per flagged tag, leaks first, with its evidence. */
static void write_flagged(const struct pt_report *rep, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	char b1[32], b2[32], b3[32];
	size_t shown = 0;
	if (!rep->verdicts)
		return;
	for (int pass = PT_VERDICT_LEAK; pass >= PT_VERDICT_SUSPECT; pass--) {
		for (size_t s = 0; s < ns; s++) {
			const struct pt_tag_verdict *v = &rep->verdicts[s];
			if ((int)v->verdict != pass)
				continue;
			fprintf(out, "- **%s** ", pass == PT_VERDICT_LEAK ? "LEAK" : "SUSPECT");
			tag_text(rep, s, out);
			fprintf(out, " (%s", pt_pool_name(st[s].pool));
			if (pt_report_mapping(rep, s)) {
				fputs(", ", out);
				driver_text(rep, s, out);
			}
			fprintf(out, "): %s%s during the workload, %s at workload end, %s at trace end, "
				     "%.0f%% drained ",
				v->growth_bytes < 0 ? "-" : "+",
				pt_format_bytes((uint64_t)(v->growth_bytes < 0 ? -v->growth_bytes
									: v->growth_bytes),
						b1, sizeof(b1)),
				pt_format_bytes(v->at_wend.bytes, b2, sizeof(b2)),
				pt_format_bytes(v->at_end.bytes, b3, sizeof(b3)), v->drained * 100.0);
			sparkline(rep, &st[s], out);
			fputs("  \n  ", out);
			pt_md_escape(out, v->reason);
			fputc('\n', out);
			write_evidence(rep, s, out);
			shown++;
		}
	}
	if (!shown)
		fputs("No tag grew during the workload without draining afterwards.\n", out);
	fputc('\n', out);
}

static void write_facts(const struct pt_report *rep, FILE *out)
{
	const struct pt_trace_meta *m = rep->meta;
	const struct pt_replay_totals *t = pt_replay_totals(rep->rp);
	const struct pt_phases *ph = pt_replay_phases(rep->rp);
	uint64_t end = pt_replay_end_ns(rep->rp);
	char a[32], b[32], c[32];

	fputs("| Trace | |\n|---|---|\n| Input | ", out);
	pt_md_escape(out, rep->opts->input_name ? rep->opts->input_name : "-");
	fputs(" (", out);
	pt_md_escape(out, m->format);
	fputs(") |\n", out);
	if (m->os[0] || m->host[0] || m->num_cpus || m->pointer_size) {
		fputs("| System | ", out);
		if (m->host[0]) {
			pt_md_escape(out, m->host);
			fputs(", ", out);
		}
		pt_md_escape(out, m->os[0] ? m->os : "OS unknown");
		if (m->os_build)
			fprintf(out, " build %u", m->os_build);
		if (m->num_cpus)
			fprintf(out, ", %u CPUs", m->num_cpus);
		if (m->pointer_size)
			fprintf(out, ", %u-bit", m->pointer_size * 8);
		fputs(" |\n", out);
	}
	if (m->has_start_time) {
		time_t secs = (time_t)(m->start_unix_ns / 1000000000);
		struct tm tm;
		char buf[64];
		if (gmtime_r(&secs, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
			fprintf(out, "| Started | %s |\n", buf);
	}
	fprintf(out, "| Duration | %s |\n", pt_format_time(end, a, sizeof(a)));
	fprintf(out,
		"| Events | %" PRIu64 " (%" PRIu64 " allocs, %" PRIu64 " frees, %" PRIu64
		" markers, %" PRIu64 " snapshot rows) |\n",
		t->events, t->allocs, t->frees, t->markers, t->snapshots);
	if (rep->incomplete) {
		fputs("| Incomplete | **the numbers cover only what was read:** ", out);
		pt_md_escape(out, rep->incomplete);
		fputs(" |\n", out);
	}
	if (m->lost_known)
		fprintf(out, "| Lost | %" PRIu64 " events, %" PRIu64 " buffers |\n", m->events_lost,
			m->buffers_lost);
	else
		fputs("| Lost | not recorded in this format |\n", out);
	fprintf(out,
		"| Accounting | %" PRIu64 " unmatched frees (allocated before the trace), %" PRIu64
		" double allocations, %" PRIu64 " NULL frees, %" PRIu64 " bad events skipped |\n",
		t->unmatched_frees, t->double_allocs, t->null_frees, rep->reader_skipped_bad);
	fprintf(out, "| Workload | %s (%s", pt_format_time(ph->wstart_ns, a, sizeof(a)),
		pt_phase_source_name(ph->wstart_src));
	if (ph->wstart_src == PT_PHASE_MARKER) {
		fputs(" ", out);
		pt_md_escape(out, ph->wstart_marker);
	}
	fprintf(out, ") to %s (%s", pt_format_time(ph->wend_ns, b, sizeof(b)),
		pt_phase_source_name(ph->wend_src));
	if (ph->wend_src == PT_PHASE_MARKER) {
		fputs(" ", out);
		pt_md_escape(out, ph->wend_marker);
	}
	fprintf(out, "), cool-down %s |\n\n",
		pt_format_time(end > ph->wend_ns ? end - ph->wend_ns : 0, c, sizeof(c)));
}

static void write_verdict_table(const struct pt_report *rep, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	size_t n[3];
	pt_report_verdict_counts(rep, n);
	if (!rep->verdicts || n[PT_VERDICT_LEAK] + n[PT_VERDICT_SUSPECT] == 0)
		return;
	fputs("#### Verdicts\n\n| Verdict | Tag | Type | Driver | Growth (bytes) | At workload end | "
	      "At trace end | Drained | Peak | Score |\n"
	      "|---|---|---|---|---:|---:|---:|---:|---:|---:|\n",
	      out);
	for (int pass = PT_VERDICT_LEAK; pass >= PT_VERDICT_SUSPECT; pass--) {
		for (size_t s = 0; s < ns; s++) {
			const struct pt_tag_verdict *v = &rep->verdicts[s];
			if ((int)v->verdict != pass)
				continue;
			fprintf(out, "| %s | ", pass == PT_VERDICT_LEAK ? "**LEAK**" : "suspect");
			tag_text(rep, s, out);
			fprintf(out, " | %s | ", pt_pool_name(st[s].pool));
			driver_text(rep, s, out);
			fprintf(out,
				" | %" PRId64 " | %" PRIu64 " | %" PRIu64 " | %.0f%% | %" PRIu64
				" | %.2f |\n",
				v->growth_bytes, v->at_wend.bytes, v->at_end.bytes, v->drained * 100.0,
				st[s].peak_bytes, v->score);
		}
	}
	fputc('\n', out);
}

static void write_top(const struct pt_report *rep, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	const struct pt_report_opts *o = rep->opts;
	char tb[32];
	size_t lim = rep->nrows < TOP_ROWS ? rep->nrows : TOP_ROWS;
	fprintf(out, "#### Top %zu of %zu at %s\n\n", lim, rep->nrows,
		pt_format_time(o->has_at ? o->at_ns : pt_replay_end_ns(rep->rp), tb, sizeof(tb)));
	fputs("| Tag | Type | Allocs | Frees | Diff | Bytes | Per Alloc |", out);
	fputs(rep->tagmap ? " Mapped_Driver |\n|---|---|---:|---:|---:|---:|---:|---|\n"
			  : "\n|---|---|---:|---:|---:|---:|---:|\n",
	      out);
	for (size_t i = 0; i < lim; i++) {
		size_t s = rep->rows[i];
		struct pt_counts c;
		pt_report_counts(rep, s, &c);
		fputs("| ", out);
		tag_text(rep, s, out);
		fprintf(out,
			" | %s | %" PRIu64 " | %" PRIu64 " | %" PRId64 " | %" PRIu64 " | %" PRIu64 " |",
			pt_pool_name(st[s].pool), c.allocs, c.frees, pt_counts_diff(&c), c.bytes,
			pt_per_alloc(&c));
		if (rep->tagmap) {
			fputc(' ', out);
			driver_text(rep, s, out);
			fputs(" |", out);
		}
		fputc('\n', out);
	}
	fputc('\n', out);
}

static int md_write(const struct pt_report *rep, FILE *out)
{
	write_headline(rep, out);
	write_flagged(rep, out);
	write_facts(rep, out);
	write_verdict_table(rep, out);
	write_top(rep, out);
	fprintf(out, "_pooltrace %s:_ ", PT_VERSION_STRING);
	pt_md_escape(out, rep->opts->command_line ? rep->opts->command_line : "");
	fputc('\n', out);
	return ferror(out) ? PT_EIO : 0;
}

const struct pt_reporter_ops pt_reporter_md = {
	.name = "md",
	.description = "compact Markdown summary for a ticket comment: verdicts, top tags, sparklines",
	.write = md_write,
};
