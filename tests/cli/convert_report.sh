#!/bin/bash
# SPDX-License-Identifier: MIT
# Every sample trace: `pooltrace report` on its native copy equals the report on
# the original (apart from the line naming the input file and its format).
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
[ -d "$PT_SRC/sample-traces" ] || { echo "no sample traces"; exit 0; }
while IFS= read -r -d '' f; do
	"$POOLTRACE" report "$f" >"$work/a.txt" 2>"$work/a.err"
	ra=$?
	[ $ra -le 1 ] || continue # not a trace the report takes (deliberately bad fixtures)
	"$POOLTRACE" convert -q "$f" -o "$work/copy.ptz" || fail "$f: convert failed"
	"$POOLTRACE" report "$work/copy.ptz" >"$work/b.txt" 2>"$work/b.err"
	rb=$?
	[ $ra -eq $rb ] || fail "$f: report exit $ra, on the native copy $rb"
	grep -v '^Trace: ' "$work/a.txt" >"$work/a2.txt"
	grep -v '^Trace: ' "$work/b.txt" >"$work/b2.txt"
	diff -u "$work/a2.txt" "$work/b2.txt" || fail "$f: reports differ"
	n=$((n + 1))
done < <(find "$PT_SRC/sample-traces" -type f -print0)
echo "identical reports for $n sample traces and their native copies"
exit 0
