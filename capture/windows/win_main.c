/* SPDX-License-Identifier: MIT */
/*
 * pooltrace-capture for Windows: an ETW kernel session with the pool group
 * writes an .etl file; workload start/end are PerfInfo Mark events in it;
 * --snapshot-interval samples the per-tag pool counters (as PoolMon does)
 * into a native side file FILE.snapshots.ptz, or into FILE itself with
 * --snapshots-only. docs/capture-windows.md describes the program.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

#include "pooltrace/error.h"
#include "pooltrace/native.h"
#include "pooltrace/version.h"

#define PROG PT_WIN_PROG
#define DEFAULT_ETL "pooltrace.etl"
#define DEFAULT_PTZ "pooltrace.ptz"
#define DEFAULT_BUFFER_KB 64
#define FLUSH_NS 1000000000ull
/* How long a workload gets to exit after Ctrl-C reached it too. */
#define CHILD_GRACE_MS 2000

static HANDLE stop_event;
static HANDLE done_event;
static volatile LONG stop_type = -1;

static BOOL WINAPI on_ctrl(DWORD type)
{
	InterlockedCompareExchange(&stop_type, (LONG)type, -1);
	SetEvent(stop_event);
	/* after these the process ends when the handler returns: let main finish first */
	if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT)
		WaitForSingleObject(done_event, 4500);
	return TRUE;
}

static const char *ctrl_name(LONG type)
{
	switch (type) {
	case CTRL_C_EVENT:
		return "Ctrl-C";
	case CTRL_BREAK_EVENT:
		return "Ctrl-Break";
	case CTRL_CLOSE_EVENT:
		return "console closed";
	case CTRL_LOGOFF_EVENT:
		return "logoff";
	case CTRL_SHUTDOWN_EVENT:
		return "shutdown";
	default:
		return "signal";
	}
}

/* Everything one capture holds. */
struct cap {
	struct pt_capopts o;
	struct pt_etw_tagfilter tf;
	struct pt_win_os os;
	bool etw;                    /* an ETW session (not --snapshots-only) */
	struct pt_win_session sess;
	/* native output: snapshot rows and markers */
	const char *native_path;
	char side_path[4096];
	FILE *fp;
	struct pt_native_writer *w;
	struct pt_tags *tags;
	struct pt_poolsnap *snap;
	uint8_t *qbuf;
	size_t qcap;
	uint64_t snap_rows, snap_errors;
	uint64_t start_ns;           /* pt_win_now_ns() at start */
	uint64_t last_ts;
	bool snap_warned;
};

static uint64_t rel_now(const struct cap *c)
{
	uint64_t now = pt_win_now_ns();
	return now > c->start_ns ? now - c->start_ns : 0;
}

static int write_ev(void *ctx, const struct pt_event *ev)
{
	struct cap *c = ctx;
	int rc = pt_native_write_event(c->w, ev);
	if (rc >= 0 && ev->ts_ns > c->last_ts)
		c->last_ts = ev->ts_ns;
	return rc;
}

/* A marker into the .etl (PerfInfo Mark) and into the native file, if any. */
static void add_marker(struct cap *c, const char *text, uint32_t pid)
{
	if (c->etw && c->sess.started) {
		DWORD rc = pt_win_mark(c->sess.handle, text);
		if (rc != ERROR_SUCCESS) {
			char t[256];
			fprintf(stderr, PROG ": warning: cannot add the marker \"%s\" to the trace: %s\n",
				text, pt_win_errtext(rc, t, sizeof(t)));
		}
	}
	if (c->w) {
		struct pt_event ev;
		pt_event_init(&ev);
		ev.kind = PT_EV_MARKER;
		ev.ts_ns = rel_now(c);
		ev.marker = text;
		ev.pid = pid;
		if (write_ev(c, &ev) < 0)
			fprintf(stderr, PROG ": warning: cannot write the marker \"%s\"\n", text);
	}
}

static void take_snapshot(struct cap *c)
{
	size_t len = 0;
	long st = pt_win_pooltag_query(&c->qbuf, &c->qcap, &len);
	if (st != 0) {
		c->snap_errors++;
		if (!c->snap_warned) {
			fprintf(stderr,
				PROG ": warning: NtQuerySystemInformation(SystemPoolTagInformation) "
				     "failed with NTSTATUS 0x%08lX%s\n",
				(unsigned long)st,
				(unsigned long)st == 0xC0000022ul ? " (access denied: run from an "
								    "elevated prompt)" : "");
			c->snap_warned = true;
		}
		return;
	}
	char err[256] = "";
	uint64_t rows = 0;
	int rc = pt_poolsnap_emit(c->snap, c->qbuf, len, (unsigned)sizeof(SIZE_T), rel_now(c),
				  write_ev, c, &rows, err, sizeof(err));
	c->snap_rows += rows;
	if (rc < 0) {
		c->snap_errors++;
		if (!c->snap_warned) {
			fprintf(stderr, PROG ": warning: pool tag snapshot: %s\n", err);
			c->snap_warned = true;
		}
	}
}

/* Append one argument to a CreateProcess command line, quoted as CommandLineToArgvW reads it. */
static void quote_arg(wchar_t *out, size_t *n, const wchar_t *a)
{
	bool need = !*a || wcspbrk(a, L" \t\n\v\"") != NULL;
	if (!need) {
		size_t l = wcslen(a);
		memcpy(out + *n, a, l * sizeof(wchar_t));
		*n += l;
		return;
	}
	out[(*n)++] = L'"';
	for (const wchar_t *p = a;; p++) {
		size_t bs = 0;
		while (*p == L'\\') {
			p++;
			bs++;
		}
		if (!*p) {
			for (size_t i = 0; i < bs * 2; i++)
				out[(*n)++] = L'\\';
			break;
		}
		if (*p == L'"') {
			for (size_t i = 0; i < bs * 2 + 1; i++)
				out[(*n)++] = L'\\';
		} else {
			for (size_t i = 0; i < bs; i++)
				out[(*n)++] = L'\\';
		}
		out[(*n)++] = *p;
	}
	out[(*n)++] = L'"';
}

static wchar_t *build_cmdline(wchar_t **args, int n)
{
	size_t cap = 1;
	for (int i = 0; i < n; i++)
		cap += wcslen(args[i]) * 2 + 3;
	wchar_t *s = malloc(cap * sizeof(wchar_t));
	if (!s)
		return NULL;
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		if (i)
			s[len++] = L' ';
		quote_arg(s, &len, args[i]);
	}
	s[len] = L'\0';
	return s;
}

static char *join_utf8(char **args, int n)
{
	size_t cap = 1;
	for (int i = 0; i < n; i++)
		cap += strlen(args[i]) + 1;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, args[i]);
	}
	return s;
}

/* --mark TEXT */
static int send_mark(const char *text)
{
	TRACEHANDLE h = 0;
	char name[64], t[256];
	DWORD rc = pt_win_find_session(&h, name, sizeof(name));
	if (rc != ERROR_SUCCESS) {
		if (rc == ERROR_ACCESS_DENIED)
			fprintf(stderr, PROG ": --mark: access denied: run from an elevated prompt\n");
		else
			fprintf(stderr, PROG ": --mark: no capture is running (%s)\n",
				pt_win_errtext(rc, t, sizeof(t)));
		return 2;
	}
	rc = pt_win_mark(h, text);
	if (rc != ERROR_SUCCESS) {
		fprintf(stderr, PROG ": --mark: cannot add the marker to \"%s\": %s\n", name,
			pt_win_errtext(rc, t, sizeof(t)));
		return 2;
	}
	return 0;
}

static void fill_info(struct cap *c, struct pt_native_info *info, const char *cmdline,
		      const char *workload)
{
	memset(info, 0, sizeof(*info));
	pt_trace_meta_init(&info->meta);
	char host[MAX_COMPUTERNAME_LENGTH + 1];
	DWORD hn = sizeof(host);
	if (GetComputerNameA(host, &hn))
		snprintf(info->meta.host, sizeof(info->meta.host), "%s", host);
	snprintf(info->meta.os, sizeof(info->meta.os), "Windows %lu.%lu", c->os.major, c->os.minor);
	info->meta.os_build = (uint32_t)c->os.build;
	info->meta.pointer_size = (uint32_t)sizeof(void *);
	SYSTEM_INFO si;
	GetSystemInfo(&si);
	info->meta.num_cpus = si.dwNumberOfProcessors;
	info->meta.clock = PT_CLOCK_QPC;
	info->meta.perf_freq = pt_win_qpc_freq();
	info->meta.has_start_time = true;
	info->meta.start_unix_ns = pt_win_unix_ns();
	info->meta.snapshot_only = true;
	info->meta.pool_tracing = -1;
	if (c->etw)
		snprintf(info->meta.logger, sizeof(info->meta.logger), "%s",
			 c->sess.system_logger ? PT_WIN_SESSION_A : "NT Kernel Logger");
	info->source_format = "capture-windows";
	info->command_line = cmdline;
	info->tag_filter = c->o.tags;
	info->pool_filter = pt_cap_pool_name(c->o.pool);
	info->tool = PROG " " PT_VERSION_STRING;
	info->workload = workload;
	info->trace_clock = "qpc";
	info->snapshot_ns = c->o.snapshot_ns;
	info->stacks = c->o.stacks;
}

static long long file_size(const char *path)
{
	wchar_t *w = pt_win_to_wide(path);
	WIN32_FILE_ATTRIBUTE_DATA fa;
	long long n = -1;
	if (w && GetFileAttributesExW(w, GetFileExInfoStandard, &fa))
		n = (long long)((uint64_t)fa.nFileSizeHigh << 32 | fa.nFileSizeLow);
	free(w);
	return n;
}

static int run(struct cap *c, int argc, char **argv, wchar_t **wargv)
{
	char err[1024] = "", warn[512] = "", t[256];
	int status = 2;
	char *cmdline = join_utf8(argv, argc);
	char *workload = c->o.cmd ? join_utf8(c->o.cmd, c->o.ncmd) : NULL;
	wchar_t *wcmd = NULL, *etl_full = NULL;
	PROCESS_INFORMATION pi = {0};
	bool child_running = false, have_status = false;
	int64_t wstatus = 0;
	const char *stop_reason = "error";
	char reason_buf[64];
	const char *out = c->o.output;

	if (!cmdline || (c->o.cmd && !workload)) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	if (c->o.pool == PT_CAP_POOL_SLAB || c->o.pool == PT_CAP_POOL_KMALLOC) {
		fprintf(stderr, PROG ": --pool %s is for Linux; on Windows use paged, nonpaged or both\n",
			pt_cap_pool_name(c->o.pool));
		goto out;
	}
	if (c->o.control) {
		fprintf(stderr, PROG ": --control is for Linux (its marker FIFO)\n");
		goto out;
	}
	unsigned buffer_kb = DEFAULT_BUFFER_KB;
	if (c->o.buffer_bytes) {
		if (c->o.buffer_bytes < 4096 || c->o.buffer_bytes > (1u << 20)) {
			fprintf(stderr, PROG ": --buffer-size: ETW buffers are 4k to 1M\n");
			goto out;
		}
		buffer_kb = (unsigned)(c->o.buffer_bytes / 1024);
	}
	if (pt_etw_tagfilter_parse(c->o.tags, &c->tf, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	c->etw = !c->o.snapshots_only;
	if (!out)
		out = c->etw ? DEFAULT_ETL : DEFAULT_PTZ;
	if (c->etw && pt_cap_is_native_output(out)) {
		fprintf(stderr, PROG ": -o %s: the ETW session writes an .etl file; use -o FILE.etl, or "
				"--snapshots-only --snapshot-interval D for a .ptz of counter samples\n",
			out);
		goto out;
	}
	if (c->o.stacks && !c->etw) {
		fprintf(stderr, PROG ": --stacks needs the ETW session (not --snapshots-only)\n");
		goto out;
	}
	pt_win_os_get(&c->os);
	if (c->etw) {
		if (!pt_win_is_elevated()) {
			fprintf(stderr, PROG ": recording kernel pool events needs administrator rights: "
					"run from an elevated prompt (right-click Command Prompt or "
					"PowerShell, \"Run as administrator\"). Without them only "
					"--snapshots-only --snapshot-interval D may work.\n");
			goto out;
		}
		DWORD prc = pt_win_enable_privilege(L"SeSystemProfilePrivilege");
		if (prc != ERROR_SUCCESS)
			fprintf(stderr, PROG ": warning: cannot enable SeSystemProfilePrivilege: %s\n",
				pt_win_errtext(prc, t, sizeof(t)));
		wchar_t *wout = pt_win_to_wide(out);
		DWORD n = wout ? GetFullPathNameW(wout, 0, NULL, NULL) : 0;
		if (n)
			etl_full = malloc((size_t)n * sizeof(wchar_t));
		if (!etl_full || !GetFullPathNameW(wout, n, etl_full, NULL)) {
			free(wout);
			fprintf(stderr, PROG ": -o %s: not a usable path\n", out);
			goto out;
		}
		free(wout);
	}

	/* the native file: snapshots (and markers) */
	if (c->o.snapshot_ns) {
		if (c->etw) {
			if (pt_cap_snapshot_path(out, c->side_path, sizeof(c->side_path)) < 0) {
				fprintf(stderr, PROG ": -o %s: path too long\n", out);
				goto out;
			}
			c->native_path = c->side_path;
		} else {
			c->native_path = out;
		}
		c->tags = pt_tags_new(0);
		c->snap = c->tags ? pt_poolsnap_new(c->tags, &c->tf, c->o.pool) : NULL;
		if (!c->snap) {
			fprintf(stderr, PROG ": out of memory\n");
			goto out;
		}
		c->fp = fopen(c->native_path, "wb");
		if (!c->fp) {
			fprintf(stderr, PROG ": cannot write %s: %s; choose a writable place with -o\n",
				c->native_path, strerror(errno));
			goto out;
		}
	}

	if (c->etw) {
		struct pt_win_session_cfg cfg = {
			.etl_path = etl_full,
			.buffer_kb = buffer_kb,
			.stacks = c->o.stacks,
			.tags = &c->tf,
			.system_logger = pt_win_os_is8(&c->os),
		};
		if (pt_win_session_start(&c->sess, &cfg, err, sizeof(err), warn, sizeof(warn)) !=
		    ERROR_SUCCESS) {
			fprintf(stderr, PROG ": %s\n", err);
			goto out;
		}
		if (warn[0])
			fprintf(stderr, PROG ": warning: %s\n", warn);
	}
	c->start_ns = pt_win_now_ns();
	if (c->fp) {
		struct pt_native_info info;
		fill_info(c, &info, cmdline, workload);
		int rc = pt_native_writer_new(&c->w, c->fp, c->tags, &info);
		if (rc < 0) {
			fprintf(stderr, PROG ": cannot write %s: %s\n", c->native_path, pt_strerror(rc));
			goto out;
		}
		take_snapshot(c);
	}

	if (c->o.cmd) {
		wcmd = build_cmdline(wargv + (c->o.cmd - argv), c->o.ncmd);
		STARTUPINFOW si;
		memset(&si, 0, sizeof(si));
		si.cb = sizeof(si);
		if (!wcmd) {
			fprintf(stderr, PROG ": out of memory\n");
			goto out;
		}
		char text[PT_NATIVE_MAX_MARKER];
		snprintf(text, sizeof(text), "workload-start: %s", workload);
		add_marker(c, text, PT_NONE32);
		if (!CreateProcessW(NULL, wcmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
			DWORD e = GetLastError();
			fprintf(stderr, PROG ": cannot run %s: %s\n", c->o.cmd[0],
				pt_win_errtext(e, t, sizeof(t)));
			add_marker(c, "workload-end: could not start", PT_NONE32);
			stop_reason = "workload could not start";
			goto stop;
		}
		child_running = true;
	}

	uint64_t now = pt_win_now_ns(), last_flush = now;
	uint64_t next_snap = c->o.snapshot_ns ? now + c->o.snapshot_ns : 0;
	uint64_t wend = 0;
	for (;;) {
		now = pt_win_now_ns();
		uint64_t deadline = UINT64_MAX;
		if (c->o.has_duration)
			deadline = c->start_ns + c->o.duration_ns;
		if (c->o.cmd && !child_running && wend + c->o.cooldown_ns < deadline)
			deadline = wend + c->o.cooldown_ns;
		if (now >= deadline) {
			stop_reason = c->o.has_duration && deadline == c->start_ns + c->o.duration_ns
					      ? "duration"
					      : "workload-exit";
			break;
		}
		uint64_t wake = deadline;
		if (next_snap && next_snap < wake)
			wake = next_snap;
		if (c->w && last_flush + FLUSH_NS < wake)
			wake = last_flush + FLUSH_NS;
		DWORD ms = INFINITE;
		if (wake != UINT64_MAX)
			ms = wake > now ? (DWORD)((wake - now + 999999) / 1000000) : 0;
		HANDLE hs[2] = {stop_event, pi.hProcess};
		DWORD r = WaitForMultipleObjects(child_running ? 2 : 1, hs, FALSE, ms);
		if (r == WAIT_OBJECT_0) {
			snprintf(reason_buf, sizeof(reason_buf), "signal %s", ctrl_name(stop_type));
			stop_reason = reason_buf;
			break;
		}
		if (r == WAIT_OBJECT_0 + 1 && child_running) {
			DWORD code = 0;
			GetExitCodeProcess(pi.hProcess, &code);
			child_running = false;
			have_status = true;
			wstatus = (int64_t)code;
			char text[96];
			if (code >= 0xC0000000ul)
				snprintf(text, sizeof(text), "workload-end: crashed with 0x%08lX",
					 (unsigned long)code);
			else
				snprintf(text, sizeof(text), "workload-end: exit status %lu",
					 (unsigned long)code);
			add_marker(c, text, (uint32_t)pi.dwProcessId);
			wend = pt_win_now_ns();
			continue;
		}
		if (r == WAIT_FAILED) {
			fprintf(stderr, PROG ": waiting failed: %s\n",
				pt_win_errtext(GetLastError(), t, sizeof(t)));
			break;
		}
		now = pt_win_now_ns();
		if (next_snap && now >= next_snap) {
			take_snapshot(c);
			next_snap += c->o.snapshot_ns;
			if (next_snap < now)
				next_snap = now + c->o.snapshot_ns;
		}
		if (c->w && now >= last_flush + FLUSH_NS) {
			if (pt_native_writer_flush(c->w) < 0) {
				fprintf(stderr, PROG ": writing %s failed\n", c->native_path);
				break;
			}
			last_flush = now;
		}
	}

	if (child_running) {
		/* Ctrl-C reached the workload too (same console); give it a moment */
		DWORD wait_ms = stop_type >= 0 ? CHILD_GRACE_MS : 0;
		if (WaitForSingleObject(pi.hProcess, wait_ms) != WAIT_OBJECT_0) {
			TerminateProcess(pi.hProcess, 1);
			WaitForSingleObject(pi.hProcess, CHILD_GRACE_MS);
		}
		DWORD code = 0;
		GetExitCodeProcess(pi.hProcess, &code);
		child_running = false;
		have_status = true;
		wstatus = (int64_t)code;
		char text[96];
		snprintf(text, sizeof(text), "workload-end: stopped with the capture (%lu)",
			 (unsigned long)code);
		add_marker(c, text, (uint32_t)pi.dwProcessId);
	}

stop:
	if (c->w)
		take_snapshot(c);
	status = 0;
	if (c->etw) {
		DWORD rc = pt_win_session_stop(&c->sess);
		if (rc != ERROR_SUCCESS) {
			fprintf(stderr, PROG ": stopping the ETW session failed: %s; stop it with: "
					"logman stop \"%s\" -ets\n",
				pt_win_errtext(rc, t, sizeof(t)),
				c->sess.system_logger ? PT_WIN_SESSION_A : "NT Kernel Logger");
			status = 1;
		}
	}
	uint64_t end_ns = rel_now(c);
	if (c->w) {
		struct pt_native_totals tot = {
			.end_ns = end_ns > c->last_ts ? end_ns : c->last_ts,
			.lost_known = false,
			.stop_reason = stop_reason,
			.has_workload_status = have_status,
			.workload_status = wstatus,
		};
		int rc = pt_native_writer_finish(c->w, NULL, &tot);
		int crc = fclose(c->fp);
		c->fp = NULL;
		if (rc < 0 || crc != 0) {
			fprintf(stderr, PROG ": writing %s failed: %s\n", c->native_path,
				rc < 0 ? pt_strerror(rc) : strerror(errno));
			status = 1;
		}
	}
	if (!c->o.quiet) {
		if (c->etw)
			fprintf(stderr,
				PROG ": %s: %lu buffers written, %lu events lost, %lu buffers lost, "
				     "%lld bytes, %.1f s",
				out, c->sess.buffers_written, c->sess.events_lost, c->sess.buffers_lost,
				file_size(out), (double)end_ns / 1e9);
		else
			fprintf(stderr, PROG ": %s: %.1f s", out, (double)end_ns / 1e9);
		if (have_status)
			fprintf(stderr, "; workload exit status %lld", (long long)wstatus);
		fprintf(stderr, " (stopped: %s)\n", stop_reason);
		if (c->w)
			fprintf(stderr,
				PROG ": %s: %llu snapshot rows, %llu events, %lld bytes%s\n",
				c->native_path, (unsigned long long)c->snap_rows,
				(unsigned long long)pt_native_writer_events(c->w),
				file_size(c->native_path),
				c->snap_errors ? " (some samples failed)" : "");
	}

out:
	if (c->etw && c->sess.started)
		pt_win_session_stop(&c->sess);
	pt_win_session_free(&c->sess);
	if (c->fp) {
		if (c->w)
			pt_native_writer_finish(c->w, NULL, NULL);
		fclose(c->fp);
		/* setup failed before anything was written: leave no empty file behind */
		if (!c->w)
			remove(c->native_path);
	}
	pt_native_writer_free(c->w);
	pt_poolsnap_free(c->snap);
	pt_tags_free(c->tags);
	free(c->qbuf);
	if (pi.hProcess)
		CloseHandle(pi.hProcess);
	if (pi.hThread)
		CloseHandle(pi.hThread);
	free(wcmd);
	free(etl_full);
	free(cmdline);
	free(workload);
	return status;
}

/* The entry point with UTF-16 arguments (-municode). */
int wmain(int argc, wchar_t **wargv);

int wmain(int argc, wchar_t **wargv)
{
	char **argv = calloc((size_t)argc + 1, sizeof(char *));
	int status = 2;
	if (!argv) {
		fprintf(stderr, PROG ": out of memory\n");
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		argv[i] = pt_win_to_utf8(wargv[i]);
		if (!argv[i]) {
			fprintf(stderr, PROG ": out of memory\n");
			goto out;
		}
	}
	static struct cap cap;
	char err[512];
	if (pt_capopts_parse(&cap.o, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (cap.o.help) {
		fputs(pt_capopts_usage(), stdout);
		status = 0;
		goto out;
	}
	if (cap.o.version) {
		printf(PROG " " PT_VERSION_STRING "\n");
		status = 0;
		goto out;
	}
	if (cap.o.mark) {
		status = send_mark(cap.o.mark);
		goto out;
	}
	stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	done_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (!stop_event || !done_event || !SetConsoleCtrlHandler(on_ctrl, TRUE)) {
		fprintf(stderr, PROG ": cannot set up the Ctrl-C handler\n");
		goto out;
	}
	status = run(&cap, argc, argv, wargv);
	SetEvent(done_event);
out:
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	return status;
}
