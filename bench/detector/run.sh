#!/usr/bin/env bash
# Leak detector benchmark: every scenario in bench/detector/*.scn, several seeds each,
# judged by `pooltrace report`; prints per-scenario results and precision / recall.
#
#   bench/detector/run.sh [BUILD_DIR] [SEEDS]      (defaults: build, 5)
#
# Ground truth comes from pt-gen --truth (a tag is a leak when some of its
# allocations are never freed). A scenario may say what it expects instead,
# for cases that cannot be decided from the trace:  # expect TAG VERDICT[,VERDICT]
# Positive = verdict "leak". A miss is a true leak not judged "leak"; a false
# positive is an ok tag judged "leak". Tags with an "expect" line are left out of
# precision and recall and only checked against their expectation.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
seeds=${2:-5}
gen="$build/tools/pt-gen"
pt="$build/analyze/pooltrace"
[ -x "$gen" ] && [ -x "$pt" ] || { echo "build first: $gen, $pt" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for scn in "$here"/*.scn; do
	name=$(basename "$scn" .scn)
	for seed in $(seq 1 "$seeds"); do
		"$gen" "$scn" --seed "$seed" -o "$tmp/$name.$seed.xml" --truth "$tmp/$name.$seed.truth"
		set +e
		"$pt" report -q --json "$tmp/$name.$seed.xml" > "$tmp/$name.$seed.json"
		rc=$?
		set -e
		[ $rc -le 1 ] || { echo "$name seed $seed: pooltrace report exited $rc" >&2; exit 2; }
		rm -f "$tmp/$name.$seed.xml"
	done
done
python3 - "$here" "$tmp" "$seeds" <<'PY'
import glob, json, os, sys
here, tmp, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3])
tp = fp = fn = tn = sus_ok = sus_leak = undecided = 0
bad = []
print(f"{'scenario':<12} {'tag':<6} {'truth':<8} {'expected':<14} verdicts over {seeds} seeds")
for scn in sorted(glob.glob(os.path.join(here, "*.scn"))):
    name = os.path.basename(scn)[:-4]
    expect = {}
    for line in open(scn):
        w = line.split()
        if len(w) >= 4 and w[0] == "#" and w[1] == "expect":
            expect[w[2]] = set(w[3].split(","))
    rows = {}
    for seed in range(1, seeds + 1):
        truth = {}
        for line in open(os.path.join(tmp, f"{name}.{seed}.truth")):
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            key = f[0].strip()
            truth[key] = truth.get(key, False) or f[2] == "leak"
        rep = json.load(open(os.path.join(tmp, f"{name}.{seed}.json")))
        got = {t["tag"].strip(): t["verdict"] for t in rep["tags"]}
        for tag, leak in truth.items():
            v = got.get(tag, "absent")
            want = expect.get(tag, {"leak"} if leak else {"ok", "suspect"})
            r = rows.setdefault(tag, [leak, want, []])
            r[2].append(v)
            if tag in expect:
                undecided += 1   # the scenario says what a right answer is
            elif leak:
                if v == "leak": tp += 1
                else:
                    fn += 1
                    if v == "suspect": sus_leak += 1
            else:
                if v == "leak": fp += 1
                else:
                    tn += 1
                    if v == "suspect": sus_ok += 1
            if v not in want:
                bad.append(f"{name} seed {seed}: {tag} judged {v}, expected {'/'.join(sorted(want))}")
    for tag, (leak, want, vs) in rows.items():
        counts = ", ".join(f"{vs.count(k)} {k}" for k in ("leak", "suspect", "ok", "absent") if vs.count(k))
        print(f"{name:<12} {tag:<6} {'leak' if leak else 'ok':<8} {'/'.join(sorted(want)):<14} {counts}")
prec = tp / (tp + fp) if tp + fp else 1.0
rec = tp / (tp + fn) if tp + fn else 1.0
print()
print(f"true leaks judged leak: {tp}, missed: {fn} (of which suspect: {sus_leak})")
print(f"ok tags judged leak (false positives): {fp}, judged ok or suspect: {tn} (of which suspect: {sus_ok})")
print(f"undecidable cases (judged against the scenario's own expectation): {undecided}")
print(f"precision {prec:.3f}  recall {rec:.3f}")
print(f"verdicts outside the expectation: {len(bad)}")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
