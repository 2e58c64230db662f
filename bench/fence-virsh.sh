#!/bin/bash
# fence_virsh, ours vs Debian's (fence-agents), on the virsh rig (test/rig/virsh; started and stopped here unless it
# already runs): status and list of a running domain, each under `env -i`, alternating rounds, median wall time and
# the ratio ours / reference (below 1 is better). Needs root (the rig), npm run build.
#   bash bench/fence-virsh.sh [ROUNDS]     (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-15}
. test/rig/lib.sh
. test/rig/virsh/env.sh
BIN=$PWD/dist/openstack-ha-agents
[ -x "$BIN" ] || { echo "bench: run npm run build first" >&2; exit 1; }
REF=/usr/sbin/fence_virsh; [ -x "$REF.distrib" ] && REF=$REF.distrib
started=
if [ ! -f "$VIRSH_RIG_DIR/pids" ]; then bash test/rig/virsh/start.sh >/dev/null; started=1; fi
[ -z "$started" ] || trap 'bash test/rig/virsh/stop.sh >/dev/null' EXIT
. "$VIRSH_RIG_DIR/env"
W=$(mktemp -d); trap '[ -z "$started" ] || bash test/rig/virsh/stop.sh >/dev/null; rm -rf "$W"' EXIT
ln "$BIN" "$W/fence_virsh" 2>/dev/null || cp "$BIN" "$W/fence_virsh"
PROMPT="-t '/bin/bash -c \"PS1=\\\\[EXPECT\\\\]# /bin/bash --noprofile --norc\"'"
common=(-a 127.0.0.1 -u "$SSH_PORT" -l "$RIG_USER" -p "$RIG_PASSWORD")
ours() { env -i "$W/fence_virsh" "${common[@]}" --known-hosts "$KNOWN_HOSTS" "$@"; }
ref() { env -i "$REF" "${common[@]}" --ssh-options="-o UserKnownHostsFile=$KNOWN_HOSTS $PROMPT" "$@"; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# one warm-up each, and a check that both answer
ours -o status -n oha-vm1 >/dev/null || { echo "bench: our fence_virsh fails on the rig" >&2; exit 1; }
ref -o status -n oha-vm1 >/dev/null || { echo "bench: Debian's fence_virsh fails on the rig" >&2; exit 1; }
printf '%-28s %10s %10s %7s\n' "median of $ROUNDS (env -i)" ours reference ratio
for op in status list; do
  args=(-o "$op"); [ "$op" = status ] && args+=(-n oha-vm1)
  : >"$W/o"; : >"$W/r"
  for _ in $(seq "$ROUNDS"); do ms ours "${args[@]}" >>"$W/o"; ms ref "${args[@]}" >>"$W/r"; done
  o=$(median <"$W/o"); r=$(median <"$W/r")
  printf '%-28s %8s ms %8s ms %6.2f×\n' "fence_virsh -o $op" "$o" "$r" "$(echo "$o / $r" | bc -l)"
done
