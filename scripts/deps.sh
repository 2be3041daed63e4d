#!/bin/sh
# Installs the Debian packages the build needs, or names the one command that would.
# Usage: scripts/deps.sh STAMP [EXTRA-PACKAGE...]   (writes STAMP when everything is present)
set -u
stamp=${1:-build/.deps}
[ $# -gt 0 ] && shift
pkgs="$* gcc make pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libcmocka-dev \
systemtap-sdt-dev libxxhash-dev libjson-c-dev libncurses-dev libmicrohttpd-dev libzstd-dev cppcheck clang-format linux-source-6.12"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "vfmig: missing Debian packages:$missing" >&2
		echo "vfmig: run as root: apt-get update && apt-get install -y$missing" >&2
		exit 1
	fi
	echo "vfmig: installing Debian packages:$missing"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q $missing >/tmp/vfmig-apt.log 2>&1; then
		# A fresh machine has empty package lists: one update, then try again.
		apt-get update -q >>/tmp/vfmig-apt.log 2>&1
		if ! apt-get install -y -q $missing >>/tmp/vfmig-apt.log 2>&1; then
			echo "vfmig: apt-get install failed, see /tmp/vfmig-apt.log:" >&2
			tail -n 5 /tmp/vfmig-apt.log >&2
			exit 1
		fi
	fi
fi
mkdir -p "$(dirname "$stamp")" && touch "$stamp"
