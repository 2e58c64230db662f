#!/usr/bin/env bats
# Scenario M-A, the OpenStack HA book's deployment: three controllers, three pacemaker_remote compute nodes running
# nova-compute under ocf:openstack:NovaCompute, nova-evacuate on a controller, and a fencing level per compute node
# (the rig's power device, then fence-nova). A compute node dies; Pacemaker notices the lost remote node and fences
# it by itself (no stonith_admin), nova-evacuate evacuates its tagged instances once each; the node is powered on
# again, rejoins, NovaCompute waits for the evacuation, unfences it and starts nova-compute; the host takes a new
# instance. Tests run in order and build on each other. Timeline in $MN_OUT/timings.

load helpers

T="$MN_OUT/A"
mark() { echo "$1=$(now_ms)" >>"$T.times"; }
get() { sed -n "s/^$1=//p" "$T.times" | tail -1; }
BOOK_OCF=(auth_url="$AUTH_URL" username=admin password=admin tenant_name=admin)

setup_file() { rm -f "$MN_OUT"/A.*; }
teardown_file() { bg_stop A-watch; bg_stop A-attr; }

@test "A1 the book's pcs commands: remote compute nodes, node_role, fence-nova, levels, nova-evacuate, nova-compute" {
  mem_sample
  pcsx property set cluster-recheck-interval=1min
  for n in $COMPUTES; do
    # pcs 0.11 asks for "pcs cluster node add-remote" (pcsd on the remote node) unless forced: the book's command
    pcsx resource create "$n" ocf:pacemaker:remote reconnect_interval=60 op monitor interval=20 --force
  done
  for n in $COMPUTES; do wait_for 120 node_is "$n" online; done
  for n in $COMPUTES; do
    pcsx property set --node "$n" node_role=compute 2>/dev/null || pcsx node attribute "$n" node_role=compute
  done
  # the power device really cuts a node: every process in its namespaces ended, its link down (cluster.sh power)
  rm -rf "$POWER_STATE"; mkdir -p "$POWER_STATE"
  pcsx stonith create fence-power fence_rig state_dir="$POWER_STATE" power_hook="$ROOT/test/rig/multinode/power-hook" \
    pcmk_host_list="n1 n2 n3 $COMPUTES"
  # the book's command, dashed names and all; pcs accepts them from our metadata (deprecated aliases)
  pcsx stonith create fence-nova fence_compute auth-url="$AUTH_URL" login=admin passwd=admin tenant-name=admin \
    record-only=1 action=off --force
  for n in $COMPUTES; do pcsx stonith level add 1 "$n" fence-power fence-nova; done
  pcsx resource create nova-evacuate ocf:openstack:NovaEvacuate "${BOOK_OCF[@]}" op monitor interval=10s timeout=120s
  pcsx constraint location nova-evacuate rule resource-discovery=never score=-INFINITY node_role eq compute
  pcsx resource create nova-compute ocf:openstack:NovaCompute "${BOOK_OCF[@]}" binary="$OS_RIG_DIR/bin/nova-compute" \
    evacuation_delay=5 op start timeout=300 clone interleave=true --disabled --force   # pcs 0.11: "clone", not --clone
  pcsx constraint location nova-compute-clone rule resource-discovery=exclusive score=0 node_role eq compute
  pcsx property set stonith-enabled=true
  pcsx resource enable nova-compute
  wait_for 120 started_on fence-power n1 || wait_for 60 running_on fence-power
  for n in $COMPUTES; do wait_for 240 started_on nova-compute "$n"; done
  wait_for 60 running_on nova-evacuate
  for n in $COMPUTES; do wait_for 120 service_is "$n" 'status=enabled state=up forced_down=false'; done
  run running_on nova-evacuate
  [[ "$output" =~ ^n[123]$ ]]
  mnx 1 crm_mon -1
  mem_sample
}

@test "A2 eight servers on compute2: six tagged evacuable, two not" {
  osctl unlimited-quota
  osctl boot A-tag compute2 3xm1.evac/cirros 3xm1.tiny/cirros-evac >"$T.tagged"
  osctl boot A-untag compute2 2xm1.tiny/cirros >"$T.untagged"
  cat "$T.tagged" "$T.untagged" >"$T.all"
  osctl wait "$T.all" compute2 240
  [ "$(nova_compute_pids compute2 | wc -l)" -ge 1 ]
}

@test "A3 compute2 dies: Pacemaker fences it by itself through the level, nova-evacuate evacuates each tagged server once" {
  bg_start A-watch osctl watch "$T.tagged" compute2 "$T.watch"
  bg_start A-attr attr_watch compute2 "$T.attr"
  mark fail
  bash "$MN" power off compute2
  # nobody calls stonith_admin: the cluster loses the remote node and fences it (power device, then fence-nova)
  wait_for 180 fenced_since compute2 "$(get fail)"
  echo "fenced=$(fenced_at compute2 "$(get fail)")" >>"$T.times"
  # the fencer switched compute2 off itself (after the test's own power cut), whatever the level did next
  wait_for 10 powered_since off compute2 "$(get fail)" 2   # the test's own cut, then the fencer's
  osctl wait "$T.tagged" '!compute2' 300
  mark evacuated
  wait_for 120 attr_is compute2 no
  mem_sample
  evacuated_once "$T.tagged"
  never_evacuated "$T.untagged"
  run osctl servers "$T.untagged"
  [ "$(grep -c ' compute2 ' <<<"$output")" -eq 2 ]
  first=$(awk '$2 == "rebuilding" {print $1; exit}' "$T.watch")
  # nothing was evacuated before the power device had switched compute2 off
  fence_off=$(power_events off compute2 "$(get fail)" | sed -n 2p | cut -d' ' -f1)
  [ -n "$first" ] && [ -n "$fence_off" ] && [ "$first" -gt "$fence_off" ]
  yes=$(awk '$2 == "yes" {print $1; exit}' "$T.attr")
  record "M-A compute node dies: failure -> fenced (stonith history) $(secs "$(get fail)" "$(get fenced)") s;" \
    "evacuate=yes $(secs "$(get fail)" "${yes:-0}") s; first rebuild seen $(secs "$(get fail)" "${first:-0}") s;" \
    "last of 6 ACTIVE elsewhere $(secs "$(get fail)" "$(get evacuated)") s"
}

@test "A4 compute2 powered on: it rejoins, NovaCompute unfences it and starts nova-compute; it takes a new server" {
  mark poweron
  # a fencing "reboot" through a level of two devices is an off of both, then an on: the power device's on boots the
  # node again by itself. Otherwise the operator powers it on.
  if [ "$(bash "$MN" power status compute2)" = off ]; then power_on compute2; record "M-A compute2 powered on by the test"; fi
  wait_for 180 node_is compute2 online
  mark rejoined
  wait_for 300 started_on nova-compute compute2
  mark started
  wait_for 120 service_is compute2 'status=enabled state=up forced_down=false'
  wait_for 120 placement_is compute2 schedulable
  osctl schedulable compute2 180
  mark schedulable
  mem_sample
  record "M-A recovery: power on -> remote node online $(secs "$(get poweron)" "$(get rejoined)") s;" \
    "NovaCompute started $(secs "$(get poweron)" "$(get started)") s; schedulable (a server ACTIVE there)" \
    "$(secs "$(get poweron)" "$(get schedulable)") s; failure -> schedulable $(secs "$(get fail)" "$(get schedulable)") s"
}
