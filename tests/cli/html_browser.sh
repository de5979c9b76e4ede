#!/bin/bash
# SPDX-License-Identifier: MIT
# The HTML report as a user sees it: headless Chromium loads the report of the
# demo trace (or, until that sample exists, the xperf sample), the DOM must hold
# the leaking tag's chart and verdict row, scripts must run without console
# errors, the table sort must work, and a screenshot is kept in the build dir.
set -u
fail() { echo "FAIL: $*"; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "SKIP: chromium not installed (Debian package chromium)"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$PT_SRC" || fail "no source dir"
trace=sample-traces/demo.xml.gz
[ -f "$trace" ] || trace=sample-traces/xperf-pool.txt
"$POOLTRACE" report -q "$trace" --tag-file tests/fixtures/pooltag-mini.txt --format html -o "$work/report.html"
[ $? -le 1 ] || fail "report failed"
"$POOLTRACE" report -q "$trace" --format json -o "$work/report.json"
leak=$(python3 -c 'import json,sys; print(next(t["tag"] for t in json.load(open(sys.argv[1]))["tags"] if t["verdict"]=="leak"))' "$work/report.json") ||
	fail "no leaking tag in $trace"

chrome() {
	timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-dev-shm-usage --user-data-dir="$work/profile.$1" "${@:2}"
}

# The page as loaded, scripts run, console output on stderr. The page is a copy
# with a check appended that clicks the Bytes header twice (table sort).
python3 - "$work/report.html" "$work/sorttest.html" <<'PY'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
check = """<script>
(function(){var t=document.getElementById('poolmon-end');var th=t.tHead.rows[0].cells[5];
function col(){return Array.prototype.map.call(t.tBodies[0].rows,function(r){return parseFloat(r.cells[5].getAttribute('data-v'));});}
function sorted(a,d){for(var i=1;i<a.length;i++){if(d?a[i-1]<a[i]:a[i-1]>a[i])return false;}return true;}
th.click();var up=sorted(col(),false)&&th.getAttribute('aria-sort')==='ascending';
th.click();var down=sorted(col(),true)&&th.getAttribute('aria-sort')==='descending';
document.body.setAttribute('data-sort-check',up&&down?'pass':'fail');})();
</script>"""
open(sys.argv[2], "w", encoding="utf-8").write(page.replace("</body>", check + "</body>"))
PY
chrome dom --enable-logging=stderr --v=0 --dump-dom "file://$work/sorttest.html" >"$work/dom.html" 2>"$work/console.txt" ||
	fail "chromium could not load the report: $(tail -3 "$work/console.txt")"
grep -q 'data-ready="1"' "$work/dom.html" || fail "the page script did not run"
grep -E 'CONSOLE|Uncaught|SyntaxError|TypeError|ReferenceError' "$work/console.txt" &&
	fail "console errors"
grep -q 'data-sort-check="pass"' "$work/dom.html" || fail "table sort does not work"
esc=$(python3 -c 'import html,sys; print(html.escape(sys.argv[1], quote=True))' "$leak")
grep -q "<figure class=\"chart\" data-tag=\"$esc\"[^>]* data-verdict=\"leak\"" "$work/dom.html" ||
	fail "no chart for the leaking tag $leak"
grep -q "<tr class=\"verdict leak\" data-tag=\"$esc\"" "$work/dom.html" || fail "no verdict row for $leak"
grep -q '<polyline class="ln"' "$work/dom.html" || fail "no chart line"
grep -q '<title>.*KiB\|<title>.* B (' "$work/dom.html" || fail "no hover values"

# the screenshot, kept as an artefact
shot="$PT_BIN/html-report.png"
rm -f "$shot"
chrome shot --hide-scrollbars --window-size=1280,2400 --screenshot="$shot" "file://$work/report.html" >/dev/null 2>&1
[ -s "$shot" ] || fail "no screenshot"
cp "$work/report.html" "$PT_BIN/html-report.html"
echo "ok: $trace, leak $leak; screenshot $shot"
