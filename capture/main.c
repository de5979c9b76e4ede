/* SPDX-License-Identifier: MIT */
/*
 * pooltrace-capture: record kernel pool (slab/kmalloc) allocations and frees
 * around a workload into a native trace, with workload-start/workload-end
 * markers, so that `pooltrace report` judges it without further input.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "linux_kmem.h"
#include "pooltrace/native.h"

#define PROG "pooltrace-capture"
#define DEFAULT_OUTPUT "capture.ptz"
#define DEFAULT_CONTROL "/run/pooltrace-capture.fifo"
#define DEFAULT_COOLDOWN_NS (10ull * 1000000000ull)
#define DEFAULT_BUFFER "16M"
#define POLL_NS (100ull * 1000000ull)     /* buffer reads */
#define FLUSH_NS (1000ull * 1000000ull)   /* chunk written at least this often */
#define SLACK_NS (50ull * 1000000ull)     /* an event this much older than a read is final */
#define MAX_MARK 1000
#define BUSY_EVENTS 20000                 /* a round with more skips the pause */
#define CAPTURE_NICE (-10)                /* the reader keeps up better under load */

enum {
	OPT_TAGS = 1000, OPT_POOL, OPT_DURATION, OPT_COOLDOWN, OPT_SNAP, OPT_SNAP_ONLY,
	OPT_STACKS, OPT_MARK, OPT_CONTROL, OPT_BUFFER, OPT_VERSION
};

static const struct option longopts[] = {
	{"output", required_argument, NULL, 'o'},
	{"tags", required_argument, NULL, OPT_TAGS},
	{"pool", required_argument, NULL, OPT_POOL},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"cooldown", required_argument, NULL, OPT_COOLDOWN},
	{"snapshot-interval", required_argument, NULL, OPT_SNAP},
	{"snapshots-only", no_argument, NULL, OPT_SNAP_ONLY},
	{"stacks", no_argument, NULL, OPT_STACKS},
	{"mark", required_argument, NULL, OPT_MARK},
	{"control", required_argument, NULL, OPT_CONTROL},
	{"buffer-size", required_argument, NULL, OPT_BUFFER},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
	fprintf(out,
"usage: " PROG " [-o FILE] [--tags T1,T2,...] [--pool WHICH] [--duration D]\n"
"                         [--cooldown D] [--snapshot-interval D] [--stacks]\n"
"                         [--buffer-size SIZE] [-- COMMAND ARGS...]\n"
"       " PROG " --mark TEXT [--control FIFO]\n\n"
"Records kernel pool allocations and frees (Linux: the kmem tracepoints kmalloc,\n"
"kfree, kmem_cache_alloc, kmem_cache_free) into a native pooltrace trace.\n"
"With -- COMMAND: marks workload-start, runs COMMAND, marks workload-end with\n"
"its exit status when it exits, keeps recording for the cool-down, then stops.\n"
"Without a command: records until --duration or Ctrl-C / SIGTERM.\n"
"Then: pooltrace report FILE\n\n"
"Options:\n"
"  -o, --output FILE          trace to write [default: " DEFAULT_OUTPUT "]\n"
"      --tags T1,T2,...       record only these tags (cache names or kmalloc call\n"
"                             sites; '*' and '?' wildcards) [default: all]\n"
"      --pool WHICH           both, nonpaged, slab (kmem_cache_* events only) or\n"
"                             kmalloc (kmalloc/kfree only); Linux kernel heap\n"
"                             memory is never paged, so 'paged' is refused\n"
"                             [default: both]\n"
"      --duration D           stop after D (90, 30s, 5m, 2h) [default: no limit]\n"
"      --cooldown D           keep recording D after COMMAND exits [default: 10s]\n"
"      --snapshot-interval D  also sample /proc/slabinfo every D as snapshot rows\n"
"                             [default: off]\n"
"      --snapshots-only       record only the slabinfo snapshots (cheap enough for\n"
"                             hours; needs --snapshot-interval) [default: off]\n"
"      --stacks               record call stacks (Windows backend only; refused on\n"
"                             Linux, where the kmalloc call site is the tag)\n"
"                             [default: off]\n"
"      --buffer-size SIZE     trace buffer per CPU (512k, 8M) [default: " DEFAULT_BUFFER "]\n"
"      --mark TEXT            add marker TEXT to the running capture and exit\n"
"      --control FIFO         the running capture's marker FIFO\n"
"                             [default: " DEFAULT_CONTROL "]\n"
"  -q, --quiet                no summary line\n"
"  -h, --help                 this text\n"
"      --version              version\n\n"
"A running capture also adds a marker \"mark\" on SIGUSR1. Ctrl-C, SIGTERM\n"
"and SIGHUP stop it cleanly (the signal is passed on to a running COMMAND):\n"
"the file is always complete and readable.\n"
"Needs root. Exit status: 0 trace written; 1 a write failed (disk full, I/O\n"
"error): recording stopped, the file keeps the chunks written before it and has\n"
"no trailer; 2 usage or setup error (nothing recorded).\n");
}

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t usr1_marks;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1_marks++;
}

struct cap {
	struct pt_native_writer *w;
	struct pt_tags *tags;
	struct pt_pending *pend;
	uint64_t start_mono;
	uint64_t last_ts;
	int err;
	/* snapshots */
	bool snap_tag_prefix;
	char **tag_pats;
	size_t ntag_pats;
};

static int write_event(void *ctx, const struct pt_event *ev)
{
	struct cap *c = ctx;
	int rc = pt_native_write_event(c->w, ev);
	if (rc < 0)
		return rc;
	if (ev->ts_ns > c->last_ts)
		c->last_ts = ev->ts_ns;
	return 0;
}

static uint64_t rel_now(const struct cap *c)
{
	uint64_t now = pt_lk_now();
	return now > c->start_mono ? now - c->start_mono : 0;
}

static int add_marker(struct cap *c, const char *text, uint32_t pid)
{
	struct pt_event ev;
	pt_event_init(&ev);
	ev.kind = PT_EV_MARKER;
	ev.ts_ns = rel_now(c);
	ev.marker = text;
	ev.pid = pid;
	return pt_pending_add(c->pend, &ev);
}

static bool pattern_match(const struct cap *c, const char *name)
{
	if (!c->ntag_pats)
		return true;
	for (size_t i = 0; i < c->ntag_pats; i++)
		if (pt_tag_match(c->tag_pats[i], (const uint8_t *)name, strlen(name)))
			return true;
	return false;
}

/* One snapshot row per cache of /proc/slabinfo. */
static int take_snapshot(struct cap *c)
{
	FILE *fp = fopen("/proc/slabinfo", "r");
	if (!fp)
		return PT_EOPEN;
	char line[1024];
	uint64_t ts = rel_now(c);
	int rc = 0;
	while (fgets(line, sizeof(line), fp)) {
		struct pt_slab_row row;
		if (pt_slabinfo_parse_line(line, &row) != 1 || !pattern_match(c, row.name))
			continue;
		char tag[PT_TAG_MAX_LEN];
		snprintf(tag, sizeof(tag), "%s%s", c->snap_tag_prefix ? "slabinfo:" : "", row.name);
		struct pt_event ev;
		pt_event_init(&ev);
		ev.kind = PT_EV_SNAPSHOT;
		ev.ts_ns = ts;
		ev.pool = PT_POOL_SLAB;
		rc = pt_tags_intern(c->tags, tag, strlen(tag), &ev.tag);
		if (rc < 0)
			break;
		ev.snap_allocs = row.active_objs;
		ev.size = row.active_objs * row.objsize;
		rc = pt_pending_add(c->pend, &ev);
		if (rc < 0)
			break;
	}
	fclose(fp);
	return rc;
}

/* Split "a,b,c" into patterns (the string is modified). */
static int split_tags(char *s, char ***out, size_t *n)
{
	*n = 0;
	*out = NULL;
	size_t cap = 1;
	for (char *p = s; *p; p++)
		cap += *p == ',';
	char **v = calloc(cap, sizeof(*v));
	if (!v)
		return PT_ENOMEM;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
		if (*tok)
			v[(*n)++] = tok;
	*out = v;
	return 0;
}

/* --mark TEXT: hand the text to a running capture through its FIFO. */
static int send_mark(const char *control, const char *text)
{
	int fd = open(control, O_WRONLY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENXIO || errno == ENOENT)
			fprintf(stderr, PROG ": no capture is running (nothing listens on %s); "
				"start one first, or give its --control FIFO\n", control);
		else
			fprintf(stderr, PROG ": cannot open %s: %s\n", control, strerror(errno));
		return 2;
	}
	char buf[MAX_MARK + 2];
	size_t n = strnlen(text, MAX_MARK);
	memcpy(buf, text, n);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	buf[n++] = '\n';
	ssize_t wr = write(fd, buf, n);
	close(fd);
	if (wr != (ssize_t)n) {
		fprintf(stderr, PROG ": cannot send the marker to %s: %s\n", control,
			wr < 0 ? strerror(errno) : "short write");
		return 2;
	}
	return 0;
}

/* Create the marker FIFO; refuse when another capture listens on it. */
static int open_control(const char *control, int *fd_out)
{
	*fd_out = -1;
	int probe = open(control, O_WRONLY | O_NONBLOCK);
	if (probe >= 0) {
		close(probe);
		fprintf(stderr, PROG ": another capture is running (it listens on %s); stop it, or "
			"give this one its own --control FIFO\n", control);
		return PT_EUSAGE;
	}
	unlink(control);
	if (mkfifo(control, 0600) < 0) {
		fprintf(stderr, PROG ": warning: cannot create the marker FIFO %s: %s; --mark will not "
			"reach this capture (SIGUSR1 still works)\n", control, strerror(errno));
		return 0;
	}
	*fd_out = open(control, O_RDONLY | O_NONBLOCK);
	return 0;
}

/* Read marker lines from the FIFO. */
static int read_control(struct cap *c, int fd, char *buf, size_t *len, size_t cap)
{
	for (;;) {
		ssize_t n = read(fd, buf + *len, cap - *len - 1);
		if (n <= 0)
			return 0;
		*len += (size_t)n;
		buf[*len] = '\0';
		char *nl;
		while ((nl = memchr(buf, '\n', *len))) {
			*nl = '\0';
			if (buf[0]) {
				int rc = add_marker(c, buf, PT_NONE32);
				if (rc < 0)
					return rc;
			}
			size_t used = (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, *len - used);
			*len -= used;
		}
		if (*len == cap - 1)
			*len = 0; /* an over-long line without newline: dropped */
	}
}

#define MAX_INHERITED 1024

/* The descriptors open now (those the capture inherited), sorted. @return: how many. */
static size_t list_fds(int *fds, size_t max)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		int fd = atoi(de->d_name);
		if (fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	return n;
}

/*
 * Descriptors the capture opened itself (trace buffers, output, FIFO) are
 * closed on exec: a workload, or a process it leaves running, must not hold
 * the tracing instance open (it could not be removed) or the output file.
 * Descriptors the capture inherited are passed on untouched.
 */
static void cloexec_own_fds(const int *inherited, size_t ninh)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int fd = atoi(de->d_name);
		bool old = false;
		for (size_t i = 0; i < ninh && !old; i++)
			old = inherited[i] == fd;
		if (!old && fd != dirfd(d)) {
			int fl = fcntl(fd, F_GETFD);
			if (fl >= 0)
				fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
		}
	}
	closedir(d);
}

/* What a failed write means for the user, from its errno. */
static const char *write_error_text(int e, char *buf, size_t bufsz)
{
	if (e == ENOSPC)
		snprintf(buf, bufsz, "disk full (%s)", strerror(e));
	else if (e == EDQUOT)
		snprintf(buf, bufsz, "disk quota exceeded (%s)", strerror(e));
	else if (e == EFBIG)
		snprintf(buf, bufsz, "file too large (%s)", strerror(e));
	else
		snprintf(buf, bufsz, "%s", strerror(e ? e : EIO));
	return buf;
}

/*
 * Recording stopped because the output could not be written: say so, what
 * the file still holds, and that it has no trailer.
 */
static void report_write_error(const char *path, const struct pt_native_writer *w, int e)
{
	char why[128];
	write_error_text(e, why, sizeof(why));
	fprintf(stderr, PROG ": writing %s: %s; recording stopped. The file keeps the %llu chunks "
		"(%llu events) completed before the failure and has no trailer: `pooltrace report` "
		"reads them and warns that the trace is cut short. Free some space or choose another "
		"place with -o.\n", path, why, (unsigned long long)pt_native_writer_chunks(w),
		(unsigned long long)pt_native_writer_events_done(w));
}

static char *join(int argc, char **argv, const char *prefix)
{
	size_t n = strlen(prefix) + 1;
	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	char *s = malloc(n);
	if (!s)
		return NULL;
	strcpy(s, prefix);
	for (int i = 0; i < argc; i++) {
		if (s[0])
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_nsec = (long)(ns % 1000000000ull)};
	nanosleep(&ts, NULL); /* a signal ends it early; the loop checks the flags */
}

static const char *signame(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "signal";
	}
}

int main(int argc, char **argv)
{
	const char *out_path = DEFAULT_OUTPUT, *control = DEFAULT_CONTROL, *mark = NULL;
	const char *pool_arg = "both";
	char *tags_arg = NULL, *tags_copy = NULL;
	uint64_t duration_ns = 0, cooldown_ns = DEFAULT_COOLDOWN_NS, snap_ns = 0, buffer_b = 0;
	bool snap_only = false, stacks = false, quiet = false;
	int c;
	pt_parse_size(DEFAULT_BUFFER, &buffer_b);
	while ((c = getopt_long(argc, argv, "+o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out_path = optarg;
			break;
		case OPT_TAGS:
			tags_arg = optarg;
			break;
		case OPT_POOL:
			pool_arg = optarg;
			break;
		case OPT_DURATION:
		case OPT_COOLDOWN:
		case OPT_SNAP: {
			uint64_t v;
			if (pt_parse_duration(optarg, &v) < 0) {
				fprintf(stderr, PROG ": --%s takes a time (90, 30s, 5m, 2h), not '%s'\n",
					c == OPT_DURATION ? "duration" :
					c == OPT_COOLDOWN ? "cooldown" : "snapshot-interval", optarg);
				return 2;
			}
			if (c == OPT_DURATION)
				duration_ns = v;
			else if (c == OPT_COOLDOWN)
				cooldown_ns = v;
			else
				snap_ns = v;
			break;
		}
		case OPT_SNAP_ONLY:
			snap_only = true;
			break;
		case OPT_STACKS:
			stacks = true;
			break;
		case OPT_MARK:
			mark = optarg;
			break;
		case OPT_CONTROL:
			control = optarg;
			break;
		case OPT_BUFFER:
			if (pt_parse_size(optarg, &buffer_b) < 0 || buffer_b < 4096) {
				fprintf(stderr, PROG ": --buffer-size takes a size of at least 4k (512k, 8M), not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf(PROG " %s\n", PT_VERSION_STRING);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (mark)
		return send_mark(control, mark);

	enum pt_lk_which which = PT_LK_ALL;
	if (!strcmp(pool_arg, "both") || !strcmp(pool_arg, "nonpaged")) {
		which = PT_LK_ALL;
	} else if (!strcmp(pool_arg, "slab")) {
		which = PT_LK_SLAB_ONLY;
	} else if (!strcmp(pool_arg, "kmalloc")) {
		which = PT_LK_KMALLOC_ONLY;
	} else if (!strcmp(pool_arg, "paged")) {
		fprintf(stderr, PROG ": --pool paged: the Linux kernel heap (slab caches and kmalloc) "
			"is never paged; use --pool nonpaged or both\n");
		return 2;
	} else {
		fprintf(stderr, PROG ": --pool takes both, nonpaged, slab or kmalloc, not '%s'\n",
			pool_arg);
		return 2;
	}
	if (stacks) {
		fprintf(stderr, PROG ": --stacks: call stacks are recorded by the Windows backend only; "
			"on Linux the kmalloc call site is recorded as the tag\n");
		return 2;
	}
	if (snap_only && !snap_ns) {
		fprintf(stderr, PROG ": --snapshots-only needs --snapshot-interval\n");
		return 2;
	}
	char **cmd = argv + optind;
	int ncmd = argc - optind;

	int status = 2, rc;
	char err[512] = "";
	struct cap cap = {0};
	struct pt_lk *lk = NULL;
	FILE *fp = NULL;
	int ctl_fd = -1;
	pid_t child = -1;
	int go_pipe[2] = {-1, -1};
	char *cmdline = join(argc, argv, ""), *workload = ncmd ? join(ncmd, cmd, "") : NULL;
	uint64_t *lost = NULL;
	bool remove_output = false, write_failed = false;
	struct pt_lk_opts lo = {.which = which, .buffer_kb = buffer_b / 1024};
	char inst_name[64];
	snprintf(inst_name, sizeof(inst_name), "pooltrace-capture-%ld", (long)getpid());
	lo.instance_name = inst_name;

	static int inherited[MAX_INHERITED];
	size_t ninherited = list_fds(inherited, MAX_INHERITED);
	cap.tags = pt_tags_new(0);
	cap.pend = pt_pending_new();
	if (!cap.tags || !cap.pend || !cmdline || (ncmd && !workload)) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	if (tags_arg) {
		tags_copy = strdup(tags_arg);
		if (!tags_copy || split_tags(tags_copy, &cap.tag_pats, &cap.ntag_pats) < 0) {
			fprintf(stderr, PROG ": out of memory\n");
			goto out;
		}
		lo.tags = cap.tag_pats;
		lo.ntags = cap.ntag_pats;
	}
	cap.snap_tag_prefix = !snap_only;

	if (!snap_only) {
		rc = pt_lk_open(&lk, cap.tags, &lo, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, PROG ": %s\n", err);
			goto out;
		}
	} else if (access("/proc/slabinfo", R_OK) != 0) {
		fprintf(stderr, PROG ": cannot read /proc/slabinfo: %s (run as root)\n", strerror(errno));
		goto out;
	}
	if (open_control(control, &ctl_fd) < 0)
		goto out;

	fp = fopen(out_path, "wb");
	if (!fp) {
		fprintf(stderr, PROG ": cannot write %s: %s; choose a writable place with -o\n",
			out_path, strerror(errno));
		goto out;
	}

	struct pt_native_info info = {0};
	struct utsname un;
	pt_trace_meta_init(&info.meta);
	if (uname(&un) == 0) {
		snprintf(info.meta.host, sizeof(info.meta.host), "%.63s", un.nodename);
		snprintf(info.meta.os, sizeof(info.meta.os), "%.15s %.47s", un.sysname, un.release);
		info.kernel = un.version;
	}
	info.meta.pointer_size = (uint32_t)sizeof(void *);
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	info.meta.num_cpus = ncpu > 0 ? (uint32_t)ncpu : 0;
	info.meta.clock = PT_CLOCK_MONOTONIC;
	info.meta.perf_freq = 1000000000ull;
	info.meta.snapshot_only = snap_only;
	info.meta.pool_tracing = 1;
	snprintf(info.meta.logger, sizeof(info.meta.logger), "%s", inst_name);
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	cap.start_mono = pt_lk_now();
	info.meta.has_start_time = true;
	info.meta.start_unix_ns = (int64_t)wall.tv_sec * 1000000000ll + wall.tv_nsec;
	info.source_format = "capture-linux";
	info.command_line = cmdline;
	info.tag_filter = tags_arg;
	info.pool_filter = pool_arg;
	info.tool = PROG " " PT_VERSION_STRING;
	info.workload = workload;
	info.trace_clock = "mono";
	info.buffer_kb = snap_only ? 0 : lo.buffer_kb;
	info.snapshot_ns = snap_ns;
	rc = pt_native_writer_new(&cap.w, fp, cap.tags, &info);
	if (rc < 0) {
		/* not even the header fits: nothing is recorded and no file is left */
		char why[128];
		int e = errno;
		fprintf(stderr, PROG ": cannot write %s: %s; nothing recorded\n", out_path,
			rc == PT_EIO ? write_error_text(e, why, sizeof(why)) : pt_strerror(rc));
		remove_output = true;
		goto out;
	}

	struct sigaction sa = {0};
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* read the buffers ahead of the load that fills them (the workload gets the old value) */
	errno = 0;
	int saved_nice = getpriority(PRIO_PROCESS, 0);
	if (errno)
		saved_nice = 0;
	if (lk)
		setpriority(PRIO_PROCESS, 0, CAPTURE_NICE);

	if (lk && pt_lk_start(lk, cap.start_mono) < 0) {
		fprintf(stderr, PROG ": cannot switch tracing on: %s\n", strerror(errno));
		goto out;
	}
	if (snap_ns && take_snapshot(&cap) < 0)
		fprintf(stderr, PROG ": warning: cannot read /proc/slabinfo\n");

	if (ncmd) {
		cloexec_own_fds(inherited, ninherited);
		if (pipe(go_pipe) < 0) {
			fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
			goto out;
		}
		child = fork();
		if (child < 0) {
			fprintf(stderr, PROG ": cannot start %s: %s\n", cmd[0], strerror(errno));
			goto out;
		}
		if (child == 0) {
			char b;
			close(go_pipe[1]);
			if (read(go_pipe[0], &b, 1) != 1)
				_exit(127);
			close(go_pipe[0]);
			signal(SIGPIPE, SIG_DFL);
			signal(SIGUSR1, SIG_DFL);
			setpriority(PRIO_PROCESS, 0, saved_nice);
			execvp(cmd[0], cmd);
			fprintf(stderr, PROG ": cannot run %s: %s\n", cmd[0], strerror(errno));
			_exit(127);
		}
		close(go_pipe[0]);
		go_pipe[0] = -1;
		char text[PT_NATIVE_MAX_MARKER];
		snprintf(text, sizeof(text), "workload-start: %s", workload);
		add_marker(&cap, text, (uint32_t)child);
		if (write(go_pipe[1], "g", 1) != 1) {
			fprintf(stderr, PROG ": cannot start %s\n", cmd[0]);
			goto out;
		}
		close(go_pipe[1]);
		go_pipe[1] = -1;
	}

	uint64_t raw_events = 0, last_flush = pt_lk_now(), next_snap = snap_ns ? last_flush + snap_ns : 0;
	uint64_t wend_mono = 0, usr1_seen = 0;
	bool child_running = ncmd > 0, have_status = false;
	int64_t wstatus = 0;
	char ctl_buf[MAX_MARK * 2 + 2];
	size_t ctl_len = 0;
	const char *stop_reason = NULL;
	char reason_buf[64];
	for (;;) {
		uint64_t t0 = pt_lk_now(), before = raw_events;
		if (lk && (rc = pt_lk_poll(lk, cap.pend, &raw_events)) < 0) {
			fprintf(stderr, PROG ": reading the trace buffers: %s\n", pt_strerror(rc));
			break;
		}
		if (child_running) {
			int st;
			pid_t p = waitpid(child, &st, WNOHANG);
			if (p == child) {
				child_running = false;
				have_status = true;
				wstatus = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : 0;
				char text[64];
				if (WIFSIGNALED(st))
					snprintf(text, sizeof(text), "workload-end: killed by signal %d",
						 WTERMSIG(st));
				else
					snprintf(text, sizeof(text), "workload-end: exit status %d",
						 (int)wstatus);
				add_marker(&cap, text, (uint32_t)child);
				wend_mono = pt_lk_now();
			}
		}
		while (usr1_seen < (uint64_t)usr1_marks) {
			usr1_seen++;
			add_marker(&cap, "mark", PT_NONE32);
		}
		if (ctl_fd >= 0 && read_control(&cap, ctl_fd, ctl_buf, &ctl_len, sizeof(ctl_buf)) < 0)
			break;
		uint64_t now = pt_lk_now();
		if (next_snap && now >= next_snap) {
			take_snapshot(&cap);
			next_snap += snap_ns;
			if (next_snap < now)
				next_snap = now + snap_ns;
		}
		/* events up to a little before this read can no longer be overtaken */
		uint64_t upto = t0 > cap.start_mono + SLACK_NS ? t0 - cap.start_mono - SLACK_NS : 0;
		if ((rc = pt_pending_drain(cap.pend, upto, write_event, &cap)) < 0) {
			if (pt_native_writer_errno(cap.w))
				write_failed = true;
			else
				fprintf(stderr, PROG ": writing %s: %s\n", out_path, pt_strerror(rc));
			break;
		}
		if (now - last_flush >= FLUSH_NS) {
			if ((rc = pt_native_writer_flush(cap.w)) < 0) {
				if (pt_native_writer_errno(cap.w))
					write_failed = true;
				else
					fprintf(stderr, PROG ": writing %s: %s\n", out_path, pt_strerror(rc));
				break;
			}
			last_flush = now;
		}
		if (stop_signal) {
			snprintf(reason_buf, sizeof(reason_buf), "signal %s", signame(stop_signal));
			stop_reason = reason_buf;
			break;
		}
		if (duration_ns && now - cap.start_mono >= duration_ns) {
			stop_reason = "duration";
			break;
		}
		if (ncmd && !child_running && now - wend_mono >= cooldown_ns) {
			stop_reason = "workload-exit";
			break;
		}
		/* a busy round reads again at once; a quiet one waits */
		if (raw_events - before < BUSY_EVENTS)
			sleep_ns(POLL_NS);
	}

	/* a workload still running when we stop by signal or duration gets the same signal */
	if (child_running) {
		kill(child, stop_signal ? stop_signal : SIGTERM);
		for (int i = 0; i < 20 && child_running; i++) {
			int st;
			if (waitpid(child, &st, WNOHANG) == child) {
				child_running = false;
				have_status = true;
				wstatus = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : 0;
				char text[64];
				snprintf(text, sizeof(text), "workload-end: stopped with the capture (%d)",
					 (int)wstatus);
				add_marker(&cap, text, (uint32_t)child);
			} else {
				sleep_ns(POLL_NS);
			}
		}
	}
	if (snap_ns)
		take_snapshot(&cap);
	if (lk) {
		pt_lk_stop(lk);
		pt_lk_poll(lk, cap.pend, &raw_events);
	}
	rc = pt_pending_drain(cap.pend, UINT64_MAX, write_event, &cap);

	int nl = lk ? pt_lk_ncpus(lk) : 0;
	uint64_t lost_total = 0;
	if (nl) {
		lost = calloc((size_t)nl, sizeof(*lost));
		if (lost) {
			pt_lk_lost(lk, lost, nl);
			for (int i = 0; i < nl; i++)
				lost_total += lost[i];
		}
	}
	uint64_t end_ns = rel_now(&cap);
	struct pt_native_totals t = {
		.end_ns = end_ns > cap.last_ts ? end_ns : cap.last_ts,
		.lost_known = lk != NULL && lost != NULL,
		.events_lost = lost_total,
		.lost_per_cpu = lost,
		.ncpus = lost ? (size_t)nl : 0,
		.stop_reason = stop_reason ? stop_reason : "error",
		.has_workload_status = have_status,
		.workload_status = wstatus,
	};
	/* after a failed write nothing more is written: no trailer, the file reads as cut short */
	int frc = write_failed ? PT_EIO : pt_native_writer_finish(cap.w, NULL, &t);
	if (rc == 0)
		rc = frc;
	errno = 0;
	int crc = fclose(fp);
	int close_errno = errno;
	fp = NULL;
	if (write_failed || pt_native_writer_errno(cap.w) || crc != 0) {
		report_write_error(out_path, cap.w,
				   pt_native_writer_errno(cap.w) ? pt_native_writer_errno(cap.w)
								  : close_errno);
		status = 1;
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, PROG ": writing %s failed: %s\n", out_path, pt_strerror(rc));
		goto out;
	}
	if (!quiet) {
		struct stat st;
		long long bytes = stat(out_path, &st) == 0 ? (long long)st.st_size : -1;
		fprintf(stderr, PROG ": %s: %llu events written, %llu lost, %lld bytes, %.1f s",
			out_path, (unsigned long long)pt_native_writer_events(cap.w),
			(unsigned long long)lost_total, bytes, (double)t.end_ns / 1e9);
		if (have_status)
			fprintf(stderr, "; workload %s %lld", wstatus < 0 ? "killed by signal" : "exit status",
				(long long)(wstatus < 0 ? -wstatus : wstatus));
		fprintf(stderr, " (stopped: %s)\n", t.stop_reason);
		if (lost_total)
			fprintf(stderr, PROG ": warning: the kernel dropped %llu events because the trace "
				"buffers filled up; allocations whose frees were dropped look leaked. Raise "
				"--buffer-size (now %llu KiB per CPU) or narrow with --tags / --pool\n",
				(unsigned long long)lost_total, (unsigned long long)lo.buffer_kb);
	}
	status = 0;
out:
	if (fp) {
		/* setup failed after the file was opened: finish it so it stays readable */
		if (cap.w)
			pt_native_writer_finish(cap.w, NULL, NULL);
		fclose(fp);
	}
	if (remove_output)
		unlink(out_path);
	if (ctl_fd >= 0) {
		close(ctl_fd);
		unlink(control);
	}
	if (go_pipe[0] >= 0)
		close(go_pipe[0]);
	if (go_pipe[1] >= 0)
		close(go_pipe[1]);
	pt_lk_close(lk);
	pt_native_writer_free(cap.w);
	pt_pending_free(cap.pend);
	pt_tags_free(cap.tags);
	free(cap.tag_pats);
	free(tags_copy);
	free(cmdline);
	free(workload);
	free(lost);
	return status;
}
