#!/usr/bin/env bats
# Fault: the nova-evacuate resource is restarted (crm_resource --restart) while it is evacuating compute2 (its
# claim "node1@EPOCH" is set). The restarted resource must finish the job without evacuating any server twice.
# Runs after scenarios A and B on the same rigs (B leaves fence-power + fence-nova as compute2's level 1,
# nova-evacuate disabled, compute2 up and enabled).

load helpers

T="$E2E_OUT/C"
mark() { echo "$1=$(now_ms)" >>"$T.times"; }
get() { sed -n "s/^$1=//p" "$T.times" | tail -1; }

setup_file() {
  rm -f "$E2E_OUT"/C.*
}
teardown_file() {
  bg_stop C-attr
}

@test "C1 nova-evacuate enabled again; 12 tagged servers booted on compute2" {
  pcs resource enable nova-evacuate
  wait_for 60 started nova-evacuate
  wait_for 60 service_is compute2 'status=enabled state=up forced_down=false'
  osctl boot C-tag compute2 6xm1.evac/cirros 6xm1.tiny/cirros-evac >"$T.tagged"
  osctl wait "$T.tagged" compute2 180
}

@test "C2 compute2 fenced; nova-evacuate restarted as soon as it claims compute2; every server evacuated once" {
  bg_start C-attr attr_watch compute2 "$T.attr"
  mark fail
  bash "$OSRIG/compute.sh" kill compute2
  run stonith_admin --fence compute2 --timeout 120
  [ "$status" -eq 0 ]
  mark fence
  # wait for the claim (node1@EPOCH), then restart the resource in the middle of its evacuation
  for _ in $(seq 1 300); do [[ "$(attr compute2)" == node1@* ]] && break; sleep 0.05; done
  [[ "$(attr compute2)" == node1@* ]]
  mark claim
  run crm_resource --restart -r nova-evacuate --timeout=120s
  echo "$output"
  [ "$status" -eq 0 ]
  mark restarted
  wait_for 150 attr_is compute2 no
  mark done
  bg_stop C-attr
  cat "$T.attr"
  osctl wait "$T.tagged" '!compute2' 120
  started nova-evacuate
  sleep 2
  evacuated_once "$T.tagged" "$(get fail)"
  f=$(get fail)
  {
    echo "Fault C timeline (nova-evacuate restarted mid-evacuation; seconds since the failure):"
    echo "  $(secs "$f" "$(get fence)") fence done; $(secs "$f" "$(get claim)") claim seen; $(secs "$f" "$(get restarted)") crm_resource --restart returned; $(secs "$f" "$(get done)") evacuate=no"
    echo "  evacuate calls answered before the restart began: $(actions_between "$T.tagged" "$f" "$(get claim)"), during it: $(actions_between "$T.tagged" "$(get claim)" "$(get restarted)"), after it: $(actions_between "$T.tagged" "$(get restarted)" "$(now_ms)") (12 servers, one call each)"
  } >"$T.timeline"
  grep -E 'NovaEvacuate\(nova-evacuate\).*(compute2|Resum|Skip|rebuild)' "$RIG_DIR/ra.log" | tail -15 >>"$T.timeline" || true
  cat "$T.timeline"
}

@test "C3 compute2 back: started again and unfenced with stonith_admin --unfence" {
  restart_and_unfence compute2
}
