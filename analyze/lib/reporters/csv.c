/* SPDX-License-Identifier: MIT */
/*
 * CSV reporter (RFC 4180: comma separated, CRLF line ends, fields quoted
 * when needed). Two kinds, chosen with --csv-kind: "summary", one row per
 * tag; "series", the per-tag timeline in long format (one row per tag and
 * timeline point).
 */
#include <inttypes.h>
#include <stdio.h>

#include "pooltrace/error.h"
#include "pooltrace/tags.h"
#include "reporters/reporters.h"

#define EOL "\r\n"

static void tag_fields(const struct pt_report *rep, size_t s, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	char tag[PT_TAG_DISPLAY_MAX], hex[PT_TAG_MAX_LEN * 2 + 1];
	pt_csv_field(out, pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag)));
	fprintf(out, ",%s,%s", pt_tags_hex(rep->tags, st[s].tag, hex, sizeof(hex)),
		pt_pool_id(st[s].pool));
}

static int write_series(const struct pt_report *rep, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	uint32_t nb = pt_replay_nbuckets(rep->rp);
	fputs("time_s,tag,tag_hex,pool_type,allocs,frees,diff,bytes" EOL, out);
	for (size_t i = 0; i < rep->nrows; i++) {
		size_t s = rep->rows[i];
		for (uint32_t b = 0; b < nb; b++) {
			struct pt_counts c;
			pt_tagstat_bucket(rep->rp, &st[s], b, &c);
			fprintf(out, "%.6f,", (double)pt_report_bucket_end_ns(rep->rp, b) / 1e9);
			tag_fields(rep, s, out);
			fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRId64 ",%" PRIu64 EOL, c.allocs,
				c.frees, pt_counts_diff(&c), c.bytes);
		}
		if (ferror(out))
			return PT_EIO;
	}
	return ferror(out) ? PT_EIO : 0;
}

/* The key numbers of a verdict's evidence (docs/reports.md lists the columns). */
static void evidence_fields(const struct pt_report *rep, size_t s, FILE *out)
{
	const struct pt_tag_verdict *v = &rep->verdicts[s];
	const struct pt_age *g = &v->age;
	fputc(',', out);
	pt_csv_field(out, pt_pattern_name(v->pattern));
	if (v->trend.valid)
		fprintf(out, ",%u,%.3f,%.3f,%.3f", v->trend.windows, v->trend.slope, v->trend.slope_lo,
			v->trend.slope_hi);
	else
		fputs(",,,,", out);
	fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
		g->live_inside, g->bytes_inside, g->live_before, g->bytes_before, g->live_after,
		g->bytes_after);
	if (g->noldest)
		fprintf(out, ",%.9f", (double)g->oldest[0].ts_ns / 1e9);
	else
		fputc(',', out);
	if (v->npids && v->pids[0].pid != PT_NONE32)
		fprintf(out, ",%u,%" PRIu64, v->pids[0].pid, v->pids[0].bytes);
	else
		fputs(",,", out);
	fprintf(out, ",%s", v->lost_events_matter ? "true" : "false");
	if (v->nstacks) {
		char sb[2048];
		fprintf(out, ",%u,%" PRIu64 ",%" PRIu64 ",", v->stacks_distinct, v->stacks[0].bytes,
			v->stacks[0].live);
		pt_csv_field(out, pt_report_stack_text(rep, v->stacks[0].stack, 0, sb, sizeof(sb)));
	} else {
		fputs(",,,,", out);
	}
	fputc(',', out);
	pt_csv_field(out, v->reason);
}

static int write_summary(const struct pt_report *rep, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	fputs("tag,tag_hex,pool_type,allocs,frees,diff,bytes,per_alloc,peak_bytes,peak_time_s,"
	      "unmatched_frees,double_allocs,verdict,score,growth_bytes,drained,"
	      "bytes_at_workload_start,bytes_at_workload_end,bytes_at_end,driver,description,"
	      "pattern,trend_windows,trend_slope_bytes_per_s,trend_ci95_low,trend_ci95_high,"
	      "live_inside_workload,bytes_inside_workload,live_before_workload,bytes_before_workload,"
	      "live_after_workload,bytes_after_workload,oldest_live_time_s,top_pid,top_pid_bytes,"
	      "lost_events_matter,stacks_distinct,top_stack_bytes,top_stack_live,top_stack,reason" EOL,
	      out);
	for (size_t i = 0; i < rep->nrows; i++) {
		size_t s = rep->rows[i];
		struct pt_counts c;
		pt_report_counts(rep, s, &c);
		tag_fields(rep, s, out);
		fprintf(out,
			",%" PRIu64 ",%" PRIu64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%.6f,%" PRIu64 ",%" PRIu64 ",",
			c.allocs, c.frees, pt_counts_diff(&c), c.bytes, pt_per_alloc(&c),
			st[s].peak_bytes, (double)st[s].peak_ns / 1e9, st[s].unmatched_frees,
			st[s].double_allocs);
		if (rep->verdicts) {
			const struct pt_tag_verdict *v = &rep->verdicts[s];
			fprintf(out, "%s,%.3f,%" PRId64 ",%.4f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",",
				pt_verdict_name(v->verdict), v->score, v->growth_bytes, v->drained,
				v->at_wstart.bytes, v->at_wend.bytes, v->at_end.bytes);
		} else {
			fputs(",,,,,,,", out);
		}
		const struct pt_tagmap_entry *e = pt_report_mapping(rep, s);
		pt_csv_field(out, e ? e->driver : "");
		fputc(',', out);
		pt_csv_field(out, e ? e->desc : "");
		if (rep->verdicts)
			evidence_fields(rep, s, out);
		else
			fputs(",,,,,,,,,,,,,,,,,,,,", out);
		fputs(EOL, out);
	}
	return ferror(out) ? PT_EIO : 0;
}

static int csv_write(const struct pt_report *rep, FILE *out)
{
	return rep->opts->csv_series ? write_series(rep, out) : write_summary(rep, out);
}

const struct pt_reporter_ops pt_reporter_csv = {
	.name = "csv",
	.description = "per-tag summary, or with --csv-kind series the per-tag time series (RFC 4180)",
	.write = csv_write,
};
