#!/usr/bin/python3
"""Cinder side of the OpenStack test rig (run with /usr/bin/python3; no proxies are ever used).

  cinder_rig.py keystone-setup                 user cinder, services volumev3 + block-storage, endpoints (idempotent)
  cinder_rig.py services                       one line per cinder service: binary host state status
  cinder_rig.py wait-up TIMEOUT BINARY@HOST... until each listed service is "up" and enabled in os-services
                                               (with SINCE=EPOCH_SECONDS: and has reported twice after that
                                               moment, i.e. periodically: its start-up row write is not enough)
  cinder_rig.py agent-user NAME                a user with the admin role on project admin; password from stdin
  cinder_rig.py wait-api TIMEOUT               until GET /v3/{project}/types answers 200
  cinder_rig.py create-volume NAME SIZE_GB TIMEOUT   create a volume, wait for "available", print its id
  cinder_rig.py delete-volume ID TIMEOUT       delete a volume and wait until it is gone
  cinder_rig.py volume-status ID
  cinder_rig.py wait-pools TIMEOUT             until the scheduler knows a pool (it has the volume service's stats)
  cinder_rig.py backup VOLUME_ID TIMEOUT       back the volume up, wait for "available", print the backup id
  cinder_rig.py delete-backup ID TIMEOUT

Environment: CINDER_URL (default http://127.0.0.1:8776), AUTH_URL (default http://127.0.0.1:5000/v3).
"""
import os
import sys
import time

import requests

AUTH_URL = os.environ.get('AUTH_URL', 'http://127.0.0.1:5000/v3')
CINDER = os.environ.get('CINDER_URL', 'http://127.0.0.1:8776')
CINDER_PUBLIC = 'http://127.0.0.1:8776/v3/%(project_id)s'

S = requests.Session()
S.trust_env = False  # never a proxy
S.headers['Connection'] = 'close'


def die(msg):
    sys.stderr.write('ERROR: %s\n' % msg)
    sys.exit(1)


def auth():
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': 'admin', 'domain': {'name': 'Default'}, 'password': 'admin'}}},
        'scope': {'project': {'name': 'admin', 'domain': {'name': 'Default'}}}}}
    r = S.post(AUTH_URL + '/auth/tokens', json=body, timeout=30)
    r.raise_for_status()
    return r.headers['X-Subject-Token'], r.json()['token']['project']['id']


class Api:
    def __init__(self):
        self.tok, self.project = auth()

    def req(self, method, url, ok=(200, 201, 202, 204), **kw):
        h = kw.pop('headers', {})
        h['X-Auth-Token'] = self.tok
        r = S.request(method, url, headers=h, timeout=60, **kw)
        if ok and r.status_code not in ok:
            raise RuntimeError('%s %s -> %s %s' % (method, url, r.status_code, r.text[:400]))
        return r

    def cinder(self, method, path, **kw):
        h = kw.pop('headers', {})
        h['OpenStack-API-Version'] = 'volume 3.7'
        return self.req(method, '%s/v3/%s%s' % (CINDER, self.project, path), headers=h, **kw)


def keystone_setup():
    api = Api()
    ks = lambda m, p, **kw: api.req(m, AUTH_URL + p, **kw)
    proj = ks('GET', '/projects?name=service').json()['projects'][0]['id']
    roles = {r['name']: r['id'] for r in ks('GET', '/roles').json()['roles']}
    users = ks('GET', '/users?name=cinder').json()['users']
    uid = users[0]['id'] if users else ks('POST', '/users', json={'user': {
        'name': 'cinder', 'password': 'cinder', 'domain_id': 'default', 'default_project_id': proj}}).json()['user']['id']
    for role in ('admin', 'service'):
        ks('PUT', '/projects/%s/users/%s/roles/%s' % (proj, uid, roles[role]))
    for name, stype in (('cinderv3', 'volumev3'), ('cinder', 'block-storage')):
        svcs = ks('GET', '/services?type=%s' % stype).json()['services']
        sid = svcs[0]['id'] if svcs else \
            ks('POST', '/services', json={'service': {'name': name, 'type': stype}}).json()['service']['id']
        have = {e['interface'] for e in ks('GET', '/endpoints?service_id=%s' % sid).json()['endpoints']}
        for iface in ('public', 'internal', 'admin'):
            if iface not in have:
                ks('POST', '/endpoints', json={'endpoint': {'service_id': sid, 'interface': iface,
                                                            'url': CINDER_PUBLIC, 'region_id': 'RegionOne'}})
    print('keystone: user cinder, services volumev3 and block-storage, endpoints ready')


def list_services(api):
    return api.cinder('GET', '/os-services').json()['services']


def services():
    for s in list_services(Api()):
        print('%s %s %s %s' % (s['binary'], s['host'], s['state'], s['status']))


def reported_after(s, since):
    if not since:
        return True
    import calendar
    u = (s.get('updated_at') or '').split('.')[0]
    if not u:
        return False
    return calendar.timegm(time.strptime(u, '%Y-%m-%dT%H:%M:%S')) >= int(since)


def wait_up(timeout, wanted):
    """With SINCE: the service must have written two different updated_at values at or after SINCE. A starting
    cinder service writes its row once when it starts and reports periodically only after its manager's
    init_host (the volume driver's set-up), so two writes mean a periodic report: the service really runs."""
    deadline = time.time() + timeout
    since = os.environ.get('SINCE')
    seen = {}
    api, last = None, ''
    while True:
        try:
            api = api or Api()
            have = set()
            for s in list_services(api):
                key = '%s@%s' % (s['binary'], s['host'])
                if since and reported_after(s, since):
                    seen.setdefault(key, set()).add(s.get('updated_at'))
                if s['state'] == 'up' and s['status'] == 'enabled' and (not since or len(seen.get(key, ())) >= 2):
                    have.add(key)
            missing = [w for w in wanted if w not in have]
            if not missing:
                print('up: %s' % ' '.join(wanted))
                return
            last = 'not up yet: %s' % ' '.join(missing)
        except Exception as e:  # noqa: BLE001
            last = 'API not ready: %s' % str(e)[:200]
            api = None if 'auth' in str(e).lower() or 'token' in str(e).lower() else api
        if time.time() > deadline:
            die('after %ss: %s' % (timeout, last))
        time.sleep(0.5)


def wait_api(timeout):
    deadline = time.time() + timeout
    last = ''
    while True:
        try:
            Api().cinder('GET', '/types', ok=(200,))
            print('cinder API answers')
            return
        except Exception as e:  # noqa: BLE001
            last = str(e)[:200]
        if time.time() > deadline:
            die('cinder API not answering after %ss: %s' % (timeout, last))
        time.sleep(0.5)


def create_volume(name, size, timeout):
    api = Api()
    v = api.cinder('POST', '/volumes', json={'volume': {'name': name, 'size': int(size)}}).json()['volume']
    deadline = time.time() + timeout
    while True:
        st = api.cinder('GET', '/volumes/%s' % v['id']).json()['volume']
        if st['status'] == 'available':
            print(v['id'])
            return
        if st['status'] == 'error':
            die('volume %s went to error' % v['id'])
        if time.time() > deadline:
            die('volume %s still %s after %ss' % (v['id'], st['status'], timeout))
        time.sleep(0.5)


def delete_and_wait(what, path, timeout):
    """DELETE path, then wait until GET answers 404."""
    api = Api()
    api.cinder('DELETE', path, ok=(202, 404))
    deadline = time.time() + timeout
    while api.cinder('GET', path, ok=(200, 404)).status_code != 404:
        if time.time() > deadline:
            die('%s not deleted after %ss' % (what, timeout))
        time.sleep(0.5)


def delete_volume(vid, timeout):
    delete_and_wait('volume %s' % vid, '/volumes/%s' % vid, timeout)
    print('deleted %s' % vid)


def wait_pools(timeout):
    deadline = time.time() + timeout
    last = ''
    while True:
        try:
            pools = Api().cinder('GET', '/scheduler-stats/get_pools').json()['pools']
            if pools:
                print('pools: %s' % ' '.join(p['name'] for p in pools))
                return
            last = 'no pool yet'
        except Exception as e:  # noqa: BLE001
            last = str(e)[:200]
        if time.time() > deadline:
            die('scheduler has no pool after %ss: %s' % (timeout, last))
        time.sleep(0.5)


def backup(vid, timeout):
    api = Api()
    b = api.cinder('POST', '/backups', json={'backup': {'volume_id': vid, 'name': 'rig-backup'}}).json()['backup']
    deadline = time.time() + timeout
    while True:
        st = api.cinder('GET', '/backups/%s' % b['id']).json()['backup']
        if st['status'] == 'available':
            print(b['id'])
            return
        if st['status'] == 'error':
            die('backup %s went to error: %s' % (b['id'], st.get('fail_reason')))
        if time.time() > deadline:
            die('backup %s still %s after %ss' % (b['id'], st['status'], timeout))
        time.sleep(0.5)


def delete_backup(bid, timeout):
    delete_and_wait('backup %s' % bid, '/backups/%s' % bid, timeout)
    print('deleted backup %s' % bid)


def agent_user(name):
    password = sys.stdin.readline().rstrip('\n')
    if not password:
        die('agent-user: no password on stdin')
    api = Api()
    ks = lambda m, p, **kw: api.req(m, AUTH_URL + p, **kw)
    proj = ks('GET', '/projects?name=admin').json()['projects'][0]['id']
    roles = {r['name']: r['id'] for r in ks('GET', '/roles').json()['roles']}
    users = ks('GET', '/users?name=%s' % name).json()['users']
    if users:
        uid = users[0]['id']
        ks('PATCH', '/users/%s' % uid, json={'user': {'password': password}})
    else:
        uid = ks('POST', '/users', json={'user': {'name': name, 'password': password, 'domain_id': 'default',
                                                  'default_project_id': proj}}).json()['user']['id']
    ks('PUT', '/projects/%s/users/%s/roles/%s' % (proj, uid, roles['admin']))
    print('user %s: admin on project admin' % name)


def main(argv):
    if not argv:
        die(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == 'keystone-setup':
        keystone_setup()
    elif cmd == 'services':
        services()
    elif cmd == 'wait-up':
        wait_up(float(args[0]), args[1:])
    elif cmd == 'wait-api':
        wait_api(float(args[0]))
    elif cmd == 'create-volume':
        create_volume(args[0], args[1], float(args[2]))
    elif cmd == 'delete-volume':
        delete_volume(args[0], float(args[1]))
    elif cmd == 'agent-user':
        agent_user(args[0])
    elif cmd == 'wait-pools':
        wait_pools(float(args[0]))
    elif cmd == 'backup':
        backup(args[0], float(args[1]))
    elif cmd == 'delete-backup':
        delete_backup(args[0], float(args[1]))
    elif cmd == 'volume-status':
        print(Api().cinder('GET', '/volumes/%s' % args[0]).json()['volume']['status'])
    else:
        die('unknown command %s\n%s' % (cmd, __doc__))


if __name__ == '__main__':
    main(sys.argv[1:])
