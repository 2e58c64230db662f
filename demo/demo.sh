#!/bin/bash
# npm run demo: a compute-node failure, fenced and evacuated by our agents under a real Pacemaker, on this machine.
#
# It installs what it needs (npm packages, Pacemaker with apt-get, our agents into /), starts a single-node
# Pacemaker cluster and an embedded OpenStack (the project's in-process simulator of Keystone, Nova and Glance, on
# 127.0.0.1), configures instance HA with the pcs commands an operator types, fails compute2, and prints the
# evacuation as a live timeline. Then it unfences compute2 and cleans up (cluster and cloud stopped; agents stay
# installed). Needs root. Takes about a minute.
#   npm run demo -- --real-openstack    the same on a real OpenStack (installed and started by test/rig/openstack;
#                                       a few minutes, plus about 90 s of apt-get the first time)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
[ "$(id -u)" = 0 ] || { echo "demo: needs root (it installs Pacemaker and starts a cluster)" >&2; exit 1; }
if [ "${1:-}" = --real-openstack ]; then
  # the real thing: Keystone, Nova (3 fake-driver computes), Glance, Neutron, RabbitMQ, MariaDB from Debian's
  # packages (test/rig/openstack), and scenario A of the end-to-end test, which prints its timeline at the end
  [ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null
  E2E_TESTS=test/e2e/a-nova-evacuate.bats exec bash test/e2e/run.sh
fi

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { # show the command, run it, show its output only when it fails
  printf '   $ %s\n' "$*"
  local out
  out=$("$@" 2>&1) || { echo "$out" >&2; return 1; }
}
export RIG_DIR=/tmp/oha-demo-rig
DEMO=$(mktemp -d /tmp/oha-demo.XXXXXX)
cleanup() {
  say "cleaning up"
  bash test/rig/pacemaker/stop.sh >/dev/null 2>&1 || true
  [ -f "$DEMO/fake.pid" ] && kill "$(cat "$DEMO/fake.pid")" 2>/dev/null || true
  echo "   cluster and cloud stopped; logs in $RIG_DIR (agents' log: $RIG_DIR/ra.log)"
}
trap cleanup EXIT

say "setting up (npm packages, build, Pacemaker packages, agents installed into /)"
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null
npm run -s build >/dev/null
bash test/rig/pacemaker/install.sh >/dev/null
DESTDIR= bash build/install.sh >/dev/null
echo "   $(openstack-ha-agents --version 2>/dev/null || /usr/lib/openstack-ha-agents/openstack-ha-agents --version)"

say "starting an embedded cloud: Keystone, Nova with compute1..3, Glance (simulator on 127.0.0.1)"
node_modules/.bin/esbuild test/fake/serve.ts --bundle --platform=node --format=cjs --log-level=warning --outfile="$DEMO/serve.cjs"
node "$DEMO/serve.cjs" --port 0 --hosts 3 --port-file "$DEMO/port" --evacuate-delay 1500 >"$DEMO/fake.out" 2>"$DEMO/fake.err" &
echo $! >"$DEMO/fake.pid"
for _ in $(seq 1 100); do [ -s "$DEMO/port" ] && break; sleep 0.05; done
FAKE="http://127.0.0.1:$(cat "$DEMO/port")"
AUTH_URL="$FAKE/identity/v3"
post() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$2" "$FAKE/_fake/$1" >/dev/null; }
post servers '{"host":"compute2","count":6,"flavor":"m1.evacuable","name":"web"}'
post servers '{"host":"compute2","count":2,"image":"cirros-evacuable-tag","name":"db"}'
post servers '{"host":"compute2","count":1,"flavor":"m1.evacuable","status":"SHUTOFF","name":"batch-off"}'
post servers '{"host":"compute2","count":1,"flavor":"m1.tiny","name":"scratch"}'
echo "   compute2 runs 10 instances: 9 tagged evacuable (flavor m1.evacuable or image tag), 1 SHUTOFF among them, 1 untagged"

say "starting a single-node Pacemaker cluster"
bash test/rig/pacemaker/start.sh | tail -1

say "configuring instance HA (the operator's pcs commands)"
run pcs property set stonith-enabled=true
run pcs stonith create fence-power fence_rig state_dir="$DEMO/power" pcmk_host_list="compute1 compute2 compute3"
run pcs stonith create fence-nova fence_compute auth_url="$AUTH_URL" login=admin passwd=admin tenant_name=admin endpoint_type=public record_only=1 pcmk_host_list="compute1 compute2 compute3"
run pcs stonith level add 1 compute2 fence-power fence-nova --force
run pcs resource create nova-evacuate ocf:openstack:NovaEvacuate auth_url="$AUTH_URL" username=admin password=admin tenant_name=admin endpoint_type=public op monitor interval=2s
for _ in $(seq 1 600); do crm_mon -1 | grep -q "nova-evacuate.*Started" && break; sleep 0.2; done
crm_mon -1 | sed -n '/Full List of Resources/,$p' | sed 's/^/   /'

say "compute2 fails: its nova-compute dies; the fencing (power device, then fence-nova) is triggered by hand here"
echo "   (this quick demo runs one cluster node and simulated compute hosts, so nothing could notice the failure: the"
echo "   demo calls stonith_admin --fence compute2. npm run test:multinode shows Pacemaker finding and fencing a lost"
echo "   pacemaker_remote compute node by itself, on the real OpenStack rig; see the README)"
T0=$(date +%s%3N)
post kill '{"host":"compute2"}'
echo "[  0.0 s] compute2 fails"
# in a real cluster Pacemaker starts this fencing itself when it loses the compute node
( stonith_admin --fence compute2 --timeout 60 >"$DEMO/fence.out" 2>&1 && date +%s%3N >"$DEMO/fenced" ) &
node demo/watch.cjs --host compute2 --since "$T0" --state-url "$FAKE/_fake/state" --fenced-file "$DEMO/fenced" --timeout 90

say "what instance HA sees now (openstack-ha-agents status, read-only)"
OS_AUTH_URL="$AUTH_URL" OS_USERNAME=admin OS_PASSWORD=admin OS_PROJECT_NAME=admin OS_INTERFACE=public \
  OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default dist/openstack-ha-agents status | sed 's/^/   /'

say "compute2 comes back: unfencing (fence-nova 'on' waits for the evacuation, then re-enables it in Nova)"
post revive '{"host":"compute2"}'
stonith_admin --unfence compute2 --timeout 60 >/dev/null && echo "   unfenced"
curl -fsS "$FAKE/_fake/state" | python3 -c '
import json, sys
s = [x for x in json.load(sys.stdin)["services"] if x["host"] == "compute2"][0]
print("   nova-compute on compute2: state %(state)s, status %(status)s, forced_down %(forced_down)s" % s)'
echo "   log lines of our agents:"; grep -h 'NovaEvacuate\|fence_compute' "$RIG_DIR/ra.log" | grep -v 'DEBUG\|evacuation report {' | tail -5 | sed 's/^/   /'
