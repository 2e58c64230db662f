#!/bin/bash
# Stops or starts one control-plane service of a running rig, for fault injection (the end-to-end tests):
#   service.sh stop|start|restart keystone|nova-api|neutron-server
# stop: SIGTERM to the service's process session (recorded PID), SIGKILL after 15 s, until its port is closed.
# start: the same command line as start.sh, then waits (60 s at most) until the API answers.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ $# -eq 2 ] || die "usage: service.sh stop|start|restart keystone|nova-api|neutron-server"
action=$1 name=$2
case "$name" in
  keystone) port=5000 url=http://127.0.0.1:5000/v3 starter=start_keystone ;;
  nova-api) port=8774 url=http://127.0.0.1:8774/ starter=start_nova_api ;;
  neutron-server) port=9696 url=http://127.0.0.1:9696/ starter=start_neutron_server
    NEUTRON=$(sed -n 's/^NEUTRON=//p' "$OS_RIG_DIR/rig.env") ;;
  *) die "service.sh handles keystone, nova-api and neutron-server only" ;;
esac

stop() {
  local pid members i
  pid=$(recorded_pid "$name")
  [ -n "$pid" ] || { echo "service: $name is not running"; return 0; }
  mapfile -t members < <(session_members "$pid")
  kill -TERM "${members[@]}" 2>/dev/null || true
  for i in $(seq 1 150); do running "$pid" || break; sleep 0.1; done
  if running "$pid"; then
    mapfile -t members < <(session_members "$pid")
    kill -KILL "${members[@]}" 2>/dev/null || true
  fi
  for i in $(seq 1 100); do port_open "$port" || break; sleep 0.1; done
  port_open "$port" && die "$name stopped but port $port still answers"
  rm -f "$RUN/$name.pid"
  echo "service: $name stopped"
}

start() {
  local i
  [ -z "$(recorded_pid "$name")" ] || die "$name is already running"
  port_open "$port" && die "port $port is in use"
  "$starter"
  for i in $(seq 1 600); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && { echo "service: $name answers on :$port"; return 0; }
    sleep 0.1
  done
  die "$name did not answer on :$port within 60 s, see $LOGDIR/$name.out"
}

case "$action" in
  stop) stop ;;
  start) start ;;
  restart) stop; start ;;
  *) die "usage: service.sh stop|start|restart keystone|nova-api" ;;
esac
