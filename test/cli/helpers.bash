# Shared set-up for the CLI tests: the built binary under each agent name, and the OpenStack fake on loopback.
ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
BIN="$ROOT/dist/openstack-ha-agents"
# shellcheck source=../rig/lib.sh
. "$ROOT/test/rig/lib.sh"   # wait_for SECONDS COMMAND...

start_fake() {
  export OHA_FAKE_DIR="$BATS_FILE_TMPDIR/fake"
  mkdir -p "$OHA_FAKE_DIR"
  "$ROOT/node_modules/.bin/esbuild" "$ROOT/test/fake/serve.ts" --bundle --platform=node --format=cjs \
    --log-level=warning --outfile="$OHA_FAKE_DIR/serve.cjs"
  node "$OHA_FAKE_DIR/serve.cjs" --port 0 --hosts 3 --extra-host node1 --servers-on compute2=4 --port-file "$OHA_FAKE_DIR/port" \
    >"$OHA_FAKE_DIR/out" 2>"$OHA_FAKE_DIR/err" &
  echo $! >"$OHA_FAKE_DIR/pid"
  for _ in $(seq 1 100); do [ -s "$OHA_FAKE_DIR/port" ] && break; sleep 0.05; done
  FAKE_PORT=$(cat "$OHA_FAKE_DIR/port")
  export FAKE_PORT
  export FAKE="http://127.0.0.1:$FAKE_PORT"
  export AUTH_URL="$FAKE/identity/v3"
}

stop_fake() {
  [ -f "$OHA_FAKE_DIR/pid" ] && kill "$(cat "$OHA_FAKE_DIR/pid")" 2>/dev/null || true
}

# agent links in a private bin dir, as the installer makes them
make_links() {
  export LINKS="$BATS_FILE_TMPDIR/bin"
  mkdir -p "$LINKS"
  for a in fence_compute fence_evacuate fence_openstack fence_virsh NovaEvacuate nova-compute-wait NovaCompute; do ln -f "$BIN" "$LINKS/$a"; done
  ln -sf "$BIN" "$LINKS/fence_compute_symlink"
}

fake_get() { curl -fsS "$FAKE/_fake/$1"; }
fake_post() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$2" "$FAKE/_fake/$1"; }

# each test gets its own token cache
setup_state_dir() { export OPENSTACK_HA_AGENTS_STATE_DIR="$BATS_TEST_TMPDIR/state"; }

# the fence agents' connection options on stdin, for the fake
creds() { printf 'auth_url=%s\nlogin=admin\npasswd=admin\ntenant_name=admin\nendpoint_type=public\n' "$AUTH_URL"; }
export -f creds
