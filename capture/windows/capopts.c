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
	"                         [--buffer-size SIZE] [--stacks] [-- COMMAND ARGS...]\n"
	"       pooltrace-capture --mark TEXT\n"
	"\n"
	"  -o, --output FILE        trace to write\n"
	"  --tags T1,T2,...         record only these pool tags\n"
	"  --pool paged|nonpaged|both\n"
	"                           pools the snapshots cover (default both)\n"
	"  --duration D             stop after D (\"30s\", \"5m\"); without a command the\n"
	"                           default is to record until Ctrl-C\n"
	"  --cooldown D             keep recording D after COMMAND exits (default 10s)\n"
	"  --snapshot-interval D    sample per-tag pool counters every D\n"
	"  --buffer-size SIZE       trace buffer size (\"64k\")\n"
	"  --stacks                 record call stacks of pool allocations and frees\n"
	"  --mark TEXT              add a marker to the capture running now\n"
	"  -h, --help               this text\n"
	"  --version                program version\n";

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
	OPT_STACKS,
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
	{"stacks", OPT_STACKS, false},
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
		else {
			snprintf(err, errsz, "--pool: \"%s\" is not paged, nonpaged or both", val);
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
	case OPT_STACKS:
		o->stacks = true;
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
	if (o->mark && (o->cmd || o->has_duration || o->snapshot_ns)) {
		snprintf(err, errsz, "--mark only adds a marker to a running capture; it takes no "
				     "command, --duration or --snapshot-interval");
		return PT_EUSAGE;
	}
	if (o->cmd && !o->has_cooldown)
		o->cooldown_ns = PT_CAP_DEFAULT_COOLDOWN_NS;
	if (!o->cmd && o->has_cooldown && o->cooldown_ns) {
		snprintf(err, errsz, "--cooldown applies after a command: give one after \"--\"");
		return PT_EUSAGE;
	}
	return 0;
}
