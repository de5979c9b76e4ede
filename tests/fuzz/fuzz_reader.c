/* SPDX-License-Identifier: MIT */
/*
 * Generic reader target, built once per reader of readers/registry.c
 * (tests/fuzz/CMakeLists.txt defines PT_FUZZ_READER as the ops table, e.g.
 * pt_reader_xperf). Each input is read with the format forced, once with
 * keep_going off and once on, every event is checked and replayed, and the
 * replayed trace is judged and written by every reporter.
 */
#include "fuzz_run.h"
#include "readers/readers.h"

#ifndef PT_FUZZ_READER
#error "PT_FUZZ_READER must name a reader ops table"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run_once(data, size, PT_FUZZ_READER.name, false, false);
	fuzz_run_once(data, size, PT_FUZZ_READER.name, true, true);
	return 0;
}
