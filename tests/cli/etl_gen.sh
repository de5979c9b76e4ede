#!/bin/bash
# SPDX-License-Identifier: MIT
# One scenario written as tracerpt XML and as raw ETL (plain, XPRESS, gzip; 64- and
# 32-bit): the readers give the same event stream (ETL times are kept to 100 ns, so
# the XML times are cut to 100 ns for the comparison) and the same report verdicts.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
GEN="$PT_BIN/tools/pt-gen"
DUMP="$PT_BIN/tools/pt-dump"
[ -x "$GEN" ] && [ -x "$DUMP" ] || fail "missing pt-gen or pt-dump"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

summary() { # tag,pool,verdict,allocs,frees,bytes per tag, sorted
	"$POOLTRACE" report --format csv -q "$1" >"$T/csv"
	local rc=$?
	tail -n +2 "$T/csv" | awk -F, '{ print $1 "," $3 "," $13 "," $4 "," $5 "," $7 }' | sort
	return $rc
}

for bits in 8 4; do
	cat >"$T/s.scn" <<SCN
seed 7
duration 20s
workload-end 14s
marker 1s workload-start
marker 14s workload-end
pointer-size $bits
cpus 3
events-lost 2
tag Leak nonpaged rate=20/s size=128 lifetime=forever
tag Busy paged rate=300/s size=32..256 lifetime=10ms..1s
tag Sess paged rate=5/s size=64 lifetime=0.5s session=1
tag Slow nonpaged-nx rate=30/s size=4k lifetime=2s..3s
SCN
	"$GEN" "$T/s.scn" -f xml -o "$T/s.xml" || fail "gen xml"
	"$DUMP" --quiet "$T/s.xml" 2>/dev/null | awk '{ $1 = sprintf("%.0f", int($1 / 100) * 100); print }' >"$T/d.xml"
	[ -s "$T/d.xml" ] || fail "empty XML dump"
	summary "$T/s.xml" >"$T/v.xml"
	[ $? -eq 1 ] || fail "$bits: XML report should flag the leak"
	grep -q '^Leak,nonpaged,leak,' "$T/v.xml" || fail "$bits: Leak not flagged in XML"
	for f in etl etl-xpress etl-gzip; do
		case $f in
		etl-gzip) "$GEN" "$T/s.scn" -f etl --gzip -o "$T/s.$f" || fail "gen $f" ;;
		*) "$GEN" "$T/s.scn" -f "$f" -o "$T/s.$f" || fail "gen $f" ;;
		esac
		"$DUMP" --quiet "$T/s.$f" >"$T/d.$f" 2>"$T/m.$f" || fail "$bits $f: dump"
		grep -q '^format=etl ' "$T/m.$f" || fail "$bits $f: not read as etl"
		grep -q "pointer_size=$bits " "$T/m.$f" || fail "$bits $f: pointer size"
		grep -q "events_lost=2 " "$T/m.$f" || fail "$bits $f: events lost"
		cmp -s "$T/d.xml" "$T/d.$f" || fail "$bits $f: event stream differs from XML: $(diff "$T/d.xml" "$T/d.$f" | head -5)"
		summary "$T/s.$f" >"$T/v.$f"
		cmp -s "$T/v.xml" "$T/v.$f" || fail "$bits $f: verdicts differ: $(diff "$T/v.xml" "$T/v.$f")"
	done
done
echo ok
