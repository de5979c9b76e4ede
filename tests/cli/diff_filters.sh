#!/usr/bin/env bash
# diff, --tags/--exclude and --suppress on the bundled samples.
set -u
fail() { echo "FAIL: $*"; exit 1; }
S="$PT_SRC/sample-traces"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# the same trace against itself: nothing changes, exit 0
"$POOLTRACE" diff "$S/xperf-pool.txt" "$S/xperf-pool.txt" > "$tmp/same.txt"; rc=$?
[ $rc -eq 0 ] || fail "diff of a trace with itself exited $rc"
grep -q "0 regressions" "$tmp/same.txt" || fail "diff of a trace with itself found regressions"

# base without the leaking tag (excluded) vs new with it: a new leak, exit 1
"$POOLTRACE" diff --json -o "$tmp/d.json" "$S/ftrace-kmem.txt.gz" "$S/xperf-pool.txt"; rc=$?
[ $rc -eq 1 ] || fail "diff with a new leak exited $rc, expected 1"
python3 - "$tmp/d.json" <<'PY' || fail "diff JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "pooltrace-diff"
new = [t for t in d["tags"] if t["change"] == "new leak"]
assert any(t["tag"] == "Leak" and t["tag_hex"] == "4c65616b" for t in new), new
assert d["regressions"] >= 1
PY

# --exclude hides the leaking tag: exit 0 and not in the table
"$POOLTRACE" report -x Leak "$S/xperf-pool.txt" > "$tmp/x.txt"; rc=$?
[ $rc -eq 0 ] || fail "report --exclude Leak exited $rc"
grep -q "^ Leak" "$tmp/x.txt" && fail "excluded tag still shown"
# --tags keeps only matching tags (PoolMon wildcard)
"$POOLTRACE" report --tags 'Le?k,Irp*' --json "$S/xperf-pool.txt" > "$tmp/t.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert sorted(t["tag"].strip() for t in d["tags"]) == ["Irp", "Leak"], d["tags"]' "$tmp/t.json" || fail "--tags"

# suppression: shown as suppressed, exit 0; a file without a reason is an error
printf '# known\nLea* tracked in bug 1234\n' > "$tmp/supp"
"$POOLTRACE" report --suppress "$tmp/supp" "$S/xperf-pool.txt" > "$tmp/s.txt"; rc=$?
[ $rc -eq 0 ] || fail "suppressed leak still fails ($rc)"
grep -q "tracked in bug 1234" "$tmp/s.txt" || fail "suppression reason not shown"
printf 'Leak\n' > "$tmp/bad"
"$POOLTRACE" report --suppress "$tmp/bad" "$S/xperf-pool.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad suppression file exited $rc"
grep -q "bad:1:" "$tmp/err" || fail "suppression error lacks file:line: $(cat "$tmp/err")"
echo "1 passed, 0 failed"
