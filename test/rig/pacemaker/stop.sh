#!/bin/bash
# Stops the cluster started by start.sh, by the PIDs it recorded in $RIG_DIR (never by name alone):
# pacemakerd first (it stops the resources and its daemons), then corosync; KILL after a timeout.
# Idempotent; the logs stay in $RIG_DIR.
#   bash test/rig/pacemaker/stop.sh
# RIG_STOP_TIMEOUT (default 60 s): how long pacemakerd may take to stop its resources.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$HERE/env.sh"
# shellcheck source=common.sh
. "$HERE/common.sh"

TIMEOUT=${RIG_STOP_TIMEOUT:-60}
say() { echo "rig stop: $*"; }

# put back the /etc/corosync/corosync.conf that start.sh replaced, unless someone changed it since
restore_etc() {
  if [ -f "$RIG_DIR/etc-corosync.conf.orig" ]; then
    if cmp -s "$RIG_COROSYNC_CONF" /etc/corosync/corosync.conf; then
      cp -p "$RIG_DIR/etc-corosync.conf.orig" /etc/corosync/corosync.conf
    fi
    rm -f "$RIG_DIR/etc-corosync.conf.orig"
  fi
}

if [ ! -f "$RIG_DIR/procs" ]; then
  restore_etc
  say "nothing recorded in $RIG_DIR: not running"
  exit 0
fi
T0=$(date +%s.%N)

# wait up to $1 seconds (tenths) for all PIDs in $2.. to exit; returns 1 if some still run
wait_gone() {
  local tenths=$(($1 * 10)) p left
  shift
  while :; do
    left=''
    for p in "$@"; do running "$p" && left=1; done
    [ -z "$left" ] && return 0
    [ "$tenths" -le 0 ] && return 1
    sleep 0.1
    tenths=$((tenths - 1))
  done
}

# --- pacemakerd and the daemons it started ----------------------------------------------------------------------
pcmk=$(recorded_alive pacemakerd)
# children: those recorded at start, plus the current children of our pacemakerd (it respawns crashed ones)
children="$(recorded_alive child)"
if [ -n "$pcmk" ]; then
  for pid in $(children_of "$pcmk"); do
    record_proc child "$pid"
    children="$children $pid"
  done
fi
children=$(echo "$children" | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ')

if [ -n "$pcmk" ]; then
  say "stopping pacemakerd (PID $pcmk)"
  kill -TERM "$pcmk" 2>/dev/null
  if ! wait_gone "$TIMEOUT" "$pcmk"; then
    say "pacemakerd still runs after $TIMEOUT s: KILL"
    kill -KILL "$pcmk" 2>/dev/null
    wait_gone 5 "$pcmk"
  fi
fi

# pacemakerd is gone: its daemons should be too. Those still running are ours if recorded (same start time), or if
# they were orphaned (parent 1) while no other pacemakerd runs.
left=''
for pid in $(recorded_alive child); do left="$left $pid"; done
if [ -z "$(pids_named pacemakerd)" ]; then
  for pid in $(pids_named $PCMK_CHILDREN); do
    [ "$(proc_ppid "$pid")" = 1 ] && left="$left $pid"
  done
fi
left=$(echo "$left" | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ')
if [ -n "${left// /}" ]; then
  for pid in $left; do say "leftover $(proc_name "$pid") (PID $pid): TERM"; done
  # shellcheck disable=SC2086
  kill -TERM $left 2>/dev/null
  # shellcheck disable=SC2086
  if ! wait_gone 10 $left; then
    say "still running after 10 s: KILL $left"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null
    # shellcheck disable=SC2086
    wait_gone 5 $left
  fi
fi

# --- corosync ----------------------------------------------------------------------------------------------------
coro=$(recorded_alive corosync)
if [ -n "$coro" ]; then
  say "stopping corosync (PID $coro)"
  kill -TERM "$coro" 2>/dev/null
  if ! wait_gone 30 "$coro"; then
    say "corosync still runs after 30 s: KILL"
    kill -KILL "$coro" 2>/dev/null
    wait_gone 5 "$coro"
  fi
fi

# daemons that were killed (here or before) leave their libqb IPC files behind
# (/dev/shm/qb-SERVERPID-CLIENTPID-FD-RANDOM/, qb-NAME-PID-blackbox-*): remove those of our processes that are gone
if [ -f "$RIG_DIR/procs" ]; then
  dead=' '
  while read -r _ pid _; do
    running "$pid" || dead="$dead$pid "
  done <"$RIG_DIR/procs"
  for f in /dev/shm/qb-*; do
    [ -e "$f" ] || continue
    IFS=- read -r _ f1 f2 _ <<<"${f##*/}"
    case $dead in *" $f1 "* | *" $f2 "*) rm -rf "$f" ;; esac
  done
fi

still=''
for role in pacemakerd child corosync; do
  for pid in $(recorded_alive "$role"); do still="$still $pid"; done
done
if [ -n "$still" ]; then
  echo "rig stop: ERROR: still running:$still" >&2
  exit 1
fi
rm -f "$RIG_DIR/procs" "$RIG_COROSYNC_PIDFILE" "$RIG_PACEMAKERD_PIDFILE"
restore_etc
say "stopped in $(elapsed "$T0") s (logs kept in $RIG_DIR)"
