#!/bin/bash
# End-to-end tests: our agents, installed in /, under a REAL single-node Pacemaker (test/rig/pacemaker) against a
# REAL OpenStack Zed (test/rig/openstack) on loopback. Needs root.
#   1. installs both rigs' packages (does nothing when they are there), builds and installs the agents
#   2. starts the OpenStack rig (start.sh --fresh; the very first start builds its snapshot) and the Pacemaker rig
#   3. runs test/e2e/*.bats in name order (they share the two rigs; each leaves compute2 up and enabled)
#   4. always stops both rigs; prints the timelines, install/start times, the rig's peak memory, "N passed, N failed"
# Environment: E2E_TESTS (bats files to run, default all), E2E_OUT (default /tmp/oha-e2e: ids, timelines, bats output), OS_RIG_DIR, RIG_DIR as the rigs take
# them. Logs of a failed run are copied to $E2E_OUT/failed-logs/ (the rigs rotate their own on the next start).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
[ "$(id -u)" = 0 ] || { echo "the end-to-end tests need root" >&2; exit 1; }
export OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
export RIG_DIR=${RIG_DIR:-/tmp/oha-pacemaker-rig}
export E2E_OUT=${E2E_OUT:-/tmp/oha-e2e}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export PATH=$PATH:/usr/sbin:/sbin
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "e2e: $*"; }
T_ALL=$(now)

# Only one Pacemaker cluster and one OpenStack rig can run on a machine (fixed ports, /var/lib/pacemaker): refuse
# to start over somebody else's (e.g. a concurrent npm test), instead of breaking it.
# shellcheck source=../rig/lib.sh
. test/rig/lib.sh   # cluster_alive
# a cluster stopped just before (npm test's) may take a few seconds to be gone
for _ in $(seq 1 30); do cluster_alive || break; sleep 1; done
if cluster_alive; then
  echo "e2e: a Pacemaker cluster is already running on this machine (another test run?): not touching it" >&2
  echo "0 passed, 1 failed"; exit 1
fi
if bash test/rig/openstack/status.sh >/dev/null 2>&1 || (exec 3<>/dev/tcp/127.0.0.1/8774) 2>/dev/null; then
  echo "e2e: the OpenStack rig (or something on :8774) is already running: stop it first (test/rig/openstack/stop.sh)" >&2
  echo "0 passed, 1 failed"; exit 1
fi

rm -rf "$E2E_OUT"; mkdir -p "$E2E_OUT"
MEMPID=
cleanup() {
  [ -n "$MEMPID" ] && kill "$MEMPID" 2>/dev/null
  say "stopping the Pacemaker rig and the OpenStack rig"
  bash test/rig/pacemaker/stop.sh >"$E2E_OUT/pacemaker-stop.log" 2>&1 || say "pacemaker stop.sh failed, see $E2E_OUT/pacemaker-stop.log"
  bash test/rig/openstack/stop.sh >"$E2E_OUT/openstack-stop.log" 2>&1 || say "openstack stop.sh failed, see $E2E_OUT/openstack-stop.log"
}
keep_logs() {
  local d=$E2E_OUT/failed-logs
  mkdir -p "$d/openstack" "$d/pacemaker"
  cp -r "$OS_RIG_DIR/log/." "$d/openstack/" 2>/dev/null
  cp "$RIG_DIR"/*.log "$RIG_DIR"/*.out "$d/pacemaker/" 2>/dev/null
  say "logs of this failed run kept in $d (bats output: $E2E_OUT/bats.tap)"
}
fail_early() { say "ERROR: $*"; keep_logs; cleanup; echo "0 passed, 1 failed"; exit 1; }

# ---------------------------------------------------------------------------------------------- install and build
t=$(now)
bash test/rig/pacemaker/install.sh >"$E2E_OUT/install.log" 2>&1 || { cat "$E2E_OUT/install.log"; echo "0 passed, 1 failed"; exit 1; }
bash test/rig/openstack/install.sh >>"$E2E_OUT/install.log" 2>&1 || { cat "$E2E_OUT/install.log"; echo "0 passed, 1 failed"; exit 1; }
T_INSTALL=$(dt "$t" "$(now)")
say "rig packages installed (${T_INSTALL} s)"
t=$(now)
{ npm run build && DESTDIR= bash build/install.sh; } >"$E2E_OUT/build.log" 2>&1 || { cat "$E2E_OUT/build.log"; echo "0 passed, 1 failed"; exit 1; }
say "agents built and installed ($(dt "$t" "$(now)") s)"

# ---------------------------------------------------------------------------------------------- start the rigs
trap 'cleanup' EXIT
trap 'exit 130' INT TERM
t=$(now)
if [ -d "$OS_RIG_DIR/pristine" ]; then OSMODE=--fresh; else OSMODE=; fi
bash test/rig/openstack/start.sh $OSMODE >"$E2E_OUT/openstack-start.log" 2>&1 || { cat "$E2E_OUT/openstack-start.log"; fail_early "OpenStack rig did not start"; }
T_OS=$(dt "$t" "$(now)")
say "OpenStack rig started (start.sh ${OSMODE:-first start}: ${T_OS} s)"
( peak=0
  while :; do
    line=$(bash test/rig/openstack/mem.sh 2>/dev/null)
    echo "$(date +%s) $line" >>"$E2E_OUT/mem.samples"
    sleep 3
  done ) 3>&- &
MEMPID=$!
t=$(now)
bash test/rig/pacemaker/start.sh >"$E2E_OUT/pacemaker-start.log" 2>&1 || { cat "$E2E_OUT/pacemaker-start.log"; fail_early "Pacemaker rig did not start"; }
T_PCMK=$(dt "$t" "$(now)")
say "Pacemaker rig started (${T_PCMK} s)"
/usr/bin/python3 test/e2e/lib/osctl.py unlimited-quota || fail_early "could not lift the instance quota"
rm -rf /run/openstack-ha-agents   # the agents' token cache: start empty (the rig's Keystone is new)

# ---------------------------------------------------------------------------------------------- the scenarios
t=$(now)
timeout 1500 node_modules/bats/bin/bats --formatter tap ${E2E_TESTS:-test/e2e/*.bats} 2>&1 | tee "$E2E_OUT/bats.tap"
T_BATS=$(dt "$t" "$(now)")
passed=$(grep -c '^ok ' "$E2E_OUT/bats.tap")
failed=$(grep -c '^not ok ' "$E2E_OUT/bats.tap")
planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$E2E_OUT/bats.tap" | head -1)
# a test that never reported (bats crashed) counts as failed
missing=$(( ${planned:-0} - passed - failed ))
[ "$missing" -gt 0 ] && failed=$((failed + missing))
[ -z "$planned" ] && failed=$((failed + 1))
# the same real-client test file the simulator is held to (test/clients), here against the real rig, changing it
if [ -z "${E2E_TESTS:-}" ]; then
  OHA_CLIENT_TARGET=real OHA_CLIENT_MUTATE=1 OS_RIG_DIR="$OS_RIG_DIR" timeout 600 bash test/clients/run.sh 2>&1 | tee "$E2E_OUT/clients.tap"
  cp=$(grep -c '^ok ' "$E2E_OUT/clients.tap"); cf=$(grep -c '^not ok ' "$E2E_OUT/clients.tap")
  cplanned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$E2E_OUT/clients.tap" | head -1)
  [ -z "$cplanned" ] && cf=$((cf + 1))
  passed=$((passed + cp)); failed=$((failed + cf))
fi
# skipped tests are not passes; one that test/skips-allowed.txt does not list fails the run
skipped=0
for s in "e2e $E2E_OUT/bats.tap" "clients-real $E2E_OUT/clients.tap"; do
  [ -f "${s#* }" ] || continue
  out=$(tap_skips ${s%% *} "${s#* }"); echo "$out" | sed '$d'
  read -r bad n <<<"$(echo "$out" | tail -1)"
  skipped=$((skipped + n)); passed=$((passed - n)); failed=$((failed + bad))
done
kill "$MEMPID" 2>/dev/null; MEMPID=
[ "$failed" -gt 0 ] && keep_logs
t=$(now)
cleanup
trap - EXIT
T_STOP=$(dt "$t" "$(now)")

echo
for f in "$E2E_OUT"/*.timeline; do [ -f "$f" ] && { cat "$f"; echo; }; done
peak=$(awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^rss_mib=/) { v = substr($i, 9) + 0; if (v > m) m = v } } END { print m + 0 }' "$E2E_OUT/mem.samples" 2>/dev/null)
peakpss=$(awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^pss_mib=/) { v = substr($i, 9) + 0; if (v > m) m = v } } END { print m + 0 }' "$E2E_OUT/mem.samples" 2>/dev/null)
nsamples=$(wc -l <"$E2E_OUT/mem.samples" 2>/dev/null || echo 0)
echo "rig install (both install.sh): ${T_INSTALL} s; OpenStack start (${OSMODE:-first start}): ${T_OS} s; Pacemaker start: ${T_PCMK} s"
echo "OpenStack rig peak memory: ${peak} MiB RSS, ${peakpss} MiB PSS (${nsamples} samples, every 3 s)"
echo "scenarios: ${T_BATS} s; rigs stopped in ${T_STOP} s; whole run: $(dt "$T_ALL" "$(now)") s; details in $E2E_OUT"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
