/* SPDX-License-Identifier: MIT */
/* pooltrace convert: any trace pooltrace reads, written as a native trace. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "pooltrace/native.h"
#include "pooltrace/xmlwrite.h"
#include "pooltrace/pooltrace.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pooltrace convert IN -o OUT [--to native|xml] [--format F] [--keep-going]\n\n"
		"Writes any trace pooltrace reads (IN, '-' for stdin) as another format.\n\n"
		"  -o, --output OUT   file to write ('-' for stdout); required; never IN itself\n"
		"      --to FMT       output format: native (default; the .ptz format of\n"
		"                     docs/trace-format.md) or xml (tracerpt-style XML, which\n"
		"                     holds Windows pool events and markers only)\n"
		"  -f, --format F     read IN as format F instead of detecting it; one of:\n");
	const struct pt_reader_ops *const *list = pt_reader_list();
	for (size_t i = 0; list[i]; i++)
		fprintf(out, "                       %-14s %s\n", list[i]->name, list[i]->description);
	fprintf(out,
		"  -k, --keep-going   skip bad events and damaged chunks (counted) instead of failing\n"
		"  -q, --quiet        no warnings or summary on stderr\n"
		"      --max-line SIZE, --max-decompressed SIZE, --max-tags N,\n"
		"      --max-xml-depth N, --max-xml-node SIZE\n"
		"                     input safety caps, as for 'pooltrace report'\n"
		"  -h, --help         this text\n\n"
		"The output is written to a temporary file renamed into place at the end,\n"
		"so OUT is never left half-written. Exit status 0 ok, 2 usage or input error.\n");
}

/*
 * Every event of r as tracerpt-style XML. The format has no place for Linux
 * pool kinds, snapshot rows or tags longer than 4 bytes: such an event stops
 * the conversion with a message saying which event it was.
 */
static int xml_copy(struct pt_reader *r, FILE *out, uint64_t *events, char *err, size_t errsz)
{
	struct pt_xmlw *w = pt_xmlw_new(out, pt_reader_meta(r), r->tags);
	struct pt_event ev;
	int rc;
	*events = 0;
	if (!w) {
		snprintf(err, errsz, "%s", pt_strerror(PT_ENOMEM));
		return PT_ENOMEM;
	}
	while ((rc = pt_reader_next(r, &ev)) > 0) {
		rc = pt_xmlw_event(w, &ev);
		if (rc == PT_EUNSUPPORTED) {
			snprintf(err, errsz,
				 "%s: event %llu (%s, pool %s) has no tracerpt XML form: XML holds "
				 "Windows pool events and markers only; use --to native",
				 pt_input_name(r->in), (unsigned long long)*events + 1,
				 pt_event_kind_name(ev.kind), pt_pool_name(ev.pool));
			goto out;
		}
		if (rc < 0) {
			snprintf(err, errsz, "write error: %s", pt_strerror(rc));
			goto out;
		}
		(*events)++;
	}
	if (rc < 0) {
		snprintf(err, errsz, "%s", pt_reader_errmsg(r));
		goto out;
	}
	rc = pt_xmlw_finish(w);
	if (rc < 0)
		snprintf(err, errsz, "write error: %s", pt_strerror(rc));
out:
	pt_xmlw_free(w);
	return rc;
}

/* The command line as one string, for the file header. */
static char *join_args(int argc, char **argv)
{
	size_t n = strlen("pooltrace") + 1;
	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	char *s = malloc(n);
	if (!s)
		return NULL;
	strcpy(s, "pooltrace");
	for (int i = 0; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int run_convert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"to", required_argument, NULL, 't'},
		{"format", required_argument, NULL, 'f'},
		{"keep-going", no_argument, NULL, 'k'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"max-line", required_argument, NULL, PT_OPT_MAX_LINE},
		{"max-decompressed", required_argument, NULL, PT_OPT_MAX_DECOMPRESSED},
		{"max-tags", required_argument, NULL, PT_OPT_MAX_TAGS},
		{"max-xml-depth", required_argument, NULL, PT_OPT_MAX_XML_DEPTH},
		{"max-xml-node", required_argument, NULL, PT_OPT_MAX_XML_NODE},
		{NULL, 0, NULL, 0},
	};
	const char *out_path = NULL, *to = "native", *format = NULL;
	struct pt_reader_opts ropts = {0};
	uint64_t max_tags = 0;
	int c;
	while ((c = getopt_long(argc, argv, "o:f:kqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out_path = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'k':
			ropts.keep_going = true;
			break;
		case 'q':
			ropts.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return PT_EXIT_OK;
		default:
			if (pt_cli_limit_opt(&ropts, &max_tags, c, optarg) == 0)
				break;
			usage(stderr);
			return PT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !out_path) {
		fprintf(stderr, "pooltrace convert: %s\n",
			optind >= argc ? "no input trace given" :
			optind < argc - 1 ? "exactly one input trace, please" : "-o OUT is required");
		usage(stderr);
		return PT_EXIT_USAGE;
	}
	if (strcmp(to, "native") != 0 && strcmp(to, "xml") != 0) {
		fprintf(stderr, "pooltrace convert: unknown output format '%s' (known: native, xml)\n", to);
		return PT_EXIT_USAGE;
	}
	const char *in_path = argv[optind];
	if (strcmp(in_path, "-") != 0 && strcmp(out_path, "-") != 0 && !strcmp(in_path, out_path)) {
		fprintf(stderr, "pooltrace convert: %s: refusing to overwrite the input trace\n",
			out_path);
		return PT_EXIT_USAGE;
	}

	int status = PT_EXIT_USAGE;
	char err[512] = "";
	struct pt_tags *tags = pt_tags_new((size_t)max_tags);
	struct pt_reader *r = NULL;
	struct pt_outfile of = {0};
	bool of_open = false;
	char *cmdline = join_args(argc, argv);
	if (!tags || !cmdline) {
		fprintf(stderr, "pooltrace convert: %s\n", pt_strerror(PT_ENOMEM));
		goto out;
	}
	int rc = pt_reader_open(&r, in_path, format, tags, &ropts, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "pooltrace convert: %s\n", err);
		if (rc == PT_ELIMIT)
			pt_cli_limit_hint(&ropts, max_tags);
		goto out;
	}
	rc = pt_outfile_open(&of, out_path, in_path, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "pooltrace convert: %s\n", err);
		goto out;
	}
	of_open = true;
	uint64_t events = 0;
	if (!strcmp(to, "xml"))
		rc = xml_copy(r, of.fp, &events, err, sizeof(err));
	else
		rc = pt_native_copy(r, of.fp, cmdline, "pooltrace convert " PT_VERSION_STRING, &events,
				    err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "pooltrace convert: %s\n", err);
		if (rc == PT_ELIMIT)
			pt_cli_limit_hint(&ropts, max_tags);
		goto out;
	}
	long bytes = of.fp != stdout ? ftell(of.fp) : -1;
	rc = pt_outfile_commit(&of, err, sizeof(err));
	of_open = false;
	if (rc < 0) {
		fprintf(stderr, "pooltrace convert: %s\n", err);
		goto out;
	}
	if (!ropts.quiet) {
		fprintf(stderr, "%s: %llu events (%s) -> %s", pt_input_name(r->in),
			(unsigned long long)events, r->ops->name, out_path);
		if (bytes >= 0)
			fprintf(stderr, ", %ld bytes", bytes);
		if (r->skipped_bad)
			fprintf(stderr, ", %llu bad events skipped",
				(unsigned long long)r->skipped_bad);
		fputc('\n', stderr);
	}
	status = PT_EXIT_OK;
out:
	if (of_open)
		pt_outfile_abort(&of);
	pt_reader_free(r);
	pt_tags_free(tags);
	free(cmdline);
	return status;
}

const struct pt_cmd pt_cmd_convert = {
	.name = "convert",
	.summary = "write a trace in another format (native .ptz or tracerpt XML)",
	.run = run_convert,
};
