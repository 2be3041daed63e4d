# Debian's linux-image-6.12 from the registry, cached per version in $cache
# (/var/cache/vfmig-vmtest): sourced by scripts/vmtest.sh and scripts/qemu-guest.sh.
# The sourcing script sets cache and series and defines cannot (one line why; exits).

# The newest Debian 6.12 kernel with image, headers and kbuild in the registry.
pick_kernel() {
	if [ -n "${VMTEST_KERNEL:-}" ]; then
		echo "$VMTEST_KERNEL"
		return
	fi
	if [ -s "$cache/current" ] && [ -f "$cache/$(cat "$cache/current")/ready" ]; then
		cat "$cache/current"
		return
	fi
	apt-cache search --names-only "^linux-headers-$series\.[0-9]+\+deb[0-9]+-amd64\$" |
		sed -n "s/^linux-headers-\($series\.[0-9]*+deb[0-9]*\)-amd64 .*/\1/p" | sort -V |
		tail -n 1
}

download() {
	dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && apt-get download "$@" >/dev/null 2>&1) && return
	apt-get update -qq >/dev/null 2>&1 || true
	(cd "$dir" && apt-get download "$@" >/dev/null 2>&1) ||
		cannot "apt-get download $* failed (Debian registry unreachable?)"
}

# The kernel image alone, unpacked where scripts/vmtest.sh unpacks it; prints its path.
kernel_image() {
	kv=$1 k=$cache/$1
	img=$k/root/boot/vmlinuz-$kv-amd64
	if [ ! -f "$img" ]; then
		download "$k/image-deb" "linux-image-$kv-amd64"
		dpkg-deb -x "$k"/image-deb/linux-image-*.deb "$k/root"
	fi
	echo "$img"
}
