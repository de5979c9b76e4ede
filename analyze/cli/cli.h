/* SPDX-License-Identifier: MIT */
/* Internal to the pooltrace program: the subcommand table. */
#ifndef PT_CLI_H
#define PT_CLI_H

#define PT_EXIT_OK 0
#define PT_EXIT_LEAK 1
#define PT_EXIT_USAGE 2

struct pt_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

/* The subcommands, one per cmd_<name>.c; listed in main.c. */
extern const struct pt_cmd pt_cmd_report;
extern const struct pt_cmd pt_cmd_diff;
extern const struct pt_cmd pt_cmd_formats;
extern const struct pt_cmd pt_cmd_convert;
extern const struct pt_cmd pt_cmd_info;
extern const struct pt_cmd pt_cmd_top;

#endif
