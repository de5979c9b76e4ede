/* SPDX-License-Identifier: MIT */
/* Internal to the pooltrace program: option tables, help text and the shared load pipeline. */
#ifndef PT_CLI_COMMON_H
#define PT_CLI_COMMON_H

#include <stdbool.h>
#include <stdio.h>

#include "pooltrace/pooltrace.h"

/* One command-line option: drives getopt_long and --help alike. */
struct pt_opt {
	const char *name;   /* long name without "--" */
	int letter;         /* short letter, or 0 */
	const char *arg;    /* argument placeholder, NULL for a flag */
	int id;             /* value returned by the parser */
	const char *def;    /* default shown in --help, NULL for none */
	const char *help;
};

/* Option ids shared by the analysis commands (pt_cli_analysis_opts). */
enum {
	PT_OPT_HELP = 1000,
	PT_OPT_INPUT_FORMAT,
	PT_OPT_KEEP_GOING,
	PT_OPT_QUIET,
	PT_OPT_WSTART,
	PT_OPT_WEND,
	PT_OPT_INTERVAL,
	PT_OPT_MIN_LEAK,
	PT_OPT_SNAP_INTERVAL,
	PT_OPT_MAX_LIVE,
	PT_OPT_TAGS,
	PT_OPT_EXCLUDE,
	PT_OPT_SUPPRESS,
	PT_OPT_MIN_CONFIDENCE,
	PT_OPT_MAX_LINE,
	PT_OPT_MAX_DECOMPRESSED,
	PT_OPT_MAX_TAGS,
	PT_OPT_MAX_XML_DEPTH,
	PT_OPT_MAX_XML_NODE,
	PT_OPT_FIRST_CMD_OPT_ = 1100 /* command-specific ids start here */
};

/* What every analysis command needs to load a trace. */
struct pt_cli_common {
	const char *input_format;
	bool quiet;
	struct pt_reader_opts ropts;
	uint64_t max_tags;        /* distinct tags (0: the library default) */
	struct pt_replay_opts rpopts;
	struct pt_verdict_opts vopts;
	struct pt_tagfilter *filter;  /* --tags, --exclude, --suppress (NULL when none given) */
};

/* A loaded and judged trace. */
struct pt_loaded {
	struct pt_tags *tags;
	struct pt_reader *reader;
	struct pt_replay *rp;
	struct pt_tag_verdict *verdicts;
};

/** pt_cli_common_init() - defaults for every field. */
void pt_cli_common_init(struct pt_cli_common *c);

/**
 * pt_cli_parse() - parse argv with getopt_long from the tables (a NULL-name
 * terminated array each; @common may be NULL). Calls @fn for command ids.
 * Handles --help itself (prints help, returns 1).
 * @return: 0 parsed, 1 help printed, PT_EUSAGE after a message on stderr.
 */
int pt_cli_parse(int argc, char **argv, const char *usage, const char *intro,
		 const struct pt_opt *cmd_opts, struct pt_cli_common *common,
		 int (*fn)(void *ctx, int id, const char *arg), void *ctx, int *optind_out);

/** pt_cli_help() - print usage, intro and every option with its default. */
void pt_cli_help(FILE *out, const char *usage, const char *intro, const struct pt_opt *cmd_opts,
		 bool analysis);

/**
 * pt_cli_limit_opt() - parse one of the --max-* input caps shared by the
 * commands (id PT_OPT_MAX_LINE ... PT_OPT_MAX_XML_NODE) into ropts/max_tags.
 * @return: 0, 1 when id is not one of them, PT_EUSAGE after a message.
 */
int pt_cli_limit_opt(struct pt_reader_opts *ropts, uint64_t *max_tags, int id, const char *arg);

/**
 * pt_cli_limit_hint() - after a PT_ELIMIT failure: name the options that
 * raise the caps, with their values, on stderr.
 */
void pt_cli_limit_hint(const struct pt_reader_opts *ropts, uint64_t max_tags);

/**
 * pt_cli_load() - open, replay and judge one trace.
 * @return: 0, or a negative code after printing "pooltrace: <message>" to stderr.
 */
int pt_cli_load(const char *path, const struct pt_cli_common *c, struct pt_loaded *out);

/** pt_loaded_release() - free what pt_cli_load() made. */
void pt_loaded_release(struct pt_loaded *l);

/** pt_cli_common_release() - free what option parsing allocated. */
void pt_cli_common_release(struct pt_cli_common *c);

/**
 * pt_cli_worst_verdict() - the most severe verdict among tags that are shown
 * and not suppressed (PT_VERDICT_OK when none).
 */
enum pt_verdict_kind pt_cli_worst_verdict(const struct pt_loaded *l);

/** pt_cli_command_line() - argv joined with spaces (malloc'ed; NULL on failure). */
char *pt_cli_command_line(int argc, char **argv);

#endif
