/* SPDX-License-Identifier: MIT */
/*
 * JSON reporter. The document is described in docs/report-schema.json, docs/reports.md;
 * "schema_version" changes whenever a field changes meaning or goes away.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/tags.h"
#include "pooltrace/version.h"
#include "reporters/reporters.h"

#define SCHEMA_VERSION 1
#define MAX_SERIES 40
#define TOP_EXTRA 5

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void counts_obj(FILE *out, const struct pt_counts *c)
{
	fprintf(out,
		"{\"allocs\": %" PRIu64 ", \"frees\": %" PRIu64 ", \"diff\": %" PRId64
		", \"bytes\": %" PRIu64 ", \"live\": %" PRIu64 "}",
		c->allocs, c->frees, pt_counts_diff(c), c->bytes, c->live);
}

static void write_meta(const struct pt_report *rep, FILE *out)
{
	const struct pt_trace_meta *m = rep->meta;
	fputs("  \"trace\": {\n    \"format\": ", out);
	pt_json_string(out, m->format);
	fputs(",\n    \"os\": ", out);
	pt_json_string(out, m->os);
	fprintf(out, ",\n    \"os_build\": %u,\n    \"pointer_size\": %u,\n    \"cpus\": %u,\n",
		m->os_build, m->pointer_size, m->num_cpus);
	fputs("    \"host\": ", out);
	pt_json_string(out, m->host);
	if (m->has_start_time)
		fprintf(out, ",\n    \"start_unix_ns\": %" PRId64, m->start_unix_ns);
	else
		fputs(",\n    \"start_unix_ns\": null", out);
	fprintf(out, ",\n    \"duration_s\": %.9f", secs(pt_replay_end_ns(rep->rp)));
	if (m->lost_known)
		fprintf(out, ",\n    \"events_lost\": %" PRIu64 ",\n    \"buffers_lost\": %" PRIu64,
			m->events_lost, m->buffers_lost);
	else
		fputs(",\n    \"events_lost\": null,\n    \"buffers_lost\": null", out);
	fprintf(out, ",\n    \"snapshot_only\": %s", m->snapshot_only ? "true" : "false");
	fputs(",\n    \"incomplete\": ", out);
	if (rep->incomplete)
		pt_json_string(out, rep->incomplete);
	else
		fputs("null", out);
	fputs("\n  },\n", out);
}

static void write_totals(const struct pt_report *rep, FILE *out)
{
	const struct pt_replay_totals *t = pt_replay_totals(rep->rp);
	fprintf(out,
		"  \"totals\": {\"events\": %" PRIu64 ", \"allocs\": %" PRIu64 ", \"frees\": %" PRIu64
		", \"markers\": %" PRIu64 ", \"snapshot_rows\": %" PRIu64
		", \"unmatched_frees\": %" PRIu64 ", \"double_allocs\": %" PRIu64
		", \"null_frees\": %" PRIu64 ", \"live\": %" PRIu64 ", \"live_not_tracked\": %" PRIu64
		", \"bad_events_skipped\": %" PRIu64 ", \"other_events_skipped\": %" PRIu64,
		t->events, t->allocs, t->frees, t->markers, t->snapshots, t->unmatched_frees,
		t->double_allocs, t->null_frees, t->live, t->live_dropped, rep->reader_skipped_bad,
		rep->reader_skipped_other);
	if (t->stacks || t->images)
		fprintf(out,
			", \"stacks\": %" PRIu64 ", \"stacks_joined\": %" PRIu64
			", \"stacks_distinct\": %zu, \"stacks_of_frees\": %" PRIu64
			", \"stacks_not_live\": %" PRIu64 ", \"stacks_unmatched\": %" PRIu64
			", \"stacks_dropped\": %" PRIu64 ", \"images\": %" PRIu64,
			t->stacks, t->stacks_joined, pt_replay_nstacks(rep->rp), t->stacks_free,
			t->stacks_not_live, t->stacks_unmatched, t->stacks_dropped, t->images);
	fputs("},\n", out);
}

static void write_phases(const struct pt_report *rep, FILE *out)
{
	const struct pt_phases *ph = pt_replay_phases(rep->rp);
	fprintf(out, "  \"phases\": {\"workload_start_s\": %.9f, \"workload_start_source\": \"%s\", ",
		secs(ph->wstart_ns), pt_phase_source_name(ph->wstart_src));
	fprintf(out, "\"workload_end_s\": %.9f, \"workload_end_source\": \"%s\", ",
		secs(ph->wend_ns), pt_phase_source_name(ph->wend_src));
	fputs("\"workload_start_marker\": ", out);
	if (ph->wstart_src == PT_PHASE_MARKER)
		pt_json_string(out, ph->wstart_marker);
	else
		fputs("null", out);
	fputs(", \"workload_end_marker\": ", out);
	if (ph->wend_src == PT_PHASE_MARKER)
		pt_json_string(out, ph->wend_marker);
	else
		fputs("null", out);
	fprintf(out, ", \"trace_end_s\": %.9f, \"interval_s\": %.9f},\n",
		secs(pt_replay_end_ns(rep->rp)), secs(pt_replay_interval_ns(rep->rp)));
}

/* "driver", "description", "mapped_driver", "tag_pattern": null without a tag file or match. */
static void write_mapping(const struct pt_report *rep, FILE *out, size_t s)
{
	const struct pt_tagmap_entry *e = pt_report_mapping(rep, s);
	if (!e) {
		fputs("\"driver\": null, \"description\": null, \"mapped_driver\": null, "
		      "\"tag_pattern\": null, ",
		      out);
		return;
	}
	char md[PT_MAPPED_MAX];
	fputs("\"driver\": ", out);
	pt_json_string(out, e->driver);
	fputs(", \"description\": ", out);
	pt_json_string(out, e->desc);
	fputs(", \"mapped_driver\": ", out);
	pt_json_string(out, pt_tagmap_mapped_driver(e, md, sizeof(md)));
	fputs(", \"tag_pattern\": ", out);
	pt_json_string(out, e->tag);
	fputs(", ", out);
}

static void write_tag_files(const struct pt_report *rep, FILE *out)
{
	struct pt_tagmap_stats ts;
	if (!rep->tagmap) {
		fputs("  \"tag_files\": null,\n", out);
		return;
	}
	pt_tagmap_stats(rep->tagmap, &ts);
	fprintf(out,
		"  \"tag_files\": {\"files\": %zu, \"lines\": %zu, \"entries\": %zu, \"patterns\": %zu"
		", \"irregular_lines\": %zu, \"skipped_lines\": %zu},\n",
		ts.files, ts.lines, ts.entries, ts.patterns, ts.irregular, ts.skipped);
}

/* Timeline of the charted entries (flagged, then the largest others). */
static void write_timeline(const struct pt_report *rep, FILE *out)
{
	size_t ns, set[MAX_SERIES], n[3];
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	uint32_t nb = pt_replay_nbuckets(rep->rp);
	pt_report_verdict_counts(rep, n);
	size_t want = n[PT_VERDICT_LEAK] + n[PT_VERDICT_SUSPECT] + TOP_EXTRA;
	size_t k = pt_report_chart_set(rep, set, want < MAX_SERIES ? want : MAX_SERIES);
	fprintf(out, "  \"timeline\": {\n    \"interval_s\": %.9f,\n    \"time_s\": [",
		secs(pt_replay_interval_ns(rep->rp)));
	for (uint32_t b = 0; b < nb; b++)
		fprintf(out, "%s%.6f", b ? ", " : "", secs(pt_report_bucket_end_ns(rep->rp, b)));
	fputs("],\n    \"series\": [", out);
	for (size_t i = 0; i < k; i++) {
		size_t s = set[i];
		char tag[PT_TAG_DISPLAY_MAX], hex[PT_TAG_MAX_LEN * 2 + 1];
		fputs(i ? ",\n      {\"tag\": " : "\n      {\"tag\": ", out);
		pt_json_string(out, pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag)));
		fprintf(out, ", \"tag_hex\": \"%s\", \"pool_type\": \"%s\", \"verdict\": ",
			pt_tags_hex(rep->tags, st[s].tag, hex, sizeof(hex)), pt_pool_id(st[s].pool));
		if (rep->verdicts)
			fprintf(out, "\"%s\"", pt_verdict_name(rep->verdicts[s].verdict));
		else
			fputs("null", out);
		static const char *const fields[] = {"bytes", "live", "allocs", "frees"};
		for (int f = 0; f < 4; f++) {
			fprintf(out, ", \"%s\": [", fields[f]);
			for (uint32_t b = 0; b < nb; b++) {
				struct pt_counts c;
				pt_tagstat_bucket(rep->rp, &st[s], b, &c);
				uint64_t v = f == 0 ? c.bytes : f == 1 ? c.live : f == 2 ? c.allocs : c.frees;
				fprintf(out, "%s%" PRIu64, b ? ", " : "", v);
			}
			fputc(']', out);
		}
		fputc('}', out);
	}
	fputs(k ? "\n    ]\n  },\n" : "]\n  },\n", out);
}

/* Live bytes by allocation stack, when the trace has stacks. */
static void write_stacks(const struct pt_report *rep, FILE *out, const struct pt_tag_verdict *v)
{
	fprintf(out,
		", \"stacks\": {\"distinct\": %u, \"live_without_stack\": %" PRIu64
		", \"bytes_without_stack\": %" PRIu64 ", \"top\": [",
		v->stacks_distinct, v->live_nostack, v->bytes_nostack);
	for (uint32_t i = 0; i < v->nstacks; i++) {
		uint32_t id = v->stacks[i].stack, n, pid;
		const uint64_t *f = pt_replay_stack(rep->rp, id, &n, &pid);
		fprintf(out, "%s{\"live\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"frames\": [",
			i ? ", " : "", v->stacks[i].live, v->stacks[i].bytes);
		for (uint32_t k = 0; k < n; k++) {
			char fb[160];
			if (k)
				fputs(", ", out);
			pt_json_string(out, pt_report_frame(rep, id, k, fb, sizeof(fb)));
		}
		fputs("], \"addresses\": [", out);
		for (uint32_t k = 0; k < n && f; k++)
			fprintf(out, "%s\"0x%" PRIx64 "\"", k ? ", " : "", f[k]);
		fputs("]", out);
		if (pid != PT_NONE32)
			fprintf(out, ", \"pid\": %u", pid);
		fputc('}', out);
	}
	fputs("]}", out);
}

/* Trend, age, processes and filter state of one verdict (docs/report-json.md). */
static void write_evidence(const struct pt_report *rep, FILE *out, const struct pt_tag_verdict *v)
{
	fprintf(out, ", \"residual_bytes\": %" PRId64 ", \"pattern\": ", v->residual_bytes);
	pt_json_string(out, pt_pattern_name(v->pattern));
	if (v->trend.valid)
		fprintf(out,
			", \"trend\": {\"windows\": %u, \"slope_bytes_per_s\": %.3f, \"ci95\": [%.3f, %.3f], "
			"\"late_slope_bytes_per_s\": %s%.3f, \"late_ci95\": [%.3f, %.3f]}",
			v->trend.windows, v->trend.slope, v->trend.slope_lo, v->trend.slope_hi, "",
			v->trend.late_valid ? v->trend.late_slope : 0.0,
			v->trend.late_valid ? v->trend.late_lo : 0.0,
			v->trend.late_valid ? v->trend.late_hi : 0.0);
	else
		fputs(", \"trend\": null", out);
	const struct pt_age *g = &v->age;
	fprintf(out,
		", \"age\": {\"live_before_workload\": %" PRIu64 ", \"bytes_before_workload\": %" PRIu64
		", \"live_inside_workload\": %" PRIu64 ", \"bytes_inside_workload\": %" PRIu64
		", \"live_after_workload\": %" PRIu64 ", \"bytes_after_workload\": %" PRIu64
		", \"histogram_count\": [",
		g->live_before, g->bytes_before, g->live_inside, g->bytes_inside, g->live_after,
		g->bytes_after);
	for (int i = 0; i < PT_AGE_BINS; i++)
		fprintf(out, "%s%" PRIu64, i ? ", " : "", g->hist_count[i]);
	fputs("], \"histogram_bytes\": [", out);
	for (int i = 0; i < PT_AGE_BINS; i++)
		fprintf(out, "%s%" PRIu64, i ? ", " : "", g->hist_bytes[i]);
	fputs("], \"oldest\": [", out);
	for (uint32_t i = 0; i < g->noldest; i++) {
		const struct pt_live_alloc *a = &g->oldest[i];
		fprintf(out, "%s{\"address\": \"0x%" PRIx64 "\", \"size\": %" PRIu64 ", \"time_s\": %.9f",
			i ? ", " : "", a->addr, a->size, (double)a->ts_ns / 1e9);
		if (a->pid != PT_NONE32)
			fprintf(out, ", \"pid\": %u", a->pid);
		if (a->tid != PT_NONE32)
			fprintf(out, ", \"tid\": %u", a->tid);
		fputc('}', out);
	}
	fputs("]}, \"processes\": [", out);
	for (uint32_t i = 0; i < v->npids; i++) {
		fputs(i ? ", {" : "{", out);
		if (v->pids[i].pid != PT_NONE32)
			fprintf(out, "\"pid\": %u, ", v->pids[i].pid);
		else
			fputs("\"pid\": null, ", out);
		fprintf(out, "\"live\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", v->pids[i].live,
			v->pids[i].bytes);
	}
	fputc(']', out);
	if (pt_replay_has_stacks(rep->rp))
		write_stacks(rep, out, v);
	fprintf(out, ", \"lost_events_matter\": %s, \"suppressed\": %s",
		v->lost_events_matter ? "true" : "false", v->suppressed ? "true" : "false");
	if (v->suppressed) {
		fputs(", \"suppression_reason\": ", out);
		pt_json_string(out, v->suppress_reason);
	}
}

static void write_tag(const struct pt_report *rep, FILE *out, size_t s)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	char tag[PT_TAG_DISPLAY_MAX], hex[PT_TAG_MAX_LEN * 2 + 1];
	struct pt_counts c;
	pt_report_counts(rep, s, &c);
	fputs("    {\"tag\": ", out);
	pt_json_string(out, pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag)));
	fprintf(out, ", \"tag_hex\": \"%s\", \"pool_type\": \"%s\", ",
		pt_tags_hex(rep->tags, st[s].tag, hex, sizeof(hex)), pt_pool_id(st[s].pool));
	fprintf(out,
		"\"allocs\": %" PRIu64 ", \"frees\": %" PRIu64 ", \"diff\": %" PRId64
		", \"bytes\": %" PRIu64 ", \"per_alloc\": %" PRIu64 ", \"live\": %" PRIu64 ", ",
		c.allocs, c.frees, pt_counts_diff(&c), c.bytes, pt_per_alloc(&c), c.live);
	fprintf(out,
		"\"peak_bytes\": %" PRIu64 ", \"peak_time_s\": %.9f, \"unmatched_frees\": %" PRIu64
		", \"double_allocs\": %" PRIu64 ", ",
		st[s].peak_bytes, secs(st[s].peak_ns), st[s].unmatched_frees, st[s].double_allocs);
	fprintf(out,
		"\"displaced_bytes\": %" PRIu64 ", \"alloc_bytes_total\": %" PRIu64
		", \"first_s\": %.9f, \"last_s\": %.9f, ",
		st[s].displaced_bytes, st[s].alloc_bytes_total, secs(st[s].first_ns), secs(st[s].last_ns));
	write_mapping(rep, out, s);
	if (rep->verdicts) {
		const struct pt_tag_verdict *v = &rep->verdicts[s];
		fprintf(out, "\"verdict\": \"%s\", \"score\": %.3f, \"reason\": ",
			pt_verdict_name(v->verdict), v->score);
		pt_json_string(out, v->reason);
		fprintf(out, ", \"growth_bytes\": %" PRId64 ", \"drained\": %.4f, ", v->growth_bytes,
			v->drained);
		fputs("\"at_workload_start\": ", out);
		counts_obj(out, &v->at_wstart);
		fputs(", \"at_workload_end\": ", out);
		counts_obj(out, &v->at_wend);
		fputs(", \"at_end\": ", out);
		counts_obj(out, &v->at_end);
		write_evidence(rep, out, v);
	} else {
		fputs("\"verdict\": null", out);
	}
	fputc('}', out);
}

static int json_write(const struct pt_report *rep, FILE *out)
{
	const struct pt_report_opts *o = rep->opts;
	fprintf(out, "{\n  \"schema\": \"pooltrace-report\",\n  \"schema_version\": %d,\n",
		SCHEMA_VERSION);
	fprintf(out, "  \"tool\": {\"name\": \"pooltrace\", \"version\": \"%s\"},\n",
		PT_VERSION_STRING);
	fputs("  \"command_line\": ", out);
	pt_json_string(out, o->command_line);
	fputs(",\n  \"input\": ", out);
	pt_json_string(out, o->input_name);
	fputs(",\n", out);
	write_meta(rep, out);
	write_totals(rep, out);
	write_phases(rep, out);
	write_tag_files(rep, out);
	write_timeline(rep, out);
	fprintf(out, "  \"table_time_s\": %.9f,\n",
		secs(o->has_at ? o->at_ns : pt_replay_end_ns(rep->rp)));
	fputs("  \"tags\": [\n", out);
	for (size_t i = 0; i < rep->nrows; i++) {
		write_tag(rep, out, rep->rows[i]);
		fputs(i + 1 < rep->nrows ? ",\n" : "\n", out);
	}
	fputs("  ],\n", out);
	struct pt_verdict_summary sum;
	pt_report_summary(rep, &sum);
	fprintf(out,
		"  \"summary\": {\"leak\": %zu, \"suspect\": %zu, \"ok\": %zu, \"suppressed\": %zu}\n}\n",
		sum.leak, sum.suspect, sum.ok, sum.suppressed);
	return ferror(out) ? PT_EIO : 0;
}

const struct pt_reporter_ops pt_reporter_json = {
	.name = "json",
	.description = "the whole report as one JSON document (docs/report-schema.json, docs/reports.md)",
	.write = json_write,
};
