#!/bin/bash
# SPDX-License-Identifier: MIT
# Native traces of older writers still read: zlib chunks ("PTCK", format 1.0
# to 1.2 and the Windows capture) and zstd chunks of record layout 2 ("PTC2",
# format 1.2). Their copies written now (zstd chunks of layout 3, "PTC3")
# give the same report.
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for name in small markers stacks small-zstd markers-zstd stacks-zstd; do
	f=$PT_SRC/tests/fuzz/corpus/reader_native/$name.ptz
	[ -f "$f" ] || fail "$f: missing"
	case $name in
	*-zstd) magic=PTC2 ;;
	*) magic=PTCK ;;
	esac
	LC_ALL=C grep -aq $magic "$f" || fail "$f: expected $magic chunks of an older writer"
	"$POOLTRACE" report --fail-on never "$f" >"$work/a.txt" 2>"$work/a.err" ||
		fail "$f: report failed: $(cat "$work/a.err")"
	"$POOLTRACE" convert -q "$f" -o "$work/copy.ptz" || fail "$f: convert failed"
	LC_ALL=C grep -aq PTC3 "$work/copy.ptz" || fail "$f: the copy has no layout-3 chunks"
	LC_ALL=C grep -aq 'PTCK\|PTC2' "$work/copy.ptz" && fail "$f: the copy still has older chunks"
	"$POOLTRACE" report --fail-on never "$work/copy.ptz" >"$work/b.txt" 2>"$work/b.err" ||
		fail "$f: report of the copy failed: $(cat "$work/b.err")"
	grep -v '^Trace: ' "$work/a.txt" >"$work/a2.txt"
	grep -v '^Trace: ' "$work/b.txt" >"$work/b2.txt"
	diff -u "$work/a2.txt" "$work/b2.txt" || fail "$f: reports differ"
	# the copy of the copy is the same file apart from the recorded command line
	"$POOLTRACE" convert -q "$work/copy.ptz" -o "$work/copy2.ptz" || fail "$f: second convert failed"
	"$POOLTRACE" report --fail-on never "$work/copy2.ptz" | grep -v '^Trace: ' >"$work/c2.txt"
	diff -u "$work/a2.txt" "$work/c2.txt" || fail "$f: report of the second copy differs"
	# the zlib and the zstd file of the same trace report the same
	case $name in
	*-zstd)
		"$POOLTRACE" report --fail-on never "$PT_SRC/tests/fuzz/corpus/reader_native/${name%-zstd}.ptz" |
			grep -v '^Trace: ' >"$work/z.txt"
		diff -u "$work/z.txt" "$work/a2.txt" || fail "$f: differs from the zlib file"
		;;
	esac
	n=$((n + 1))
done
[ $n -gt 0 ] || fail "no native fixtures found"
echo "$n older native traces read, and their layout-3 copies report the same"
