#!/usr/bin/env bats
# NovaEvacuate and nova-compute-wait as Pacemaker's executor calls them, outside a cluster (no attrd needed).

load helpers

setup_file() { make_links; }
setup() {
  export HA_RSCTMP="$BATS_TEST_TMPDIR/rsctmp" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=nova-evacuate
  mkdir -p "$HA_RSCTMP"
}

@test "NovaEvacuate validate-all without credentials: 6 (not configured) and an ocf-exit-reason" {
  run "$LINKS/NovaEvacuate" validate-all
  [ "$status" -eq 6 ]
  [[ "$output" == *"ocf-exit-reason:auth_url, username, password, tenant_name not configured"* ]]
}

@test "NovaEvacuate start and monitor with a missing parameter: 6; the probe of the stopped resource: 7" {
  export OCF_RESKEY_auth_url=http://127.0.0.1:9/v3 OCF_RESKEY_username=admin OCF_RESKEY_password=pw
  run "$LINKS/NovaEvacuate" start
  [ "$status" -eq 6 ]; [[ "$output" == *"ocf-exit-reason:tenant_name not configured"* ]]
  OCF_RESKEY_CRM_meta_interval=10000 run "$LINKS/NovaEvacuate" monitor
  [ "$status" -eq 6 ]
  OCF_RESKEY_CRM_meta_interval=0 run "$LINKS/NovaEvacuate" monitor
  [ "$status" -eq 7 ]
  [ ! -e "$HA_RSCTMP/nova-evacuate.active" ]
}

@test "NovaEvacuate: bad endpoint_type and a non-integer evacuate_delay are configuration errors" {
  export OCF_RESKEY_auth_url=http://127.0.0.1:9/v3 OCF_RESKEY_username=admin OCF_RESKEY_password=pw OCF_RESKEY_tenant_name=admin
  OCF_RESKEY_endpoint_type=someURL run "$LINKS/NovaEvacuate" validate-all
  [ "$status" -eq 6 ]; [[ "$output" == *"endpoint_type 'someURL' must be one of"* ]]
  OCF_RESKEY_evacuate_delay=soon run "$LINKS/NovaEvacuate" validate-all
  [ "$status" -eq 6 ]; [[ "$output" == *"evacuate_delay 'soon' is not an integer"* ]]
}

@test "NovaEvacuate: project_name stands for tenant_name; start/stop/monitor follow the state file" {
  export OCF_RESKEY_auth_url=http://127.0.0.1:9/v3 OCF_RESKEY_username=admin OCF_RESKEY_password=pw OCF_RESKEY_project_name=admin
  run "$LINKS/NovaEvacuate" validate-all
  [ "$status" -eq 0 ]
  run "$LINKS/NovaEvacuate" start
  [ "$status" -eq 0 ]; [ -e "$HA_RSCTMP/nova-evacuate.active" ]
  run "$LINKS/NovaEvacuate" stop
  [ "$status" -eq 0 ]; [ ! -e "$HA_RSCTMP/nova-evacuate.active" ]
  OCF_RESKEY_CRM_meta_interval=10000 run "$LINKS/NovaEvacuate" monitor
  [ "$status" -eq 7 ]
}

@test "the password never appears in an exit reason or the log" {
  export OCF_RESKEY_auth_url=http://127.0.0.1:9/v3 OCF_RESKEY_username=admin OCF_RESKEY_password=Sup3rS3cret OCF_RESKEY_tenant_name=admin
  export HA_LOGFILE="$BATS_TEST_TMPDIR/ha.log" HA_debug=1
  OCF_RESKEY_endpoint_type=bad run "$LINKS/NovaEvacuate" validate-all
  [ "$status" -eq 6 ]
  [[ "$output" != *Sup3rS3cret* ]]
  ! grep -q Sup3rS3cret "$HA_LOGFILE" || false
  grep -q 'NovaEvacuate(nova-evacuate)' "$HA_LOGFILE"
}

@test "unsupported action: 3; no action: 2; usage: 0" {
  run "$LINKS/NovaEvacuate" promote
  [ "$status" -eq 3 ]
  run "$LINKS/nova-compute-wait"
  [ "$status" -eq 2 ]
  run "$LINKS/nova-compute-wait" usage
  [ "$status" -eq 0 ]; [[ "$output" == *"evacuation_delay"* ]]
}

@test "a cloud that no clouds.yaml names: validate-all and start give 6 with the reason; the probe 7" {
  export HOME="$BATS_TEST_TMPDIR" OCF_RESKEY_cloud=nosuchcloud
  cd "$BATS_TEST_TMPDIR"
  run "$LINKS/NovaEvacuate" validate-all
  [ "$status" -eq 6 ]; [[ "$output" == *"ocf-exit-reason:"*nosuchcloud* ]]
  run "$LINKS/nova-compute-wait" start
  [ "$status" -eq 6 ]; [[ "$output" == *"ocf-exit-reason:"*nosuchcloud* ]]
  OCF_RESKEY_CRM_meta_interval=0 run "$LINKS/NovaEvacuate" monitor
  [ "$status" -eq 7 ]
}

@test "NovaEvacuate and nova-compute-wait: monitor of a started resource is 0 when attrd can't be reached (warning logged)" {
  export OCF_RESKEY_auth_url=http://127.0.0.1:9/v3 OCF_RESKEY_username=admin OCF_RESKEY_password=pw OCF_RESKEY_tenant_name=admin
  export OCF_RESKEY_CRM_meta_interval=10000 OCF_RESKEY_CRM_meta_on_node=node1 HA_LOGFILE="$BATS_TEST_TMPDIR/ra.log"
  mkdir -p "$BATS_TEST_TMPDIR/stub"
  printf '#!/bin/sh\necho "Could not connect to the attribute manager" >&2\nexit 102\n' >"$BATS_TEST_TMPDIR/stub/attrd_updater"
  chmod +x "$BATS_TEST_TMPDIR/stub/attrd_updater"
  run "$LINKS/NovaEvacuate" start
  [ "$status" -eq 0 ]
  PATH="$BATS_TEST_TMPDIR/stub:/usr/bin:/bin" run "$LINKS/NovaEvacuate" monitor
  [ "$status" -eq 0 ]
  grep -q 'WARNING: cannot read the evacuate attributes' "$HA_LOGFILE"
  touch "$HA_RSCTMP/nova-evacuate.active"
  PATH="$BATS_TEST_TMPDIR/stub:/usr/bin:/bin" run "$LINKS/nova-compute-wait" monitor
  [ "$status" -eq 0 ]
}
