# Helpers shared by start.sh and stop.sh (sourced). Process lookups read /proc directly: no procps needed.
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# the names of the daemons pacemakerd starts (they setsid(), so they are found by parent or by name)
PCMK_CHILDREN="pacemaker-based pacemaker-fenced pacemaker-execd pacemaker-attrd pacemaker-schedulerd pacemaker-controld"

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
