#!/bin/bash
# Checks the rig end to end: start, an OCF resource runs, fencing through the rigs' power device (fence_rig), node attributes, agent logs,
# stop; then start/stop again to show each start begins from a fresh state.
#   bash test/rig/pacemaker/selftest.sh [ROUNDS]     (root; default 2 rounds)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$HERE/env.sh"
ROUNDS=${1:-2}

fail() {
  echo "rig selftest: FAIL: $*" >&2
  crm_mon -1 >&2 2>&1 || true
  bash "$HERE/stop.sh" >&2 || true
  exit 1
}
ok() { echo "rig selftest: ok: $*"; }
# wait up to $1 s for command $2.. to succeed
wait_for() {
  local n=$(($1 * 10))
  shift
  while ! "$@" >/dev/null 2>&1; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || return 1
    sleep 0.1
  done
}
crm_has() { crm_mon -1 2>/dev/null | grep -Eq "$1"; }

bash "$HERE/install.sh"
for round in $(seq 1 "$ROUNDS"); do
  echo "rig selftest: --- round $round"
  bash "$HERE/start.sh" || fail "start"

  # fresh state: nothing from the previous round survives
  [ "$(cibadmin -Q -o resources | grep -c '<primitive')" = 0 ] || fail "resources left from a previous run"
  [ "$(crm_attribute -G -n stonith-enabled -q)" = false ] || fail "stonith-enabled is not false after start"
  if attrd_updater -n evacuate -A >/dev/null 2>&1; then fail "attribute evacuate survived a restart"; fi
  ok "fresh CIB, no attributes"

  pcs resource create dummy ocf:heartbeat:Dummy op monitor interval=5s >/dev/null || fail "pcs resource create"
  wait_for 20 crm_has 'dummy.*Started node1' || fail "dummy did not start"
  ok "ocf:heartbeat:Dummy started"

  # agents' log lines reach ra.log (ocf:heartbeat:Delay logs "Delay is running OK" at info on monitor)
  pcs resource create delay ocf:heartbeat:Delay startdelay=0 stopdelay=0 mondelay=0 >/dev/null \
    || fail "pcs resource create delay"
  wait_for 20 grep -q 'Delay(delay).*Delay is running OK' "$RIG_RA_LOG" || fail "no Delay log line in $RIG_RA_LOG"
  ok "agent log lines in $RIG_RA_LOG: $(grep -c 'Delay(delay)' "$RIG_RA_LOG")"

  # fencing through the rigs' own power device (test/rig/power/fence_rig)
  rm -rf "$RIG_DIR/power"
  pcs property set stonith-enabled=true || fail "pcs property set"
  pcs stonith create fd fence_rig pcmk_host_list="compute1 compute2" state_dir="$RIG_DIR/power" >/dev/null \
    || fail "pcs stonith create"
  wait_for 20 crm_has 'fd.*Started node1' || fail "fence device fd did not start"
  t0=$(date +%s.%N)
  stonith_admin --fence compute2 || fail "stonith_admin --fence compute2"
  ok "fenced compute2 in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
  stonith_admin --history compute2 | grep -q 'of compute2 successful' || fail "no successful fencing in history"
  [ "$(cat "$RIG_DIR/power/compute2")" = off ] || fail "the power device did not power compute2 off"

  # node attributes for a node that is not a member
  attrd_updater -p -n evacuate -N compute2 -U yes || fail "attrd_updater -U"
  wait_for 10 sh -c 'attrd_updater -n evacuate -A | grep -q "host=\"compute2\" value=\"yes\""' \
    || fail "attrd_updater -A does not show evacuate=yes for compute2"
  ok "attribute evacuate=yes for compute2: $(attrd_updater -n evacuate -A | tr '\n' ' ')"

  bash "$HERE/stop.sh" || fail "stop"
  bash "$HERE/stop.sh" >/dev/null || fail "second stop"
  [ ! -f "$RIG_DIR/procs" ] || fail "process records left after stop"
  ok "stopped (twice)"
done
echo "rig selftest: PASS ($ROUNDS rounds)"
