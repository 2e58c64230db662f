# Helpers shared by start.sh and stop.sh (sourced). Process lookups read /proc directly: no procps needed.

# the names of the daemons pacemakerd starts (they setsid(), so they are found by parent or by name)
PCMK_CHILDREN="pacemaker-based pacemaker-fenced pacemaker-execd pacemaker-attrd pacemaker-schedulerd pacemaker-controld"

# start time of PID in clock ticks since boot (field 22 of /proc/PID/stat), empty when PID does not exist
proc_start() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  # the command name (field 2) may hold spaces: cut after the last ')'
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"
}

# parent PID of PID
proc_ppid() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo "$2"
}

# program name of PID: basename of argv[0] (comm is cut to 15 characters: "pacemaker-sched")
proc_name() {
  local a0
  a0=$({ tr '\0' '\n' <"/proc/$1/cmdline"; } 2>/dev/null | head -n1) || return 0
  echo "${a0##*/}"
}

# PIDs (one per line) whose program name is one of the arguments
pids_named() {
  local d pid n want
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    n=$(proc_name "$pid")
    [ -n "$n" ] || continue
    for want in "$@"; do
      if [ "$n" = "$want" ]; then echo "$pid"; break; fi
    done
  done
}

# PIDs (one per line) whose parent is PID
children_of() {
  local d pid
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$(proc_ppid "$pid")" = "$1" ] && echo "$pid"
  done
  return 0
}

# does PID run (exists and is not a zombie waiting to be reaped)?
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# is the process recorded as "PID START" still the same, running process?
same_proc() {
  [ -n "$1" ] && [ -n "$2" ] && [ "$(proc_start "$1")" = "$2" ] && running "$1"
}

# the rig's process records: $RIG_DIR/procs, lines "ROLE PID START" (ROLE: corosync, pacemakerd, child)
record_proc() {
  local start
  start=$(proc_start "$2")
  [ -n "$start" ] && echo "$1 $2 $start" >>"$RIG_DIR/procs"
  return 0
}

# recorded PIDs of ROLE that still run (the same process: the start time matches), one per line
recorded_alive() {
  local role pid start
  [ -f "$RIG_DIR/procs" ] || return 0
  while read -r role pid start; do
    [ "$role" = "$1" ] && same_proc "$pid" "$start" && echo "$pid"
  done <"$RIG_DIR/procs"
  return 0
}

# seconds since T0 (date +%s.%N), 1 decimal
elapsed() {
  awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}
