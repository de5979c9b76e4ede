/* SPDX-License-Identifier: MIT */
/* pooltrace formats: the trace readers and report formats this build knows. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pooltrace/pooltrace.h"

static int run(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: pooltrace formats\n\nLists the trace formats (for --input-format) and "
		     "report formats (for report --format).");
		return PT_EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "pooltrace formats: takes no arguments\n");
		return PT_EXIT_USAGE;
	}
	puts("Trace formats (detected by content; gzip-compressed input is read too):");
	for (const struct pt_reader_ops *const *r = pt_reader_list(); *r; r++)
		printf("  %-14s %s\n", (*r)->name, (*r)->description);
	puts("\nReport formats:");
	for (const struct pt_reporter_ops *const *r = pt_reporter_list(); *r; r++)
		printf("  %-14s %s\n", (*r)->name, (*r)->description);
	return fflush(stdout) == 0 ? PT_EXIT_OK : PT_EXIT_USAGE;
}

const struct pt_cmd pt_cmd_formats = {
	.name = "formats",
	.summary = "list the trace and report formats",
	.run = run,
};
