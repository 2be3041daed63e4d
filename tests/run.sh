#!/bin/sh
# Runs the cmocka test programs given as arguments, lists what was skipped and why,
# and ends with one line of totals. Under CI a skip not in tests/expected-skips fails.
set -u
pass=0 fail=0 skip=0 failed_bins=""
log=$(mktemp) skips=$(mktemp)
trap 'rm -f "$log" "$skips"' EXIT
expected=tests/expected-skips

# The sum of the counts on cmocka's "[  WHAT  ] N test(s)" lines; empty when there is none.
sum_of() {
	sed -n "s/^\[ *$1 *\] \([0-9]*\) test.*/\1/p" "$2" | awk '{ n += $1 } END { if (NR) print n }'
}

for bin in "$@"; do
	name=$(basename "$bin")
	if ! "$bin" >"$log" 2>&1; then
		failed_bins="$failed_bins $name"
		# a group set-up that fails runs no test and fails none: count the program
		grep -q '^\[  FAILED  \] [1-9]' "$log" || echo "[  FAILED  ] 1 test(s): $name exited with failure" >>"$log"
	fi
	# a program may run several groups: each ends with its own summary
	p=$(sum_of PASSED "$log") f=$(sum_of FAILED "$log") s=$(sum_of SKIPPED "$log")
	pass=$((pass + ${p:-0})) fail=$((fail + ${f:-0})) skip=$((skip + ${s:-0}))
	grep '^SKIP ' "$log" >>"$skips"
	if grep -q '^\[  FAILED  \]\|^\[  ERROR   \]' "$log" || [ -z "$p$f" ]; then
		echo "--- $name"
		grep -v '^\[ \(RUN\|      OK\) ' "$log" | tail -n 40
		[ -z "$p$f" ] && fail=$((fail + 1)) && echo "$name: no cmocka summary (crashed?)"
	else
		echo "$name: ${p:-0} passed${s:+, $s skipped}"
	fi
done

unexpected=0
if [ -s "$skips" ]; then
	echo "Skipped on this machine, and why:"
	while IFS= read -r line; do
		echo "  $line"
		t=$(echo "$line" | sed 's/^SKIP \([^:]*\):.*/\1/')
		if ! grep -q "^$t\b" "$expected" 2>/dev/null; then
			echo "  ^ not in $expected"
			unexpected=$((unexpected + 1))
		fi
	done <"$skips"
fi
echo "total: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ -z "$failed_bins" ] || exit 1
if [ "$unexpected" -gt 0 ] && [ "${CI:-}" = true ]; then
	echo "CI: $unexpected skip(s) not listed in $expected"
	exit 1
fi
