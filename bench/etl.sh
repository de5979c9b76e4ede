#!/bin/bash
# SPDX-License-Identifier: MIT
# ETL reader speed: generate an uncompressed 64-bit pool ETL (10 M events by
# default), then time `pooltrace info` on it against a plain `cat` of the same
# file, pinned to one core; also records/s on the public kernel sample.
# Usage: bench/etl.sh [BUILD_DIR]   (env: EVENTS=N, RUNS=N, KEEP=1)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
events=${EVENTS:-10000000}
runs=${RUNS:-3}
pt="$build/analyze/pooltrace"
gen="$build/tools/pt-etlgen"
bench="$build/tools/pt-etlbench"
[ -x "$pt" ] && [ -x "$gen" ] && [ -x "$bench" ] || { echo "build first ($build)" >&2; exit 2; }
tmp=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
f="$tmp/pool.etl"
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"

echo "generating $events events (64-bit, 4 CPUs, 64 KiB buffers, uncompressed)..."
"$gen" -n "$events" -c 4 -p 8 -o "$f"
size=$(stat -c %s "$f")
echo "file: $size bytes"
cat "$f" >/dev/null # page cache

# best of $runs: "wall user sys" seconds
best() {
	local b="" t
	for _ in $(seq "$runs"); do
		t=$( { /usr/bin/time -f "%e %U %S" $pin "$@" >/dev/null; } 2>&1 | tail -1)
		if [ -z "$b" ] || awk -v a="${t%% *}" -v c="${b%% *}" 'BEGIN{exit !(a<c)}'; then b=$t; fi
	done
	echo "$b"
}
total=$((events + 2)) # plus the two marks
c=$(best cat "$f")
i=$(best "$pt" info "$f")
read -r cw cu cs <<<"$c"
read -r iw iu is <<<"$i"
awk -v n="$total" -v s="$size" -v cw="$cw" -v iw="$iw" -v iu="$iu" -v is="$is" 'BEGIN {
	printf "cat:            %6.3f s wall (%7.0f MB/s)\n", cw, s / 1e6 / (cw > 0 ? cw : 0.001)
	printf "pooltrace info: %6.3f s wall, %.3f s user, %.3f s sys\n", iw, iu, is
	printf "  events/s (wall):       %6.1f M\n", n / iw / 1e6
	printf "  events/s (user+sys):   %6.1f M\n", n / (iu + is) / 1e6
}'

echo "read loop in one process (pt-etlbench):"
$pin "$bench" "$f" 1
sample="$here/sample-traces/etl/airbus_ShutdownPerfDiagLogger.etl"
if [ -f "$sample" ]; then
	echo "airbus_ShutdownPerfDiagLogger.etl (17078 records), 200 reads in one process:"
	$pin "$bench" "$sample" 200
fi
