# Shared by the end-to-end bats files: the real OpenStack rig (test/rig/openstack) and the real Pacemaker rig
# (test/rig/pacemaker) are already running (test/e2e/run.sh starts them); our agents are installed in /.
ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
OSRIG="$ROOT/test/rig/openstack"
PY=/usr/bin/python3
export OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
export RIG_DIR=${RIG_DIR:-/tmp/oha-pacemaker-rig}
# where the scenarios keep their ids, watch files and timelines (run.sh sets it; printed at the end)
export E2E_OUT=${E2E_OUT:-/tmp/oha-e2e}
mkdir -p "$E2E_OUT"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# shellcheck disable=SC1091
. "$OS_RIG_DIR/rig.env"
CREDS_OCF=(auth_url="$AUTH_URL" username=admin password=admin tenant_name=admin endpoint_type=public)
CREDS_FENCE=(auth_url="$AUTH_URL" login=admin passwd=admin tenant_name=admin endpoint_type=public)

osctl() { "$PY" "$BATS_TEST_DIRNAME/lib/osctl.py" "$@"; }
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

attr() { attrd_updater -p -n evacuate -Q -N "$1" 2>/dev/null | sed -n 's/.*value="\(.*\)"/\1/p'; }
attr_is() { [ "$(attr "$1")" = "$2" ]; }
# shellcheck source=../rig/lib.sh
. "$BATS_TEST_DIRNAME/../rig/lib.sh"   # wait_for SECONDS COMMAND..., running, resource_started
started() { resource_started "$1"; }
service_is() { [ "$(osctl service "$1")" = "$2" ]; }
placement_is() { [ "$(osctl placement "$1")" = "$2" ]; }

# attr_watch HOST FILE: record every change of HOST's evacuate attribute ("EPOCH_MS VALUE" lines) until killed
attr_watch() {
  local last=__none__ v
  while :; do
    v=$(attr "$1")
    if [ "$v" != "$last" ]; then echo "$(now_ms) ${v:-<unset>}" >>"$2"; last=$v; fi
    sleep 0.1
  done
}

# attr_watched FILE VALUE: attr_watch's last recorded value in FILE is VALUE (<unset> for none)
attr_watched() { [ "$(tail -n 1 "$1" 2>/dev/null | awk '{print $2}')" = "$2" ]; }
# monitors_warned LINE N: nova-evacuate's monitor found Keystone or Nova unreachable ("... will be evacuated when it
# answers") at least N times in ra.log after its line LINE
monitors_warned() { logged_since "$RIG_DIR/ra.log" "$1" 'will be evacuated when it answers' "$2"; }

# epoch ms of nova-api's first answered "POST /v2.1/servers/ID/action" for a server of IDFILE at or after SINCE_MS
first_action_ms() { # first_action_ms IDFILE SINCE_MS
  "$PY" - "$1" "$2" "$OS_RIG_DIR/log/nova-api.log" <<'EOF'
import datetime, re, sys
ids = {l.split()[0] for l in open(sys.argv[1]) if l.strip()}
since = int(sys.argv[2])
best = None
for line in open(sys.argv[3], errors='replace'):
    m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) .*"POST /v2\.1/servers/([0-9a-f-]+)/action HTTP', line)
    if not m or m.group(2) not in ids:
        continue
    t = int(datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f').timestamp() * 1000)
    if t >= since and (best is None or t < best):
        best = t
print(best if best is not None else '')
EOF
}
# number of "POST /v2.1/servers/ID/action" lines of nova-api per server of IDFILE at or after SINCE_MS: "ID N"
action_counts() {
  "$PY" - "$1" "$2" "$OS_RIG_DIR/log/nova-api.log" <<'EOF'
import collections, datetime, re, sys
ids = [l.split()[0] for l in open(sys.argv[1]) if l.strip()]
since = int(sys.argv[2])
c = collections.Counter()
for line in open(sys.argv[3], errors='replace'):
    m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) .*"POST /v2\.1/servers/([0-9a-f-]+)/action HTTP', line)
    if m and int(datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f').timestamp() * 1000) >= since:
        c[m.group(2)] += 1
for i in ids:
    print(i, c.get(i, 0))
EOF
}
# number of "POST /v2.1/servers/ID/action" answered by nova-api for servers of IDFILE in [FROM_MS, TO_MS)
actions_between() {
  "$PY" - "$1" "$2" "$3" "$OS_RIG_DIR/log/nova-api.log" <<'EOF'
import datetime, re, sys
ids = {l.split()[0] for l in open(sys.argv[1]) if l.strip()}
a, b = int(sys.argv[2]), int(sys.argv[3])
n = 0
for line in open(sys.argv[4], errors='replace'):
    m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) .*"POST /v2\.1/servers/([0-9a-f-]+)/action HTTP', line)
    if m and m.group(2) in ids:
        t = int(datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f').timestamp() * 1000)
        n += a <= t < b
print(n)
EOF
}
# seconds (one decimal) from T0_MS to T_MS
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# start / stop a background helper whose PID is kept in $E2E_OUT/NAME.pid
bg_start() { local name=$1; shift; "$@" >/dev/null 2>>"$E2E_OUT/$name.err" 3>&- & echo $! >"$E2E_OUT/$name.pid"; }
bg_stop() {
  local f="$E2E_OUT/$1.pid"
  [ -f "$f" ] || return 0
  # the job may be a subshell (a shell function run in the background): stop its children too
  pkill -P "$(cat "$f")" 2>/dev/null || true
  kill "$(cat "$f")" 2>/dev/null || true
  rm -f "$f"
}

# restart_and_unfence HOST: start HOST's nova-compute again, then unfence it with stonith_admin (fence_compute on)
# until Nova has accepted forced_down=false (it refuses while the host's evacuation records are not completed) and
# Placement no longer marks it COMPUTE_STATUS_DISABLED; then a server booted onto HOST must become ACTIVE there
restart_and_unfence() {
  local out _
  bash "$OSRIG/compute.sh" start "$1" 3>&-   # nova-compute must not inherit bats' fd 3
  for _ in $(seq 1 20); do
    sleep 3
    out=$(stonith_admin --unfence "$1" --timeout 120 2>&1) || { echo "$out" >&2; return 1; }
    [[ "$(osctl service "$1")" == *forced_down=false ]] && [ "$(osctl placement "$1")" = schedulable ] && break
  done
  wait_for 30 service_is "$1" 'status=enabled state=up forced_down=false'
  [ "$(osctl placement "$1")" = schedulable ]
  osctl schedulable "$1" 120
}

# evacuated_once IDFILE SINCE_MS: every server of IDFILE has exactly one evacuation migration record in Nova, and
# nova-api answered exactly one server action for it since SINCE_MS
evacuated_once() {
  local out id n
  out=$(osctl evacuations "$1"); echo "$out"
  while read -r id n; do [ "$n" -eq 1 ] || { echo "$id: $n evacuation records" >&2; return 1; }; done <<<"$out"
  out=$(action_counts "$1" "$2"); echo "$out"
  while read -r id n; do [ "$n" -eq 1 ] || { echo "$id: $n server actions" >&2; return 1; }; done <<<"$out"
}
