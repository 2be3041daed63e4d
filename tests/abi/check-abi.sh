#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-abi.sh SYS_DUMP NEW_DUMP KVER DUMP_SRC UAPI_H
#
# Run the two abi_dump builds and compare them item by item.  SYS_DUMP was
# built against the installed headers plus our fallbacks, NEW_DUMP against
# the linux-source-KVER uapi headers.  Also fails when:
#  - either side prints a different number of items than abi_dump.c has,
#  - an item key repeats,
#  - a struct, field, macro or enum constant defined in uapi.h is not dumped.
set -eu

sys_bin=$1
new_bin=$2
kver=$3
dump_src=$4
uapi_h=$5

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail=0
err() {
	echo "check-abi: $*" >&2
	fail=1
}

"$sys_bin" >"$tmp/sys" || err "$sys_bin exited with status $?"
"$new_bin" >"$tmp/new" || err "$new_bin exited with status $?"

expected=$(grep -cE '^	(K|S|F|FA|FX|FP)\(' "$dump_src")
for side in sys new; do
	n=$(wc -l <"$tmp/$side")
	if [ "$n" -ne "$expected" ]; then
		err "$side side printed $n items, expected $expected"
	fi
	dup=$(cut -f1 "$tmp/$side" | sort | uniq -d)
	if [ -n "$dup" ]; then
		err "$side side repeats items: $(echo "$dup" | tr '\n' ' ')"
	fi
done

# item-by-item comparison, naming every differing or missing item
awk -F '\t' -v kver="$kver" '
	FNR == NR { sys[$1] = $2; order[++n] = $1; next }
	{
		new[$1] = $2
		if (!($1 in sys))
			printf "check-abi: %s: only in linux-%s build\n", $1, kver
	}
	END {
		bad = 0
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (!(k in new)) {
				printf "check-abi: %s: missing from linux-%s build\n", k, kver
				bad = 1
			} else if (sys[k] != new[k]) {
				printf "check-abi: MISMATCH %s: ours \"%s\", linux-%s \"%s\"\n",
				       k, sys[k], kver, new[k]
				bad = 1
			}
		}
		exit bad
	}' "$tmp/sys" "$tmp/new" >&2 || fail=1

# coverage: every name uapi.h defines must appear in the dump
awk '
	/^#define [A-Za-z_][A-Za-z0-9_]*[ \t(]/ || /^#define [A-Za-z_][A-Za-z0-9_]*$/ {
		name = $2
		sub(/\(.*/, "", name)
		if (name != "VFMIG_UAPI_H")
			print "K " name
		next
	}
	/^struct [a-z_0-9]+ \{/ { st = $2; print "S " st; next }
	st != "" && /^};/ { st = ""; next }
	st != "" && /^\t[^#]/ {
		f = $NF
		sub(/;.*/, "", f)
		sub(/\[.*/, "", f)
		sub(/^\*/, "", f)
		print "F " st " " f
		next
	}
	/^\t[A-Z_][A-Z0-9_]* = / { print "K " $1 }
' "$uapi_h" | awk -F '\t' -v src="$dump_src" -v hdr="$uapi_h" '
	FNR == NR { dumped[$1] = 1; next }
	{
		split($0, w, " ")
		if (w[1] == "K")
			key = w[2]
		else if (w[1] == "S")
			key = "sizeof(struct " w[2] ")"
		else
			key = "offsetof(struct " w[2] ", " w[3] ")"
		if (!(key in dumped))
			printf "check-abi: %s defines %s but %s does not check it\n", hdr, key, src
	}' "$tmp/sys" - >"$tmp/uncovered"
cat "$tmp/uncovered" >&2
[ -s "$tmp/uncovered" ] && fail=1

if [ "$fail" -ne 0 ]; then
	echo "check-abi: FAILED (compared with linux-source-$kver uapi headers)" >&2
	exit 1
fi
echo "check-abi: $expected items equal to linux-source-$kver uapi"
