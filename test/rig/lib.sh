# Shared by the test rigs (sourced): process lookups through /proc (no procps needed) and idempotent apt installs.

# field N (1-based, counted after the command name) of /proc/PID/stat; empty when PID does not exist.
# Field 1 is the state, 2 the parent PID, 4 the session, 20 the start time in clock ticks since boot.
proc_field() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }   # the command name may hold spaces: cut after the last ')'
  read -r -a fields <<<"$stat"
  echo "${fields[$(($2 - 1))]}"
}
proc_start() { proc_field "$1" 20; }
proc_ppid() { proc_field "$1" 2; }
proc_sid() { proc_field "$1" 4; }

# does PID run (exists and is not a zombie waiting to be reaped)?
running() {
  local st
  st=$(proc_field "$1" 1)
  [ -n "$st" ] && [ "$st" != Z ]
}

# none_running PID...: none of the PIDs runs any more (gone, or a zombie)
none_running() {
  local p
  for p in "$@"; do running "$p" && return 1; done
  return 0
}

# wait_for SECONDS COMMAND...: run COMMAND (output discarded) every 0.2 s until it succeeds, for at most SECONDS;
# on timeout say what was awaited on stderr and fail. The rigs and suites wait for evidence with it, not with a
# fixed sleep. COMMAND may be a shell function.
wait_for() {
  local t=$1 end; shift
  end=$(($(date +%s) + t))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || { echo "timed out after ${t}s waiting for: $*" >&2; return 1; }
    sleep 0.2
  done
}

# logged_since FILE LINE ERE [N]: at least N (default 1) lines of FILE after its line LINE match ERE (LINE: the
# file's `wc -l` taken before the awaited event; evidence that an agent got that far, for wait_for)
logged_since() { [ "$(awk -v n="$2" 'NR > n' "$1" 2>/dev/null | grep -cE -- "$3")" -ge "${4:-1}" ]; }
log_lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# apt_missing PACKAGE...: the packages not installed, one per line
apt_missing() {
  local p st
  for p in "$@"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || echo "$p"
  done
  return 0
}

# need_root LABEL PACKAGE...: exit with a clear message unless root (installing the packages needs it)
need_root() {
  local label=$1; shift
  [ "$(id -u)" -eq 0 ] || { echo "$label: ERROR: missing packages ($*) and not root: run as root" >&2; exit 1; }
}

# apt_install LABEL LOG PACKAGE...: apt-get update + install (no recommends), then check each is installed.
# Needs root; on failure prints the log's tail and exits. APT_OPTS may add apt-get options.
apt_install() {
  local label=$1 log=$2 p; shift 2
  need_root "$label" "$@"
  mkdir -p "$(dirname "$log")"
  : >"$log"
  local apt=(apt-get -y -q -o DPkg::Lock::Timeout=900 ${APT_OPTS:-})
  _apt_fail() { echo "$label: ERROR: $1 (log: $log); last lines:" >&2; tail -n 30 "$log" >&2; exit 1; }
  echo "$label: installing $* (log: $log)"
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >>"$log" 2>&1 || _apt_fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "$@" >>"$log" 2>&1 || _apt_fail "apt-get install failed"
  for p in $(apt_missing "$@"); do _apt_fail "$p is still not installed"; done
}

# apt_install_quiet LABEL LOG "DAEMON..." PACKAGE...: install the packages that are missing (nothing when all are),
# with a policy-rc.d that lets no postinst start a service (an existing one is put back after), keeping the
# configuration files that are there; a process named one of the space-separated DAEMONs that appears during the
# install anyway is ended (TERM, KILL after 3 s). Prints how long it took; needs root when something is missing.
apt_install_quiet() {
  local label=$1 log=$2 daemons=" $3 " before pid t0 policy=/usr/sbin/policy-rc.d saved='' stray=() missing=(); shift 3
  mapfile -t missing < <(apt_missing "$@")
  [ ${#missing[@]} -gt 0 ] || { echo "$label: all $# packages present"; return 0; }
  need_root "$label" "${missing[@]}"
  before=" $(_daemon_pids "$daemons" | tr '\n' ' ') "
  if [ -e "$policy" ]; then saved=$(mktemp); cp -p "$policy" "$saved"; fi
  # shellcheck disable=SC2064
  trap "if [ -n '$saved' ]; then cp -p '$saved' '$policy'; rm -f '$saved'; else rm -f '$policy'; fi" EXIT
  printf '#!/bin/sh\n# written by openstack-ha-agents (%s): no service starts during the install\nexit 101\n' "$label" >"$policy"
  chmod 755 "$policy"
  t0=$(date +%s)
  APT_OPTS="-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold" apt_install "$label" "$log" "${missing[@]}"
  for pid in $(_daemon_pids "$daemons"); do
    case "$before" in *" $pid "*) ;; *) stray+=("$pid") ;; esac
  done
  if [ ${#stray[@]} -gt 0 ]; then
    echo "$label: stopping daemons started by the install: ${stray[*]}"
    kill -TERM "${stray[@]}" 2>/dev/null || true
    wait_for 3 none_running "${stray[@]}" 2>/dev/null || true
    for pid in "${stray[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  echo "$label: done in $(($(date +%s) - t0)) s"
}
# _daemon_pids " NAME... ": PIDs of the processes whose program is one of the names
_daemon_pids() {
  local d n
  for d in /proc/[0-9]*; do
    n=$({ tr '\0' '\n' <"$d/cmdline"; } 2>/dev/null | head -n1) || continue
    n=${n##*/}
    case "$1" in *" $n "*) echo "${d#/proc/}" ;; esac
  done
  return 0
}

# A live (not zombie) corosync or pacemakerd on this machine. (pgrep -x 'corosync|pacemakerd' matches nothing:
# pgrep never matches patterns longer than 15 characters with -x.)
cluster_alive() {
  local p
  for p in $(pgrep -x corosync; pgrep -x pacemakerd); do
    case $(ps -o stat= -p "$p" 2>/dev/null) in Z*|'') ;; *) return 0 ;; esac
  done
  return 1
}

# resource_started NAME: Pacemaker reports NAME Started, not pending, not failed
resource_started() {
  crm_mon -1 --output-as=xml 2>/dev/null | grep "<resource id=\"$1\"" | grep 'role="Started"' | grep -v 'pending=' |
    grep -q 'failed="false"'
}

# power_device_started NAME SECONDS: wait for the test's stand-in power device (fence_rig) to start, or say why not.
# (It replaced Debian's fence_dummy, whose first monitor under pacemaker-fenced now and then never returned:
# "fence_dummy_monitor process will not die"; the tests no longer retry anything.)
power_device_started() {
  local name=$1 secs=$2 end
  end=$(($(date +%s) + secs))
  while [ "$(date +%s)" -lt "$end" ]; do resource_started "$name" && return 0; sleep 0.3; done
  echo "$name did not start in ${secs}s" >&2
  crm_mon -1 >&2 || true
  return 1
}

# system_user NAME: the system user, group and directories that Debian's OpenStack packages create for a service
# (openstack-pkg-tools' pkgos_var_user_group, run by e.g. cinder-common's postinst): the reserved uid/gid of
# nova/cinder/glance, home /var/lib/NAME (0750, nova 0755), shell /bin/false, /var/log/NAME owned NAME:adm 0750.
# Idempotent; needs root. For suites that run daemons as that user without installing the package.
system_user() {
  local name=$1 ids=()
  case $name in
    nova) ids=(64060) ;; cinder) ids=(64061) ;; glance) ids=(64062) ;;
  esac
  getent group "$name" >/dev/null || addgroup --quiet --system ${ids:+--gid "${ids[0]}"} "$name"
  getent passwd "$name" >/dev/null || adduser --system --home "/var/lib/$name" --no-create-home --quiet \
    --disabled-password --shell /bin/false --group ${ids:+--uid "${ids[0]}"} "$name"
  mkdir -p "/var/lib/$name" "/var/log/$name"
  chown "$name:$name" "/var/lib/$name"
  if [ "$name" = nova ]; then chmod 755 "/var/lib/$name"; else chmod 750 "/var/lib/$name"; fi
  chown "$name:adm" "/var/log/$name"; chmod 750 "/var/log/$name"
}

# allowed_skip SUITE NAME: test/skips-allowed.txt (from the project root) lists that skipped test
# ("SUITE | TEST NAME | WHY", suite and name exact)
allowed_skip() {
  local entry suite rest
  while IFS= read -r entry; do
    [[ "$entry" =~ ^[[:space:]]*(#|$) ]] && continue
    suite=${entry%% | *}; rest=${entry#* | }
    [ "$suite" = "$1" ] && [ "${rest%% | *}" = "$2" ] && return 0
  done <test/skips-allowed.txt
  return 1
}

# tap_skips SUITE TAPFILE: list the skipped tests of a bats TAP stream ("skipped: SUITE | NAME | REASON"), marking
# those test/skips-allowed.txt does not list; prints their count (unexpected ones first) as "N M" on the last line
tap_skips() {
  local line name reason n=0 bad=0
  while IFS= read -r line; do
    [[ "$line" =~ ^ok\ [0-9]+\ (.*)\ \#\ skip(\ (.*))?$ ]] || continue
    name=${BASH_REMATCH[1]}; reason=${BASH_REMATCH[3]:-(no reason given)}; n=$((n + 1))
    if allowed_skip "$1" "$name"; then echo "skipped: $1 | $name | $reason"
    else echo "skipped: $1 | $name | $reason   <- NOT in test/skips-allowed.txt: fails the run"; bad=$((bad + 1)); fi
  done <"$2"
  echo "$bad $n"
}

# tap_counts SUITE TAPFILE: sets passed, failed and skipped from a bats TAP stream. A test planned but never reported
# counts as failed, no plan at all as one failure, a skip that test/skips-allowed.txt does not list as a failure; the
# skipped tests are printed (tap_skips).
tap_counts() {
  local planned missing out bad
  passed=$(grep -c '^ok ' "$2"); failed=$(grep -c '^not ok ' "$2")
  planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$2" | head -1)
  missing=$(( ${planned:-0} - passed - failed ))
  [ "$missing" -gt 0 ] && failed=$((failed + missing))
  [ -z "$planned" ] && failed=$((failed + 1))
  out=$(tap_skips "$1" "$2"); echo "$out" | sed '$d'
  read -r bad skipped <<<"$(echo "$out" | tail -1)"
  passed=$((passed - skipped)); failed=$((failed + bad))
}
