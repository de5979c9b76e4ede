/* SPDX-License-Identifier: MIT */
/*
 * Replays corpus files through one fuzz target without libFuzzer, so the
 * corpora run under ctest in every build (and under the sanitizers).
 * usage: fuzzreg_<target> PATH... (files, or folders searched recursively)
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static char current[4096];
static unsigned long files_run;

/* Name the input that was running when a signal ends the process. */
static void on_fatal(int sig)
{
	static const char pre[] = "\nregression driver: fatal signal while running ";
	ssize_t w = write(2, pre, sizeof(pre) - 1);
	w = write(2, current, strlen(current));
	w = write(2, "\n", 1);
	(void)w;
	signal(sig, SIG_DFL);
	raise(sig);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			fclose(fp);
			fprintf(stderr, "%s: out of memory\n", path);
			return -1;
		}
		len += fread(buf + len, 1, cap - len, fp);
		if (len < cap)
			break;
		uint8_t *nb = realloc(buf, cap * 2);
		if (!nb)
			free(buf);
		buf = nb;
		cap *= 2;
	}
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		fprintf(stderr, "%s: read error\n", path);
		free(buf);
		return -1;
	}
	snprintf(current, sizeof(current), "%s", path);
	/* an exact-size copy, so reads past the end are caught by the sanitizers */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	files_run++;
	return 0;
}

static int run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				rc = -1;
				break;
			}
			names = nn;
		}
		size_t sz = strlen(path) + strlen(de->d_name) + 2;
		names[n] = malloc(sz);
		if (!names[n]) {
			rc = -1;
			break;
		}
		snprintf(names[n], sz, "%s/%s", path, de->d_name);
		n++;
	}
	closedir(d);
	if (rc == 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && run_path(names[i]) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
#ifndef __SANITIZE_ADDRESS__ /* AddressSanitizer reports these itself, with a stack */
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGFPE, on_fatal);
	signal(SIGILL, on_fatal);
#endif
	signal(SIGABRT, on_fatal);
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0 && errno == ENOENT) {
			printf("%s: not present, skipped\n", argv[i]);
			continue;
		}
		if (run_path(argv[i]) < 0)
			rc = 1;
	}
	printf("%s: %lu inputs replayed%s\n", argv[0], files_run, rc ? " (with errors)" : "");
	return rc;
}
