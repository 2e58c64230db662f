#!/usr/bin/env bats
# The built multi-call binary: dispatch, version, and both agent kinds' command-line contracts.

load helpers

setup_file() {
  make_links
  start_fake
}
teardown_file() { stop_fake; }
setup() { setup_state_dir; }

@test "--version names our version and the embedded Node, not the machine's" {
  run "$BIN" --version
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^openstack-ha-agents\ [0-9]+\.[0-9]+\.[0-9]+\ \(Node\.js\ v24\. ]]
}

@test "--list names every agent, sorted" {
  run "$BIN" --list
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf '%s\n' NovaCompute NovaEvacuate cinder-api cinder-backup cinder-scheduler cinder-volume fence_compute fence_evacuate \
    fence_openstack fence_virsh glance-api keystone neutron-server nova-api nova-compute-wait nova-conductor nova-scheduler \
    openstack-cinder-volume openstack-floating-ip openstack-info openstack-virtual-ip | head -c -1)" ]
}

@test "dispatch through a hard link, a symlink and the first argument" {
  run "$LINKS/NovaEvacuate" meta-data
  [ "$status" -eq 0 ]; [[ "$output" == *'<resource-agent name="NovaEvacuate"'* ]]
  run "$LINKS/fence_compute" -o metadata
  [ "$status" -eq 0 ]; [[ "$output" == *'<resource-agent name="fence_compute"'* ]]
  mkdir -p "$BATS_TEST_TMPDIR/s" && ln -s "$BIN" "$BATS_TEST_TMPDIR/s/fence_evacuate"
  run "$BATS_TEST_TMPDIR/s/fence_evacuate" -o metadata
  [ "$status" -eq 0 ]; [[ "$output" == *'<resource-agent name="fence_evacuate"'* ]]
  run "$BIN" nova-compute-wait meta-data
  [ "$status" -eq 0 ]; [[ "$output" == *'<resource-agent name="nova-compute-wait"'* ]]
  run "$LINKS/NovaCompute" meta-data
  [ "$status" -eq 0 ]; [[ "$output" == *'<resource-agent name="NovaCompute"'* ]]
}

@test "unknown agent name: exit 2 with the usage and the list of agents" {
  run "$BIN" NoSuchAgent meta-data
  [ "$status" -eq 2 ]
  [[ "$output" == *"unknown command or agent 'NoSuchAgent'"* ]]
}

@test "every metadata validates: OCF against ra-api-1.dtd, fence against metadata.rng" {
  for a in NovaEvacuate nova-compute-wait NovaCompute; do
    "$LINKS/$a" meta-data | (cd /usr/share/resource-agents && xmllint --noout --valid -)
  done
  for a in fence_compute fence_evacuate fence_openstack fence_virsh; do
    "$LINKS/$a" -o metadata | xmllint --noout --relaxng /usr/share/cluster/relaxng/metadata.rng -
  done
}

@test "fence metadata keeps every parameter of Debian's reference agents, with the same defaults" {
  for a in fence_compute fence_evacuate fence_openstack fence_virsh; do
    ref=/usr/sbin/$a; [ -x "$ref.distrib" ] && ref=$ref.distrib
    # the reference is only there before our install replaced it (dpkg-divert keeps it as .distrib)
    "$ref" -o metadata 2>/dev/null | grep -q 'openstack-ha-agents' && skip "reference $a not available"
    want=$("$ref" -o metadata | python3 "$BATS_TEST_DIRNAME/params.py")
    got=$("$LINKS/$a" -o metadata | python3 "$BATS_TEST_DIRNAME/params.py")
    missing=$(comm -23 <(echo "$want") <(echo "$got"))
    [ -z "$missing" ] || { echo "$a lacks or differs: $missing"; false; }
  done
}
