# Sourced by the rig scripts and by tests: where the single-node Pacemaker rig keeps its state and logs.
#   . test/rig/pacemaker/env.sh
# RIG_DIR may be set beforehand to use another directory.
export RIG_DIR="${RIG_DIR:-/tmp/oha-pacemaker-rig}"
# corosync's own log (logging.logfile) and its stdout/stderr
export RIG_COROSYNC_LOG="$RIG_DIR/corosync.log"
export RIG_COROSYNC_OUT="$RIG_DIR/corosync.out"
# the Pacemaker daemons' detail log (PCMK_logfile) and pacemakerd's stdout/stderr. OCF agents' non-debug lines
# land here too: pacemaker-execd sets HA_LOGFILE to PCMK_logfile for the agents it runs.
export RIG_PACEMAKER_LOG="$RIG_DIR/pacemaker.log"
export RIG_PACEMAKERD_OUT="$RIG_DIR/pacemakerd.out"
# every agent log line, once: OCF agents reach it through HA_DEBUGLOG, fence agents through HA_LOGFILE and
# HA_DEBUGLOG (pacemaker-fenced passes both through unchanged)
export RIG_RA_LOG="$RIG_DIR/ra.log"
export RIG_COROSYNC_CONF="$RIG_DIR/corosync.conf"
export RIG_COROSYNC_PIDFILE="$RIG_DIR/corosync.pid"
export RIG_PACEMAKERD_PIDFILE="$RIG_DIR/pacemakerd.pid"
# the node name of the rig's only member
export RIG_NODE=node1
