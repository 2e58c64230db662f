#!/usr/bin/env bats
# Faults during the scenario, on the real stack: Keystone is stopped when compute2 fails and restarted later, and
# nova-api is down for a few seconds after that. Fencing must still succeed (fence-nova records evacuate=yes even
# when Nova can't be told), nova-evacuate must keep running, warn, keep compute2 flagged, and evacuate every tagged
# server exactly once when the services answer again. Runs after A-D on the same rigs (compute2's level 1 is
# fence-power + fence-nova; nova-evacuate runs).

load helpers

T="$E2E_OUT/E"
mark() { echo "$1=$(now_ms)" >>"$T.times"; }
get() { sed -n "s/^$1=//p" "$T.times" | tail -1; }
# agent log lines written since the mark "fail"
new_log() { awk -v n="$(cat "$T.logline")" 'NR > n' "$RIG_DIR/ra.log"; }

setup_file() { rm -f "$E2E_OUT"/E.*; }
teardown_file() {
  bg_stop E-attr
  # never leave the rig without its services, whatever failed
  bash "$OSRIG/service.sh" start keystone >/dev/null 2>&1 || true
  bash "$OSRIG/service.sh" start nova-api >/dev/null 2>&1 || true
}

@test "E1 nova-evacuate running; 6 tagged servers booted on compute2" {
  pcs resource enable nova-evacuate
  wait_for 60 started nova-evacuate
  wait_for 60 service_is compute2 'status=enabled state=up forced_down=false'
  osctl boot E-tag compute2 3xm1.evac/cirros 3xm1.tiny/cirros-evac >"$T.tagged"
  osctl wait "$T.tagged" compute2 180
}

@test "E2 Keystone down when compute2 fails: fencing still succeeds, nova-evacuate keeps running and keeps compute2 flagged" {
  rm -rf /run/openstack-ha-agents/tokens   # no cached token: every agent has to reach Keystone
  wc -l <"$RIG_DIR/ra.log" >"$T.logline"
  bg_start E-attr attr_watch compute2 "$T.attr"
  bash "$OSRIG/service.sh" stop keystone
  mark fail
  bash "$OSRIG/compute.sh" kill compute2
  run stonith_admin --fence compute2 --timeout 120
  echo "$output"
  [ "$status" -eq 0 ]
  mark fence
  [ "$(attr compute2)" = yes ]
  wait_for 60 monitors_warned "$(cat "$T.logline")" 2   # two monitors or more found Keystone down
  [ "$(attr compute2)" = yes ]
  started nova-evacuate
  new_log | grep -q 'will be evacuated when it answers'
  new_log | grep -q 'fence_compute.*could not force nova-compute on compute2 down'
}

@test "E3 Keystone back, nova-api down for a few seconds: still flagged, nothing evacuated; then nova-api back: every tagged server evacuated once" {
  bash "$OSRIG/service.sh" stop nova-api
  bash "$OSRIG/service.sh" start keystone
  mark keystone
  log_lines "$RIG_DIR/ra.log" >"$T.logline-keystone"
  wait_for 60 monitors_warned "$(cat "$T.logline-keystone")" 2   # two monitors or more since Keystone is back found Nova down
  [ "$(attr compute2)" = yes ]
  started nova-evacuate
  [ "$(actions_between "$T.tagged" "$(get fail)" "$(now_ms)")" -eq 0 ]
  bash "$OSRIG/service.sh" start nova-api
  mark novaapi
  wait_for 120 attr_is compute2 no
  mark done
  bg_stop E-attr
  cat "$T.attr"
  osctl wait "$T.tagged" '!compute2' 120
  evacuated_once "$T.tagged" "$(get fail)"
  f=$(get fail)
  {
    echo "Fault E timeline (Keystone down at the failure, then nova-api down; seconds since the failure):"
    echo "  $(secs "$f" "$(get fence)") fence done (Keystone down); $(secs "$f" "$(get keystone)") Keystone back, nova-api down;"
    echo "  $(secs "$f" "$(get novaapi)") nova-api back; $(secs "$f" "$(get done)") evacuate=no (6 servers, one evacuation each)"
  } >"$T.timeline"
  cat "$T.timeline"
}

@test "E4 compute2 back: started again and unfenced with stonith_admin --unfence" {
  restart_and_unfence compute2
}
