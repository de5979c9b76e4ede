/* SPDX-License-Identifier: MIT */
/* Atomic output files, the time/size argument parsers, the thread switch. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "pooltrace/error.h"
#include "pooltrace/util.h"

#ifdef __linux__
#include <sys/random.h>
#endif

#ifdef _WIN32
/* The Windows capture program links this file (mingw-w64). */
#include <io.h>
#include <windows.h>

static int sync_fd(int fd)
{
	return _commit(fd);
}

/* rename() on Windows fails when the target exists. */
static int replace_file(const char *from, const char *to)
{
	if (MoveFileExA(from, to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
		return 0;
	errno = EACCES;
	return -1;
}
#else
static int sync_fd(int fd)
{
	return fsync(fd);
}

static int replace_file(const char *from, const char *to)
{
	return rename(from, to);
}
#endif

uint64_t pt__random64(void)
{
	uint64_t k = 0;
#if defined(__linux__)
	if (getrandom(&k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k))
		k = 0;
#endif
	if (!k) {
		static unsigned calls;
		clock_t c = clock();
		k = pt__fmix64((uint64_t)time(NULL) ^ ((uint64_t)c << 20) ^
			       ((uint64_t)(uintptr_t)&c << 7) ^ ((uint64_t)++calls << 56));
	}
	return k;
}

bool pt_threads_allowed(void)
{
	const char *e = getenv("POOLTRACE_THREADS");
	if (e && *e)
		return atoi(e) > 1;
#ifdef _WIN32
	SYSTEM_INFO si;
	GetSystemInfo(&si);
	return si.dwNumberOfProcessors > 1;
#else
	return sysconf(_SC_NPROCESSORS_ONLN) > 1;
#endif
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (!a || !b || !strcmp(a, "-") || !strcmp(b, "-"))
		return false;
	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int pt_outfile_open(struct pt_outfile *o, const char *path, const char *input,
		    char *err, size_t errsz)
{
	memset(o, 0, sizeof(*o));
	if (!path || !strcmp(path, "-")) {
		o->fp = stdout;
		return 0;
	}
	if (same_file(path, input)) {
		snprintf(err, errsz, "%s: refusing to overwrite the input trace", path);
		return PT_EUSAGE;
	}
#ifndef _WIN32
	/*
	 * An existing non-regular file (a device such as /dev/null, a FIFO) is
	 * written in place: a temporary file renamed over it would replace the
	 * device itself with a regular file (as root, for everyone).
	 */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		o->fp = fopen(path, "wb");
		if (!o->fp) {
			snprintf(err, errsz, "%s: cannot open output: %s", path, strerror(errno));
			return PT_EOPEN;
		}
		o->direct = true;
		return 0;
	}
#endif
	size_t n = strlen(path);
	o->path = strdup(path);
	o->tmp = malloc(n + 16);
	if (!o->path || !o->tmp) {
		pt_outfile_abort(o);
		return PT_ENOMEM;
	}
	snprintf(o->tmp, n + 16, "%s.tmp.XXXXXX", path);
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		snprintf(err, errsz, "%s: cannot create output: %s", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		pt_outfile_abort(o);
		return PT_EOPEN;
	}
#ifndef _WIN32
	fchmod(fd, 0644);
#endif
	o->fp = fdopen(fd, "wb");
	if (!o->fp) {
		close(fd);
		pt_outfile_abort(o);
		return PT_ENOMEM;
	}
	return 0;
}

int pt_outfile_commit(struct pt_outfile *o, char *err, size_t errsz)
{
	if (!o->fp)
		return PT_ESTATE;
	if (o->direct) {
		int bad = fflush(o->fp) != 0 || ferror(o->fp);
		int saved = errno;
		if (fclose(o->fp) != 0)
			bad = 1, saved = errno;
		o->fp = NULL;
		o->direct = false;
		if (bad) {
			snprintf(err, errsz, "cannot write output: %s", strerror(saved));
			return PT_EIO;
		}
		return 0;
	}
	if (!o->path) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			snprintf(err, errsz, "error writing to standard output: %s", strerror(errno));
			return PT_EIO;
		}
		return 0;
	}
	int bad = fflush(o->fp) != 0 || ferror(o->fp);
	if (!bad)
		bad = sync_fd(fileno(o->fp)) != 0 && errno != EINVAL;
	int saved = errno;
	if (fclose(o->fp) != 0)
		bad = 1, saved = errno;
	o->fp = NULL;
	if (!bad && replace_file(o->tmp, o->path) != 0)
		bad = 1, saved = errno;
	if (bad) {
		snprintf(err, errsz, "%s: cannot write output: %s", o->path, strerror(saved));
		pt_outfile_abort(o);
		return PT_EIO;
	}
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return 0;
}

void pt_outfile_abort(struct pt_outfile *o)
{
	if (o->fp && o->fp != stdout)
		fclose(o->fp);
	o->fp = NULL;
	o->direct = false;
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
}

/* Parse a non-negative decimal number with optional fraction; *end past it. */
static int parse_number(const char *s, double *v, const char **end)
{
	if (!isdigit((unsigned char)*s) && *s != '.')
		return PT_EUSAGE;
	errno = 0;
	char *e;
	double d = strtod(s, &e);
	if (e == s || errno || !isfinite(d) || d < 0)
		return PT_EUSAGE;
	*v = d;
	*end = e;
	return 0;
}

int pt_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {
		{"", 1e9},       {"s", 1e9},  {"sec", 1e9}, {"ms", 1e6}, {"us", 1e3},
		{"ns", 1},       {"m", 60e9}, {"min", 60e9}, {"h", 3600e9},
	};
	double v;
	const char *end;
	if (!s || parse_number(s, &v, &end) < 0)
		return PT_EUSAGE;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcasecmp(end, units[i].unit)) {
			double r = v * units[i].mult;
			if (r >= 1.8e19)
				return PT_EUSAGE;
			*ns = (uint64_t)(r + 0.5); /* r < 2^64: llround() stops at 2^63 */
			return 0;
		}
	}
	return PT_EUSAGE;
}

int pt_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {
		{"", 1},           {"b", 1},          {"k", 1024.0},     {"kb", 1024.0},
		{"kib", 1024.0},   {"m", 1048576.0},  {"mb", 1048576.0}, {"mib", 1048576.0},
		{"g", 1073741824.0}, {"gb", 1073741824.0}, {"gib", 1073741824.0},
	};
	double v;
	const char *end;
	if (!s || parse_number(s, &v, &end) < 0)
		return PT_EUSAGE;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcasecmp(end, units[i].unit)) {
			double r = v * units[i].mult;
			if (r >= 1.8e19)
				return PT_EUSAGE;
			*bytes = (uint64_t)(r + 0.5);
			return 0;
		}
	}
	return PT_EUSAGE;
}
