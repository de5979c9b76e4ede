#!/usr/bin/env bash
# The bundled demo: the report names the leaking tag and only it, and matches the
# expected report committed beside the trace (text and JSON).
set -u
fail() { echo "FAIL: $*"; exit 1; }
cd "$PT_SRC" || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$POOLTRACE" report sample-traces/demo.xml.gz > "$tmp/r.txt"; rc=$?
[ $rc -eq 1 ] || fail "exit $rc, expected 1 (a leak)"
diff -u sample-traces/demo.report.txt "$tmp/r.txt" || fail "text report differs from sample-traces/demo.report.txt"
"$POOLTRACE" report --json sample-traces/demo.xml.gz > "$tmp/r.json"
diff -u sample-traces/demo.report.json "$tmp/r.json" || fail "JSON report differs from sample-traces/demo.report.json"
python3 - "$tmp/r.json" <<'PY' || fail "JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
leaks = [t for t in d["tags"] if t["verdict"] == "leak"]
assert [(t["tag"], t["tag_hex"], t["pool_type"]) for t in leaks] == [("Leak", "4c65616b", "nonpaged")], leaks
assert d["summary"]["leak"] == 1 and d["summary"]["suspect"] == 0
assert d["phases"]["workload_end_source"] == "marker"
PY
# a malformed trace: one line naming the file and line, exit 2
printf '<Events>\n<Event>\n<System><Opcode>32</Opcode>\n</Event>\n' > "$tmp/bad.xml"
"$POOLTRACE" report "$tmp/bad.xml" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "malformed XML exited $rc"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "error is not one line: $(cat "$tmp/err")"
grep -q "bad.xml:4: " "$tmp/err" || fail "error lacks file:line: $(cat "$tmp/err")"
echo "1 passed, 0 failed"
