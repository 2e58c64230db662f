# Shared by the control-plane bats files: REAL Cinder daemons (Debian 12 python3-cinder, Zed) run by our agents under
# REAL Pacemaker, against the OpenStack rig's MariaDB, RabbitMQ and Keystone. test/controlplane/run.sh has started
# the OpenStack rig, configured Cinder (test/rig/openstack/cinder.sh setup), made the agents' Keystone user and
# installed the agents in /.
ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
PY=/usr/bin/python3
export OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
export RIG_DIR=${RIG_DIR:-/tmp/oha-pacemaker-rig}
export CP_OUT=${CP_OUT:-/tmp/oha-controlplane}
export PATH=$PATH:/usr/sbin:/sbin
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
mkdir -p "$CP_OUT"
CONF=$OS_RIG_DIR/etc/cinder/cinder.conf
OCF=/usr/lib/ocf/resource.d/openstack
MN="$ROOT/test/rig/multinode/cluster.sh"
# the agents' Keystone user (admin on project admin), its password made by run.sh: never on a daemon's command line
AGENT_USER=oha-cp
AGENT_PW=$(cat "$CP_OUT/agent-password")
# the seed's parameters (Keystone v2.0 token URL, mapped to v3 by the agent)
SEED_CREDS=(os_username="$AGENT_USER" os_password="$AGENT_PW" os_tenant_name=admin
  keystone_get_token_url=http://127.0.0.1:5000/v2.0/tokens)
VOLUME_SVC=cinder-volume@cinder-cluster-1@nfs

cinder() { "$PY" "$ROOT/test/rig/openstack/lib/cinder_rig.py" "$@"; }
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# timeline lines for run.sh's summary
record() { echo "$*" >>"$CP_OUT/timings"; echo "# $*" >&3; }

wait_for() { # wait_for SECONDS command...
  local t=$1; shift
  local end=$(($(date +%s) + t))
  while [ "$(date +%s)" -lt "$end" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "timed out after ${t}s waiting for: $*" >&2; return 1
}
# crm_mon of the single-node rig, or of node 1 of the multi-node cluster with CLUSTER=mn
cm() { if [ "${CLUSTER:-}" = mn ]; then bash "$MN" exec 1 crm_mon "$@"; else crm_mon "$@"; fi; }
cm_xml() { cm -1 --output-as=xml 2>/dev/null; }
# shellcheck source=../rig/multinode/crm.bash
. "$ROOT/test/rig/multinode/crm.bash"   # started_on RESOURCE NODE, running_on, node_is (from cm_xml)
# the PID in an agent's pid file (first word)
pidfile_pid() { awk '{ print $1; exit }' "$1" 2>/dev/null; }
# PIDs of the real daemon BINARY (cinder-volume, ...) started with the rig's configuration, one per line
daemon_pids() {
  local d a
  for d in /proc/[0-9]*; do
    a=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
    case "$a" in *"/usr/bin/$1 --config-file $CONF"*) echo "${d#/proc/}" ;; esac
  done
  return 0
}
netns_of() { readlink "/proc/$1/ns/net" 2>/dev/null; }
# ocf_opts NAME=VALUE...: "-o NAME=VALUE" for ocf-tester (values without spaces)
ocf_opts() { local a; for a in "$@"; do printf -- '-o %s ' "$a"; done; }
