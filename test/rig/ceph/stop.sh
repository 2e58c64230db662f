#!/bin/bash
# Stops what start.sh started, by the PIDs recorded in $CEPH_RIG_DIR/run/*.pid only ("PID STARTTIME": a recycled
# PID, or a Ceph daemon this rig did not start, is left alone): osd.0 first, then mgr.x, then mon.a (the OSD and
# the manager report to the monitor on their way out). Each gets SIGTERM, then SIGKILL after CEPH_RIG_STOP_TIMEOUT
# seconds (default 20). Idempotent. Keeps the data (the next start.sh reuses the cluster) and the logs.
# Usage: stop.sh [--purge]   --purge also deletes the cluster: data, keyrings, ceph.conf, ceph.env (logs stay)
set -uo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
PURGE=0
for a in "$@"; do
  case "$a" in
    --purge) PURGE=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $a (usage: stop.sh [--purge])" ;;
  esac
done
TIMEOUT=${CEPH_RIG_STOP_TIMEOUT:-20}

# stop_one NAME: TERM the recorded daemon, wait up to $TIMEOUT s, then KILL
stop_one() {
  local name=$1 pid
  pid=$(recorded_pid "$name")
  [ -n "$pid" ] || { rm -f "$RUN/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null
  if ! wait_for "$TIMEOUT" none_running "$pid" 2>/dev/null; then
    say "SIGKILL to $name (PID $pid) after ${TIMEOUT}s"
    kill -KILL "$pid" 2>/dev/null
    wait_for 5 none_running "$pid" || say "$name (PID $pid) still there after SIGKILL"
  fi
  rm -f "$RUN/$name.pid"
  STOPPED="$STOPPED $name"
}

STOPPED=
order=$(echo "$DAEMONS" | tr ' ' '\n' | tac | tr '\n' ' ')
for name in $order; do stop_one "$name"; done
say "stopped:${STOPPED:- nothing was running}; logs kept in $LOGDIR"
if [ $PURGE = 1 ]; then
  for name in $DAEMONS; do
    pid=$(recorded_pid "$name")
    [ -z "$pid" ] || die "$name (PID $pid) still runs: not purging"
  done
  rm -rf "$DATA" "$ETC" "$SOCK" "$RUN" "$CONF" "$CEPH_RIG_DIR/ceph.env" "$CEPH_RIG_DIR/crash"
  say "cluster purged (data, keyrings, configuration); logs kept in $LOGDIR"
fi
exit 0
