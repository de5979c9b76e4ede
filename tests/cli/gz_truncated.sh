#!/bin/bash
# SPDX-License-Identifier: MIT
# Truncated and corrupt gzip traces, for every reader (tracerpt XML, ftrace,
# xperf text, PoolMon log, ETL, native):
#  - cut short at several points: everything that inflates is read, a warning
#    "FILE: warning: compressed data cut short at offset N; read up to there",
#    the report says the trace is incomplete (text line, JSON trace.incomplete),
#    exit 0 or 1 as for a whole trace; never more events than the whole file;
#  - damaged mid-stream: exit 2 with "corrupt gzip data at offset N", also with
#    --keep-going (a gzip stream cannot be resynchronised).
set -u
fail() { echo "FAIL: $*"; exit 1; }
S="$PT_SRC/sample-traces"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the fixtures, gzipped: committed ones and ones made here
cp "$S/demo.xml.gz" "$work/xml.gz"
cp "$S/ftrace-kmem.txt.gz" "$work/ftrace.gz"
gzip -c "$S/xperf-pool.txt" > "$work/xperf.gz"
cat "$S"/poolmon/poolsnap_*.log | gzip -c > "$work/poolmon.gz"
"$PT_BIN/tools/pt-etlgen" -n 60000 -o "$work/g.etl" >/dev/null || fail "pt-etlgen"
gzip -c "$work/g.etl" > "$work/etl.gz"
# a native trace of several chunks
"$POOLTRACE" convert -q "$work/g.etl" -o "$work/g.ptz" 2>/dev/null || fail "convert to native"
gzip -c "$work/g.ptz" > "$work/native.gz"

json_incomplete() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["trace"]["incomplete"]; print("null" if v is None else v)' "$1"
}

for f in xml ftrace xperf poolmon etl native; do
	gz="$work/$f.gz"
	o=""
	[ $f = poolmon ] && o="--snapshot-interval 30m" # one log of several screens without times
	size=$(stat -c %s "$gz")
	"$POOLTRACE" report $o "$gz" >"$work/full.txt" 2>"$work/full.err"
	rc=$?
	[ $rc -le 1 ] || fail "$f: whole file: exit $rc: $(cat "$work/full.err")"
	grep -q "cut short" "$work/full.err" && fail "$f: whole file called cut short"
	grep -q "incomplete" "$work/full.txt" && fail "$f: whole file called incomplete"
	"$POOLTRACE" report $o --json "$gz" >"$work/full.json" 2>/dev/null
	[ "$(json_incomplete "$work/full.json")" = null ] || fail "$f: whole file: JSON incomplete is set"
	full=$(sed -n 's/^Events: *\([0-9]*\) .*/\1/p' "$work/full.txt")
	[ "${full:-0}" -gt 0 ] || fail "$f: no events in the whole file"
	prev=0
	for pct in 40 70 95; do
		n=$((size * pct / 100))
		cut="$work/cut-$f-$pct.gz"
		head -c $n "$gz" >"$cut"
		"$POOLTRACE" report $o "$cut" >"$work/cut.txt" 2>"$work/cut.err"
		rc=$?
		[ $rc -le 1 ] || fail "$f cut at $n of $size: exit $rc: $(cat "$work/cut.err")"
		grep -qF "$cut: warning: compressed data cut short at offset $n; read up to there" "$work/cut.err" ||
			fail "$f cut at $n: no cut-short warning: $(cat "$work/cut.err")"
		grep -q "^Warning: the trace is incomplete" "$work/cut.txt" ||
			fail "$f cut at $n: the text report does not say the trace is incomplete"
		ev=$(sed -n 's/^Events: *\([0-9]*\) .*/\1/p' "$work/cut.txt")
		[ "${ev:-0}" -gt 0 ] || fail "$f cut at $n: no events read"
		[ "$ev" -le "$full" ] || fail "$f cut at $n: $ev events, more than the whole file's $full"
		[ "$ev" -ge "$prev" ] || fail "$f cut at $n: $ev events, fewer than a shorter cut ($prev)"
		prev=$ev
		if [ $pct -ne 70 ]; then
			echo "$f: cut at $n of $size bytes: $ev of $full events read, warned"
			continue
		fi
		# JSON and info once a format
		"$POOLTRACE" report $o --json "$cut" >"$work/cut.json" 2>/dev/null
		json_incomplete "$work/cut.json" | grep -qF "compressed data cut short at offset $n" ||
			fail "$f cut at $n: JSON trace.incomplete does not say so"
		# info has no --snapshot-interval: the PoolMon log without times is for report only
		if [ $f != poolmon ]; then
			"$POOLTRACE" info "$cut" >"$work/info.txt" 2>/dev/null || fail "$f cut at $n: info failed"
			grep -q "^incomplete: " "$work/info.txt" || fail "$f cut at $n: info does not say incomplete"
		fi
		echo "$f: cut at $n of $size bytes: $ev of $full events read, warned"
	done
done

# nothing left that inflates: a clear error
head -c 5 "$work/xml.gz" >"$work/tiny.gz"
"$POOLTRACE" report "$work/tiny.gz" >/dev/null 2>"$work/tiny.err"
rc=$?
[ $rc -eq 2 ] || fail "5-byte gzip: exit $rc"
grep -q "tiny.gz: compressed data cut short at offset 5" "$work/tiny.err" || fail "5-byte gzip: $(cat "$work/tiny.err")"

# corrupt data: an error naming the offset, with and without --keep-going.
# Damage inside the deflate data often still inflates (to wrong bytes): the
# format's parser or, at the latest, the member's checksum at its end finds it.
for f in xml native; do
	gz="$work/$f.gz"
	size=$(stat -c %s "$gz")
	for at in $((size / 2)) $((size - 8)); do
		cp "$gz" "$work/bad.gz"
		printf '\252%.0s' $(seq 4) | dd of="$work/bad.gz" bs=1 seek=$at conv=notrunc 2>/dev/null
		for kg in "" --keep-going; do
			"$POOLTRACE" report $kg "$work/bad.gz" >/dev/null 2>"$work/bad.err"
			rc=$?
			[ $rc -eq 2 ] || fail "$f damaged at $at $kg: exit $rc (want 2): $(cat "$work/bad.err")"
			grep -q "^pooltrace: $work/bad.gz:" "$work/bad.err" ||
				fail "$f damaged at $at $kg: message does not name the file: $(cat "$work/bad.err")"
		done
		if [ $at -eq $((size - 8)) ]; then
			# the checksum itself: the gzip layer names the offset and the damaged member
			off=$(sed -n 's/.*bad.gz: corrupt gzip data at offset \([0-9]*\) (0x[0-9a-f]*): incorrect data check; the member from offset 0 is damaged.*/\1/p' "$work/bad.err")
			[ -n "$off" ] && [ "$off" -ge $at ] && [ "$off" -le $size ] ||
				fail "$f damaged checksum: $(cat "$work/bad.err")"
		fi
		echo "$f: damaged at $at: $(head -c 160 "$work/bad.err")"
	done
done
echo "OK"
