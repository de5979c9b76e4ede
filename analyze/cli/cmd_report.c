/* SPDX-License-Identifier: MIT */
/* pooltrace report: replay a trace, print the PoolMon-style table and the leak verdicts. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"

enum {
	OPT_FORMAT = PT_OPT_FIRST_CMD_OPT_,
	OPT_JSON,
	OPT_OUTPUT,
	OPT_SORT,
	OPT_ASC,
	OPT_POOL,
	OPT_TOTALS,
	OPT_DELTAS,
	OPT_AT,
	OPT_LIMIT,
	OPT_FAIL_ON,
	OPT_COLOR,
	OPT_TAG_FILE,
	OPT_CSV_KIND,
};

static const struct pt_opt report_opts[] = {
	{"format", 'f', "FMT", OPT_FORMAT, "text", "output format: text, md, html, csv, json"},
	{"json", 0, NULL, OPT_JSON, NULL, "same as --format json"},
	{"output", 'o', "FILE", OPT_OUTPUT, "standard output",
	 "write the report to FILE (written to a temporary file, then renamed)"},
	{"sort", 's', "KEY", OPT_SORT, "bytes",
	 "sort rows by tag, allocs, frees, diff, bytes or per-alloc (PoolMon letters t a f d b m)"},
	{"ascending", 0, NULL, OPT_ASC, "off", "smallest first (tags: Z to A)"},
	{"pool", 'p', "WHICH", OPT_POOL, "both", "pools shown: paged, nonpaged or both"},
	{"totals", 'e', NULL, OPT_TOTALS, "off", "add a totals line (PoolMon /e)"},
	{"deltas", 'd', NULL, OPT_DELTAS, "off",
	 "show \"( )\" change columns against one interval earlier"},
	{"at", 0, "TIME", OPT_AT, "trace end", "show the table at this time from trace start"},
	{"limit", 'n', "N", OPT_LIMIT, "all", "show at most N rows"},
	{"fail-on", 0, "LEVEL", OPT_FAIL_ON, "leak",
	 "exit 1 when a tag is judged at least LEVEL: leak, suspect or never"},
	{"color", 0, "WHEN", OPT_COLOR, "auto", "colour: auto (a terminal without NO_COLOR), always, never"},
	{"tag-file", 'g', "FILE", OPT_TAG_FILE, "none",
	 "pooltag.txt-style tag to driver list for the Mapped_Driver column (repeatable; later files add to earlier ones)"},
	{"csv-kind", 0, "KIND", OPT_CSV_KIND, "summary",
	 "CSV content: summary (one row per tag) or series (per-tag time series, long format)"},
	{NULL, 0, NULL, 0, NULL, NULL},
};

#define MAX_TAG_FILES 32

struct report_args {
	const char *format;
	const char *output;
	struct pt_report_opts ro;
	int fail_on; /* PT_VERDICT_LEAK, PT_VERDICT_SUSPECT, or -1 never */
	int color;   /* -1 auto, 0 never, 1 always */
	const char *tag_files[MAX_TAG_FILES];
	size_t ntag_files;
};

static int on_opt(void *ctx, int id, const char *arg)
{
	struct report_args *a = ctx;
	uint64_t v;
	switch (id) {
	case OPT_FORMAT:
		if (!pt_reporter_find(arg)) {
			fprintf(stderr, "pooltrace report: unknown format '%s'; known:", arg);
			for (const struct pt_reporter_ops *const *r = pt_reporter_list(); *r; r++)
				fprintf(stderr, " %s", (*r)->name);
			fputc('\n', stderr);
			return PT_EUSAGE;
		}
		a->format = arg;
		return 0;
	case OPT_JSON:
		a->format = "json";
		return 0;
	case OPT_OUTPUT:
		a->output = arg;
		return 0;
	case OPT_SORT:
		if (pt_sort_parse(arg, &a->ro.sort) < 0) {
			fprintf(stderr, "pooltrace report: --sort takes tag, allocs, frees, diff, bytes or per-alloc, not '%s'\n",
				arg);
			return PT_EUSAGE;
		}
		return 0;
	case OPT_ASC:
		a->ro.sort_ascending = true;
		return 0;
	case OPT_POOL:
		if (!strcmp(arg, "paged"))
			a->ro.pools = PT_POOLSEL_PAGED;
		else if (!strcmp(arg, "nonpaged"))
			a->ro.pools = PT_POOLSEL_NONPAGED;
		else if (!strcmp(arg, "both"))
			a->ro.pools = PT_POOLSEL_BOTH;
		else {
			fprintf(stderr, "pooltrace report: --pool takes paged, nonpaged or both, not '%s'\n", arg);
			return PT_EUSAGE;
		}
		return 0;
	case OPT_TOTALS:
		a->ro.totals = true;
		return 0;
	case OPT_DELTAS:
		a->ro.deltas = true;
		return 0;
	case OPT_AT:
		if (pt_parse_duration(arg, &v) < 0) {
			fprintf(stderr, "pooltrace report: '%s' is not a time (examples: 90, 1.5s, 30m)\n", arg);
			return PT_EUSAGE;
		}
		a->ro.has_at = true;
		a->ro.at_ns = v;
		return 0;
	case OPT_LIMIT:
		if (pt_parse_size(arg, &v) < 0 || v == 0) {
			fprintf(stderr, "pooltrace report: --limit takes a positive number, not '%s'\n", arg);
			return PT_EUSAGE;
		}
		a->ro.limit = (size_t)v;
		return 0;
	case OPT_FAIL_ON:
		if (!strcmp(arg, "leak"))
			a->fail_on = PT_VERDICT_LEAK;
		else if (!strcmp(arg, "suspect"))
			a->fail_on = PT_VERDICT_SUSPECT;
		else if (!strcmp(arg, "never"))
			a->fail_on = -1;
		else {
			fprintf(stderr, "pooltrace report: --fail-on takes leak, suspect or never, not '%s'\n", arg);
			return PT_EUSAGE;
		}
		return 0;
	case OPT_COLOR:
		if (!strcmp(arg, "auto"))
			a->color = -1;
		else if (!strcmp(arg, "always"))
			a->color = 1;
		else if (!strcmp(arg, "never"))
			a->color = 0;
		else {
			fprintf(stderr, "pooltrace report: --color takes auto, always or never, not '%s'\n", arg);
			return PT_EUSAGE;
		}
		return 0;
	case OPT_TAG_FILE:
		if (a->ntag_files == MAX_TAG_FILES) {
			fprintf(stderr, "pooltrace report: at most %d --tag-file options\n", MAX_TAG_FILES);
			return PT_EUSAGE;
		}
		a->tag_files[a->ntag_files++] = arg;
		return 0;
	case OPT_CSV_KIND:
		if (!strcmp(arg, "summary"))
			a->ro.csv_series = false;
		else if (!strcmp(arg, "series"))
			a->ro.csv_series = true;
		else {
			fprintf(stderr, "pooltrace report: --csv-kind takes summary or series, not '%s'\n", arg);
			return PT_EUSAGE;
		}
		return 0;
	default:
		return PT_EUSAGE;
	}
}

static const char usage[] = "pooltrace report [OPTIONS] TRACE";
static const char intro[] =
	"Replays TRACE (tracerpt XML, .etl, xperf text, PoolMon logs, ftrace, native;\n"
	"plain or gzip; '-' reads standard input) and prints per-tag Allocs, Frees, Diff,\n"
	"Bytes and Per Alloc as PoolMon does, then a verdict for every tag.\n\n"
	"Leak rule: a tag whose outstanding bytes grew during the workload (workload\n"
	"start to workload end) and of which less than 10% was freed by the end of the\n"
	"trace (the cool-down) is a leak; 10-50% freed, or no cool-down at all, is a\n"
	"suspect; 50% or more freed is ok. Growth below --min-leak-bytes is ok.\n"
	"Workload end comes from --workload-end, else a 'workload-end' marker in the\n"
	"trace, else the last quarter of the trace is taken as the cool-down.\n\n"
	"Exit status: 0 nothing at or above --fail-on, 1 a tag flagged, 2 usage or input error.";

static int run(int argc, char **argv)
{
	struct pt_cli_common common;
	struct report_args a;
	int optind_;
	int rc, ret = PT_EXIT_USAGE;
	struct pt_loaded l;
	struct pt_outfile of;
	size_t *rows = NULL;
	char *cmdline = NULL;
	char err[600];
	struct pt_tagmap *tagmap = NULL;

	memset(&l, 0, sizeof(l));
	memset(&of, 0, sizeof(of));
	pt_cli_common_init(&common);
	memset(&a, 0, sizeof(a));
	a.format = "text";
	a.ro.sort = PT_SORT_BYTES;
	a.fail_on = PT_VERDICT_LEAK;
	a.color = -1;
	rc = pt_cli_parse(argc, argv, usage, intro, report_opts, &common, on_opt, &a, &optind_);
	if (rc == 1)
		return PT_EXIT_OK;
	if (rc < 0) {
		pt_cli_common_release(&common);
		return PT_EXIT_USAGE;
	}
	if (optind_ != argc - 1) {
		fprintf(stderr, "pooltrace report: give exactly one TRACE (try --help)\n");
		pt_cli_common_release(&common);
		return PT_EXIT_USAGE;
	}
	const char *path = argv[optind_];
	if (a.ntag_files) {
		tagmap = pt_tagmap_new();
		if (!tagmap) {
			fprintf(stderr, "pooltrace: out of memory\n");
			pt_cli_common_release(&common);
			return PT_EXIT_USAGE;
		}
		for (size_t i = 0; i < a.ntag_files; i++) {
			if (pt_tagmap_load_file(tagmap, a.tag_files[i], err, sizeof(err)) < 0) {
				fprintf(stderr, "pooltrace: %s\n", err);
				pt_tagmap_free(tagmap);
				pt_cli_common_release(&common);
				return PT_EXIT_USAGE;
			}
		}
		struct pt_tagmap_stats ts;
		pt_tagmap_stats(tagmap, &ts);
		if (ts.skipped && !common.quiet)
			fprintf(stderr, "pooltrace: tag files: %zu entries, %zu irregular lines (%zu unreadable, skipped)\n",
				ts.entries, ts.irregular, ts.skipped);
	}
	common.rpopts.has_at = a.ro.has_at; /* the replay records the table at --at exactly */
	common.rpopts.at_ns = a.ro.at_ns;
	if (pt_cli_load(path, &common, &l) < 0) {
		pt_tagmap_free(tagmap);
		pt_cli_common_release(&common);
		return PT_EXIT_USAGE;
	}

	if (pt_outfile_open(&of, a.output, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltrace: %s\n", err);
		goto out;
	}
	bool to_tty = !a.output && isatty(1);
	if (a.color < 0)
		a.ro.color = to_tty && !getenv("NO_COLOR") && strcmp(a.format, "text") == 0;
	else
		a.ro.color = a.color == 1;
	cmdline = pt_cli_command_line(argc, argv);
	a.ro.command_line = cmdline;
	a.ro.filter = common.filter;
	a.ro.input_name = path;
	size_t nrows;
	if (pt_report_rows(l.rp, &a.ro, &rows, &nrows) < 0) {
		fprintf(stderr, "pooltrace: out of memory\n");
		pt_outfile_abort(&of);
		goto out;
	}
	struct pt_report rep = {
		.rp = l.rp,
		.tags = l.tags,
		.meta = pt_reader_meta(l.reader),
		.verdicts = l.verdicts,
		.opts = &a.ro,
		.rows = rows,
		.nrows = nrows,
		.reader_skipped_bad = l.reader->skipped_bad,
		.reader_skipped_other = l.reader->skipped_other,
		.reader_warnings = l.reader->warnings,
		.incomplete = l.reader->cut_short ? l.reader->cut_short_msg : NULL,
		.tagmap = tagmap,
	};
	rc = pt_reporter_find(a.format)->write(&rep, of.fp);
	if (rc < 0) {
		fprintf(stderr, "pooltrace: cannot write the report: %s\n", pt_strerror(rc));
		pt_outfile_abort(&of);
		goto out;
	}
	if (pt_outfile_commit(&of, err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltrace: %s\n", err);
		goto out;
	}
	ret = PT_EXIT_OK;
	if (a.fail_on >= 0 && (int)pt_cli_worst_verdict(&l) >= a.fail_on)
		ret = PT_EXIT_LEAK;
out:
	free(rows);
	free(cmdline);
	pt_tagmap_free(tagmap);
	pt_loaded_release(&l);
	pt_cli_common_release(&common);
	return ret;
}

const struct pt_cmd pt_cmd_report = {
	.name = "report",
	.summary = "per-tag table and leak verdicts for a trace",
	.run = run,
};
