/* SPDX-License-Identifier: MIT */
/* Internal: the reader ops tables, one per format file in this folder. */
#ifndef PT_READERS_H
#define PT_READERS_H

#include "pooltrace/reader.h"

/*
 * To add a format: write readers/<name>.c defining one
 * `const struct pt_reader_ops pt_reader_<name>`, declare it here and add it
 * to the list in readers/registry.c. Nothing else changes.
 */

extern const struct pt_reader_ops pt_reader_native;
extern const struct pt_reader_ops pt_reader_xperf;
extern const struct pt_reader_ops pt_reader_tracerpt_xml;
extern const struct pt_reader_ops pt_reader_etl;
extern const struct pt_reader_ops pt_reader_ftrace;
extern const struct pt_reader_ops pt_reader_poolmon;

#endif
