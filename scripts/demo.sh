#!/bin/sh
# make demo: save a running emulated device on one instance, resume it on another, verify.
set -eu
build=${1:-build}
emu=$build/vfmig-emu
file=$(mktemp /tmp/vfmig-demo.XXXXXX)
trap 'rm -f "$file" "$file.txt"' EXIT

echo "== 1. The migration state machine: one request, the arcs the driver takes"
$emu fsm --features stop-copy,p2p,pre-copy RUNNING STOP_COPY
$emu fsm --features stop-copy,p2p,pre-copy PRE_COPY RESUMING
$emu fsm --features stop-copy,p2p,pre-copy STOP_COPY PRE_COPY || true

echo
echo "== 2. Save a 128 MiB 'bigmem' device while it keeps writing its memory (pre-copy rounds)"
$emu save --variant bigmem --params mem=128m,seed=7 --work 20000 --output "$file" | tee "$file.txt"
digest=$(sed -n 's/.*digest at stop: \([0-9a-f]*\).*/\1/p' "$file.txt")
rm -f "$file.txt"

echo
echo "== 3. Resume it on a fresh instance (another process) and compare the state"
$emu resume --variant bigmem --params mem=128m,seed=7 --input "$file" --expect "$digest"

echo
echo "== 4. A damaged stream is refused and changes nothing"
printf '\377' | dd of="$file" bs=1 seek=100000 conv=notrunc status=none
$emu resume --variant bigmem --params mem=128m,seed=7 --input "$file" || echo "(refused, as it must be)"

echo
echo "== 5. Before cutting over: what will this migration do? (predicted, nothing migrated)"
vm="--mem 256m --rate 5000 --wss 64m --device nic:dirty=type1-pin,rate=20000 --device bigmem:mem=32m,rate=100"
# shellcheck disable=SC2086
$emu predict $vm --bandwidth 200 --downtime 100

echo
echo "== 6. Live migration of that VM: 256 MiB guest RAM written by a vCPU thread, a NIC whose DMA"
echo "   pins guest pages (type1 dirty tracking) and a device with 32 MiB on-board memory"
echo "   (PRE_COPY), from this process to a destination process, 200 MB/s, 100 ms downtime limit"
# shellcheck disable=SC2086
$emu migrate $vm --bandwidth 200 --downtime 100

echo
echo "== 7. The same NIC behind an IOMMU that cannot see its DMA (type1, no pinning): every mapped"
echo "   page reads dirty every round, so pre-copy cannot converge; what would, then the real thing"
blind="--mem 64m --rate 2000 --wss 16m --rounds 5 --device nic:dirty=type1-iommu,rate=20000"
# shellcheck disable=SC2086
$emu tune $blind --bandwidth 60 --downtime 50
# shellcheck disable=SC2086
$emu migrate $blind --bandwidth 60 --downtime 50

echo
echo "== 8. The same kind of migration seen through vfmig's BPF probes (vfmigprof stat)"
if [ "$(id -u)" = 0 ]; then
	echo "   First the VM of step 5 measured live (5 s of its write faults and its devices' own"
	echo "   pre-copy sizes), predicted without migrating it:"
	# shellcheck disable=SC2086
	"$build/vfmigprof" predict --window 5 --bandwidth 200 --downtime 100 -- \
		"$emu" run --time 60 --harvest-ms 2000 $vm 2>/dev/null
	"$build/vfmigprof" probes | awk 'NR == 1 || /off/' | head -8
	echo "   (the rest attached; 'vfmigprof probes' lists them all)"
	"$build/vfmigprof" stat -- "$emu" migrate --mem 64m --rate 5000 --wss 16m --bandwidth 200 \
		--downtime 50 --device nic:dirty=type1-pin,rate=20000 --device bigmem:mem=8m,rate=100 \
		--device nic:dirty=iommufd,rate=5000
	echo
	echo "== 9. Record a migration, then report it: the timeline rebuilt from the probes' events"
	rec=$(mktemp /tmp/vfmig-demo-XXXXXX.vfrec)
	"$build/vfmigprof" record -o "$rec" -- "$emu" migrate --mem 64m --rate 5000 --wss 16m \
		--bandwidth 100 --downtime 50 >/dev/null
	"$build/vfmigprof" report "$rec" | head -40
	echo "   (also: --json, --header, --perfetto OUT, --html OUT, --diff FILE2)"
	rm -f "$rec"
	echo
	echo "== 10. vfmigtop, the live view, in batch mode over emulated VMs (one migrating)"
	"$build/vfmigtop" -b -n 3 -i 1500 --emulate=2
else
	echo "   skipped: loading BPF programs needs root (CAP_BPF and CAP_PERFMON)"
fi
