#!/bin/bash
# SPDX-License-Identifier: MIT
# pooltrace report in every format on a committed sample: exit codes, --tag-file,
# --csv-kind, JSON against docs/report-schema.json; golden files for the demo
# trace when it is present (PT_UPDATE_GOLDEN=1 rewrites them).
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$PT_SRC" || fail "no source dir"
trace=sample-traces/xperf-pool.txt
tags=tests/fixtures/pooltag-mini.txt
[ -f "$trace" ] || { echo "SKIP: $trace not present"; exit 0; }

run() { "$POOLTRACE" report -q "$@"; }

# every format, written through -o; a leak is found, so exit 1
for fmt in text md html csv json; do
	run "$trace" --tag-file "$tags" --format "$fmt" -o "$work/r.$fmt"
	rc=$?
	[ $rc -eq 1 ] || fail "$fmt: exit $rc, expected 1 (leak found)"
	[ -s "$work/r.$fmt" ] || fail "$fmt: empty output"
done
ls "$work" | grep -q tmp && fail "temporary file left behind"

grep -q "Mapped_Driver" "$work/r.text" || fail "text: no Mapped_Driver column with --tag-file"
grep -q "leaky.sys - Leaky test driver buffers" "$work/r.text" || fail "text: Leak not mapped"
run "$trace" --format text -o "$work/plain.text"
grep -q "Mapped_Driver" "$work/plain.text" && fail "text: Mapped_Driver column without --tag-file"

grep -q '^- \*\*LEAK\*\* Leak (NonpNx, leaky.sys - Leaky test driver buffers)' "$work/r.md" ||
	fail "md: flagged line"
grep -q '^| \*\*LEAK\*\* | Leak | NonpNx | leaky.sys' "$work/r.md" || fail "md: verdict row"

head -1 "$work/r.csv" | grep -q '^tag,tag_hex,pool_type,allocs,frees,diff,bytes,per_alloc,' ||
	fail "csv: summary header"
grep -q '^Leak,4c65616b,nonpaged_nx,.*,leak,.*,leaky.sys,Leaky test driver buffers' "$work/r.csv" ||
	fail "csv: Leak row"
run "$trace" --format csv --csv-kind series -o "$work/s.csv"
[ "$(head -1 "$work/s.csv" | tr -d '\r')" = "time_s,tag,tag_hex,pool_type,allocs,frees,diff,bytes" ] ||
	fail "csv: series header"
rows=$(($(wc -l <"$work/s.csv") - 1))
ntags=$(($(wc -l <"$work/r.csv") - 1))
[ $((rows % ntags)) -eq 0 ] && [ "$rows" -gt "$ntags" ] || fail "csv: series rows ($rows) not a multiple of tags ($ntags)"

grep -q '<figure class="chart" data-tag="Leak" data-pool="nonpaged_nx" data-verdict="leak"' "$work/r.html" ||
	fail "html: chart of the leak"
grep -q '<tr class="verdict leak" data-tag="Leak"' "$work/r.html" || fail "html: verdict row"

python3 "$PT_SRC/tools/check-json-schema.py" docs/report-schema.json "$work/r.json" ||
	fail "json: not valid against docs/report-schema.json"
# the full validator too, when installed (one process: importing it is slow)
python3 - "$work/r.json" tests/golden/synthetic.json <<'PY' || fail "json: jsonschema says invalid"
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(0)
schema = json.load(open("docs/report-schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
for f in sys.argv[1:]:
    jsonschema.validate(json.load(open(f)), schema, cls=jsonschema.Draft202012Validator)
PY
python3 "$PT_SRC/tools/check-json-schema.py" docs/report-schema.json tests/golden/synthetic.json ||
	fail "json: golden synthetic document invalid"
python3 - "$work/r.json" <<'PY' || fail "json: content"
import json, sys
d = json.load(open(sys.argv[1]))
leak = [t for t in d["tags"] if t["verdict"] == "leak"]
assert [t["tag"] for t in leak] == ["Leak"], leak
assert leak[0]["driver"] == "leaky.sys" and leak[0]["tag_hex"] == "4c65616b"
assert any(s["tag"] == "Leak" for s in d["timeline"]["series"])
n = len(d["timeline"]["time_s"])
assert all(len(s["bytes"]) == n for s in d["timeline"]["series"])
assert d["tag_files"]["files"] == 1
PY

# usage errors: exit 2 with a message
run "$trace" --tag-file "$work/none.txt" 2>"$work/err"; [ $? -eq 2 ] || fail "missing tag file: exit 2"
grep -q "none.txt" "$work/err" || fail "missing tag file: message names it"
run "$trace" --csv-kind nope 2>/dev/null; [ $? -eq 2 ] || fail "bad --csv-kind: exit 2"
run "$trace" --format nope 2>/dev/null; [ $? -eq 2 ] || fail "bad --format: exit 2"

# golden files on the demo trace
demo=sample-traces/demo.xml.gz
if [ -f "$demo" ]; then
	for kind in md csv json; do
		opt=(--format "$kind")
		run "$demo" --tag-file "$tags" "${opt[@]}" -o "$work/demo.$kind"
		rc=$?
		[ $rc -le 1 ] || fail "demo $kind: exit $rc"
		sed -i -e "s|pooltrace [0-9][0-9.a-z+-]*|pooltrace @VERSION@|g" -e "s|\"version\": \"[^\"]*\"|\"version\": \"@VERSION@\"|" \
			-e "s|$POOLTRACE|pooltrace|g" -e "s|$work|@WORK@|g" "$work/demo.$kind"
		g=tests/golden/demo.$kind
		if [ -n "${PT_UPDATE_GOLDEN:-}" ]; then
			cp "$work/demo.$kind" "$g"
		elif [ -f "$g" ]; then
			diff -u "$g" "$work/demo.$kind" >"$work/diff" || { head -40 "$work/diff"; fail "demo $kind differs from $g"; }
		else
			echo "note: no $g yet (PT_UPDATE_GOLDEN=1 writes it)"
		fi
	done
	python3 "$PT_SRC/tools/check-json-schema.py" docs/report-schema.json "$work/demo.json" ||
		fail "demo json: not valid against the schema"
fi
echo "ok"
