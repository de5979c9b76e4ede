/* SPDX-License-Identifier: MIT */
/* Windows helpers of pooltrace-capture: version, elevation, privileges, clocks, pool tag query. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

#define PT_STATUS_INFO_LENGTH_MISMATCH ((long)0xC0000004L)
#define PT_STATUS_NO_MEMORY ((long)0xC0000017L)

typedef long(WINAPI *rtl_get_version_fn)(OSVERSIONINFOW *info);
typedef long(WINAPI *nt_query_system_information_fn)(ULONG cls, void *buf, ULONG len,
						      ULONG *ret);

/* A function of ntdll.dll, looked up at run time (no import library needed). */
static void (*ntdll_proc(const char *name))(void)
{
	HMODULE m = GetModuleHandleW(L"ntdll.dll");
	if (!m)
		return NULL;
	return (void (*)(void))GetProcAddress(m, name);
}

void pt_win_os_get(struct pt_win_os *os)
{
	memset(os, 0, sizeof(*os));
	rtl_get_version_fn get = (rtl_get_version_fn)ntdll_proc("RtlGetVersion");
	OSVERSIONINFOW v;
	memset(&v, 0, sizeof(v));
	v.dwOSVersionInfoSize = sizeof(v);
	if (get && get(&v) == 0) {
		os->major = v.dwMajorVersion;
		os->minor = v.dwMinorVersion;
		os->build = v.dwBuildNumber;
	}
}

bool pt_win_os_is8(const struct pt_win_os *os)
{
	return os->major > 6 || (os->major == 6 && os->minor >= 2);
}

bool pt_win_is_elevated(void)
{
	HANDLE tok;
	TOKEN_ELEVATION el;
	DWORD n = 0;
	bool yes = false;
	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
		return false;
	if (GetTokenInformation(tok, TokenElevation, &el, sizeof(el), &n))
		yes = el.TokenIsElevated != 0;
	CloseHandle(tok);
	return yes;
}

DWORD pt_win_enable_privilege(const wchar_t *name)
{
	HANDLE tok;
	TOKEN_PRIVILEGES tp;
	DWORD rc = ERROR_SUCCESS;
	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &tok))
		return GetLastError();
	memset(&tp, 0, sizeof(tp));
	tp.PrivilegeCount = 1;
	tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
	if (!LookupPrivilegeValueW(NULL, name, &tp.Privileges[0].Luid)) {
		rc = GetLastError();
	} else {
		/* success with ERROR_NOT_ALL_ASSIGNED means the token lacks the privilege */
		AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL);
		rc = GetLastError();
	}
	CloseHandle(tok);
	return rc;
}

const char *pt_win_errtext(DWORD code, char *buf, size_t bufsz)
{
	DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
				 code, 0, buf, (DWORD)bufsz, NULL);
	if (!n) {
		snprintf(buf, bufsz, "error %lu", (unsigned long)code);
		return buf;
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
		     buf[n - 1] == '.'))
		buf[--n] = '\0';
	return buf;
}

uint64_t pt_win_qpc_freq(void)
{
	LARGE_INTEGER f;
	QueryPerformanceFrequency(&f);
	return f.QuadPart > 0 ? (uint64_t)f.QuadPart : 1;
}

uint64_t pt_win_now_ns(void)
{
	static uint64_t freq;
	LARGE_INTEGER c;
	if (!freq)
		freq = pt_win_qpc_freq();
	QueryPerformanceCounter(&c);
	uint64_t t = (uint64_t)c.QuadPart;
	return t / freq * 1000000000ull + t % freq * 1000000000ull / freq;
}

int64_t pt_win_unix_ns(void)
{
	FILETIME ft;
	GetSystemTimeAsFileTime(&ft);
	uint64_t t = (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
	/* FILETIME counts 100 ns since 1601-01-01 */
	return ((int64_t)t - 116444736000000000LL) * 100;
}

char *pt_win_to_utf8(const wchar_t *w)
{
	int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	if (n <= 0)
		return NULL;
	char *s = malloc((size_t)n);
	if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) <= 0) {
		free(s);
		s = NULL;
	}
	return s;
}

wchar_t *pt_win_to_wide(const char *s)
{
	int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
	if (n <= 0)
		return NULL;
	wchar_t *w = malloc((size_t)n * sizeof(wchar_t));
	if (w && MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) <= 0) {
		free(w);
		w = NULL;
	}
	return w;
}

long pt_win_pooltag_query(uint8_t **buf, size_t *cap, size_t *len)
{
	nt_query_system_information_fn q =
		(nt_query_system_information_fn)ntdll_proc("NtQuerySystemInformation");
	*len = 0;
	if (!q)
		return PT_STATUS_NO_MEMORY;
	if (!*buf) {
		*cap = 256u << 10;
		*buf = malloc(*cap);
		if (!*buf)
			return PT_STATUS_NO_MEMORY;
	}
	for (int tries = 0; tries < 8; tries++) {
		ULONG ret = 0;
		long st = q(PT_SYSTEM_POOLTAG_INFORMATION, *buf, (ULONG)*cap, &ret);
		if (st == 0) {
			*len = ret <= *cap ? ret : *cap;
			return 0;
		}
		if (st != PT_STATUS_INFO_LENGTH_MISMATCH)
			return st;
		/* tags come and go between calls: ask for more than was said */
		size_t want = (size_t)ret > *cap ? (size_t)ret + (64u << 10) : *cap * 2;
		if (want > (256u << 20))
			return st;
		uint8_t *nb = realloc(*buf, want);
		if (!nb)
			return PT_STATUS_NO_MEMORY;
		*buf = nb;
		*cap = want;
	}
	return PT_STATUS_INFO_LENGTH_MISMATCH;
}
