#!/usr/bin/env bats
# Scenario A: a compute host of a REAL OpenStack (test/rig/openstack) fails; the REAL single-node Pacemaker
# (test/rig/pacemaker) fences it through a level-1 topology (fence_rig, the rig's own power device, then our fence_compute
# record_only=1), and our NovaEvacuate resource evacuates its evacuable instances. Then compute2 comes back and our
# nova-compute-wait unfences it in Nova. The tests run in order and build on each other.
# Timeline: $E2E_OUT/A.timeline (printed by run.sh).

load helpers

T="$E2E_OUT/A"
mark() { echo "$1=$(now_ms)" >>"$T.times"; }
get() { sed -n "s/^$1=//p" "$T.times" | tail -1; }

setup_file() {
  rm -f "$E2E_OUT"/A.*
}
teardown_file() {
  bg_stop A-watch
  bg_stop A-attr
}

@test "A1 boot 12 servers on compute2 (5 flavor-tagged, 4 image-tagged, 3 untagged), one tagged one stopped" {
  # tagged by the flavor (m1.evac: evacuable=true), tagged by the image (cirros-evac: evacuable=true), untagged
  osctl boot A-tag compute2 5xm1.evac/cirros 4xm1.tiny/cirros-evac >"$T.tagged"
  osctl boot A-untag compute2 3xm1.tiny/cirros >"$T.untagged"
  cat "$T.tagged" "$T.untagged" >"$T.all"
  [ "$(wc -l <"$T.tagged")" -eq 9 ]; [ "$(wc -l <"$T.untagged")" -eq 3 ]
  osctl wait "$T.all" compute2 180
  off=$(head -1 "$T.tagged" | cut -d' ' -f1)
  echo "$off" >"$T.off"
  osctl stop "$off"
  run osctl servers "$T.all"
  echo "$output"
  [ "$(grep -c ' ACTIVE compute2 ' <<<"$output")" -eq 11 ]
  [ "$(grep -c ' SHUTOFF compute2 ' <<<"$output")" -eq 1 ]
  grep -q "^$off .* SHUTOFF compute2 " <<<"$output"
}

@test "A2 pcs: stonith-enabled, fence-power + fence-nova (fence_compute record_only=1) at level 1, nova-evacuate started" {
  pcs property set stonith-enabled=true
  # the power device: fence_rig (test/rig/power), which really powers a compute host off (its power hook kills the
  # host's nova-compute when it still runs) and records the state in $E2E_OUT/power/HOST
  rm -rf "$E2E_OUT/power"
  pcs stonith create fence-power fence_rig state_dir="$E2E_OUT/power" power_hook="$OSRIG/power-hook" \
      pcmk_host_list="compute1 compute2 compute3"
  pcs stonith create fence-nova fence_compute "${CREDS_FENCE[@]}" record_only=1 pcmk_host_list="compute1 compute2 compute3"
  pcs stonith level add 1 compute2 fence-power fence-nova --force
  # verify_evacuation: the engine follows each instance through real Nova's os-migrations and server state, inside
  # the monitor's timeout (Pacemaker's default 20 s would cut a 9-instance verification on this 2-core rig)
  pcs resource create nova-evacuate ocf:openstack:NovaEvacuate "${CREDS_OCF[@]}" verify_evacuation=true \
      op monitor interval=5s timeout=120s
  power_device_started fence-power 60
  wait_for 60 started fence-nova
  wait_for 60 started nova-evacuate
  run crm_mon -1
  echo "$output"
  ! grep -qi 'failed' <<<"$output" || false
  # nothing to evacuate yet: no attribute for compute2, every server still where it was booted
  [ -z "$(attr compute2)" ]
  [ "$(osctl evacuations "$T.all" | awk '{s += $2} END {print s}')" -eq 0 ]
}

@test "A3 compute2 killed and fenced: evacuate=yes, then claimed, then no; stonith history says success" {
  bg_start A-watch osctl watch "$T.tagged" compute2 "$T.watch"
  bg_start A-attr attr_watch compute2 "$T.attr"
  sleep 1
  mark fail
  bash "$OSRIG/compute.sh" kill compute2
  run stonith_admin --fence compute2 --timeout 120
  mark fence
  echo "$output"
  [ "$status" -eq 0 ]
  stonith_admin --history compute2 | grep -q 'successful'
  [ "$(cat "$E2E_OUT/power/compute2")" = off ]
  wait_for 120 attr_is compute2 no
  wait_for 5 attr_watched "$T.attr" no || true   # attr_watch (every 0.1 s) has recorded it; the check below says if not
  cat "$T.attr"
  # the values compute2's attribute took, in order: yes, possibly a claim "node1@EPOCH", then no
  run awk '{print $2}' "$T.attr"
  seq=$(tr '\n' ' ' <<<"$output")
  echo "sequence: $seq"
  [[ "$seq" =~ ^(\<unset\>\ )?yes\ (node1@[0-9]+\ )*no\ $ ]]
  grep -q 'Completed evacuation of compute2' "$RIG_DIR/ra.log"
  # verified against real Nova: every tagged instance reported running on another host, none failed
  report=$(grep 'evacuation report {' "$RIG_DIR/ra.log" | tail -1 | sed 's/.*evacuation report //')
  echo "$report"
  python3 - "$report" "$(wc -l <"$T.tagged")" <<'PY'
import json, sys
r, n = json.loads(sys.argv[1]), int(sys.argv[2])
assert r['host'] == 'compute2' and r['verified'] is True, r
ev = [i for i in r['instances'] if i['outcome'] == 'evacuated']
assert len(ev) == n and all(i['to'] in ('compute1', 'compute3') for i in ev), r['instances']
assert not [i for i in r['instances'] if i['outcome'] == 'failed'], r['instances']
PY
}

@test "A4 every tagged server ends ACTIVE (the stopped one SHUTOFF) on compute1/compute3; untagged stay on compute2" {
  osctl wait "$T.tagged" '!compute2' 120 "$(cat "$T.off")"
  run osctl servers "$T.all"
  echo "$output"
  while read -r id name st host task; do
    if grep -q "^$id " "$T.tagged"; then
      [[ "$host" == compute1 || "$host" == compute3 ]] || { echo "$name on $host"; false; }
      if [ "$id" = "$(cat "$T.off")" ]; then [ "$st" = SHUTOFF ]; else [ "$st" = ACTIVE ]; fi
    else
      [ "$host" = compute2 ] || { echo "untagged $name moved to $host"; false; }
    fi
  done <<<"$output"
}

@test "A5 no server was evacuated twice: one evacuation migration per tagged server, none for the untagged" {
  sleep 2   # a late duplicate call would show up here
  run osctl evacuations "$T.all"
  echo "$output"
  while read -r id n; do
    if grep -q "^$id " "$T.tagged"; then [ "$n" -eq 1 ]; else [ "$n" -eq 0 ]; fi
  done <<<"$output"
  # and nova-api answered exactly one server action per tagged server since the failure (none for the untagged)
  run action_counts "$T.all" "$(get fail)"
  echo "$output"
  while read -r id n; do
    if grep -q "^$id " "$T.tagged"; then [ "$n" -eq 1 ]; else [ "$n" -eq 0 ]; fi
  done <<<"$output"
  # compute2 stays forced down (fenced) while it is away
  [[ "$(osctl service compute2)" == *forced_down=true ]]
}

@test "A6 compute2 back: nova-compute-wait (as Pacemaker runs it on compute2) enables it, its monitor clears forced_down" {
  bg_stop A-watch; bg_stop A-attr
  # Pacemaker runs nova-compute-wait on the compute node itself, with OCF_RESKEY_CRM_meta_on_node set to the node
  # name; this rig's only cluster node is node1 (no Nova host), so it is run here with the environment Pacemaker
  # gives it on compute2.
  ocf() {
    env -i PATH="$PATH" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=compute-unfence OCF_RESOURCE_TYPE=nova-compute-wait \
      OCF_RESOURCE_PROVIDER=openstack OCF_RESKEY_CRM_meta_on_node=compute2 OCF_RESKEY_CRM_meta_timeout=120000 \
      HA_RSCTMP="$E2E_OUT/rsctmp" HA_LOGFILE="$T.ncw.log" HA_DEBUGLOG="$T.ncw.log" \
      OCF_RESKEY_auth_url="$AUTH_URL" OCF_RESKEY_username=admin OCF_RESKEY_password=admin OCF_RESKEY_tenant_name=admin \
      OCF_RESKEY_endpoint_type=public OCF_RESKEY_evacuation_delay=2 \
      /usr/lib/ocf/resource.d/openstack/nova-compute-wait "$1"
  }
  rm -rf "$E2E_OUT/rsctmp"
  run ocf monitor
  [ "$status" -eq 7 ]
  run ocf start
  echo "$output"; cat "$T.ncw.log" || true
  [ "$status" -eq 0 ]
  mark enabled
  # enabled at once; Nova refuses to clear forced_down while compute2's nova-compute has not run again
  [ "$(osctl service compute2)" = 'status=enabled state=down forced_down=true' ]
  grep -q '^unfence-pending compute2' "$E2E_OUT/rsctmp/compute-unfence.active"
  run ocf monitor
  [ "$status" -eq 0 ]
  [[ "$(osctl service compute2)" == *forced_down=true ]]
  mark restart
  bash "$OSRIG/compute.sh" start compute2 3>&-   # nova-compute must not inherit bats' fd 3
  # the monitor (every 3 s, as "op monitor interval=3s" would) finishes the unfencing once nova-compute runs
  n=0
  for _ in $(seq 1 30); do
    sleep 3; n=$((n + 1))
    run ocf monitor
    [ "$status" -eq 0 ]
    [ ! -s "$E2E_OUT/rsctmp/compute-unfence.active" ] && break   # no longer unfence-pending
  done
  mark unfenced
  echo "monitors: $n"; cat "$T.ncw.log"
  [[ "$(osctl service compute2)" == *forced_down=false ]]
  [ ! -s "$E2E_OUT/rsctmp/compute-unfence.active" ]
  wait_for 30 service_is compute2 'status=enabled state=up forced_down=false'
  [ "$(osctl placement compute2)" = schedulable ]
  osctl schedulable compute2 120
  mark up
  # the timeline, in seconds since the failure
  f=$(get fail)
  evac=$(first_action_ms "$T.tagged" "$f")
  [ -n "$evac" ]
  last=$(awk '$2 ~ /^(ACTIVE|SHUTOFF)@/ {print $1}' "$T.watch" | sort -n | tail -1)
  [ "$(awk '$2 ~ /^(ACTIVE|SHUTOFF)@/' "$T.watch" | wc -l)" -eq 9 ]
  {
    echo "Scenario A timeline (seconds since compute2's nova-compute was killed):"
    {
      echo "  0.0  failure (compute.sh kill compute2)"
      echo "  $(secs "$f" "$(get fence)")  fence done (stonith_admin --fence compute2 returned)"
      while read -r ms v; do echo "  $(secs "$f" "$ms")  evacuate attribute of compute2 = $v"; done <"$T.attr"
      echo "  $(secs "$f" "$evac")  first evacuate call answered by nova-api (nova-api.log)"
      sort -n "$T.watch" | while read -r ms ev id; do
        echo "  $(secs "$f" "$ms")  $(grep "^$id " "$T.tagged" | cut -d' ' -f2) $ev"
      done
      echo "  $(secs "$f" "$(get enabled)")  nova-compute-wait start: compute2 enabled (forced_down kept by Nova)"
      echo "  $(secs "$f" "$(get restart)")  compute.sh start compute2"
      echo "  $(secs "$f" "$(get unfenced)")  nova-compute-wait monitor: forced_down=false accepted ($n monitors)"
      echo "  $(secs "$f" "$(get up)")  compute2 enabled, up, not forced down"
    } | sort -n -s -k1,1
    echo "fence done -> first evacuate call:    $(secs "$(get fence)" "$evac") s"
    echo "fence done -> last tagged instance ACTIVE/SHUTOFF elsewhere: $(secs "$(get fence)" "$last") s"
  } >"$T.timeline"
  cat "$T.timeline"
}
