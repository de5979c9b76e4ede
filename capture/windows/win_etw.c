/* SPDX-License-Identifier: MIT */
/*
 * The ETW kernel session of pooltrace-capture.
 *
 * Windows 8 and later: a session of its own in system logger mode
 * (EVENT_TRACE_SYSTEM_LOGGER_MODE, a fresh Wnode.Guid, a private name), the
 * pool group enabled with TraceSetInformation(TraceSystemTraceEnableFlagsInfo),
 * stacks with TraceSetInformation(TraceStackTracingInfo) and the pool-tag
 * filter with NtSetSystemInformation(SystemPerformanceTraceInformation,
 * EventTracePoolTagFilterInformation).
 * Windows 7: the NT Kernel Logger (the only session the kernel provider can
 * feed there), configured at StartTrace through the EnableFlags extension
 * block: group mask, stack-walk hook ids and pool tags in one.
 * Sources: docs/capture-windows.md.
 */
#include <objbase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

/* SystemTraceControlGuid {9e814aad-3204-11d2-9a82-006008a86939} (evntrace.h) */
static const GUID system_trace_control_guid = {
	0x9e814aad, 0x3204, 0x11d2, {0x9a, 0x82, 0x00, 0x60, 0x08, 0xa8, 0x69, 0x39}};

typedef ULONG(WINAPI *etw_set_mark_fn)(TRACEHANDLE handle, void *info, ULONG size);
typedef long(WINAPI *nt_set_system_information_fn)(ULONG cls, void *buf, ULONG len);

static void (*ntdll_proc(const char *name))(void)
{
	HMODULE m = GetModuleHandleW(L"ntdll.dll");
	if (!m)
		return NULL;
	return (void (*)(void))GetProcAddress(m, name);
}

/* Properties buffer: struct, logger name, log file name, extension block. */
#define NAME_CHARS 64
#define FILE_CHARS 32768
#define EXT_BYTES 512

static size_t props_name_off(void)
{
	return sizeof(EVENT_TRACE_PROPERTIES);
}

static size_t props_file_off(void)
{
	return props_name_off() + NAME_CHARS * sizeof(wchar_t);
}

static size_t props_ext_off(void)
{
	return props_file_off() + FILE_CHARS * sizeof(wchar_t);
}

static EVENT_TRACE_PROPERTIES *props_new(size_t *size)
{
	*size = props_ext_off() + EXT_BYTES;
	EVENT_TRACE_PROPERTIES *p = calloc(1, *size);
	if (p) {
		p->Wnode.BufferSize = (ULONG)*size;
		p->LoggerNameOffset = (ULONG)props_name_off();
		p->LogFileNameOffset = (ULONG)props_file_off();
	}
	return p;
}

static void props_reset(EVENT_TRACE_PROPERTIES *p, size_t size)
{
	memset(p, 0, size);
	p->Wnode.BufferSize = (ULONG)size;
	p->LoggerNameOffset = (ULONG)props_name_off();
	p->LogFileNameOffset = (ULONG)props_file_off();
}

static void start_error(DWORD rc, const struct pt_win_session *s, const wchar_t *etl, char *err,
			size_t errsz)
{
	char text[256];
	char *path = pt_win_to_utf8(etl);
	pt_win_errtext(rc, text, sizeof(text));
	switch (rc) {
	case ERROR_ACCESS_DENIED:
		snprintf(err, errsz,
			 "cannot start the ETW kernel session: access denied. Run "
			 PT_WIN_PROG " from an elevated prompt (right-click Command Prompt or "
			 "PowerShell, \"Run as administrator\")");
		break;
	case ERROR_ALREADY_EXISTS:
		if (s->system_logger)
			snprintf(err, errsz,
				 "the ETW session \"" PT_WIN_SESSION_A "\" is already running (another "
				 "capture, or one that was killed). Stop it with: logman stop "
				 PT_WIN_SESSION_A " -ets   (or: xperf -stop " PT_WIN_SESSION_A ")");
		else
			snprintf(err, errsz,
				 "the NT Kernel Logger is busy: another tool (xperf, WPR, Process "
				 "Monitor, Process Explorer, a killed capture...) is using it. Stop it "
				 "with: xperf -stop   (or: logman stop \"NT Kernel Logger\" -ets)");
		break;
	case ERROR_NO_SYSTEM_RESOURCES:
		snprintf(err, errsz,
			 "cannot start the ETW kernel session: no free kernel logger slot (Windows "
			 "allows 8 system logger sessions). List them with: logman query -ets  "
			 "and stop an unused one with: logman stop NAME -ets");
		break;
	case ERROR_PRIVILEGE_NOT_HELD:
	case ERROR_NO_SUCH_PRIVILEGE:
		snprintf(err, errsz,
			 "cannot start the ETW kernel session: %s. The session needs the \"Profile "
			 "system performance\" privilege (SeSystemProfilePrivilege) that "
			 "administrators have: run from an elevated prompt",
			 text);
		break;
	case ERROR_PATH_NOT_FOUND:
	case ERROR_BAD_PATHNAME:
	case ERROR_DIRECTORY:
	case ERROR_INVALID_NAME:
		snprintf(err, errsz, "cannot write the trace %s: %s. Check that its folder exists",
			 path ? path : "", text);
		break;
	default:
		snprintf(err, errsz, "cannot start the ETW kernel session: %s (error %lu)", text,
			 (unsigned long)rc);
		break;
	}
	free(path);
}

DWORD pt_win_session_start(struct pt_win_session *s, const struct pt_win_session_cfg *cfg,
			   char *err, size_t errsz, char *warn, size_t warnsz)
{
	char text[256];
	DWORD rc;
	warn[0] = '\0';
	s->handle = 0;
	s->started = false;
	s->system_logger = cfg->system_logger;
	s->tag_filter_applied = false;
	wcscpy(s->name, cfg->system_logger ? PT_WIN_SESSION : KERNEL_LOGGER_NAMEW);
	if (wcslen(cfg->etl_path) >= FILE_CHARS) {
		snprintf(err, errsz, "output path is too long");
		return ERROR_BAD_PATHNAME;
	}
	s->props = props_new(&s->props_size);
	if (!s->props) {
		snprintf(err, errsz, "out of memory");
		return ERROR_NOT_ENOUGH_MEMORY;
	}
	EVENT_TRACE_PROPERTIES *p = s->props;
	SYSTEM_INFO si;
	GetSystemInfo(&si);
	unsigned ncpu = si.dwNumberOfProcessors ? si.dwNumberOfProcessors : 1;
	unsigned minbuf = 4 * ncpu < 64 ? 64 : 4 * ncpu;
	unsigned maxbuf = minbuf * 4 > 1024 ? (minbuf > 1024 ? minbuf : 1024) : minbuf * 4;
	p->Wnode.Flags = WNODE_FLAG_TRACED_GUID;
	p->Wnode.ClientContext = 1; /* QueryPerformanceCounter time stamps */
	p->BufferSize = cfg->buffer_kb;
	p->MinimumBuffers = minbuf;
	p->MaximumBuffers = maxbuf;
	p->FlushTimer = 1;
	p->LogFileMode = EVENT_TRACE_FILE_MODE_SEQUENTIAL;
	p->EnableFlags = EVENT_TRACE_FLAG_PROCESS | EVENT_TRACE_FLAG_THREAD |
			 EVENT_TRACE_FLAG_IMAGE_LOAD;
	wcscpy((wchar_t *)((char *)p + props_file_off()), cfg->etl_path);

	struct pt_etw_groupmask gm;
	pt_etw_pool_groupmask(&gm);
	static const uint16_t hooks[PT_ETW_POOL_STACK_EVENTS] = {
		PT_ETW_HOOK_POOL_ALLOC, PT_ETW_HOOK_POOL_ALLOC_SESSION, PT_ETW_HOOK_POOL_FREE,
		PT_ETW_HOOK_POOL_FREE_SESSION};

	if (cfg->system_logger) {
		p->LogFileMode |= EVENT_TRACE_SYSTEM_LOGGER_MODE;
		if (CoCreateGuid(&p->Wnode.Guid) != S_OK) {
			snprintf(err, errsz, "cannot create a session GUID");
			return ERROR_NOT_ENOUGH_MEMORY;
		}
	} else {
		p->Wnode.Guid = system_trace_control_guid;
		size_t n = pt_etw_ext_build(&gm, hooks, cfg->stacks ? PT_ETW_POOL_STACK_EVENTS : 0,
					    cfg->tags, (uint8_t *)p + props_ext_off(), EXT_BYTES);
		uint32_t flags = pt_etw_ext_enable_flags(props_ext_off());
		if (!n || !flags) {
			snprintf(err, errsz, "internal error: the ETW extension block does not fit");
			return ERROR_INVALID_PARAMETER;
		}
		p->EnableFlags = flags;
		s->tag_filter_applied = cfg->tags && cfg->tags->n > 0;
	}

	rc = StartTraceW(&s->handle, s->name, p);
	if (rc != ERROR_SUCCESS) {
		start_error(rc, s, cfg->etl_path, err, errsz);
		return rc;
	}
	s->started = true;
	if (!cfg->system_logger)
		return ERROR_SUCCESS;

	uint8_t mask[PT_PERF_GROUPMASK_SIZE];
	pt_etw_groupmask_encode(&gm, mask);
	rc = TraceSetInformation(s->handle, (TRACE_INFO_CLASS)PT_TRACE_SYSTEM_TRACE_ENABLE_FLAGS_INFO,
				 mask, sizeof(mask));
	if (rc != ERROR_SUCCESS) {
		snprintf(err, errsz, "cannot enable pool events (TraceSetInformation "
				     "TraceSystemTraceEnableFlagsInfo): %s (error %lu)",
			 pt_win_errtext(rc, text, sizeof(text)), (unsigned long)rc);
		pt_win_session_stop(s);
		return rc;
	}
	if (cfg->stacks) {
		uint8_t ids[PT_ETW_POOL_STACK_EVENTS * PT_ETW_CLASSIC_ID_SIZE];
		size_t n = pt_etw_pool_stack_ids(ids, sizeof(ids));
		rc = TraceSetInformation(s->handle, (TRACE_INFO_CLASS)PT_TRACE_STACK_TRACING_INFO,
					 ids, (ULONG)n);
		if (rc != ERROR_SUCCESS) {
			snprintf(err, errsz, "cannot enable pool allocation stacks (TraceSetInformation "
					     "TraceStackTracingInfo): %s (error %lu)",
				 pt_win_errtext(rc, text, sizeof(text)), (unsigned long)rc);
			pt_win_session_stop(s);
			return rc;
		}
	}
	if (cfg->tags && cfg->tags->n) {
		uint8_t info[64];
		size_t n = pt_etw_tagfilter_info(cfg->tags, s->handle, info, sizeof(info));
		nt_set_system_information_fn set =
			(nt_set_system_information_fn)ntdll_proc("NtSetSystemInformation");
		long st = set && n ? set(PT_SYSTEM_PERFORMANCE_TRACE_INFORMATION, info, (ULONG)n) : -1;
		if (st == 0)
			s->tag_filter_applied = true;
		else
			snprintf(warn, warnsz,
				 "the kernel refused the pool-tag filter (NTSTATUS 0x%08lX): "
				 "recording every tag; filter when analysing (pooltrace report --tags)",
				 (unsigned long)st);
	}
	return ERROR_SUCCESS;
}

DWORD pt_win_session_stop(struct pt_win_session *s)
{
	if (!s->started || !s->props)
		return ERROR_SUCCESS;
	props_reset(s->props, s->props_size);
	DWORD rc = ControlTraceW(s->handle, NULL, s->props, EVENT_TRACE_CONTROL_STOP);
	if (rc == ERROR_SUCCESS || rc == ERROR_MORE_DATA) {
		s->events_lost = s->props->EventsLost;
		s->buffers_written = s->props->BuffersWritten;
		s->buffers_lost = s->props->LogBuffersLost + s->props->RealTimeBuffersLost;
		rc = ERROR_SUCCESS;
	}
	if (rc == ERROR_SUCCESS || rc == ERROR_WMI_INSTANCE_NOT_FOUND)
		s->started = false;
	return rc;
}

void pt_win_session_free(struct pt_win_session *s)
{
	free(s->props);
	s->props = NULL;
}

DWORD pt_win_mark(TRACEHANDLE handle, const char *text)
{
	etw_set_mark_fn mark = (etw_set_mark_fn)ntdll_proc("EtwSetMark");
	uint8_t buf[4 + PT_ETW_MAX_MARK + 1];
	if (!mark)
		return ERROR_PROC_NOT_FOUND;
	size_t n = pt_etw_mark_build(text, buf, sizeof(buf));
	if (!n)
		return ERROR_INVALID_PARAMETER;
	return mark(handle, buf, (ULONG)n);
}

DWORD pt_win_find_session(TRACEHANDLE *handle, char *name, size_t namesz)
{
	static const wchar_t *const names[] = {PT_WIN_SESSION, KERNEL_LOGGER_NAMEW};
	static const char *const names_a[] = {PT_WIN_SESSION_A, "NT Kernel Logger"};
	size_t size;
	EVENT_TRACE_PROPERTIES *p = props_new(&size);
	DWORD rc = ERROR_NOT_ENOUGH_MEMORY;
	if (!p)
		return rc;
	for (int i = 0; i < 2; i++) {
		props_reset(p, size);
		rc = ControlTraceW(0, names[i], p, EVENT_TRACE_CONTROL_QUERY);
		if (rc == ERROR_SUCCESS || rc == ERROR_MORE_DATA) {
			*handle = p->Wnode.HistoricalContext;
			snprintf(name, namesz, "%s", names_a[i]);
			rc = ERROR_SUCCESS;
			break;
		}
	}
	free(p);
	return rc;
}
