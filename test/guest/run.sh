#!/bin/bash
# A Pacemaker cluster INSIDE OpenStack, on REAL parts: two network-namespace Pacemaker nodes (test/rig/multinode,
# n1 and n2) each playing one Nova server of the OpenStack rig (test/rig/openstack: real Nova with the fake driver,
# real Neutron with ports, a router and a floating IP, real Cinder on its NFS driver with a multiattach volume type).
# The nodes are fenced through Nova by fence_openstack; the rig's hypervisor watcher (test/rig/guest/guest_rig.py
# hypervisor) makes Nova's word real: a server Nova reports SHUTOFF has its node killed, one back ACTIVE boots again,
# and an attached volume appears in the node's /run/disk/by-id. Our guest agents (openstack-info,
# openstack-cinder-volume, openstack-virtual-ip, openstack-floating-ip) run under Pacemaker there. Needs root.
#   bash test/guest/run.sh            (npm run test:guest)
#   1. installs the rigs' packages when missing (Cinder too), builds and installs the agents
#   2. starts the OpenStack rig with one compute host (it runs the two servers) and Cinder, makes the guest cloud
#      (servers, ports, router, floating IP, volumes), then the two-node cluster and the hypervisor watcher
#   3. runs test/guest/*.bats in name order (they build on each other)
#   4. stops everything it started; prints the timelines and "N passed, N failed, N skipped"
# Environment: GUEST_TESTS (bats files, default all), GUEST_OUT (default /tmp/oha-guest-tests), GUEST_SKIP_BUILD=1.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "the guest-cluster tests need root" >&2; echo "0 passed, 1 failed"; exit 1; }
# shellcheck source=../rig/guest/env.sh
. test/rig/guest/env.sh
export GUEST_OUT=${GUEST_OUT:-/tmp/oha-guest-tests}
export PATH=$PATH:/usr/sbin:/sbin
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "guest: $*"; }
T_ALL=$(now)
# shellcheck source=../rig/lib.sh
. test/rig/lib.sh
refuse() { echo "guest: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
for _ in $(seq 1 30); do cluster_alive || break; sleep 1; done
cluster_alive && refuse "a Pacemaker cluster already runs on this machine: not touching it"
[ -e /run/netns/oha-hub ] && refuse "a multi-node rig runs (test/rig/multinode/cluster.sh stop)"
bash test/rig/openstack/status.sh >/dev/null 2>&1 && refuse "the OpenStack rig is already running (test/rig/openstack/stop.sh)"

rm -rf "$GUEST_OUT" "$GUEST_DIR"; mkdir -p "$GUEST_OUT" "$GUEST_DIR"; chmod 700 "$GUEST_OUT" "$GUEST_DIR"
OS_STARTED=0 HV_PID=
cleanup() {
  [ -n "$HV_PID" ] && { kill "$HV_PID" 2>/dev/null; wait "$HV_PID" 2>/dev/null; }
  bash test/rig/multinode/cluster.sh stop >"$GUEST_OUT/cluster-stop.log" 2>&1 || true
  [ $OS_STARTED = 1 ] && { bash test/rig/openstack/stop.sh >"$GUEST_OUT/openstack-stop.log" 2>&1 || say "openstack stop.sh failed"; }
  rm -rf "$GUEST_DIR"   # the openrc (the rig's admin password) and the config drives
}
fail_early() { say "ERROR: $*"; cleanup; echo "0 passed, 1 failed"; exit 1; }

t=$(now)
{ bash test/rig/pacemaker/install.sh && bash test/rig/multinode/install.sh && bash test/rig/openstack/install.sh --with-cinder; } \
  >"$GUEST_OUT/install.log" 2>&1 || { cat "$GUEST_OUT/install.log"; echo "0 passed, 1 failed"; exit 1; }
T_INSTALL=$(dt "$t" "$(now)")
t=$(now)
if [ "${GUEST_SKIP_BUILD:-0}" = 1 ]; then build=(true); else build=(npm run build); fi
{ "${build[@]}" && DESTDIR= bash build/install.sh; } >"$GUEST_OUT/build.log" 2>&1 || { cat "$GUEST_OUT/build.log"; echo "0 passed, 1 failed"; exit 1; }
say "packages (${T_INSTALL} s) and agents ($(dt "$t" "$(now)") s) installed"

trap 'cleanup' EXIT
trap 'exit 130' INT TERM
t=$(now)
OS_STARTED=1
if [ -d "$OS_RIG_DIR/pristine" ]; then OSMODE=--fresh; else OSMODE=; fi
{ NCOMPUTE=1 bash test/rig/openstack/start.sh $OSMODE && bash test/rig/openstack/cinder.sh start api scheduler volume; } \
  >"$GUEST_OUT/openstack-start.log" 2>&1 || { tail -n 40 "$GUEST_OUT/openstack-start.log"; fail_early "OpenStack rig did not start"; }
T_OS=$(dt "$t" "$(now)")
t=$(now)
/usr/bin/python3 test/rig/guest/guest_rig.py setup "$GUEST_DIR" >"$GUEST_OUT/cloud-setup.log" 2>&1 || \
  { cat "$GUEST_OUT/cloud-setup.log"; fail_early "the guest cloud could not be made"; }
T_CLOUD=$(dt "$t" "$(now)")
say "OpenStack rig with Cinder started: ${T_OS} s; guest servers, ports, router, floating IP and volumes: ${T_CLOUD} s"
t=$(now)
bash test/rig/multinode/cluster.sh start >"$GUEST_OUT/cluster-start.log" 2>&1 || \
  { cat "$GUEST_OUT/cluster-start.log"; fail_early "the guest cluster did not start"; }
setsid /usr/bin/python3 test/rig/guest/guest_rig.py hypervisor "$GUEST_DIR" </dev/null >"$GUEST_OUT/hypervisor.out" 2>&1 &
HV_PID=$!
T_CL=$(dt "$t" "$(now)")
say "2 guest nodes online, hypervisor watcher running: ${T_CL} s"

: >"$GUEST_OUT/timings"
t=$(now)
timeout 1500 node_modules/bats/bin/bats --formatter tap ${GUEST_TESTS:-test/guest/*.bats} 2>&1 | tee "$GUEST_OUT/bats.tap"
T_BATS=$(dt "$t" "$(now)")
tap_counts guest "$GUEST_OUT/bats.tap"
if [ "$failed" -gt 0 ]; then
  mkdir -p "$GUEST_OUT/failed-logs"
  for n in "$MN_DIR"/n*; do [ -d "$n" ] && cp -r "$n/var-log-pacemaker" "$GUEST_OUT/failed-logs/${n##*/}" 2>/dev/null; done
  cp "$GUEST_DIR/hypervisor.log" "$GUEST_OUT/failed-logs/" 2>/dev/null
  for n in "$GUEST_OUT"/failed-logs/*/; do
    echo "---- ${n}pacemaker.log (last 40 lines)"; grep -avE '(info|debug|trace):' "${n}pacemaker.log" 2>/dev/null | tail -n 40
    echo "---- ${n}ra.log (last 40 lines)"; tail -n 40 "${n}ra.log" 2>/dev/null
  done
  echo "---- hypervisor.log"; cat "$GUEST_OUT/failed-logs/hypervisor.log" 2>/dev/null
  say "logs of this failed run kept in $GUEST_OUT/failed-logs"
fi
t=$(now)
cleanup
trap - EXIT
echo
echo "measured:"
sed 's/^/  /' "$GUEST_OUT/timings"
echo "  packages: ${T_INSTALL} s; OpenStack rig + Cinder start: ${T_OS} s; guest cloud: ${T_CLOUD} s; cluster start: ${T_CL} s"
echo "  tests: ${T_BATS} s; rigs stopped in $(dt "$t" "$(now)") s; whole run: $(dt "$T_ALL" "$(now)") s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
