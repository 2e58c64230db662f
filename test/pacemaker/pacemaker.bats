#!/usr/bin/env bats
# Our agents under a real single-node Pacemaker 2.1 (test/rig/pacemaker), installed where Pacemaker looks for
# them, configured with the pcs commands an operator types, talking to the OpenStack fake on loopback.
# Tests run in order and build on each other (one cluster for the file).

load ../cli/helpers

attr() { attrd_updater -p -n evacuate -Q -N "$1" 2>/dev/null | sed -n 's/.*value="\(.*\)"/\1/p'; }
attr_is() { [ "$(attr "$1")" = "$2" ]; }
# shellcheck source=../rig/lib.sh
. "$BATS_TEST_DIRNAME/../rig/lib.sh"   # wait_for SECONDS COMMAND..., logged_since, resource_started
started() { resource_started "$1"; }
evacuations() { # number of evacuate calls per server of a host, as "id count" lines
  fake_get state | python3 -c '
import json, sys, collections
s = json.load(sys.stdin)
c = collections.Counter(r["path"].split("/")[-2] for r in s["requests"] if r["method"] == "POST" and r["path"].endswith("/action") and "evacuate" in json.dumps(r.get("body")))
print("\n".join(f"{k} {v}" for k, v in sorted(c.items())))'
}
svc_field() { fake_get state | python3 -c "import json,sys; print([x for x in json.load(sys.stdin)['services'] if x['host']=='$1'][0]['$2'])"; }

setup_file() {
  # the rig's default directory: its logs stay there after a failed run (the rig rotates them on the next start)
  export RIG_DIR=${RIG_DIR:-/tmp/oha-pacemaker-rig}
  bash "$ROOT/test/rig/pacemaker/stop.sh" >/dev/null 2>&1 || true
  bash "$ROOT/test/rig/pacemaker/start.sh"
  start_fake
  # compute2: 4 untagged instances (from start_fake) and 4 tagged ones, one of them SHUTOFF
  fake_post servers '{"host":"compute2","count":2,"flavor":"m1.evacuable","name":"tagged-flavor"}'
  fake_post servers '{"host":"compute2","count":1,"image":"cirros-evacuable-tag","name":"tagged-image"}'
  fake_post servers '{"host":"compute2","count":1,"flavor":"m1.evacuable","status":"SHUTOFF","name":"tagged-off"}'
  export CREDS="auth_url=$AUTH_URL endpoint_type=public"
  # agents' token cache: Pacemaker's agents use the default state dir; start it empty
  rm -rf /run/openstack-ha-agents
}
teardown() {
  # a failed test must not leave Keystone "down" for the next one
  fake_post keystone '{"down": false}' >/dev/null 2>&1 || true
}
teardown_file() {
  bash "$ROOT/test/rig/pacemaker/stop.sh" || true
  stop_fake
}

@test "pcs accepts our agents' metadata: describe lists the reference parameters" {
  run pcs resource describe ocf:openstack:NovaEvacuate
  [ "$status" -eq 0 ]
  for p in auth_url username password tenant_name user_domain project_domain endpoint_type region_name insecure no_shared_storage verbose evacuate_delay; do
    [[ "$output" == *"$p"* ]] || { echo "missing $p"; false; }
  done
  run pcs stonith describe fence_compute
  [ "$status" -eq 0 ]; [[ "$output" == *record_only* ]]
}

@test "ocf-tester passes on the installed NovaEvacuate, nova-compute-wait and NovaCompute" {
  run ocf-tester -n nova-evacuate-test -o auth_url="$AUTH_URL" -o username=admin -o password=admin -o tenant_name=admin \
      -o endpoint_type=public /usr/lib/ocf/resource.d/openstack/NovaEvacuate
  echo "$output"; [ "$status" -eq 0 ]
  run ocf-tester -n nova-compute-wait-test -o auth_url="$AUTH_URL" -o username=admin -o password=admin -o tenant_name=admin \
      -o endpoint_type=public -o evacuation_delay=0 /usr/lib/ocf/resource.d/openstack/nova-compute-wait
  echo "$output"; [ "$status" -eq 0 ]
  # nova-compute here is test/daemons/fake-service, which reports to the fake as node1's nova-compute does to Nova
  conf="$BATS_FILE_TMPDIR/nova.conf"
  printf '[DEFAULT]\nhost = node1\n[fake]\nport = 0\nreport_url = %s\nreport_binary = nova-compute\nreport_host = node1\nreport_interval = 0.2\n' \
    "$FAKE/_fake/revive" >"$conf"
  fake_post kill '{"host":"node1"}' >/dev/null
  run ocf-tester -n nova-compute-test -o auth_url="$AUTH_URL" -o username=admin -o password=admin -o tenant_name=admin \
      -o endpoint_type=public -o evacuation_delay=0 -o config="$conf" -o binary="$ROOT/test/daemons/fake-service" -o user=root \
      /usr/lib/ocf/resource.d/openstack/NovaCompute
  echo "$output"; [ "$status" -eq 0 ]
  # (its start waited for the fake to see node1's service up again) and its stop ended the daemon
  ! pgrep -f "fake-service --config-file $conf" >/dev/null || false
  fake_post revive '{"host":"node1"}' >/dev/null
}

@test "pcs stonith create fence-nova (record_only=1) and a level-1 topology with the rig's power device start" {
  pcs property set stonith-enabled=true
  pcs stonith create fence-power fence_rig state_dir="$BATS_FILE_TMPDIR/power" \
      pcmk_host_list="compute1 compute2 compute3 node1"
  pcs stonith create fence-nova fence_compute auth_url="$AUTH_URL" login=admin passwd=admin tenant_name=admin \
      endpoint_type=public record_only=1 pcmk_host_list="compute1 compute2 compute3 node1"
  # compute2 is not a cluster member here (pcs wants --force for that); node1 is
  pcs stonith level add 1 compute2 fence-power fence-nova --force
  pcs stonith level add 1 node1 fence-power fence-nova
  wait_for 120 started fence-nova
  power_device_started fence-power 90
  # the device's monitor ran our agent without error
  ! crm_mon -1 | grep -qi 'failed' || false
}

@test "pcs resource create nova-evacuate ocf:openstack:NovaEvacuate is accepted and starts" {
  pcs resource create nova-evacuate ocf:openstack:NovaEvacuate auth_url="$AUTH_URL" username=admin password=admin \
      tenant_name=admin endpoint_type=public op monitor interval=3s --disabled
  pcs resource enable nova-evacuate
  wait_for 120 started nova-evacuate
  # the password is in the CIB (that is where Pacemaker keeps it) but never on a process command line or in the log
  ! grep -q 'password=admin' "$RIG_DIR"/ra.log || false
}

@test "stonith_admin --fence compute2 through level 1 leaves evacuate=yes, then nova-evacuate evacuates every instance once" {
  pcs resource disable nova-evacuate --wait=30
  fake_post kill '{"host":"compute2"}'
  run stonith_admin --fence compute2 --timeout 60
  echo "$output"; [ "$status" -eq 0 ]
  [ "$(attr compute2)" = yes ]
  stonith_admin --history compute2 | grep -q 'successful'
  fake_post reset-requests '{}'
  pcs resource enable nova-evacuate
  wait_for 60 attr_is compute2 no
  run evacuations
  echo "$output"
  [ "$(echo "$output" | wc -l)" -eq 4 ]
  ! echo "$output" | grep -qv ' 1$' || false
  [ "$(svc_field compute2 forced_down)" = True ]
  grep -q 'Completed evacuation of compute2' "$RIG_DIR"/ra.log
}

@test "Keystone unreachable during monitor: nova-evacuate keeps running, warns, and evacuates once it answers" {
  fake_post keystone '{"down": true}'
  rm -rf /run/openstack-ha-agents   # no cached token: every monitor has to reach Keystone
  fake_post kill '{"host":"compute3"}'
  since=$(log_lines "$RIG_DIR"/ra.log)
  attrd_updater -p -n evacuate -N compute3 -U yes
  # two monitors or more (every 3 s) found Keystone unreachable and left compute3 flagged
  wait_for 60 logged_since "$RIG_DIR"/ra.log "$since" 'will be evacuated when it answers' 2
  [ "$(attr compute3)" = yes ]
  started nova-evacuate
  fake_post keystone '{"down": false}'
  wait_for 60 attr_is compute3 no
}

@test "nova-evacuate takes over at once the claim of ctl9, not a cluster node; nova-compute-wait holds its start while node1's evacuation runs; node1 is unfenced once its nova-compute restarted" {
  pcs resource disable nova-evacuate --wait=30
  fake_post servers '{"host":"node1","count":2,"flavor":"m1.evacuable","name":"on-node1"}'
  fake_post kill '{"host":"node1"}'
  # fence node1 in Nova with our fence agent (not record-only): forced down, disabled, evacuate=yes
  printf 'auth_url=%s\nlogin=admin\npasswd=admin\ntenant_name=admin\nendpoint_type=public\naction=off\nport=node1\n' "$AUTH_URL" | fence_compute
  [ "$(attr node1)" = yes ]
  [ "$(svc_field node1 forced_down)" = True ]
  # a fresh claim of a node that is not in the cluster (ctl9): nothing can still be evacuating behind it, so
  # nova-evacuate takes it over at once (a live node's fresh claim is deferred to: unit tests)
  attrd_updater -p -n evacuate -N node1 -U "ctl9@$(date +%s)"
  since=$(log_lines "$RIG_DIR"/ra.log)
  # Keystone down keeps node1's evacuation pending (each monitor takes the claim over, then cannot reach Nova) with
  # short monitors, so that compute-unfence's start is seen holding for it (a long in-flight monitor, as with
  # evacuate_delay, held pcs resource create back until it ended)
  fake_post keystone '{"down": true}'
  rm -rf /run/openstack-ha-agents   # no cached token
  pcs resource enable nova-evacuate
  wait_for 120 started nova-evacuate
  wait_for 60 logged_since "$RIG_DIR"/ra.log "$since" 'Taking over the evacuation of node1 claimed by ctl9 .* left the cluster or was fenced since'
  pcs resource create compute-unfence ocf:openstack:nova-compute-wait auth_url="$AUTH_URL" username=admin password=admin \
      tenant_name=admin endpoint_type=public evacuation_delay=2 op start timeout=150s op monitor interval=2s
  wait_for 60 logged_since "$RIG_DIR"/ra.log "$since" 'Waiting for pending evacuations from node1'
  ! started compute-unfence || false
  [ "$(attr node1)" != no ]
  fake_post keystone '{"down": false}'
  [ "$(svc_field node1 forced_down)" = True ]
  wait_for 90 attr_is node1 no
  ! grep -q 'Deferring processing partial evacuation of node1 by ctl9' "$RIG_DIR"/ra.log || false
  wait_for 60 started compute-unfence
  # enabled at once; like real Nova, the fake refuses to clear forced_down while node1's evacuation records are
  # "done", i.e. until nova-compute has started again there
  [ "$(svc_field node1 status)" = enabled ]
  [ "$(svc_field node1 forced_down)" = True ]
  # a monitor (every 2 s) since the start tried to clear forced_down and the fake refused
  since=$(log_lines "$RIG_DIR"/ra.log)
  wait_for 30 logged_since "$RIG_DIR"/ra.log "$since" 'nova-compute on node1 stays forced down until it has started again|could not finish unfencing node1'
  [ "$(svc_field node1 forced_down)" = True ]
  fake_post revive '{"host":"node1"}'
  wait_for 20 bash -c "[ \"\$(curl -fsS $FAKE/_fake/state | python3 -c 'import json,sys; print([x for x in json.load(sys.stdin)[\"services\"] if x[\"host\"]==\"node1\"][0][\"forced_down\"])')\" = False ]"
  started compute-unfence
}
