#!/usr/bin/env bats
# The control-plane service agents (cinder-api, cinder-volume, keystone, ...) from the built binary, with a real
# daemon (test/daemons/fake-service, a python HTTP server) and the OpenStack fake; ocf-tester on every agent.

load helpers

SERVICE_AGENTS="cinder-api cinder-scheduler cinder-volume cinder-backup keystone glance-api nova-api nova-scheduler nova-conductor neutron-server"
DAEMON="$ROOT/test/daemons/fake-service"

# the daemons run as nobody/cinder: everything they read lives in a world-readable directory (bats' are 0700)
setup_file() {
  # the agents' default user: created as cinder-common's postinst would (the package itself is not needed here)
  if [ "$(id -u)" -eq 0 ]; then . "$ROOT/test/rig/lib.sh"; system_user cinder; fi
  WORK=$(mktemp -d /tmp/oha-svc-bats.XXXXXX)
  chmod 755 "$WORK"
  export WORK LINKS="$WORK/bin"
  mkdir -p "$LINKS"
  for a in $SERVICE_AGENTS; do ln -f "$BIN" "$LINKS/$a"; done
  start_fake
}
teardown_file() {
  stop_fake
  rm -rf "$WORK"
}

# a process that exists and is not a zombie (a stopped daemon waits for init to reap it)
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat")" != Z ]; }
dead() { ! alive "$1"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

setup() {
  export HA_RSCTMP="$BATS_TEST_TMPDIR/rsctmp" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=svc
  export HA_LOGFILE="$BATS_TEST_TMPDIR/ha.log"
  export OPENSTACK_HA_AGENTS_STATE_DIR="$BATS_TEST_TMPDIR/state"
  mkdir -p "$HA_RSCTMP"
  T="$WORK/t$BATS_TEST_NUMBER"
  mkdir -p "$T"
  chmod 755 "$T"
  PORT=$(free_port)
  CONF="$T/svc.conf"
  printf '[DEFAULT]\nhost = cinder-cluster-1\n[fake]\nport = %s\nstatus_file = %s\n' "$PORT" "$T/status" >"$CONF"
  chmod 644 "$CONF"
}

teardown() {
  # never leave a daemon behind
  for f in "$HA_RSCTMP"/*.pid; do [ -f "$f" ] && kill -9 -- -"$(cat "$f")" 2>/dev/null || true; done
}

@test "every service agent is in the binary, and its meta-data validates against ra-api-1.dtd" {
  run "$BIN" --list
  for a in $SERVICE_AGENTS; do [[ "$output" == *"$a"* ]]; done
  for a in $SERVICE_AGENTS; do
    "$LINKS/$a" meta-data >"$BATS_TEST_TMPDIR/$a.xml"
    run xmllint --noout --dtdvalid /usr/share/resource-agents/ra-api-1.dtd "$BATS_TEST_TMPDIR/$a.xml"
    [ "$status" -eq 0 ] || { echo "$a: $output"; false; }
  done
}

@test "ocf-tester passes on every service agent (a real daemon, no credentials)" {
  for a in $SERVICE_AGENTS; do
    run timeout 120 ocf-tester -n "t-$a" -o binary="$DAEMON" -o config="$CONF" -o user=nobody \
      -o url="http://127.0.0.1:$PORT/" -o plugin_config= "$LINKS/$a"
    [ "$status" -eq 0 ] || { echo "$a: $output"; false; }
    [[ "$output" == *"passed all tests"* ]]
  done
}

@test "ocf-tester passes on cinder-api with Keystone credentials (fake Keystone, v2.0 token URL)" {
  run timeout 120 ocf-tester -n t-cinder-api-auth -o binary="$DAEMON" -o config="$CONF" -o user=cinder \
    -o url="http://127.0.0.1:$PORT/v1/" -o os_username=admin -o os_password=admin -o os_tenant_name=admin \
    -o keystone_get_token_url="$FAKE/identity/v2.0/tokens" "$LINKS/cinder-api"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ "$output" == *"passed all tests"* ]]
}

@test "cinder-api: start as the cinder user, monitor, the API failing twice gives 1 with the HTTP status, stop" {
  getent passwd cinder >/dev/null || skip "no cinder user"
  export OCF_RESKEY_binary="$DAEMON" OCF_RESKEY_config="$CONF" OCF_RESKEY_url="http://127.0.0.1:$PORT/v3/"
  export OCF_RESKEY_os_username=admin OCF_RESKEY_os_password=admin OCF_RESKEY_os_tenant_name=admin OCF_RESKEY_auth_url="$AUTH_URL"
  export OCF_RESKEY_CRM_meta_interval=30000 OCF_RESKEY_CRM_meta_timeout=20000
  run "$LINKS/cinder-api" start
  [ "$status" -eq 0 ]
  pid=$(cat "$HA_RSCTMP/svc.pid")
  [ "$(ps -o user= -p "$pid")" = cinder ]
  run "$LINKS/cinder-api" monitor
  [ "$status" -eq 0 ]
  echo 500 >"$T/status"
  run "$LINKS/cinder-api" monitor
  [ "$status" -eq 0 ]
  run "$LINKS/cinder-api" monitor
  [ "$status" -eq 1 ]
  [[ "$output" == *"ocf-exit-reason:OpenStack Cinder API (cinder-api) health check failed (2 in a row): GET http://127.0.0.1:$PORT/v3/types returned HTTP 500"* ]]
  run "$LINKS/cinder-api" stop
  [ "$status" -eq 0 ]
  ! alive "$pid" || false
}

@test "credentials never reach the daemon's argv or environment, the log or an exit reason" {
  export OCF_RESKEY_binary="$DAEMON" OCF_RESKEY_config="$CONF" OCF_RESKEY_user=root OCF_RESKEY_url="http://127.0.0.1:$PORT/v3/"
  export OCF_RESKEY_os_username=admin OCF_RESKEY_os_password=Sup3rS3cretCinder OCF_RESKEY_os_tenant_name=admin OCF_RESKEY_auth_url="$AUTH_URL"
  export OCF_RESKEY_CRM_meta_interval=30000 HA_debug=1
  # the fake's admin password is "admin": Keystone refuses this one; the grace period lets the start succeed
  OCF_RESKEY_grace=600 OCF_RESKEY_CRM_meta_timeout=4000 run "$LINKS/cinder-api" start
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  grep -q 'not ready yet (authentication failed .* HTTP 401' "$HA_LOGFILE"
  [[ "$output" != *Sup3rS3cretCinder* ]]
  pid=$(cat "$HA_RSCTMP/svc.pid")
  ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q Sup3rS3cretCinder || false
  ! tr '\0' '\n' <"/proc/$pid/environ" | grep -q 'Sup3rS3cretCinder\|OCF_RESKEY' || false
  OCF_RESKEY_failures=1 run "$LINKS/cinder-api" monitor
  [ "$status" -eq 1 ]
  [[ "$output" == *"HTTP 401"* ]]
  [[ "$output" != *Sup3rS3cretCinder* ]]
  ! grep -q Sup3rS3cretCinder "$HA_LOGFILE" || false
  grep -q 'DEBUG' "$HA_LOGFILE"
  run "$LINKS/cinder-api" stop
  [ "$status" -eq 0 ]
}

@test "bad input: missing binary 5 (probe 7), unknown user 5, missing config 5 (probe 7), partial credentials 6" {
  export OCF_RESKEY_config="$CONF"
  OCF_RESKEY_binary=/nonexistent/cinder-volume run "$LINKS/cinder-volume" start
  [ "$status" -eq 5 ]; [[ "$output" == *"ocf-exit-reason:binary /nonexistent/cinder-volume not found"* ]]
  OCF_RESKEY_binary=/nonexistent/cinder-volume OCF_RESKEY_CRM_meta_interval=0 run "$LINKS/cinder-volume" monitor
  [ "$status" -eq 7 ]
  export OCF_RESKEY_binary="$DAEMON"
  OCF_RESKEY_user=no-such-user-oha run "$LINKS/cinder-volume" start
  [ "$status" -eq 5 ]; [[ "$output" == *"ocf-exit-reason:user no-such-user-oha does not exist"* ]]
  OCF_RESKEY_user=root OCF_RESKEY_config=/mnt/absent/cinder.conf run "$LINKS/cinder-volume" start
  [ "$status" -eq 5 ]; [[ "$output" == *"ocf-exit-reason:config /mnt/absent/cinder.conf does not exist"* ]]
  OCF_RESKEY_user=root OCF_RESKEY_config=/mnt/absent/cinder.conf OCF_RESKEY_CRM_meta_interval=0 run "$LINKS/cinder-volume" monitor
  [ "$status" -eq 7 ]
  OCF_RESKEY_user=root OCF_RESKEY_os_password=x run "$LINKS/cinder-volume" validate-all
  [ "$status" -eq 6 ]; [[ "$output" == *"os_username not set"* ]]
}

@test "cinder-volume: HOST@BACKEND from os-services (fake Cinder), the daemon killed is not running, stop is clean" {
  printf '[DEFAULT]\nhost = cinder-cluster-1\nenabled_backends = ceph\n[fake]\nreport_url = %s\nreport_binary = cinder-volume\nreport_host = cinder-cluster-1@ceph\nreport_interval = 0.3\n' \
    "$FAKE/volume/_control/report" >"$CONF"
  export OCF_RESKEY_binary="$DAEMON" OCF_RESKEY_config="$CONF" OCF_RESKEY_user=cinder OCF_RESKEY_grace=0 OCF_RESKEY_failures=1
  export OCF_RESKEY_os_username=admin OCF_RESKEY_os_password=admin OCF_RESKEY_os_tenant_name=admin OCF_RESKEY_auth_url="$AUTH_URL"
  export OCF_RESKEY_CRM_meta_interval=30000 OCF_RESKEY_CRM_meta_timeout=20000
  run "$LINKS/cinder-volume" start
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  run curl -fsS "$FAKE/volume/_control/state"
  [[ "$output" == *'"host":"cinder-cluster-1@ceph"'*'"state":"up"'* ]]
  run "$LINKS/cinder-volume" monitor
  [ "$status" -eq 0 ]
  curl -fsS -X POST -H 'Content-Type: application/json' -d '{"binary":"cinder-volume","host":"cinder-cluster-1@ceph","status":"disabled","disabled_reason":"maint"}' "$FAKE/volume/_control/service"
  run "$LINKS/cinder-volume" monitor
  [ "$status" -eq 1 ]; [[ "$output" == *"cinder-volume on cinder-cluster-1@ceph is disabled (maint)"* ]]
  curl -fsS -X POST -H 'Content-Type: application/json' -d '{"binary":"cinder-volume","host":"cinder-cluster-1@ceph","status":"enabled"}' "$FAKE/volume/_control/service"
  pid=$(cat "$HA_RSCTMP/svc.pid")
  kill -9 "$pid"
  wait_for 5 dead "$pid"
  run "$LINKS/cinder-volume" monitor
  [ "$status" -eq 7 ]
  run "$LINKS/cinder-volume" stop
  [ "$status" -eq 0 ]
  [ ! -e "$HA_RSCTMP/svc.pid" ]
}

@test "the installer links every service agent under ocf/resource.d/openstack" {
  DESTDIR="$BATS_TEST_TMPDIR/stage" run bash "$ROOT/build/install.sh"
  [ "$status" -eq 0 ]
  for a in $SERVICE_AGENTS; do
    [ -x "$BATS_TEST_TMPDIR/stage/usr/lib/ocf/resource.d/openstack/$a" ]
    [ ! -e "$BATS_TEST_TMPDIR/stage/usr/sbin/$a" ]
  done
}
