/* SPDX-License-Identifier: MIT */
/* pooltrace top: PoolMon's screen replayed from a trace, with a time slider. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "pooltrace/tagmap.h"
#include "pooltrace/topview.h"
#include "top.h"

enum {
	OPT_ONCE = PT_OPT_FIRST_CMD_OPT_,
	OPT_AT,
	OPT_SPEED,
	OPT_PAUSED,
	OPT_SORT,
	OPT_ASC,
	OPT_BY_CHANGE,
	OPT_POOL,
	OPT_TOTALS,
	OPT_FILTER,
	OPT_REFRESH,
	OPT_WIDTH,
	OPT_LINES,
	OPT_TAG_FILE,
};

static const struct pt_opt top_opts[] = {
	{"once", 0, NULL, OPT_ONCE, "off",
	 "print one screen to standard output and exit (no terminal needed)"},
	{"at", 0, "TIME", OPT_AT, "trace start (--once: trace end)",
	 "show the table at this time from trace start"},
	{"speed", 0, "FACTOR", OPT_SPEED, "auto (whole trace in about 30 s)",
	 "playback speed: trace seconds per wall-clock second (0.5, 10, 60x)"},
	{"paused", 0, NULL, OPT_PAUSED, "off", "start paused"},
	{"sort", 's', "KEY", OPT_SORT, "bytes",
	 "sort rows by tag, allocs, frees, diff, bytes or per-alloc (PoolMon letters t a f d b m)"},
	{"ascending", 0, NULL, OPT_ASC, "off", "smallest first (tags: Z to A)"},
	{"by-change", 0, NULL, OPT_BY_CHANGE, "off",
	 "sort by the change of the sort column (PoolMon /( )"},
	{"pool", 'p', "WHICH", OPT_POOL, "both", "pools shown: paged, nonpaged or both"},
	{"totals", 'e', NULL, OPT_TOTALS, "off", "show the totals line (PoolMon /e)"},
	{"filter", 'i', "PATTERN", OPT_FILTER, "all tags",
	 "show only tags matching PATTERN (* and ? wildcards, case-sensitive; PoolMon /i)"},
	{"refresh", 0, "TIME", OPT_REFRESH, "1s", "wall-clock time between refreshes while playing"},
	{"width", 0, "N", OPT_WIDTH, "no limit", "--once: cut lines to N columns"},
	{"lines", 0, "N", OPT_LINES, "all rows", "--once: print an N-line screen"},
	{"tag-file", 'g', "FILE", OPT_TAG_FILE, "none",
	 "pooltag.txt-style tag to driver list for the Mapped_Driver column (repeatable; PoolMon /g)"},
	{NULL, 0, NULL, 0, NULL, NULL},
};

#define MAX_TAG_FILES 32

struct top_args {
	struct pt_topview_opts vo;
	bool once;
	uint64_t refresh_ns;
	int width, lines;
	const char *tag_files[MAX_TAG_FILES];
	size_t ntag_files;
};

static int parse_count(const char *opt, const char *arg, int *out)
{
	uint64_t v;
	if (pt_parse_size(arg, &v) < 0 || v > 100000) {
		fprintf(stderr, "pooltrace top: %s takes a number, not '%s'\n", opt, arg);
		return PT_EUSAGE;
	}
	*out = (int)v;
	return 0;
}

static int on_opt(void *ctx, int id, const char *arg)
{
	struct top_args *a = ctx;
	uint64_t v;
	char *end;
	switch (id) {
	case OPT_ONCE:
		a->once = true;
		return 0;
	case OPT_AT:
		if (pt_parse_duration(arg, &v) < 0) {
			fprintf(stderr, "pooltrace top: '%s' is not a time (examples: 90, 1.5s, 30m)\n", arg);
			return PT_EUSAGE;
		}
		a->vo.has_at = true;
		a->vo.at_ns = v;
		return 0;
	case OPT_SPEED:
		if (!strcmp(arg, "auto")) {
			a->vo.speed = 0;
			return 0;
		}
		a->vo.speed = strtod(arg, &end);
		if (end == arg || (*end && strcmp(end, "x")) || !(a->vo.speed > 0) ||
		    a->vo.speed > 1e9) {
			fprintf(stderr, "pooltrace top: --speed takes a positive factor (0.5, 10, 60x) or auto, not '%s'\n",
				arg);
			return PT_EUSAGE;
		}
		return 0;
	case OPT_PAUSED:
		a->vo.paused = true;
		return 0;
	case OPT_SORT:
		if (pt_sort_parse(arg, &a->vo.sort) < 0) {
			fprintf(stderr, "pooltrace top: --sort takes tag, allocs, frees, diff, bytes or per-alloc, not '%s'\n",
				arg);
			return PT_EUSAGE;
		}
		return 0;
	case OPT_ASC:
		a->vo.ascending = true;
		return 0;
	case OPT_BY_CHANGE:
		a->vo.sort_by_change = true;
		return 0;
	case OPT_POOL:
		if (!strcmp(arg, "paged"))
			a->vo.pools = PT_POOLSEL_PAGED;
		else if (!strcmp(arg, "nonpaged"))
			a->vo.pools = PT_POOLSEL_NONPAGED;
		else if (!strcmp(arg, "both"))
			a->vo.pools = PT_POOLSEL_BOTH;
		else {
			fprintf(stderr, "pooltrace top: --pool takes paged, nonpaged or both, not '%s'\n", arg);
			return PT_EUSAGE;
		}
		return 0;
	case OPT_TOTALS:
		a->vo.totals = true;
		return 0;
	case OPT_FILTER:
		if (strlen(arg) > PT_TAG_MAX_LEN * 2) {
			fprintf(stderr, "pooltrace top: --filter pattern too long\n");
			return PT_EUSAGE;
		}
		a->vo.filter = arg;
		return 0;
	case OPT_REFRESH:
		if (pt_parse_duration(arg, &v) < 0 || v < 10000000ull || v > 3600000000000ull) {
			fprintf(stderr, "pooltrace top: --refresh takes a time from 10ms to 1h, not '%s'\n", arg);
			return PT_EUSAGE;
		}
		a->refresh_ns = v;
		return 0;
	case OPT_WIDTH:
		return parse_count("--width", arg, &a->width);
	case OPT_LINES:
		return parse_count("--lines", arg, &a->lines);
	case OPT_TAG_FILE:
		if (a->ntag_files == MAX_TAG_FILES) {
			fprintf(stderr, "pooltrace top: at most %d --tag-file options\n", MAX_TAG_FILES);
			return PT_EUSAGE;
		}
		a->tag_files[a->ntag_files++] = arg;
		return 0;
	default:
		return PT_EUSAGE;
	}
}

static const char usage[] = "pooltrace top [OPTIONS] TRACE";
static const char intro[] =
	"PoolMon's screen over a recorded trace (any input format): per-tag Allocs,\n"
	"Frees, Diff, Bytes and Per Alloc with the \"( )\" change since the previous\n"
	"refresh, played from trace start at --speed, forwards and backwards.\n\n"
	"Keys (either case): P pools nonpaged/paged/both; sort T tag, A allocs, F frees,\n"
	"S or D diff, B bytes, M per alloc (again: reverse); ( ) sort by change;\n"
	"E totals; / tag filter; space play/pause; Left/Right one interval; [ ] speed;\n"
	"Home/End; W workload end; C end of the cool-down; ? help; Q quit.\n\n"
	"--once prints one screen to standard output without a terminal (scriptable);\n"
	"its ( ) columns are the change over the interval before --at.";

struct once_ctx {
	FILE *out;
	int y; /* next line to print */
};

static void once_line(void *ctx, int y, unsigned attr, const char *text)
{
	struct once_ctx *o = ctx;
	(void)attr;
	for (; o->y < y; o->y++) /* blank lines of a --lines screen */
		fputc('\n', o->out);
	o->y = y + 1;
	fputs(text, o->out);
	fputc('\n', o->out);
}

static int run(int argc, char **argv)
{
	struct pt_cli_common common;
	struct top_args a;
	int optind_;
	int ret = PT_EXIT_USAGE;
	struct pt_loaded l;
	struct pt_topview *v = NULL;
	struct pt_tagmap *tagmap = NULL;
	char err[600];

	memset(&l, 0, sizeof(l));
	pt_cli_common_init(&common);
	memset(&a, 0, sizeof(a));
	pt_topview_opts_init(&a.vo);
	a.refresh_ns = 1000000000ull;
	int rc = pt_cli_parse(argc, argv, usage, intro, top_opts, &common, on_opt, &a, &optind_);
	if (rc == 1)
		return PT_EXIT_OK;
	if (rc < 0)
		return PT_EXIT_USAGE;
	if (optind_ != argc - 1) {
		fprintf(stderr, "pooltrace top: give exactly one TRACE (try --help)\n");
		return PT_EXIT_USAGE;
	}
	const char *path = argv[optind_];
	if (a.ntag_files) {
		tagmap = pt_tagmap_new();
		if (!tagmap) {
			fprintf(stderr, "pooltrace: out of memory\n");
			return PT_EXIT_USAGE;
		}
		for (size_t i = 0; i < a.ntag_files; i++) {
			if (pt_tagmap_load_file(tagmap, a.tag_files[i], err, sizeof(err)) < 0) {
				fprintf(stderr, "pooltrace: %s\n", err);
				pt_tagmap_free(tagmap);
				return PT_EXIT_USAGE;
			}
		}
	}
	/* the replay records the table at --at exactly */
	common.rpopts.has_at = a.vo.has_at;
	common.rpopts.at_ns = a.vo.at_ns;
	if (pt_cli_load(path, &common, &l) < 0) {
		pt_tagmap_free(tagmap);
		return PT_EXIT_USAGE;
	}

	a.vo.rp = l.rp;
	a.vo.verdicts = l.verdicts;
	a.vo.meta = pt_reader_meta(l.reader);
	a.vo.input_name = path;
	a.vo.tagmap = tagmap;
	a.vo.once = a.once;
	a.vo.at_captured = a.vo.has_at;
	if (a.once && !a.vo.has_at) {
		a.vo.has_at = true;
		a.vo.at_ns = pt_replay_end_ns(l.rp);
	}
	v = pt_topview_new(&a.vo);
	if (!v) {
		fprintf(stderr, "pooltrace: out of memory\n");
		goto out;
	}
	if (a.once) {
		struct once_ctx oc = {stdout, 0};
		pt_topview_render(v, a.width, a.lines, once_line, &oc);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "pooltrace top: cannot write to standard output\n");
			goto out;
		}
		ret = PT_EXIT_OK;
		goto out;
	}
	if (pt__top_curses(v, a.refresh_ns) < 0)
		goto out;
	ret = PT_EXIT_OK;
out:
	pt_topview_free(v);
	pt_loaded_release(&l);
	pt_tagmap_free(tagmap);
	return ret;
}

const struct pt_cmd pt_cmd_top = {
	.name = "top",
	.summary = "PoolMon's screen replayed from a trace, with a time slider",
	.run = run,
};
