#!/bin/bash
# Instance HA in the deployment the OpenStack HA book describes, on REAL parts: three controllers in a Corosync
# cluster and compute nodes joined as pacemaker_remote nodes (test/rig/multinode, one set of namespaces per node),
# each compute node running a REAL nova-compute (fake virt driver) under ocf:openstack:NovaCompute, against the
# OpenStack rig's control plane (test/rig/openstack: Keystone, Nova API/conductor/scheduler, Placement, Glance,
# Neutron, RabbitMQ, MariaDB on the host). Pacemaker finds a lost compute node and fences it by itself through a
# topology level (the rig's power device, then fence-nova); nothing is triggered with stonith_admin. Needs root.
#   bash test/multinode/run.sh            (npm run test:multinode)
#   1. installs the rigs' packages when missing, builds and installs the agents, makes the nova user
#   2. starts the OpenStack rig with no compute of its own (NCOMPUTE=0), then the cluster: MN_NODES=3 controllers
#      n1..n3 and MN_COMPUTES=3 compute nodes compute1..3
#   3. runs test/multinode/*.bats in name order (they build on each other)
#   4. stops everything it started; prints the timelines and "N passed, N failed, N skipped"
# Environment: MN_TESTS (bats files, default all), MN_OUT (default /tmp/oha-multinode-tests), MN_SKIP_BUILD=1.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "the multi-node tests need root" >&2; echo "0 passed, 1 failed"; exit 1; }
export OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
export MN_OUT=${MN_OUT:-/tmp/oha-multinode-tests}
export MN_DIR=${MN_DIR:-/tmp/oha-multinode}
export PATH=$PATH:/usr/sbin:/sbin
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "multinode: $*"; }
T_ALL=$(now)
# shellcheck source=../rig/lib.sh
. test/rig/lib.sh
for _ in $(seq 1 30); do cluster_alive || break; sleep 1; done
cluster_alive && { echo "multinode: a Pacemaker cluster already runs on this machine: not touching it" >&2; echo "0 passed, 1 failed"; exit 1; }
[ -e /run/netns/oha-hub ] && { echo "multinode: the multi-node rig runs (test/rig/multinode/cluster.sh stop)" >&2; echo "0 passed, 1 failed"; exit 1; }
bash test/rig/openstack/status.sh >/dev/null 2>&1 && { echo "multinode: the OpenStack rig is already running (test/rig/openstack/stop.sh)" >&2; echo "0 passed, 1 failed"; exit 1; }

rm -rf "$MN_OUT"; mkdir -p "$MN_OUT"; chmod 700 "$MN_OUT"
OS_STARTED=0
cleanup() {
  bash test/rig/multinode/cluster.sh stop >"$MN_OUT/multinode-stop.log" 2>&1 || true
  [ $OS_STARTED = 1 ] && { bash test/rig/openstack/stop.sh >"$MN_OUT/openstack-stop.log" 2>&1 || say "openstack stop.sh failed"; }
}
fail_early() { say "ERROR: $*"; cleanup; echo "0 passed, 1 failed"; exit 1; }

t=$(now)
{ bash test/rig/pacemaker/install.sh && bash test/rig/multinode/install.sh && bash test/rig/openstack/install.sh; } \
  >"$MN_OUT/install.log" 2>&1 || { cat "$MN_OUT/install.log"; echo "0 passed, 1 failed"; exit 1; }
T_INSTALL=$(dt "$t" "$(now)")
system_user nova   # as nova-common's postinst makes it: NovaCompute runs nova-compute as nova
t=$(now)
if [ "${MN_SKIP_BUILD:-0}" = 1 ]; then build=(true); else build=(npm run build); fi
{ "${build[@]}" && DESTDIR= bash build/install.sh; } >"$MN_OUT/build.log" 2>&1 || { cat "$MN_OUT/build.log"; echo "0 passed, 1 failed"; exit 1; }
say "packages (${T_INSTALL} s) and agents ($(dt "$t" "$(now)") s) installed"

trap 'cleanup' EXIT
trap 'exit 130' INT TERM
t=$(now)
OS_STARTED=1
if [ -d "$OS_RIG_DIR/pristine" ]; then OSMODE=--fresh; else OSMODE=; fi
NCOMPUTE=0 bash test/rig/openstack/start.sh $OSMODE >"$MN_OUT/openstack-start.log" 2>&1 || \
  { cat "$MN_OUT/openstack-start.log"; fail_early "OpenStack rig did not start"; }
T_OS=$(dt "$t" "$(now)")
say "OpenStack rig started without computes: ${T_OS} s"
t=$(now)
MN_NODES=3 MN_COMPUTES=3 bash test/rig/multinode/cluster.sh start >"$MN_OUT/cluster-start.log" 2>&1 || \
  { cat "$MN_OUT/cluster-start.log"; fail_early "the cluster did not start"; }
T_MN=$(dt "$t" "$(now)")
say "3 controllers online, pacemaker-remoted on 3 compute nodes: ${T_MN} s"

: >"$MN_OUT/timings"
t=$(now)
timeout 2400 node_modules/bats/bin/bats --formatter tap ${MN_TESTS:-test/multinode/*.bats} 2>&1 | tee "$MN_OUT/bats.tap"
T_BATS=$(dt "$t" "$(now)")
tap_counts multinode "$MN_OUT/bats.tap"
# peak memory of the whole machine during the run (the rigs are most of it), sampled by the bats files
[ -f "$MN_OUT/mem-peak" ] && echo "peak memory in use during the scenarios: $(cat "$MN_OUT/mem-peak") MiB" >>"$MN_OUT/timings"
if [ "$failed" -gt 0 ]; then
  mkdir -p "$MN_OUT/failed-logs"
  for n in "$MN_DIR"/n* "$MN_DIR"/c*; do
    [ -d "$n" ] && cp -r "$n/var-log-pacemaker" "$MN_OUT/failed-logs/${n##*/}" 2>/dev/null
    [ -f "$n/nova-compute.log" ] && cp "$n/nova-compute.log" "$MN_OUT/failed-logs/${n##*/}-nova-compute.log"
  done
  for n in "$MN_OUT"/failed-logs/*/; do
    echo "---- ${n}pacemaker.log (last 40 lines)"; tail -n 40 "${n}pacemaker.log" 2>/dev/null
    echo "---- ${n}ra.log (last 40 lines)"; tail -n 40 "${n}ra.log" 2>/dev/null
  done
  say "logs of this failed run kept in $MN_OUT/failed-logs"
fi
t=$(now)
cleanup
trap - EXIT
echo
echo "measured:"
sed 's/^/  /' "$MN_OUT/timings"
echo "  packages: ${T_INSTALL} s; OpenStack rig start: ${T_OS} s; cluster start (3 controllers + 3 remote computes): ${T_MN} s"
echo "  scenarios: ${T_BATS} s; rigs stopped in $(dt "$t" "$(now)") s; whole run: $(dt "$T_ALL" "$(now)") s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
