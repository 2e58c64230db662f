#!/bin/bash
# fence_virsh against a real OpenSSH server and real libvirt/QEMU (test/rig/virsh), next to Debian's fence_virsh
# (npm run test:virsh; root). Installs what it needs, builds the binary when missing, starts the rig, runs the bats
# suite and stops the rig again. Prints TAP, then "N passed, N failed, N skipped" (skips listed with their reasons;
# a skip not in test/skips-allowed.txt, suite "virsh", fails the run) and the time taken.
#   bash test/virsh/run.sh [BATS_FILE...]
set -uo pipefail
cd "$(dirname "$0")/../.."
T0=$(date +%s)
. test/rig/lib.sh
. test/rig/virsh/env.sh
bash test/rig/virsh/install.sh || exit 1
[ -x dist/openstack-ha-agents ] || npm run -s build || exit 1
bash test/rig/virsh/start.sh || { bash test/rig/virsh/stop.sh; exit 1; }
trap 'bash test/rig/virsh/stop.sh' EXIT
[ $# -gt 0 ] || set -- test/virsh/*.bats
OUT=$(mktemp); trap 'bash test/rig/virsh/stop.sh; rm -f "$OUT"' EXIT
node_modules/bats/bin/bats "$@" | tee "$OUT"
rc=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' "$OUT" | tr -d ' '); failed=$(grep -c '^not ok ' "$OUT"); skipped=0; unexpected=0
while IFS= read -r line; do
  [[ "$line" =~ ^ok\ [0-9]+\ (.*)\ \#\ skip(\ (.*))?$ ]] || continue
  skipped=$((skipped + 1)); passed=$((passed - 1))
  if allowed_skip virsh "${BASH_REMATCH[1]}"; then echo "skipped: ${BASH_REMATCH[1]}: ${BASH_REMATCH[3]}"
  else echo "skipped: ${BASH_REMATCH[1]}: ${BASH_REMATCH[3]}   <- NOT in test/skips-allowed.txt: fails the run"; unexpected=$((unexpected + 1)); fi
done <"$OUT"
echo "$passed passed, $failed failed, $skipped skipped ($(($(date +%s) - T0)) s with the rig's start and stop)"
[ "$rc" -eq 0 ] && [ "$unexpected" -eq 0 ]
