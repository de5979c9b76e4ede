#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pt-gen writes XML that is detected as tracerpt-xml and reported with the right verdicts,
# in UTF-8, UTF-16 and gzip; a malformed file gives a one-line error with its line and exit 2.
set -euo pipefail
: "${POOLTRACE:?}" "${PT_SRC:?}" "${PT_BIN:?}"
gen=$PT_BIN/tools/pt-gen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$tmp/s.scn" <<'SCN'
seed 3
duration 30s
workload-end 20s
marker 20s workload-end
tag Leak nonpaged rate=10/s size=128 lifetime=forever
tag Busy paged rate=200/s size=32..256 lifetime=10ms..1s
tag Sess paged rate=5/s size=64 lifetime=0.5s session=1
SCN

for variant in plain utf16 utf16be gzip; do
	case $variant in
	plain) args=() ;;
	utf16) args=(--utf16) ;;
	utf16be) args=(--utf16be) ;;
	gzip) args=(--gzip --utf16) ;;
	esac
	out=$tmp/$variant.xml
	"$gen" "$tmp/s.scn" "${args[@]}" -o "$out" --truth "$tmp/truth.txt"
	set +e
	"$POOLTRACE" report "$out" > "$tmp/report.txt" 2> "$tmp/err.txt"
	rc=$?
	set -e
	[ "$rc" = 1 ] || { cat "$tmp/err.txt"; fail "$variant: exit $rc, expected 1 (leak flagged)"; }
	grep -q "(tracerpt-xml)" "$tmp/report.txt" || fail "$variant: not detected as tracerpt-xml"
	grep -q "1 leak, 0 suspects" "$tmp/report.txt" || fail "$variant: verdict summary"
	grep -Eq "^ *LEAK +Leak " "$tmp/report.txt" || fail "$variant: Leak not flagged"
done
grep -Pq "^Leak\tnonpaged\tleak\t" "$tmp/truth.txt" || fail "ground truth"
grep -Pq "^Busy\tpaged\tok\t" "$tmp/truth.txt" || fail "ground truth"

# Malformed: a one-line error naming file and line, exit 2.
printf '<Events>\n<Event>\n<System>\n</Event>\n</Events>\n' > "$tmp/bad.xml"
set +e
"$POOLTRACE" report "$tmp/bad.xml" > /dev/null 2> "$tmp/err.txt"
rc=$?
set -e
[ "$rc" = 2 ] || fail "malformed: exit $rc, expected 2"
grep -q "bad.xml:4:" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "malformed: no line number"; }
echo ok
