/* SPDX-License-Identifier: MIT */
/* Internal to the Windows pooltrace-capture program (win_*.c, Windows only). */
#ifndef PT_WIN_H
#define PT_WIN_H

#include <windows.h>

#include <evntrace.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wincap.h"

#define PT_WIN_PROG "pooltrace-capture"
/* Session name in system logger mode (Windows 8 and later). */
#define PT_WIN_SESSION L"pooltrace-capture"
#define PT_WIN_SESSION_A "pooltrace-capture"

/* The running Windows version. */
struct pt_win_os {
	unsigned long major, minor, build;
};

/** pt_win_os_get() - the real version (RtlGetVersion, not the manifest-dependent GetVersionEx). */
void pt_win_os_get(struct pt_win_os *os);

/** pt_win_os_is8() - true on Windows 8 / Server 2012 (6.2) and later. */
bool pt_win_os_is8(const struct pt_win_os *os);

/** pt_win_is_elevated() - true when the process token is elevated (administrator). */
bool pt_win_is_elevated(void);

/**
 * pt_win_enable_privilege() - enable a privilege in the process token
 * (e.g. L"SeSystemProfilePrivilege").
 * @return: ERROR_SUCCESS or the Win32 error.
 */
DWORD pt_win_enable_privilege(const wchar_t *name);

/** pt_win_errtext() - FormatMessage text of a Win32 error, without the line break. */
const char *pt_win_errtext(DWORD code, char *buf, size_t bufsz);

/** pt_win_now_ns() - QueryPerformanceCounter in ns (monotonic). */
uint64_t pt_win_now_ns(void);

/** pt_win_unix_ns() - wall clock as ns since 1970. */
int64_t pt_win_unix_ns(void);

/** pt_win_qpc_freq() - QueryPerformanceFrequency. */
uint64_t pt_win_qpc_freq(void);

/** pt_win_to_utf8() - a malloc'd UTF-8 copy of a wide string (NULL when out of memory). */
char *pt_win_to_utf8(const wchar_t *w);

/** pt_win_to_wide() - a malloc'd wide copy of a UTF-8 string (NULL when out of memory). */
wchar_t *pt_win_to_wide(const char *s);

/**
 * pt_win_pooltag_query() - one NtQuerySystemInformation(SystemPoolTagInformation)
 * buffer. *buf and *cap are reused and grown across calls.
 * @len: receives the bytes returned.
 * @return: 0 (STATUS_SUCCESS) or the NTSTATUS.
 */
long pt_win_pooltag_query(uint8_t **buf, size_t *cap, size_t *len);

/* An ETW kernel session with the pool group. */
struct pt_win_session {
	TRACEHANDLE handle;
	bool started;
	bool system_logger;         /* Windows 8+: own session; else NT Kernel Logger */
	wchar_t name[64];
	EVENT_TRACE_PROPERTIES *props;
	size_t props_size;
	bool tag_filter_applied;
	/* after stop */
	unsigned long events_lost, buffers_written, buffers_lost;
};

/* How to start it. */
struct pt_win_session_cfg {
	const wchar_t *etl_path;    /* full path of the .etl */
	unsigned buffer_kb;         /* 4..1024 */
	bool stacks;
	const struct pt_etw_tagfilter *tags; /* may be empty */
	bool system_logger;
};

/**
 * pt_win_session_start() - start the session, enable the pool group, stacks
 * and the tag filter.
 * @err: a message with the fix to try when it fails.
 * @warn: receives a warning (e.g. the tag filter could not be set); "" when none.
 * @return: 0, or the Win32 error.
 */
DWORD pt_win_session_start(struct pt_win_session *s, const struct pt_win_session_cfg *cfg,
			   char *err, size_t errsz, char *warn, size_t warnsz);

/**
 * pt_win_session_stop() - stop the session: ETW flushes and closes the .etl.
 * Fills events_lost, buffers_written, buffers_lost. Safe to call twice.
 * @return: ERROR_SUCCESS or the Win32 error.
 */
DWORD pt_win_session_stop(struct pt_win_session *s);

/** pt_win_session_free() - free the properties buffer. */
void pt_win_session_free(struct pt_win_session *s);

/**
 * pt_win_mark() - add a PerfInfo Mark event with the text to a session
 * (EtwSetMark in ntdll, the call behind xperf -m).
 * @return: ERROR_SUCCESS or the Win32 error.
 */
DWORD pt_win_mark(TRACEHANDLE handle, const char *text);

/**
 * pt_win_find_session() - the handle of a running capture session: ours
 * (Windows 8+) or else the NT Kernel Logger.
 * @name: receives the session name found (UTF-8).
 * @return: ERROR_SUCCESS or the Win32 error (ERROR_WMI_INSTANCE_NOT_FOUND when none).
 */
DWORD pt_win_find_session(TRACEHANDLE *handle, char *name, size_t namesz);

#endif
