/* SPDX-License-Identifier: MIT */
/*
 * pt-synth: write a small native trace (.ptz) from a line script, for tests.
 *
 *   usage: pt-synth OUT.ptz [SCRIPT]      (SCRIPT defaults to standard input)
 *
 * Script lines ('#' starts a comment; TIME as in --at: 1.5, 250ms, 2s):
 *   TIME alloc TAG POOL SIZE ADDR
 *   TIME free TAG POOL ADDR
 *   TIME marker TEXT...
 *   TIME end                      (trace end, when later than the last event)
 * POOL is a pool name or id (nonpaged, paged, Nonp, Paged, slab, ...);
 * ADDR is decimal or 0x hex.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/native.h"
#include "pooltrace/pooltrace.h"

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static int bad(const char *script, unsigned line, const char *msg)
{
	fprintf(stderr, "pt-synth: %s:%u: %s\n", script, line, msg);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: pt-synth OUT.ptz [SCRIPT]\n");
		return 2;
	}
	const char *script = argc == 3 ? argv[2] : "-";
	FILE *in = strcmp(script, "-") ? fopen(script, "r") : stdin;
	if (!in) {
		fprintf(stderr, "pt-synth: %s: %s\n", script, strerror(errno));
		return 2;
	}
	FILE *out = fopen(argv[1], "wb");
	if (!out) {
		fprintf(stderr, "pt-synth: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	struct pt_tags *tags = pt_tags_new(0);
	struct pt_native_info info;
	memset(&info, 0, sizeof(info));
	pt_trace_meta_init(&info.meta);
	snprintf(info.meta.os, sizeof(info.meta.os), "synthetic");
	info.tool = "pt-synth";
	struct pt_native_writer *w = NULL;
	int ret = 1;
	if (!tags || pt_native_writer_new(&w, out, tags, &info) < 0) {
		fprintf(stderr, "pt-synth: cannot start the trace\n");
		goto out;
	}
	char buf[1024];
	unsigned line = 0;
	uint64_t last = 0, end_ns = 0;
	while (fgets(buf, sizeof(buf), in)) {
		line++;
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		char *save = NULL;
		char *f[8];
		int nf = 0;
		for (char *tok = strtok_r(buf, " \t\r\n", &save); tok && nf < 8;
		     tok = strtok_r(NULL, " \t\r\n", &save))
			f[nf++] = tok;
		if (nf == 0)
			continue;
		struct pt_event ev;
		pt_event_init(&ev);
		if (nf < 2 || pt_parse_duration(f[0], &ev.ts_ns) < 0) {
			ret = bad(script, line, "expected TIME OP ...");
			goto out;
		}
		if (ev.ts_ns < last) {
			ret = bad(script, line, "time goes backwards");
			goto out;
		}
		last = ev.ts_ns;
		if (!strcmp(f[1], "end")) {
			end_ns = ev.ts_ns;
			continue;
		}
		if (!strcmp(f[1], "marker")) {
			if (nf < 3) {
				ret = bad(script, line, "marker needs a text");
				goto out;
			}
			/* the rest of the line, as written */
			char text[256] = "";
			for (int i = 2; i < nf; i++) {
				if (i > 2)
					strncat(text, " ", sizeof(text) - strlen(text) - 1);
				strncat(text, f[i], sizeof(text) - strlen(text) - 1);
			}
			ev.kind = PT_EV_MARKER;
			ev.marker = text;
			if (pt_native_write_event(w, &ev) < 0) {
				ret = bad(script, line, "cannot write");
				goto out;
			}
			continue;
		}
		bool alloc = !strcmp(f[1], "alloc");
		if ((!alloc && strcmp(f[1], "free")) || nf != (alloc ? 6 : 5)) {
			ret = bad(script, line, "expected alloc TAG POOL SIZE ADDR or free TAG POOL ADDR");
			goto out;
		}
		ev.kind = alloc ? PT_EV_ALLOC : PT_EV_FREE;
		if (pt_tags_intern(tags, f[2], strlen(f[2]), &ev.tag) < 0 ||
		    pt_pool_parse(f[3], &ev.pool) < 0 ||
		    (alloc && parse_u64(f[4], &ev.size) < 0) ||
		    parse_u64(f[alloc ? 5 : 4], &ev.addr) < 0) {
			ret = bad(script, line, "bad tag, pool, size or address");
			goto out;
		}
		if (pt_native_write_event(w, &ev) < 0) {
			ret = bad(script, line, "cannot write");
			goto out;
		}
	}
	struct pt_native_totals t;
	memset(&t, 0, sizeof(t));
	t.end_ns = end_ns > last ? end_ns : last;
	t.lost_known = true;
	t.stop_reason = "end of input";
	if (pt_native_writer_finish(w, NULL, &t) < 0) {
		fprintf(stderr, "pt-synth: cannot finish the trace\n");
		goto out;
	}
	ret = 0;
out:
	pt_native_writer_free(w);
	pt_tags_free(tags);
	if (fclose(out) != 0)
		ret = 1;
	if (in != stdin)
		fclose(in);
	return ret;
}
