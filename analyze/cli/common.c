/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"

/* Options shared by report, top, diff and every command that replays a trace. */
static const struct pt_opt analysis_opts[] = {
	{"input-format", 'F', "NAME", PT_OPT_INPUT_FORMAT, "auto (by content)",
	 "force the trace reader (see 'pooltrace formats')"},
	{"keep-going", 'k', NULL, PT_OPT_KEEP_GOING, "off",
	 "skip malformed events (counted) instead of stopping at the first"},
	{"quiet", 'q', NULL, PT_OPT_QUIET, "off", "no warnings or progress on stderr"},
	{"workload-start", 0, "TIME", PT_OPT_WSTART, "a marker, else trace start",
	 "workload start, time from trace start (90, 1.5s, 30m, 2h)"},
	{"workload-end", 0, "TIME", PT_OPT_WEND, "a marker, else 3/4 of the trace",
	 "workload end, time from trace start; after it the cool-down"},
	{"interval", 0, "TIME", PT_OPT_INTERVAL, "about 100 points over the trace",
	 "timeline interval"},
	{"min-leak-bytes", 0, "SIZE", PT_OPT_MIN_LEAK, "1",
	 "growth below this is never flagged (4096, 64k, 1M)"},
	{"snapshot-interval", 0, "TIME", PT_OPT_SNAP_INTERVAL, "times from the log",
	 "time between PoolMon snapshots when the log has no times (1800, 30m)"},
	{"max-live", 0, "N", PT_OPT_MAX_LIVE, "100000000",
	 "cap on live allocations tracked at once"},
	{"tags", 't', "PATTERNS", PT_OPT_TAGS, "all",
	 "only tags matching these comma-separated PoolMon patterns (* and ?, case-sensitive)"},
	{"exclude", 'x', "PATTERNS", PT_OPT_EXCLUDE, "none", "leave out tags matching these patterns"},
	{"suppress", 0, "FILE", PT_OPT_SUPPRESS, "none",
	 "suppression file: 'PATTERN reason' per line; matching leaks are shown but do not fail"},
	{"min-confidence", 0, "SCORE", PT_OPT_MIN_CONFIDENCE, "0",
	 "leaks scored below SCORE (0 to 1) are reported as suspects"},
	{"max-line", 0, "SIZE", PT_OPT_MAX_LINE, "1M", "text traces: longest line accepted"},
	{"max-decompressed", 0, "SIZE", PT_OPT_MAX_DECOMPRESSED, "256M",
	 "largest decompressed ETL buffer or native chunk"},
	{"max-tags", 0, "N", PT_OPT_MAX_TAGS, "1000000", "cap on distinct pool tags"},
	{"max-xml-depth", 0, "N", PT_OPT_MAX_XML_DEPTH, "256", "XML traces: deepest element nesting"},
	{"max-xml-node", 0, "SIZE", PT_OPT_MAX_XML_NODE, "8M",
	 "XML traces: longest tag or text between tags"},
	{NULL, 0, NULL, 0, NULL, NULL},
};

static const struct pt_opt help_opt[] = {
	{"help", 'h', NULL, PT_OPT_HELP, NULL, "show this help and exit"},
	{NULL, 0, NULL, 0, NULL, NULL},
};

void pt_cli_common_init(struct pt_cli_common *c)
{
	memset(c, 0, sizeof(*c));
	pt_verdict_opts_init(&c->vopts);
}

static void help_table(FILE *out, const struct pt_opt *o)
{
	for (; o->name; o++) {
		char left[64];
		if (o->letter)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->letter, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(out, "  %-28s %s", left, o->help);
		if (o->def)
			fprintf(out, " [default: %s]", o->def);
		fputc('\n', out);
	}
}

void pt_cli_help(FILE *out, const char *usage, const char *intro, const struct pt_opt *cmd_opts,
		 bool analysis)
{
	fprintf(out, "usage: %s\n\n%s\n\nOptions:\n", usage, intro);
	if (cmd_opts)
		help_table(out, cmd_opts);
	if (analysis) {
		fputs("\nTrace and phase options:\n", out);
		help_table(out, analysis_opts);
	}
	help_table(out, help_opt);
}

static size_t count_opts(const struct pt_opt *o)
{
	size_t n = 0;
	while (o && o[n].name)
		n++;
	return n;
}

static void add_opts(struct option *lo, size_t *n, char *shorts, size_t *ns,
		     const struct pt_opt *o)
{
	for (; o && o->name; o++) {
		lo[*n].name = o->name;
		lo[*n].has_arg = o->arg ? required_argument : no_argument;
		lo[*n].flag = NULL;
		lo[*n].val = o->letter ? o->letter : o->id;
		(*n)++;
		if (o->letter) {
			shorts[(*ns)++] = (char)o->letter;
			if (o->arg)
				shorts[(*ns)++] = ':';
		}
	}
}

static const struct pt_opt *by_val(const struct pt_opt *o, int val)
{
	for (; o && o->name; o++)
		if ((o->letter && o->letter == val) || o->id == val)
			return o;
	return NULL;
}

int pt_cli_limit_opt(struct pt_reader_opts *ropts, uint64_t *max_tags, int id, const char *arg)
{
	uint64_t v;
	if (id < PT_OPT_MAX_LINE || id > PT_OPT_MAX_XML_NODE)
		return 1;
	if (pt_parse_size(arg, &v) < 0 || v == 0) {
		fprintf(stderr, "pooltrace: '%s' is not a positive size or count (examples: 4096, 64k, 1M)\n",
			arg);
		return PT_EUSAGE;
	}
	switch (id) {
	case PT_OPT_MAX_LINE:
		ropts->max_line = v;
		break;
	case PT_OPT_MAX_DECOMPRESSED:
		ropts->max_decompressed = v;
		break;
	case PT_OPT_MAX_TAGS:
		*max_tags = v;
		break;
	case PT_OPT_MAX_XML_DEPTH:
		ropts->max_xml_depth = v;
		break;
	default:
		ropts->max_xml_node = v;
		break;
	}
	return 0;
}

void pt_cli_limit_hint(const struct pt_reader_opts *ropts, uint64_t max_tags)
{
	fprintf(stderr,
		"pooltrace: a safety cap was hit; if the trace is genuine, raise it: --max-line (%llu), "
		"--max-decompressed (%llu), --max-tags (%llu), --max-xml-depth (%llu), "
		"--max-xml-node (%llu)\n",
		(unsigned long long)(ropts->max_line ? ropts->max_line : 1u << 20),
		(unsigned long long)(ropts->max_decompressed ? ropts->max_decompressed : 256u << 20),
		(unsigned long long)(max_tags ? max_tags : 1000000),
		(unsigned long long)(ropts->max_xml_depth ? ropts->max_xml_depth : 256),
		(unsigned long long)(ropts->max_xml_node ? ropts->max_xml_node : 8u << 20));
}

static int common_opt(struct pt_cli_common *c, int id, const char *arg)
{
	uint64_t v;
	int lr = pt_cli_limit_opt(&c->ropts, &c->max_tags, id, arg);
	if (lr <= 0)
		return lr;
	switch (id) {
	case PT_OPT_INPUT_FORMAT:
		if (!pt_reader_find(arg)) {
			fprintf(stderr, "pooltrace: unknown input format '%s'; known:", arg);
			for (const struct pt_reader_ops *const *r = pt_reader_list(); *r; r++)
				fprintf(stderr, " %s", (*r)->name);
			fputc('\n', stderr);
			return PT_EUSAGE;
		}
		c->input_format = arg;
		return 0;
	case PT_OPT_KEEP_GOING:
		c->ropts.keep_going = true;
		return 0;
	case PT_OPT_QUIET:
		c->quiet = true;
		c->ropts.quiet = true;
		return 0;
	case PT_OPT_WSTART:
	case PT_OPT_WEND:
	case PT_OPT_INTERVAL:
	case PT_OPT_SNAP_INTERVAL:
		if (pt_parse_duration(arg, &v) < 0 || (id == PT_OPT_INTERVAL && v == 0) ||
		    (id == PT_OPT_SNAP_INTERVAL && v == 0)) {
			fprintf(stderr, "pooltrace: '%s' is not a time (examples: 90, 1.5s, 250ms, 30m, 2h)\n",
				arg);
			return PT_EUSAGE;
		}
		if (id == PT_OPT_WSTART)
			c->rpopts.has_wstart = true, c->rpopts.wstart_ns = v;
		else if (id == PT_OPT_WEND)
			c->rpopts.has_wend = true, c->rpopts.wend_ns = v;
		else if (id == PT_OPT_INTERVAL)
			c->rpopts.interval_ns = v;
		else
			c->ropts.snapshot_interval_s = (double)v / 1e9;
		return 0;
	case PT_OPT_MIN_LEAK:
	case PT_OPT_MAX_LIVE:
		if (pt_parse_size(arg, &v) < 0 || (id == PT_OPT_MAX_LIVE && v == 0)) {
			fprintf(stderr, "pooltrace: '%s' is not a size or count (examples: 4096, 64k, 1M)\n",
				arg);
			return PT_EUSAGE;
		}
		if (id == PT_OPT_MIN_LEAK)
			c->vopts.min_leak_bytes = v;
		else
			c->rpopts.max_live = v;
		return 0;
	case PT_OPT_TAGS:
	case PT_OPT_EXCLUDE:
	case PT_OPT_SUPPRESS: {
		char err[512];
		if (!c->filter && !(c->filter = pt_tagfilter_new()))
			return PT_ENOMEM;
		int rc = id == PT_OPT_SUPPRESS ?
				 pt_tagfilter_load_suppressions(c->filter, arg, err, sizeof(err)) :
				 pt_tagfilter_add(c->filter, arg, id == PT_OPT_EXCLUDE);
		if (rc < 0) {
			if (id == PT_OPT_SUPPRESS)
				fprintf(stderr, "pooltrace: %s\n", err);
			else
				fprintf(stderr, "pooltrace: '%s' is not a list of tag patterns (e.g. Leak,Mm*,Ab?d)\n", arg);
			return PT_EUSAGE;
		}
		return 0;
	}
	case PT_OPT_MIN_CONFIDENCE: {
		char *end;
		double d = strtod(arg, &end);
		if (end == arg || *end || !(d >= 0 && d <= 1)) {
			fprintf(stderr, "pooltrace: --min-confidence takes a number from 0 to 1, not '%s'\n", arg);
			return PT_EUSAGE;
		}
		c->vopts.min_score = d;
		return 0;
	}
	default:
		return 1;
	}
}

void pt_cli_common_release(struct pt_cli_common *c)
{
	pt_tagfilter_free(c->filter);
	c->filter = NULL;
}

enum pt_verdict_kind pt_cli_worst_verdict(const struct pt_loaded *l)
{
	size_t n;
	enum pt_verdict_kind worst = PT_VERDICT_OK;
	pt_replay_stats(l->rp, &n);
	for (size_t i = 0; i < n; i++) {
		const struct pt_tag_verdict *v = &l->verdicts[i];
		if (!v->hidden && !v->suppressed && v->verdict > worst)
			worst = v->verdict;
	}
	return worst;
}

int pt_cli_parse(int argc, char **argv, const char *usage, const char *intro,
		 const struct pt_opt *cmd_opts, struct pt_cli_common *common,
		 int (*fn)(void *ctx, int id, const char *arg), void *ctx, int *optind_out)
{
	size_t total = count_opts(cmd_opts) + count_opts(analysis_opts) + 2;
	struct option *lo = calloc(total, sizeof(*lo));
	char *shorts = calloc(total * 2 + 2, 1);
	int rc = 0;
	if (!lo || !shorts) {
		rc = PT_ENOMEM;
		goto out;
	}
	size_t n = 0, ns = 0;
	shorts[ns++] = ':';
	add_opts(lo, &n, shorts, &ns, cmd_opts);
	if (common)
		add_opts(lo, &n, shorts, &ns, analysis_opts);
	add_opts(lo, &n, shorts, &ns, help_opt);
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			fprintf(stderr, "pooltrace %s: %s '%s' (try --help)\n", argv[0],
				c == ':' ? "missing argument for" : "unknown option", bad);
			rc = PT_EUSAGE;
			goto out;
		}
		const struct pt_opt *o = by_val(cmd_opts, c);
		if (!o && common)
			o = by_val(analysis_opts, c);
		if (!o)
			o = by_val(help_opt, c);
		if (!o) {
			rc = PT_EUSAGE;
			goto out;
		}
		if (o->id == PT_OPT_HELP) {
			pt_cli_help(stdout, usage, intro, cmd_opts, common != NULL);
			rc = 1;
			goto out;
		}
		int r = common ? common_opt(common, o->id, optarg) : 1;
		if (r < 0) {
			rc = r;
			goto out;
		}
		if (r == 1) {
			r = fn ? fn(ctx, o->id, optarg) : PT_EUSAGE;
			if (r < 0) {
				rc = r;
				goto out;
			}
		}
	}
	*optind_out = optind;
out:
	free(lo);
	free(shorts);
	return rc;
}

/* Progress on stderr: only on a terminal, and only for a large or slow input. */
#define PROGRESS_MIN_SIZE (16ull << 20)
#define PROGRESS_MIN_SECONDS 1.0

struct progress_ctx {
	bool tty;
	bool shown;
	uint64_t size;
	double start, last;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned term_width(void)
{
	struct winsize ws;
	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

static void progress(void *ctx, const struct pt_reader *r)
{
	struct progress_ctx *p = ctx;
	if (!p->tty)
		return;
	double t = now_s(), el = t - p->start;
	if (p->size < PROGRESS_MIN_SIZE && el < PROGRESS_MIN_SECONDS)
		return;
	if (p->shown && t - p->last < 0.25)
		return;
	char line[512];
	pt_progress_format(line, sizeof(line), pt_input_raw_offset(r->in), p->size, r->events, el,
			   term_width());
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->shown = true;
	p->last = t;
}

int pt_cli_load(const char *path, const struct pt_cli_common *c, struct pt_loaded *out)
{
	char err[600];
	int rc;
	memset(out, 0, sizeof(*out));
	out->tags = pt_tags_new((size_t)c->max_tags);
	if (!out->tags) {
		rc = PT_ENOMEM;
		goto fail;
	}
	rc = pt_reader_open(&out->reader, path, c->input_format, out->tags, &c->ropts, err,
			    sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "pooltrace: %s\n", err);
		if (rc == PT_ELIMIT)
			pt_cli_limit_hint(&c->ropts, c->max_tags);
		goto out;
	}
	out->rp = pt_replay_new(out->tags, &c->rpopts);
	if (!out->rp) {
		rc = PT_ENOMEM;
		goto fail;
	}
	struct progress_ctx pc = {!c->quiet && isatty(2), false, pt_input_raw_size(out->reader->in),
				  now_s(), 0};
	rc = pt_replay_run(out->rp, out->reader, progress, &pc);
	if (pc.shown)
		fputs("\r\033[K", stderr);
	if (rc < 0) {
		const char *m = pt_reader_errmsg(out->reader);
		fprintf(stderr, "pooltrace: %s\n", m[0] ? m : pt_strerror(rc));
		if (rc == PT_ELIMIT)
			pt_cli_limit_hint(&c->ropts, c->max_tags);
		goto out;
	}
	const struct pt_replay_totals *tot = pt_replay_totals(out->rp);
	if (tot->live_dropped && !c->quiet)
		fprintf(stderr,
			"pooltrace: warning: %llu allocations not tracked: more than --max-live %llu "
			"were live at once; raise --max-live to track them\n",
			(unsigned long long)tot->live_dropped,
			(unsigned long long)(c->rpopts.max_live ? c->rpopts.max_live : 100000000));
	struct pt_verdict_opts vo = c->vopts;
	const struct pt_trace_meta *meta = pt_reader_meta(out->reader);
	vo.lost_known = meta->lost_known;
	vo.events_lost = meta->events_lost;
	rc = pt_judge(out->rp, &vo, &out->verdicts);
	if (rc < 0)
		goto fail;
	if (c->filter) {
		size_t n;
		const struct pt_tagstat *st = pt_replay_stats(out->rp, &n);
		for (size_t i = 0; i < n; i++) {
			size_t len;
			const uint8_t *b = pt_tags_bytes(out->tags, st[i].tag, &len);
			struct pt_tag_verdict *v = &out->verdicts[i];
			v->hidden = !pt_tagfilter_shown(c->filter, b, len);
			const char *why = pt_tagfilter_suppressed(c->filter, b, len);
			if (why && v->verdict != PT_VERDICT_OK) {
				v->suppressed = true;
				snprintf(v->suppress_reason, sizeof(v->suppress_reason), "%s", why);
			}
		}
	}
	return 0;
fail:
	fprintf(stderr, "pooltrace: %s: %s\n", path, pt_strerror(rc));
out:
	pt_loaded_release(out);
	return rc;
}

void pt_loaded_release(struct pt_loaded *l)
{
	free(l->verdicts);
	pt_replay_free(l->rp);
	pt_reader_free(l->reader);
	pt_tags_free(l->tags);
	memset(l, 0, sizeof(*l));
}

char *pt_cli_command_line(int argc, char **argv)
{
	size_t n = 1;
	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	char *s = malloc(n);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}
