#!/bin/bash
# SPDX-License-Identifier: MIT
# pooltrace top in a real terminal: driven in a detached tmux session (100x30) with
# send-keys, asserted on capture-pane: sort keys, the P cycle, step keys, filter,
# help, playback, resize, and quitting (q, Ctrl-C, SIGTERM) with the terminal restored.
# Needs tmux (Debian package tmux).
set -u -f
fail() {
	echo "FAIL: $*"
	[ -n "${screen:-}" ] && printf '%s\n' "--- screen:" "$screen"
	exit 1
}
command -v tmux >/dev/null || fail "tmux is not installed (Debian package tmux)"

work=$(mktemp -d)
# a private server whose socket lives in the work folder, removed with it
T() { tmux -S "$work/tmux.sock" -f "$work/tmux.conf" "$@"; }
cleanup() {
	T kill-server 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/tmux.conf" <<'EOF'
set -g remain-on-exit on
set -sg escape-time 0
set -g status off
set -g default-terminal screen
EOF

trace="$work/t.ptz"
"$PT_BIN/tools/pt-synth" "$trace" "$PT_SRC/tests/cli/top-scenario.synth" || fail "pt-synth"

screen=""
grab() { screen=$(T capture-pane -p -t top 2>/dev/null); }

# wait_for PATTERN [what]: poll the screen until a line matches (grep -E), 20 s at most
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		grab
		grep -qE -- "$1" <<<"$screen" && return 0
		sleep 0.1
	done
	fail "timed out waiting for /$1/ ${2:-}"
}

# the tag rows in screen order, e.g. "Bbbb Cccc Aaaa Dddd"
rows() { awk '$1 ~ /^\*?[A-D][a-d][a-d][a-d]$/ { sub(/^\*/, "", $1); printf "%s%s", s, $1; s = " " } END { print "" }' <<<"$screen"; }

# expect_rows KEYS "ORDER" PATTERN: send keys, wait for PATTERN, check the row order
expect_rows() {
	local keys=$1 want=$2 pat=$3 i
	T send-keys -t top $keys
	for ((i = 0; i < 200; i++)); do
		grab
		if grep -qE -- "$pat" <<<"$screen" && [ "$(rows)" = "$want" ]; then
			return 0
		fi
		sleep 0.1
	done
	fail "after '$keys': rows '$(rows)', expected '$want' with /$pat/"
}

# pooltrace runs under a shell that writes its exit status to a file (tmux itself may
# report a pane dead before it has collected the status)
start() {
	rm -f "$work/status"
	T new-session -d -s top -x 100 -y 30 \
		"'$POOLTRACE' top --interval 1s --refresh 100ms $* '$trace'; echo \$? >'$work/status'" ||
		fail "tmux new-session"
}

# wait until pooltrace has ended; echo its exit status
wait_exit() {
	local i
	for ((i = 0; i < 200; i++)); do
		if [ -s "$work/status" ]; then
			cat "$work/status"
			return 0
		fi
		sleep 0.1
	done
	echo "still running"
}

# the terminal left the alternate screen (ncurses restored it)
restored() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(T display-message -p -t top '#{alternate_on}')" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# the pid of pooltrace, the child of the pane's shell
top_pid() {
	local sh
	sh=$(T display-message -p -t top '#{pane_pid}')
	cat "/proc/$sh/task/$sh/children" 2>/dev/null | awk '{ print $1 }'
}

# ---- keys ----
start --paused --speed 10
wait_for '^ 0\.000 s / 10\.000 s +before workload +\[paused' "the first screen"
grep -q 'Rows: 0' <<<"$screen" || fail "no rows at trace start"
[ "$(T display-message -p -t top '#{alternate_on}')" = 1 ] || fail "alternate screen in use"

# sort keys, at the trace end
expect_rows End "Bbbb Cccc Aaaa Dddd" '^ 10\.000 s / 10\.000 s +cool-down +\[end\]'
grep -qE '^ Tag +Type +Allocs +\( \) +Frees +\( \) +Diff +Bytes +\( \) +Per Alloc' <<<"$screen" ||
	fail "column titles"
grep -q 'leak: Bbbb Cccc Aaaa' <<<"$screen" || fail "leak flags in the status line"
expect_rows a "Cccc Aaaa Bbbb Dddd" 'Sort: allocs \(largest first\)'
expect_rows F "Aaaa Cccc Dddd Bbbb" 'Sort: frees'
expect_rows d "Cccc Bbbb Aaaa Dddd" 'Sort: diff'
expect_rows b "Bbbb Cccc Aaaa Dddd" 'Sort: bytes \(largest first\)'
expect_rows B "Dddd Aaaa Cccc Bbbb" 'Sort: bytes \(smallest first\)'
expect_rows M "Bbbb Aaaa Cccc Dddd" 'Sort: per alloc'
expect_rows S "Cccc Bbbb Aaaa Dddd" 'Sort: diff'
expect_rows t "Aaaa Bbbb Cccc Dddd" 'Sort: tag \(A-Z\)'
expect_rows T "Dddd Cccc Bbbb Aaaa" 'Sort: tag \(Z-A\)'
expect_rows t "Aaaa Bbbb Cccc Dddd" 'Sort: tag \(A-Z\)'

# P cycles nonpaged, paged, both
expect_rows p "Aaaa Cccc" 'Pools: nonpaged'
expect_rows P "Bbbb Dddd" 'Pools: paged'
expect_rows p "Aaaa Bbbb Cccc Dddd" 'Pools: both'

# E totals line
T send-keys -t top e
wait_for '^ Total +16 ' "the totals line"
T send-keys -t top e

# step keys: Home, Right, Left, w, c
expect_rows Home "" '^ 0\.000 s / 10\.000 s'
expect_rows Right "Aaaa" '^ 1\.000 s / 10\.000 s +before workload|^ 1\.000 s / 10\.000 s +workload'
grep -qE '^\*Aaaa +Nonp +5 \( +5\)' <<<"$screen" || fail "Aaaa changed by 5 allocs"
expect_rows Right "Aaaa Bbbb" '^ 2\.000 s / 10\.000 s +workload'
grep -qE '^\*Bbbb +Paged +2 \( +2\)' <<<"$screen" || fail "Bbbb changed by 2 allocs"
grep -qE '^ Aaaa +Nonp +5 \( +0\)' <<<"$screen" || fail "Aaaa unchanged"
expect_rows Left "Aaaa" '^ 1\.000 s / 10\.000 s'
expect_rows w "Aaaa Bbbb Cccc Dddd" '^ 6\.000 s / 10\.000 s +cool-down'
expect_rows Left "Aaaa Bbbb Cccc" '^ 5\.000 s / 10\.000 s +workload'
expect_rows c "Aaaa Bbbb Cccc Dddd" '^ 10\.000 s / 10\.000 s +cool-down'

# by change, from 5 s to 10 s only Dddd changed (allocated and freed): it comes first
expect_rows '(' "Dddd Aaaa Bbbb Cccc" 'Sort: tag change'
expect_rows ')' "Aaaa Bbbb Cccc Dddd" 'Sort: tag \(A-Z\)'

# filter
T send-keys -t top /
wait_for 'Filter \(\* and \? wildcards' "the filter prompt"
expect_rows '?c Enter' "" 'Filter: \?c '
T send-keys -t top / BSpace BSpace '?ccc' Enter
wait_for 'Filter: \?ccc ' "the filter"
[ "$(rows)" = "Cccc" ] || fail "filter ?ccc: rows '$(rows)'"
T send-keys -t top / BSpace BSpace BSpace BSpace Enter
wait_for 'Filter: none' "the filter cleared"

# help overlay, closed by any key
T send-keys -t top '?'
wait_for 'Keys \(either case\)' "the help"
T send-keys -t top x
wait_for '^ Tag +Type' "the table after the help"

# playback: [ ] halve and double the speed; space at the end plays from the start
T send-keys -t top '[' '[' '['
wait_for '\[end\]' "still at the end"
T send-keys -t top Space
wait_for '\[playing x1\.25\]' "playing at 1.25x"
T send-keys -t top ']' ']' ']'
wait_for '^ 10\.000 s / 10\.000 s +cool-down +\[end\]' "the end of playback"

# live resize to 80x24: status line on the last line, nothing wider than 80
T resize-window -t top -x 80 -y 24
for ((i = 0; i < 200; i++)); do
	grab
	last=$(printf '%s\n' "$screen" | sed -n 24p)
	[ "$(printf '%s\n' "$screen" | wc -l)" -eq 24 ] && grep -q '10\.000 s / 10\.000 s' <<<"$last" && break
	sleep 0.1
done
grep -q '10\.000 s / 10\.000 s' <<<"$last" || fail "status line on line 24 after resize"
awk 'length > 80 { bad = 1 } END { exit bad }' <<<"$screen" || fail "lines wider than 80"

# q quits: the process ends with status 0 and the normal screen is back
T send-keys -t top q
st=$(wait_exit); [ "$st" = 0 ] || fail "exit status after q: $st"
restored || fail "alternate screen left after q"
T kill-session -t top

# Ctrl-C
start --paused
wait_for '^ 0\.000 s / 10\.000 s' "the second start"
T send-keys -t top C-c
st=$(wait_exit); [ "$st" = 0 ] || fail "exit status after Ctrl-C: $st"
restored || fail "alternate screen left after Ctrl-C"
T kill-session -t top

# SIGTERM, while playing
start --speed 0.1
wait_for '\[playing' "the third start"
pid=$(top_pid)
[ -n "$pid" ] || fail "no pooltrace process under the pane"
kill -TERM "$pid"
st=$(wait_exit); [ "$st" = 0 ] || fail "exit status after SIGTERM: $st"
restored || fail "alternate screen left after SIGTERM"

echo "ok"
exit 0
