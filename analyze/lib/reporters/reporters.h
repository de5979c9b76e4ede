/* SPDX-License-Identifier: MIT */
/* Internal: the reporter ops tables, one per file in this folder. */
#ifndef PT_REPORTERS_H
#define PT_REPORTERS_H

#include "pooltrace/report.h"

/*
 * To add an output format: write reporters/<name>.c defining one
 * `const struct pt_reporter_ops pt_reporter_<name>`, declare it here and add
 * it to the list in reporters/registry.c.
 */
extern const struct pt_reporter_ops pt_reporter_text;
extern const struct pt_reporter_ops pt_reporter_json;
extern const struct pt_reporter_ops pt_reporter_md;
extern const struct pt_reporter_ops pt_reporter_csv;
extern const struct pt_reporter_ops pt_reporter_html;

#endif
