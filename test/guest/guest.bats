#!/usr/bin/env bats
# A guest cluster inside the rig's OpenStack (test/guest/run.sh started everything): the pcs commands of the README's
# "Guest clusters" section, a failover by fencing through Nova, a fail-back with pcs resource move, outages of Cinder
# and Neutron during monitors, unknown ids, and ocf-tester on every guest agent. The tests build on each other.
load helpers

@test "G1 the README's pcs commands: fence_openstack per node, openstack-info and the shared volume cloned, a group of the moving volume, virtual IP and floating IP" {
  pcs() { gx 1 pcs "$@"; }
  pcs resource defaults update resource-stickiness=100
  pcs stonith create fence-n1 fence_openstack openrc="$OPENRC" plug="$SERVER_n1" pcmk_host_list=n1
  pcs stonith create fence-n2 fence_openstack openrc="$OPENRC" plug="$SERVER_n2" pcmk_host_list=n2
  pcs resource create openstack-info ocf:openstack:openstack-info openrc="$OPENRC" op monitor interval=10s clone interleave=true
  pcs resource create shared-vol ocf:openstack:openstack-cinder-volume openrc="$OPENRC" volume_id="$VOL_SHARED" \
    op monitor interval=10s clone interleave=true
  pcs resource create data-vol ocf:openstack:openstack-cinder-volume openrc="$OPENRC" volume_id="$VOL_DATA" \
    op monitor interval=10s --group guest
  pcs resource create vip ocf:openstack:openstack-virtual-ip openrc="$OPENRC" ip="$VIP" subnet_id="$SUBNET" \
    op monitor interval=10s --group guest
  pcs resource create fip ocf:openstack:openstack-floating-ip openrc="$OPENRC" ip_id="$FIP_ID" subnet_id="$SUBNET" \
    op monitor interval=10s --group guest
  pcs constraint order start openstack-info-clone then shared-vol-clone
  pcs constraint order start openstack-info-clone then guest
  pcs constraint colocation add guest with openstack-info-clone
  pcs property set stonith-enabled=true
  t0=$(now_ms)
  wait_for 180 group_started
  for n in n1 n2; do wait_for 60 started_on shared-vol "$n"; wait_for 30 started_on openstack-info "$n"; done
  record "G1 resources started $(secs "$t0" "$(now_ms)") s after stonith-enabled=true"
  X=$(group_node); echo "$X" >"$GUEST_OUT/active"
  # openstack-info published each node's server, found on its config drive
  for n in n1 n2; do
    run gx 1 attrd_updater -Q -n openstack_id -N "$n"
    [[ "$output" == *"value=\"$(server_of "$n")\""* ]]
  done
  attached_both "$VOL_SHARED"
  attached_only "$VOL_DATA" "$X"
  vip_only_on "$X"
  fip_on "$X"
  # the moving volume's disk is on the active node only
  gx "${X#n}" test -e "/run/disk/by-id/virtio-${VOL_DATA:0:20}"
  ! gx "$(other "$X" | tr -d n)" test -e "/run/disk/by-id/virtio-${VOL_DATA:0:20}" || false
  [ -z "$(failures)" ]
}

@test "G2 failover: the active node dies, is fenced through Nova (SHUTOFF, then ACTIVE), and everything moves exactly once" {
  X=$(cat "$GUEST_OUT/active"); Y=$(other "$X"); export CRM_NODE=${Y#n}
  t0=$(now_ms)
  bash "$MN" power off "$X"     # the guest OS dies; Nova still reports the server ACTIVE
  wait_for 180 started_on fip "$Y"
  t1=$(now_ms)
  # fenced through fence_openstack: Nova stopped and started the server once, and the hypervisor acted on it
  [ "$(count_actions "$X" stop "$t0")" = 1 ]
  [ "$(count_actions "$X" start "$t0")" = 1 ]
  hv_since "$t0" | grep -q "server $X ACTIVE -> SHUTOFF"
  gx "$CRM_NODE" stonith_admin --history "$X" | grep -q "reboot of $X successful"
  # the moving volume: detached from the dead node's server once, attached to the survivor's once
  attached_only "$VOL_DATA" "$Y"
  [ "$(count_actions "$X" detach_volume "$t0")" = 1 ]
  [ "$(count_actions "$Y" attach_volume "$t0")" = 1 ]
  # the shared (multiattach) volume was left attached to both
  attached_both "$VOL_SHARED"
  vip_only_on "$Y"
  fip_on "$Y"
  record "G2 $X killed: the group started on $Y $(secs "$t0" "$t1") s later"
  # the fenced node boots again (the hypervisor saw ACTIVE), rejoins, and its shared-volume instance runs again
  wait_for 120 node_is "$X" online
  record "G2 $X back online $(secs "$t0" "$(now_ms)") s after it died"
  wait_for 90 started_on shared-vol "$X"
  wait_for 30 started_on openstack-info "$X"
  # nothing ran twice: the group stayed on the survivor (stickiness), the address on its port alone, no failure
  [ "$(group_node)" = "$Y" ]
  vip_only_on "$Y"
  attached_only "$VOL_DATA" "$Y"
  [ "$(count_actions "$Y" attach_volume "$t0")" = 1 ]
  [ -z "$(failures)" ]
  echo "$Y" >"$GUEST_OUT/active"
}

@test "G3 fail back with pcs resource move: the group moves to the other node once" {
  Y=$(cat "$GUEST_OUT/active"); X=$(other "$Y"); export CRM_NODE=${X#n}
  t0=$(now_ms)
  gx "$CRM_NODE" pcs resource move guest "$X"
  wait_for 180 started_on fip "$X"
  record "G3 pcs resource move guest $X: started there $(secs "$t0" "$(now_ms)") s later"
  attached_only "$VOL_DATA" "$X"
  [ "$(count_actions "$Y" detach_volume "$t0")" = 1 ]
  [ "$(count_actions "$X" attach_volume "$t0")" = 1 ]
  attached_both "$VOL_SHARED"
  vip_only_on "$X"
  fip_on "$X"
  gx "$CRM_NODE" pcs resource clear guest
  [ -z "$(failures)" ]
  echo "$X" >"$GUEST_OUT/active"
}

@test "G4 Cinder and Neutron down during monitors: warnings, no false failure, nothing moves" {
  X=$(cat "$GUEST_OUT/active"); export CRM_NODE=${X#n}
  ra="$MN_DIR/$X/var-log-pacemaker/ra.log"
  n0=$(log_lines "$ra"); t0=$(now_ms)
  bash "$ROOT/test/rig/openstack/cinder.sh" stop api
  bash "$ROOT/test/rig/openstack/service.sh" stop neutron-server
  # every resource's monitor met the outage (monitors every 10 s) and said so
  for r in data-vol vip fip shared-vol; do
    wait_for 60 logged_since "$ra" "$n0" "\($r[):].*WARN.*(not answering|last known state)"
  done
  [ -z "$(failures)" ]
  started_on data-vol "$X" && started_on vip "$X" && started_on fip "$X"
  bash "$ROOT/test/rig/openstack/service.sh" start neutron-server
  bash "$ROOT/test/rig/openstack/cinder.sh" start api
  # the monitors ask the services again (their requests in the services' logs), and none failed
  nl=$(log_lines "$OS_RIG_DIR/log/neutron-server.log"); cl=$(log_lines "$OS_RIG_DIR/log/cinder/cinder-api.log")
  wait_for 60 logged_since "$OS_RIG_DIR/log/neutron-server.log" "$nl" "GET /v2.0/(ports|floatingips)" 4
  wait_for 60 logged_since "$OS_RIG_DIR/log/cinder/cinder-api.log" "$cl" "GET /v3/.*/volumes/$VOL_DATA" 2
  [ -z "$(failures)" ]
  [ "$(group_node)" = "$X" ]
  attached_only "$VOL_DATA" "$X"
  # no node was fenced for it (a failed monitor, then a stop that cannot reach OpenStack, would have been)
  ! hv_since "$t0" | grep -q SHUTOFF || false
  for n in n1 n2; do started_on shared-vol "$n"; done
}

@test "G5 unknown ids: exit 6 with the reason, probes included; Pacemaker keeps the resource stopped" {
  X=$(cat "$GUEST_OUT/active"); export CRM_NODE=${X#n}
  bogus=$(cat /proc/sys/kernel/random/uuid)
  gx "$CRM_NODE" pcs resource create bad-vol ocf:openstack:openstack-cinder-volume openrc="$OPENRC" volume_id="$bogus"
  gx "$CRM_NODE" pcs resource create bad-vip ocf:openstack:openstack-virtual-ip openrc="$OPENRC" ip=10.251.0.200 subnet_id="$bogus"
  wait_for 60 failed_with bad-vol "not found"
  wait_for 30 failed_with bad-vip "not found"
  failures | grep -E "^bad-vol_monitor_0 .*volume-id $bogus not found"
  failures | grep -E "^bad-vip_monitor_0 .*subnet_id $bogus not found"
  for n in n1 n2; do ! started_on bad-vol "$n" || false; ! started_on bad-vip "$n" || false; done
  # their stops (Pacemaker stops a resource whose probe failed) left the real address's attribute alone
  gx "$CRM_NODE" attrd_updater -Q -n openstack_virtual_ip -N "$X" | grep -q "value=\"$VIP\""
  started_on vip "$X"; started_on data-vol "$X"
  gx "$CRM_NODE" pcs resource delete bad-vol
  gx "$CRM_NODE" pcs resource delete bad-vip
  gx "$CRM_NODE" pcs resource cleanup
  wait_for 30 no_failures
}

@test "G6 ocf-tester passes on openstack-info, openstack-cinder-volume, openstack-virtual-ip and openstack-floating-ip inside a guest node" {
  X=$(cat "$GUEST_OUT/active"); Y=$(other "$X")
  # on the standby node, with objects of their own (a second address, the standby's own volume, a second floating IP)
  run g setup-extra "$GUEST_DIR"
  [ "$status" -eq 0 ]
  # shellcheck disable=SC1091
  . "$GUEST_DIR/extra.env"
  t() { gx "${Y#n}" env OPENSTACK_HA_AGENTS_DISK_BY_ID=/run/disk/by-id ocf-tester -n "$1" -o openrc="$OPENRC" "${@:3}" "/usr/lib/ocf/resource.d/openstack/$2"; }
  run t tinfo openstack-info
  echo "$output"; [ "$status" -eq 0 ]
  run t tvol openstack-cinder-volume -o volume_id="$VOL_EXTRA"
  echo "$output"; [ "$status" -eq 0 ]
  run t tvip openstack-virtual-ip -o ip=10.251.0.101 -o subnet_id="$SUBNET"
  echo "$output"; [ "$status" -eq 0 ]
  run t tfip openstack-floating-ip -o ip_id="$FIP2_ID" -o subnet_id="$SUBNET"
  echo "$output"; [ "$status" -eq 0 ]
  [ "$(g volume "$VOL_EXTRA")" = available ]
  [ -z "$(failures)" ]
}
