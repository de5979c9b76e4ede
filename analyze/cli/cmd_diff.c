/* SPDX-License-Identifier: MIT */
/*
 * pooltrace diff BASE NEW: per-tag change between two runs (for example the
 * last good build and this build), each judged on its own, then compared.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"

enum { OPT_JSON = PT_OPT_FIRST_CMD_OPT_, OPT_OUTPUT, OPT_WORSE, OPT_ALL };

static const struct pt_opt diff_opts[] = {
	{"json", 0, NULL, OPT_JSON, "off", "write JSON instead of text"},
	{"output", 'o', "FILE", OPT_OUTPUT, "standard output", "write to FILE (temporary file, then rename)"},
	{"worse-factor", 0, "X", OPT_WORSE, "1.5",
	 "a tag leaking in both runs is 'worse' when NEW left X times the bytes BASE left"},
	{"all", 'a', NULL, OPT_ALL, "off", "list unchanged tags too"},
	{NULL, 0, NULL, 0, NULL, NULL},
};

static const char usage[] = "pooltrace diff [OPTIONS] BASE NEW";
static const char intro[] =
	"Judges two traces of the same test (for example the last good build and this\n"
	"build) with the same options and compares every tag: 'new leak' (leaks in NEW,\n"
	"not in BASE), 'worse' (leaks in both, NEW left more), 'fixed', 'better', 'same'.\n"
	"Residual = outstanding bytes at trace end minus at workload start.\n\n"
	"Exit status: 0 no tag is a new leak or worse, 1 at least one is, 2 usage or input error.";

struct diff_args {
	bool json, all;
	const char *output;
	double worse;
};

enum change { CH_SAME, CH_NEW_LEAK, CH_WORSE, CH_FIXED, CH_BETTER, CH_GONE, CH_ADDED };

static const char *change_name(enum change c)
{
	static const char *const n[] = {"same", "new leak", "worse", "fixed", "better", "only in base",
					"only in new"};
	return n[c];
}

struct row {
	const uint8_t *tag;
	size_t taglen;
	enum pt_pool pool;
	const struct pt_tag_verdict *b, *n; /* NULL when absent from that run */
	enum change ch;
};

static int on_opt(void *ctx, int id, const char *arg)
{
	struct diff_args *a = ctx;
	char *end;
	switch (id) {
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_OUTPUT:
		a->output = arg;
		return 0;
	case OPT_ALL:
		a->all = true;
		return 0;
	case OPT_WORSE:
		a->worse = strtod(arg, &end);
		if (end == arg || *end || !(a->worse >= 1.0 && a->worse < 1e6)) {
			fprintf(stderr, "pooltrace diff: --worse-factor takes a number >= 1, not '%s'\n", arg);
			return PT_EUSAGE;
		}
		return 0;
	default:
		return PT_EUSAGE;
	}
}

static enum change classify(const struct pt_tag_verdict *b, const struct pt_tag_verdict *n,
			    double worse)
{
	if (!b)
		return n->verdict == PT_VERDICT_LEAK ? CH_NEW_LEAK : CH_ADDED;
	if (!n)
		return b->verdict == PT_VERDICT_LEAK ? CH_FIXED : CH_GONE;
	bool bl = b->verdict == PT_VERDICT_LEAK, nl = n->verdict == PT_VERDICT_LEAK;
	if (nl && !bl)
		return CH_NEW_LEAK;
	if (bl && !nl)
		return CH_FIXED;
	if (bl && nl) {
		double br = (double)(b->residual_bytes > 0 ? b->residual_bytes : 0);
		double nr = (double)(n->residual_bytes > 0 ? n->residual_bytes : 0);
		if (nr > br * worse)
			return CH_WORSE;
		if (nr * worse < br)
			return CH_BETTER;
	}
	return CH_SAME;
}

static const struct pt_tag_verdict *lookup(const struct pt_loaded *l, const uint8_t *tag, size_t len,
					    enum pt_pool pool)
{
	size_t n;
	const struct pt_tagstat *st = pt_replay_stats(l->rp, &n);
	for (size_t i = 0; i < n; i++) {
		size_t tl;
		const uint8_t *tb = pt_tags_bytes(l->tags, st[i].tag, &tl);
		if (st[i].pool == pool && tl == len && !memcmp(tb, tag, len))
			return l->verdicts[i].hidden ? NULL : &l->verdicts[i];
	}
	return NULL;
}

/* Rows for every (tag, pool) of either run. O(tags^2) lookups are fine for
 * the tag counts pool traces have; they run once. */
static struct row *build_rows(const struct pt_loaded *b, const struct pt_loaded *n, double worse,
			      size_t *nrows)
{
	size_t nb, nn;
	const struct pt_tagstat *sb = pt_replay_stats(b->rp, &nb);
	const struct pt_tagstat *sn = pt_replay_stats(n->rp, &nn);
	struct row *rows = calloc(nb + nn + 1, sizeof(*rows));
	size_t k = 0;
	if (!rows)
		return NULL;
	for (size_t i = 0; i < nb; i++) {
		if (b->verdicts[i].hidden)
			continue;
		rows[k].tag = pt_tags_bytes(b->tags, sb[i].tag, &rows[k].taglen);
		rows[k].pool = sb[i].pool;
		rows[k].b = &b->verdicts[i];
		rows[k].n = lookup(n, rows[k].tag, rows[k].taglen, sb[i].pool);
		k++;
	}
	for (size_t i = 0; i < nn; i++) {
		size_t tl;
		const uint8_t *tb = pt_tags_bytes(n->tags, sn[i].tag, &tl);
		if (n->verdicts[i].hidden || lookup(b, tb, tl, sn[i].pool))
			continue;
		rows[k].tag = tb;
		rows[k].taglen = tl;
		rows[k].pool = sn[i].pool;
		rows[k].n = &n->verdicts[i];
		k++;
	}
	for (size_t i = 0; i < k; i++)
		rows[i].ch = classify(rows[i].b, rows[i].n, worse);
	*nrows = k;
	return rows;
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	if (a->ch != b->ch) {
		/* regressions first */
		static const int rank[] = {[CH_NEW_LEAK] = 0, [CH_WORSE] = 1, [CH_FIXED] = 2,
					   [CH_BETTER] = 3, [CH_ADDED] = 4, [CH_GONE] = 5, [CH_SAME] = 6};
		return rank[a->ch] - rank[b->ch];
	}
	size_t n = a->taglen < b->taglen ? a->taglen : b->taglen;
	int r = memcmp(a->tag, b->tag, n);
	if (r)
		return r;
	if (a->taglen != b->taglen)
		return a->taglen < b->taglen ? -1 : 1;
	return (int)a->pool - (int)b->pool;
}

static int64_t resid(const struct pt_tag_verdict *v)
{
	return v ? v->residual_bytes : 0;
}

static void write_text(FILE *out, const struct row *rows, size_t n, bool all, const char *bp,
		       const char *np)
{
	char tag[PT_TAG_DISPLAY_MAX];
	fprintf(out, "pooltrace diff\nBase: %s\nNew:  %s\n\n", bp, np);
	fprintf(out, " %-12s %-6s %-7s %-8s %-8s %14s %14s %14s\n", "Change", "Tag", "Type", "Base",
		"New", "Base resid.", "New resid.", "Delta");
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		if (!all && (r->ch == CH_SAME || r->ch == CH_ADDED || r->ch == CH_GONE))
			continue;
		shown++;
		pt_tag_escape(r->tag, r->taglen, tag, sizeof(tag));
		fprintf(out, " %-12s %-6s %-7s %-8s %-8s %14" PRId64 " %14" PRId64 " %+14" PRId64 "\n",
			change_name(r->ch), tag, pt_pool_name(r->pool),
			r->b ? pt_verdict_name(r->b->verdict) : "-",
			r->n ? pt_verdict_name(r->n->verdict) : "-", resid(r->b), resid(r->n),
			resid(r->n) - resid(r->b));
	}
	if (!shown)
		fputs(" no tag changed its verdict\n", out);
	size_t reg = 0;
	for (size_t i = 0; i < n; i++)
		reg += rows[i].ch == CH_NEW_LEAK || rows[i].ch == CH_WORSE;
	fprintf(out, "\n%zu regression%s\n", reg, reg == 1 ? "" : "s");
}

static void write_json(FILE *out, const struct row *rows, size_t n, const char *bp, const char *np)
{
	char tag[PT_TAG_DISPLAY_MAX], hex[PT_TAG_MAX_LEN * 2 + 1];
	fprintf(out, "{\n  \"schema\": \"pooltrace-diff\",\n  \"schema_version\": 1,\n  \"base\": ");
	pt_json_string(out, bp);
	fputs(",\n  \"new\": ", out);
	pt_json_string(out, np);
	fputs(",\n  \"tags\": [\n", out);
	size_t reg = 0;
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		reg += r->ch == CH_NEW_LEAK || r->ch == CH_WORSE;
		pt_tag_escape(r->tag, r->taglen, tag, sizeof(tag));
		for (size_t j = 0; j < r->taglen; j++)
			snprintf(hex + 2 * j, 3, "%02x", r->tag[j]);
		if (!r->taglen)
			hex[0] = '\0';
		fputs("    {\"tag\": ", out);
		pt_json_string(out, tag);
		fprintf(out, ", \"tag_hex\": \"%s\", \"pool_type\": \"%s\", \"change\": \"%s\", ", hex,
			pt_pool_id(r->pool), change_name(r->ch));
		fprintf(out, "\"base_verdict\": %s%s%s, \"new_verdict\": %s%s%s, ", r->b ? "\"" : "",
			r->b ? pt_verdict_name(r->b->verdict) : "null", r->b ? "\"" : "", r->n ? "\"" : "",
			r->n ? pt_verdict_name(r->n->verdict) : "null", r->n ? "\"" : "");
		fprintf(out, "\"base_residual_bytes\": %" PRId64 ", \"new_residual_bytes\": %" PRId64 "}%s\n",
			resid(r->b), resid(r->n), i + 1 < n ? "," : "");
	}
	fprintf(out, "  ],\n  \"regressions\": %zu\n}\n", reg);
}

static int run(int argc, char **argv)
{
	struct pt_cli_common common;
	struct diff_args a = {false, false, NULL, 1.5};
	struct pt_loaded b, n;
	struct pt_outfile of;
	struct row *rows = NULL;
	int optind_, ret = PT_EXIT_USAGE;
	char err[600];

	memset(&b, 0, sizeof(b));
	memset(&n, 0, sizeof(n));
	pt_cli_common_init(&common);
	int rc = pt_cli_parse(argc, argv, usage, intro, diff_opts, &common, on_opt, &a, &optind_);
	if (rc == 1) {
		ret = PT_EXIT_OK;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (optind_ != argc - 2) {
		fprintf(stderr, "pooltrace diff: give BASE and NEW traces (try --help)\n");
		goto out;
	}
	if (pt_cli_load(argv[optind_], &common, &b) < 0 || pt_cli_load(argv[optind_ + 1], &common, &n) < 0)
		goto out;
	size_t nrows;
	rows = build_rows(&b, &n, a.worse, &nrows);
	if (!rows) {
		fprintf(stderr, "pooltrace: out of memory\n");
		goto out;
	}
	qsort(rows, nrows, sizeof(*rows), cmp_rows);
	if (pt_outfile_open(&of, a.output, argv[optind_ + 1], err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltrace: %s\n", err);
		goto out;
	}
	if (a.json)
		write_json(of.fp, rows, nrows, argv[optind_], argv[optind_ + 1]);
	else
		write_text(of.fp, rows, nrows, a.all, argv[optind_], argv[optind_ + 1]);
	if (pt_outfile_commit(&of, err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltrace: %s\n", err);
		goto out;
	}
	ret = PT_EXIT_OK;
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].ch == CH_NEW_LEAK || rows[i].ch == CH_WORSE)
			ret = PT_EXIT_LEAK;
out:
	free(rows);
	pt_loaded_release(&b);
	pt_loaded_release(&n);
	pt_cli_common_release(&common);
	return ret;
}

const struct pt_cmd pt_cmd_diff = {
	.name = "diff",
	.summary = "compare the verdicts of two runs (base and new build)",
	.run = run,
};
