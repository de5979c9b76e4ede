#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cross-compiles pooltrace-capture.exe for 64-bit Windows with mingw-w64,
# warnings as errors. Only the capture program and the parts of the core it
# needs are built (no analyzer, no libxml2; zlib is linked statically).
#
#   tools/build-windows.sh [BUILD_DIR]     (default: build-windows)
#
# Needs the Debian packages gcc-mingw-w64-x86-64 and libz-mingw-w64-dev
# (tools/setup-debian.sh installs them). Prints the path of the .exe.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-windows}
triple=${PT_MINGW_TRIPLE:-x86_64-w64-mingw32}

if ! command -v "$triple-gcc" >/dev/null 2>&1; then
	echo "build-windows: $triple-gcc not found (Debian: apt-get install gcc-mingw-w64-x86-64)" >&2
	exit 2
fi
if [ ! -f "/usr/$triple/include/zlib.h" ]; then
	echo "build-windows: zlib for $triple not found (Debian: apt-get install libz-mingw-w64-dev)" >&2
	exit 2
fi

cmake -S "$src" -B "$build" \
	-DCMAKE_TOOLCHAIN_FILE="$src/cmake/mingw-w64.cmake" \
	-DPT_MINGW_TRIPLE="$triple" \
	-DCMAKE_BUILD_TYPE=Release \
	-DPT_WERROR=ON -DPT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"${PT_JOBS:-2}" --target pooltrace-capture >/dev/null
exe="$build/capture/windows/pooltrace-capture.exe"
[ -f "$exe" ] || { echo "build-windows: $exe was not built" >&2; exit 1; }
echo "$exe"
