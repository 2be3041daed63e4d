#!/bin/sh
# Checks that dependencies between the folders of user/ run one way: every function or object a
# folder's objects use (nm: undefined symbols) and every header its sources include must belong
# to the folder itself or to one it may use. Usage: check-layers.sh BUILD_DIR
set -eu
build=${1:-build}

# What each folder may use, besides itself. The emulated device sits on guest memory (its DMA
# goes through the emulated IOMMU); the migration driver moves memory and devices; the probes,
# the model and the QMP client stand on their own. A recording is a file of the probes' events;
# the report rebuilds migrations from it and sets the model beside them; the exporter serves the
# probes' figures and the model's verdict. The tools (folders with a main.c) use anything.
may_use() {
	case $1 in
	common) echo "" ;;
	memory) echo "common" ;;
	device) echo "common memory" ;;
	migration) echo "common memory device model" ;;
	probe) echo "common" ;;
	model) echo "common" ;;
	qemu) echo "common" ;;
	live) echo "common probe model" ;;
	record) echo "common probe" ;;
	report) echo "common probe model live record" ;;
	export) echo "common probe model live" ;;
	vfmig-emu | vfmigprof | vfmigtop)
		echo "common memory device model migration probe qemu live record report export"
		;;
	*) echo "?" ;;
	esac
}

allowed() { # FROM TO
	[ "$1" = "$2" ] && return 0
	for f in $(may_use "$1"); do
		[ "$f" = "$2" ] && return 0
	done
	return 1
}

bad=0
defs=$(mktemp)
trap 'rm -f "$defs" "$defs.def" "$defs.use"' EXIT
objs=""
libobjs="" # a tool's own functions are its own: only the library's are looked up
for src in user/*/*.c; do
	objs="$objs $build/${src%.c}.o"
	[ -e "$(dirname "$src")/main.c" ] || libobjs="$libobjs $build/${src%.c}.o"
done
# symbol -> folder for every definition; then each use, "object folder symbol", against it
nm -A --defined-only -g $libobjs | awk '{ n = split($1, p, "/"); print $3, p[n - 1] }' |
	sort -u >"$defs.def"
nm -A --undefined-only -g $objs | awk '{ n = split($1, p, "/"); sub(/:$/, "", p[n]);
	print p[n - 1] "/" p[n], p[n - 1], $3 }' >"$defs.use"
pairs=$(awk 'NR == FNR { def[$1] = $2; next } ($3 in def) && def[$3] != $2 {
	print $1, $2, $3, def[$3] }' "$defs.def" "$defs.use" | sort -u)
for folder in $(ls -d user/*/ | xargs -n1 basename); do
	[ "$(may_use "$folder")" = "?" ] && echo "layers: user/$folder has no entry in $0" && bad=1
done
# shellcheck disable=SC2086
set -- $pairs
while [ $# -ge 4 ]; do
	if ! allowed "$2" "$4"; then
		echo "layers: user/$1 calls $3 of user/$4; user/$2 may use: $(may_use "$2")"
		bad=1
	fi
	shift 4
done

# headers: an inline function or a private struct crosses folders as surely as a call
for src in user/*/*.c user/*/*.h; do
	folder=$(basename "$(dirname "$src")")
	for to in $(sed -n 's/^#include "\([a-z]*\)\/.*/\1/p' "$src" | sort -u); do
		[ "$to" = vfmig ] && continue
		if ! allowed "$folder" "$to"; then
			echo "layers: $src includes a header of user/$to; user/$folder may use:" \
				"$(may_use "$folder")"
			bad=1
		fi
	done
	# a folder's private header (*_priv.h) is for that folder alone
	for hdr in $(sed -n 's/^#include "\([a-z]*\/[a-z_]*_priv\.h\)".*/\1/p' "$src"); do
		if [ "${hdr%%/*}" != "$folder" ]; then
			echo "layers: $src includes $hdr, private to user/${hdr%%/*}"
			bad=1
		fi
	done
done
[ $bad -eq 0 ] && echo "layers: every call and include follows the folders' order"
exit $bad
