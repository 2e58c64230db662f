#!/usr/bin/env bats
# The top-level program (bin/cli.ts, yargs): --help everywhere, --json parseable, usage errors exit 2 with the usage
# on stderr, and agents never load yargs (the esbuild metafile, and OPENSTACK_HA_AGENTS_TRACE_LOAD=1 at run time).

bats_require_minimum_version 1.5.0
load helpers

setup_file() { make_links; }
setup() { setup_state_dir; }

# json_ok: stdin is one JSON document (node parses it; jq is not needed)
json_ok() { node -e 'JSON.parse(require("fs").readFileSync(0, "utf8"))'; }

@test "--help, -h and help: the usage, every command, option and agent, on stdout, exit 0" {
  for h in --help -h help; do
    run --separate-stderr "$BIN" $h
    [ "$status" -eq 0 ]; [ -z "$stderr" ]
    [[ "${lines[0]}" == 'usage: openstack-ha-agents AGENT [ARGS...]' ]]
    for w in 'openstack-ha-agents status' '--list' '--json' '-V, --version' '-h, --help' 'Exit status: 0 done, 2 usage error'; do
      [[ "$output" == *"$w"* ]] || { echo "$h: no '$w'"; false; }
    done
    for a in $("$BIN" --list); do
      grep -qE "^  $a +(OCF resource agent|fence agent): " <<<"$output" || { echo "$h: agent $a not listed"; false; }
    done
  done
}

@test "status --help, -h and help status: its options, exit 0, without asking any cloud" {
  for h in 'status --help' 'status -h' 'help status'; do
    run --separate-stderr env -u OS_CLOUD -u OS_AUTH_URL "$BIN" $h
    [ "$status" -eq 0 ]; [ -z "$stderr" ]
    [[ "${lines[0]}" == 'usage: openstack-ha-agents status [--json] [--instances] [--cloud NAME] [--reports DIR]' ]]
    for o in --json --instances --cloud --reports --help; do [[ "$output" == *" $o "* ]] || { echo "$h: no $o"; false; }; done
  done
}

@test "the README shows the --help of the program and of status as they are" {
  for cmd in --help 'status --help'; do
    # the README's block: the line after "$ openstack-ha-agents CMD" up to the closing fence
    want=$(awk -v c="\$ openstack-ha-agents $cmd" '$0 == c { on = 1; next } on && /^```/ { exit } on' "$ROOT/README.md")
    [ -n "$want" ] || { echo "README.md has no block for $cmd"; false; }
    # (the default of --reports depends on the state directory)
    got=$(env -u OPENSTACK_HA_AGENTS_STATE_DIR "$BIN" $cmd)
    diff -u <(echo "$want") <(echo "$got")
  done
}

@test "agents keep their own option syntax: fence_compute --help, -o metadata, NovaEvacuate meta-data through the program" {
  run "$BIN" fence_compute -o metadata
  [ "$status" -eq 0 ]; [[ "$output" == *'<resource-agent name="fence_compute"'* ]]
  run "$BIN" fence_compute --action=metadata
  [ "$status" -eq 0 ]; [[ "$output" == *'<resource-agent name="fence_compute"'* ]]
  run "$BIN" NovaEvacuate meta-data
  [ "$status" -eq 0 ]; [[ "$output" == *'<resource-agent name="NovaEvacuate"'* ]]
  # the fence agent's own --help (fencing library style), not the program's
  run "$BIN" fence_compute --help
  [[ "$output" != *'usage: openstack-ha-agents'* ]]
  run "$LINKS/fence_compute" --help
  [[ "$output" != *'usage: openstack-ha-agents'* ]]
}

@test "--version and -V: the version line; --list: one name a line" {
  for v in --version -V; do
    run --separate-stderr "$BIN" $v
    [ "$status" -eq 0 ]; [ -z "$stderr" ]
    [[ "$output" =~ ^openstack-ha-agents\ [0-9]+\.[0-9]+\.[0-9]+\ \(Node\.js\ v24\.[0-9.]+\)$ ]]
  done
  run --separate-stderr "$BIN" --list
  [ "$status" -eq 0 ]; [ "${#lines[@]}" -ge 4 ]
  [[ "$output" != *' '* ]]
}

@test "--list --json: one JSON array of {name, kind, summary}, the same names as --list" {
  run --separate-stderr "$BIN" --list --json
  [ "$status" -eq 0 ]; [ -z "$stderr" ]
  json_ok <<<"$output"
  names=$(node -e '
    const a = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const x of a) { if (!["ocf", "fence"].includes(x.kind) || !x.summary) throw new Error(JSON.stringify(x)); console.log(x.name); }' <<<"$output")
  [ "$names" = "$("$BIN" --list)" ]
}

@test "status --json: one JSON document (against the simulator)" {
  start_fake
  # crm_mon: a stand-in printing Pacemaker 2.1.5's XML for pacemaker_remote compute nodes (test/fixtures/crm_mon)
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  printf '#!/bin/sh\necho "$*" >"%s/crm_mon.args"\ncat "%s"\n' "$BATS_TEST_TMPDIR" "$ROOT/test/fixtures/crm_mon/remote-computes.xml" >"$BATS_TEST_TMPDIR/bin/crm_mon"
  chmod +x "$BATS_TEST_TMPDIR/bin/crm_mon"
  export PATH="$BATS_TEST_TMPDIR/bin:$ROOT/test/fake/bin:$PATH" ATTRD_FAKE_DIR="$BATS_TEST_TMPDIR/attrd"
  run --separate-stderr env OS_AUTH_URL="$AUTH_URL" OS_USERNAME=admin OS_PASSWORD=admin OS_PROJECT_NAME=admin OS_INTERFACE=public \
    OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default "$BIN" status --json --reports "$BATS_TEST_TMPDIR/reports"
  stop_fake
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  json_ok <<<"$output"
  node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (!Array.isArray(d.hosts) || d.hosts.length < 3 || typeof d.computeServices !== "number") throw new Error("bad doc");
    const c = (h) => d.hosts.find((x) => x.host === h).cluster;
    if (d.clusterUnavailable || c("compute2").state !== "unclean" || c("compute2").type !== "remote" || !c("compute2").lastFencingFailed
      || c("compute3").novaCompute[0].state !== "starting" || !c("compute3").novaCompute[0].holding) throw new Error("bad cluster side");' <<<"$output"
  [ "$(cat "$BATS_TEST_TMPDIR/crm_mon.args")" = '-1 --output-as=xml --inactive --fence-history=2' ]
  # --cloud=NAME and --cloud NAME are both taken (an unknown cloud is the command's error, 1, not a usage error)
  run --separate-stderr env OS_CLIENT_CONFIG_FILE=/nonexistent "$BIN" status --cloud=nosuchcloud --json
  [ "$status" -eq 1 ]; [[ "$stderr" == *status:* ]]; [ -z "$output" ]
}

@test "usage errors exit 2 with the message and the usage on stderr, nothing on stdout" {
  check() { # check 'ARGS' 'MESSAGE' 'USAGE LINE'
    run --separate-stderr "$BIN" $1
    [ "$status" -eq 2 ] || { echo "$1: exit $status"; false; }
    [ -z "$output" ] || { echo "$1: stdout: $output"; false; }
    [[ "$stderr" == *"$2"* ]] || { echo "$1: stderr has no '$2': $stderr"; false; }
    [[ "$stderr" == *"$3"* ]] || { echo "$1: stderr has no usage '$3'"; false; }
  }
  top='usage: openstack-ha-agents AGENT [ARGS...]'
  st='usage: openstack-ha-agents status [--json]'
  check '' 'no agent or command given' "$top"
  check 'NoSuchAgent meta-data' "unknown command or agent 'NoSuchAgent'" "$top"
  check '--bogus' 'Unknown argument: bogus' "$top"
  check '-x' 'Unknown argument: x' "$top"
  check '--json' '--json goes with --list or status' "$top"
  check '--list --version' '--list and --version go alone' "$top"
  check 'status --bogus' 'Unknown argument: bogus' "$st"
  check 'status extra' 'Unknown argument: extra' "$st"
  check 'status --cloud' 'Not enough arguments following: cloud' "$st"
  check 'status --reports' 'Not enough arguments following: reports' "$st"
  check 'status --list' 'Unknown argument: list' "$st"
}

@test "agents never load yargs: the bundle's metafile (import() only) and a run-time trace" {
  [ -s "$ROOT/dist/openstack-ha-agents.meta.json" ] || { echo "dist/openstack-ha-agents.meta.json missing (npm run build writes it)"; false; }
  node "$ROOT/build/check-lazy.mjs" "$ROOT/dist/openstack-ha-agents.meta.json"
  export OPENSTACK_HA_AGENTS_TRACE_LOAD=1
  # the trace works: the program loads yargs
  run --separate-stderr "$BIN" --version
  [ "$status" -eq 0 ]; [[ "$stderr" == *'trace: loaded node_modules/yargs/index.mjs'* ]]
  # the agents don't: metadata, an OCF monitor and a fence status, by link and through the program
  for cmd in "$LINKS/fence_compute -o metadata" "$BIN fence_compute -o metadata" "$LINKS/fence_evacuate -o metadata" \
             "$LINKS/fence_openstack -o metadata" "$LINKS/NovaEvacuate meta-data" "$BIN NovaEvacuate meta-data" "$LINKS/nova-compute-wait meta-data"; do
    run --separate-stderr $cmd
    [ "$status" -eq 0 ] || { echo "$cmd: exit $status: $stderr"; false; }
    [[ "$stderr" != *'trace: loaded'* ]] || { echo "$cmd loaded: $stderr"; false; }
  done
  run --separate-stderr env OCF_ROOT=/usr/lib/ocf HA_RSCTMP="$BATS_TEST_TMPDIR" OCF_RESOURCE_INSTANCE=nova-evacuate \
    OCF_RESKEY_auth_url=http://127.0.0.1:9/v3 OCF_RESKEY_username=admin OCF_RESKEY_password=x OCF_RESKEY_tenant_name=admin \
    "$LINKS/NovaEvacuate" monitor
  [ "$status" -eq 7 ]; [[ "$stderr" != *'trace: loaded'* ]]
  run --separate-stderr bash -c "printf 'action=status\nport=compute1\nauth_url=http://127.0.0.1:9/v3\nlogin=a\npasswd=b\ntenant_name=c\n' | '$LINKS/fence_compute'"
  [[ "$stderr" != *'trace: loaded'* ]] || { echo "fence_compute status: $stderr"; false; }
}
