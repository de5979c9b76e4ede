#!/bin/bash
# SPDX-License-Identifier: MIT
# pooltrace top --once: one screen on stdout; sort keys, pools, filter, time, argument checks.
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trace="$work/t.ptz"
"$PT_BIN/tools/pt-synth" "$trace" "$PT_SRC/tests/cli/top-scenario.synth" || fail "pt-synth"
top() { "$POOLTRACE" top --once --interval 1s "$@" "$trace"; }
# the tags in screen order, e.g. "Bbbb Cccc Aaaa Dddd"
order() { top "$@" | awk '$1 ~ /^\*?[A-D][a-d][a-d][a-d]$/ { sub(/^\*/, "", $1); printf "%s%s", s, $1; s = " " } END { print "" }'; }

"$POOLTRACE" top --help | grep -q -- '--workload-end' || fail "help lists the phase options"
"$POOLTRACE" --help | grep -q '^  top' || fail "top in the command list"

out=$(top) || fail "exit status"
echo "$out" | grep -q 'Tag  *Type  *Allocs  *( )  *Frees  *( )  *Diff  *Bytes  *( )  *Per Alloc' ||
	fail "column titles: $out"
echo "$out" | tail -n 1 | grep -q '10.000 s / 10.000 s  cool-down' || fail "status line: $out"
echo "$out" | tail -n 1 | grep -q 'leak: Bbbb Cccc Aaaa' || fail "leak flags: $out"
echo "$out" | grep -q 'Pool N: 3.9 KiB  P: 5.9 KiB' || fail "pool totals: $out"

[ "$(order)" = "Bbbb Cccc Aaaa Dddd" ] || fail "bytes order: $(order)"
[ "$(order -s a)" = "Cccc Aaaa Bbbb Dddd" ] || fail "allocs order"
[ "$(order -s f)" = "Aaaa Cccc Dddd Bbbb" ] || fail "frees order"
[ "$(order -s diff)" = "Cccc Bbbb Aaaa Dddd" ] || fail "diff order"
[ "$(order -s m)" = "Bbbb Aaaa Cccc Dddd" ] || fail "per-alloc order"
[ "$(order -s tag)" = "Aaaa Bbbb Cccc Dddd" ] || fail "tag order"
[ "$(order -s tag --ascending)" = "Dddd Cccc Bbbb Aaaa" ] || fail "tag reversed"
[ "$(order -p nonpaged)" = "Cccc Aaaa" ] || fail "nonpaged"
[ "$(order -p paged)" = "Bbbb Dddd" ] || fail "paged"
[ "$(order -i '?ccc')" = "Cccc" ] || fail "filter"
[ "$(order --at 2)" = "Bbbb Aaaa" ] || fail "at 2 s: $(order --at 2)"
[ "$(order --at 5 --by-change -s f)" = "Cccc Aaaa Bbbb" ] || fail "by change at 5 s"
top --at 2 | grep -q '^\*Bbbb Paged *2 (   2)' || fail "deltas at 2 s: $(top --at 2)"
top --workload-end 3 | tail -n 1 | grep -q 'cool-down' || fail "phase option"
top --at 2 --workload-end 3 | tail -n 1 | grep -q ' workload ' || fail "workload phase"
top -e | grep -q '^ Total  *16 ' || fail "totals line: $(top -e)"
[ "$(top --lines 24 | wc -l)" -eq 24 ] || fail "--lines 24"
top --width 40 | awk 'length > 40 { bad = 1 } END { exit bad }' || fail "--width 40"
printf 'Aaaa - afd.sys - Ancillary Function Driver\n?ccc - ccc.sys - Cache\n' >"$work/tags.txt"
out=$(top -g "$work/tags.txt") || fail "--tag-file"
echo "$out" | grep -q 'Per Alloc  Mapped_Driver$' || fail "Mapped_Driver title: $out"
echo "$out" | grep -q '^ Aaaa .*  afd.sys - Ancillary Function Driver$' || fail "mapped tag: $out"
echo "$out" | grep -q '^ Cccc .*  ccc.sys - Cache$' || fail "wildcard mapping: $out"
top | grep -q 'Mapped_Driver' && fail "no Mapped_Driver without --tag-file"
"$POOLTRACE" top --once -g "$work/none.txt" "$trace" 2>/dev/null; [ $? -eq 2 ] || fail "missing tag file: exit 2"

"$POOLTRACE" top --once 2>/dev/null; [ $? -eq 2 ] || fail "no trace: exit 2"
"$POOLTRACE" top --once --speed fast "$trace" 2>/dev/null; [ $? -eq 2 ] || fail "bad speed: exit 2"
"$POOLTRACE" top --once -s nosuch "$trace" 2>/dev/null; [ $? -eq 2 ] || fail "bad sort: exit 2"
"$POOLTRACE" top --once "$work/missing.ptz" 2>/dev/null; [ $? -eq 2 ] || fail "missing trace: exit 2"
"$POOLTRACE" top "$trace" </dev/null >"$work/o" 2>"$work/err"; [ $? -eq 2 ] || fail "no terminal: exit 2"
grep -q -- '--once' "$work/err" || fail "no terminal: message points to --once"
echo "ok"
exit 0
