/* SPDX-License-Identifier: MIT */
/*
 * pt-gen: write a pool trace with a known answer from a scenario
 * description (docs/scenarios.md). Output formats come from the table
 * `writers` below; each entry only sees pt_events and a FILE.
 */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "pooltrace/etlwrite.h"
#include "pooltrace/pooltrace.h"
#include "pooltrace/xmlwrite.h"
#include "scenario.h"

struct gen_opts {
	enum pt_xmlw_encoding encoding; /* --utf16, --utf16be */
};

/* What a writer gets: the (possibly compressed) output and the trace's metadata. */
struct gen_out {
	FILE *fp;
	const struct pt_trace_meta *meta;
	const struct pt_tags *tags;
	const struct gen_opts *opts;
	void *state;
};

struct gen_writer {
	const char *name;
	const char *description;
	int (*open)(struct gen_out *o);
	int (*event)(struct gen_out *o, const struct pt_event *ev);
	int (*finish)(struct gen_out *o);
	void (*close)(struct gen_out *o);
};

/* --- tracerpt XML --- */

static int xml_open(struct gen_out *o)
{
	struct pt_xmlw_opts xo = {.encoding = o->opts->encoding};
	o->state = pt_xmlw_new_opts(o->fp, o->meta, o->tags, &xo);
	return o->state ? 0 : PT_ENOMEM;
}

static int xml_event(struct gen_out *o, const struct pt_event *ev)
{
	return pt_xmlw_event(o->state, ev);
}

static int xml_finish(struct gen_out *o)
{
	return pt_xmlw_finish(o->state);
}

static void xml_close(struct gen_out *o)
{
	pt_xmlw_free(o->state);
	o->state = NULL;
}

/* --- raw ETL (pooltrace/etlwrite.h) --- */

static int etl_open_common(struct gen_out *o, bool compress)
{
	const struct pt_trace_meta *m = o->meta;
	struct pt_etlw_opts eo;
	memset(&eo, 0, sizeof(eo));
	eo.pointer_size = m->pointer_size;
	eo.num_cpus = m->num_cpus;
	eo.compress = compress;
	eo.clock = PT_CLOCK_QPC; /* 10 MHz, as Windows: times kept to 100 ns */
	eo.start_unix_ns = m->start_unix_ns;
	eo.end_ns = m->end_ns;
	eo.os_build = m->os_build;
	eo.pool_tracing = m->pool_tracing;
	eo.events_lost = (uint32_t)m->events_lost;
	eo.buffers_lost = (uint32_t)m->buffers_lost;
	eo.logger = m->logger;
	struct pt_etlw *w;
	int rc = pt_etlw_open(&w, o->fp, &eo, o->tags);
	o->state = w;
	return rc;
}

static int etl_open(struct gen_out *o)
{
	return etl_open_common(o, false);
}

static int etl_xpress_open(struct gen_out *o)
{
	return etl_open_common(o, true);
}

static int etl_event(struct gen_out *o, const struct pt_event *ev)
{
	return pt_etlw_event(o->state, ev);
}

static int etl_finish(struct gen_out *o)
{
	return pt_etlw_finish(o->state);
}

static void etl_close(struct gen_out *o)
{
	pt_etlw_free(o->state);
	o->state = NULL;
}

static const struct gen_writer writers[] = {
	{"xml", "tracerpt-style XML (UTF-8; --utf16 for UTF-16LE with BOM)", xml_open, xml_event,
	 xml_finish, xml_close},
	{"etl", "raw .etl, 64 KiB per-CPU buffers, QPC clock (times kept to 100 ns)", etl_open,
	 etl_event, etl_finish, etl_close},
	{"etl-xpress", "raw .etl with XPRESS-compressed buffers (as the Windows relogger writes)",
	 etl_xpress_open, etl_event, etl_finish, etl_close},
};

static const struct gen_writer *find_writer(const char *name)
{
	for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++)
		if (!strcmp(writers[i].name, name))
			return &writers[i];
	return NULL;
}

/* --- gzip through a FILE --- */

static ssize_t gz_cookie_write(void *c, const char *buf, size_t n)
{
	if (n == 0)
		return 0;
	int w = gzwrite((gzFile)c, buf, (unsigned)n);
	if (w <= 0) {
		errno = EIO;
		return -1;
	}
	return w;
}

static int gz_cookie_close(void *c)
{
	return gzclose((gzFile)c) == Z_OK ? 0 : EOF;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pt-gen SCENARIO [OPTIONS]\n\n"
		"Writes a kernel pool trace described by SCENARIO (see docs/scenarios.md).\n\n"
		"Options:\n"
		"  -o, --output FILE   write here (temporary file, then renamed) [default: stdout]\n"
		"  -f, --format NAME   output format [default: xml]\n"
		"      --utf16         XML in UTF-16LE with a byte order mark [default: UTF-8]\n"
		"      --utf16be       XML in UTF-16BE with a byte order mark\n"
		"  -z, --gzip          compress with gzip [default: off]\n"
		"      --seed N        override the scenario's seed\n"
		"      --duration T    override the duration; phases and markers move in proportion\n"
		"      --scale F       multiply every allocation rate by F [default: 1]\n"
		"      --max-events N  stop after N events [default: no limit]\n"
		"      --truth FILE    write the ground truth (one line per tag) to FILE\n"
		"      --list-formats  list the output formats\n");
}

static int write_truth(const char *path, const struct ptg_scenario *s, const struct ptg_gen *g)
{
	struct pt_outfile of;
	char err[512];
	if (pt_outfile_open(&of, path, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "pt-gen: %s\n", err);
		return -1;
	}
	size_t n;
	const struct ptg_truth *t = ptg_gen_truth(g, &n);
	fprintf(of.fp, "# ground truth of %s (seed %llu)\n", s->name, (unsigned long long)s->seed);
	fprintf(of.fp, "# tag\tpool\tverdict\tallocs\tfrees\tlost_frees\tnever_freed\t"
		       "live_at_end\tbytes_at_wend\tbytes_at_end\n");
	for (size_t i = 0; i < n; i++) {
		char tb[PT_TAG_DISPLAY_MAX];
		pt_tag_escape(t[i].bytes, 4, tb, sizeof(tb));
		fprintf(of.fp, "%s\t%s\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\n", tb,
			pt_pool_id(t[i].pool), t[i].leak ? "leak" : "ok",
			(unsigned long long)t[i].allocs, (unsigned long long)t[i].frees,
			(unsigned long long)t[i].lost_frees, (unsigned long long)t[i].never_freed,
			(unsigned long long)t[i].live_at_end, (unsigned long long)t[i].bytes_at_wend,
			(unsigned long long)t[i].bytes_at_end);
	}
	if (pt_outfile_commit(&of, err, sizeof(err)) < 0) {
		fprintf(stderr, "pt-gen: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *scn = NULL, *out_path = "-", *format = "xml", *truth = NULL;
	struct gen_opts gopts = {PT_XMLW_UTF8};
	bool gzip = false, has_seed = false, has_duration = false;
	uint64_t seed = 0, duration = 0, max_events = 0;
	double scale = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && more) {
			out_path = argv[++i];
		} else if ((!strcmp(a, "-f") || !strcmp(a, "--format")) && more) {
			format = argv[++i];
		} else if (!strcmp(a, "--utf16")) {
			gopts.encoding = PT_XMLW_UTF16LE;
		} else if (!strcmp(a, "--utf16be")) {
			gopts.encoding = PT_XMLW_UTF16BE;
		} else if (!strcmp(a, "-z") || !strcmp(a, "--gzip")) {
			gzip = true;
		} else if (!strcmp(a, "--seed") && more) {
			char *e;
			errno = 0;
			seed = strtoull(argv[++i], &e, 0);
			if (errno || *e) {
				fprintf(stderr, "pt-gen: --seed: not a number\n");
				return 2;
			}
			has_seed = true;
		} else if (!strcmp(a, "--duration") && more) {
			if (pt_parse_duration(argv[++i], &duration) < 0 || !duration) {
				fprintf(stderr, "pt-gen: --duration: expected a time such as 600s\n");
				return 2;
			}
			has_duration = true;
		} else if (!strcmp(a, "--scale") && more) {
			char *e;
			scale = strtod(argv[++i], &e);
			if (*e || !(scale > 0)) {
				fprintf(stderr, "pt-gen: --scale: expected a positive number\n");
				return 2;
			}
		} else if (!strcmp(a, "--max-events") && more) {
			char *e;
			errno = 0;
			max_events = strtoull(argv[++i], &e, 0);
			if (errno || *e) {
				fprintf(stderr, "pt-gen: --max-events: not a number\n");
				return 2;
			}
		} else if (!strcmp(a, "--truth") && more) {
			truth = argv[++i];
		} else if (!strcmp(a, "--list-formats")) {
			for (size_t k = 0; k < sizeof(writers) / sizeof(writers[0]); k++)
				printf("%-10s %s\n", writers[k].name, writers[k].description);
			return 0;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "pt-gen: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else if (!scn) {
			scn = a;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!scn) {
		usage(stderr);
		return 2;
	}
	const struct gen_writer *wr = find_writer(format);
	if (!wr) {
		fprintf(stderr, "pt-gen: unknown format '%s' (see --list-formats)\n", format);
		return 2;
	}

	int ret = 2;
	char err[512];
	struct ptg_scenario *s = NULL;
	struct ptg_gen *g = NULL;
	struct pt_tags *tags = NULL;
	struct pt_outfile of = {0};
	bool of_open = false;
	FILE *fp = NULL;
	struct gen_out go = {0};
	bool writer_open = false;

	if (ptg_scenario_load(scn, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "pt-gen: %s\n", err);
		goto out;
	}
	if (has_seed)
		s->seed = seed;
	if (has_duration)
		ptg_scenario_set_duration(s, duration);
	if (scale != 1)
		ptg_scenario_scale_rates(s, scale);
	tags = pt_tags_new(0);
	g = tags ? ptg_gen_new(s, tags) : NULL;
	if (!g) {
		fprintf(stderr, "pt-gen: out of memory\n");
		goto out;
	}
	struct pt_trace_meta meta;
	ptg_scenario_meta(s, &meta);

	if (pt_outfile_open(&of, out_path, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "pt-gen: %s\n", err);
		goto out;
	}
	of_open = true;
	fp = of.fp;
	if (gzip) {
		fflush(of.fp);
		int fd = dup(fileno(of.fp));
		gzFile gz = fd >= 0 ? gzdopen(fd, "wb9") : NULL;
		if (!gz) {
			if (fd >= 0)
				close(fd);
			fprintf(stderr, "pt-gen: cannot start gzip output\n");
			goto out;
		}
		gzbuffer(gz, 1 << 17);
		cookie_io_functions_t io = {NULL, gz_cookie_write, NULL, gz_cookie_close};
		fp = fopencookie(gz, "w", io);
		if (!fp) {
			gzclose(gz);
			fprintf(stderr, "pt-gen: cannot start gzip output\n");
			goto out;
		}
		setvbuf(fp, NULL, _IOFBF, 1 << 17);
	}
	go.fp = fp;
	go.meta = &meta;
	go.tags = tags;
	go.opts = &gopts;
	int rc = wr->open(&go);
	if (rc < 0) {
		fprintf(stderr, "pt-gen: %s\n", pt_strerror(rc));
		goto out;
	}
	writer_open = true;
	struct pt_event ev;
	uint64_t n = 0;
	while ((!max_events || n < max_events) && (rc = ptg_gen_next(g, &ev)) > 0) {
		rc = wr->event(&go, &ev);
		if (rc < 0)
			break;
		n++;
	}
	if (rc >= 0)
		rc = wr->finish(&go);
	if (rc < 0) {
		fprintf(stderr, "pt-gen: writing %s: %s\n", out_path, pt_strerror(rc));
		goto out;
	}
	wr->close(&go);
	writer_open = false;
	if (!gzip) {
		fp = NULL;
	} else {
		FILE *c = fp;
		fp = NULL;
		if (fclose(c) != 0) {
			fprintf(stderr, "pt-gen: writing %s: gzip error\n", out_path);
			goto out;
		}
	}
	of_open = false;
	if (pt_outfile_commit(&of, err, sizeof(err)) < 0) {
		fprintf(stderr, "pt-gen: %s\n", err);
		goto out;
	}
	if (truth && write_truth(truth, s, g) < 0)
		goto out;
	ret = 0;
out:
	if (writer_open)
		wr->close(&go);
	if (fp && fp != of.fp)
		fclose(fp);
	if (of_open)
		pt_outfile_abort(&of);
	ptg_gen_free(g);
	pt_tags_free(tags);
	ptg_scenario_free(s);
	return ret;
}
