/* SPDX-License-Identifier: MIT */
/* pooltrace: subcommand dispatch. One cmd_<name>.c per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pooltrace/pooltrace.h"

static const struct pt_cmd *const commands[] = {
	&pt_cmd_report,
	&pt_cmd_diff,
	&pt_cmd_formats,
	&pt_cmd_convert,
	&pt_cmd_info,
	&pt_cmd_top,
	NULL
};

static void usage(FILE *out)
{
	fprintf(out, "usage: pooltrace COMMAND [OPTIONS] TRACE...\n\n"
		     "Replays kernel pool traces and flags tags that do not drain.\n\n"
		     "Commands:\n");
	for (size_t i = 0; commands[i]; i++)
		fprintf(out, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\n'pooltrace COMMAND --help' lists the options of a command.\n"
		     "Exit status: 0 no leak flagged, 1 leak flagged, 2 usage or input error.\n"
		     "Environment: POOLTRACE_THREADS=1 runs in one thread (default, with 2+ CPUs: text\n"
		     "formats are parsed in a thread next to the replay, .gz inputs inflated in another).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return PT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("pooltrace %s\n", PT_VERSION_STRING);
		return 0;
	}
	for (size_t i = 0; commands[i]; i++)
		if (!strcmp(argv[1], commands[i]->name))
			return commands[i]->run(argc - 1, argv + 1);
	fprintf(stderr, "pooltrace: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return PT_EXIT_USAGE;
}
