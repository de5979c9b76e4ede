#!/bin/bash
# SPDX-License-Identifier: MIT
# A generated pool ETL with StackWalk and image rundown records: the report
# groups the leaking tag's live bytes by its two call paths in leaky.sys with
# the byte totals the generator printed, frames as module+offset, in JSON,
# text, Markdown, CSV and HTML; the native copy keeps the stacks and images.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
GEN="$PT_BIN/tools/pt-etlgen"
[ -x "$GEN" ] || fail "missing $GEN"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

n=0
for args in "-p 8" "-p 4" "-p 8 -z -H compact" "-p 4 -H perfinfo -c 16 -b 2048"; do
	n=$((n + 1))
	"$GEN" -n 8000 -c 4 -b 4096 -s "$n" -S $args -o "$T/s$n.etl" >"$T/truth$n" || fail "generate $args"
	"$POOLTRACE" report --format json -q "$T/s$n.etl" -o "$T/r$n.json"
	[ $? -eq 1 ] || fail "$args: report exit, want 1 (a leak)"
	python3 - "$T/r$n.json" "$T/truth$n" "$args" <<'PY' || fail "$args: stacks in the JSON report"
import json, re, sys
d = json.load(open(sys.argv[1]))
truth = {}
for line in open(sys.argv[2]):
    m = re.match(r"Leak path (\w): (\d+) allocations, (\d+) bytes", line)
    truth[m.group(1)] = (int(m.group(2)), int(m.group(3)))
leak = [t for t in d["tags"] if t["tag"] == "Leak"][0]
assert leak["verdict"] == "leak", leak["verdict"]
st = leak["stacks"]
assert st["distinct"] == 2 and st["live_without_stack"] == 0, st
want = {
    "a": ["ntoskrnl.exe+0x1234", "leaky.sys+0x1100", "leaky.sys+0x2200", "ntoskrnl.exe+0x5000"],
    "b": ["ntoskrnl.exe+0x1234", "leaky.sys+0x1300", "leaky.sys+0x3300", "ntoskrnl.exe+0x5000"],
}
got = {}
for s in st["top"]:
    path = [k for k, f in want.items() if f == s["frames"]]
    assert len(path) == 1, s["frames"]
    got[path[0]] = (s["live"], s["bytes"])
assert got == truth, (got, truth)
assert st["top"][0]["bytes"] >= st["top"][1]["bytes"]
assert sum(b for _, b in got.values()) == leak["bytes"]
# the other tags' stacks end in a user address no image covers: shown raw
other = [t for t in d["tags"] if t["tag"] == "Proc"][0]
assert all(s["frames"][-1] == "0x1000" for s in other["stacks"]["top"]), other["stacks"]
tot = d["totals"]
assert tot["images"] == 2 and tot["stacks"] == tot["allocs"], tot
assert tot["stacks_joined"] == tot["allocs"] and tot["stacks_unmatched"] == 0, tot
PY
	python3 "$PT_SRC/tools/check-json-schema.py" "$PT_SRC/docs/report-schema.json" "$T/r$n.json" ||
		fail "$args: JSON not valid against the schema"
done

# the other formats show the same stacks
"$POOLTRACE" report -q "$T/s1.etl" >"$T/r.txt"
grep -q 'live bytes by stack (2 stacks)' "$T/r.txt" || fail "text: no stacks: $(cat "$T/r.txt")"
grep -q 'ntoskrnl.exe+0x1234 <- leaky.sys+0x1100 <- leaky.sys+0x2200' "$T/r.txt" || fail "text: frames"
"$POOLTRACE" report -q --format md "$T/s1.etl" >"$T/r.md"
grep -q 'leaky.sys+0x1300 ← leaky.sys+0x3300' "$T/r.md" || fail "md: frames: $(cat "$T/r.md")"
"$POOLTRACE" report -q --format csv "$T/s1.etl" >"$T/r.csv"
python3 - "$T/r.csv" <<'PY' || fail "csv: top stack column"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
leak = [r for r in rows if r["tag"] == "Leak"][0]
assert leak["stacks_distinct"] == "2", leak
assert leak["top_stack"].startswith("ntoskrnl.exe+0x1234 <- leaky.sys+0x1100"), leak["top_stack"]
assert int(leak["top_stack_bytes"]) > 0 and leak["pattern"] == "steady growth", leak
PY
"$POOLTRACE" report -q --format html "$T/s1.etl" -o "$T/r.html"
grep -q 'Live bytes by stack' "$T/r.html" || fail "html: no stacks"
grep -q 'leaky.sys+0x2200' "$T/r.html" || fail "html: frames"

# the native copy (32- and 64-bit sources) keeps stacks and images: the same report
for n in 1 2; do
	"$POOLTRACE" convert -q "$T/s$n.etl" -o "$T/s$n.ptz" || fail "convert s$n"
	"$POOLTRACE" report --format json -q "$T/s$n.ptz" -o "$T/n$n.json"
	python3 - "$T/r$n.json" "$T/n$n.json" <<'PY' || fail "native copy s$n"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for d in (a, b):
    for k in ("input", "command_line", "trace"):
        d.pop(k, None)
assert a == b, "native copy report differs"
PY
done
echo ok
