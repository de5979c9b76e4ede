#!/bin/bash
# SPDX-License-Identifier: MIT
# Generated pool ETL files (32/64-bit, compressed or not, each record header
# kind, lost flags): the report finds exactly the one leaking tag, and the
# same trace converted to the native format gives the same table and verdicts.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
GEN="$PT_BIN/tools/pt-etlgen"
[ -x "$GEN" ] || fail "missing $GEN"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

# tag,pool,verdict,allocs,frees,bytes per tag, sorted (from the CSV summary)
summary() {
	"$POOLTRACE" report --format csv -q "$1" >"$T/csv"
	local rc=$?
	tail -n +2 "$T/csv" | awk -F, '{ print $1 "," $3 "," $13 "," $4 "," $5 "," $7 }' | sort
	return $rc
}

n=0
for args in "-p 8" "-p 4" "-p 8 -z" "-p 4 -z -H perfinfo" "-p 8 -H compact -l 3" "-p 8 -c 1" "-p 8 -c 16 -b 2048"; do
	n=$((n + 1))
	"$GEN" -n 20000 -c 4 -b 4096 -s "$n" $args -o "$T/t$n.etl" || fail "generate $args"
	summary "$T/t$n.etl" >"$T/s$n.txt"
	rc=$?
	[ $rc -eq 1 ] || fail "$args: report exit $rc, want 1 (a leak)"
	[ "$(grep -c ',leak,' "$T/s$n.txt")" -eq 1 ] || fail "$args: want one leak: $(cat "$T/s$n.txt")"
	grep -q '^Leak,paged,leak,' "$T/s$n.txt" || fail "$args: Leak not flagged"
	[ "$(grep -c ',ok,' "$T/s$n.txt")" -eq 5 ] || fail "$args: want 5 ok tags: $(cat "$T/s$n.txt")"

	"$POOLTRACE" convert "$T/t$n.etl" -o "$T/t$n.ptz" || fail "$args: convert"
	summary "$T/t$n.ptz" >"$T/ns$n.txt"
	cmp -s "$T/s$n.txt" "$T/ns$n.txt" || fail "$args: native copy differs: $(diff "$T/s$n.txt" "$T/ns$n.txt")"
done

# the lost-event flags reach the report
"$POOLTRACE" report --json -q "$T/t5.etl" | grep -q '"events_lost": [1-9]' || fail "events_lost not reported"
# gzip and stdin
gzip -c "$T/t3.etl" >"$T/t3.etl.gz"
"$POOLTRACE" report --format csv -q - <"$T/t3.etl.gz" >"$T/gz.csv"
tail -n +2 "$T/gz.csv" | awk -F, '{ print $1 "," $3 "," $13 "," $4 "," $5 "," $7 }' | sort |
	cmp -s - "$T/s3.txt" || fail "gzip via stdin differs"
echo ok
