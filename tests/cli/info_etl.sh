#!/bin/bash
# SPDX-License-Identifier: MIT
# pooltrace info on ETL samples: exit codes, text and JSON fields.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
S="$PT_SRC/sample-traces/etl"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

"$POOLTRACE" info "$S/airbus_ShutdownPerfDiagLogger.etl" >"$T/out" 2>"$T/err" || fail "info exit $?"
grep -q '^format: etl$' "$T/out" || fail "format line"
grep -q '^os: Windows 10.0 (build 18362)$' "$T/out" || fail "os line"
grep -q '^cpus: 2$' "$T/out" || fail "cpus line"
grep -q '^pointer size: 8$' "$T/out" || fail "pointer size"
grep -q '^pool tracing: off$' "$T/out" || fail "pool tracing"
grep -q 'buffers: 49 (0 compressed' "$T/out" || fail "buffers"
grep -q 'records: 17078' "$T/out" || fail "records"
[ ! -s "$T/err" ] || fail "unexpected stderr: $(cat "$T/err")"

"$POOLTRACE" info --json "$S/perfview_net.4.5.2.x86.etl.gz" >"$T/json" || fail "json exit $?"
grep -q '"format": "etl"' "$T/json" || fail "json format"
grep -q '"buffers_compressed": 275' "$T/json" || fail "json compressed"
grep -q '"records": 168298' "$T/json" || fail "json records"
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/json" || fail "invalid JSON"
fi

# stdin works (no seeking)
"$POOLTRACE" info - <"$S/perfview_gcevents_PerfViewData.etl" >"$T/stdin" || fail "stdin exit"
grep -q 'first at 8184.674 ms' "$T/stdin" || fail "gcevents baseline time"

"$POOLTRACE" info --help >"$T/help" || fail "help exit"
grep -q -- '--json' "$T/help" || fail "help lists --json"
grep -q -- '--format F' "$T/help" || fail "help lists --format"

"$POOLTRACE" info >/dev/null 2>&1; [ $? -eq 2 ] || fail "no argument should exit 2"
"$POOLTRACE" info --bogus x >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad option should exit 2"
"$POOLTRACE" info "$T/missing.etl" 2>"$T/err2"; [ $? -eq 2 ] || fail "missing file should exit 2"
[ "$(wc -l <"$T/err2")" -eq 1 ] || fail "one-line error expected"
: >"$T/empty"
"$POOLTRACE" info "$T/empty" 2>/dev/null; [ $? -eq 2 ] || fail "empty file should exit 2"
"$POOLTRACE" info --format nosuch "$S/s4_SIH.20230422.034724.362.1.etl" 2>/dev/null
[ $? -eq 2 ] || fail "unknown format should exit 2"
echo ok
