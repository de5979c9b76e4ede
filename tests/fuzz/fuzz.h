/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets and the regression driver. Every fuzz_<name>.c
 * defines LLVMFuzzerTestOneInput(); libFuzzer calls it in the fuzz build,
 * regression_driver.c calls it over corpus files in the normal build.
 */
#ifndef PT_FUZZ_H
#define PT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/** LLVMFuzzerTestOneInput() - run one input; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: abort (a finding) when it does not hold. */
#define PT_FUZZ_CHECK(cond)                                                        \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                  \
			abort();                                                   \
		}                                                                  \
	} while (0)

#endif
