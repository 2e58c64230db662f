#!/usr/bin/python3
"""The guest-cluster rig's OpenStack side (run with /usr/bin/python3; no proxies are ever used).

  guest_rig.py setup DIR       in the running OpenStack rig (test/rig/openstack, with Cinder): two servers
                               oha-guest-n1/-n2 (networks none: the rig's Neutron binds no port), one port each on
                               subnet oha-guest-subnet (device_id = the server, as Nova would make it), an external
                               network with a router and a floating IP, volume type oha-multiattach (multiattach) with
                               volume oha-guest-shared, and single-attach volume oha-guest-data. Writes DIR/ids.env
                               (KEY=VALUE), DIR/openrc (the rig's admin, mode 0600) and DIR/nN/meta_data.json (the
                               config drive each node mounts). Idempotent: what exists by name is reused.
  guest_rig.py setup-extra DIR objects for ocf-tester: volume oha-guest-extra and a second floating IP (DIR/extra.env)
  guest_rig.py hypervisor DIR  the hypervisor's part, until killed: every 0.5 s it reads each server's status and
                               volume attachments from Nova; a server that turns SHUTOFF has its node powered off
                               (test/rig/multinode/cluster.sh power off nN), one that turns ACTIVE again is powered on;
                               each attached volume appears in the node as /run/disk/by-id/virtio-<first 20 characters
                               of the volume id> (the node's private /run, reached through /proc/PID/root). Every
                               action is logged to DIR/hypervisor.log as "EPOCH_MS what".
  guest_rig.py actions SERVER [SINCE_MS]
                               the server's Nova instance actions (since SINCE_MS, epoch ms), one per line, oldest
                               first: "action start_time"
  guest_rig.py volume VOLUME   status and attached server ids: "status id1 id2..."
  guest_rig.py port PORT       allowed address pairs of a port: "ip ip..."
  guest_rig.py fip FIP         the port a floating IP is associated with ("-" for none)
"""
import calendar
import json
import os
import subprocess
import sys
import time

import requests

AUTH_URL = 'http://127.0.0.1:5000/v3'
NOVA = 'http://127.0.0.1:8774/v2.1'
NEUTRON = 'http://127.0.0.1:9696/v2.0'
CINDER = 'http://127.0.0.1:8776/v3'
PREFIX = 'oha-guest'
NODES = ('n1', 'n2')
SUBNET_CIDR = '10.251.0.0/24'
EXT_CIDR = '203.0.113.0/24'     # documentation range: only data in Neutron, never contacted
HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, '..', 'multinode', 'cluster.sh')

S = requests.Session()
S.trust_env = False
S.headers['Connection'] = 'close'


def die(msg):
    sys.stderr.write('guest_rig: ERROR: %s\n' % msg)
    sys.exit(1)


class Api:
    def __init__(self):
        self.login()

    def login(self):
        body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'admin', 'domain': {'name': 'Default'}, 'password': 'admin'}}},
            'scope': {'project': {'name': 'admin', 'domain': {'name': 'Default'}}}}}
        r = S.post(AUTH_URL + '/auth/tokens', json=body, timeout=30)
        r.raise_for_status()
        self.tok = r.headers['X-Subject-Token']
        self.project = r.json()['token']['project']['id']

    def req(self, method, url, ok=(200, 201, 202, 204), headers=None, **kw):
        h = dict(headers or {}, **{'X-Auth-Token': self.tok})
        r = S.request(method, url, headers=h, timeout=60, **kw)
        if r.status_code == 401:
            self.login()
            h['X-Auth-Token'] = self.tok
            r = S.request(method, url, headers=h, timeout=60, **kw)
        if ok and r.status_code not in ok:
            raise RuntimeError('%s %s -> %s %s' % (method, url, r.status_code, r.text[:400]))
        return r

    def nova(self, method, path, mv='2.60', **kw):
        return self.req(method, NOVA + path, headers={'OpenStack-API-Version': 'compute %s' % mv}, **kw)

    def neutron(self, method, path, **kw):
        return self.req(method, NEUTRON + path, **kw)

    def cinder(self, method, path, **kw):
        return self.req(method, '%s/%s%s' % (CINDER, self.project, path),
                        headers={'OpenStack-API-Version': 'volume 3.50'}, **kw)


def wait(what, fn, timeout, step=0.5):
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > end:
            die('%s: not reached in %d s' % (what, timeout))
        time.sleep(step)


def by_name(api, kind, name):
    return [x for x in api.neutron('GET', '/%s?name=%s' % (kind, name)).json()[kind]]


def network(api, name, physnet, cidr, external=False):
    nets = by_name(api, 'networks', name)
    if nets:
        n = nets[0]
    else:
        body = {'name': name, 'provider:network_type': 'flat', 'provider:physical_network': physnet}
        if external:
            body['router:external'] = True
        n = api.neutron('POST', '/networks', json={'network': body}).json()['network']
    subs = by_name(api, 'subnets', name + '-subnet')
    if subs:
        return n, subs[0]
    s = api.neutron('POST', '/subnets', json={'subnet': {
        'name': name + '-subnet', 'network_id': n['id'], 'ip_version': 4, 'cidr': cidr, 'enable_dhcp': False}}).json()
    return n, s['subnet']


def server(api, name, image, flavor):
    found = api.nova('GET', '/servers?name=^%s$' % name).json()['servers']
    if found:
        sid = found[0]['id']
    else:
        body = {'server': {'name': name, 'imageRef': image, 'flavorRef': flavor, 'networks': 'none'}}
        sid = api.nova('POST', '/servers', json=body).json()['server']['id']
    wait('server %s ACTIVE' % name, lambda: api.nova('GET', '/servers/%s' % sid).json()['server']['status'] == 'ACTIVE', 120)
    return sid


def volume(api, name, vtype=None):
    found = [v for v in api.cinder('GET', '/volumes?name=%s' % name).json()['volumes']]
    if found:
        vid = found[0]['id']
    else:
        body = {'volume': {'name': name, 'size': 1}}
        if vtype:
            body['volume']['volume_type'] = vtype
        vid = api.cinder('POST', '/volumes', json=body).json()['volume']['id']
    st = wait('volume %s created' % name, lambda: (lambda s: s if s != 'creating' else None)(
        api.cinder('GET', '/volumes/%s' % vid).json()['volume']['status']), 60)
    if st not in ('available', 'in-use'):
        die('volume %s is %s (see the Cinder logs)' % (name, st))
    return vid


def multiattach_type(api):
    name = PREFIX.replace('guest', 'multiattach')
    types = [t for t in api.cinder('GET', '/types').json()['volume_types'] if t['name'] == name]
    if types:
        return types[0]['id']
    return api.cinder('POST', '/types', json={'volume_type': {
        'name': name, 'extra_specs': {'multiattach': '<is> True'}}}).json()['volume_type']['id']


def wait_multiattach_pool(api):
    """cinder-volume reports its capabilities (extra_capabilities multiattach) a few seconds after it started."""
    def ok():
        pools = api.cinder('GET', '/scheduler-stats/get_pools?detail=true').json()['pools']
        return any(p.get('capabilities', {}).get('multiattach') for p in pools)
    wait('a Cinder pool reporting multiattach', ok, 90, 1)


def setup(d):
    api = Api()
    flavor = api.nova('GET', '/flavors?is_public=None').json()['flavors']
    flavor = [f['id'] for f in flavor if f['name'] == 'm1.tiny'][0]
    image = [i['id'] for i in api.req('GET', 'http://127.0.0.1:9292/v2/images').json()['images'] if i['name'] == 'cirros'][0]
    net, sub = network(api, PREFIX + '-net', PREFIX + '-int', SUBNET_CIDR)
    ext, ext_sub = network(api, PREFIX + '-ext', PREFIX + '-ext', EXT_CIDR, external=True)
    routers = by_name(api, 'routers', PREFIX + '-router')
    if routers:
        router = routers[0]
    else:
        router = api.neutron('POST', '/routers', json={'router': {
            'name': PREFIX + '-router', 'external_gateway_info': {'network_id': ext['id']}}}).json()['router']
        api.neutron('PUT', '/routers/%s/add_router_interface' % router['id'], json={'subnet_id': sub['id']})
    ids = {'SUBNET': sub['id'], 'NETWORK': net['id'], 'VIP': '10.251.0.100'}
    for i, n in enumerate(NODES):
        sid = server(api, '%s-%s' % (PREFIX, n), image, flavor)
        ports = by_name(api, 'ports', '%s-%s-port' % (PREFIX, n))
        port = ports[0] if ports else api.neutron('POST', '/ports', json={'port': {
            'name': '%s-%s-port' % (PREFIX, n), 'network_id': net['id'], 'device_id': sid,
            'device_owner': 'compute:nova', 'fixed_ips': [{'subnet_id': sub['id'], 'ip_address': '10.251.0.%d' % (11 + i)}]}}).json()['port']
        ids['SERVER_' + n] = sid
        ids['PORT_' + n] = port['id']
        os.makedirs(os.path.join(d, n), exist_ok=True)
        with open(os.path.join(d, n, 'meta_data.json'), 'w') as f:
            json.dump({'uuid': sid, 'name': '%s-%s' % (PREFIX, n), 'hostname': n, 'availability_zone': 'nova',
                       'launch_index': 0, 'project_id': api.project}, f)
    fips = [f for f in api.neutron('GET', '/floatingips').json()['floatingips'] if f.get('description') == PREFIX]
    fip = fips[0] if fips else api.neutron('POST', '/floatingips', json={'floatingip': {
        'floating_network_id': ext['id'], 'description': PREFIX}}).json()['floatingip']
    ids['FIP_ID'], ids['FIP'] = fip['id'], fip['floating_ip_address']
    wait_multiattach_pool(api)
    ids['VOL_SHARED'] = volume(api, PREFIX + '-shared', multiattach_type(api))
    ids['VOL_DATA'] = volume(api, PREFIX + '-data')
    with open(os.path.join(d, 'ids.env'), 'w') as f:
        f.write(''.join('%s=%s\n' % kv for kv in sorted(ids.items())))
    fd = os.open(os.path.join(d, 'openrc'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write('export OS_AUTH_URL=%s\nexport OS_USERNAME=admin\nexport OS_PASSWORD=admin\nexport OS_PROJECT_NAME=admin\n'
                'export OS_USER_DOMAIN_NAME=Default\nexport OS_PROJECT_DOMAIN_NAME=Default\nexport OS_REGION_NAME=RegionOne\n'
                'export OS_IDENTITY_API_VERSION=3\n' % AUTH_URL)
    print(''.join('%s=%s\n' % kv for kv in sorted(ids.items())), end='')


def setup_extra(d):
    api = Api()
    ext = by_name(api, 'networks', PREFIX + '-ext')[0]
    fips = [f for f in api.neutron('GET', '/floatingips').json()['floatingips'] if f.get('description') == PREFIX + '-extra']
    fip = fips[0] if fips else api.neutron('POST', '/floatingips', json={'floatingip': {
        'floating_network_id': ext['id'], 'description': PREFIX + '-extra'}}).json()['floatingip']
    ids = {'VOL_EXTRA': volume(api, PREFIX + '-extra'), 'FIP2_ID': fip['id']}
    with open(os.path.join(d, 'extra.env'), 'w') as f:
        f.write(''.join('%s=%s\n' % kv for kv in sorted(ids.items())))


def log(d, what):
    with open(os.path.join(d, 'hypervisor.log'), 'a') as f:
        f.write('%d %s\n' % (int(time.time() * 1000), what))


def node_root(node):
    """/proc/PID/root of the node's anchor (corosync), or None when the node is down."""
    mn = os.environ.get('MN_DIR', '/tmp/oha-multinode')
    try:
        pid = open(os.path.join(mn, node, 'corosync.pid')).read().strip()
        if pid and os.path.exists('/proc/%s/root/run' % pid):
            return '/proc/%s/root' % pid
    except OSError:
        pass
    return None


def sync_disks(d, node, volumes):
    root = node_root(node)
    if not root:
        return
    byid = root + '/run/disk/by-id'
    if not os.path.isdir(byid):
        return
    want = {'virtio-' + v[:20] for v in volumes}
    have = set(os.listdir(byid))
    for name in want - have:
        os.symlink('/dev/null', os.path.join(byid, name))   # the stand-in for the disk (no block device here)
        log(d, 'disk %s %s appears' % (node, name))
    for name in have - want:
        if name.startswith('virtio-'):
            os.unlink(os.path.join(byid, name))
            log(d, 'disk %s %s gone' % (node, name))


def hypervisor(d):
    ids = dict(l.strip().split('=', 1) for l in open(os.path.join(d, 'ids.env')) if '=' in l)
    api = Api()
    last = {}
    log(d, 'hypervisor started')
    while True:
        for n in NODES:
            sid = ids['SERVER_' + n]
            try:
                status = api.nova('GET', '/servers/%s' % sid).json()['server']['status']
                vols = [a['volumeId'] for a in api.nova('GET', '/servers/%s/os-volume_attachments' % sid).json()['volumeAttachments']]
            except Exception as e:  # noqa: BLE001 (Nova restarting: try again)
                log(d, 'nova: %s' % e)
                continue
            prev = last.get(n)
            last[n] = status
            if prev is not None and prev != status:
                log(d, 'server %s %s -> %s' % (n, prev, status))
                if status == 'SHUTOFF' or (status == 'ACTIVE' and prev == 'SHUTOFF'):
                    what = 'off' if status == 'SHUTOFF' else 'on'
                    r = subprocess.run(['bash', CLUSTER, 'power', what, n], capture_output=True, text=True)
                    log(d, 'power %s %s: exit %d %s' % (what, n, r.returncode, (r.stdout + r.stderr).strip().replace('\n', ' | ')))
            sync_disks(d, n, vols)
        time.sleep(0.5)


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    cmd = argv[1]
    if cmd == 'setup':
        setup(argv[2])
    elif cmd == 'setup-extra':
        setup_extra(argv[2])
    elif cmd == 'hypervisor':
        hypervisor(argv[2])
    elif cmd == 'actions':
        since = int(argv[3]) / 1000.0 if len(argv) > 3 else 0
        acts = Api().nova('GET', '/servers/%s/os-instance-actions' % argv[2]).json()['instanceActions']
        for a in sorted(acts, key=lambda a: a['start_time']):
            t = calendar.timegm(time.strptime(a['start_time'][:19], '%Y-%m-%dT%H:%M:%S'))
            if t >= int(since):   # Nova keeps whole seconds
                print(a['action'], a['start_time'])
    elif cmd == 'volume':
        v = Api().cinder('GET', '/volumes/%s' % argv[2]).json()['volume']
        print(' '.join([v['status']] + sorted(a['server_id'] for a in v['attachments'])))
    elif cmd == 'port':
        p = Api().neutron('GET', '/ports/%s' % argv[2]).json()['port']
        print(' '.join(sorted(a['ip_address'] for a in p['allowed_address_pairs'])))
    elif cmd == 'fip':
        f = Api().neutron('GET', '/floatingips/%s' % argv[2]).json()['floatingip']
        print(f['port_id'] or '-')
    else:
        die('unknown command %s' % cmd)


if __name__ == '__main__':
    main(sys.argv)
