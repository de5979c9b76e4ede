/* SPDX-License-Identifier: MIT */
/*
 * One run of a reader over a fuzz input, shared by the reader targets
 * (fuzz_reader.c) and native_chunk: read the bytes with the format forced,
 * check every event (kinds, pools, tag ids in range), replay it, judge the
 * trace and, when asked, write it with every reporter.
 */
#ifndef PT_FUZZ_RUN_H
#define PT_FUZZ_RUN_H

#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "pooltrace/pooltrace.h"

/* Caps kept small so that one input cannot make a run slow by size alone. */
#define FUZZ_MAX_TAGS 65536
#define FUZZ_MAX_DECOMPRESSED (16u << 20)
#define FUZZ_MAX_LIVE 1000000

static FILE *devnull(void)
{
	static FILE *fp;
	if (!fp)
		fp = fopen("/dev/null", "w");
	return fp;
}

static void check_event(const struct pt_event *ev, const struct pt_tags *tags)
{
	PT_FUZZ_CHECK((unsigned)ev->kind < PT_EV_KIND_COUNT_);
	PT_FUZZ_CHECK((unsigned)ev->pool < PT_POOL_COUNT_);
	PT_FUZZ_CHECK(ev->tag == PT_TAG_NONE || ev->tag < pt_tags_count(tags));
	if (ev->kind == PT_EV_MARKER && ev->marker)
		PT_FUZZ_CHECK(strlen(ev->marker) < (1u << 20));
}

static void write_reports(struct pt_reader *r, struct pt_replay *rp, struct pt_tags *tags)
{
	struct pt_verdict_opts vo;
	struct pt_tag_verdict *verdicts = NULL;
	struct pt_report_opts ro;
	size_t *rows = NULL, nrows = 0;
	FILE *out = devnull();

	pt_verdict_opts_init(&vo);
	if (pt_judge(rp, &vo, &verdicts) < 0)
		goto out;
	memset(&ro, 0, sizeof(ro));
	ro.sort = PT_SORT_BYTES;
	ro.totals = true;
	ro.deltas = true;
	ro.input_name = "fuzz";
	ro.command_line = "pooltrace report fuzz";
	if (pt_report_rows(rp, &ro, &rows, &nrows) < 0)
		goto out;
	struct pt_report rep = {
		.rp = rp,
		.tags = tags,
		.meta = pt_reader_meta(r),
		.verdicts = verdicts,
		.opts = &ro,
		.rows = rows,
		.nrows = nrows,
		.reader_skipped_bad = r->skipped_bad,
		.reader_skipped_other = r->skipped_other,
		.reader_warnings = r->warnings,
	};
	if (!out)
		goto out;
	for (const struct pt_reporter_ops *const *p = pt_reporter_list(); *p; p++)
		(*p)->write(&rep, out);
out:
	free(rows);
	free(verdicts);
}

static void fuzz_run_once(const uint8_t *data, size_t size, const char *format, bool keep_going,
			  bool report)
{
	struct pt_tags *tags = pt_tags_new(FUZZ_MAX_TAGS);
	struct pt_input *in = NULL;
	struct pt_reader *r = NULL;
	struct pt_replay *rp = NULL;
	char err[600] = "";
	int rc;

	if (!tags || pt_input_open_memory(&in, data, size, "fuzz") < 0)
		goto out;
	struct pt_reader_opts o = {
		.keep_going = keep_going,
		.quiet = true,
		.max_decompressed = FUZZ_MAX_DECOMPRESSED,
	};
	rc = pt_reader_open_input(&r, in, format, tags, &o, err, sizeof(err));
	in = NULL; /* the reader owns it now, also on failure */
	if (rc < 0) {
		PT_FUZZ_CHECK(err[0] != '\0');
		goto out;
	}
	struct pt_replay_opts ropts = {.max_live = FUZZ_MAX_LIVE};
	rp = pt_replay_new(tags, &ropts);
	if (!rp)
		goto out;
	struct pt_event ev;
	while ((rc = pt_reader_next(r, &ev)) > 0) {
		check_event(&ev, tags);
		if (pt_replay_event(rp, &ev) < 0)
			goto out;
	}
	if (rc < 0) {
		PT_FUZZ_CHECK(pt_reader_errmsg(r)[0] != '\0');
		goto out;
	}
	/* end of input is final: asking again must not produce more events */
	PT_FUZZ_CHECK(pt_reader_next(r, &ev) <= 0);
	if (pt_replay_finish(rp, pt_reader_meta(r)->end_ns) < 0)
		goto out;
	if (report)
		write_reports(r, rp, tags);
out:
	pt_replay_free(rp);
	pt_reader_free(r);
	pt_input_free(in);
	pt_tags_free(tags);
}

#endif
