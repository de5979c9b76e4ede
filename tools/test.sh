#!/usr/bin/env bash
# README command 2: set up, build, and run the whole test suite (ctest: cmocka unit tests and CLI tests).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${PT_BUILD_DIR:-$top/build}
"$top/tools/setup-debian.sh"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" -j"$(nproc)" --output-on-failure
