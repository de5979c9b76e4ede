#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The unit tests (readers, replay, reporters, ...) and the fuzz corpus replays
# under valgrind memcheck: any memory error or leak fails.
#   PT_BUILD_DIR=DIR     build folder to use (default build; configured and built if needed)
#   PT_VG_LABELS="unit fuzz"   ctest labels of the tests to run
#   PT_VG_EXCLUDE=REGEX  test names to leave out (default: the truncation sweep,
#                        which sanitizer builds cover; under valgrind it would take long)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${PT_BUILD_DIR:-$top/build}
labels=${PT_VG_LABELS:-unit fuzz}
exclude=${PT_VG_EXCLUDE:-^unit\.test_truncation$}
# the SIGKILL test of the native writer: fewer kills than its default 120 (each is slow here)
export PT_KILL_ITERATIONS=${PT_KILL_ITERATIONS:-24}
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 2; }
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${PT_JOBS:-2}" >/dev/null

# one line per test: name, working directory, environment, then the command (0x1f-separated)
ctest --test-dir "$build" --show-only=json-v1 | python3 -c '
import json, sys, re
labels = set(sys.argv[1].split())
exclude = re.compile(sys.argv[2]) if sys.argv[2] else None
for t in json.load(sys.stdin)["tests"]:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    if not labels & set(props.get("LABELS", [])):
        continue
    if exclude and exclude.search(t["name"]):
        continue
    env = props.get("ENVIRONMENT", [])
    print("\x1f".join([t["name"], props.get("WORKING_DIRECTORY", "."), ";".join(env)] + t["command"]))
' "$labels" "$exclude" > "$build/valgrind-tests.txt"

logdir="$build/valgrind"
mkdir -p "$logdir"
failed=()
n=0
while IFS=$'\x1f' read -r -a f; do
	name=${f[0]} wd=${f[1]} envs=${f[2]}
	cmd=("${f[@]:3}")
	log="$logdir/$name.log"
	start=$SECONDS
	if (
		cd "$wd"
		IFS=';' read -r -a ev <<< "$envs"
		for e in "${ev[@]}"; do [ -n "$e" ] && export "$e"; done
		valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
			--errors-for-leak-kinds=definite,indirect,possible --track-origins=yes \
			"${cmd[@]}" >"$log" 2>&1
	); then
		echo "valgrind: $name ok ($((SECONDS - start)) s)"
	else
		echo "valgrind: $name FAILED ($((SECONDS - start)) s); log: $log" >&2
		grep -E '^==[0-9]+==' "$log" | head -20 >&2 || tail -20 "$log" >&2
		failed+=("$name")
	fi
	n=$((n + 1))
done < "$build/valgrind-tests.txt"
[ $n -gt 0 ] || { echo "valgrind: no tests selected" >&2; exit 2; }
if [ ${#failed[@]} -gt 0 ]; then
	echo "valgrind: ${#failed[@]} of $n tests with errors: ${failed[*]}" >&2
	exit 1
fi
echo "valgrind: $n tests, no errors"
