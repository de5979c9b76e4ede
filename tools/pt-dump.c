/* SPDX-License-Identifier: MIT */
/*
 * pt-dump: print the events a reader produces, one line each, or only
 * count them (--count). For checking readers and timing them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/pooltrace.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: pt-dump [--format NAME] [--count] [--keep-going] [--quiet] TRACE\n"
		     "  --format NAME   force a reader (default: detect)\n"
		     "  --count         print only counts and metadata\n"
		     "  --keep-going    skip bad events instead of stopping\n"
		     "  --quiet         no warnings\n");
}

int main(int argc, char **argv)
{
	const char *format = NULL, *path = NULL;
	bool count = false;
	struct pt_reader_opts opts = {0};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			format = argv[++i];
		} else if (!strcmp(argv[i], "--count")) {
			count = true;
		} else if (!strcmp(argv[i], "--keep-going")) {
			opts.keep_going = true;
		} else if (!strcmp(argv[i], "--quiet")) {
			opts.quiet = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!path) {
			path = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	struct pt_tags *tags = pt_tags_new(0);
	if (!tags)
		return 2;
	struct pt_reader *r;
	char err[512];
	int rc = pt_reader_open(&r, path, format, tags, &opts, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "pt-dump: %s\n", err);
		pt_tags_free(tags);
		return 2;
	}
	struct pt_event ev;
	uint64_t kinds[PT_EV_KIND_COUNT_] = {0};
	char tbuf[PT_TAG_DISPLAY_MAX];
	while ((rc = pt_reader_next(r, &ev)) > 0) {
		if ((unsigned)ev.kind < PT_EV_KIND_COUNT_)
			kinds[ev.kind]++;
		if (count)
			continue;
		if (ev.kind == PT_EV_MARKER) {
			printf("%llu marker \"%s\"\n", (unsigned long long)ev.ts_ns, ev.marker);
			continue;
		}
		printf("%llu %s %s %s%s raw=%u size=%llu addr=0x%llx pid=%u tid=%u cpu=%u session=%u\n",
		       (unsigned long long)ev.ts_ns, pt_event_kind_name(ev.kind),
		       pt_tags_display(tags, ev.tag, tbuf, sizeof(tbuf)), pt_pool_id(ev.pool),
		       (ev.pool_flags & PT_POOLF_BIG) ? ",big" : "", ev.raw_pool_type,
		       (unsigned long long)ev.size, (unsigned long long)ev.addr, ev.pid, ev.tid,
		       ev.cpu, ev.session_id);
	}
	const struct pt_trace_meta *m = &r->meta;
	fprintf(count ? stdout : stderr,
		"format=%s events=%llu alloc=%llu free=%llu session-alloc=%llu session-free=%llu "
		"marker=%llu skipped_other=%llu skipped_bad=%llu warnings=%llu\n"
		"start_unix_ns=%lld end_ns=%llu pointer_size=%u cpus=%u perf_freq=%llu "
		"lost_known=%d events_lost=%llu buffers_lost=%llu host=%s os=%s build=%u\n",
		m->format, (unsigned long long)r->events, (unsigned long long)kinds[PT_EV_ALLOC],
		(unsigned long long)kinds[PT_EV_FREE], (unsigned long long)kinds[PT_EV_SESSION_ALLOC],
		(unsigned long long)kinds[PT_EV_SESSION_FREE], (unsigned long long)kinds[PT_EV_MARKER],
		(unsigned long long)r->skipped_other, (unsigned long long)r->skipped_bad,
		(unsigned long long)r->warnings, (long long)m->start_unix_ns,
		(unsigned long long)m->end_ns, m->pointer_size, m->num_cpus,
		(unsigned long long)m->perf_freq, m->lost_known, (unsigned long long)m->events_lost,
		(unsigned long long)m->buffers_lost, m->host, m->os, m->os_build);
	int ret = 0;
	if (rc < 0) {
		fprintf(stderr, "pt-dump: %s\n", pt_reader_errmsg(r));
		ret = 2;
	}
	pt_reader_free(r);
	pt_tags_free(tags);
	return ret;
}
