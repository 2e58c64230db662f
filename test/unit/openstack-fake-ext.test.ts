/**
 * The simulator's aggregates, failing evacuations, targeted evacuations, network faults, os-migrations filters and
 * paging, control services, and its speed at scale (2000 hosts, 20000 servers: timings are logged, not asserted).
 */
import * as http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenStack, type FakeOpenStack, type FakeOptions } from '../fake/openstack-fake';
import { fakeCloud, sleep, waitFor, type FakeCloud } from '../fake/harness';

interface Api {
  (method: string, path: string, o?: { mv?: string; body?: unknown }): Promise<{ status: number; body: any }>;
  token: string;
}

/** A token and a small caller of the compute API. */
async function api(fake: FakeOpenStack): Promise<Api> {
  const auth = await fetch(`${fake.url}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: fake.state.admin.password } } },
      scope: { project: { name: 'admin', domain: { name: 'Default' } } } } }),
  });
  const token = auth.headers.get('x-subject-token')!;
  const call = (async (method, path, o = {}) => {
    const r = await fetch(`${fake.baseUrl}/compute/v2.1${path}`, {
      method,
      headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json', 'OpenStack-API-Version': `compute ${o.mv ?? '2.53'}` },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : '' };
  }) as Api;
  call.token = token;
  return call;
}

/** GET with a socket-level timeout: resolves 'timeout', 'reset' or the status. */
function rawGet(url: string, token: string, timeoutMs: number): Promise<number | 'timeout' | 'reset'> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { 'X-Auth-Token': token }, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('timeout', () => { req.destroy(); resolve('timeout'); });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNRESET' || e.message === 'socket hang up' ? 'reset' : 'reset'));
  });
}

describe('simulator extensions', () => {
  let fake: FakeOpenStack | undefined;
  let fc: FakeCloud | undefined;
  afterEach(async () => {
    await fc?.close();
    await fake?.close();
    fc = undefined;
    fake = undefined;
  });
  const start = async (o: FakeOptions = {}) => { fake = await startFakeOpenStack(o); return fake; };

  it('serves os-aggregates like Nova (uuid from 2.41, create/add_host/set_metadata/remove_host/delete)', async () => {
    const f = await start({ hosts: 3 });
    f.state.addAggregate('evacuable-hosts', ['compute2', 'compute3'], { evacuable: 'true' });
    const nova = await api(f);
    const list = await nova('GET', '/os-aggregates', { mv: '2.41' });
    expect(list.status).toBe(200);
    expect(Object.keys(list.body.aggregates[0]).sort()).toEqual(
      ['availability_zone', 'created_at', 'deleted', 'deleted_at', 'hosts', 'id', 'metadata', 'name', 'updated_at', 'uuid']);
    expect(list.body.aggregates[0]).toMatchObject({ id: 1, name: 'evacuable-hosts', hosts: ['compute2', 'compute3'], metadata: { evacuable: 'true' },
      availability_zone: null, deleted: false, deleted_at: null, updated_at: null });
    expect(list.body.aggregates[0].created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect((await nova('GET', '/os-aggregates', { mv: '2.40' })).body.aggregates[0]).not.toHaveProperty('uuid');
    expect((await nova('GET', '/os-aggregates/1', { mv: '2.41' })).body.aggregate.uuid).toBe(f.state.aggregates[0].uuid);
    expect((await nova('GET', '/os-aggregates/9')).status).toBe(404);

    const created = await nova('POST', '/os-aggregates', { mv: '2.41', body: { aggregate: { name: 'az1-hosts', availability_zone: 'az1' } } });
    expect(created.status).toBe(200);
    expect(created.body.aggregate).not.toHaveProperty('hosts');
    expect(created.body.aggregate).toMatchObject({ id: 2, name: 'az1-hosts', availability_zone: 'az1' });
    expect((await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'az1-hosts' } } })).status).toBe(409);
    const add = await nova('POST', '/os-aggregates/2/action', { body: { add_host: { host: 'compute1' } } });
    expect(add.body.aggregate).toMatchObject({ hosts: ['compute1'], metadata: { availability_zone: 'az1' } });
    expect((await nova('POST', '/os-aggregates/2/action', { body: { add_host: { host: 'compute1' } } })).status).toBe(409);
    expect((await nova('POST', '/os-aggregates/2/action', { body: { add_host: { host: 'nope' } } })).status).toBe(404);
    const md = await nova('POST', '/os-aggregates/2/action', { body: { set_metadata: { metadata: { evacuable: 'true', availability_zone: null } } } });
    expect(md.body.aggregate).toMatchObject({ metadata: { evacuable: 'true' }, availability_zone: null });
    expect(md.body.aggregate.updated_at).not.toBeNull();
    expect((await nova('DELETE', '/os-aggregates/2')).status).toBe(400);
    expect((await nova('POST', '/os-aggregates/2/action', { body: { remove_host: { host: 'compute1' } } })).body.aggregate.hosts).toEqual([]);
    expect((await nova('DELETE', '/os-aggregates/2')).status).toBe(200);
    expect(f.state.aggregates.map((a) => a.name)).toEqual(['evacuable-hosts']);
    // the lead's client
    fc = await fakeCloud({});
    fc.fake.state.addAggregate('evac', ['compute1'], { evacuable: 'true' });
    expect(await fc.cloud.nova().listAggregates()).toEqual([{ id: 1, name: 'evac', availabilityZone: null, hosts: ['compute1'], metadata: { evacuable: 'true' } }]);
  });

  it('fails evacuations on demand: "error" on the destination, "novalidhost" on the source; ERROR ones evacuate again', async () => {
    // 400 ms per step: a loaded machine still sends the three requests before the first one moves on
    const f = await start({ hosts: 3, evacuateDelayMs: 400 });
    const st = f.state;
    const [a, b, c] = st.addServers('compute1', 3);
    st.service('compute1')!.forcedDown = true;
    st.failEvacuations(1, { serverIds: [a.id], kind: 'error' });
    st.failEvacuations(1, { hostLike: '^compute1$', kind: 'novalidhost' });
    const nova = await api(f);
    for (const s of [a, b, c]) expect((await nova('POST', `/servers/${s.id}/action`, { body: { evacuate: {} } })).status).toBe(200);
    const statusOf = (id: string) => st.migrations.find((m) => m.instanceUuid === id)!.status;
    expect([a, b, c].map((s) => statusOf(s.id))).toEqual(['accepted', 'accepted', 'accepted']);
    await waitFor(() => statusOf(a.id) === 'pre-migrating', 5000);
    expect(st.migrations.find((m) => m.instanceUuid === a.id)!.dest).toMatch(/^compute[23]$/);
    await waitFor(() => [a, b, c].every((s) => s.taskState === null), 10000);
    // a: rebuild failed on the destination
    expect(statusOf(a.id)).toBe('failed');
    const ga = (await nova('GET', `/servers/${a.id}`, { mv: '2.53' })).body.server;
    expect(ga).toMatchObject({ status: 'ERROR', 'OS-EXT-STS:vm_state': 'error', 'OS-EXT-STS:task_state': null });
    expect(ga['OS-EXT-SRV-ATTR:host']).toMatch(/^compute[23]$/);
    // b: no valid host, stays on compute1 in ERROR (Zed's conductor)
    expect(statusOf(b.id)).toBe('error');
    expect(st.migrations.find((m) => m.instanceUuid === b.id)!.dest).toBeNull();
    expect((await nova('GET', `/servers/${b.id}`)).body.server).toMatchObject({ status: 'ERROR', 'OS-EXT-SRV-ATTR:host': 'compute1' });
    // c: fine
    expect(statusOf(c.id)).toBe('done');
    expect(c).toMatchObject({ vmState: 'active' });
    // b (ERROR, its host down) can be evacuated again; a (ERROR on an up host) gets Nova's 400
    expect((await nova('POST', `/servers/${b.id}/action`, { body: { evacuate: {} } })).status).toBe(200);
    expect((await nova('POST', `/servers/${a.id}/action`, { body: { evacuate: {} } })).body.badRequest.message).toMatch(/still in use/);
    await waitFor(() => b.taskState === null, 10000);
    expect(b).toMatchObject({ vmState: 'active', fault: undefined });
    expect(b.host).not.toBe('compute1');
    expect(st.evacFailRules).toEqual([]);
    expect(() => st.failEvacuations(1, { kind: 'bogus' as 'error' })).toThrow(/unknown/);
  });

  it('evacuates to a requested host (>= 2.29): 404 unknown, 400 source, NoValidHost when it is disabled unless forced', async () => {
    const f = await start({ hosts: 3, evacuateDelayMs: 20 });
    const st = f.state;
    const [a, b, c] = st.addServers('compute1', 3);
    st.service('compute1')!.forcedDown = true;
    st.service('compute3')!.status = 'disabled';
    const nova = await api(f);
    const ev = (id: string, body: object, mv = '2.29') => nova('POST', `/servers/${id}/action`, { mv, body: { evacuate: body } });
    expect((await ev(a.id, { host: 'compute9' })).status).toBe(404);
    expect((await ev(a.id, { host: 'compute1' })).status).toBe(400);
    expect((await ev(a.id, { host: 'compute2' })).status).toBe(200);
    expect((await ev(b.id, { host: 'compute3' })).status).toBe(200);
    expect((await ev(c.id, { host: 'compute3', force: true })).status).toBe(200);
    await waitFor(() => [a, b, c].every((s) => s.taskState === null));
    expect([a.host, a.vmState]).toEqual(['compute2', 'active']);
    expect([b.host, b.vmState]).toEqual(['compute1', 'error']);
    expect([c.host, c.vmState]).toEqual(['compute3', 'active']);
    expect(st.migrations.map((m) => m.status)).toEqual(['done', 'error', 'done']);
    // the scheduler never picks a down or disabled host
    const [d] = st.addServers('compute1', 1);
    st.service('compute2')!.forcedDown = true;
    expect((await ev(d.id, {}, '2.53')).status).toBe(200);
    await waitFor(() => d.taskState === null);
    expect([d.host, d.vmState]).toEqual(['compute1', 'error']);
  });

  it('hangs and resets connections, expires tokens', async () => {
    const f = await start({});
    const nova = await api(f);
    const url = `${f.baseUrl}/compute/v2.1/os-services`;
    f.state.hangNext(1, 'os-services');
    f.state.resetNext(1, /os-services/);
    const t0 = Date.now();
    expect(await rawGet(url, nova.token, 300)).toBe('timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(await rawGet(url, nova.token, 2000)).toBe('reset');
    expect(await rawGet(url, nova.token, 2000)).toBe(200);
    expect(f.state.requestsTo('GET', /os-services$/).map((r) => r.status)).toEqual([0, 0, 200]);
    // a request hanging while the server stops is closed, not left open
    f.state.hangNext(1);
    const pending = rawGet(url, nova.token, 10000);
    await waitFor(() => f.state.hung.size === 1);
    await f.close();
    fake = undefined;
    expect(await pending).toBe('reset');

    const g = await start({});
    const n2 = await api(g);
    expect((await n2('GET', '/os-services')).status).toBe(200);
    g.state.expireTokens();
    expect((await n2('GET', '/os-services')).status).toBe(401);
    expect((await (await api(g))('GET', '/os-services')).status).toBe(200);
    // over /_fake as well
    const post = (what: string, body: object) => fetch(`${g.baseUrl}/_fake/${what}`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post('reset', { count: 1, path: 'os-services' })).status).toBe(200);
    expect((await post('hang', { count: 2 })).status).toBe(200);
    expect((await post('expire-tokens', {})).status).toBe(200);
    expect(g.state.netRules.map((r) => [r.kind, r.remaining])).toEqual([['reset', 1], ['hang', 2]]);
  });

  it('filters and pages os-migrations like Nova', async () => {
    const f = await start({ hosts: 4, evacuateDelayMs: 2 });
    const st = f.state;
    const servers = [...st.addServers('compute1', 5), ...st.addServers('compute2', 2)];
    st.service('compute1')!.forcedDown = true;
    st.service('compute2')!.forcedDown = true;
    st.failEvacuations(1, { serverIds: [servers[0].id], kind: 'novalidhost' });
    const nova = await api(f);
    for (const s of servers) await nova('POST', `/servers/${s.id}/action`, { body: { evacuate: {} } });
    await waitFor(() => servers.every((s) => s.taskState === null));
    st.migrations[6].hidden = true;
    const q = async (query: string, mv = '2.59') => nova('GET', `/os-migrations?${query}`, { mv });
    const all = (await q('migration_type=evacuation')).body.migrations;
    expect(all).toHaveLength(6); // one hidden
    expect(all.map((m: any) => m.id)).toEqual([6, 5, 4, 3, 2, 1]);
    expect((await q('hidden=1')).body.migrations.map((m: any) => m.id)).toEqual([7]);
    expect((await q(`instance_uuid=${servers[3].id}`)).body.migrations.map((m: any) => m.instance_uuid)).toEqual([servers[3].id]);
    expect((await q('status=error')).body.migrations.map((m: any) => m.instance_uuid)).toEqual([servers[0].id]);
    expect((await q('source_compute=compute2')).body.migrations.map((m: any) => m.id)).toEqual([6]);
    expect((await q('migration_type=live-migration')).body.migrations).toEqual([]);
    const future = new Date(Date.now() + 60000).toISOString();
    expect((await q(`changes-since=${future}`)).body.migrations).toEqual([]);
    expect((await q('changes-since=2000-01-01T00:00:00')).body.migrations).toHaveLength(6);
    expect((await q('changes-since=garbage')).status).toBe(400);
    // before 2.59 changes-since is not a filter and there is no paging
    expect((await q(`changes-since=${future}&limit=2`, '2.23')).body.migrations).toHaveLength(6);
    // paging
    const p1 = (await q('limit=4')).body;
    expect(p1.migrations.map((m: any) => m.id)).toEqual([6, 5, 4, 3]);
    expect(p1.migrations_links[0].href).toContain(`marker=${p1.migrations[3].uuid}`);
    const p2 = (await q(`limit=4&marker=${p1.migrations[3].uuid}`)).body;
    expect(p2.migrations.map((m: any) => m.id)).toEqual([2, 1]);
    expect(p2).not.toHaveProperty('migrations_links');
    // a marker filtered out still places the page (Nova looks the marker up, then continues after it)
    expect((await q(`source_compute=compute1&marker=${st.migrations[5].uuid}`)).body.migrations.map((m: any) => m.id)).toEqual([5, 4, 3, 2, 1]);
    const bad = await q('marker=00000000-0000-0000-0000-000000000000');
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toBe('Marker 00000000-0000-0000-0000-000000000000 could not be found.');
    // the lead's client
    fc = await fakeCloud({ hosts: 2, evacuateDelayMs: 2 });
    const [s] = fc.fake.state.addServers('compute1', 1);
    fc.fake.state.killService('compute1');
    await fc.cloud.nova().evacuate(s.id);
    await waitFor(() => s.taskState === null);
    expect((await fc.cloud.nova().listEvacuations('compute1')).map((m) => [m.instanceUuid, m.status, m.destCompute])).toEqual([[s.id, 'done', 'compute2']]);
  });

  it('lists nova-scheduler and nova-conductor when asked; evacuations wait for the conductor and stick without a scheduler', async () => {
    const f = await start({ hosts: 2, controlServices: true, evacuateDelayMs: 10 });
    const st = f.state;
    const nova = await api(f);
    const services = (await nova('GET', '/os-services', { mv: '2.53' })).body.services;
    expect(services.map((s: any) => `${s.binary}@${s.host}/${s.zone}`)).toEqual(
      ['nova-scheduler@controller/internal', 'nova-conductor@controller/internal', 'nova-compute@compute1/nova', 'nova-compute@compute2/nova']);
    expect((await nova('GET', '/os-hypervisors/detail', { mv: '2.53' })).body.hypervisors).toHaveLength(2);
    const [a, b] = st.addServers('compute1', 2);
    st.killService('compute1');
    st.killService('controller', 'nova-conductor');
    expect(st.serviceOf('controller', 'nova-conductor')!.killedAt).toBeDefined();
    await nova('POST', `/servers/${a.id}/action`, { body: { evacuate: {} } });
    await sleep(80);
    expect(a.taskState).toBe('rebuilding');
    st.reviveService('controller', 'nova-conductor');
    await waitFor(() => a.taskState === null);
    expect(a.host).toBe('compute2');
    st.stopService('controller', 'nova-scheduler');
    await nova('POST', `/servers/${b.id}/action`, { body: { evacuate: {} } });
    await sleep(80);
    expect([b.taskState, st.migrations[1].status]).toEqual(['rebuilding', 'accepted']);
    const res = await fetch(`${f.baseUrl}/_fake/kill`, { method: 'POST', body: JSON.stringify({ host: 'controller', binary: 'nova-conductor' }) });
    expect(res.status).toBe(200);
    expect(st.controlPlaneState()).toEqual({ scheduler: false, conductor: false });
  });

  it('keeps a paging client right while servers leave the host between pages', async () => {
    const f = await start({ hosts: 3, pageSize: 3, evacuateDelayMs: 1 });
    const st = f.state;
    const servers = st.addServers('compute1', 7);
    const nova = await api(f);
    const p1 = (await nova('GET', '/servers/detail?all_tenants=1&host=compute1')).body;
    expect(p1.servers.map((s: any) => s.name)).toEqual(['vm-7', 'vm-6', 'vm-5']);
    // the marker's server moves away
    st.server(p1.servers[2].id)!.host = 'compute2';
    const p2 = (await nova('GET', `/servers/detail?all_tenants=1&host=compute1&marker=${p1.servers[2].id}`)).body;
    expect(p2.servers.map((s: any) => s.name)).toEqual(['vm-4', 'vm-3', 'vm-2']);
    expect(st.serversOn('compute1').map((s) => s.name)).toEqual(['vm-7', 'vm-6', 'vm-4', 'vm-3', 'vm-2', 'vm-1']);
    expect(st.serversOn('compute2').map((s) => s.id)).toEqual([servers[4].id]);
    // direct pushes and deletions keep the index right
    st.deleteServer(servers[0].id);
    expect(st.countOn('compute1')).toBe(5);
    const [extra] = st.addServers('compute3', 1);
    st.servers.splice(st.servers.indexOf(extra), 1);
    expect(st.countOn('compute3')).toBe(0);
    expect((await nova('GET', '/servers/detail?all_tenants=1&name=^vm-[23]$')).body.servers.map((s: any) => s.name)).toEqual(['vm-3', 'vm-2']);
  });

  it('stays fast with 2000 hosts and 20000 servers (timings logged)', async () => {
    const t0 = performance.now();
    fc = await fakeCloud({ hosts: 2000, evacuateDelayMs: 20 });
    const st = fc.fake.state;
    for (let i = 1; i <= 2000; i++) st.addServers(`compute${i}`, 10);
    const tBuild = performance.now() - t0;
    expect(st.servers).toHaveLength(20000);
    const nova = fc.cloud.nova();
    let t = performance.now();
    const onHost = await nova.listServersOnHost('compute1234');
    const tList = performance.now() - t;
    expect(onHost).toHaveLength(10);
    expect(onHost.every((s) => s.host === 'compute1234')).toBe(true);
    t = performance.now();
    for (let i = 0; i < 200; i++) st.serversOn(`compute${1 + (i % 2000)}`);
    const tIndex = (performance.now() - t) / 200;
    t = performance.now();
    const services = await nova.listServices({ binary: 'nova-compute' });
    const tServices = performance.now() - t;
    expect(services).toHaveLength(2000);
    t = performance.now();
    const hypervisors = await nova.listHypervisors();
    const tHyp = performance.now() - t;
    expect(hypervisors).toHaveLength(2000);
    // evacuate a host of 10, then a host with 500 more servers
    st.addServers('compute7', 490);
    st.killService('compute7');
    const victims = await nova.listServersOnHost('compute7');
    expect(victims).toHaveLength(500);
    t = performance.now();
    await Promise.all(victims.map((v) => nova.evacuate(v.id)));
    const tEvacCalls = performance.now() - t;
    await waitFor(() => st.countOn('compute7') === 0, 30000);
    const tEvac = performance.now() - t;
    expect(st.migrations.filter((m) => m.status === 'done')).toHaveLength(500);
    expect(new Set(victims.map((v) => st.server(v.id)!.host)).size).toBeGreaterThan(100);
    t = performance.now();
    const evs = await nova.listEvacuations('compute7');
    const tMig = performance.now() - t;
    expect(evs).toHaveLength(500);
    // eslint-disable-next-line no-console
    console.log(`[scale] build 2000 hosts + 20000 servers: ${tBuild.toFixed(0)} ms; list one host via API: ${tList.toFixed(1)} ms; ` +
      `index lookup: ${tIndex.toFixed(3)} ms; os-services: ${tServices.toFixed(0)} ms; hypervisors/detail: ${tHyp.toFixed(0)} ms; ` +
      `500 evacuate calls: ${tEvacCalls.toFixed(0)} ms, all done after ${tEvac.toFixed(0)} ms; os-migrations (500): ${tMig.toFixed(0)} ms`);
  }, 120000);
});
