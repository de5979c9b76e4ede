#!/usr/bin/env bash
# README command 1: set up, build, and report on the bundled demo trace.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/setup-debian.sh"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j"$(nproc)" >/dev/null
set +e
"$top/build/analyze/pooltrace" report "$top/sample-traces/demo.xml.gz" "$@"
rc=$?
set -e
# Exit status 1 means "a leak was flagged", which is what the demo shows.
[ $rc -le 1 ] || exit $rc
