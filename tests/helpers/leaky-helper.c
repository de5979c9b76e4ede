/* SPDX-License-Identifier: MIT */
/*
 * leaky-helper: a workload for the capture end-to-end test.
 *   leaky-helper leak  N HOLD PIDFILE  opens N eventfds in a detached child that keeps
 *                                      them HOLD seconds (past the capture's cool-down),
 *                                      writes the child's pid to PIDFILE and exits
 *   leaky-helper clean N               opens N eventfds, closes them all and exits
 * Each eventfd costs the kernel a kmalloc in do_eventfd, a struct file and a dentry.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

static int open_fds(int n, int *fds)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (int i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		if (fds[i] < 0) {
			perror("eventfd");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "leak") && strcmp(argv[1], "clean")) ||
	    (!strcmp(argv[1], "leak") && argc < 5)) {
		fprintf(stderr, "usage: leaky-helper leak N HOLD_SECONDS PIDFILE | clean N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	if (n < 1 || n > 100000)
		return 2;
	int *fds = calloc((size_t)n, sizeof(*fds));
	if (!fds)
		return 1;
	if (!strcmp(argv[1], "clean")) {
		if (open_fds(n, fds) < 0)
			return 1;
		for (int i = 0; i < n; i++)
			close(fds[i]);
		free(fds);
		return 0;
	}
	int hold = atoi(argv[3]);
	int ready[2];
	if (pipe(ready) < 0)
		return 1;
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(ready[0]);
		setsid();
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			close(null);
		}
		char ok = open_fds(n, fds) == 0 ? 'y' : 'n';
		if (write(ready[1], &ok, 1) != 1)
			_exit(1);
		close(ready[1]);
		sleep((unsigned)hold);
		_exit(0);
	}
	close(ready[1]);
	char ok = 'n';
	if (read(ready[0], &ok, 1) != 1 || ok != 'y') {
		fprintf(stderr, "leaky-helper: the holder could not open %d eventfds\n", n);
		return 1;
	}
	FILE *fp = fopen(argv[4], "w");
	if (!fp)
		return 1;
	fprintf(fp, "%ld\n", (long)pid);
	fclose(fp);
	free(fds);
	return 0;
}
