/* SPDX-License-Identifier: MIT */
/*
 * pt-etlbench: read a trace REPEAT times in one process and print events/s
 * and (for ETL) records/s, by wall clock and by CPU time of this process.
 * Events are read in batches (pt_reader_next_batch()), as the replay does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "etl/etl.h"
#include "pooltrace/pooltrace.h"

static double now(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: pt-etlbench TRACE [REPEAT]\n");
		return 2;
	}
	long repeat = argc == 3 ? strtol(argv[2], NULL, 10) : 1;
	if (repeat < 1)
		repeat = 1;
	uint64_t events = 0, records = 0;
	double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < repeat; i++) {
		struct pt_tags *tags = pt_tags_new(0);
		struct pt_reader *r;
		char err[512];
		if (pt_reader_open(&r, argv[1], NULL, tags, NULL, err, sizeof(err)) < 0) {
			fprintf(stderr, "pt-etlbench: %s\n", err);
			return 2;
		}
		/* in batches, as `pooltrace report` reads */
		static struct pt_event evs[PT_REPLAY_BATCH_MAX];
		int rc;
		while ((rc = pt_reader_next_batch(r, evs, PT_REPLAY_BATCH_MAX)) > 0)
			events += (uint64_t)rc;
		if (rc < 0) {
			fprintf(stderr, "pt-etlbench: %s\n", pt_reader_errmsg(r));
			return 2;
		}
		const struct pt_etl_stats *st = pt__etl_stats(r);
		if (st)
			records += st->records;
		pt_reader_free(r);
		pt_tags_free(tags);
	}
	double w = now(CLOCK_MONOTONIC) - w0, c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	printf("runs %ld events %" PRIu64 " records %" PRIu64 " wall %.3f s cpu %.3f s\n", repeat,
	       events, records, w, c);
	printf("events/s: %.2f M (wall) %.2f M (cpu); records/s: %.2f M (wall) %.2f M (cpu)\n",
	       (double)events / w / 1e6, (double)events / c / 1e6, (double)records / w / 1e6,
	       (double)records / c / 1e6);
	return 0;
}
