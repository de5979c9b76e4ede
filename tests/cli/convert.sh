#!/bin/bash
# SPDX-License-Identifier: MIT
# pooltrace convert: argument checks, atomic output, native round trips of the samples.
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$POOLTRACE" convert --help | grep -q -- '--keep-going' || fail "help lists options"
"$POOLTRACE" convert 2>/dev/null; [ $? -eq 2 ] || fail "no input: exit 2"
echo hello > "$work/in.txt"
"$POOLTRACE" convert "$work/in.txt" 2>/dev/null; [ $? -eq 2 ] || fail "no -o: exit 2"
"$POOLTRACE" convert "$work/in.txt" -o "$work/in.txt" 2>"$work/err"; [ $? -eq 2 ] || fail "OUT == IN: exit 2"
grep -q "refusing" "$work/err" || fail "OUT == IN message"
"$POOLTRACE" convert "$work/in.txt" -o "$work/out.ptz" 2>"$work/err"; [ $? -eq 2 ] || fail "unknown input: exit 2"
[ ! -e "$work/out.ptz" ] || fail "no output left behind on failure"
ls "$work" | grep -q tmp && fail "temporary file left behind"
"$POOLTRACE" convert "$work/in.txt" -o "$work/out.ptz" --to nosuch 2>/dev/null; [ $? -eq 2 ] || fail "bad --to: exit 2"

# every sample a reader takes converts to native, and the native copy converts again
n=0
if [ -d "$PT_SRC/sample-traces" ]; then
	while IFS= read -r -d '' f; do
		if "$POOLTRACE" convert -q "$f" -o "$work/a.ptz" 2>/dev/null; then
			"$POOLTRACE" convert "$work/a.ptz" -o "$work/b.ptz" 2>"$work/err" ||
				fail "$f: native copy does not convert again: $(cat "$work/err")"
			grep -q warning "$work/err" && fail "$f: warnings reading the native copy"
			n=$((n + 1))
		fi
	done < <(find "$PT_SRC/sample-traces" -type f -print0)
fi
echo "converted $n sample traces"

# --to xml: Windows pool traces give the same table and verdicts through tracerpt XML
# (the first lines differ: file name, and XML needs an absolute start time)
for f in demo.xml.gz xperf-pool.txt; do
	"$POOLTRACE" convert -q --to xml "$PT_SRC/sample-traces/$f" -o "$work/x.xml" || fail "$f: convert --to xml"
	"$POOLTRACE" report "$PT_SRC/sample-traces/$f" | tail -n +4 >"$work/direct.txt"
	"$POOLTRACE" report "$work/x.xml" | tail -n +4 >"$work/viaxml.txt"
	diff -u "$work/direct.txt" "$work/viaxml.txt" || fail "$f: report via XML differs"
done
# Linux events have no XML form: a clear error, exit 2, nothing written
"$POOLTRACE" convert -q --to xml "$PT_SRC/sample-traces/ftrace-kmem.txt.gz" -o "$work/l.xml" 2>"$work/err"
rc=$?
[ $rc -eq 2 ] || fail "ftrace --to xml exited $rc"
grep -q "no tracerpt XML form" "$work/err" || fail "ftrace --to xml message: $(cat "$work/err")"
[ -e "$work/l.xml" ] && fail "a failed conversion left an output file"
"$POOLTRACE" convert --to csv "$PT_SRC/sample-traces/demo.xml.gz" -o "$work/z" 2>/dev/null && fail "unknown --to accepted"
exit 0
