#!/bin/bash
# Starts a small but REAL OpenStack control plane (Debian 12 "bookworm" packages, OpenStack Zed) on loopback:
#   MariaDB :13306 (Nova, Placement, Neutron), RabbitMQ :5672 (epmd :4369), Keystone v3 :5000 (uwsgi, sqlite),
#   Placement :8778 (uwsgi), Glance :9292 (sqlite, file store), Neutron :9696, nova-api :8774, nova-conductor,
#   nova-scheduler and N nova-compute services with the fake virt driver (hosts compute1..N, N=$NCOMPUTE, default 3;
#   report_interval=2 s, service_down_time=10 s, so a killed compute is "down" after about 10 s).
#
# Neutron: by default the real neutron-server (ML2 plugin, no agents, no mechanism drivers, flat type driver only,
#   MariaDB). It answers every query Nova makes for servers booted with networks "none" (ports, security groups,
#   extensions); it cannot bind ports, so servers must be booted with networks "none". OS_RIG_NEUTRON=stub runs
#   instead lib/neutron_stub.py, a tiny fake that answers every collection with an empty list (NOT Neutron).
#   For the guest-cluster agents' API (openstack-virtual-ip, openstack-floating-ip; record-fixtures.sh's neutron_*
#   fixtures) it also loads the L3 router service plugin (service_plugins = router: routers, external networks'
#   gateways and floating IPs through the API; no L3 agent, so nothing is plumbed and floating IPs stay DOWN) and the
#   port_security ML2 extension driver (port_security_enabled on networks and ports, as real clouds have; allowed
#   address pairs need port security on). Flat networks on any physical network name (flat_networks = *), one
#   network per name; an external network is a flat one with router:external. No --fresh needed: the schema
#   (neutron-db-manage upgrade heads) has every table already.
#
# Usage: start.sh [--fresh]
#   (no option)  start with the state left by the last run (servers, services...), or create it on the first run
#   --fresh      throw the state away and start from the pristine snapshot (schemas, Keystone users, catalog)
#                that the first run saved under $OS_RIG_DIR/pristine; it is remade when the packages change
# Environment: OS_RIG_DIR (default /tmp/oha-openstack-rig), NCOMPUTE (default 3), OS_RIG_NEUTRON (real|stub),
#   OS_RIG_KEEP_ON_FAILURE=1 leaves the processes running when the start fails (default: stop.sh is run).
# Results: $OS_RIG_DIR/admin-openrc (for the openstack CLI), $OS_RIG_DIR/rig.env (KEY=VALUE), logs in $OS_RIG_DIR/log.
# Flavors m1.tiny and m1.evac (extra spec evacuable=true), images cirros and cirros-evac (property evacuable=true)
# are made idempotently on every start. Stop with stop.sh; see README.md.
set -euo pipefail
RIG_T0=$(($(date +%s%N) / 1000000))
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

FRESH=0
for a in "$@"; do
  case "$a" in
    --fresh) FRESH=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $a (usage: start.sh [--fresh])" ;;
  esac
done
NCOMPUTE=${NCOMPUTE:-3}
[[ "$NCOMPUTE" =~ ^(0|[1-9][0-9]?)$ ]] || die "NCOMPUTE must be 0..99 (0: the compute nodes are started elsewhere, e.g. by the multi-node rig)"
NEUTRON=${OS_RIG_NEUTRON:-real}
case "$NEUTRON" in real|stub) ;; *) die "OS_RIG_NEUTRON must be real or stub" ;; esac
[ -x /usr/bin/keystone-manage ] && [ -x /usr/bin/placement-api ] && [ -x /usr/sbin/mariadbd ] || \
  die "packages missing: run $RIG_HERE/install.sh (as root) first"

# ------------------------------------------------------------------------------------------ refuse to double-start
mkdir -p "$RUN" "$LOGDIR"
for name in $(recorded_names); do
  pid=$(recorded_pid "$name")
  [ -z "$pid" ] || die "the rig is already running ($name has PID $pid): run $RIG_HERE/stop.sh first"
done
for pp in $PORTS rabbitmq-distribution:25672; do
  port_open "${pp#*:}" && die "port ${pp#*:} (${pp%%:*}) is already in use on 127.0.0.1"
done
rm -f "$RUN"/*.pid

STATE=$OS_RIG_DIR/state
STAMP="layout=$RIG_LAYOUT neutron=$NEUTRON $(dpkg-query -W -f='${Package}=${Version} ' python3-nova python3-keystone \
  python3-placement python3-glance python3-neutron mariadb-server 2>/dev/null)"
if [ $FRESH = 1 ]; then
  unmount_state   # cinder.sh's share mount, if a stop was skipped
  rm -rf "$STATE" "$LOGDIR.prev"
  mv "$LOGDIR" "$LOGDIR.prev"
  mkdir -p "$LOGDIR"
  ts "old state removed (logs of the last run: $LOGDIR.prev)"
fi
if [ -f "$STATE/.initialized" ] && [ "$(cat "$STATE/.initialized")" != "$STAMP" ]; then
  die "the state in $STATE was made by other packages or settings: start with --fresh"
fi
mkdir -p "$STATE"/{glance-images,glance-cache,nova/locks,rabbitmq/mnesia,neutron/locks} "$LOGDIR/rabbitmq" "$OS_RIG_DIR/bin" \
  "$ETC"/{keystone,placement,glance,nova,neutron}

# ------------------------------------------------------------------------------------------ programs and configuration
for s in glance-api:glance.cmd.api glance-manage:glance.cmd.manage nova-api:nova.cmd.api nova-compute:nova.cmd.compute \
         nova-conductor:nova.cmd.conductor nova-manage:nova.cmd.manage nova-scheduler:nova.cmd.scheduler \
         neutron-db-manage:neutron.db.migration.cli; do
  printf '#!%s\nimport sys\nfrom %s import main\nsys.exit(main())\n' "$PY" "${s#*:}" >"$OS_RIG_DIR/bin/${s%%:*}"
  chmod +x "$OS_RIG_DIR/bin/${s%%:*}"
done
# neutron-server without service plugins: its port queries use the ORM relation Port.port_forwardings, a backref
# that only exists once the port-forwarding model is imported (normally by the L3 plugins) and the mappers are
# configured -> AttributeError, HTTP 500 to Nova. So the wrapper imports every Neutron model first and configures
# the mappers (as neutron-db-manage does).
printf '#!%s\nimport sys\nimport neutron.db.migration.models.head  # noqa: F401 (see start.sh)\nimport sqlalchemy.orm\nsqlalchemy.orm.configure_mappers()\nfrom %s import main\nsys.exit(main())\n' \
  "$PY" neutron.cmd.eventlet.server >"$OS_RIG_DIR/bin/neutron-server"
chmod +x "$OS_RIG_DIR/bin/neutron-server"

authsec() { # keystone credentials of service user $1 (password = user name)
  printf 'auth_url = http://127.0.0.1:5000/v3\nauth_type = password\nproject_domain_name = Default\n'
  printf 'user_domain_name = Default\nproject_name = service\nusername = %s\npassword = %s\nregion_name = RegionOne\n' "$1" "$1"
}
POLICY=$'[oslo_policy]\nenforce_new_defaults = false\nenforce_scope = false'

cat >"$ETC/my.cnf" <<EOF
[mysqld]
datadir = $STATE/mysql
socket = $STATE/mysqld.sock
pid-file = $STATE/mysqld.pid
bind-address = 127.0.0.1
port = 13306
user = root
skip-name-resolve
log-error = $LOGDIR/mariadb.err
innodb_buffer_pool_size = 64M
innodb_log_file_size = 16M
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
sync_binlog = 0
max_connections = 500
performance_schema = OFF
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
[client]
socket = $STATE/mysqld.sock
port = 13306
EOF

cat >"$ETC/rabbitmq-env.sh" <<EOF
export HOME=$STATE/rabbitmq RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=5672
export RABBITMQ_DIST_PORT=25672 ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=4369
export RABBITMQ_MNESIA_BASE=$STATE/rabbitmq/mnesia RABBITMQ_LOG_BASE=$LOGDIR/rabbitmq
export RABBITMQ_ENABLED_PLUGINS_FILE=$ETC/rabbitmq-enabled-plugins RABBITMQ_CONFIG_FILE=$ETC/rabbitmq
export RABBITMQ_ADVANCED_CONFIG_FILE=$ETC/rabbitmq-advanced.config RABBITMQ_PID_FILE=$STATE/rabbitmq/beam.pid
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
echo '[].' >"$ETC/rabbitmq-enabled-plugins"
printf 'listeners.tcp.default = 127.0.0.1:5672\nloopback_users.guest = true\n' >"$ETC/rabbitmq.conf"

cat >"$ETC/keystone/keystone.conf" <<EOF
[DEFAULT]
log_file = $LOGDIR/keystone.log
[database]
connection = sqlite:///$STATE/keystone.sqlite
[token]
provider = fernet
[fernet_tokens]
key_repository = $STATE/fernet-keys
[fernet_receipts]
key_repository = $STATE/fernet-keys
[credential]
key_repository = $STATE/credential-keys
EOF

cat >"$ETC/placement/placement.conf" <<EOF
[DEFAULT]
log_file = $LOGDIR/placement.log
[placement_database]
connection = $DB_URL/placement?charset=utf8
[api]
auth_strategy = keystone
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
$(authsec placement)
$POLICY
EOF

cat >"$ETC/glance/glance-api.conf" <<EOF
[DEFAULT]
log_file = $LOGDIR/glance-api.log
bind_host = 127.0.0.1
bind_port = 9292
workers = 0
image_cache_dir = $STATE/glance-cache
[database]
connection = sqlite:///$STATE/glance.sqlite
[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $STATE/glance-images/
[paste_deploy]
flavor = keystone
config_file = $ETC/glance/glance-api-paste.ini
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
$(authsec glance)
$POLICY
EOF
cp "$RIG_HERE/lib/glance-api-paste.ini" "$ETC/glance/glance-api-paste.ini"
cp "$RIG_HERE/lib/nova-api-paste.ini" "$ETC/nova/api-paste.ini"
cp "$RIG_HERE/lib/neutron-api-paste.ini" "$ETC/neutron/api-paste.ini"

# nova.conf is read by every nova service; nova-db.conf only by api, conductor, scheduler and nova-manage
# (nova-compute reaches the database through the conductor, as in a real deployment)
cat >"$ETC/nova/nova.conf" <<EOF
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:5672/
my_ip = 127.0.0.1
host = controller
state_path = $STATE/nova
log_dir = $LOGDIR
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = 8774
osapi_compute_workers = 1
report_interval = 2
service_down_time = 10
rpc_response_timeout = 30
compute_driver = fake.FakeDriver
heal_instance_info_cache_interval = -1
periodic_fuzzy_delay = 0
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = $ETC/nova/api-paste.ini
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 2
[filter_scheduler]
shuffle_best_same_weighed_hosts = true
[oslo_concurrency]
lock_path = $STATE/nova/locks
$POLICY
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
$(authsec nova)
[placement]
$(authsec placement)
[glance]
api_servers = http://127.0.0.1:9292
[neutron]
$(authsec nova)
# Nova sends its service token with the user's: Cinder (Zed with the CVE-2023-2088 fix) refuses a volume detach
# (attachment delete) that does not come from Nova with it (ConflictNovaUsingAttachment, 409)
[service_user]
send_service_user_token = true
$(authsec nova)
[vnc]
enabled = false
[spice]
enabled = false
EOF
printf '[api_database]\nconnection = %s/nova_api?charset=utf8\n[database]\nconnection = %s/nova?charset=utf8\n' \
  "$DB_URL" "$DB_URL" >"$ETC/nova/nova-db.conf"
for n in $(seq 1 "$NCOMPUTE"); do
  mkdir -p "$STATE/compute$n/instances"
  printf '[DEFAULT]\nhost = compute%s\nstate_path = %s\ninstances_path = %s/instances\nlog_file = %s/nova-compute-compute%s.log\n' \
    "$n" "$STATE/compute$n" "$STATE/compute$n" "$LOGDIR" "$n" >"$ETC/nova/compute$n.conf"
done

cat >"$ETC/neutron/neutron.conf" <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9696
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
api_paste_config = $ETC/neutron/api-paste.ini
transport_url = rabbit://guest:guest@127.0.0.1:5672/
api_workers = 0
rpc_workers = 1
rpc_state_report_workers = 0
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
state_path = $STATE/neutron
log_file = $LOGDIR/neutron-server.log
[database]
connection = $DB_URL/neutron?charset=utf8
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
$(authsec neutron)
[nova]
$(authsec nova)
[oslo_concurrency]
lock_path = $STATE/neutron/locks
$POLICY
[ml2]
type_drivers = flat
tenant_network_types =
mechanism_drivers =
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
EOF

cat >"$OS_RIG_DIR/admin-openrc" <<EOF
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
export OS_AUTH_URL=http://127.0.0.1:5000/v3 OS_USERNAME=admin OS_PASSWORD=admin OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3
export OS_REGION_NAME=RegionOne OS_INTERFACE=public OS_COMPUTE_API_VERSION=2.74
EOF

# ------------------------------------------------------------------------------------------ helpers
KM=(keystone-manage --config-file "$ETC/keystone/keystone.conf")
NM=("$OS_RIG_DIR/bin/nova-manage" --config-file "$ETC/nova/nova.conf" --config-file "$ETC/nova/nova-db.conf")
MYSQL=(mariadb --defaults-file="$ETC/my.cnf" -uroot)
wait_port() { # name port seconds
  local i
  for i in $(seq 1 $(($3 * 4))); do
    port_open "$2" && return 0
    [ -n "$(recorded_pid "$1")" ] || die "$1 died during start-up, see $LOGDIR/$1.out and $LOGDIR/$1*.log"
    sleep 0.25
  done
  die "$1 does not answer on port $2 after $3 s, see $LOGDIR/"
}
wait_mariadb() {
  local i
  for i in $(seq 1 240); do
    mariadb-admin --defaults-file="$ETC/my.cnf" -uroot ping >/dev/null 2>&1 && return 0
    [ -n "$(recorded_pid mariadb)" ] || die "mariadb died during start-up, see $LOGDIR/mariadb.err"
    sleep 0.25
  done
  die "mariadb not ready after 60 s, see $LOGDIR/mariadb.err"
}
sqlite_copy() { $PY -c 'import sqlite3,sys; s=sqlite3.connect(sys.argv[1]); d=sqlite3.connect(sys.argv[2]); s.backup(d); d.close()' "$1" "$2"; }
sqlite_wal() { $PY -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")' "$1"; }
start_mariadb() { start_service mariadb mariadbd --defaults-file="$ETC/my.cnf"; }

OK=0
on_exit() {
  [ $OK = 1 ] && return 0
  echo "start.sh failed; logs in $LOGDIR" >&2
  if [ "${OS_RIG_KEEP_ON_FAILURE:-0}" = 1 ]; then
    echo "OS_RIG_KEEP_ON_FAILURE=1: processes left running, stop them with $RIG_HERE/stop.sh" >&2
  else
    bash "$RIG_HERE/stop.sh" >&2 || true
  fi
}
trap on_exit EXIT

# ------------------------------------------------------------------------------------------ state: reuse, restore or build
MODE=reuse
if [ ! -f "$STATE/.initialized" ]; then
  if [ -f "$PRISTINE/stamp" ] && [ "$(cat "$PRISTINE/stamp")" = "$STAMP" ]; then MODE=restore; else MODE=build; fi
fi
case $MODE in
  restore)
    rm -rf "$STATE/mysql" "$STATE/fernet-keys" "$STATE/credential-keys"
    cp -a "$PRISTINE/mysql" "$PRISTINE/fernet-keys" "$PRISTINE/credential-keys" "$STATE/"
    cp "$PRISTINE/keystone.sqlite" "$PRISTINE/glance.sqlite" "$STATE/"
    sqlite_wal "$STATE/keystone.sqlite"; sqlite_wal "$STATE/glance.sqlite"
    echo "$STAMP" >"$STATE/.initialized"
    ts "state restored from the pristine snapshot"
    ;;
  build)
    ts "first start: building databases (the pristine snapshot is saved for later --fresh starts)"
    rm -rf "$STATE/mysql"
    mariadb-install-db --defaults-file="$ETC/my.cnf" --auth-root-authentication-method=normal --skip-test-db \
      >"$LOGDIR/mariadb-install.log" 2>&1 || die "mariadb-install-db failed, see $LOGDIR/mariadb-install.log"
    ;;
esac

start_mariadb
( . "$ETC/rabbitmq-env.sh"
  start_service epmd epmd -address 127.0.0.1 -port 4369
  start_service rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server )

if [ $MODE = build ]; then
  ( set -e   # keystone and glance (sqlite) in parallel with the MariaDB schemas
    "${KM[@]}" db_sync
    "${KM[@]}" fernet_setup --keystone-user root --keystone-group root
    "${KM[@]}" credential_setup --keystone-user root --keystone-group root
    "${KM[@]}" bootstrap --bootstrap-password admin --bootstrap-admin-url http://127.0.0.1:5000/v3/ \
      --bootstrap-internal-url http://127.0.0.1:5000/v3/ --bootstrap-public-url http://127.0.0.1:5000/v3/ \
      --bootstrap-region-id RegionOne
    "$OS_RIG_DIR/bin/glance-manage" --config-file "$ETC/glance/glance-api.conf" db_sync
    sqlite_wal "$STATE/keystone.sqlite"; sqlite_wal "$STATE/glance.sqlite"   # WAL avoids 'database is locked'
  ) >"$LOGDIR/keystone-glance-init.log" 2>&1 &
  ks_init=$!
  wait_mariadb
  ts "mariadb up"
  "${MYSQL[@]}" -e "CREATE DATABASE nova_api; CREATE DATABASE nova; CREATE DATABASE nova_cell0;
    CREATE DATABASE placement; CREATE DATABASE neutron;
    CREATE USER 'os'@'127.0.0.1' IDENTIFIED BY 'os'; GRANT ALL ON *.* TO 'os'@'127.0.0.1';"
  {
    placement-manage --config-file "$ETC/placement/placement.conf" db sync
    "${NM[@]}" api_db sync
    "${NM[@]}" cell_v2 map_cell0 --database_connection "$DB_URL/nova_cell0?charset=utf8"
    "${NM[@]}" cell_v2 create_cell --name cell1
    "${NM[@]}" db sync
    if [ "$NEUTRON" = real ]; then
      "$OS_RIG_DIR/bin/neutron-db-manage" --config-file "$ETC/neutron/neutron.conf" upgrade heads
    fi
  } >"$LOGDIR/db-sync.log" 2>&1 || die "database schema sync failed, see $LOGDIR/db-sync.log"
  ts "nova, placement and neutron schemas ready"
  wait $ks_init || die "keystone/glance initialisation failed, see $LOGDIR/keystone-glance-init.log"
  ts "keystone and glance databases ready"
  # snapshot the MariaDB data directory while the server is down (a clean copy)
  mariadb-admin --defaults-file="$ETC/my.cnf" -uroot shutdown
  for i in $(seq 1 120); do [ -n "$(recorded_pid mariadb)" ] || break; sleep 0.25; done
  rm -rf "$PRISTINE"; mkdir -p "$PRISTINE"
  cp -a "$STATE/mysql" "$PRISTINE/mysql"
  start_mariadb
  echo "$STAMP" >"$STATE/.initialized"
fi

start_keystone
start_service glance-api "$OS_RIG_DIR/bin/glance-api" --config-file "$ETC/glance/glance-api.conf"
wait_mariadb
ts "mariadb up"
start_service placement uwsgi --plugin python3 --http-socket 127.0.0.1:8778 --wsgi-file /usr/bin/placement-api \
  --master --processes 2 --threads 1 --die-on-term --add-header "Connection: close" \
  --env "OS_PLACEMENT_CONFIG_DIR=$ETC/placement"
start_neutron_server
if [ $MODE = build ]; then
  wait_port keystone 5000 60
  $PY "$RIG_HERE/lib/rig.py" keystone-setup >>"$LOGDIR/keystone-glance-init.log" 2>&1 || \
    die "keystone setup failed, see $LOGDIR/keystone-glance-init.log"
  sqlite_copy "$STATE/keystone.sqlite" "$PRISTINE/keystone.sqlite"
  sqlite_copy "$STATE/glance.sqlite" "$PRISTINE/glance.sqlite"
  cp -a "$STATE/fernet-keys" "$STATE/credential-keys" "$PRISTINE/"
  echo "$STAMP" >"$PRISTINE/stamp"
  ts "keystone catalog ready; pristine snapshot saved in $PRISTINE"
fi
# nova services retry until RabbitMQ and Keystone answer; they need MariaDB (done) and the service users (done)
start_service nova-conductor "$OS_RIG_DIR/bin/nova-conductor" --config-file "$ETC/nova/nova.conf" --config-file "$ETC/nova/nova-db.conf"
start_service nova-scheduler "$OS_RIG_DIR/bin/nova-scheduler" --config-file "$ETC/nova/nova.conf" --config-file "$ETC/nova/nova-db.conf"
start_nova_api
for n in $(seq 1 "$NCOMPUTE"); do
  # shellcheck disable=SC2046
  start_service "nova-compute-compute$n" $(compute_cmd "compute$n")
done
ts "all services launched"

wait_port rabbitmq 5672 60;        ts "rabbitmq up"
wait_port keystone 5000 60;        ts "keystone up"
wait_port glance-api 9292 60;      ts "glance up"
wait_port placement 8778 60;       ts "placement up"
wait_port neutron-server 9696 90;  ts "neutron ($NEUTRON) up"
wait_port nova-api 8774 90;        ts "nova-api up"
$PY "$RIG_HERE/lib/rig.py" cloud-setup >"$LOGDIR/cloud-setup.log" 2>&1 &
setup=$!
$PY "$RIG_HERE/lib/rig.py" wait-ready "$NCOMPUTE" 180 || die "nova-compute services not ready"
wait $setup || die "flavor/image setup failed, see $LOGDIR/cloud-setup.log"
ts "flavors m1.tiny, m1.evac and images cirros, cirros-evac present"

hosts=$(seq -s, -f 'compute%g' 1 "$NCOMPUTE")
cat >"$OS_RIG_DIR/rig.env.tmp" <<EOF
AUTH_URL=http://127.0.0.1:5000/v3
USERNAME=admin
PASSWORD=admin
PROJECT=admin
USER_DOMAIN=Default
PROJECT_DOMAIN=Default
REGION=RegionOne
NCOMPUTE=$NCOMPUTE
COMPUTE_HOSTS=$hosts
NEUTRON=$NEUTRON
FLAVOR=m1.tiny
FLAVOR_EVACUABLE=m1.evac
IMAGE=cirros
IMAGE_EVACUABLE=cirros-evac
OS_RIG_DIR=$OS_RIG_DIR
EOF
mv "$OS_RIG_DIR/rig.env.tmp" "$OS_RIG_DIR/rig.env"
OK=1
ts "READY ($MODE): $NCOMPUTE nova-compute up and mapped; credentials: source $OS_RIG_DIR/admin-openrc"
