/* SPDX-License-Identifier: MIT */
/*
 * JSON reporter. The document is described in docs/report-json.md;
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
	fprintf(out, ",\n    \"snapshot_only\": %s\n  },\n", m->snapshot_only ? "true" : "false");
}

static void write_totals(const struct pt_report *rep, FILE *out)
{
	const struct pt_replay_totals *t = pt_replay_totals(rep->rp);
	fprintf(out,
		"  \"totals\": {\"events\": %" PRIu64 ", \"allocs\": %" PRIu64 ", \"frees\": %" PRIu64
		", \"markers\": %" PRIu64 ", \"snapshot_rows\": %" PRIu64
		", \"unmatched_frees\": %" PRIu64 ", \"double_allocs\": %" PRIu64
		", \"null_frees\": %" PRIu64 ", \"live\": %" PRIu64 ", \"live_not_tracked\": %" PRIu64
		", \"bad_events_skipped\": %" PRIu64 ", \"other_events_skipped\": %" PRIu64 "},\n",
		t->events, t->allocs, t->frees, t->markers, t->snapshots, t->unmatched_frees,
		t->double_allocs, t->null_frees, t->live, t->live_dropped, rep->reader_skipped_bad,
		rep->reader_skipped_other);
}

static void write_phases(const struct pt_report *rep, FILE *out)
{
	const struct pt_phases *ph = pt_replay_phases(rep->rp);
	fprintf(out, "  \"phases\": {\"workload_start_s\": %.9f, \"workload_start_source\": \"%s\", ",
		secs(ph->wstart_ns), pt_phase_source_name(ph->wstart_src));
	fprintf(out, "\"workload_end_s\": %.9f, \"workload_end_source\": \"%s\", ",
		secs(ph->wend_ns), pt_phase_source_name(ph->wend_src));
	fprintf(out, "\"trace_end_s\": %.9f, \"interval_s\": %.9f},\n",
		secs(pt_replay_end_ns(rep->rp)), secs(pt_replay_interval_ns(rep->rp)));
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
	fprintf(out, "  \"table_time_s\": %.9f,\n",
		secs(o->has_at ? o->at_ns : pt_replay_end_ns(rep->rp)));
	fputs("  \"tags\": [\n", out);
	for (size_t i = 0; i < rep->nrows; i++) {
		write_tag(rep, out, rep->rows[i]);
		fputs(i + 1 < rep->nrows ? ",\n" : "\n", out);
	}
	fputs("  ],\n", out);
	size_t ns, n[3] = {0, 0, 0};
	pt_replay_stats(rep->rp, &ns);
	for (size_t s = 0; rep->verdicts && s < ns; s++)
		n[rep->verdicts[s].verdict]++;
	fprintf(out, "  \"summary\": {\"leak\": %zu, \"suspect\": %zu, \"ok\": %zu}\n}\n",
		n[PT_VERDICT_LEAK], n[PT_VERDICT_SUSPECT], n[PT_VERDICT_OK]);
	return ferror(out) ? PT_EIO : 0;
}

const struct pt_reporter_ops pt_reporter_json = {
	.name = "json",
	.description = "the whole report as one JSON document (docs/report-json.md)",
	.write = json_write,
};
