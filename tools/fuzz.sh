#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a
# bounded time. Seeds: tests/fuzz/corpus/<target>/ and, for readers, sample-traces/.
#
#   tools/fuzz.sh [TARGET...]        all targets when none is named
#   FUZZ_SECONDS=60                  time per target (default 60)
#   FUZZ_MAX_LEN=65536               longest input tried (bytes; ETL targets: 4x)
#   FUZZ_MERGE=1                     add inputs that found new coverage to
#                                    tests/fuzz/corpus/<target>/ (to review and commit)
#   PT_FUZZ_BUILD_DIR=DIR            build folder (default build-fuzz)
#
# A crash, hang or leak stops that target; its input is kept as
# build-fuzz/artifacts/<target>/crash-* and the script exits 1 at the end.
# Replay it with build-fuzz/tests/fuzz/fuzz_<target> FILE; once fixed, commit
# the file under tests/fuzz/corpus/<target>/ so ctest replays it forever.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${PT_FUZZ_BUILD_DIR:-$top/build-fuzz}
secs=${FUZZ_SECONDS:-60}
max_len_default=${FUZZ_MAX_LEN:-65536}
cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
	for c in clang clang-14; do
		command -v "$c" >/dev/null && { cc=$c; break; }
	done
fi
[ -n "$cc" ] || { echo "fuzz: clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

# warnings are enforced by the gcc build; clang here only has to build
CC=$cc cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPT_FUZZ=ON \
	-DPT_BUILD_CAPTURE=OFF -DPT_WERROR=OFF >/dev/null
cmake --build "$build" --target fuzzers -j2 >/dev/null

list="$build/tests/fuzz/fuzz-targets.txt"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
ran=0
while read -r target seeds; do
	[ -n "$target" ] || continue
	if [ $# -gt 0 ]; then
		want=0
		for a in "$@"; do [ "$a" = "$target" ] && want=1; done
		[ $want -eq 1 ] || continue
	fi
	max_len=$max_len_default
	case $target in
	reader_etl*) max_len=$((max_len_default * 4)) ;; # room for a few 64 KiB ETL buffers
	esac
	work="$build/fuzz-corpus/$target"
	art="$build/artifacts/$target"
	mkdir -p "$work" "$art"
	dirs=()
	for d in $seeds; do [ -d "$d" ] && dirs+=("$d"); done
	extra=()
	[ -f "$top/tests/fuzz/dict/$target.dict" ] && extra+=("-dict=$top/tests/fuzz/dict/$target.dict")
	echo "fuzz: $target for ${secs}s"
	log="$build/artifacts/$target.log"
	if "$build/tests/fuzz/fuzz_$target" -max_total_time="$secs" -max_len="$max_len" \
		-timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
		"${extra[@]}" "$work" "${dirs[@]}" >"$log" 2>&1; then
		grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" |
			sed 's/^/    /' || true
	else
		echo "fuzz: $target FAILED; log: $log; inputs: $art/" >&2
		grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" | head -8 | sed 's/^/    /' >&2
		failed+=("$target")
	fi
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		mkdir -p "$top/tests/fuzz/corpus/$target"
		"$build/tests/fuzz/fuzz_$target" -merge=1 -max_len="$max_len" \
			"$top/tests/fuzz/corpus/$target" "$work" >/dev/null 2>&1 || true
	fi
	ran=$((ran + 1))
done < "$list"

[ $ran -gt 0 ] || { echo "fuzz: no target matched: $*" >&2; exit 2; }
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: findings in: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz: $ran targets, ${secs}s each, no findings"
