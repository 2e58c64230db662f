#!/usr/bin/env bats
# fence_compute, fence_evacuate and fence_openstack from the command line and from stdin, against the OpenStack fake.

load helpers

setup_file() {
  make_links
  start_fake
}
teardown_file() { stop_fake; }
setup() { setup_state_dir; }


@test "fence_compute list from stdin prints Nova's compute hosts as plug, lines" {
  run bash -c "{ creds; echo action=list; } | '$LINKS/fence_compute'"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'compute1,\ncompute2,\ncompute3,\nnode1,')" ]
}

@test "fence_compute status: 0 / Status: ON for an up host (command line, both spellings)" {
  run "$LINKS/fence_compute" --auth_url "$AUTH_URL" -l admin -p admin --tenant-name admin -e publicURL -o status -n compute1
  [ "$status" -eq 0 ]
  [ "$output" = "Status: ON" ]
}

@test "fence_compute: unknown stdin options are ignored, malformed lines rejected with exit 1" {
  run bash -c "{ creds; echo action=monitor; echo pcmk_host_list=compute1; echo some_future_option=1; } | '$LINKS/fence_compute'"
  [ "$status" -eq 0 ]
  run bash -c "{ creds; echo action=monitor; echo garbage; } | '$LINKS/fence_compute'"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Parse error on stdin line"* ]]
}

@test "fence_compute: a wrong password fails with exit 1 and is never printed" {
  run bash -c "printf 'auth_url=%s\nlogin=admin\npasswd=WrongSecret42\ntenant_name=admin\nendpoint_type=public\naction=monitor\nverbose=1\n' '$AUTH_URL' | '$LINKS/fence_compute'"
  [ "$status" -eq 1 ]
  [[ "$output" != *WrongSecret42* ]]
  [[ "$output" == *"authentication failed"* ]]
}

@test "fence_compute: missing credentials or a bad endpoint_type fail validate-all with exit 1" {
  run "$LINKS/fence_compute" -o validate-all
  [ "$status" -eq 1 ]; [[ "$output" == *"auth_url, username, password, tenant_name not set"* ]]
  run "$LINKS/fence_compute" -o validate-all -k "$AUTH_URL" -l a -p b -t c -e weirdURL
  [ "$status" -eq 1 ]; [[ "$output" == *"endpoint_type 'weirdURL' is not valid"* ]]
}

@test "fence_compute: off for a host Nova does not know fails with exit 1" {
  run bash -c "{ creds; echo action=off; echo port=compute99; } | '$LINKS/fence_compute'"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Nova has no nova-compute service for 'compute99'"* ]]
}

@test "fence_compute: unreachable Keystone fails monitor with exit 1 (not record_only)" {
  run "$LINKS/fence_compute" -o monitor -k http://127.0.0.1:9/v3 -l a -p b -t c --shell-timeout 2
  [ "$status" -eq 1 ]
}

@test "fence_compute: the token is cached for the next run (0600 file) and reused" {
  fake_post reset-requests '{}' >/dev/null
  "$LINKS/fence_compute" -o status -n compute1 -k "$AUTH_URL" -l admin -p admin -t admin -e public
  "$LINKS/fence_compute" -o status -n compute3 -k "$AUTH_URL" -l admin -p admin -t admin -e public
  n=$(fake_get state | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin)["requests"] if r["method"]=="POST" and r["path"].endswith("/auth/tokens")))')
  [ "$n" -eq 1 ]
  f=$(find "$OPENSTACK_HA_AGENTS_STATE_DIR" -type f | head -1)
  [ "$(stat -c %a "$f")" = 600 ]
  ! grep -q admin "$f" || ! grep -q '"password"' "$f" || false
}

@test "fence_evacuate: on is refused with exit 1" {
  run bash -c "{ creds; echo action=on; echo port=compute2; } | '$LINKS/fence_evacuate'"
  [ "$status" -eq 1 ]
  [[ "$output" == *"not supported"* ]]
}

@test "fence_evacuate off: forces compute2 down, evacuates each tagged instance exactly once, leaves the others" {
  # compute2 has 4 untagged instances; add 2 on the evacuable flavor, 1 from the evacuable image, 1 SHUTOFF tagged
  fake_post servers '{"host":"compute2","count":2,"flavor":"m1.evacuable","name":"tagged-flavor"}' >/dev/null
  fake_post servers '{"host":"compute2","count":1,"image":"cirros-evacuable-tag","name":"tagged-image"}' >/dev/null
  fake_post servers '{"host":"compute2","count":1,"flavor":"m1.evacuable","status":"SHUTOFF","name":"tagged-off"}' >/dev/null
  fake_post reset-requests '{}' >/dev/null
  fake_post kill '{"host":"compute2"}' >/dev/null
  run bash -c "{ creds; echo action=off; echo port=compute2; } | '$LINKS/fence_evacuate'"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"4 evacuated, 4 not evacuable"* ]]
  fake_get state > "$BATS_TEST_TMPDIR/state.json"
  python3 - "$BATS_TEST_TMPDIR/state.json" <<'PY'
import json, sys, collections
s = json.load(open(sys.argv[1]))
ev = [r for r in s['requests'] if r['method'] == 'POST' and r['path'].endswith('/action') and 'evacuate' in json.dumps(r.get('body'))]
count = collections.Counter(r['path'].split('/')[-2] for r in ev)
names = {x['id']: x['name'] for x in s['servers']}
assert sorted(names[i].rsplit('-', 1)[0] if names[i].startswith('tagged-flavor') else names[i] for i in count) == \
    ['tagged-flavor', 'tagged-flavor', 'tagged-image', 'tagged-off'], count
assert set(count.values()) == {1}, count
svc = [x for x in s['services'] if x['host'] == 'compute2'][0]
assert svc['forced_down'] is True, svc
PY
}

@test "fence_evacuate status of the evacuated host: 2 / Status: OFF" {
  run "$LINKS/fence_evacuate" -o status -n compute2 -k "$AUTH_URL" -l admin -p admin -t admin -e public
  [ "$status" -eq 2 ]
  [ "$output" = "Status: OFF" ]
}

@test "fence_compute: a cloud that no clouds.yaml names fails validate-all with exit 1 and says so" {
  cd "$BATS_TEST_TMPDIR"
  run env HOME="$BATS_TEST_TMPDIR" bash -c "printf 'action=validate-all\ncloud=nosuchcloud\n' | '$LINKS/fence_compute'"
  [ "$status" -eq 1 ]
  [[ "$output" == *nosuchcloud* ]]
}

@test "fence_compute list-status: each host its own state (compute3 fenced: OFF, as status says)" {
  export ATTRD_FAKE_DIR="$BATS_TEST_TMPDIR/attrd"
  export PATH="$ROOT/test/fake/bin:$PATH"
  "$LINKS/fence_compute" -o off -n compute3 -k "$AUTH_URL" -l admin -p admin -t admin -e public
  run "$LINKS/fence_compute" -o status -n compute3 -k "$AUTH_URL" -l admin -p admin -t admin -e public
  [ "$status" -eq 2 ]
  run bash -c "{ creds; echo action=list-status; } | '$LINKS/fence_compute'"
  [ "$status" -eq 0 ]
  [[ "$output" == *"compute1,,ON"* ]]
  [[ "$output" == *"compute3,,OFF"* ]]
  # unfence it again for whatever runs next
  attrd_updater -p -n evacuate -Q -N compute3 -U no
  "$LINKS/fence_compute" -o on -n compute3 -k "$AUTH_URL" -l admin -p admin -t admin -e public
}

# fence_openstack: the fake's admin project holds the servers made here (names oha-guest-*, on compute1)
os_creds() { printf 'auth-url=%s\nlogin=admin\npasswd=admin\nproject-name=admin\nuser-domain-name=Default\nproject-domain-name=Default\n' "$AUTH_URL"; }
export -f os_creds
guest_server() { fake_post servers "{\"host\": \"compute1\", \"name\": \"$1\", \"status\": \"${2:-ACTIVE}\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["servers"][0]["id"])'; }

@test "fence_openstack: status, off, status from stdin with the reference's names; by UUID and by name" {
  id=$(guest_server oha-guest-a)
  run bash -c "{ os_creds; echo action=status; echo uuid=$id; } | '$LINKS/fence_openstack'"
  [ "$status" -eq 0 ]
  [ "$output" = "Status: ON" ]
  # (stdout only: the agent logs what it does on stderr)
  run bash -c "{ os_creds; echo action=off; echo plug=oha-guest-a; } | '$LINKS/fence_openstack' 2>/dev/null"
  [ "$status" -eq 0 ]
  [ "$output" = "Success: Powered OFF" ]
  run "$LINKS/fence_openstack" --auth-url "$AUTH_URL" -l admin -p admin -o status -n "$id"
  [ "$status" -eq 2 ]
  [ "$output" = "Status: OFF" ]
}

@test "fence_openstack: list prints uuid,name; monitor answers; an unknown plug fails with exit 1" {
  id=$(guest_server oha-guest-b SHUTOFF)
  run "$LINKS/fence_openstack" --auth-url "$AUTH_URL" -l admin -p admin -o list
  [ "$status" -eq 0 ]
  grep -qx "$id,oha-guest-b" <<<"$output"
  run "$LINKS/fence_openstack" --auth-url "$AUTH_URL" -l admin -p admin -o list-status
  grep -qx "$id,oha-guest-b,OFF" <<<"$output"
  run "$LINKS/fence_openstack" --auth-url "$AUTH_URL" -l admin -p admin -o monitor
  [ "$status" -eq 0 ]
  run "$LINKS/fence_openstack" --auth-url "$AUTH_URL" -l admin -p admin -o status -n oha-no-such-guest
  [ "$status" -eq 1 ]
  [[ "$output" == *"no server with UUID or name 'oha-no-such-guest'"* ]]
}

@test "fence_openstack: a wrong password fails with exit 1 and is never printed" {
  run bash -c "printf 'auth_url=%s\nusername=admin\npassword=WrongSecret42\naction=monitor\nverbose=1\n' '$AUTH_URL' | '$LINKS/fence_openstack'"
  [ "$status" -eq 1 ]
  [[ "$output" != *WrongSecret42* ]]
}
