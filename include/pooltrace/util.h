/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the programs: outputs written atomically, argument parsers. */
#ifndef POOLTRACE_UTIL_H
#define POOLTRACE_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An output file written to a temporary name and renamed into place on commit. */
struct pt_outfile {
	FILE *fp;
	char *path;     /* final path, NULL for stdout */
	char *tmp;      /* temporary path */
	bool direct;    /* an existing device or FIFO, written in place (no temporary) */
};

/**
 * pt_outfile_open() - open path for writing through a temporary file in the
 * same folder; "-" or NULL means stdout. Refuses (PT_EUSAGE) when path names
 * the same file as @input (may be NULL).
 * @return: 0 or a negative PT_E* code; err receives a message.
 */
int pt_outfile_open(struct pt_outfile *o, const char *path, const char *input,
		    char *err, size_t errsz);

/**
 * pt_outfile_commit() - flush, fsync and rename into place (or flush stdout).
 * @return: 0, or PT_EIO with err set; the temporary is removed on failure.
 */
int pt_outfile_commit(struct pt_outfile *o, char *err, size_t errsz);

/** pt_outfile_abort() - drop the temporary file; the target is untouched. */
void pt_outfile_abort(struct pt_outfile *o);

/**
 * pt_parse_duration() - "90", "1.5", "250ms", "30s", "30m", "2h", "100us", "5ns"
 * to nanoseconds; a bare number is seconds.
 * @return: 0 or PT_EUSAGE.
 */
int pt_parse_duration(const char *s, uint64_t *ns);

/**
 * pt_parse_size() - "4096", "4k", "4KiB", "1M", "2G" to bytes (binary units).
 * @return: 0 or PT_EUSAGE.
 */
int pt_parse_size(const char *s, uint64_t *bytes);

/**
 * pt_progress_format() - one progress line for a terminal:
 * "[#####-----]  45%  120.3 MiB / 267.0 MiB  1.2M events  410k ev/s  ETA 0:42".
 * @done, @total: bytes read and the input size (@total 0: unknown, no bar or ETA).
 * @events: events so far. @elapsed_s: seconds since the start.
 * @width: columns available (the line never exceeds width - 1).
 * @return: buf.
 */
char *pt_progress_format(char *buf, size_t bufsz, uint64_t done, uint64_t total,
			 uint64_t events, double elapsed_s, unsigned width);

/**
 * pt_threads_allowed() - whether work may go to a second thread: with
 * POOLTRACE_THREADS set, when its value is 2 or more (1 turns threads off);
 * unset, when the machine has two CPUs or more online.
 */
bool pt_threads_allowed(void);

#ifdef __cplusplus
}
#endif
#endif
