#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite built with AddressSanitizer and UndefinedBehaviorSanitizer
# (-fno-sanitize-recover=all: any finding fails the test), in its own build folder.
#   PT_SAN_BUILD_DIR=DIR   build folder (default build-san)
#   extra arguments go to ctest (e.g. -R fuzz)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${PT_SAN_BUILD_DIR:-$top/build-san}
jobs=${PT_JOBS:-2}
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPT_ASAN=ON -DPT_UBSAN=ON >/dev/null
cmake --build "$build" -j"$jobs" >/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tools/lsan.supp:print_suppressions=0}
# The truncation sweep is the slowest test under ASan: a smaller work budget keeps it
# well inside its timeout (the full sweep runs in the normal build). The mingw cross
# build compiles nothing with sanitizers and is covered by the normal run.
export PT_TRUNCATION_BUDGET_MB=${PT_TRUNCATION_BUDGET_MB:-16}
ctest --test-dir "$build" -j"$jobs" --output-on-failure -E 'windows_cross_build' "$@"
