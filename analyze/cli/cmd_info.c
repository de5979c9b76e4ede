/* SPDX-License-Identifier: MIT */
/* pooltrace info: what a trace says about itself, for any supported format. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "pooltrace/pooltrace.h"

static void info_usage(FILE *out)
{
	fprintf(out,
		"usage: pooltrace info [OPTIONS] TRACE\n\n"
		"Reads the whole trace and prints its metadata and event counts:\n"
		"format, OS build, CPUs, pointer size, clock, start/end, duration,\n"
		"events by kind, events and buffers lost, whether pool tracing was on,\n"
		"plus format details (for ETL: buffers, records by header type, kernel\n"
		"groups and providers, pool events by opcode).\n\n"
		"Options:\n"
		"  --json          JSON output instead of text (default: text)\n"
		"  --format F      force the reader F instead of detecting it (default: detect)\n"
		"  --keep-going    skip malformed events instead of stopping (default: stop)\n"
		"  -q, --quiet     no warnings on stderr (default: warnings shown)\n"
		"  -h, --help      this help\n\n"
		"Readers:");
	const struct pt_reader_ops *const *list = pt_reader_list();
	for (size_t i = 0; list[i]; i++)
		fprintf(out, "\n  %-14s %s", list[i]->name, list[i]->description);
	fprintf(out, "\n\nExit status: 0 ok, 2 usage or input error.\n");
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static const char *clock_name(enum pt_clock c)
{
	switch (c) {
	case PT_CLOCK_QPC:
		return "qpc";
	case PT_CLOCK_SYSTEM_TIME:
		return "system-time";
	case PT_CLOCK_CPU_CYCLES:
		return "cpu-cycles";
	case PT_CLOCK_MONOTONIC:
		return "monotonic";
	case PT_CLOCK_WALL:
		return "wall";
	default:
		return "unknown";
	}
}

/* "2020-05-01T12:00:00.123456789Z" */
static void iso_time(int64_t unix_ns, char *buf, size_t bufsz)
{
	int64_t sec = unix_ns / 1000000000;
	int64_t ns = unix_ns % 1000000000;
	if (ns < 0) {
		ns += 1000000000;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, bufsz, "?");
		return;
	}
	char date[32];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, bufsz, "%s.%09" PRId64 "Z", date, ns);
}

static const char *tracing_name(int v)
{
	return v > 0 ? "on" : v == 0 ? "off" : "unknown";
}



static int cmd_info_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"format", required_argument, NULL, 'f'},
		{"keep-going", no_argument, NULL, 'k'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	const char *format = NULL;
	struct pt_reader_opts ro;
	memset(&ro, 0, sizeof(ro));
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+hq", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'f':
			format = optarg;
			break;
		case 'k':
			ro.keep_going = true;
			break;
		case 'q':
			ro.quiet = true;
			break;
		case 'h':
			info_usage(stdout);
			return PT_EXIT_OK;
		default:
			fprintf(stderr, "pooltrace info: unknown or incomplete option '%s' "
				"(see pooltrace info --help)\n", argv[optind - 1]);
			return PT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "pooltrace info: expected exactly one TRACE (see pooltrace info --help)\n");
		return PT_EXIT_USAGE;
	}
	const char *path = argv[optind];
	int status = PT_EXIT_OK;
	struct pt_tags *tags = pt_tags_new(0);
	if (!tags) {
		fprintf(stderr, "pooltrace info: out of memory\n");
		return PT_EXIT_USAGE;
	}
	struct pt_reader *r = NULL;
	char err[512];
	int rc = pt_reader_open(&r, path, format, tags, &ro, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "pooltrace info: %s\n", err);
		pt_tags_free(tags);
		return PT_EXIT_USAGE;
	}
	uint64_t kinds[PT_EV_KIND_COUNT_] = {0};
	uint64_t total = 0;
	struct pt_event ev;
	while ((rc = pt_reader_next(r, &ev)) > 0) {
		total++;
		if ((unsigned)ev.kind < PT_EV_KIND_COUNT_)
			kinds[ev.kind]++;
	}
	if (rc < 0) {
		fprintf(stderr, "pooltrace info: %s\n", pt_reader_errmsg(r));
		pt_reader_free(r);
		pt_tags_free(tags);
		return PT_EXIT_USAGE;
	}
	const struct pt_trace_meta *m = pt_reader_meta(r);
	char start[64] = "";
	if (m->has_start_time)
		iso_time(m->start_unix_ns, start, sizeof(start));
	char end[64] = "";
	if (m->has_start_time) {
		int64_t e = m->start_unix_ns;
		if (m->end_ns <= (uint64_t)(INT64_MAX - e))
			e += (int64_t)m->end_ns;
		iso_time(e, end, sizeof(end));
	}
	double dur = (double)m->end_ns / 1e9;
	FILE *out = stdout;
	if (json) {
		fprintf(out, "{\"file\": ");
		json_str(out, path);
		fprintf(out, ", \"format\": ");
		json_str(out, m->format);
		fprintf(out, ", \"os\": ");
		json_str(out, m->os);
		fprintf(out, ", \"os_build\": %u, \"cpus\": %u, \"pointer_size\": %u, \"clock\": \"%s\""
			", \"perf_freq\": %" PRIu64,
			m->os_build, m->num_cpus, m->pointer_size, clock_name(m->clock), m->perf_freq);
		if (m->has_start_time) {
			fprintf(out, ", \"start\": \"%s\", \"start_unix_ns\": %" PRId64 ", \"end\": \"%s\"",
				start, m->start_unix_ns, end);
		} else {
			fprintf(out, ", \"start\": null, \"start_unix_ns\": null, \"end\": null");
		}
		fprintf(out, ", \"end_ns\": %" PRIu64 ", \"duration_s\": %.9f", m->end_ns, dur);
		fprintf(out, ", \"events\": {\"total\": %" PRIu64, total);
		for (int k = 0; k < PT_EV_KIND_COUNT_; k++)
			fprintf(out, ", \"%s\": %" PRIu64, pt_event_kind_name((enum pt_event_kind)k),
				kinds[k]);
		fprintf(out, "}");
		if (m->lost_known)
			fprintf(out, ", \"events_lost\": %" PRIu64 ", \"buffers_lost\": %" PRIu64,
				m->events_lost, m->buffers_lost);
		else
			fprintf(out, ", \"events_lost\": null, \"buffers_lost\": null");
		fprintf(out, ", \"pool_tracing\": %s",
			m->pool_tracing > 0 ? "true" : m->pool_tracing == 0 ? "false" : "null");
		fprintf(out, ", \"snapshot_only\": %s, \"logger\": ", m->snapshot_only ? "true" : "false");
		json_str(out, m->logger);
		fprintf(out, ", \"host\": ");
		json_str(out, m->host);
		fprintf(out, ", \"skipped_bad\": %" PRIu64 ", \"skipped_other\": %" PRIu64
			", \"warnings\": %" PRIu64, r->skipped_bad, r->skipped_other, r->warnings);
		fprintf(out, ", \"cut_short\": %s, \"cut_short_reason\": ", r->cut_short ? "true" : "false");
		if (r->cut_short)
			json_str(out, r->cut_short_msg);
		else
			fprintf(out, "null");
		if (r->ops->describe) {
			fprintf(out, ", \"details\": ");
			rc = r->ops->describe(r, out, true);
		}
		fprintf(out, "}\n");
	} else {
		fprintf(out, "file: %s\n", path);
		fprintf(out, "format: %s\n", m->format);
		fprintf(out, "os: %s", m->os[0] ? m->os : "unknown");
		if (m->os_build)
			fprintf(out, " (build %u)", m->os_build);
		fprintf(out, "\n");
		fprintf(out, "cpus: %u\n", m->num_cpus);
		fprintf(out, "pointer size: %u\n", m->pointer_size);
		fprintf(out, "clock: %s", clock_name(m->clock));
		if (m->perf_freq)
			fprintf(out, " (%" PRIu64 " Hz)", m->perf_freq);
		fprintf(out, "\n");
		fprintf(out, "start: %s\n", m->has_start_time ? start : "unknown");
		fprintf(out, "end: %s\n", m->has_start_time ? end : "unknown");
		fprintf(out, "duration: %.6f s\n", dur);
		fprintf(out, "events: %" PRIu64 "\n", total);
		for (int k = 0; k < PT_EV_KIND_COUNT_; k++)
			fprintf(out, "  %-14s %" PRIu64 "\n",
				pt_event_kind_name((enum pt_event_kind)k), kinds[k]);
		if (m->lost_known)
			fprintf(out, "events lost: %" PRIu64 "\nbuffers lost: %" PRIu64 "\n",
				m->events_lost, m->buffers_lost);
		else
			fprintf(out, "events lost: unknown\nbuffers lost: unknown\n");
		fprintf(out, "pool tracing: %s\n", tracing_name(m->pool_tracing));
		if (m->logger[0])
			fprintf(out, "logger: %s\n", m->logger);
		if (m->host[0])
			fprintf(out, "host: %s\n", m->host);
		fprintf(out, "reader: %" PRIu64 " bad events skipped, %" PRIu64
			" other events skipped, %" PRIu64 " warnings\n",
			r->skipped_bad, r->skipped_other, r->warnings);
		if (r->cut_short)
			fprintf(out, "incomplete: %s\n", r->cut_short_msg);
		if (r->ops->describe) {
			fprintf(out, "details:\n");
			rc = r->ops->describe(r, out, false);
		}
	}
	if (rc < 0 || fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, "pooltrace info: cannot write the output\n");
		status = PT_EXIT_USAGE;
	}
	pt_reader_free(r);
	pt_tags_free(tags);
	return status;
}

const struct pt_cmd pt_cmd_info = {
	.name = "info",
	.summary = "show a trace's metadata and event counts",
	.run = cmd_info_run,
};
