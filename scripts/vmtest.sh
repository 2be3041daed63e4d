#!/bin/sh
# make vmtest: boots Debian's linux-image-6.12 under QEMU with VFIO, mdev and
# the kernel's samples/vfio-mdev/mtty.c (built here against that kernel's
# headers) and runs vfmig's guest tests there: the real migration uAPI, the
# differential check against the emulated device, and vfmig's probes on
# fentry/kprobes and the syscall decoders with real answers.
#
#   scripts/vmtest.sh BUILD GUEST_BINARY...
#
# Downloads and builds are cached in $VMTEST_CACHE (/var/cache/vfmig-vmtest)
# per kernel version; the initramfs is rebuilt from BUILD every run.
# Exit 0: every guest test passed. 1: a test failed. 2: cannot run here (why on
# one line); 0 then too with VMTEST_OPTIONAL=1 (make test).
set -eu
build=$1
shift
cache=${VMTEST_CACHE:-/var/cache/vfmig-vmtest}
series=6.12
out=$(realpath -m "$build/vmtest")
log=$out/console.log

cannot() {
	if [ "${VMTEST_OPTIONAL:-}" = 1 ]; then
		echo "vmtest: cannot run here: $*; the real-kernel tests did not run"
		exit 0
	fi
	echo "vmtest: cannot run here: $*"
	exit 2
}

say() { echo "vmtest: $*"; }

. "$(dirname "$0")/kernel-cache.sh"

# Kernel, modules, headers and kbuild unpacked (not installed: the headers
# package would pull in the kernel image as the host's).
prepare_kernel() {
	kv=$1 k=$cache/$kv
	[ -f "$k/ready" ] && return
	say "fetching Debian kernel $kv (once)"
	rm -rf "$k"
	download "$k/debs" "linux-image-$kv-amd64" "linux-headers-$kv-amd64" \
		"linux-headers-$kv-common" "linux-kbuild-$kv"
	for d in "$k"/debs/*.deb; do
		dpkg-deb -x "$d" "$k/root"
	done
	hdr=$k/root/usr/src/linux-headers-$kv-amd64
	sed -i "s|^include /usr/src/|include $k/root/usr/src/|" "$hdr/Makefile"
	build_mtty "$kv"
	touch "$k/ready"
	echo "$kv" >"$cache/current"
}

build_mtty() {
	kv=$1 k=$cache/$1
	src=/usr/src/linux-source-$series.tar.xz
	[ -f "$src" ] || cannot "$src missing (package linux-source-$series)"
	mkdir -p "$k/mtty"
	tar -xJf "$src" -O "linux-source-$series/samples/vfio-mdev/mtty.c" >"$k/mtty/mtty.c"
	echo 'obj-m := mtty.o' >"$k/mtty/Kbuild"
	make -s -C "$k/root/usr/src/linux-headers-$kv-amd64" M="$k/mtty" modules >"$k/mtty/build.log" 2>&1 ||
		{ tail -n 20 "$k/mtty/build.log"; cannot "mtty.c did not build against $kv headers"; }
	say "built samples/vfio-mdev/mtty.c for $kv (with BTF)"
}

# vfmig's own test device (tests/vmtest/kmod): rebuilt each run, it is ours.
build_dmadev() {
	kv=$1 k=$cache/$1
	rm -rf "$out/kmod"
	cp -r tests/vmtest/kmod "$out/kmod"
	make -s -C "$k/root/usr/src/linux-headers-$kv-amd64" M="$out/kmod" modules \
		>"$out/kmod/build.log" 2>&1 ||
		{ cat "$out/kmod/build.log"; say "tests/vmtest/kmod did not build"; exit 1; }
}

# Each binary with the shared libraries it loads, the loader included.
copy_with_libs() {
	dest=$1
	shift
	for bin in "$@"; do
		cp "$bin" "$dest/vmtest/"
		ldd "$bin" | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r lib; do
			case $lib in
			*/ld-linux*) mkdir -p "$dest/$(dirname "$lib")" && cp -L "$lib" "$dest/$lib" ;;
			*) cp -L "$lib" "$dest/lib/vmtest/" ;;
			esac
		done
	done
}

make_initramfs() {
	kv=$1 k=$cache/$1 ir=$out/root
	shift
	rm -rf "$ir"
	mkdir -p "$ir/bin" "$ir/lib/modules" "$ir/lib/vmtest" "$ir/vmtest/tests" "$ir/proc" \
		"$ir/sys" "$ir/dev" "$ir/tmp" "$ir/lib64"
	cp /bin/busybox "$ir/bin/"
	mods=$k/root/lib/modules/$kv-amd64/kernel/drivers/vfio
	for m in vfio.ko vfio_iommu_type1.ko mdev/mdev.ko pci/vfio-pci-core.ko pci/vfio-pci.ko \
		../../virt/lib/irqbypass.ko; do
		xz -dc "$mods/$m.xz" >"$ir/lib/modules/$(basename "$m")"
	done
	cp "$k/mtty/mtty.ko" "$out/kmod/vfmig_dmadev.ko" "$ir/lib/modules/"
	copy_with_libs "$ir" "$@"
	cp tests/run.sh "$ir/vmtest/"
	cp tests/expected-skips "$ir/vmtest/tests/"
	cp tests/vmtest/init "$ir/init"
	(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.cpio.gz"
}

boot() {
	kv=$1
	accel=tcg
	[ -w /dev/kvm ] && accel=kvm
	say "booting $kv under qemu-system-x86_64 ($accel)"
	# q35 with a VT-d IOMMU and QEMU's edu PCI device: vfio-pci with a real IOMMU domain
	# one vCPU: multi-threaded TCG has been seen to trip on the kernel's own code
	# patching at boot (int3 in sched_clock_cpu)
	timeout "${VMTEST_TIMEOUT:-900}" qemu-system-x86_64 -accel $accel -cpu max -smp 1 -m 2G \
		-machine q35 -device intel-iommu,intremap=off -device edu -nic none \
		-nographic -no-reboot -kernel "$cache/$kv/root/boot/vmlinuz-$kv-amd64" \
		-initrd "$out/initramfs.cpio.gz" \
		-append "console=ttyS0 quiet loglevel=4 panic=-1 intel_iommu=on" </dev/null >"$log" 2>&1 ||
		say "qemu ended with status $? (timeout ${VMTEST_TIMEOUT:-900} s?)"
}

[ "$(uname -m)" = x86_64 ] || cannot "the test bed boots an x86_64 kernel (this is $(uname -m))"
scripts/deps.sh "$build/.vmtest-deps" qemu-system-x86 pahole busybox-static cpio xz-utils ||
	cannot "qemu-system-x86, pahole, busybox-static, cpio or xz-utils missing, not installable (above)"
command -v qemu-system-x86_64 >/dev/null || cannot "qemu-system-x86_64 missing (package qemu-system-x86)"
command -v busybox >/dev/null || cannot "busybox missing (package busybox-static)"
command -v pahole >/dev/null || cannot "pahole missing (package pahole): mtty.ko needs it for BTF"
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cannot "cache $cache not writable (set VMTEST_CACHE)"
kv=$(pick_kernel)
[ -n "$kv" ] || cannot "no linux-headers-$series.*-amd64 in the package lists (apt-get update?)"
prepare_kernel "$kv"
mkdir -p "$out"
start=$(date +%s)
build_dmadev "$kv"
make_initramfs "$kv" "$@"
# A guest that never reached its init (a boot-time panic under emulation) is booted once more.
for try in 1 2; do
	boot "$kv"
	tr -d '\r' <"$log" | sed -n '/VMTEST-BEGIN/,/VMTEST-END/p' |
		sed 's/^.*VMTEST-BEGIN/VMTEST-BEGIN/' >"$out/results.txt"
	grep -q '^VMTEST-BEGIN' "$out/results.txt" && break
	cp "$log" "$out/console-boot$try.log"
	say "the guest did not reach its init (console: $out/console-boot$try.log)"
done
grep -v '^VMTEST-' "$out/results.txt" || true
sed -n 's/^VMTEST-TABLE //p' "$out/results.txt" >"$out/probes-table.txt"
echo "vmtest: vfmigprof probes there: $(awk 'NR > 1 && $4 == "attached" {print $3}' \
	"$out/probes-table.txt" | sort | uniq -c | awk '{printf "%s%s %s", s, $1, $2; s=", "}') attached; table in $out/probes-table.txt"
grep '^VMTEST-SETUP' "$out/results.txt" || true
echo "vmtest: covered on the real kernel:"
sed -n 's/^VMTEST-COVERED /  /p' "$out/results.txt"
rc=$(sed -n 's/^VMTEST-END rc=\([0-9]*\).*/\1/p' "$out/results.txt")
say "guest ran $(sed -n 's/^VMTEST-BEGIN kernel //p' "$out/results.txt") in $(($(date +%s) - start)) s; console: $log"
[ -n "$rc" ] || { tail -n 30 "$log"; say "the guest did not finish"; exit 1; }
exit "$rc"
