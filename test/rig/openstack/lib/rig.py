#!/usr/bin/python3
"""API-side helpers of the OpenStack test rig (run with /usr/bin/python3; no proxies are ever used).

  rig.py keystone-setup          service project, service users and the catalog (idempotent)
  rig.py cloud-setup             flavors m1.tiny / m1.evac and images cirros / cirros-evac (idempotent)
  rig.py wait-ready N TIMEOUT    until compute1..N are "up" in os-services, have a hypervisor and a host mapping
  rig.py services                one line per nova service: binary host state status forced_down
  rig.py force-down HOST [true|false]
"""
import json
import os
import sys
import time

import requests

AUTH_URL = 'http://127.0.0.1:5000/v3'
NOVA = 'http://127.0.0.1:8774/v2.1'
GLANCE = 'http://127.0.0.1:9292'
PLACEMENT = 'http://127.0.0.1:8778'
RIG = os.environ.get('OS_RIG_DIR', '/tmp/oha-openstack-rig')

S = requests.Session()
S.trust_env = False  # never a proxy
# uwsgi (Keystone, Placement) mishandles keep-alive: one connection per request
S.headers['Connection'] = 'close'


def die(msg):
    sys.stderr.write('ERROR: %s\n' % msg)
    sys.exit(1)


def token(user='admin', password='admin', project='admin'):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': user, 'domain': {'name': 'Default'}, 'password': password}}},
        'scope': {'project': {'name': project, 'domain': {'name': 'Default'}}}}}
    r = S.post(AUTH_URL + '/auth/tokens', json=body, timeout=30)
    r.raise_for_status()
    return r.headers['X-Subject-Token']


class Api:
    def __init__(self):
        self.tok = token()

    def req(self, method, url, mv=None, ok=(200, 201, 202, 204), **kw):
        h = kw.pop('headers', {})
        h['X-Auth-Token'] = self.tok
        if mv:
            h['OpenStack-API-Version'] = 'compute %s' % mv
        r = S.request(method, url, headers=h, timeout=60, **kw)
        if ok and r.status_code not in ok:
            raise RuntimeError('%s %s -> %s %s' % (method, url, r.status_code, r.text[:400]))
        return r

    def nova(self, method, path, mv='2.53', **kw):
        return self.req(method, NOVA + path, mv=mv, **kw)


# ---------------------------------------------------------------------------------------------- keystone-setup
def keystone_setup():
    api = Api()
    ks = lambda m, p, **kw: api.req(m, AUTH_URL + p, **kw)
    projects = ks('GET', '/projects?name=service').json()['projects']
    proj = projects[0]['id'] if projects else \
        ks('POST', '/projects', json={'project': {'name': 'service', 'domain_id': 'default'}}).json()['project']['id']
    roles = {r['name']: r['id'] for r in ks('GET', '/roles').json()['roles']}
    if 'service' not in roles:
        roles['service'] = ks('POST', '/roles', json={'role': {'name': 'service'}}).json()['role']['id']
    services = [('nova', 'compute', NOVA), ('placement', 'placement', PLACEMENT), ('glance', 'image', GLANCE),
                ('neutron', 'network', 'http://127.0.0.1:9696')]
    for name, stype, url in services:
        users = ks('GET', '/users?name=%s' % name).json()['users']
        uid = users[0]['id'] if users else ks('POST', '/users', json={'user': {
            'name': name, 'password': name, 'domain_id': 'default', 'default_project_id': proj}}).json()['user']['id']
        for role in ('admin', 'service'):
            ks('PUT', '/projects/%s/users/%s/roles/%s' % (proj, uid, roles[role]))
        svcs = ks('GET', '/services?type=%s' % stype).json()['services']
        sid = svcs[0]['id'] if svcs else \
            ks('POST', '/services', json={'service': {'name': name, 'type': stype}}).json()['service']['id']
        have = {e['interface'] for e in ks('GET', '/endpoints?service_id=%s' % sid).json()['endpoints']}
        for iface in ('public', 'internal', 'admin'):
            if iface not in have:
                ks('POST', '/endpoints', json={'endpoint': {'service_id': sid, 'interface': iface, 'url': url,
                                                            'region_id': 'RegionOne'}})
    print('keystone: service project, users and catalog ready')


# ---------------------------------------------------------------------------------------------- cloud-setup
FLAVORS = [('m1.tiny', {}), ('m1.evac', {'evacuable': 'true'})]
IMAGES = [('cirros', {}), ('cirros-evac', {'evacuable': 'true'})]


def cloud_setup(timeout=120):
    deadline = time.time() + timeout
    while True:  # nova-api and glance may still be starting
        try:
            api = Api()
            api.nova('GET', '/flavors')
            api.req('GET', GLANCE + '/v2/images')
            break
        except Exception as e:  # noqa: BLE001
            if time.time() > deadline:
                die('cloud-setup: nova-api/glance not answering: %s' % e)
            time.sleep(0.5)
    flavors = {f['name']: f for f in api.nova('GET', '/flavors/detail?is_public=None', mv='2.61').json()['flavors']}
    for name, specs in FLAVORS:
        f = flavors.get(name)
        if not f:
            f = api.nova('POST', '/flavors', mv='2.61', json={'flavor': {
                'name': name, 'ram': 64, 'vcpus': 1, 'disk': 1}}).json()['flavor']
        missing = {k: v for k, v in specs.items() if (f.get('extra_specs') or {}).get(k) != v}
        if missing:
            api.nova('POST', '/flavors/%s/os-extra_specs' % f['id'], json={'extra_specs': missing})
    images = api.req('GET', GLANCE + '/v2/images?limit=1000').json()['images']
    data = b'\0' * 1024
    for name, props in IMAGES:
        same = [i for i in images if i['name'] == name]
        good = [i for i in same if i['status'] == 'active' and all(i.get(k) == v for k, v in props.items())]
        if good:
            continue
        for i in same:  # half-made or wrong: replace
            api.req('DELETE', GLANCE + '/v2/images/%s' % i['id'], ok=(204, 404))
        body = dict(name=name, disk_format='raw', container_format='bare', visibility='public', **props)
        img = api.req('POST', GLANCE + '/v2/images', json=body).json()
        api.req('PUT', GLANCE + '/v2/images/%s/file' % img['id'], data=data,
                headers={'Content-Type': 'application/octet-stream'})
    print('cloud: flavors %s, images %s ready' % ([f for f, _ in FLAVORS], [i for i, _ in IMAGES]))


# ---------------------------------------------------------------------------------------------- wait-ready
def recorded_alive(name):
    try:
        pid, st = (open(os.path.join(RIG, 'run', name + '.pid')).read().split() + [''])[:2]
        with open('/proc/%s/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return fields[0] != 'Z' and (not st or fields[19] == st)
    except (OSError, IndexError, ValueError):
        return False


def host_mappings():
    import pymysql
    c = pymysql.connect(host='127.0.0.1', port=13306, user='os', password='os', database='nova_api',
                        connect_timeout=5)
    try:
        with c.cursor() as cur:
            cur.execute('SELECT host FROM host_mappings')
            return {r[0] for r in cur.fetchall()}
    finally:
        c.close()


def wait_ready(n, timeout):
    want = {'compute%d' % i for i in range(1, n + 1)}
    watch = ['mariadb', 'rabbitmq', 'keystone', 'placement', 'glance-api', 'neutron-server', 'nova-api',
             'nova-conductor', 'nova-scheduler'] + ['nova-compute-' + h for h in sorted(want)]
    deadline = time.time() + timeout
    api, last, discovered = None, '', False
    while True:
        dead = [w for w in watch if os.path.exists(os.path.join(RIG, 'run', w + '.pid')) and not recorded_alive(w)]
        if dead:
            die('%s died during start-up, see %s/log/' % (', '.join(dead), RIG))
        try:
            api = api or Api()
            up = {s['host'] for s in api.nova('GET', '/os-services?binary=nova-compute').json()['services']
                  if s['state'] == 'up'}
            hv = {h.get('service', {}).get('host') for h in
                  api.nova('GET', '/os-hypervisors/detail').json()['hypervisors']}
            mapped = host_mappings()
            last = 'up %d/%d, hypervisors %d/%d, mapped %d/%d' % (
                len(want & up), n, len(want & hv), n, len(want & mapped), n)
            if want <= up and want <= hv and want <= mapped:
                print('ready: %s' % last)
                return
            # the scheduler maps new hosts every 2 s; when that lags, map them ourselves (once)
            if want <= hv and not want <= mapped and not discovered and time.time() > deadline - timeout / 2:
                discovered = True
                os.system('%s/bin/nova-manage --config-file %s/etc/nova/nova.conf --config-file %s/etc/nova/nova-db.conf '
                          'cell_v2 discover_hosts >>%s/log/discover_hosts.log 2>&1' % (RIG, RIG, RIG, RIG))
        except Exception as e:  # noqa: BLE001
            last = 'API not ready: %s' % str(e)[:200]
            api = None if 'auth' in str(e) else api
        if time.time() > deadline:
            die('not ready after %ds: %s' % (timeout, last))
        time.sleep(0.5)


# ---------------------------------------------------------------------------------------------- services
def services():
    api = Api()
    for s in api.nova('GET', '/os-services').json()['services']:
        print('%s %s %s %s forced_down=%s' % (s['binary'], s['host'], s['state'], s['status'],
                                              str(s.get('forced_down')).lower()))


def force_down(host, value='true'):
    api = Api()
    svc = [s for s in api.nova('GET', '/os-services?binary=nova-compute&host=%s' % host).json()['services']]
    if not svc:
        die('no nova-compute on %s' % host)
    api.nova('PUT', '/os-services/%s' % svc[0]['id'], json={'forced_down': value == 'true'})
    print('%s forced_down=%s' % (host, value))


def main(argv):
    if not argv:
        die(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == 'keystone-setup':
        keystone_setup()
    elif cmd == 'cloud-setup':
        cloud_setup()
    elif cmd == 'wait-ready':
        wait_ready(int(args[0]), int(args[1]) if len(args) > 1 else 180)
    elif cmd == 'services':
        services()
    elif cmd == 'force-down':
        force_down(*args)
    else:
        die('unknown command %s\n%s' % (cmd, __doc__))


if __name__ == '__main__':
    main(sys.argv[1:])
