#!/bin/bash
# SPDX-License-Identifier: MIT
# The text-format samples (xperf dumper, ftrace, PoolMon) through `pooltrace report`:
# each finds its one leak and nothing else; PoolMon needs no option beyond the phases.
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
S="$PT_SRC/sample-traces"

# report SAMPLE TAG [OPTIONS...]: exit 1 (leak), the format, exactly one LEAK line naming TAG
report() {
	local sample=$1 tag=$2 fmt=$3
	shift 3
	"$POOLTRACE" report "$@" "$S/$sample" >"$work/out" 2>"$work/err"
	local rc=$?
	[ $rc -eq 1 ] || fail "$sample: exit $rc, expected 1 (leak): $(cat "$work/err")"
	grep -q "($fmt)" "$work/out" || fail "$sample: not read as $fmt"
	[ "$(grep -c '^ *LEAK ' "$work/out")" -eq 1 ] || fail "$sample: not exactly one leak: $(grep '^ *LEAK\|SUSPECT' "$work/out")"
	grep -q "^ *LEAK  *$tag " "$work/out" || fail "$sample: leak is not $tag"
}

report xperf-pool.txt Leak xperf-text
grep -q 'marker "workload-end"' "$work/out" || fail "xperf: workload end from the Mark row"
report ftrace-kmem.txt.gz demo_ctx_cache ftrace
grep -q 'marker "workload-end"' "$work/out" || fail "ftrace: workload end from trace_marker"
grep -q 'events lost: 37' "$work/out" || fail "ftrace: lost events"
report poolmon Leak poolmon --workload-start 1s --workload-end 2h
report poolmon-screens.txt Leak poolmon --workload-start 1s --workload-end 90m

# the folder, given file by file through a copy without times: --snapshot-interval is required
mkdir "$work/snaps"
i=0
for f in "$S"/poolmon/*.log; do
	i=$((i + 1))
	cp "$f" "$work/snaps/snap_$(printf %03d $i).log"
done
"$POOLTRACE" report "$work/snaps" >/dev/null 2>"$work/err"
[ $? -eq 2 ] || fail "snapshots without times: exit 2"
grep -q -- '--snapshot-interval' "$work/err" || fail "the message names --snapshot-interval: $(cat "$work/err")"
"$POOLTRACE" report --snapshot-interval 30m --workload-start 1s --workload-end 2h "$work/snaps" >"$work/out" 2>&1
[ $? -eq 1 ] || fail "snapshots with --snapshot-interval: exit 1"
grep -q "^ *LEAK  *Leak " "$work/out" || fail "snapshots with --snapshot-interval: the leak"

# a damaged PoolMon row: error with file:line, or counted with --keep-going
printf ' Leak Nonp 120 100 20 5120 256\n Strg Paged 10x85 6658 3727 317952 85\n' >"$work/bad.log"
"$POOLTRACE" report "$work/bad.log" >/dev/null 2>"$work/err"
[ $? -eq 2 ] || fail "bad row: exit 2"
grep -q "bad.log:2:" "$work/err" || fail "bad row: file:line in the message: $(cat "$work/err")"
"$POOLTRACE" report --keep-going "$work/bad.log" >"$work/out" 2>"$work/err"
[ $? -le 1 ] || fail "bad row with --keep-going: $(cat "$work/err")"
echo "text samples ok"
exit 0
