#!/bin/bash
# SPDX-License-Identifier: MIT
# tools/build-windows.sh cross-compiles pooltrace-capture.exe (mingw-w64,
# warnings as errors) and the result is a 64-bit Windows console program
# (PE32+, x86-64) that needs no MinGW runtime DLL. Skipped (exit 77) when the
# cross compiler or its zlib is not installed.
set -u
fail() { echo "FAIL: $*"; exit 1; }
triple=x86_64-w64-mingw32
if ! command -v $triple-gcc >/dev/null 2>&1 || [ ! -f /usr/$triple/include/zlib.h ]; then
	echo "SKIP: needs gcc-mingw-w64-x86-64 and libz-mingw-w64-dev (tools/setup-debian.sh)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

exe=$("$PT_SRC/tools/build-windows.sh" "$work/build" 2>"$work/err") ||
	fail "build-windows.sh failed: $(tail -30 "$work/err")"
[ -f "$exe" ] || fail "no .exe at '$exe'"

# DOS header: "MZ", e_lfanew at 0x3C; then "PE\0\0", Machine 0x8664, optional header magic 0x20B
u16() { od -An -tu2 -j "$2" -N2 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
[ "$(head -c2 "$exe")" = "MZ" ] || fail "no MZ signature"
pe=$(u32 "$exe" 60)
[ "$(od -An -c -j "$pe" -N4 "$exe" | tr -d ' ')" = 'PE\0\0' ] || fail "no PE signature at $pe"
[ "$(u16 "$exe" $((pe + 4)))" = "$((0x8664))" ] || fail "machine is not x86-64"
[ "$(u16 "$exe" $((pe + 24)))" = "$((0x20b))" ] || fail "optional header is not PE32+"
# subsystem 3 = console (offset 68 in the PE32+ optional header)
[ "$(u16 "$exe" $((pe + 24 + 68)))" = "3" ] || fail "not a console program"
if command -v file >/dev/null 2>&1; then
	file "$exe" | grep -q 'PE32+ executable (console) x86-64' || fail "file(1): $(file "$exe")"
fi
# imports: system DLLs only (static zlib and MinGW runtime)
if command -v $triple-objdump >/dev/null 2>&1; then
	dlls=$($triple-objdump -p "$exe" | sed -n 's/.*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u | tr '\n' ' ')
	for d in $dlls; do
		case "$d" in
		kernel32.dll | advapi32.dll | msvcrt.dll | ole32.dll | ntdll.dll | api-ms-win-*) ;;
		*) fail "unexpected DLL import $d (imports: $dlls)" ;;
		esac
	done
fi
# the parts the program needs, and nothing of the analyzer
grep -q 'libxml' "$work/build/CMakeCache.txt" && fail "the Windows build looked for libxml2"
echo "ok: $exe"
