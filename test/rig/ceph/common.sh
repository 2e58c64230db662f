# shellcheck shell=bash disable=SC2034  # (sourced: its variables are used by the scripts that source it)
# Shared by the Ceph rig scripts (sourced). Everything lives under $CEPH_RIG_DIR; every daemon runs in the
# foreground (-f) in its own session (setsid) and is recorded as "PID STARTTIME" in $CEPH_RIG_DIR/run/NAME.pid, so
# that the scripts only ever signal the processes they started (a recycled PID has another start time).
CEPH_RIG_DIR=${CEPH_RIG_DIR:-/tmp/oha-ceph-rig}
RIG_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$RIG_HERE/../lib.sh"
PY=/usr/bin/python3          # the pyenv python3 first on PATH lacks the system libraries (json is enough here)
CONF=$CEPH_RIG_DIR/ceph.conf
RUN=$CEPH_RIG_DIR/run        # pid records only
SOCK=$CEPH_RIG_DIR/sock      # admin sockets (run_dir)
LOGDIR=$CEPH_RIG_DIR/log
ETC=$CEPH_RIG_DIR/etc        # keyrings
DATA=$CEPH_RIG_DIR/data      # mon.a, mgr.x, osd.0 (+ osd.0.block, the sparse BlueStore file)
ADMIN_KEYRING=$ETC/ceph.client.admin.keyring
MON_ID=a
MGR_ID=x
OSD_ID=0
# the daemons in start order (stop.sh goes the other way)
DAEMONS="mon.$MON_ID mgr.$MGR_ID osd.$OSD_ID"
MON_PORTS="3300 6789"        # msgr2, msgr1; both on 127.0.0.1
# the ceph CLI (a /usr/bin/python3 script) and ceph-mgr (embedded libpython3.11) must not see a pyenv's settings
unset PYTHONPATH PYTHONHOME
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

# recorded PID of NAME (mon.a, mgr.x, osd.0) when that process still runs (same start time), else nothing
recorded_pid() {
  local f=$RUN/$1.pid pid st
  [ -f "$f" ] || return 0
  read -r pid st <"$f" || true
  [ -n "${pid:-}" ] || return 0
  running "$pid" || return 0
  [ -z "${st:-}" ] || [ "$(proc_start "$pid")" = "$st" ] || return 0
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_daemon NAME CMD...: detached, own session, stdout/stderr to $LOGDIR/NAME.out, "PID STARTTIME" recorded
start_daemon() {
  local name=$1 pid; shift
  # no inherited descriptors beyond stderr: a test runner's pipe (bats' fd 3) held open by a daemon hangs the runner
  setsid "$@" >>"$LOGDIR/$name.out" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  pid=$!
  echo "$pid $(proc_start "$pid")" >"$RUN/$name.pid"
}

# the ceph and rbd CLIs as client.admin against the rig (arrays, so that `timeout` can run them); ceph_cli never
# waits more than 10 s for the monitor
CEPH_ARGS_RIG=(--cluster ceph -c "$CONF" -n client.admin -k "$ADMIN_KEYRING")
CEPH_CMD=(ceph "${CEPH_ARGS_RIG[@]}" --connect-timeout 10)
RBD_CMD=(rbd "${CEPH_ARGS_RIG[@]}")
ceph_cli() { "${CEPH_CMD[@]}" "$@"; }

# json_true EXPR: read JSON on stdin, exit 0 when the Python expression EXPR (over j) is true
json_true() { "$PY" -c "import json, sys; j = json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }

now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
RIG_T0=${RIG_T0:-$(now_ms)}
ts() { local d=$(($(now_ms) - RIG_T0)); printf '[%3d.%01ds] %s\n' $((d / 1000)) $((d % 1000 / 100)) "$*"; }
say() { echo "ceph rig: $*"; }
die() { echo "ceph rig: ERROR: $*" >&2; exit 1; }
