#!/bin/bash
# Simulates the failure and the return of one compute host of the rig.
#   compute.sh kill HOST    SIGKILL the nova-compute of HOST (e.g. compute2), by its recorded PID, as a host
#                           crash would: Nova sees the service "down" after service_down_time (10 s), or at once
#                           once it is forced down through the API
#   compute.sh start HOST   start that nova-compute again with the same configuration and record the new PID
#                           (a forced-down service stays forced down until forced_down=false is set)
#   compute.sh pid HOST     print its recorded PID when it runs (exit 1 otherwise)
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ $# -eq 2 ] || die "usage: compute.sh kill|start|pid HOST"
action=$1 host=$2
[[ "$host" =~ ^compute[0-9]+$ ]] || die "HOST must be computeN (e.g. compute2)"
name=nova-compute-$host
[ -f "$ETC/nova/$host.conf" ] || die "no such compute host in this rig: $host (no $ETC/nova/$host.conf)"
case "$action" in
  kill)
    pid=$(recorded_pid "$name")
    [ -n "$pid" ] || die "$name is not running"
    mapfile -t members < <(session_members "$pid")
    kill -KILL "${members[@]}" 2>/dev/null || true
    for i in $(seq 1 40); do running "$pid" || break; sleep 0.05; done
    echo "compute: $name (pid $pid) killed with SIGKILL"
    ;;
  start)
    pid=$(recorded_pid "$name")
    [ -z "$pid" ] || die "$name is already running (pid $pid)"
    port_open 5672 || die "RabbitMQ is not running: start the rig with start.sh"
    # shellcheck disable=SC2046
    start_service "$name" $(compute_cmd "$host")
    sleep 0.3
    pid=$(recorded_pid "$name")
    [ -n "$pid" ] || die "$name exited at once, see $LOGDIR/$name.out"
    echo "compute: $name started (pid $pid); it reports to Nova within a few seconds"
    ;;
  pid)
    pid=$(recorded_pid "$name")
    [ -n "$pid" ] || exit 1
    echo "$pid"
    ;;
  *) die "usage: compute.sh kill|start|pid HOST" ;;
esac
