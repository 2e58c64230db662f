# Shared by the OpenStack rig scripts (sourced). Everything lives under $OS_RIG_DIR; every service is started
# in its own session (setsid) and recorded as "PID STARTTIME" in $OS_RIG_DIR/run/NAME.pid, so that the scripts
# only ever signal the processes they started (a recycled PID has another start time and is left alone).
OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
RIG_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$RIG_HERE/../lib.sh"
PY=/usr/bin/python3          # the pyenv python3 first on PATH lacks the OpenStack libraries
RUN=$OS_RIG_DIR/run
LOGDIR=$OS_RIG_DIR/log
ETC=$OS_RIG_DIR/etc
PRISTINE=$OS_RIG_DIR/pristine
# bump when the layout of the pristine snapshot or of the generated configuration changes
RIG_LAYOUT=3
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

# name:port of every component with a listening port (nova-conductor/-scheduler/-compute have none)
PORTS="mariadb:13306 epmd:4369 rabbitmq:5672 keystone:5000 placement:8778 glance-api:9292 neutron-server:9696 nova-api:8774"
DB_URL=mysql+pymysql://os:os@127.0.0.1:13306


# recorded PID of NAME when that process still runs (same start time), else nothing
recorded_pid() {
  local f=$RUN/$1.pid pid st
  [ -f "$f" ] || return 0
  read -r pid st <"$f" || true
  [ -n "${pid:-}" ] || return 0
  running "$pid" || return 0
  [ -z "${st:-}" ] || [ "$(proc_start "$pid")" = "$st" ] || return 0
  echo "$pid"
}
# names that have a pid file
recorded_names() {
  local f
  for f in "$RUN"/*.pid; do [ -f "$f" ] && basename "$f" .pid; done
  return 0
}
# every process (not a zombie) in the sessions of the given (verified) session leaders, one per line
session_members() {
  [ $# -gt 0 ] || return 0
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v want=" $* " '{
    pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
    if (f[1] != "Z" && (index(want, " " f[4] " ") || index(want, " " pid " "))) print pid }'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_service NAME CMD...: detached, own session, stdout/stderr to $LOGDIR/NAME.out, PID recorded
start_service() {
  local name=$1 pid; shift
  # no inherited descriptors beyond stderr: a test runner's pipe (bats' fd 3) held open by a daemon hangs the runner
  setsid "$@" >>"$LOGDIR/$name.out" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  pid=$!
  echo "$pid $(proc_start "$pid")" >"$RUN/$name.pid"
}

# the services service.sh can restart on their own (fault injection), started the same way by start.sh
start_keystone() {
  start_service keystone uwsgi --plugin python3 --http-socket 127.0.0.1:5000 --wsgi-file /usr/bin/keystone-wsgi-public \
    --master --processes 2 --threads 1 --lazy-apps --die-on-term --add-header "Connection: close" \
    --env "OS_KEYSTONE_CONFIG_FILES=$ETC/keystone/keystone.conf"
}
start_neutron_server() {
  if [ "${NEUTRON:-real}" = real ]; then
    start_service neutron-server "$OS_RIG_DIR/bin/neutron-server" --config-file "$ETC/neutron/neutron.conf"
  else
    start_service neutron-server "$PY" "$RIG_HERE/lib/neutron_stub.py"
  fi
}
start_nova_api() {
  start_service nova-api "$OS_RIG_DIR/bin/nova-api" --config-file "$ETC/nova/nova.conf" --config-file "$ETC/nova/nova-db.conf"
}

# the command line of nova-compute for host computeN
compute_cmd() {
  echo "$OS_RIG_DIR/bin/nova-compute --config-file $ETC/nova/nova.conf --config-file $ETC/nova/$1.conf"
}

# unmount whatever is mounted under $OS_RIG_DIR/state (cinder.sh's share bind mount), deepest first
unmount_state() {
  local m
  for m in $(awk -v d="$OS_RIG_DIR/state/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
RIG_T0=${RIG_T0:-$(now_ms)}
ts() { local d=$(($(now_ms) - RIG_T0)); printf '[%3d.%01ds] %s\n' $((d / 1000)) $((d % 1000 / 100)) "$*"; }
die() { echo "ERROR: $*" >&2; exit 1; }
