#!/usr/bin/env bats
# Nova's control-plane agents with the REAL Nova daemons of the OpenStack rig's packages (Debian 12, Zed), driven by
# ocf-tester (no cluster needed), next to the rig's own daemons: nova-conductor and nova-scheduler register under
# their own service host (cp-nova), so that the os-services entry the health check reads is written by our daemon
# alone; nova-api listens on 127.0.0.1:18774. The rig's configuration plus one extra file says so.

load helpers

setup_file() {
  export EXTRA="$BATS_FILE_TMPDIR/nova-cp.conf"
  printf '[DEFAULT]\nhost = cp-nova\nenabled_apis = osapi_compute\nosapi_compute_listen = 127.0.0.1\nosapi_compute_listen_port = 18774\n' >"$EXTRA"
  export NOVA_CONF=$OS_RIG_DIR/etc/nova/nova.conf NOVA_DB=$OS_RIG_DIR/etc/nova/nova-db.conf
  rm -rf /run/openstack-ha-agents
}

# nova_tester AGENT [name=value...]: ocf-tester on our AGENT running the rig's binary of the same name as root
nova_tester() {
  local agent=$1 a args=()
  shift
  for a in binary="$OS_RIG_DIR/bin/$agent" config="$NOVA_CONF" user=root \
      "additional_parameters=--config-file $NOVA_DB --config-file $EXTRA" "$@"; do
    args+=(-o "$a")
  done
  run ocf-tester -n "cp-$agent" "${args[@]}" "$OCF/$agent"
  echo "$agent: $output"
}

# running AGENT: pids of the rig's AGENT binary started with our extra configuration file
running() {
  local d
  for d in /proc/[0-9]*; do
    case "$(tr '\0' ' ' 2>/dev/null <"$d/cmdline")" in *"/bin/$1 --config-file $NOVA_CONF"*"$EXTRA"*) echo "${d#/proc/}" ;; esac
  done
}

# up_since HOST BINARY EPOCH: os-services reports BINARY on HOST up, last report at or after EPOCH
up_since() {
  OS_AUTH_URL=http://127.0.0.1:5000/v3 OS_USERNAME="$AGENT_USER" OS_PASSWORD="$AGENT_PW" OS_PROJECT_NAME=admin \
  OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_INTERFACE=public \
    /usr/bin/openstack --os-compute-api-version 2.53 compute service list --host "$1" --service "$2" -f json |
    "$PY" -c '
import json, sys, datetime
d = json.load(sys.stdin)
since = float(sys.argv[1])
ok = [s for s in d if s["State"] == "up" and datetime.datetime.fromisoformat(s["Updated At"].split(".")[0]).replace(tzinfo=datetime.timezone.utc).timestamp() >= since]
sys.exit(0 if ok else 1)' "$3"
}

@test "nova-conductor and nova-scheduler: ocf-tester passes with the real daemons; os-services hears from ours" {
  local a t0
  for a in nova-conductor nova-scheduler; do
    t0=$(date +%s)
    nova_tester "$a" host=cp-nova grace=0 "${SEED_CREDS[@]}"
    [ "$status" -eq 0 ]
    # ocf-tester ends with a stop: nothing of ours is left, and the service host reported while ours ran
    [ -z "$(running "$a")" ]
    up_since cp-nova "$a" "$t0"
  done
}

@test "nova-api: ocf-tester passes with the real nova-api on 127.0.0.1:18774 (GET / answers 200 while it runs)" {
  nova_tester nova-api url=http://127.0.0.1:18774/
  [ "$status" -eq 0 ]
  [ -z "$(running nova-api)" ]
  ! (exec 3<>/dev/tcp/127.0.0.1/18774) 2>/dev/null
}

@test "a failing health check: nova-conductor watched under a host it never reports as fails to start, with the reason" {
  # (Nova refuses to disable anything but nova-compute, so the wrong host is what makes os-services say no)
  export HA_RSCTMP="$BATS_TEST_TMPDIR/rsc" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=cp-cond
  mkdir -p "$HA_RSCTMP"
  export OCF_RESKEY_binary="$OS_RIG_DIR/bin/nova-conductor" OCF_RESKEY_config="$NOVA_CONF" OCF_RESKEY_user=root \
    OCF_RESKEY_additional_parameters="--config-file $NOVA_DB --config-file $EXTRA" OCF_RESKEY_host=cp-elsewhere \
    OCF_RESKEY_os_username="$AGENT_USER" OCF_RESKEY_os_password="$AGENT_PW" OCF_RESKEY_os_tenant_name=admin \
    OCF_RESKEY_keystone_get_token_url=http://127.0.0.1:5000/v2.0/tokens OCF_RESKEY_failures=1 OCF_RESKEY_grace=0 \
    OCF_RESKEY_CRM_meta_timeout=20000
  run "$OCF/nova-conductor" start
  echo "start: $output"
  # os-services never lists nova-conductor on cp-elsewhere: start fails before its timeout, saying why
  [ "$status" -eq 1 ]
  [[ "$output" == *"ocf-exit-reason:"*"no nova-conductor service on host cp-elsewhere"* ]]
  [[ "$output" != *"$AGENT_PW"* ]]
  run "$OCF/nova-conductor" stop
  [ "$status" -eq 0 ]
  [ -z "$(running nova-conductor)" ]
}
