#!/usr/bin/env bats
# The built agents as processes under faults, against the OpenStack simulator: an evacuator SIGKILLed mid-host and
# started again elsewhere, two NovaEvacuate monitors racing for one flagged host, and the status command. Each
# evacuation scenario checks: no instance lost, none evacuated twice.
# NovaEvacuate needs attrd_updater: test/fake/bin has a file-backed stand-in (no cluster here; the real-Pacemaker
# suites use the real one).

load helpers

setup_file() {
  make_links
  start_fake
}
teardown_file() { stop_fake; }
setup() { setup_state_dir; }


# check_host HOST IDS_FILE: every listed instance left HOST, runs (ACTIVE/SHUTOFF), has exactly one evacuation
# migration that did not fail, and no evacuate request for it was accepted twice
check_host() {
  fake_get state >"$BATS_TEST_TMPDIR/state.json"
  python3 - "$BATS_TEST_TMPDIR/state.json" "$1" "$2" <<'PY'
import json, sys, collections
state, host, ids = json.load(open(sys.argv[1])), sys.argv[2], json.load(open(sys.argv[3]))
servers = {s['id']: s for s in state['servers']}
live = collections.Counter(m['instanceUuid'] for m in state['migrations']
                           if m['type'] == 'evacuation' and m['status'] not in ('failed', 'error'))
accepted = collections.Counter(r['path'].split('/')[-2] for r in state['requests']
                               if r['method'] == 'POST' and r['path'].endswith('/action') and r['status'] == 200)
bad = []
for i in ids:
    s = servers.get(i)
    if s is None: bad.append(f'{i}: lost'); continue
    if s['host'] in (host, None) or s['status'] not in ('ACTIVE', 'SHUTOFF') or s['task_state']:
        bad.append(f"{i}: {s['host']} {s['status']} {s['task_state']}")
    if live[i] != 1: bad.append(f'{i}: {live[i]} evacuations')
    if accepted[i] != 1: bad.append(f'{i}: {accepted[i]} accepted requests')
assert not bad, bad
print(f'{len(ids)} instances: each evacuated once, none lost')
PY
}

# add_servers HOST COUNT: evacuable instances on HOST; their ids in $BATS_TEST_TMPDIR/ids.json
add_servers() {
  fake_post servers "{\"host\":\"$1\",\"count\":$2,\"flavor\":\"m1.evacuable\"}" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps([s["id"] for s in (d["servers"] if isinstance(d, dict) else d)]))' \
    >"$BATS_TEST_TMPDIR/ids.json"
  [ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$BATS_TEST_TMPDIR/ids.json")" -eq "$2" ]
}

# evacuations so far (accepted evacuate requests)
accepted_count() {
  fake_get state | python3 -c 'import json,sys; s=json.load(sys.stdin); print(sum(1 for r in s["requests"] if r["method"]=="POST" and r["path"].endswith("/action") and r["status"]==200))'
}

@test "fence_evacuate SIGKILLed mid-host, then run again with a fresh state (another node): each instance evacuated once" {
  fake_post reset-requests '{}' >/dev/null
  add_servers compute3 30
  fake_post kill '{"host":"compute3"}' >/dev/null
  fake_post latency '{"ms":150}' >/dev/null
  { creds; echo action=off; echo port=compute3; echo workers=1; } >"$BATS_TEST_TMPDIR/in"
  "$LINKS/fence_evacuate" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/first.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do [ "$(accepted_count)" -ge 8 ] && break; sleep 0.05; done
  kill -9 "$pid"
  wait "$pid" || true
  done_before=$(accepted_count)
  echo "killed after $done_before accepted evacuations"
  [ "$done_before" -ge 8 ] && [ "$done_before" -lt 30 ]
  fake_post latency '{"ms":0}' >/dev/null
  export OPENSTACK_HA_AGENTS_STATE_DIR="$BATS_TEST_TMPDIR/other-node"
  run bash -c "{ creds; echo action=off; echo port=compute3; echo verify_evacuation=1; } | '$LINKS/fence_evacuate'"
  echo "$output"
  [ "$status" -eq 0 ]
  check_host compute3 "$BATS_TEST_TMPDIR/ids.json"
  # the second run's report: what the first had started is not asked again
  python3 - "$OPENSTACK_HA_AGENTS_STATE_DIR/reports/compute3.json" "$done_before" <<'PY'
import json, sys
r, before = json.load(open(sys.argv[1])), int(sys.argv[2])
asked = [i for i in r['instances'] if i['outcome'] == 'evacuated' and i['attempts'] == 1]
assert len(r['instances']) <= 30 and all(i['outcome'] == 'evacuated' for i in r['instances']), r['instances']
PY
  fake_post revive '{"host":"compute3"}' >/dev/null
}

@test "two NovaEvacuate monitors race for one flagged host: each instance evacuated once, the attribute ends 'no'" {
  fake_post reset-requests '{}' >/dev/null
  add_servers compute1 24
  fake_post kill '{"host":"compute1"}' >/dev/null
  fake_post latency '{"ms":20}' >/dev/null
  export ATTRD_FAKE_DIR="$BATS_TEST_TMPDIR/attrd"
  export PATH="$ROOT/test/fake/bin:$PATH"
  attrd_updater -p -n evacuate -Q -N compute1 -U yes
  for n in a b; do
    mkdir -p "$BATS_TEST_TMPDIR/rsc-$n"
    env HA_RSCTMP="$BATS_TEST_TMPDIR/rsc-$n" OCF_RESOURCE_INSTANCE=nova-evacuate OCF_RESKEY_CRM_meta_on_node="node-$n" \
      HA_LOGFILE="$BATS_TEST_TMPDIR/ra-$n.log" OCF_RESKEY_auth_url="$AUTH_URL" OCF_RESKEY_username=admin \
      OCF_RESKEY_password=admin OCF_RESKEY_tenant_name=admin OCF_RESKEY_endpoint_type=public \
      OCF_RESKEY_verify_evacuation=true OCF_RESKEY_workers=4 \
      OPENSTACK_HA_AGENTS_STATE_DIR="$BATS_TEST_TMPDIR/state-$n" \
      bash -c "'$LINKS/NovaEvacuate' start && '$LINKS/NovaEvacuate' monitor" &
    eval "pid_$n=\$!"
  done
  wait "$pid_a"; rc_a=$?
  wait "$pid_b"; rc_b=$?
  cat "$BATS_TEST_TMPDIR"/ra-*.log | grep -E 'Initiating|Deferring|Completed|Resuming|Processing' || true
  [ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]
  check_host compute1 "$BATS_TEST_TMPDIR/ids.json"
  run attrd_updater -p -n evacuate -Q -N compute1
  [[ "$output" == *'value="no"'* ]]
  ! grep -F 'password=admin' "$BATS_TEST_TMPDIR"/ra-*.log || false
  # the loser of the race sees the instances moving or moved: not failures
  ! grep -E 'ERROR|WARN' "$BATS_TEST_TMPDIR"/ra-*.log || false
  fake_post latency '{"ms":0}' >/dev/null
  fake_post revive '{"host":"compute1"}' >/dev/null
}

@test "openstack-ha-agents status shows the evacuated host, its marker and the last report (table and --json)" {
  add_servers compute2 3
  fake_post kill '{"host":"compute2"}' >/dev/null
  run bash -c "{ creds; echo action=off; echo port=compute2; echo verify_evacuation=true; echo instance_filtering=false; } | '$LINKS/fence_evacuate'"
  [ "$status" -eq 0 ]
  export ATTRD_FAKE_DIR="$BATS_TEST_TMPDIR/attrd"
  ATTRD_FAKE_DIR="$ATTRD_FAKE_DIR" "$ROOT/test/fake/bin/attrd_updater" -p -n evacuate -Q -N compute2 -U no
  export PATH="$ROOT/test/fake/bin:$PATH"
  export OS_AUTH_URL="$AUTH_URL" OS_USERNAME=admin OS_PASSWORD=admin OS_PROJECT_NAME=admin OS_INTERFACE=public \
    OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
  run "$BIN" status
  echo "$output"
  [ "$status" -eq 0 ]
  # (then Pacemaker's four columns: "?" without a cluster, as here)
  [[ "$(echo "$output" | grep '^compute2 ')" =~ ^compute2\ +down\ +disabled\ +yes\ +no\ +.*\ 0\ +.*evacuated.*\(verified\)$ ]]
  [[ "$output" == *"compute2: disabled: openstack-ha-agents: evacuated "*" verified since "* ]]
  run "$BIN" status --json
  [ "$status" -eq 0 ]
  echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
h = [x for x in d["hosts"] if x["host"] == "compute2"][0]
assert h["forcedDown"] and h["evacuate"] == "no" and h["instances"] == [], h
assert h["report"]["instances"] and all(i["outcome"] == "evacuated" for i in h["report"]["instances"]), h["report"]
'
  [[ "$output" != *"\"admin\""*"password"* ]]
  fake_post revive '{"host":"compute2"}' >/dev/null
}
