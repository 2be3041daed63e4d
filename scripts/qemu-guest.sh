#!/bin/sh
# The real-QEMU bed's guest: Debian's linux-image-6.12 (cached with make vmtest's)
# and a busybox initramfs whose init runs the static dirtier (tests/qemu/guest_dirtier.c),
# which reads its rate, working set and shape from the kernel command line.
#
#   scripts/qemu-guest.sh BUILD DIRTIER_BINARY
#
# Writes BUILD/qemu-guest/vmlinuz and BUILD/qemu-guest/initramfs.cpio.gz. Needs no
# network beyond Debian's registry (once, for the kernel).
# Exit 0: built. 2: cannot build here (why on one line).
set -eu
build=$1
dirtier=$2
cache=${VMTEST_CACHE:-/var/cache/vfmig-vmtest}
series=6.12
out=$(realpath -m "$build/qemu-guest")

cannot() {
	echo "qemu-guest: cannot build here: $*"
	exit 2
}

. "$(dirname "$0")/kernel-cache.sh"

[ "$(uname -m)" = x86_64 ] || cannot "the guest is an x86_64 kernel (this is $(uname -m))"
scripts/deps.sh "$build/.qemu-guest-deps" qemu-system-x86 busybox-static cpio >/dev/null ||
	cannot "qemu-system-x86, busybox-static or cpio missing and not installable"
command -v qemu-system-x86_64 >/dev/null || cannot "qemu-system-x86_64 missing (package qemu-system-x86)"
[ -x "$dirtier" ] || cannot "$dirtier missing (make $dirtier)"
file -b "$dirtier" 2>/dev/null | grep -q 'statically linked' || ! command -v file >/dev/null ||
	cannot "$dirtier is not statically linked"
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cannot "cache $cache not writable (set VMTEST_CACHE)"
kv=$(pick_kernel)
[ -n "$kv" ] || cannot "no linux-headers-$series.*-amd64 in the package lists (apt-get update?)"
img=$(kernel_image "$kv")
[ -f "$img" ] || cannot "$img missing after unpacking linux-image-$kv-amd64"

mkdir -p "$out"
ir=$out/root
rm -rf "$ir"
mkdir -p "$ir/bin" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/tmp"
cp "$(command -v busybox)" "$ir/bin/busybox"
cp "$dirtier" "$ir/bin/guest_dirtier"
cp tests/qemu/init "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
ln -sf "$img" "$out/vmlinuz"
echo "qemu-guest: $out/vmlinuz ($kv) and $out/initramfs.cpio.gz"
