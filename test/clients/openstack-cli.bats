#!/usr/bin/env bats
# Debian's real OpenStack clients (/usr/bin/openstack = python3-openstackclient 6.0, /usr/bin/nova = python3-novaclient
# 18.1) against the OpenStack simulator (default) or the real rig (OHA_CLIENT_TARGET=real). Run with test/clients/run.sh,
# which documents the environment. The same commands and checks run in both modes; only the set-up differs:
#   simulator: test/fake/serve.ts is bundled and started on a free 127.0.0.1 port (3 compute hosts, 3 servers on compute1,
#              pages of 2 so that the clients must follow Nova's pagination, an aggregate), booting a server and killing a
#              nova-compute go through its /_fake control API;
#   real rig:  credentials from $OS_RIG_DIR/rig.env; servers are booted with `openstack server create` and nova-compute is
#              killed/started with test/rig/openstack/compute.sh; the mutating tests need OHA_CLIENT_MUTATE=1.

ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
PY=/usr/bin/python3

# json_get EXPR: evaluate the Python expression EXPR with d = the JSON document on stdin, print the result
json_get() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); r=eval(sys.argv[1]); print(r if isinstance(r,str) else json.dumps(r))' "$1"; }
# the clients, always Debian's (the pyenv python3 first on PATH lacks the OpenStack libraries)
osc() { /usr/bin/openstack "$@"; }
novacli() { /usr/bin/nova "$@" 2> >(grep -v 'nova CLI is deprecated' >&2); }
fake_post() { # fake_post WHAT JSON
  curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$FAKE_BASE/_fake/$1"
}
mutating() {
  if [ "$TARGET" = real ] && [ "${OHA_CLIENT_MUTATE:-}" != 1 ]; then
    skip "changes the cloud: set OHA_CLIENT_MUTATE=1 (real rig only)"
  fi
  [ -n "$VICTIM" ] || skip "needs at least 2 compute hosts"
}
# wait_until SECONDS command...: poll every 0.5 s
wait_until() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.5
  done
}
server_field() { osc server show "$1" -f json | json_get "d.get('$2')"; }
evacuated() { # evacuated SERVER: ACTIVE, no task, on another host than the victim
  local j
  j=$(osc server show "$1" -f json) || return 1
  [ "$(echo "$j" | json_get "d['status']")" = ACTIVE ] &&
    [ "$(echo "$j" | json_get "str(d.get('OS-EXT-STS:task_state'))")" = None ] &&
    [ "$(echo "$j" | json_get "d['OS-EXT-SRV-ATTR:host']")" != "$VICTIM" ]
}

setup_file() {
  unset OS_CLOUD OS_TOKEN OS_AUTH_TYPE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
  export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
  export TARGET=${OHA_CLIENT_TARGET:-sim}
  local env_file=$BATS_FILE_TMPDIR/os.env
  if [ "$TARGET" = real ]; then
    export OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
    local rig=$OS_RIG_DIR/rig.env
    [ -f "$rig" ] || { echo "no $rig: start the OpenStack rig first (test/rig/openstack/start.sh)" >&2; return 1; }
    get() { sed -n "s/^$1=//p" "$rig" | head -n1; }
    export OS_AUTH_URL=$(get AUTH_URL) OS_USERNAME=$(get USERNAME) OS_PASSWORD=$(get PASSWORD) OS_PROJECT_NAME=$(get PROJECT)
    export OS_USER_DOMAIN_NAME=$(get USER_DOMAIN) OS_PROJECT_DOMAIN_NAME=$(get PROJECT_DOMAIN) OS_REGION_NAME=$(get REGION)
    export OS_IDENTITY_API_VERSION=3 OS_INTERFACE=public
    export RIG_FLAVOR=$(get FLAVOR) RIG_IMAGE=$(get IMAGE)
    local hosts
    hosts=$(get COMPUTE_HOSTS)
    export COMPUTE_HOSTS=${hosts//,/ }
  elif [ "$TARGET" = sim ]; then
    (cd "$ROOT" && node -e "require('esbuild').buildSync({entryPoints: ['test/fake/serve.ts'], bundle: true, platform: 'node',
      format: 'cjs', outfile: process.argv[1], logLevel: 'warning'})" "$BATS_FILE_TMPDIR/serve.cjs")
    node "$BATS_FILE_TMPDIR/serve.cjs" --hosts 3 --servers-on compute1=3 --page-size 2 --evacuate-delay 300 \
      --aggregate 'oha-evacuable:compute2,compute3:evacuable=true' --write-env "$env_file" \
      >"$BATS_FILE_TMPDIR/serve.out" 2>&1 3>&- &
    echo $! >"$BATS_FILE_TMPDIR/serve.pid"
    local i
    for i in $(seq 1 100); do grep -q '^FAKE_OPENSTACK_BASE=' "$BATS_FILE_TMPDIR/serve.out" 2>/dev/null && break; sleep 0.1; done
    grep -q '^FAKE_OPENSTACK_BASE=' "$BATS_FILE_TMPDIR/serve.out" || { cat "$BATS_FILE_TMPDIR/serve.out" >&2; return 1; }
    export FAKE_BASE=$(sed -n 's/^FAKE_OPENSTACK_BASE=//p' "$BATS_FILE_TMPDIR/serve.out")
    set -a
    # shellcheck disable=SC1090
    . "$env_file"
    set +a
    export COMPUTE_HOSTS="compute1 compute2 compute3"
  else
    echo "OHA_CLIENT_TARGET must be sim or real, not $TARGET" >&2
    return 1
  fi
  # the host whose nova-compute the mutating tests kill: compute1 on the simulator, the last one on the rig
  local n
  n=$(wc -w <<<"$COMPUTE_HOSTS")
  if [ "$n" -lt 2 ]; then export VICTIM=
  elif [ "$TARGET" = sim ]; then export VICTIM=compute1
  else export VICTIM=${COMPUTE_HOSTS##* }
  fi
  echo "# target: $TARGET ($OS_AUTH_URL), compute hosts: $COMPUTE_HOSTS, victim: ${VICTIM:-none}" >&3
}

teardown_file() {
  if [ "$TARGET" = sim ]; then
    local pid
    pid=$(cat "$BATS_FILE_TMPDIR/serve.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
    return 0
  fi
  # real rig: best effort, should a test have failed half-way (the last test restores everything when it passes)
  [ -n "$VICTIM" ] && [ "${OHA_CLIENT_MUTATE:-}" = 1 ] || return 0
  bash "$ROOT/test/rig/openstack/compute.sh" pid "$VICTIM" >/dev/null 2>&1 || bash "$ROOT/test/rig/openstack/compute.sh" start "$VICTIM" || true
  local i
  for i in $(seq 1 60); do osc --os-compute-api-version 2.11 compute service set --up "$VICTIM" nova-compute 2>/dev/null && break; sleep 2; done
  osc compute service set --enable "$VICTIM" nova-compute || true
  osc server list --all-projects --name '^oha-cli-' -f value -c ID | xargs -r /usr/bin/openstack server delete --wait || true
}

@test "openstack compute service list" {
  run osc compute service list --service nova-compute -f json
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  hosts=$(echo "$output" | json_get "' '.join(sorted(s['Host'] for s in d))")
  # every compute host of the cloud is listed (the e2e suite adds its cluster node as one more host)
  for h in $COMPUTE_HOSTS; do [[ " $hosts " == *" $h "* ]] || { echo "$h missing from: $hosts"; false; }; done
  states=$(echo "$output" | json_get "' '.join(sorted(set(s['State'] for s in d)))")
  [[ "$states" =~ ^(down|up|down\ up)$ ]]
}

@test "openstack aggregate list" {
  run osc aggregate list --long -f json
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  echo "$output" | json_get "[a['Name'] for a in d]"
  if [ "$TARGET" = sim ]; then
    [ "$(echo "$output" | json_get "[a for a in d if a['Name'] == 'oha-evacuable'][0]['Hosts']")" = '["compute2", "compute3"]' ]
    [[ "$(echo "$output" | json_get "str([a for a in d if a['Name'] == 'oha-evacuable'][0]['Properties'])")" == *evacuable* ]]
  fi
}

@test "openstack server list --all-projects --host H --long (--limit -1: across pages)" {
  host=${COMPUTE_HOSTS%% *}
  # without --limit -1, osc 6.0 shows Nova's first page only (osapi_max_limit, 1000 by default)
  run osc server list --all-projects --host "$host" --long --limit -1 -f json
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [ "$(echo "$output" | json_get "sorted(set(s['Host'] for s in d)) in ([], ['$host'])")" = true ]
  # the simulator has 3 servers on compute1 and answers pages of 2
  [ "$TARGET" != sim ] || [ "$(echo "$output" | json_get "len(d)")" = 3 ]
}

@test "openstack server migration list --type evacuation / nova migration-list" {
  run osc --os-compute-api-version 2.59 server migration list --type evacuation -f json
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [ "$(echo "$output" | json_get "type(d).__name__")" = list ]
  run novacli --os-compute-api-version 2.59 migration-list --migration-type evacuation
  [ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "boot two servers on the victim host and kill its nova-compute" {
  mutating
  if [ "$TARGET" = sim ]; then
    fake_post servers "{\"host\": \"$VICTIM\", \"count\": 2, \"name\": \"oha-cli\"}"
    fake_post kill "{\"host\": \"$VICTIM\"}"
  else
    for name in oha-cli-1 oha-cli-2; do
      osc --os-compute-api-version 2.37 server create --flavor "$RIG_FLAVOR" --image "$RIG_IMAGE" --nic none --availability-zone "nova:$VICTIM" --wait "$name" -f value -c id
    done
    bash "$ROOT/test/rig/openstack/compute.sh" kill "$VICTIM"
  fi
  run osc server list --all-projects --host "$VICTIM" --name '^oha-cli-' -f json
  [ "$(echo "$output" | json_get "sorted(s['Name'] for s in d)")" = '["oha-cli-1", "oha-cli-2"]' ]
}

@test "openstack compute service set --down H nova-compute (2.11)" {
  mutating
  run osc --os-compute-api-version 2.11 compute service set --down "$VICTIM" nova-compute
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  run osc --os-compute-api-version 2.11 compute service list --host "$VICTIM" --service nova-compute --long -f json
  [ "$(echo "$output" | json_get "d[0]['State']")" = down ]
  [ "$(echo "$output" | json_get "d[0]['Forced Down']")" = true ]
}

@test "openstack compute service set --disable --disable-reason R H nova-compute" {
  mutating
  run osc compute service set --disable --disable-reason "oha-cli test $$" "$VICTIM" nova-compute
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  run osc compute service list --host "$VICTIM" --service nova-compute --long -f json
  [ "$(echo "$output" | json_get "d[0]['Status']")" = disabled ]
  [ "$(echo "$output" | json_get "d[0]['Disabled Reason']")" = "oha-cli test $$" ]
}

@test "nova evacuate SERVER (novaclient CLI)" {
  mutating
  id=$(osc server list --all-projects --name '^oha-cli-1$' -f value -c ID)
  [ -n "$id" ]
  run novacli evacuate "$id"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  wait_until "$([ "$TARGET" = sim ] && echo 20 || echo 300)" evacuated "$id"
}

@test "openstack server evacuate SERVER (osc 6.0.0 may crash after the call with TupleWithMeta: state checked by server show)" {
  mutating
  id=$(osc server list --all-projects --name '^oha-cli-2$' -f value -c ID)
  [ -n "$id" ]
  run osc server evacuate "$id"
  # python3-openstackclient 6.0.0 evacuates, then fails formatting novaclient's TupleWithMeta answer
  [ "$status" -eq 0 ] || [[ "$output" == *"'TupleWithMeta' object has no attribute"* ]] || { echo "$output"; false; }
  wait_until "$([ "$TARGET" = sim ] && echo 20 || echo 300)" evacuated "$id"
}

@test "the evacuations are listed as migrations of type evacuation, done" {
  mutating
  ids=$(osc server list --all-projects --name '^oha-cli-' -f value -c ID | sort | xargs)
  run osc --os-compute-api-version 2.59 server migration list --type evacuation --host "$VICTIM" -f json
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  for id in $ids; do
    [ "$(echo "$output" | json_get "[m['Status'] for m in d if m['Server UUID'] == '$id'][:1]")" = '["done"]' ]
    [ "$(echo "$output" | json_get "[m['Source Compute'] for m in d if m['Server UUID'] == '$id'][0]")" = "$VICTIM" ]
  done
  run novacli --os-compute-api-version 2.59 migration-list --migration-type evacuation --source-compute "$VICTIM"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  for id in $ids; do [[ "$output" == *"$id"* ]]; done
}

@test "nova host-evacuate HOST evacuates every instance of the host (os-hypervisors with_servers)" {
  [ "$TARGET" = sim ] || skip "simulator only (on the real rig it would evacuate every instance of a compute host)"
  mutating
  # a second host: three servers, its nova-compute dead and forced down
  local host=compute2
  fake_post servers "{\"host\": \"$host\", \"count\": 3, \"name\": \"oha-cli-he\"}"
  fake_post kill "{\"host\": \"$host\"}"
  run osc --os-compute-api-version 2.11 compute service set --down "$host" nova-compute
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  ids=$(osc server list --all-projects --host "$host" --name '^oha-cli-he-' --limit -1 -f value -c ID | sort | xargs)
  [ "$(wc -w <<<"$ids")" -eq 3 ]
  run novacli host-evacuate "$host"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  # novaclient prints one row per instance it asked Nova to evacuate, accepted
  for id in $ids; do
    grep -E "\| *$id *\| *True *\|" <<<"$output" || { echo "$id not evacuated: $output"; false; }
  done
  for id in $ids; do
    wait_until 20 bash -c "[ \"\$(/usr/bin/openstack server show $id -f value -c OS-EXT-SRV-ATTR:host -c status | xargs)\" != '$host ACTIVE' ] &&
      /usr/bin/openstack server show $id -f value -c status | grep -qx ACTIVE"
  done
  [ -z "$(osc server list --all-projects --host "$host" --name '^oha-cli-he-' --limit -1 -f value -c ID)" ]
  fake_post revive "{\"host\": \"$host\"}"
  run osc --os-compute-api-version 2.11 compute service set --up "$host" nova-compute
  # (nothing the simulator does not model was asked)
  [ "$(curl -sf "$FAKE_BASE/_fake/state" | json_get "d['notModelled']")" = '[]' ]
}

@test "restore: nova-compute back, forced up, enabled" {
  mutating
  if [ "$TARGET" = sim ]; then
    fake_post revive "{\"host\": \"$VICTIM\"}"
  else
    bash "$ROOT/test/rig/openstack/compute.sh" start "$VICTIM"
  fi
  # Nova refuses to force up while "done" evacuations remain, until the restarted nova-compute completes them
  wait_until "$([ "$TARGET" = sim ] && echo 10 || echo 180)" osc --os-compute-api-version 2.11 compute service set --up "$VICTIM" nova-compute
  run osc compute service set --enable "$VICTIM" nova-compute
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  wait_until "$([ "$TARGET" = sim ] && echo 10 || echo 120)" \
    bash -c "/usr/bin/openstack compute service list --host '$VICTIM' --service nova-compute -f value -c State -c Status | grep -qx 'enabled up'"
  if [ "$TARGET" = real ]; then
    osc server list --all-projects --name '^oha-cli-' -f value -c ID | xargs -r /usr/bin/openstack server delete --wait
  fi
}
