# Shared by the guest-cluster bats files: test/guest/run.sh has started the OpenStack rig with Cinder, made the guest
# cloud (test/rig/guest/guest_rig.py setup: $GUEST_DIR/ids.env), the two-node cluster n1/n2 and the hypervisor
# watcher, and installed our agents in /. Pacemaker commands run inside a node (gx N CMD), as an operator's would.
ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
PY=/usr/bin/python3
# shellcheck source=../rig/guest/env.sh
. "$ROOT/test/rig/guest/env.sh"
export GUEST_OUT=${GUEST_OUT:-/tmp/oha-guest-tests}
export PATH=$PATH:/usr/sbin:/sbin
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# shellcheck disable=SC1091
. "$GUEST_DIR/ids.env"
OPENRC=$GUEST_DIR/openrc
# shellcheck source=../rig/lib.sh
. "$ROOT/test/rig/lib.sh"   # wait_for SECONDS COMMAND..., logged_since
MN="$ROOT/test/rig/multinode/cluster.sh"
mnx() { bash "$MN" exec "$@"; }
gx() { mnx "$@"; }
# shellcheck source=../rig/multinode/crm.bash
. "$ROOT/test/rig/multinode/crm.bash"   # cm_xml, node_is, started_on, running_on (from node $CRM_NODE)
g() { "$PY" "$ROOT/test/rig/guest/guest_rig.py" "$@"; }
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
record() { echo "$*" >>"$GUEST_OUT/timings"; echo "# $*" >&3; }
other() { [ "$1" = n1 ] && echo n2 || echo n1; }
server_of() { local v="SERVER_$1"; echo "${!v}"; }
port_of() { local v="PORT_$1"; echo "${!v}"; }
# the node the group runs on (one line), from node $CRM_NODE's view
group_node() { running_on data-vol; }
# volume VOL: "status server..." (Cinder); attached_only VOL NODE: in-use, attached to NODE's server alone
attached_only() { [ "$(g volume "$1")" = "in-use $(server_of "$2")" ]; }
attached_both() { [ "$(g volume "$1")" = "in-use $(printf '%s\n' "$SERVER_n1" "$SERVER_n2" | sort | tr '\n' ' ' | sed 's/ $//')" ]; }
vip_only_on() { [ "$(g port "$(port_of "$1")")" = "$VIP" ] && [ -z "$(g port "$(port_of "$(other "$1")")")" ]; }
fip_on() { [ "$(g fip "$FIP_ID")" = "$(port_of "$1")" ]; }
# count_actions NODE ACTION SINCE_MS: that many ACTIONs (attach_volume, detach_volume, stop, start) on NODE's server
count_actions() { g actions "$(server_of "$1")" "$3" | grep -c "^$2 " || true; }
failures() { cm_xml | "$PY" -c 'import sys, xml.etree.ElementTree as ET
for f in ET.fromstring(sys.stdin.read()).iter("failure"): print(f.get("op_key"), f.get("node"), f.get("exitreason") or f.get("exitstatus"))'; }
hv_since() { awk -v t="$1" '$1 >= t' "$GUEST_DIR/hypervisor.log"; }
group_started() { started_on fip n1 || started_on fip n2; }
failed_with() { failures | grep -q "^$1_.*$2"; }   # failed_with RESOURCE TEXT: a failed action of RESOURCE says TEXT
no_failures() { [ -z "$(failures)" ]; }
