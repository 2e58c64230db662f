#!/usr/bin/env bats
# nova-compute-wait run by Pacemaker for real: it acts for the local cluster node (node1), so this file adds a 4th
# nova-compute to the OpenStack rig with host name node1 (the rig's compute.sh only knows computeN: the extra one
# is started here with the rig's own start_service/compute_cmd, so stop.sh stops it like the others). node1 is
# the cluster's only member and cannot be fenced with stonith_admin, so its fencing in Nova is our fence_compute
# (record_only=1) run by hand, as the fencer would run it; nova-evacuate then evacuates it. Runs after A, B, C.

load helpers

T="$E2E_OUT/D"
mark() { echo "$1=$(now_ms)" >>"$T.times"; }
get() { sed -n "s/^$1=//p" "$T.times" | tail -1; }

node1_compute() { # start|kill the node1 nova-compute
  (
    # shellcheck disable=SC1091
    . "$OSRIG/common.sh"
    case "$1" in
      start)
        mkdir -p "$OS_RIG_DIR/state/node1/instances"
        printf '[DEFAULT]\nhost = node1\nstate_path = %s\ninstances_path = %s/instances\nlog_file = %s/nova-compute-node1.log\n' \
          "$OS_RIG_DIR/state/node1" "$OS_RIG_DIR/state/node1" "$LOGDIR" >"$ETC/nova/node1.conf"
        # shellcheck disable=SC2046
        start_service nova-compute-node1 $(compute_cmd node1)
        ;;
      kill)
        pid=$(recorded_pid nova-compute-node1)
        [ -n "$pid" ] || exit 1
        mapfile -t members < <(session_members "$pid")
        kill -KILL "${members[@]}"
        ;;
    esac
  ) 3>&-
}

setup_file() {
  rm -f "$E2E_OUT"/D.*
}

@test "D1 a 4th nova-compute, host node1, joins the rig; 4 tagged servers booted on it" {
  node1_compute start
  wait_for 90 service_is node1 'status=enabled state=up forced_down=false'
  # the scheduler maps new hosts every 2 s; boot once it accepts node1 as a target
  ok=0
  for _ in $(seq 1 30); do
    if osctl boot D-tag node1 2xm1.evac/cirros 2xm1.tiny/cirros-evac >"$T.tagged" 2>"$T.boot.err"; then
      osctl wait "$T.tagged" node1 60 && { ok=1; break; }
    fi
    cat "$T.boot.err" >&2 || true
    sleep 3
  done
  [ "$ok" = 1 ]
}

@test "D2 node1's nova-compute dies; fence_compute off (record_only) records it; nova-evacuate evacuates it" {
  node1_compute kill
  mark fail
  run bash -c "printf 'auth_url=%s\nlogin=admin\npasswd=admin\ntenant_name=admin\nendpoint_type=public\nrecord_only=1\naction=off\nport=node1\n' '$AUTH_URL' | fence_compute"
  echo "$output"
  [ "$status" -eq 0 ]
  mark fence
  wait_for 90 attr_is node1 no
  osctl wait "$T.tagged" '!node1' 120
  run osctl evacuations "$T.tagged"
  echo "$output"
  while read -r id n; do [ "$n" -eq 1 ]; done <<<"$output"
  [[ "$(osctl service node1)" == *forced_down=true ]]
}

@test "D3 pcs resource create compute-unfence (nova-compute-wait) on node1: enables it; its monitor clears forced_down after nova-compute restarts" {
  pcs resource create compute-unfence ocf:openstack:nova-compute-wait "${CREDS_OCF[@]}" evacuation_delay=2 \
      op start timeout=120s op monitor interval=3s
  wait_for 60 started compute-unfence
  mark enabled
  since=$(log_lines "$RIG_DIR/ra.log")
  [ "$(osctl service node1)" = 'status=enabled state=down forced_down=true' ]
  # a monitor (every 3 s) since the start tried to clear forced_down and Nova refused
  wait_for 30 logged_since "$RIG_DIR/ra.log" "$since" 'nova-compute on node1 stays forced down until it has started again|could not finish unfencing node1'
  started compute-unfence
  [[ "$(osctl service node1)" == *forced_down=true ]]
  node1_compute start
  mark restart
  wait_for 90 service_is node1 'status=enabled state=up forced_down=false'
  # the monitor finishes the unfencing: Placement no longer excludes node1, and a server booted onto it runs there
  wait_for 60 placement_is node1 schedulable
  osctl schedulable node1 120
  mark up
  started compute-unfence
  grep 'nova-compute-wait(compute-unfence)' "$RIG_DIR/ra.log" | tail -8
  f=$(get fail)
  {
    echo "Scenario D (nova-compute-wait under Pacemaker, host node1; seconds since node1's nova-compute was killed):"
    echo "  $(secs "$f" "$(get fence)") fence_compute off done; $(secs "$f" "$(get enabled)") compute-unfence started (node1 enabled, forced down kept);"
    echo "  $(secs "$f" "$(get restart)") node1's nova-compute started again; $(secs "$f" "$(get up)") node1 up, forced_down=false (cleared by the monitor)"
  } >"$T.timeline"
  cat "$T.timeline"
  pcs resource delete compute-unfence
}
