#!/bin/bash
# Installs the Debian 12 packages the OpenStack test rig needs (Keystone, Nova, Placement, Glance, Neutron code,
# MariaDB, RabbitMQ, uwsgi, the openstack CLI). Idempotent: does nothing when everything is installed.
#   bash test/rig/openstack/install.sh
# Needs root. Log: $OS_RIG_DIR/apt-install.log (default /tmp/oha-openstack-rig), its tail is shown on failure.
# Debian's postinst scripts would start mariadb and rabbitmq-server through invoke-rc.d: a policy-rc.d that
# forbids starting services is put in place for the duration of the install (an existing one is restored after).
set -euo pipefail
OS_RIG_DIR=${OS_RIG_DIR:-/tmp/oha-openstack-rig}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

PACKAGES=(
  python3-keystone python3-nova python3-placement python3-glance python3-glance-store python3-neutron
  python3-openstackclient python3-novaclient python3-glanceclient python3-keystoneclient python3-pymysql
  python3-requests rabbitmq-server uwsgi-core uwsgi-plugin-python3 mariadb-server mariadb-client curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "openstack rig install: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "openstack rig install: ERROR: missing packages (${missing[*]}) and not root: run as root" >&2
  exit 1
fi

mkdir -p "$OS_RIG_DIR"
LOG="$OS_RIG_DIR/apt-install.log"
: >"$LOG"
fail() {
  echo "openstack rig install: ERROR: $1 (log: $LOG); last lines:" >&2
  tail -n 30 "$LOG" >&2
  exit 1
}

# daemons that a postinst could start; any such process that appears during the install is ended afterwards
DAEMONS=" mariadbd mysqld beam.smp epmd rabbitmq-server "
daemon_pids() {
  local d n
  for d in /proc/[0-9]*; do
    n=$({ tr '\0' '\n' <"$d/cmdline"; } 2>/dev/null | head -n1) || continue
    n=${n##*/}
    case "$DAEMONS" in *" $n "*) echo "${d#/proc/}" ;; esac
  done
  return 0
}
before=" $(daemon_pids | tr '\n' ' ') "

POLICY=/usr/sbin/policy-rc.d
SAVED=
if [ -e "$POLICY" ]; then SAVED=$(mktemp); cp -p "$POLICY" "$SAVED"; fi
restore_policy() {
  if [ -n "$SAVED" ]; then cp -p "$SAVED" "$POLICY"; rm -f "$SAVED"; else rm -f "$POLICY"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# written by openstack-ha-agents test/rig/openstack/install.sh: no service starts during the install\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -y -q -o DPkg::Lock::Timeout=900 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
echo "openstack rig install: installing ${#missing[@]} packages: ${missing[*]} (log: $LOG)"
T0=$(date +%s)
"${APT[@]}" update >>"$LOG" 2>&1 || fail "apt-get update failed"
"${APT[@]}" install --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1 || fail "apt-get install failed"
for p in "${missing[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || fail "$p is still not installed"
done

# anything the postinsts started anyway (they should not have, with the policy above) is stopped now
stray=()
for pid in $(daemon_pids); do
  case "$before" in *" $pid "*) ;; *) stray+=("$pid") ;; esac
done
if [ ${#stray[@]} -gt 0 ]; then
  echo "openstack rig install: stopping daemons started by the install: ${stray[*]}"
  kill -TERM "${stray[@]}" 2>/dev/null || true
  sleep 3
  for pid in "${stray[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
fi
echo "openstack rig install: done in $(($(date +%s) - T0)) s"
