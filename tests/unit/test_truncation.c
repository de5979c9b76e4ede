/* SPDX-License-Identifier: MIT */
/*
 * Truncated traces: every sample under sample-traces/ (found at run time, so
 * new samples are covered without edits) is cut at many lengths and read
 * with its own format forced, keep_going off and on. Each prefix must either
 * read to the end (a warning allowed) or fail with a message; never crash,
 * never hang (each case runs under an alarm), and never give more events
 * than the whole file does. Prefixes are also opened with format detection.
 *
 * Which lengths: every one for files up to FULL_SWEEP bytes; for bigger ones
 * the first 256, a run of evenly spaced ones and the last ones, as many as a
 * work budget allows (PT_TRUNCATION_BUDGET_MB decompressed megabytes read per
 * file and mode, default 96; at most 2000 spaced and 256 final lengths).
 * PT_TRUNCATION_CASE_SECONDS sets the per-case time limit (default 20).
 *
 * Gzip samples: every prefix of 2 bytes or more (the magic) is a stream cut
 * short, so a prefix that reads must carry the cut-short warning
 * (r->cut_short), and one that fails (past the first 4 KiB, where the format
 * is known) must say it was cut short.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"

#define FULL_SWEEP 4096
#define MAX_SPACED 2000
#define MAX_TAIL 256
#define HEAD 256

struct sample {
	char path[1024];
	const char *rel;        /* path below the source folder, for messages */
	uint8_t *data;
	size_t size;
	char format[32];
	uint64_t events;        /* events of the whole file (keep_going off) */
	uint64_t events_kg;     /* with keep_going */
	uint64_t decompressed;  /* bytes the reader consumed from the whole file */
	bool gzip;
};

/* Outcome counts of one file. */
struct tally {
	unsigned long cases, clean, warned, failed;
};

static char current_case[1200];
static unsigned case_seconds = 20;
static int samples_done;

static void on_alarm(int sig)
{
	static const char pre[] = "\ntruncation: time limit exceeded (a hang?) in ";
	ssize_t w = write(2, pre, sizeof(pre) - 1);
	w = write(2, current_case, strlen(current_case));
	w = write(2, "\n", 1);
	(void)w;
	(void)sig;
	_exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	struct stat st;
	if (fstat(fileno(fp), &st) != 0 || st.st_size < 0) {
		fclose(fp);
		return NULL;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n ? n : 1);
	if (buf && fread(buf, 1, n, fp) != n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = n;
	return buf;
}

/*
 * Read len bytes of s as format (NULL: detect). Returns 1 read to the end,
 * 0 open or read failed with a message; events and warnings are returned.
 * read_all false: only open (the detection path).
 */
static int read_prefix(const struct sample *s, size_t len, const char *format, bool keep_going,
		       bool read_all, uint64_t *events, uint64_t *warnings, uint64_t *consumed,
		       bool *cut_short, char *msg, size_t msgsz)
{
	/* an exact-size copy, so that reads past the cut are caught by the sanitizers */
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, s->data, len);
	struct pt_tags *tags = pt_tags_new(0);
	assert_non_null(tags);
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, copy, len, s->rel), 0);
	struct pt_reader_opts o = {.keep_going = keep_going, .quiet = true};
	struct pt_reader *r = NULL;
	char err[600] = "";
	int ok = 0;
	*events = *warnings = 0;
	int rc = pt_reader_open_input(&r, in, format, tags, &o, err, sizeof(err));
	if (rc < 0) {
		if (!err[0])
			fail_msg("%s: open failed (%s) without a message", current_case,
				 pt_err_name(rc));
		if (msg)
			snprintf(msg, msgsz, "%s", err);
		goto out;
	}
	if (!read_all) {
		ok = 1;
		goto out;
	}
	struct pt_event ev;
	while ((rc = pt_reader_next(r, &ev)) > 0)
		(*events)++;
	*warnings = r->warnings;
	if (cut_short)
		*cut_short = r->cut_short;
	if (consumed)
		*consumed = pt_input_offset(r->in);
	if (rc < 0) {
		if (!pt_reader_errmsg(r)[0])
			fail_msg("%s: read failed (%s) without a message", current_case,
				 pt_err_name(rc));
		if (msg)
			snprintf(msg, msgsz, "%s", pt_reader_errmsg(r));
		goto out;
	}
	ok = 1;
out:
	pt_reader_free(r);
	pt_tags_free(tags);
	free(copy);
	return ok;
}

static void run_case(const struct sample *s, size_t len, bool keep_going, struct tally *t)
{
	uint64_t events, warnings;
	snprintf(current_case, sizeof(current_case), "%s (%s) cut at %zu of %zu bytes, keep_going %s",
		 s->rel, s->format, len, s->size, keep_going ? "on" : "off");
	alarm(case_seconds);
	char msg[600] = "";
	bool cut = false;
	int ok = read_prefix(s, len, s->format, keep_going, true, &events, &warnings, NULL, &cut,
			     msg, sizeof(msg));
	/* the detection path on the same bytes: open only */
	if (!keep_going) {
		uint64_t e2, w2;
		read_prefix(s, len, NULL, false, false, &e2, &w2, NULL, NULL, NULL, 0);
	}
	alarm(0);
	uint64_t most = keep_going ? s->events_kg : s->events;
	if (events > most)
		fail_msg("%s: %llu events, more than the whole file's %llu", current_case,
			 (unsigned long long)events, (unsigned long long)most);
	/* every proper prefix of a gzip file is a stream cut short: read with that warning */
	if (ok && s->gzip && len >= 2 && (!cut || !warnings))
		fail_msg("%s: a gzip stream cut short read without a cut-short warning", current_case);
	if (!ok && s->gzip && len >= 4096 && strstr(msg, "cut short") == NULL)
		fail_msg("%s: failed without naming the cut: %s", current_case, msg);
	t->cases++;
	if (!ok) {
		if (t->failed++ < 1)
			printf("  e.g. cut at %zu, keep_going %s: %s\n", len,
			       keep_going ? "on" : "off", msg);
	} else if (warnings)
		t->warned++;
	else
		t->clean++;
}

/* Lengths to try for a file: sorted, distinct, each < size. */
static size_t pick_lengths(const struct sample *s, uint64_t budget, size_t **out)
{
	size_t size = s->size, n = 0;
	size_t *v = malloc((FULL_SWEEP + HEAD + MAX_SPACED + MAX_TAIL + 1) * sizeof(*v));
	assert_non_null(v);
	if (size <= FULL_SWEEP) {
		for (size_t i = 0; i < size; i++)
			v[n++] = i;
		*out = v;
		return n;
	}
	/* cost of one prefix in decompressed bytes read, about len * ratio */
	double ratio = (double)(s->decompressed ? s->decompressed : size) / (double)size;
	if (ratio < 1)
		ratio = 1;
	double whole = (double)size * ratio;
	size_t tail = (size_t)((double)budget / 4 / whole);
	tail = tail > MAX_TAIL ? MAX_TAIL : tail < 4 ? 4 : tail;
	double left = (double)budget - (double)tail * whole;
	size_t spaced = left > 0 ? (size_t)(left / (whole / 2)) : 0;
	spaced = spaced > MAX_SPACED ? MAX_SPACED : spaced < 24 ? 24 : spaced;
	for (size_t i = 0; i < HEAD; i++)
		v[n++] = i;
	for (size_t i = 1; i <= spaced; i++) {
		size_t len = (size_t)((double)size * (double)i / (double)(spaced + 1));
		if (len > v[n - 1] && len < size - tail)
			v[n++] = len;
	}
	for (size_t i = size - tail; i < size; i++)
		if (i > v[n - 1])
			v[n++] = i;
	*out = v;
	return n;
}

static void check_sample(struct sample *s, uint64_t budget)
{
	uint64_t warnings;
	double t0 = now_s();
	/* the whole file: which format, how many events */
	snprintf(current_case, sizeof(current_case), "%s (whole file)", s->rel);
	alarm(case_seconds * 4);
	struct pt_tags *tags = pt_tags_new(0);
	assert_non_null(tags);
	struct pt_input *in;
	assert_int_equal(pt_input_open_memory(&in, s->data, s->size, s->rel), 0);
	struct pt_reader *r = NULL;
	struct pt_reader_opts o = {.quiet = true};
	char err[600];
	int rc = pt_reader_open_input(&r, in, NULL, tags, &o, err, sizeof(err));
	if (rc < 0) {
		alarm(0);
		printf("%s: no reader takes it (%s), skipped\n", s->rel, err);
		pt_tags_free(tags);
		return;
	}
	snprintf(s->format, sizeof(s->format), "%s", r->ops->name);
	pt_reader_free(r);
	pt_tags_free(tags);
	/* events are counted up to an error too: no prefix may give more */
	uint64_t consumed = 0;
	read_prefix(s, s->size, s->format, false, true, &s->events, &warnings, &consumed, NULL,
		    NULL, 0);
	s->decompressed = consumed;
	read_prefix(s, s->size, s->format, true, true, &s->events_kg, &warnings, NULL, NULL, NULL, 0);
	s->gzip = s->size >= 2 && s->data[0] == 0x1f && s->data[1] == 0x8b;
	alarm(0);
	if (s->events_kg < s->events)
		s->events_kg = s->events;

	size_t *lens;
	size_t n = pick_lengths(s, budget, &lens);
	struct tally t[2] = {{0}, {0}};
	for (size_t i = 0; i < n; i++) {
		run_case(s, lens[i], false, &t[0]);
		run_case(s, lens[i], true, &t[1]);
	}
	free(lens);
	printf("%s (%s, %zu bytes, %llu events): %zu lengths; keep_going off: %lu read, %lu with "
	       "warnings, %lu errors; on: %lu read, %lu with warnings, %lu errors; %.1f s\n",
	       s->rel, s->format, s->size, (unsigned long long)s->events, n, t[0].clean,
	       t[0].warned, t[0].failed, t[1].clean, t[1].warned, t[1].failed, now_s() - t0);
	fflush(stdout);
	samples_done++;
}

static void walk(const char *dir, size_t rel_off, uint64_t budget)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = realloc(names, cap * sizeof(*names));
			assert_non_null(names);
		}
		names[n] = strdup(de->d_name);
		assert_non_null(names[n]);
		n++;
	}
	closedir(d);
	/* a stable order: simple insertion sort */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *tmp = names[j];
			names[j] = names[j - 1];
			names[j - 1] = tmp;
		}
	for (size_t i = 0; i < n; i++) {
		struct sample s;
		memset(&s, 0, sizeof(s));
		snprintf(s.path, sizeof(s.path), "%s/%s", dir, names[i]);
		s.rel = s.path + rel_off;
		struct stat st;
		if (stat(s.path, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk(s.path, rel_off, budget);
		} else if (stat(s.path, &st) == 0 && S_ISREG(st.st_mode) &&
			   !strstr(names[i], ".md")) {
			s.data = slurp(s.path, &s.size);
			assert_non_null(s.data);
			check_sample(&s, budget);
			free(s.data);
		}
		free(names[i]);
	}
	free(names);
}

static void test_truncated_samples(void **state)
{
	(void)state;
	const char *e = getenv("PT_TRUNCATION_BUDGET_MB");
	uint64_t budget = (uint64_t)(e && atoi(e) > 0 ? atoi(e) : 96) << 20;
	e = getenv("PT_TRUNCATION_CASE_SECONDS");
	if (e && atoi(e) > 0)
		case_seconds = (unsigned)atoi(e);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	walk(PT_SOURCE_DIR "/sample-traces", strlen(PT_SOURCE_DIR) + 1, budget);
	printf("%d sample traces checked\n", samples_done);
	assert_true(samples_done > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_samples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
