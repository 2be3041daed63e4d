#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# install-uapi.sh TARBALL KVER OUTDIR CC HEADER...
#
# Extract the given include/uapi headers (asm/ ones from arch/x86/include/uapi)
# from a Debian linux-source tarball
# and run them through the kernel's own scripts/headers_install.sh (which
# needs scripts/unifdef, built here), exactly as "make headers_install"
# would.  Result: OUTDIR/uapi-KVER/<header>, plus the stamp
# OUTDIR/uapi-KVER/.installed (holding the header list) written last.
set -eu

tarball=$1
kver=$2
outdir=$3
cc=$4
shift 4

if [ ! -r "$tarball" ]; then
	echo "check-abi: needs Debian package linux-source-$kver:" \
	     "apt-get install linux-source-$kver"
	exit 1
fi

top=linux-source-$kver
src=$outdir/$top
dst=$outdir/uapi-$kver

rm -rf "$src" "$dst"
mkdir -p "$outdir"

# where a header's uapi source is in the tree: asm/ is the architecture's
uapi_src() {
	case $1 in
	asm/*) echo "arch/x86/include/uapi/$1" ;;
	*) echo "include/uapi/$1" ;;
	esac
}

members="$top/scripts/headers_install.sh $top/scripts/unifdef.c"
for h in "$@"; do
	members="$members $top/$(uapi_src "$h")"
done

echo "check-abi: extracting $# uapi headers from $tarball"
# shellcheck disable=SC2086
tar -xJf "$tarball" -C "$outdir" $members

$cc -O2 -w -o "$src/scripts/unifdef" "$src/scripts/unifdef.c"

abs_dst=$(mkdir -p "$dst" && cd "$dst" && pwd)
for h in "$@"; do
	mkdir -p "$abs_dst/$(dirname "$h")"
	(cd "$src" && sh scripts/headers_install.sh "$(uapi_src "$h")" "$abs_dst/$h")
done

echo "$*" >"$dst/.installed"
