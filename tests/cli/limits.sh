#!/bin/bash
# SPDX-License-Identifier: MIT
# Hostile input caps: entity tricks in XML are refused, never expanded or
# loaded; depth, node size, attribute count, line length and tag count are
# capped with a message that names the option raising the cap; outputs never
# replace the input.
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
P=$POOLTRACE

# expect_fail NAME PATTERN ARGS...: exit 2 within 30 s and PATTERN on stderr
expect_fail() {
	local name=$1 pat=$2
	shift 2
	timeout 30 "$P" "$@" >"$work/out" 2>"$work/err"
	local rc=$?
	[ $rc -eq 124 ] && fail "$name: no answer within 30 s"
	[ $rc -eq 2 ] || fail "$name: exit $rc, expected 2: $(head -3 "$work/err")"
	grep -q -- "$pat" "$work/err" || fail "$name: message lacks '$pat': $(head -3 "$work/err")"
	grep -q "root:" "$work/out" "$work/err" && fail "$name: contents of /etc/passwd in the output"
	return 0
}

cat > "$work/laughs.xml" <<'X'
<?xml version="1.0"?>
<!DOCTYPE Events [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<Events><Event><EventData><Data Name="Tag">&f;</Data></EventData></Event></Events>
X
expect_fail "billion laughs" "DOCTYPE" report "$work/laughs.xml"
expect_fail "billion laughs, forced format" "DOCTYPE" report -F tracerpt-xml "$work/laughs.xml"

cat > "$work/xxe.xml" <<'X'
<?xml version="1.0"?>
<!DOCTYPE Events [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<Events><Event><EventData><Data Name="Tag">&xxe;</Data><Data Name="PoolType">0</Data></EventData></Event></Events>
X
expect_fail "external entity" "DOCTYPE" report -F tracerpt-xml "$work/xxe.xml"
expect_fail "external entity, convert" "DOCTYPE" convert -f tracerpt-xml "$work/xxe.xml" -o "$work/x.ptz"
[ -e "$work/x.ptz" ] && fail "convert left an output after refusing the input"

# a parameter entity and an external DTD subset are refused the same way
printf '<?xml version="1.0"?>\n<!DOCTYPE Events SYSTEM "file:///etc/passwd">\n<Events/>\n' > "$work/dtd.xml"
expect_fail "external DTD" "DOCTYPE" report -F tracerpt-xml "$work/dtd.xml"

python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
open(w + "/deep.xml", "w").write("<Events><Event>" + "<a>" * 5000 + "</a>" * 5000 + "</Event></Events>\n")
open(w + "/attrs.xml", "w").write("<Events><Event " + " ".join('a%d="1"' % i for i in range(50000)) + "/></Events>\n")
open(w + "/node.xml", "w").write('<Events><Event><EventData><Data Name="Tag">' + "A" * 300000 + "</Data></EventData></Event></Events>\n")
open(w + "/longline.txt", "w").write("BeginHeader\n" + "x" * 300000 + "\nEndHeader\n")
PY
expect_fail "deep XML" "max-xml-depth" report -F tracerpt-xml "$work/deep.xml"
expect_fail "many attributes" "more attributes than" report -F tracerpt-xml "$work/attrs.xml"
expect_fail "node cap" "max-xml-node" report -F tracerpt-xml --max-xml-node 64k "$work/node.xml"
timeout 30 "$P" report -q -F tracerpt-xml "$work/node.xml" >/dev/null 2>"$work/err"
[ $? -le 1 ] || fail "a 300 kB text node under the default cap: $(head -2 "$work/err")"
expect_fail "line cap" "max-line" report -F xperf-text --max-line 64k "$work/longline.txt"
expect_fail "bad cap value" "not a positive size" report --max-line 0 "$work/longline.txt"

# tag cap: a sample with more distinct tags than allowed
sample="$PT_SRC/sample-traces/xperf-pool.txt"
if [ -f "$sample" ]; then
	expect_fail "tag cap" "max-tags" report --max-tags 2 "$sample"
	"$P" report -q --max-tags 100000 "$sample" >/dev/null 2>&1
	[ $? -le 1 ] || fail "raised tag cap"
	# outputs never replace the input
	cp "$sample" "$work/in.txt"
	sum=$(cksum < "$work/in.txt")
	expect_fail "report -o input" "refusing" report "$work/in.txt" -o "$work/in.txt"
	ln -s in.txt "$work/link.txt"
	expect_fail "report -o link to input" "refusing" report "$work/in.txt" -o "$work/link.txt"
	expect_fail "convert -o input" "refusing" convert "$work/in.txt" -o "$work/in.txt"
	expect_fail "convert -o link to input" "refusing" convert "$work/in.txt" -o "$work/link.txt"
	[ "$(cksum < "$work/in.txt")" = "$sum" ] || fail "the input was changed"
	ls "$work" | grep -q '\.tmp\.' && fail "temporary file left behind"
fi
echo "limits ok"
exit 0
