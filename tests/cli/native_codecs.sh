#!/bin/bash
# SPDX-License-Identifier: MIT
# Native traces of the older writer (zlib chunks, "PTCK") still read, and their
# copies written now (zstd chunks, "PTC2") give the same report.
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for name in small markers stacks; do
	f=$PT_SRC/tests/fuzz/corpus/reader_native/$name.ptz
	[ -f "$f" ] || fail "$f: missing"
	LC_ALL=C grep -aq PTCK "$f" || fail "$f: expected zlib chunks of the older writer"
	"$POOLTRACE" report --fail-on never "$f" >"$work/a.txt" 2>"$work/a.err" ||
		fail "$f: report failed: $(cat "$work/a.err")"
	"$POOLTRACE" convert -q "$f" -o "$work/copy.ptz" || fail "$f: convert failed"
	LC_ALL=C grep -aq PTC2 "$work/copy.ptz" || fail "$f: the copy has no zstd chunks"
	LC_ALL=C grep -aq PTCK "$work/copy.ptz" && fail "$f: the copy still has zlib chunks"
	"$POOLTRACE" report --fail-on never "$work/copy.ptz" >"$work/b.txt" 2>"$work/b.err" ||
		fail "$f: report of the copy failed: $(cat "$work/b.err")"
	grep -v '^Trace: ' "$work/a.txt" >"$work/a2.txt"
	grep -v '^Trace: ' "$work/b.txt" >"$work/b2.txt"
	diff -u "$work/a2.txt" "$work/b2.txt" || fail "$f: reports differ"
	# the copy of the copy is the same file apart from the recorded command line
	"$POOLTRACE" convert -q "$work/copy.ptz" -o "$work/copy2.ptz" || fail "$f: second convert failed"
	"$POOLTRACE" report --fail-on never "$work/copy2.ptz" | grep -v '^Trace: ' >"$work/c2.txt"
	diff -u "$work/a2.txt" "$work/c2.txt" || fail "$f: report of the second copy differs"
	n=$((n + 1))
done
[ $n -gt 0 ] || fail "no native fixtures found"
echo "$n older native traces read, and their zstd copies report the same"
