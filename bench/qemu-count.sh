#!/bin/bash
# Executed guest instructions of one command under qemu-user, for native-cost figures on a 32-bit
# core (docs/PERFORMANCE.md, "DENSE layout 2 on a 32-bit core"). qemu's `-d exec,nochain,in_asm`
# logs every executed translation block as one `Trace` line (nochain: no block is skipped) and
# each block's instructions once; the count is the sum over Trace lines of their block's size.
#
# usage: bench/qemu-count.sh LOG QEMU [QEMU-OPTIONS...] -- PROGRAM [ARGS...]
#   e.g. bench/qemu-count.sh out.txt qemu-arm -L /usr/arm-linux-gnueabihf -- \
#          ./kw_measure_wasm3 build/runtime.wasm ad.blob --weights ram --input in1.npy --expect want1.bin
# prints "<instructions> tbs=<blocks run> miss=<blocks without a size> rc=<exit code>"; the
# program's own output goes to LOG. Per inference: run with 1 and 3 samples, (count3 - count1) / 2.
set -euo pipefail
log=$1
shift
qemu=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  qemu+=("$1")
  shift
done
[ $# -gt 0 ] || { echo "usage: bench/qemu-count.sh LOG QEMU [QEMU-OPTIONS...] -- PROGRAM [ARGS...]" >&2; exit 2; }
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/trace"
awk '
function norm(h) { sub(/^0+/, "", h); return h }
/^IN:/ { inblk = 1; first = ""; n = 0; next }
inblk && /^0x[0-9a-f]+:/ { if (first == "") first = norm(substr($1, 3, length($1) - 3)); n++; next }
inblk && /^$/ { if (first != "") sz[first] = n; inblk = 0; next }
/^Trace/ { s = $4; sub(/^\[/, "", s); split(s, p, "/"); c = sz[norm(p[2])]; if (c == "") miss++; tot += c; tbs++; next }
END { printf "%d tbs=%d miss=%d", tot, tbs, miss + 0 }
' < "$dir/trace" > "$dir/count" &
counter=$!
rc=0
"${qemu[@]}" -d exec,nochain,in_asm -D "$dir/trace" "$@" > "$log" 2>&1 || rc=$?
wait "$counter"
echo "$(cat "$dir/count") rc=$rc"
