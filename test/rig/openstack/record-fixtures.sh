#!/bin/bash
# Records, from the running real rig (Zed), the answers the OpenStack simulator (test/fake) serves but that
# test/fixtures/openstack-zed has no recording of yet, in the fixtures' format; test/unit/fake-fixtures.test.ts then
# holds the simulator to them (until recorded, it reports each as skipped, naming this script).
#
#   test/rig/openstack/record-fixtures.sh [--force] [--list] [NAME...]
#     (no NAME)  every fixture of this script whose file is missing (idempotent: recorded files are left alone)
#     NAME...    only these (file names, e.g. nova_get_server_mv2.74.json); --force re-records existing files
#     --list     print the fixtures of this script, "recorded" or "missing", and exit
#
# Needs the rig running (test/rig/openstack/start.sh: Keystone 127.0.0.1:5000 admin/admin project admin, Nova :8774,
# Glance :9292, >= 2 compute hosts); the cinder_* fixtures also need Cinder (test/rig/openstack/cinder.sh start) and
# are skipped, with a message, without it; the neutron_* fixtures need the real neutron-server :9696 (not
# OS_RIG_NEUTRON=stub) with the port_security extension driver, and the floating IP ones its L3 router plugin (both
# set by start.sh), and are skipped, with a message, without them. Environment: OS_RIG_DIR (default /tmp/oha-openstack-rig), FIXTURES_DIR
# (default test/fixtures/openstack-zed).
#
# What it changes on the rig, and undoes (also when interrupted or failing; a later run first removes what an
# interrupted run left, found by the oha-fixture name prefix and the state file $OS_RIG_DIR/record-fixtures.state):
#   - boots one server, oha-fixture-vm, on the first compute host (flavor FLAVOR, image IMAGE of rig.env, no network),
#     stops and starts it (os-stop, os-start: fence_openstack's calls, at microversion 2.1), deleted at the end (waited
#     for);
#   - on the last compute host: disable (with reason), enable, disable, force down, force up through the pre-2.53
#     os-services actions; done only when that service is enabled, up and not forced down at the start, and put back
#     so at the end;
#   - one aggregate, oha-fixture-agg (renamed oha-fixture-agg2), holding the last compute host, deleted at the end;
#   - with Cinder: a 1 GiB volume oha-fixture-vol (not multiattach), attached to oha-fixture-vm and detached again
#     through Nova's os-volume_attachments (openstack-cinder-volume's calls), refused to a second server
#     oha-fixture-vm2 (booted on another compute host) while in use; both servers and the volume deleted at the end;
#   - Neutron: network oha-fixture-net (flat, physical network oha-fixture-int) with subnets oha-fixture-subnet
#     (10.250.0.0/24) and oha-fixture-subnet2 (10.250.1.0/24), ports oha-fixture-port and oha-fixture-port2 (one
#     made-up device_id, like a guest's two ports); with the router plugin also network oha-fixture-ext (router:external,
#     flat on oha-fixture-ext) with subnet 203.0.113.0/24, router oha-fixture-router (gateway there, interface on
#     oha-fixture-subnet) and a floating IP (description oha-fixture); all deleted at the end (floating IPs, router
#     interfaces, routers, ports, networks, in that order).
# Request bodies are stored with passwords as "***", X-Subject-Token values redacted; Date and Server headers dropped.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
ROOT=$(cd "$HERE/../../.." && pwd)
export OS_RIG_DIR FIXTURES_DIR=${FIXTURES_DIR:-$ROOT/test/fixtures/openstack-zed}
exec "$PY" - "$@" <<'PYEOF'
import http.client
import json
import os
import sys
import time
import urllib.parse
import uuid

RIG = os.environ['OS_RIG_DIR']
OUT = os.environ['FIXTURES_DIR']
STATE = os.path.join(RIG, 'record-fixtures.state')
# the rig's endpoints (overridable only to try the script out elsewhere, e.g. on the simulator)
KEYSTONE = os.environ.get('RECORD_KEYSTONE_URL', 'http://127.0.0.1:5000')
NOVA = os.environ.get('RECORD_NOVA_URL', 'http://127.0.0.1:8774')
GLANCE = os.environ.get('RECORD_GLANCE_URL', 'http://127.0.0.1:9292')
CINDER = os.environ.get('RECORD_CINDER_URL', 'http://127.0.0.1:8776')
NEUTRON = os.environ.get('RECORD_NEUTRON_URL', 'http://127.0.0.1:9696')
PREFIX = 'oha-fixture'
VM = PREFIX + '-vm'
AGG = PREFIX + '-agg'
FORCE = '--force' in sys.argv[1:]
LIST = '--list' in sys.argv[1:]
ONLY = [a for a in sys.argv[1:] if not a.startswith('--')]


def log(msg):
    sys.stderr.write('record-fixtures: %s\n' % msg)


def die(msg):
    log('ERROR: ' + msg)
    sys.exit(1)


class Resp:
    def __init__(self, status, headers, text):
        self.status, self.headers, self.text = status, headers, text

    def json(self):
        return json.loads(self.text)


def http_call(method, url, headers=None, body=None, timeout=60):
    """One request on its own connection; headers as the server sent them (name case and order kept)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    h = {'Accept': 'application/json'}
    # uwsgi (Keystone) mishandles keep-alive; the others are asked like python-requests does
    h['Connection'] = 'close' if url.startswith(KEYSTONE) else 'keep-alive'
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        h['Content-Type'] = 'application/json'
    h.update(headers or {})
    try:
        conn.request(method, u.path + ('?' + u.query if u.query else ''), body=payload, headers=h)
        r = conn.getresponse()
        text = r.read().decode('utf-8', 'replace')
        return Resp(r.status, r.getheaders(), text)
    finally:
        conn.close()


def rig_env():
    path = os.path.join(RIG, 'rig.env')
    if not os.path.exists(path):
        die('no %s: start the rig first (test/rig/openstack/start.sh)' % path)
    env = {}
    with open(path) as f:
        for line in f:
            if '=' in line:
                k, v = line.rstrip('\n').split('=', 1)
                env[k] = v
    return env


ENV = {} if LIST else rig_env()
AUTH_BODY = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
    'name': ENV.get('USERNAME', 'admin'), 'domain': {'name': ENV.get('USER_DOMAIN', 'Default')},
    'password': ENV.get('PASSWORD', 'admin')}}},
    'scope': {'project': {'name': ENV.get('PROJECT', 'admin'), 'domain': {'name': ENV.get('PROJECT_DOMAIN', 'Default')}}}}}


def authenticate():
    try:
        r = http_call('POST', KEYSTONE + '/v3/auth/tokens', body=AUTH_BODY)
    except OSError as e:
        die('Keystone on %s does not answer (%s): is the rig running?' % (KEYSTONE, e))
    if r.status != 201:
        die('authentication failed: %s %s' % (r.status, r.text[:300]))
    tok = dict((k.lower(), v) for k, v in r.headers)['x-subject-token']
    return tok, r.json()['token']


TOKEN, TOKEN_BODY = (None, {'project': {'id': None}}) if LIST else authenticate()
PROJECT_ID = TOKEN_BODY['project']['id']
CATALOG_TYPES = {s['type'] for s in TOKEN_BODY.get('catalog', [])}


def api(method, url, mv=None, body=None, ok=(200, 201, 202, 204)):
    h = {'X-Auth-Token': TOKEN}
    if mv:
        h['OpenStack-API-Version'] = 'compute %s' % mv
    r = http_call(method, url, h, body)
    if ok and r.status not in ok:
        raise RuntimeError('%s %s -> %s %s' % (method, url, r.status, r.text[:300]))
    return r


def nova(method, path, mv='2.53', body=None, ok=(200, 201, 202, 204)):
    return api(method, NOVA + '/v2.1' + path, mv, body, ok)


# ------------------------------------------------------------------------------------------------ what to record
# every fixture this script records, in recording order (SERVER_FIXTURES right after nova_get_server_mv2.74.json)
SERVER_FIXTURES = [
    'nova_get_server_mv2.1.json', 'nova_get_server_not_found_mv2.1.json', 'nova_get_servers_detail_limit_mv2.1.json',
    'nova_get_servers_detail_marker_mv2.1.json', 'nova_get_servers_detail_name_mv2.1.json',
    'nova_post_server_action_os_stop_mv2.1.json', 'nova_post_server_action_os_stop_stopped_mv2.1.json',
    'nova_post_server_action_os_start_mv2.1.json', 'nova_post_server_action_os_start_active_mv2.1.json',
]
PLANNED = [
    'keystone_get_versions.json', 'keystone_get_v3.json', 'nova_get_versions.json', 'nova_get_v2.1.json',
    'nova_get_os_services_mv_unsupported.json', 'nova_get_os_services_unauthorized.json',
    'nova_get_os_hypervisors_mv2.53.json', 'nova_get_os_hypervisors_pattern_with_servers_mv2.53.json',
    'nova_get_os_hypervisors_detail_pattern_with_servers_mv2.53.json',
    'nova_get_os_hypervisors_pattern_with_servers_none_mv2.75.json',
    'nova_get_os_hypervisors_pattern_nomatch_mv2.53.json', 'nova_get_os_hypervisors_pattern_paging_mv2.53.json',
    'nova_get_os_hypervisors_servers_mv2.52.json', 'nova_get_os_hypervisors_search_mv2.52.json',
    'nova_get_os_hypervisors_servers_gone_mv2.53.json', 'nova_get_server_mv2.74.json',
    'nova_get_flavors_mv2.53.json', 'nova_get_flavors_detail_mv2.61.json', 'nova_get_flavor_mv2.61.json',
    'nova_get_flavor_extra_specs_mv2.53.json',
    'nova_put_os_services_disable_log_reason_mv2.11.json', 'nova_put_os_services_enable_mv2.11.json',
    'nova_put_os_services_disable_mv2.11.json', 'nova_put_os_services_force_down_mv2.11.json',
    'nova_put_os_services_force_up_mv2.11.json',
    'nova_post_os_aggregates_remove_host_mv2.41.json', 'nova_put_os_aggregate_mv2.41.json',
    'glance_get_versions.json', 'glance_get_versions_path.json', 'glance_get_images.json', 'glance_get_image.json',
    'glance_get_image_not_found.json',
    'cinder_get_versions.json', 'cinder_get_v3.json', 'cinder_get_types.json', 'cinder_get_os_services.json',
] + SERVER_FIXTURES  # fence_openstack: one project's servers at microversion 2.1 (record_servers)
# Neutron (record_neutron below)
NEUTRON_FIXTURES = [
    'neutron_get_ports_unauthorized.json', 'neutron_get_ports_device_id.json', 'neutron_get_ports_device_id_subnet.json',
    'neutron_get_ports_network_id.json', 'neutron_get_port.json', 'neutron_get_port_not_found.json',
    'neutron_put_port_allowed_address_pairs.json', 'neutron_put_port_allowed_address_pairs_duplicate.json',
    'neutron_get_subnet.json', 'neutron_get_subnet_not_found.json',
    'neutron_get_floatingip.json', 'neutron_get_floatingip_not_found.json', 'neutron_put_floatingip_associate.json',
    'neutron_put_floatingip_disassociate.json', 'neutron_put_floatingip_no_router.json',
]
PLANNED += NEUTRON_FIXTURES
# openstack-cinder-volume: Cinder's volume and Nova's volume attachments (record_volumes below)
VOLUME_FIXTURES = [
    'cinder_get_volume.json', 'cinder_get_volume_not_found.json', 'nova_post_os_volume_attachments_mv2.60.json',
    'nova_get_os_volume_attachments_mv2.60.json', 'nova_get_os_volume_attachments_mv2.89.json', 'cinder_get_volume_in_use.json',
    'nova_post_os_volume_attachments_in_use_mv2.60.json', 'nova_post_os_volume_attachments_unknown_volume_mv2.60.json',
    'nova_delete_os_volume_attachment_mv2.60.json', 'nova_delete_os_volume_attachment_not_attached_mv2.60.json',
]
PLANNED += VOLUME_FIXTURES
VOL = PREFIX + '-vol'
RECORDED, SKIPPED = [], []


def path_of(name):
    return os.path.join(OUT, name)


def want(name):
    """Is this fixture to be recorded now?"""
    assert name in PLANNED, name
    if ONLY and name not in ONLY:
        return False
    return FORCE or not os.path.exists(path_of(name))


def redact(v):
    if isinstance(v, dict):
        return {k: ('***' if k.lower() in ('password', 'secret', 'adminpass') and isinstance(v2, (str, int)) else redact(v2))
                for k, v2 in v.items()}
    if isinstance(v, list):
        return [redact(x) for x in v]
    return v


def record(name, method, url, mv=None, body=None, expect=None, token=True, headers=None):
    """Make the request and store it as test/fixtures/openstack-zed/NAME (atomically)."""
    if not want(name):
        return None
    h = {}
    if token:
        h['X-Auth-Token'] = TOKEN
    if mv:
        h['OpenStack-API-Version'] = 'compute %s' % mv
    h.update(headers or {})
    r = http_call(method, url, h, body)
    if expect is not None and r.status != expect:
        raise RuntimeError('%s: %s %s answered %s, expected %s: %s' % (name, method, url, r.status, expect, r.text[:300]))
    shown_url = url + (' [OpenStack-API-Version: compute %s]' % mv if mv else '')
    request = {'method': method, 'url': shown_url, 'body': redact(body)}
    if headers:
        request['headers'] = headers
    resp_headers = {}
    for k, v in r.headers:
        if k.lower() in ('date', 'server'):
            continue
        resp_headers[k] = 'REDACTED' if k.lower() == 'x-subject-token' else v
    ctype = dict((k.lower(), v) for k, v in r.headers).get('content-type', '')
    if r.text == '':
        resp_body = ''
    elif 'json' in ctype:
        resp_body = json.loads(r.text)
    else:
        resp_body = r.text
    fixture = {'request': request, 'status': r.status, 'headers': resp_headers, 'body': resp_body}
    os.makedirs(OUT, exist_ok=True)
    tmp = path_of(name) + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(fixture, f, indent=2, ensure_ascii=False)
        f.write('\n')
    os.replace(tmp, path_of(name))
    RECORDED.append(name)
    log('recorded %s (%s)' % (name, r.status))
    return r


def wait_until(what, fn, timeout):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise RuntimeError('timeout (%d s) waiting for %s' % (timeout, what))
        time.sleep(0.5)


# ------------------------------------------------------------------------------------------------ rig set-up / undo
def load_state():
    try:
        with open(STATE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save_state(st):
    tmp = STATE + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(st, f)
    os.replace(tmp, STATE)


def compute_service(host):
    ss = nova('GET', '/os-services?binary=nova-compute&host=%s' % urllib.parse.quote(host)).json()['services']
    return ss[0] if ss else None


def servers_named(prefix):
    ss = nova('GET', '/servers/detail?all_tenants=1&name=%s' % urllib.parse.quote('^' + prefix), mv='2.74').json()['servers']
    return [s for s in ss if s['name'].startswith(prefix)]


def cleanup():
    """Undo what this script (or an interrupted earlier run of it) changed on the rig."""
    errors = []
    for s in servers_named(PREFIX):
        try:
            nova('DELETE', '/servers/%s' % s['id'], ok=(204, 404))
            log('deleting server %s (%s)' % (s['name'], s['id']))
        except Exception as e:  # noqa: BLE001 - report, go on undoing the rest
            errors.append(str(e))
    try:
        wait_until('the oha-fixture servers to be gone', lambda: not servers_named(PREFIX), 180)
    except Exception as e:  # noqa: BLE001
        errors.append(str(e))
    cleanup_volumes(errors)
    for a in nova('GET', '/os-aggregates', mv='2.41').json()['aggregates']:
        if not a['name'].startswith(PREFIX):
            continue
        try:
            for h in a.get('hosts') or []:
                nova('POST', '/os-aggregates/%s/action' % a['id'], mv='2.41', body={'remove_host': {'host': h}})
            nova('DELETE', '/os-aggregates/%s' % a['id'], mv='2.41')
            log('deleted aggregate %s' % a['name'])
        except Exception as e:  # noqa: BLE001
            errors.append(str(e))
    cleanup_neutron(errors)
    st = load_state()
    host = st.get('service_host')
    if host:
        try:
            body = {'host': host, 'binary': 'nova-compute'}
            nova('PUT', '/os-services/force-down', mv='2.11', body=dict(body, forced_down=False))
            nova('PUT', '/os-services/enable', mv='2.11', body=body)
            log('nova-compute of %s forced up and enabled again' % host)
            st.pop('service_host')
            save_state(st)
        except Exception as e:  # noqa: BLE001
            errors.append('restoring nova-compute of %s: %s' % (host, e))
    if errors:
        log('clean-up incomplete: ' + '; '.join(errors))
    return not errors


def cinder_up():
    try:
        return 'volumev3' in CATALOG_TYPES and http_call('GET', CINDER + '/', timeout=5).status in (200, 300)
    except OSError:
        return False


def cinder(method, path, body=None, ok=(200, 202, 204)):
    return api(method, CINDER + '/v3/%s' % PROJECT_ID + path, None, body, ok)


def cleanup_volumes(errors):
    """Delete the oha-fixture volumes (their servers are deleted first, which detaches them)."""
    if LIST or not cinder_up():
        return
    for v in cinder('GET', '/volumes?name=%s' % VOL).json()['volumes']:
        try:
            wait_until('%s detached' % VOL, lambda v=v: cinder('GET', '/volumes/%s' % v['id']).json()['volume']['status']
                       in ('available', 'error'), 120)
            cinder('DELETE', '/volumes/%s' % v['id'], ok=(202, 404))
            log('deleted volume %s' % v['id'])
        except Exception as e:  # noqa: BLE001 - report, go on undoing the rest
            errors.append('volume %s: %s' % (v['id'], e))


def boot_vm(host, name=VM):
    flavors = {f['name']: f['id'] for f in nova('GET', '/flavors').json()['flavors']}
    images = {i['name']: i['id'] for i in api('GET', GLANCE + '/v2/images').json()['images']}
    flavor, image = ENV.get('FLAVOR', 'm1.tiny'), ENV.get('IMAGE', 'cirros')
    if flavor not in flavors or image not in images:
        raise RuntimeError('flavor %s or image %s missing on the rig' % (flavor, image))
    body = {'server': {'name': name, 'imageRef': images[image], 'flavorRef': flavors[flavor], 'networks': 'none', 'host': host}}
    sid = nova('POST', '/servers', mv='2.74', body=body).json()['server']['id']
    log('booting %s (%s) on %s' % (name, sid, host))

    def active():
        s = nova('GET', '/servers/%s' % sid, mv='2.74').json()['server']
        if s['status'] == 'ERROR':
            raise RuntimeError('%s went to ERROR: %s' % (name, s.get('fault')))
        return s if s['status'] == 'ACTIVE' and s.get('OS-EXT-SRV-ATTR:host') == host else None
    return wait_until('%s ACTIVE on %s' % (name, host), active, 180)


def neutron(method, path, body=None, ok=(200, 201, 204)):
    return api(method, NEUTRON + '/v2.0' + path, None, body, ok)


def neutron_up():
    """The real neutron-server answers (not the stub: it has extensions)."""
    try:
        if 'network' not in CATALOG_TYPES or http_call('GET', NEUTRON + '/', timeout=5).status not in (200, 300):
            return False
        return bool(neutron('GET', '/extensions', ok=(200,)).json().get('extensions'))
    except (OSError, RuntimeError, ValueError):
        return False


def cleanup_neutron(errors):
    """Delete the oha-fixture floating IPs, routers (interfaces first), ports and networks, in that order."""
    if LIST or not neutron_up():
        return

    def attempt(what, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report, go on undoing the rest
            errors.append('%s: %s' % (what, e))
    def named(kind):
        r = neutron('GET', '/' + kind, ok=(200, 404))  # (no floatingips/routers without the L3 plugin: 404)
        return [x for x in (r.json()[kind] if r.status == 200 else [])
                if (x.get('name') or x.get('description') or '').startswith(PREFIX)]
    for f in named('floatingips'):
        attempt('floating IP %s' % f['id'], lambda f=f: neutron('DELETE', '/floatingips/%s' % f['id'], ok=(204, 404)))
    for r in named('routers'):
        for p in neutron('GET', '/ports?device_id=%s' % r['id']).json()['ports']:
            if p['device_owner'] == 'network:router_interface':
                attempt('interface %s of %s' % (p['id'], r['name']), lambda r=r, p=p: neutron(
                    'PUT', '/routers/%s/remove_router_interface' % r['id'], body={'port_id': p['id']}, ok=(200, 404)))
        attempt('router %s' % r['name'], lambda r=r: neutron('DELETE', '/routers/%s' % r['id'], ok=(204, 404)))
    for p in named('ports'):
        attempt('port %s' % p['name'], lambda p=p: neutron('DELETE', '/ports/%s' % p['id'], ok=(204, 404)))
    for n in named('networks'):
        attempt('network %s' % n['name'], lambda n=n: neutron('DELETE', '/networks/%s' % n['id'], ok=(204, 404)))
    if named('networks'):
        errors.append('oha-fixture networks left on the rig: %s' % ' '.join(n['name'] for n in named('networks')))


def neutron_network(name, physnet, cidrs, external=False):
    net = {'name': name, 'provider:network_type': 'flat', 'provider:physical_network': physnet}
    if external:
        net['router:external'] = True
    n = neutron('POST', '/networks', body={'network': net}).json()['network']
    subnets = [neutron('POST', '/subnets', body={'subnet': {
        'name': '%s-subnet%s' % (PREFIX, '' if i == 0 else i + 1) if not external else PREFIX + '-ext-subnet',
        'network_id': n['id'], 'ip_version': 4, 'cidr': c, 'enable_dhcp': False}}).json()['subnet'] for i, c in enumerate(cidrs)]
    return n, subnets


def record_neutron():
    """Ports, allowed address pairs, subnets, floating IPs: what openstack-virtual-ip/-floating-ip/-info ask."""
    names = [n for n in NEUTRON_FIXTURES if want(n)]
    if not names:
        return
    if not neutron_up():
        SKIPPED.extend((n, 'the real neutron-server is not running on the rig (OS_RIG_NEUTRON=stub?)') for n in names)
        return
    aliases = {e['alias'] for e in neutron('GET', '/extensions').json()['extensions']}
    if 'allowed-address-pairs' not in aliases or 'port-security' not in aliases:
        SKIPPED.extend((n, 'neutron-server lacks allowed-address-pairs/port-security (start.sh: extension_drivers = '
                           'port_security)') for n in names)
        return
    u = NEUTRON + '/v2.0'
    zero = '00000000-0000-4000-8000-000000000000'
    device = str(uuid.uuid4())  # the "server" both ports belong to
    net, (sub, sub2) = neutron_network(PREFIX + '-net', PREFIX + '-int', ['10.250.0.0/24', '10.250.1.0/24'])
    mkport = lambda name, subnet: neutron('POST', '/ports', body={'port': {  # noqa: E731
        'name': name, 'network_id': net['id'], 'device_id': device, 'device_owner': 'compute:nova',
        'fixed_ips': [{'subnet_id': subnet['id']}]}}).json()['port']
    port, port2 = mkport(PREFIX + '-port', sub), mkport(PREFIX + '-port2', sub2)
    record('neutron_get_ports_unauthorized.json', 'GET', u + '/ports', token=False, expect=401,
           headers={'X-Auth-Token': 'oha-fixture-invalid-token'})
    record('neutron_get_ports_device_id.json', 'GET', u + '/ports?device_id=%s' % device, expect=200)
    record('neutron_get_ports_device_id_subnet.json', 'GET', u + '/ports?device_id=%s&fixed_ips=subnet_id%%3D%s' % (device, sub['id']),
           expect=200)
    record('neutron_get_ports_network_id.json', 'GET', u + '/ports?network_id=%s' % net['id'], expect=200)
    record('neutron_get_port.json', 'GET', u + '/ports/%s' % port['id'], expect=200)
    record('neutron_get_port_not_found.json', 'GET', u + '/ports/%s' % zero, expect=404)
    pairs = [{'ip_address': '10.250.0.100'}, {'ip_address': '10.250.0.10'}]
    record('neutron_put_port_allowed_address_pairs.json', 'PUT', u + '/ports/%s' % port['id'],
           body={'port': {'allowed_address_pairs': pairs}}, expect=200)
    record('neutron_put_port_allowed_address_pairs_duplicate.json', 'PUT', u + '/ports/%s' % port['id'],
           body={'port': {'allowed_address_pairs': [{'ip_address': '10.250.0.9'}, {'ip_address': '10.250.0.9'}]}}, expect=400)
    record('neutron_get_subnet.json', 'GET', u + '/subnets/%s' % sub['id'], expect=200)
    record('neutron_get_subnet_not_found.json', 'GET', u + '/subnets/%s' % zero, expect=404)
    fips = [n for n in names if 'floatingip' in n]
    if not fips:
        return
    if 'router' not in aliases:
        SKIPPED.extend((n, 'neutron-server has no L3 router plugin (start.sh: service_plugins = router)') for n in fips)
        return
    ext, (ext_sub,) = neutron_network(PREFIX + '-ext', PREFIX + '-ext', ['203.0.113.0/24'], external=True)
    router = neutron('POST', '/routers', body={'router': {'name': PREFIX + '-router',
                                                          'external_gateway_info': {'network_id': ext['id']}}}).json()['router']
    neutron('PUT', '/routers/%s/add_router_interface' % router['id'], body={'subnet_id': sub['id']})
    fip = neutron('POST', '/floatingips', body={'floatingip': {'floating_network_id': ext['id'], 'description': PREFIX}}).json()['floatingip']
    log('Neutron scene: subnet %s (router %s, external subnet %s), ports %s %s, floating IP %s' % (
        sub['id'], router['id'], ext_sub['id'], port['id'], port2['id'], fip['floating_ip_address']))
    f = u + '/floatingips/'
    record('neutron_get_floatingip.json', 'GET', f + fip['id'], expect=200)
    record('neutron_get_floatingip_not_found.json', 'GET', f + zero, expect=404)
    fixed = port['fixed_ips'][0]['ip_address']
    if want('neutron_put_floatingip_disassociate.json') and not want('neutron_put_floatingip_associate.json'):
        neutron('PUT', '/floatingips/%s' % fip['id'], body={'floatingip': {'port_id': port['id'], 'fixed_ip_address': fixed}})
    record('neutron_put_floatingip_associate.json', 'PUT', f + fip['id'],
           body={'floatingip': {'port_id': port['id'], 'fixed_ip_address': fixed}}, expect=200)
    record('neutron_put_floatingip_disassociate.json', 'PUT', f + fip['id'], body={'floatingip': {'port_id': None}}, expect=200)
    # port2's subnet is joined to no router: Neutron refuses (ExternalGatewayForFloatingIPNotFound)
    record('neutron_put_floatingip_no_router.json', 'PUT', f + fip['id'], body={'floatingip': {'port_id': port2['id']}}, expect=404)


def volume_status(vid):
    return cinder('GET', '/volumes/%s' % vid).json()['volume']['status']


def record_volumes(vm, other_host):
    """openstack-cinder-volume's requests: the volume (available, in-use), attach, list, detach, and Nova's refusals."""
    names = [n for n in VOLUME_FIXTURES if want(n)]
    if not names:
        return
    if not cinder_up():
        SKIPPED.extend((n, 'Cinder is not running on the rig (test/rig/openstack/cinder.sh setup && cinder.sh start)') for n in names)
        return
    vid = cinder('POST', '/volumes', body={'volume': {'size': 1, 'name': VOL}}).json()['volume']['id']
    wait_until('%s available' % VOL, lambda: volume_status(vid) in ('available', 'error'), 120)
    if volume_status(vid) != 'available':
        SKIPPED.extend((n, 'the rig\'s cinder-volume could not create %s (status error)' % VOL) for n in names)
        return
    zero = '00000000-0000-4000-8000-000000000000'
    c = CINDER + '/v3/%s/volumes/' % PROJECT_ID
    u = NOVA + '/v2.1/servers/%s/os-volume_attachments' % vm['id']
    record('cinder_get_volume.json', 'GET', c + vid, expect=200)
    record('cinder_get_volume_not_found.json', 'GET', c + zero, expect=404)
    record('nova_post_os_volume_attachments_mv2.60.json', 'POST', u, mv='2.60', body={'volumeAttachment': {'volumeId': vid}}, expect=200)
    if volume_status(vid) == 'available':  # (the attach was recorded earlier: attach again for what follows)
        nova('POST', '/servers/%s/os-volume_attachments' % vm['id'], mv='2.60', body={'volumeAttachment': {'volumeId': vid}})
    wait_until('%s in-use' % VOL, lambda: volume_status(vid) == 'in-use', 120)
    record('nova_get_os_volume_attachments_mv2.60.json', 'GET', u, mv='2.60', expect=200)
    record('nova_get_os_volume_attachments_mv2.89.json', 'GET', u, mv='2.89', expect=200)
    record('cinder_get_volume_in_use.json', 'GET', c + vid, expect=200)
    if want('nova_post_os_volume_attachments_in_use_mv2.60.json'):
        vm2 = boot_vm(other_host, PREFIX + '-vm2')
        record('nova_post_os_volume_attachments_in_use_mv2.60.json', 'POST', NOVA + '/v2.1/servers/%s/os-volume_attachments' % vm2['id'],
               mv='2.60', body={'volumeAttachment': {'volumeId': vid}}, expect=400)
    record('nova_post_os_volume_attachments_unknown_volume_mv2.60.json', 'POST', u, mv='2.60',
           body={'volumeAttachment': {'volumeId': zero}}, expect=404)
    record('nova_delete_os_volume_attachment_mv2.60.json', 'DELETE', u + '/' + vid, mv='2.60', expect=202)
    wait_until('%s available' % VOL, lambda: volume_status(vid) == 'available', 120)
    record('nova_delete_os_volume_attachment_not_attached_mv2.60.json', 'DELETE', u + '/' + vid, mv='2.60', expect=404)


def power_to(sid, status):
    """Bring the server to ACTIVE or SHUTOFF (os-start / os-stop unless it is there or on its way) and wait for it."""
    def now():
        return nova('GET', '/servers/%s' % sid, mv='2.1').json()['server']
    s = now()
    if s['status'] != status and not s.get('OS-EXT-STS:task_state'):
        nova('POST', '/servers/%s/action' % sid, mv='2.1', body={'os-start' if status == 'ACTIVE' else 'os-stop': None})

    def there():
        s = now()
        if s['status'] == 'ERROR':
            raise RuntimeError('%s went to ERROR: %s' % (VM, s.get('fault')))
        return s['status'] == status and not s.get('OS-EXT-STS:task_state')
    wait_until('%s %s' % (VM, status), there, 180)


def record_servers(vm):
    """fence_openstack's requests (microversion 2.1, the admin project's servers): show, list, find, stop, start."""
    sid = vm['id']
    u = NOVA + '/v2.1/servers'
    record('nova_get_server_mv2.1.json', 'GET', u + '/%s' % sid, mv='2.1', expect=200)
    record('nova_get_server_not_found_mv2.1.json', 'GET', u + '/00000000-0000-4000-8000-000000000000', mv='2.1', expect=404)
    record('nova_get_servers_detail_limit_mv2.1.json', 'GET', u + '/detail?limit=1', mv='2.1', expect=200)
    # the newest server as marker: the page holds the next older one of the project, if any
    record('nova_get_servers_detail_marker_mv2.1.json', 'GET', u + '/detail?limit=1&marker=%s' % sid, mv='2.1', expect=200)
    record('nova_get_servers_detail_name_mv2.1.json', 'GET', u + '/detail?name=%s' % urllib.parse.quote('^%s$' % VM), mv='2.1', expect=200)
    action = u + '/%s/action' % sid
    power_to(sid, 'ACTIVE')
    record('nova_post_server_action_os_stop_mv2.1.json', 'POST', action, mv='2.1', body={'os-stop': None}, expect=202)
    power_to(sid, 'SHUTOFF')
    record('nova_post_server_action_os_stop_stopped_mv2.1.json', 'POST', action, mv='2.1', body={'os-stop': None}, expect=409)
    record('nova_post_server_action_os_start_mv2.1.json', 'POST', action, mv='2.1', body={'os-start': None}, expect=202)
    power_to(sid, 'ACTIVE')
    record('nova_post_server_action_os_start_active_mv2.1.json', 'POST', action, mv='2.1', body={'os-start': None}, expect=409)


# ------------------------------------------------------------------------------------------------ the recordings
def main():
    hosts = [h for h in ENV.get('COMPUTE_HOSTS', '').split(',') if h]
    if len(hosts) < 2:
        die('needs >= 2 compute hosts in rig.env COMPUTE_HOSTS (got %r)' % hosts)
    vm_host, svc_host = hosts[0], hosts[-1]

    # Keystone and Nova version documents
    record('keystone_get_versions.json', 'GET', KEYSTONE + '/', token=False)
    record('keystone_get_v3.json', 'GET', KEYSTONE + '/v3', token=False)
    record('nova_get_versions.json', 'GET', NOVA + '/', token=False)
    record('nova_get_v2.1.json', 'GET', NOVA + '/v2.1/', token=False)
    # microversion above Zed's maximum; a token Keystone does not know
    record('nova_get_os_services_mv_unsupported.json', 'GET', NOVA + '/v2.1/os-services', mv='2.999', expect=406)
    record('nova_get_os_services_unauthorized.json', 'GET', NOVA + '/v2.1/os-services', token=False, expect=401,
           headers={'X-Auth-Token': 'oha-fixture-invalid-token'})

    # os-hypervisors (summary; hostname pattern and with_servers from 2.53; /{pattern}/search|servers before 2.53)
    hyp = ['nova_get_os_hypervisors_mv2.53.json', 'nova_get_os_hypervisors_pattern_with_servers_mv2.53.json',
           'nova_get_os_hypervisors_detail_pattern_with_servers_mv2.53.json',
           'nova_get_os_hypervisors_pattern_with_servers_none_mv2.75.json',
           'nova_get_os_hypervisors_pattern_nomatch_mv2.53.json', 'nova_get_os_hypervisors_pattern_paging_mv2.53.json',
           'nova_get_os_hypervisors_servers_mv2.52.json', 'nova_get_os_hypervisors_search_mv2.52.json',
           'nova_get_os_hypervisors_servers_gone_mv2.53.json', 'nova_get_server_mv2.74.json']
    needs_vm = [n for n in hyp if want(n)]
    vm = None
    if needs_vm:
        on_host = {s['OS-EXT-SRV-ATTR:host'] for s in nova('GET', '/servers/detail?all_tenants=1', mv='2.74').json()['servers']}
        empty = [h for h in hosts if h not in on_host and h != vm_host]
        vm = boot_vm(vm_host)
        q = urllib.parse.quote
        record('nova_get_os_hypervisors_mv2.53.json', 'GET', NOVA + '/v2.1/os-hypervisors', mv='2.53', expect=200)
        record('nova_get_os_hypervisors_pattern_with_servers_mv2.53.json', 'GET',
               NOVA + '/v2.1/os-hypervisors?hypervisor_hostname_pattern=%s&with_servers=true' % q(vm_host), mv='2.53', expect=200)
        record('nova_get_os_hypervisors_detail_pattern_with_servers_mv2.53.json', 'GET',
               NOVA + '/v2.1/os-hypervisors/detail?hypervisor_hostname_pattern=%s&with_servers=true' % q(vm_host), mv='2.53', expect=200)
        if empty:
            record('nova_get_os_hypervisors_pattern_with_servers_none_mv2.75.json', 'GET',
                   NOVA + '/v2.1/os-hypervisors?hypervisor_hostname_pattern=%s&with_servers=true' % q(empty[0]), mv='2.75', expect=200)
        elif want('nova_get_os_hypervisors_pattern_with_servers_none_mv2.75.json'):
            SKIPPED.append(('nova_get_os_hypervisors_pattern_with_servers_none_mv2.75.json', 'every other compute host has servers'))
        record('nova_get_os_hypervisors_pattern_nomatch_mv2.53.json', 'GET',
               NOVA + '/v2.1/os-hypervisors?hypervisor_hostname_pattern=oha-no-such-host', mv='2.53', expect=404)
        record('nova_get_os_hypervisors_pattern_paging_mv2.53.json', 'GET',
               NOVA + '/v2.1/os-hypervisors?hypervisor_hostname_pattern=%s&limit=1' % q(vm_host), mv='2.53', expect=400)
        record('nova_get_os_hypervisors_servers_mv2.52.json', 'GET', NOVA + '/v2.1/os-hypervisors/%s/servers' % q(vm_host),
               mv='2.52', expect=200)
        record('nova_get_os_hypervisors_search_mv2.52.json', 'GET', NOVA + '/v2.1/os-hypervisors/%s/search' % q(vm_host),
               mv='2.52', expect=200)
        record('nova_get_os_hypervisors_servers_gone_mv2.53.json', 'GET', NOVA + '/v2.1/os-hypervisors/%s/servers' % q(vm_host),
               mv='2.53', expect=404)
        record('nova_get_server_mv2.74.json', 'GET', NOVA + '/v2.1/servers/%s' % vm['id'], mv='2.74', expect=200)

    # fence_openstack's server calls (on the same server, booted here when the above did not)
    if [n for n in SERVER_FIXTURES if want(n)]:
        vm = vm or boot_vm(vm_host)
        record_servers(vm)
    # openstack-cinder-volume's calls (the same server; a second one on the last compute host)
    if [n for n in VOLUME_FIXTURES if want(n)]:
        record_volumes(vm or boot_vm(vm_host), svc_host)

    # flavors
    flavors = {f['name']: f['id'] for f in nova('GET', '/flavors').json()['flavors']}
    fid = flavors.get(ENV.get('FLAVOR_EVACUABLE', 'm1.evac'))
    record('nova_get_flavors_mv2.53.json', 'GET', NOVA + '/v2.1/flavors', mv='2.53', expect=200)
    record('nova_get_flavors_detail_mv2.61.json', 'GET', NOVA + '/v2.1/flavors/detail?is_public=None', mv='2.61', expect=200)
    if fid:
        record('nova_get_flavor_mv2.61.json', 'GET', NOVA + '/v2.1/flavors/%s' % fid, mv='2.61', expect=200)
        record('nova_get_flavor_extra_specs_mv2.53.json', 'GET', NOVA + '/v2.1/flavors/%s/os-extra_specs' % fid, mv='2.53', expect=200)

    # the os-services actions before 2.53, on the last compute host (only when it is in service; put back after)
    svc = ['nova_put_os_services_disable_log_reason_mv2.11.json', 'nova_put_os_services_enable_mv2.11.json',
           'nova_put_os_services_disable_mv2.11.json', 'nova_put_os_services_force_down_mv2.11.json',
           'nova_put_os_services_force_up_mv2.11.json']
    if [n for n in svc if want(n)]:
        s = compute_service(svc_host)
        if not s or s['status'] != 'enabled' or s['state'] != 'up' or s.get('forced_down'):
            for n in svc:
                if want(n):
                    SKIPPED.append((n, 'nova-compute of %s is not enabled, up and in service: %s' % (svc_host, s)))
        else:
            st = load_state()
            st['service_host'] = svc_host
            save_state(st)
            b = {'host': svc_host, 'binary': 'nova-compute'}
            u = NOVA + '/v2.1/os-services/'
            record(svc[0], 'PUT', u + 'disable-log-reason', mv='2.11', body=dict(b, disabled_reason=PREFIX), expect=200)
            record(svc[1], 'PUT', u + 'enable', mv='2.11', body=b, expect=200)
            record(svc[2], 'PUT', u + 'disable', mv='2.11', body=b, expect=200)
            record(svc[3], 'PUT', u + 'force-down', mv='2.11', body=dict(b, forced_down=True), expect=200)
            record(svc[4], 'PUT', u + 'force-down', mv='2.11', body=dict(b, forced_down=False), expect=200)

    # aggregates: remove_host and update (the others are recorded already)
    agg = ['nova_post_os_aggregates_remove_host_mv2.41.json', 'nova_put_os_aggregate_mv2.41.json']
    if [n for n in agg if want(n)]:
        a = nova('POST', '/os-aggregates', mv='2.41', body={'aggregate': {'name': AGG}}).json()['aggregate']
        nova('POST', '/os-aggregates/%s/action' % a['id'], mv='2.41', body={'add_host': {'host': svc_host}})
        u = NOVA + '/v2.1/os-aggregates/%s' % a['id']
        record(agg[0], 'POST', u + '/action', mv='2.41', body={'remove_host': {'host': svc_host}}, expect=200)
        record(agg[1], 'PUT', u, mv='2.41', body={'aggregate': {'name': AGG + '2'}}, expect=200)

    # Glance
    record('glance_get_versions.json', 'GET', GLANCE + '/', token=False)
    record('glance_get_versions_path.json', 'GET', GLANCE + '/versions', token=False)
    record('glance_get_images.json', 'GET', GLANCE + '/v2/images?limit=2', expect=200)
    images = {i['name']: i['id'] for i in api('GET', GLANCE + '/v2/images').json()['images']}
    iid = images.get(ENV.get('IMAGE_EVACUABLE', 'cirros-evac')) or images.get(ENV.get('IMAGE', 'cirros'))
    if iid:
        record('glance_get_image.json', 'GET', GLANCE + '/v2/images/%s' % iid, expect=200)
    record('glance_get_image_not_found.json', 'GET', GLANCE + '/v2/images/00000000-0000-4000-8000-000000000000', expect=404)

    # Cinder (only when it runs)
    cinder = ['cinder_get_versions.json', 'cinder_get_v3.json', 'cinder_get_types.json', 'cinder_get_os_services.json']
    if [n for n in cinder if want(n)]:
        try:
            up = 'volumev3' in CATALOG_TYPES and http_call('GET', CINDER + '/', timeout=5).status in (200, 300)
        except OSError:
            up = False
        if not up:
            for n in cinder:
                if want(n):
                    SKIPPED.append((n, 'Cinder is not running on the rig (test/rig/openstack/cinder.sh setup && cinder.sh start)'))
        else:
            record(cinder[0], 'GET', CINDER + '/', token=False)
            record(cinder[1], 'GET', CINDER + '/v3/', token=False)
            record(cinder[2], 'GET', CINDER + '/v3/%s/types' % PROJECT_ID, expect=200)
            record(cinder[3], 'GET', CINDER + '/v3/%s/os-services' % PROJECT_ID, expect=200)

    record_neutron()


if LIST:
    for n in PLANNED:
        print('%-70s %s' % (n, 'recorded' if os.path.exists(path_of(n)) else 'missing'))
    sys.exit(0)

bad_names = [n for n in ONLY if n not in PLANNED]
for n in bad_names:
    log('unknown fixture name %s (see --list)' % n)
if bad_names:
    sys.exit(2)
cleanup()  # what an interrupted earlier run may have left
failed = None
try:
    main()
except KeyboardInterrupt:
    failed = 'interrupted'
except Exception as e:  # noqa: BLE001 - clean up, then report
    failed = str(e)
finally:
    clean = cleanup()
    if clean:  # else kept: the next run restores the service it names
        try:
            os.remove(STATE)
        except OSError:
            pass
log('%d recorded, %d skipped' % (len(RECORDED), len(SKIPPED)))
for n, why in SKIPPED:
    log('SKIPPED %s: %s' % (n, why))
missing = [n for n in PLANNED if not os.path.exists(path_of(n))]
if missing:
    log('still missing: ' + ' '.join(missing))
if failed:
    die(failed)
if not clean:
    die('the rig was not fully restored (see above)')
sys.exit(0)
PYEOF
