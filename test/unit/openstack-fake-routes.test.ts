/**
 * The simulator's os-hypervisors search/servers (what `nova host-evacuate` and `nova hypervisor-servers` use), its 501
 * answers for what it does not model, and its fault counters (GET /_fake/state "faults").
 */
import * as http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenStack, type FakeOpenStack, type FakeOptions } from '../fake/openstack-fake';
import { sleep, waitFor } from '../fake/harness';

interface Res { status: number; body: any; text: string; type: string }

async function token(fake: FakeOpenStack): Promise<string> {
  const auth = await fetch(`${fake.url}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: fake.state.admin.password } } },
      scope: { project: { name: 'admin', domain: { name: 'Default' } } } } }),
  });
  expect(auth.status).toBe(201);
  return auth.headers.get('x-subject-token')!;
}

async function call(fake: FakeOpenStack, tok: string, method: string, path: string, o: { mv?: string; body?: unknown } = {}): Promise<Res> {
  const r = await fetch(`${fake.baseUrl}${path}`, {
    method,
    headers: { 'X-Auth-Token': tok, 'Content-Type': 'application/json', ...(o.mv ? { 'OpenStack-API-Version': `compute ${o.mv}` } : {}) },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  const text = await r.text();
  const type = r.headers.get('content-type') ?? '';
  return { status: r.status, text, type, body: type.includes('json') && text ? JSON.parse(text) : text };
}

async function fakeState(fake: FakeOpenStack): Promise<any> {
  return (await fetch(`${fake.baseUrl}/_fake/state`)).json();
}

describe('simulator routes', () => {
  let fake: FakeOpenStack | undefined;
  afterEach(async () => { await fake?.close(); fake = undefined; });
  const start = async (o: FakeOptions = {}) => {
    fake = await startFakeOpenStack(o);
    const tok = await token(fake);
    return { fake, nova: (method: string, path: string, o2: { mv?: string; body?: unknown } = {}) => call(fake!, tok, method, `/compute/v2.1${path}`, { mv: '2.53', ...o2 }), tok };
  };

  it('GET /os-hypervisors?hypervisor_hostname_pattern=H&with_servers=true lists the servers of each match (2.53+)', async () => {
    const { fake: f, nova } = await start({ hosts: 3 });
    const on2 = f.state.addServers('compute2', 2, { name: 'a' });
    f.state.addServers('compute3', 1, { tenantId: 'other-project' });
    const r = await nova('GET', '/os-hypervisors?hypervisor_hostname_pattern=compute2&with_servers=true');
    expect(r.status).toBe(200);
    expect(r.body.hypervisors).toHaveLength(1);
    expect(r.body.hypervisors[0].hypervisor_hostname).toBe('compute2');
    // oldest first, {name, uuid} only
    expect(r.body.hypervisors[0].servers).toEqual(on2.map((s) => ({ name: s.name, uuid: s.id })));
    // a hypervisor without servers: no "servers" before 2.75, an empty list from 2.75
    const none = await nova('GET', '/os-hypervisors?hypervisor_hostname_pattern=compute1&with_servers=true');
    expect(none.body.hypervisors[0]).not.toHaveProperty('servers');
    const none75 = await nova('GET', '/os-hypervisors?hypervisor_hostname_pattern=compute1&with_servers=true', { mv: '2.75' });
    expect(none75.body.hypervisors[0].servers).toEqual([]);
    // a substring (SQL LIKE '%P%'), servers of every project; with_servers false: none listed
    const all = await nova('GET', '/os-hypervisors/detail?hypervisor_hostname_pattern=COMPUTE&with_servers=1');
    expect(all.body.hypervisors.map((h: any) => h.hypervisor_hostname)).toEqual(['compute1', 'compute2', 'compute3']);
    expect(all.body.hypervisors[2].servers).toHaveLength(1);
    expect(all.body.hypervisors[2]).toHaveProperty('hypervisor_type');
    const off = await nova('GET', '/os-hypervisors?hypervisor_hostname_pattern=compute2&with_servers=false');
    expect(off.body.hypervisors[0]).not.toHaveProperty('servers');
    // Nova's errors
    const miss = await nova('GET', '/os-hypervisors?hypervisor_hostname_pattern=nope');
    expect([miss.status, miss.body.itemNotFound?.message]).toEqual([404, "No hypervisor matching 'nope' could be found."]);
    expect((await nova('GET', '/os-hypervisors?hypervisor_hostname_pattern=compute2&limit=1')).status).toBe(400);
    expect((await nova('GET', '/os-hypervisors?with_servers=maybe')).status).toBe(400);
    expect((await nova('GET', '/os-hypervisors?sort_key=id')).status).toBe(400);
    // 2.33-2.52 strip the 2.53 query parameters: every hypervisor, no servers
    const old = await nova('GET', '/os-hypervisors?hypervisor_hostname_pattern=compute2&with_servers=true', { mv: '2.52' });
    expect(old.body.hypervisors).toHaveLength(3);
    expect(old.body.hypervisors.some((h: any) => 'servers' in h)).toBe(false);
  });

  it('GET /os-hypervisors/{pattern}/servers and /search before 2.53; 404 from 2.53', async () => {
    const { fake: f, nova } = await start({ hosts: 3 });
    const on2 = f.state.addServers('compute2', 3);
    const r = await nova('GET', '/os-hypervisors/compute2/servers', { mv: '2.52' });
    expect(r.status).toBe(200);
    expect(r.body.hypervisors).toEqual([{ id: f.state.service('compute2')!.hypervisorLegacyId, hypervisor_hostname: 'compute2', state: 'up',
      status: 'enabled', servers: on2.map((s) => ({ name: s.name, uuid: s.id })) }]);
    const empty = await nova('GET', '/os-hypervisors/compute1/servers', { mv: '2.1' });
    expect(empty.body.hypervisors[0]).not.toHaveProperty('servers');
    const search = await nova('GET', '/os-hypervisors/comp/search', { mv: '2.1' });
    expect(search.body.hypervisors.map((h: any) => h.hypervisor_hostname)).toEqual(['compute1', 'compute2', 'compute3']);
    expect(search.body.hypervisors.some((h: any) => 'servers' in h)).toBe(false);
    expect((await nova('GET', '/os-hypervisors/nope/servers', { mv: '2.52' })).status).toBe(404);
    for (const route of ['servers', 'search']) {
      const gone = await nova('GET', `/os-hypervisors/compute2/${route}`, { mv: '2.53' });
      expect([gone.status, gone.body.itemNotFound?.message]).toEqual([404, 'The resource could not be found.']);
    }
  });

  it('os-stop / os-start: 202 without a body, task states, Nova\'s 409s, done only once nova-compute is up', async () => {
    const { fake: f, nova } = await start({ powerDelayMs: 200 });
    const [s] = f.state.addServers('compute1', 1);
    const action = (a: string) => nova('POST', `/servers/${s.id}/action`, { mv: '2.1', body: { [a]: null } });
    const status = async () => (await nova('GET', `/servers/${s.id}`, { mv: '2.1' })).body.server;
    let r = await action('os-stop');
    expect([r.status, r.text]).toEqual([202, '']);
    expect((await status())['OS-EXT-STS:task_state']).toBe('powering-off');
    r = await action('os-stop');
    expect([r.status, r.body.conflictingRequest?.message]).toEqual([409, `Cannot 'stop' instance ${s.id} while it is in task_state powering-off`]);
    await waitFor(() => f.state.serverStatus(s) === 'SHUTOFF' && s.taskState === null);
    expect((await status()).status).toBe('SHUTOFF');
    r = await action('os-stop');
    expect([r.status, r.body.conflictingRequest?.message]).toEqual([409, `Cannot 'stop' instance ${s.id} while it is in vm_state stopped`]);
    // the host's nova-compute down: accepted, done once it is back
    f.state.killService('compute1');
    expect((await action('os-start')).status).toBe(202);
    await sleep(100);
    expect([f.state.serverStatus(s), s.taskState]).toEqual(['SHUTOFF', 'powering-on']);
    f.state.reviveService('compute1');
    await waitFor(() => f.state.serverStatus(s) === 'ACTIVE' && s.taskState === null);
    r = await action('os-start');
    expect([r.status, r.body.conflictingRequest?.message]).toEqual([409, `Cannot 'start' instance ${s.id} while it is in vm_state active`]);
    // an injected failure: accepted, the task state reverted, the server as it was
    f.state.failPowerActions(1, { action: 'stop' });
    expect((await action('os-stop')).status).toBe(202);
    await waitFor(() => s.taskState === null);
    expect(f.state.serverStatus(s)).toBe('ACTIVE');
    expect((await fakeState(f)).faults.powerActionFailures).toBe(1);
  });

  it('answers 501 naming what it does not model: routes, query parameters, server actions', async () => {
    const { fake: f, nova, tok } = await start();
    const [s] = f.state.addServers('compute1', 1);
    const cases: [Res, RegExp][] = [
      [await nova('GET', '/os-hosts'), /does not model GET \/compute\/v2\.1\/os-hosts"/],
      [await nova('GET', '/os-hypervisors/statistics'), /GET \/compute\/v2\.1\/os-hypervisors\/statistics/],
      [await nova('POST', '/servers', { body: { server: {} } }), /POST \/compute\/v2\.1\/servers"/],
      [await nova('GET', '/servers/detail?all_tenants=1&image=x&sort_key=name'), /query parameters image, sort_key of GET \/compute\/v2\.1\/servers\/detail/],
      [await nova('GET', '/os-services?zone=nova'), /query parameter zone of GET/],
      [await nova('POST', `/servers/${s.id}/action`, { body: { reboot: { type: 'HARD' } } }), /server action reboot/],
      [await call(f, tok, 'GET', '/identity/v3/projects'), /GET \/identity\/v3\/projects/],
      [await call(f, tok, 'GET', '/image/v2/images?name=cirros'), /query parameter name of GET \/image\/v2\/images/],
      [await call(f, tok, 'GET', '/image/v2/schemas/image'), /GET \/image\/v2\/schemas\/image/],
      [await call(f, tok, 'GET', '/volume/v3/volumes'), /GET \/volume\/v3\/volumes/],
      [await call(f, tok, 'GET', '/network/v2.0/networks'), /GET \/network\/v2\.0\/networks/],
    ];
    for (const [r, re] of cases) {
      expect(r.status, r.text).toBe(501);
      expect(r.text).toMatch(re);
      expect(r.text).toMatch(/The OpenStack simulator \(test\/fake\) does not model/);
    }
    // Nova's fault format for compute
    expect(cases[0][0].body).toEqual({ notImplemented: { code: 501, message: expect.stringMatching(/os-hosts/) } });
    const st = await fakeState(f);
    expect(st.faults.notModelled).toBe(cases.length);
    expect(st.notModelled).toHaveLength(cases.length);
    // what it models still answers
    expect((await nova('GET', '/servers/detail?all_tenants=1&host=compute1&limit=5')).status).toBe(200);
    expect((await nova('GET', '/os-migrations?migration_type=evacuation&source_compute=compute1', { mv: '2.59' })).status).toBe(200);
    expect((await call(f, tok, 'GET', '/image/v2/images?limit=2')).status).toBe(200);
    expect((await fakeState(f)).faults.notModelled).toBe(cases.length);
  });

  it('counts the faults it served in /_fake/state', async () => {
    const { fake: f, tok } = await start();
    const post = (what: string, body: unknown) => fetch(`${f.baseUrl}/_fake/${what}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    await post('hang', { count: 1, path: 'os-services' });
    await post('reset', { count: 2, path: 'os-services' });
    await post('fail', { count: 1, status: 503, path: 'os-services' });
    const get = () => new Promise<string | number>((resolve) => {
      const req = http.get(`${f.baseUrl}/compute/v2.1/os-services`, { headers: { 'X-Auth-Token': tok }, agent: false, timeout: 300 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('timeout', () => { req.destroy(); resolve('timeout'); });
      req.on('error', () => resolve('reset'));
    });
    // rules apply in the order they were given: hang, then the resets, then the 503
    expect(await get()).toBe('timeout');
    expect(await get()).toBe('reset');
    expect(await get()).toBe('reset');
    expect(await get()).toBe(503);
    expect(await get()).toBe(200);
    await post('keystone', { down: true });
    await expect(token(f)).rejects.toThrow();
    const st = await fakeState(f);
    expect(st.faults).toEqual({ hangs: 1, resets: 2, injectedFailures: 1, keystoneDrops: 1, evacuationFailures: 0, powerActionFailures: 0, notModelled: 0 });
  });
});
