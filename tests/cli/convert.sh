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
exit 0
