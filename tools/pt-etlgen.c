/* SPDX-License-Identifier: MIT */
/*
 * pt-etlgen: write a synthetic kernel pool ETL file (benchmarks, fixtures).
 * A steady mix of allocations and frees over a few tags on several CPUs, one
 * tag ("Leak") that never frees, workload-start/-end marks, then a cool-down
 * that frees every other outstanding allocation (so "Leak" is the one leak).
 * With --stacks every allocation is followed by its StackWalk record and the
 * trace starts with image rundown records: "Leak" allocations come from two
 * call paths in leaky.sys, the others from ntoskrnl.exe; the live bytes of
 * each "Leak" path are printed on stdout as the expected answer.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/etlwrite.h"
#include "pooltrace/tags.h"
#include "pooltrace/util.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pt-etlgen [OPTIONS] -o FILE\n\n"
		"Options:\n"
		"  -n, --events N        pool events in the workload (default 100000), plus the cool-down frees\n"
		"  -c, --cpus N          CPUs (default 4)\n"
		"  -p, --pointer-size N  4 or 8 (default 8)\n"
		"  -b, --buffer-size N   bytes per buffer (default 65536)\n"
		"  -z, --compress        XPRESS-compressed buffers (default off)\n"
		"  -H, --header H        system, compact or perfinfo (default system)\n"
		"  -l, --lost-every N    EVENTS_LOST flag on every Nth buffer (default 0, never)\n"
		"  -s, --seed N          random seed (default 1)\n"
		"  -S, --stacks          StackWalk records after every allocation, image rundown\n"
		"                        records at the start; prints the Leak stacks' totals\n"
		"  -o, --output FILE     output file (required)\n");
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"events", required_argument, NULL, 'n'},
		{"cpus", required_argument, NULL, 'c'},
		{"pointer-size", required_argument, NULL, 'p'},
		{"buffer-size", required_argument, NULL, 'b'},
		{"compress", no_argument, NULL, 'z'},
		{"header", required_argument, NULL, 'H'},
		{"lost-every", required_argument, NULL, 'l'},
		{"seed", required_argument, NULL, 's'},
		{"stacks", no_argument, NULL, 'S'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t nev = 100000;
	uint64_t seed = 1;
	bool stacks = false;
	const char *outpath = NULL;
	struct pt_etlw_opts o;
	memset(&o, 0, sizeof(o));
	o.num_cpus = 4;
	o.pool_tracing = 1;
	int c;
	while ((c = getopt_long(argc, argv, "n:c:p:b:zH:l:s:So:h", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			nev = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			o.num_cpus = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'p':
			o.pointer_size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			o.buffer_size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'z':
			o.compress = true;
			break;
		case 'H':
			if (!strcmp(optarg, "system"))
				o.header = PT_ETLW_SYSTEM;
			else if (!strcmp(optarg, "compact"))
				o.header = PT_ETLW_COMPACT;
			else if (!strcmp(optarg, "perfinfo"))
				o.header = PT_ETLW_PERFINFO;
			else {
				fprintf(stderr, "pt-etlgen: unknown header '%s'\n", optarg);
				return 2;
			}
			break;
		case 'l':
			o.lost_flag_every = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'S':
			stacks = true;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!outpath || optind != argc) {
		usage(stderr);
		return 2;
	}
	rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
	struct pt_tags *tags = pt_tags_new(0);
	static const char *const names[] = {"Proc", "File", "Irp ", "MmSt", "Ntfx", "Leak"};
	pt_tag_id ids[6];
	for (int i = 0; i < 6; i++)
		pt_tags_intern(tags, names[i], 4, &ids[i]);
	char err[256];
	struct pt_outfile of;
	if (pt_outfile_open(&of, outpath, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "pt-etlgen: %s\n", err);
		return 2;
	}
	struct pt_etlw *w;
	int rc = pt_etlw_open(&w, of.fp, &o, tags);
	if (rc < 0) {
		fprintf(stderr, "pt-etlgen: %s\n", pt_strerror(rc));
		pt_outfile_abort(&of);
		return 2;
	}
	/* live allocations per slot: a ring so frees match earlier allocations */
	enum { LIVE = 4096 };
	static uint64_t live_addr[LIVE];
	static uint8_t live_tag[LIVE];
	static uint64_t live_size[LIVE];
	uint64_t next_addr = 0xFFFF800000000000ull;
	if (o.pointer_size == 4)
		next_addr = 0x80000000ull;
	uint64_t t = 0;
	struct pt_event ev;
	/* images: the kernel and a driver; "Leak" comes from two paths in the driver */
	bool p32 = o.pointer_size == 4;
	uint64_t nt = p32 ? 0x82000000ull : 0xFFFFF80001000000ull;
	uint64_t drv = p32 ? 0x8A000000ull : 0xFFFFF80005000000ull;
	const uint64_t path_a[] = {nt + 0x1234, drv + 0x1100, drv + 0x2200, nt + 0x5000};
	const uint64_t path_b[] = {nt + 0x1234, drv + 0x1300, drv + 0x3300, nt + 0x5000};
	const uint64_t other[] = {nt + 0x1234, nt + 0x40000, 0x1000};
	uint64_t leak_n[2] = {0, 0}, leak_bytes[2] = {0, 0};
	if (stacks) {
		pt_event_init(&ev);
		ev.kind = PT_EV_IMAGE;
		ev.cpu = 0;
		ev.pid = 0;
		ev.addr = nt;
		ev.size = 0x800000;
		ev.marker = "\\SystemRoot\\system32\\ntoskrnl.exe";
		rc = pt_etlw_event(w, &ev);
		ev.addr = drv;
		ev.size = 0x20000;
		ev.marker = "\\SystemRoot\\system32\\drivers\\leaky.sys";
		if (rc == 0)
			rc = pt_etlw_event(w, &ev);
	}
	pt_event_init(&ev);
	ev.kind = PT_EV_MARKER;
	ev.marker = "workload-start";
	ev.cpu = 0;
	if (rc == 0)
		rc = pt_etlw_event(w, &ev);
	for (uint64_t i = 0; i < nev && rc == 0; i++) {
		t += 100 * (1 + rnd() % 4);
		pt_event_init(&ev);
		ev.ts_ns = t;
		uint32_t slot = (uint32_t)(rnd() % LIVE);
		ev.cpu = (uint32_t)(rnd() % (o.num_cpus ? o.num_cpus : 1));
		ev.pid = 4 + (uint32_t)(rnd() % 8) * 4;
		ev.tid = 100 + (uint32_t)(rnd() % 64) * 4;
		if (live_addr[slot]) {
			ev.kind = PT_EV_FREE;
			ev.tag = ids[live_tag[slot]];
			ev.addr = live_addr[slot];
			ev.size = live_size[slot];
			ev.raw_pool_type = live_tag[slot] & 1;
			live_addr[slot] = 0;
		} else {
			uint8_t tg = (uint8_t)(rnd() % 6);
			ev.kind = PT_EV_ALLOC;
			ev.tag = ids[tg];
			ev.size = 16 + (rnd() % 64) * 16;
			next_addr += 0x40 + ev.size;
			ev.addr = next_addr;
			ev.raw_pool_type = tg & 1;
			if (tg != 5) { /* "Leak" allocations are never freed */
				live_addr[slot] = ev.addr;
				live_tag[slot] = tg;
				live_size[slot] = ev.size;
			}
		}
		ev.pool = pt_pool_from_windows(ev.raw_pool_type, &ev.pool_flags);
		rc = pt_etlw_event(w, &ev);
		if (stacks && rc == 0 && ev.kind == PT_EV_ALLOC) {
			/* the stack record follows its event on the same CPU and thread */
			struct pt_event sk = ev;
			sk.kind = PT_EV_STACK;
			sk.stack_ts_ns = ev.ts_ns;
			if (ev.tag == ids[5]) {
				int path = (int)(rnd() % 3 == 0);
				sk.frames = path ? path_b : path_a;
				sk.nframes = 4;
				leak_n[path]++;
				leak_bytes[path] += ev.size;
			} else {
				sk.frames = other;
				sk.nframes = 3;
			}
			rc = pt_etlw_event(w, &sk);
		}
	}
	if (rc == 0) {
		t += 100;
		pt_event_init(&ev);
		ev.kind = PT_EV_MARKER;
		ev.marker = "workload-end";
		ev.ts_ns = t;
		ev.cpu = 0;
		rc = pt_etlw_event(w, &ev);
	}
	/* cool-down: everything but "Leak" is freed */
	for (uint32_t slot = 0; slot < LIVE && rc == 0; slot++) {
		if (!live_addr[slot])
			continue;
		t += 100;
		pt_event_init(&ev);
		ev.ts_ns = t;
		ev.kind = PT_EV_FREE;
		ev.cpu = slot % (o.num_cpus ? o.num_cpus : 1);
		ev.tag = ids[live_tag[slot]];
		ev.addr = live_addr[slot];
		ev.size = live_size[slot];
		ev.raw_pool_type = live_tag[slot] & 1;
		ev.pool = pt_pool_from_windows(ev.raw_pool_type, &ev.pool_flags);
		rc = pt_etlw_event(w, &ev);
	}
	if (rc == 0)
		rc = pt_etlw_finish(w);
	pt_etlw_free(w);
	pt_tags_free(tags);
	if (rc < 0) {
		fprintf(stderr, "pt-etlgen: %s\n", pt_strerror(rc));
		pt_outfile_abort(&of);
		return 2;
	}
	if (pt_outfile_commit(&of, err, sizeof(err)) < 0) {
		fprintf(stderr, "pt-etlgen: %s\n", err);
		return 2;
	}
	if (stacks) {
		printf("Leak path a: %" PRIu64 " allocations, %" PRIu64 " bytes\n", leak_n[0],
		       leak_bytes[0]);
		printf("Leak path b: %" PRIu64 " allocations, %" PRIu64 " bytes\n", leak_n[1],
		       leak_bytes[1]);
	}
	return 0;
}
