#!/bin/sh
# make demo: save a running emulated device on one instance, resume it on another, verify.
set -eu
build=${1:-build}
emu=$build/vfmig-emu
file=$(mktemp /tmp/vfmig-demo.XXXXXX)
trap 'rm -f "$file"' EXIT

echo "== 1. The migration state machine: one request, the arcs the driver takes"
$emu fsm --features stop-copy,p2p,pre-copy RUNNING STOP_COPY
$emu fsm --features stop-copy,p2p,pre-copy PRE_COPY RESUMING
$emu fsm --features stop-copy,p2p,pre-copy STOP_COPY PRE_COPY || true

echo
echo "== 2. Save a 128 MiB 'bigmem' device while it keeps writing its memory (pre-copy rounds)"
$emu save --model bigmem --params mem=128m,seed=7 --work 20000 --output "$file" --json >"$file.json"
$emu save --model bigmem --params mem=128m,seed=7 --work 20000 --output "$file"
digest=$(sed 's/.*"digest":"\([0-9a-f]*\)".*/\1/' "$file.json")
rm -f "$file.json"

echo
echo "== 3. Resume it on a fresh instance (another process) and compare the state"
$emu resume --model bigmem --params mem=128m,seed=7 --input "$file" --expect "$digest"

echo
echo "== 4. A damaged stream is refused and changes nothing"
printf '\377' | dd of="$file" bs=1 seek=100000 conv=notrunc status=none
$emu resume --model bigmem --params mem=128m,seed=7 --input "$file" || echo "(refused, as it must be)"
