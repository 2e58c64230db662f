#!/bin/bash
# Stops what start.sh / compute.sh started, by the PIDs recorded in $OS_RIG_DIR/run/*.pid only ("PID STARTTIME": a
# recycled PID is left alone), with the processes in those PIDs' own sessions (uwsgi workers, the nova-api and
# neutron workers, RabbitMQ's Erlang helpers). SIGTERM first, SIGKILL after OS_RIG_STOP_TIMEOUT seconds (default 15).
# The API and nova services go first, then Keystone, RabbitMQ and MariaDB. Idempotent. Keeps the logs.
# Usage: stop.sh [--wipe]   --wipe also deletes the state (databases, images, servers); the logs and the
#                           pristine snapshot stay.
set -uo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
WIPE=0
for a in "$@"; do
  case "$a" in
    --wipe) WIPE=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $a (usage: stop.sh [--wipe])" ;;
  esac
done
TIMEOUT=${OS_RIG_STOP_TIMEOUT:-15}

# stop_group NAME...: TERM the recorded leaders and their sessions, wait, KILL what is left
stop_group() {
  local name pid leaders=() members=() i left
  for name in "$@"; do
    pid=$(recorded_pid "$name")
    [ -n "$pid" ] && leaders+=("$pid")
  done
  [ ${#leaders[@]} -gt 0 ] || return 0
  mapfile -t members < <(session_members "${leaders[@]}")
  kill -TERM "${leaders[@]}" 2>/dev/null
  for i in $(seq 1 $((TIMEOUT * 4))); do
    left=
    for pid in "${members[@]}"; do running "$pid" && left="$left $pid"; done
    [ -z "$left" ] && break
    sleep 0.25
  done
  if [ -n "$left" ]; then
    echo "stop: SIGKILL after ${TIMEOUT}s to:$left"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null
    # shellcheck disable=SC2086
    wait_for 5 none_running $left || true
  fi
  STOPPED=$((STOPPED + ${#leaders[@]})); PROCS=$((PROCS + ${#members[@]}))
}

STOPPED=0; PROCS=0
if [ -d "$RUN" ]; then
  all=$(recorded_names)
  first=()
  for name in $all; do
    case "$name" in mariadb|rabbitmq|epmd|keystone) ;; *) first+=("$name") ;; esac
  done
  stop_group "${first[@]}"
  stop_group keystone
  stop_group rabbitmq
  stop_group epmd mariadb
  rm -f "$RUN"/*.pid
fi
# cinder.sh bind-mounts its volume share under the state directory: undo that (before a --wipe or --fresh)
unmount_state
echo "stop: $STOPPED services ($PROCS processes) stopped; logs kept in $LOGDIR"
if [ $WIPE = 1 ]; then
  rm -rf "$OS_RIG_DIR/state" "$OS_RIG_DIR/rig.env" "$OS_RIG_DIR/admin-openrc" "$RUN"
  echo "stop: state wiped (pristine snapshot kept in $PRISTINE)"
fi
exit 0
