#!/bin/bash
# Control-plane tests: REAL Cinder daemons (Debian 12 python3-cinder, OpenStack Zed) run by our agents under REAL
# Pacemaker, single node (test/rig/pacemaker) and multi-node (test/rig/multinode: one network namespace per node),
# against the OpenStack rig's MariaDB, RabbitMQ and Keystone (test/rig/openstack). Needs root. One command:
#   bash test/controlplane/run.sh            (npm run test:controlplane)
#   1. installs the rigs' packages when missing (Pacemaker, OpenStack + Cinder, socat), builds and installs the agents
#   2. starts the OpenStack rig (NCOMPUTE=1; --fresh from its snapshot when there is one) and configures Cinder
#      (test/rig/openstack/cinder.sh setup: database, Keystone user/catalog, the volume share); makes the agents'
#      Keystone user with a random password
#   3. runs test/controlplane/*.bats in name order (each file starts and stops its own Pacemaker cluster)
#   4. stops everything it started; prints the measured times and "N passed, N failed"
# Environment: CP_TESTS (bats files, default all), CP_OUT (default /tmp/oha-controlplane), CP_SKIP_BUILD=1 (use the
# dist/ binary as it is), CP_KEEP_OPENSTACK=1 (reuse a running OpenStack rig and leave it running), OS_RIG_DIR, RIG_DIR.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "the control-plane tests need root" >&2; echo "0 passed, 1 failed"; exit 1; }
export OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
export RIG_DIR=${RIG_DIR:-/tmp/oha-pacemaker-rig}
export CP_OUT=${CP_OUT:-/tmp/oha-controlplane}
export PATH=$PATH:/usr/sbin:/sbin
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "controlplane: $*"; }
T_ALL=$(now)
fail_early() { say "ERROR: $*"; cleanup; echo "0 passed, 1 failed"; exit 1; }

# one Pacemaker cluster per machine: refuse to break somebody else's
# shellcheck source=../rig/lib.sh
. test/rig/lib.sh   # cluster_alive
for _ in $(seq 1 30); do cluster_alive || break; sleep 1; done
if cluster_alive; then
  echo "controlplane: a Pacemaker cluster is already running on this machine (another test run?): not touching it" >&2
  echo "0 passed, 1 failed"; exit 1
fi
[ -e /run/netns/oha-hub ] && { echo "controlplane: the multi-node rig runs (test/rig/multinode/cluster.sh stop)" >&2; echo "0 passed, 1 failed"; exit 1; }
OS_STARTED=0
if bash test/rig/openstack/status.sh >/dev/null 2>&1; then
  if [ "${CP_KEEP_OPENSTACK:-0}" != 1 ]; then
    echo "controlplane: the OpenStack rig is already running: stop it (test/rig/openstack/stop.sh) or set CP_KEEP_OPENSTACK=1" >&2
    echo "0 passed, 1 failed"; exit 1
  fi
fi

rm -rf "$CP_OUT"; mkdir -p "$CP_OUT"; chmod 700 "$CP_OUT"
cleanup() {
  bash test/rig/multinode/cluster.sh stop >"$CP_OUT/multinode-stop.log" 2>&1 || true
  bash test/rig/pacemaker/stop.sh >"$CP_OUT/pacemaker-stop.log" 2>&1 || true
  if [ $OS_STARTED = 1 ] && [ "${CP_KEEP_OPENSTACK:-0}" != 1 ]; then
    bash test/rig/openstack/stop.sh >"$CP_OUT/openstack-stop.log" 2>&1 || say "openstack stop.sh failed, see $CP_OUT/openstack-stop.log"
  fi
}

# ---------------------------------------------------------------------------------------------- install and build
t=$(now)
{ bash test/rig/pacemaker/install.sh && bash test/rig/multinode/install.sh && bash test/rig/openstack/install.sh --with-cinder; } \
  >"$CP_OUT/install.log" 2>&1 || { cat "$CP_OUT/install.log"; echo "0 passed, 1 failed"; exit 1; }
T_INSTALL=$(dt "$t" "$(now)")
say "rig packages installed (${T_INSTALL} s): $(grep -h 'done in\|present' "$CP_OUT/install.log" | tr '\n' ';')"
t=$(now)
if [ "${CP_SKIP_BUILD:-0}" = 1 ]; then build=(true); else build=(npm run build); fi
{ "${build[@]}" && DESTDIR= bash build/install.sh; } >"$CP_OUT/build.log" 2>&1 || { cat "$CP_OUT/build.log"; echo "0 passed, 1 failed"; exit 1; }
say "agents built and installed ($(dt "$t" "$(now)") s)"

# ---------------------------------------------------------------------------------------------- OpenStack + Cinder
trap 'cleanup' EXIT
trap 'exit 130' INT TERM
t=$(now)
if bash test/rig/openstack/status.sh >/dev/null 2>&1; then
  say "reusing the running OpenStack rig (CP_KEEP_OPENSTACK=1)"
else
  OS_STARTED=1
  if [ -d "$OS_RIG_DIR/pristine" ]; then OSMODE=--fresh; else OSMODE=; fi
  NCOMPUTE=1 bash test/rig/openstack/start.sh $OSMODE >"$CP_OUT/openstack-start.log" 2>&1 || \
    { cat "$CP_OUT/openstack-start.log"; fail_early "OpenStack rig did not start"; }
  say "OpenStack rig started (${OSMODE:-first start}, 1 compute): $(dt "$t" "$(now)") s"
fi
T_OS=$(dt "$t" "$(now)")
t=$(now)
bash test/rig/openstack/cinder.sh setup >"$CP_OUT/cinder-setup.log" 2>&1 || { cat "$CP_OUT/cinder-setup.log"; fail_early "cinder setup failed"; }
T_CSETUP=$(dt "$t" "$(now)")
say "Cinder configured (database, Keystone, share): ${T_CSETUP} s"
# the agents' Keystone user: a random password, kept in a root-only file, handed over on stdin
( umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$CP_OUT/agent-password" )
/usr/bin/python3 test/rig/openstack/lib/cinder_rig.py agent-user oha-cp <"$CP_OUT/agent-password" >/dev/null || \
  fail_early "could not create the agents' Keystone user"

# ---------------------------------------------------------------------------------------------- the scenarios
: >"$CP_OUT/timings"
t=$(now)
timeout 1200 node_modules/bats/bin/bats --formatter tap ${CP_TESTS:-test/controlplane/*.bats} 2>&1 | tee "$CP_OUT/bats.tap"
T_BATS=$(dt "$t" "$(now)")
tap_counts controlplane "$CP_OUT/bats.tap"
if [ "$failed" -gt 0 ]; then
  mkdir -p "$CP_OUT/failed-logs"
  cp -r "$OS_RIG_DIR/log/cinder" "$CP_OUT/failed-logs/" 2>/dev/null
  cp "$RIG_DIR"/*.log "$CP_OUT/failed-logs/" 2>/dev/null
  for n in /tmp/oha-multinode/n*; do [ -d "$n" ] && cp -r "$n/var-log-pacemaker" "$CP_OUT/failed-logs/multinode-${n##*/}" 2>/dev/null; done
  say "logs of this failed run kept in $CP_OUT/failed-logs"
fi
t=$(now)
cleanup
trap - EXIT
T_STOP=$(dt "$t" "$(now)")

echo
echo "measured:"
sed 's/^/  /' "$CP_OUT/timings"
echo "  rig packages (install.sh, all three): ${T_INSTALL} s; OpenStack rig start: ${T_OS} s; cinder.sh setup: ${T_CSETUP} s"
echo "  scenarios: ${T_BATS} s; rigs stopped in ${T_STOP} s; whole run: $(dt "$T_ALL" "$(now)") s; details in $CP_OUT"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
