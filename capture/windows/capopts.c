/* SPDX-License-Identifier: MIT */
/* pooltrace-capture command line: portable, no getopt (see wincap.h). */
#include <stdio.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/util.h"
#include "wincap.h"

static const char usage[] =
	"usage: pooltrace-capture [-o FILE] [--tags T1,T2,...] [--pool paged|nonpaged|both]\n"
	"                         [--duration D] [--cooldown D] [--snapshot-interval D]\n"
	"                         [--snapshots-only] [--buffer-size SIZE] [--stacks]\n"
	"                         [-q] [-- COMMAND ARGS...]\n"
	"       pooltrace-capture --mark TEXT\n"
	"\n"
	"Records kernel pool allocations and frees with an ETW kernel session into an\n"
	".etl file (run from an elevated prompt). With -- COMMAND: marks workload-start,\n"
	"runs COMMAND, marks workload-end with its exit status, keeps recording for the\n"
	"cool-down, then stops. Without a command: records until --duration or Ctrl-C.\n"
	"Then: pooltrace report FILE\n"
	"\n"
	"  -o, --output FILE        trace to write [default: pooltrace.etl, or\n"
	"                           pooltrace.ptz with --snapshots-only]\n"
	"  --tags T1,T2,...         record only these pool tags (at most 4, 1 to 4\n"
	"                           characters each, no wildcards) [default: all]\n"
	"  --pool paged|nonpaged|both\n"
	"                           pools the snapshot rows cover [default: both]\n"
	"  --duration D             stop after D (90, 30s, 5m, 2h) [default: no limit]\n"
	"  --cooldown D             keep recording D after COMMAND exits [default: 10s]\n"
	"  --snapshot-interval D    also sample the per-tag pool counters (as PoolMon\n"
	"                           does) every D into FILE.snapshots.ptz\n"
	"  --snapshots-only         no ETW session: only the counter samples, written\n"
	"                           to FILE as a native trace (needs --snapshot-interval)\n"
	"  --buffer-size SIZE       ETW buffer size (4k to 1M) [default: 64k]\n"
	"  --stacks                 record call stacks of pool allocations and frees\n"
	"  --mark TEXT              add marker TEXT to the running capture and exit\n"
	"  -q, --quiet              no summary line\n"
	"  -h, --help               this text\n"
	"  --version                program version\n"
	"\n"
	"Ctrl-C stops the capture cleanly: the trace is flushed and complete.\n"
	"Exit status: 0 trace written, 2 usage or setup error.\n";

const char *pt_capopts_usage(void)
{
	return usage;
}

const char *pt_cap_pool_name(enum pt_cap_pool pool)
{
	switch (pool) {
	case PT_CAP_POOL_PAGED:
		return "paged";
	case PT_CAP_POOL_NONPAGED:
		return "nonpaged";
	case PT_CAP_POOL_SLAB:
		return "slab";
	case PT_CAP_POOL_KMALLOC:
		return "kmalloc";
	default:
		return "both";
	}
}

/* Options that take a value. */
enum opt_id {
	OPT_OUTPUT,
	OPT_TAGS,
	OPT_POOL,
	OPT_DURATION,
	OPT_COOLDOWN,
	OPT_SNAPSHOT,
	OPT_BUFFER,
	OPT_MARK,
	OPT_CONTROL,
	OPT_STACKS,
	OPT_SNAP_ONLY,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION
};

struct opt_def {
	const char *name;
	enum opt_id id;
	bool value;
};

static const struct opt_def opts[] = {
	{"output", OPT_OUTPUT, true},
	{"tags", OPT_TAGS, true},
	{"pool", OPT_POOL, true},
	{"duration", OPT_DURATION, true},
	{"cooldown", OPT_COOLDOWN, true},
	{"snapshot-interval", OPT_SNAPSHOT, true},
	{"buffer-size", OPT_BUFFER, true},
	{"mark", OPT_MARK, true},
	{"control", OPT_CONTROL, true},
	{"stacks", OPT_STACKS, false},
	{"snapshots-only", OPT_SNAP_ONLY, false},
	{"quiet", OPT_QUIET, false},
	{"help", OPT_HELP, false},
	{"version", OPT_VERSION, false},
};

static const struct opt_def *find_opt(enum opt_id id)
{
	for (size_t k = 0; k < sizeof(opts) / sizeof(*opts); k++)
		if (opts[k].id == id)
			return &opts[k];
	return NULL;
}

static int duration_arg(const char *name, const char *val, uint64_t *ns, char *err, size_t errsz)
{
	if (pt_parse_duration(val, ns) < 0) {
		snprintf(err, errsz, "--%s: \"%s\" is not a duration (e.g. 30s, 250ms, 5m)", name,
			 val);
		return PT_EUSAGE;
	}
	return 0;
}

static int apply(struct pt_capopts *o, const struct opt_def *d, const char *val, char *err,
		 size_t errsz)
{
	switch (d->id) {
	case OPT_OUTPUT:
		if (!*val) {
			snprintf(err, errsz, "--output: empty file name");
			return PT_EUSAGE;
		}
		o->output = val;
		return 0;
	case OPT_TAGS:
		o->tags = val;
		return 0;
	case OPT_POOL:
		if (!strcmp(val, "both"))
			o->pool = PT_CAP_POOL_BOTH;
		else if (!strcmp(val, "paged"))
			o->pool = PT_CAP_POOL_PAGED;
		else if (!strcmp(val, "nonpaged"))
			o->pool = PT_CAP_POOL_NONPAGED;
		else if (!strcmp(val, "slab"))
			o->pool = PT_CAP_POOL_SLAB;
		else if (!strcmp(val, "kmalloc"))
			o->pool = PT_CAP_POOL_KMALLOC;
		else {
			snprintf(err, errsz,
				 "--pool: \"%s\" is not both, paged, nonpaged, slab or kmalloc", val);
			return PT_EUSAGE;
		}
		return 0;
	case OPT_DURATION:
		o->has_duration = true;
		if (duration_arg(d->name, val, &o->duration_ns, err, errsz) < 0)
			return PT_EUSAGE;
		if (!o->duration_ns) {
			snprintf(err, errsz, "--duration: must be more than 0");
			return PT_EUSAGE;
		}
		return 0;
	case OPT_COOLDOWN:
		o->has_cooldown = true;
		return duration_arg(d->name, val, &o->cooldown_ns, err, errsz);
	case OPT_SNAPSHOT:
		if (duration_arg(d->name, val, &o->snapshot_ns, err, errsz) < 0)
			return PT_EUSAGE;
		if (o->snapshot_ns < PT_CAP_MIN_SNAPSHOT_NS) {
			snprintf(err, errsz, "--snapshot-interval: \"%s\" is below the minimum of 10ms",
				 val);
			return PT_EUSAGE;
		}
		return 0;
	case OPT_BUFFER:
		if (pt_parse_size(val, &o->buffer_bytes) < 0 || o->buffer_bytes == 0) {
			snprintf(err, errsz, "--buffer-size: \"%s\" is not a size (e.g. 64k, 1M)", val);
			return PT_EUSAGE;
		}
		return 0;
	case OPT_MARK:
		if (!*val) {
			snprintf(err, errsz, "--mark: empty text");
			return PT_EUSAGE;
		}
		o->mark = val;
		return 0;
	case OPT_CONTROL:
		o->control = val;
		return 0;
	case OPT_STACKS:
		o->stacks = true;
		return 0;
	case OPT_SNAP_ONLY:
		o->snapshots_only = true;
		return 0;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_HELP:
		o->help = true;
		return 0;
	case OPT_VERSION:
		o->version = true;
		return 0;
	}
	return PT_EUSAGE;
}

int pt_capopts_parse(struct pt_capopts *o, int argc, char **argv, char *err, size_t errsz)
{
	memset(o, 0, sizeof(*o));
	int i = 1;
	bool dashdash = false;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			dashdash = true;
			i++;
			break;
		}
		const struct opt_def *d = NULL;
		const char *val = NULL;
		if (!strcmp(a, "-o")) {
			d = find_opt(OPT_OUTPUT);
		} else if (!strcmp(a, "-h")) {
			d = find_opt(OPT_HELP);
		} else if (!strcmp(a, "-q")) {
			d = find_opt(OPT_QUIET);
		} else if (!strncmp(a, "--", 2)) {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t n = eq ? (size_t)(eq - name) : strlen(name);
			for (size_t k = 0; k < sizeof(opts) / sizeof(*opts); k++) {
				if (strlen(opts[k].name) == n && !strncmp(opts[k].name, name, n)) {
					d = &opts[k];
					break;
				}
			}
			if (!d) {
				snprintf(err, errsz, "unknown option \"%s\" (see --help)", a);
				return PT_EUSAGE;
			}
			if (eq) {
				if (!d->value) {
					snprintf(err, errsz, "--%s takes no value", d->name);
					return PT_EUSAGE;
				}
				val = eq + 1;
			}
		} else {
			snprintf(err, errsz,
				 "unexpected argument \"%s\": put the command to run after \"--\"", a);
			return PT_EUSAGE;
		}
		if (d->value && !val) {
			if (i + 1 >= argc) {
				snprintf(err, errsz, "--%s needs a value", d->name);
				return PT_EUSAGE;
			}
			val = argv[++i];
		}
		int rc = apply(o, d, val ? val : "", err, errsz);
		if (rc < 0)
			return rc;
	}
	if (i < argc) {
		o->cmd = argv + i;
		o->ncmd = argc - i;
	} else if (dashdash) {
		snprintf(err, errsz, "no command after \"--\"");
		return PT_EUSAGE;
	}
	if (o->help || o->version)
		return 0;
	if (o->mark && o->cmd) {
		snprintf(err, errsz, "--mark adds a marker to a running capture; it runs no command");
		return PT_EUSAGE;
	}
	if (o->snapshots_only && !o->snapshot_ns) {
		snprintf(err, errsz, "--snapshots-only needs --snapshot-interval");
		return PT_EUSAGE;
	}
	if (!o->has_cooldown)
		o->cooldown_ns = PT_CAP_DEFAULT_COOLDOWN_NS;
	return 0;
}
