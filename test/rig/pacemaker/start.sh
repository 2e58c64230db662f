#!/bin/bash
# Starts a single-node Pacemaker 2.1 + Corosync 3 cluster (node "node1", knet on 127.0.0.1) without systemd.
#   bash test/rig/pacemaker/start.sh        (root; RIG_DIR=/tmp/oha-pacemaker-rig unless set)
# Every start begins from a fresh CIB (stonith-enabled=false, dc-deadtime=1s; tests enable stonith themselves).
# Logs stay in $RIG_DIR (see env.sh); the previous run's logs are moved to $RIG_DIR/previous/.
# Agents started by this cluster log to $RIG_DIR/ra.log (see the comment at "pacemaker" below).
# Stop with test/rig/pacemaker/stop.sh.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$HERE/env.sh"
# shellcheck source=common.sh
. "$HERE/common.sh"

TIMEOUT=${RIG_START_TIMEOUT:-60}
CIB_DIR=/var/lib/pacemaker/cib

die() { echo "rig start: ERROR: $*" >&2; exit 1; }
say() { echo "rig start: $*"; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
for t in corosync corosync-cfgtool pacemakerd crm_mon; do
  command -v "$t" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
  command -v "$t" >/dev/null 2>&1 || die "$t not found: run bash $HERE/install.sh"
done
id hacluster >/dev/null 2>&1 || die "user hacluster missing: run bash $HERE/install.sh"

# --- refuse to start over a running cluster ----------------------------------------------------------------------
running=$(pids_named corosync pacemakerd $PCMK_CHILDREN | tr '\n' ' ')
if [ -n "${running// /}" ]; then
  {
    echo "rig start: ERROR: a cluster is already running:"
    for pid in $running; do echo "  PID $pid $(proc_name "$pid")"; done
    if [ -n "$(recorded_alive corosync)$(recorded_alive pacemakerd)" ]; then
      echo "It was started by this rig (RIG_DIR=$RIG_DIR): stop it with: bash $HERE/stop.sh"
    else
      echo "It was not started by this rig (RIG_DIR=$RIG_DIR): stop it with the tool that started it, or"
      echo "kill pacemakerd first (kill -TERM PID), wait for its children to exit, then corosync."
    fi
  } >&2
  exit 1
fi

T0=$(date +%s.%N)

# --- fresh state -------------------------------------------------------------------------------------------------
mkdir -p "$RIG_DIR"
chmod 0755 "$RIG_DIR"
if ls "$RIG_DIR"/*.log "$RIG_DIR"/*.out >/dev/null 2>&1; then
  rm -rf "$RIG_DIR/previous"
  mkdir -p "$RIG_DIR/previous"
  mv -f "$RIG_DIR"/*.log "$RIG_DIR"/*.out "$RIG_DIR/previous/" 2>/dev/null || true
fi
rm -f "$RIG_DIR/procs" "$RIG_COROSYNC_PIDFILE" "$RIG_PACEMAKERD_PIDFILE"
# the daemons that log there run as hacluster; agents (as root) append to ra.log
for f in "$RIG_COROSYNC_LOG" "$RIG_PACEMAKER_LOG" "$RIG_RA_LOG"; do
  : >"$f"
  chown hacluster:haclient "$f"
  chmod 0664 "$f"
done

# Pacemaker's persistent state: the CIB and the scheduler's saved inputs. Nothing else survives a restart.
mkdir -p "$CIB_DIR" /var/lib/pacemaker/pengine
rm -f "$CIB_DIR"/* /var/lib/pacemaker/pengine/*

# dc-deadtime=1s: the node elects itself DC in ~1 s instead of waiting 20 s for peers that do not exist
cat >"$CIB_DIR/cib.xml" <<'EOF'
<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="1s"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
EOF
chown hacluster:haclient "$CIB_DIR/cib.xml"
chmod 0600 "$CIB_DIR/cib.xml"

# corosync rejects "node { name: x" on one line: one key per line
cat >"$RIG_COROSYNC_CONF" <<EOF
totem {
    version: 2
    cluster_name: oha-rig
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    token: 3000
}
nodelist {
    node {
        name: $RIG_NODE
        nodeid: 1
        ring0_addr: 127.0.0.1
    }
}
quorum {
    provider: corosync_votequorum
}
logging {
    to_stderr: no
    to_logfile: yes
    logfile: $RIG_COROSYNC_LOG
    to_syslog: no
    timestamp: on
}
EOF
# pcs (pcs status, ...) reads /etc/corosync/corosync.conf: put ours there while the rig runs; stop.sh puts the
# original back
mkdir -p /etc/corosync
if [ -f /etc/corosync/corosync.conf ] && [ ! -f "$RIG_DIR/etc-corosync.conf.orig" ] \
  && ! cmp -s "$RIG_COROSYNC_CONF" /etc/corosync/corosync.conf; then
  cp -p /etc/corosync/corosync.conf "$RIG_DIR/etc-corosync.conf.orig"
fi
cp "$RIG_COROSYNC_CONF" /etc/corosync/corosync.conf

# run a daemon in the background in its own session, with no inherited descriptors beyond 0-2
# (a test harness waiting for its pipes to close must not wait for the cluster)
launch() {
  local out=$1
  shift
  (
    for fd in $(ls "/proc/$BASHPID/fd"); do
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec setsid "$@" </dev/null >"$out" 2>&1
  ) &
  LAUNCHED=$!
}

# --- corosync ----------------------------------------------------------------------------------------------------
launch "$RIG_COROSYNC_OUT" corosync -f -c "$RIG_COROSYNC_CONF"
COROSYNC_PID=$LAUNCHED
echo "$COROSYNC_PID" >"$RIG_COROSYNC_PIDFILE"
# the start time does not change when the subshell exec()s corosync: record it now
record_proc corosync "$COROSYNC_PID"
ready=''
for _ in $(seq 1 150); do
  if ! running "$COROSYNC_PID"; then
    echo "rig start: ERROR: corosync exited; $RIG_COROSYNC_OUT and $RIG_COROSYNC_LOG say:" >&2
    tail -n 20 "$RIG_COROSYNC_OUT" "$RIG_COROSYNC_LOG" >&2
    exit 1
  fi
  if corosync-cfgtool -s >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || die "corosync did not answer within 15 s (see $RIG_COROSYNC_LOG); stop with bash $HERE/stop.sh"
[ "$(proc_name "$COROSYNC_PID")" = corosync ] || die "PID $COROSYNC_PID is not corosync ($(proc_name "$COROSYNC_PID"))"
say "corosync PID $COROSYNC_PID ready after $(elapsed "$T0") s"

# --- pacemaker ---------------------------------------------------------------------------------------------------
# PCMK_logfacility=none: no syslog daemon runs; the daemons log to PCMK_logfile.
# Agents: pacemaker-execd overwrites HA_LOGFILE with PCMK_logfile for OCF agents (so their ocf_log lines land in
# pacemaker.log), while pacemaker-fenced passes HA_LOGFILE through to fence agents unchanged. HA_DEBUGLOG reaches
# both unchanged (unless PCMK_debug is on), and ocf_log/lib/core/log.ts write every message there too when it differs
# from HA_LOGFILE: with both set to ra.log, ra.log holds each agent message once.
export PCMK_logfacility=none
export PCMK_logfile="$RIG_PACEMAKER_LOG"
export HA_LOGFILE="$RIG_RA_LOG"
export HA_DEBUGLOG="$RIG_RA_LOG"
unset PCMK_debug HA_debug
launch "$RIG_PACEMAKERD_OUT" pacemakerd
PCMK_PID=$LAUNCHED
echo "$PCMK_PID" >"$RIG_PACEMAKERD_PIDFILE"
record_proc pacemakerd "$PCMK_PID"

online=''
deadline=$(awk -v a="$T0" -v t="$TIMEOUT" 'BEGIN { printf "%d", a + t }')
while [ "$(date +%s)" -lt "$deadline" ]; do
  if ! running "$PCMK_PID"; then
    echo "rig start: ERROR: pacemakerd exited; $RIG_PACEMAKERD_OUT and $RIG_PACEMAKER_LOG say:" >&2
    tail -n 20 "$RIG_PACEMAKERD_OUT" "$RIG_PACEMAKER_LOG" >&2
    echo "stop what is left with: bash $HERE/stop.sh" >&2
    exit 1
  fi
  if crm_mon -1 2>/dev/null | grep -q "Online: \[ $RIG_NODE \]"; then online=1; break; fi
  sleep 0.2
done
if [ -z "$online" ]; then
  echo "rig start: ERROR: $RIG_NODE not Online after $TIMEOUT s; crm_mon -1 says:" >&2
  crm_mon -1 >&2 2>&1 || true
  echo "logs: $RIG_DIR; stop with: bash $HERE/stop.sh" >&2
  exit 1
fi
[ "$(proc_name "$PCMK_PID")" = pacemakerd ] || die "PID $PCMK_PID is not pacemakerd ($(proc_name "$PCMK_PID"))"
# the daemons pacemakerd started, for stop.sh (they setsid(): they are found by parent)
for pid in $(children_of "$PCMK_PID"); do record_proc child "$pid"; done
say "pacemakerd PID $PCMK_PID; $RIG_NODE Online after $(elapsed "$T0") s (logs: $RIG_DIR)"
