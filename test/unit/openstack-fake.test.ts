/** The fake's own behaviour (what other tests rely on), its control API and its command-line wrapper. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenStackError } from '../../lib/openstack/types';
import { fakeCloud, rmDir, sleep, tmpDir, waitFor, type FakeCloud } from '../fake/harness';

const ROOT = path.join(__dirname, '../..');

describe('fake OpenStack', () => {
  let fc: FakeCloud | undefined;
  afterEach(async () => { await fc?.close(); fc = undefined; });

  it('evacuates like Nova: refused while the source is up, then rebuilt on another host', async () => {
    // serviceDownMs long enough that a loaded machine still sees the service up right after the kill, and
    // evacuateDelayMs that it still sees the first instance rebuilding after the second request
    fc = await fakeCloud({ serviceDownMs: 1500, evacuateDelayMs: 600 });
    const st = fc.fake.state;
    const nova = fc.cloud.nova();
    await nova.listServices(); // authenticated and negotiated before the clock starts
    const [active, stopped] = [...st.addServers('compute2', 1), ...st.addServers('compute2', 1, { status: 'SHUTOFF' })];
    st.killService('compute2');
    // nova-compute is only reported down after serviceDownMs
    expect((await nova.listServices({ host: 'compute2' }))[0].state).toBe('up');
    const early = await nova.evacuate(active.id).catch((e) => e);
    expect(early).toBeInstanceOf(OpenStackError);
    expect(early.status).toBe(400);
    expect(early.message).toContain('Compute service of compute2 is still in use.');
    let state = 'up';
    const polls = async () => { state = (await nova.listServices({ host: 'compute2' }))[0].state; };
    const deadline = Date.now() + 5000;
    while (state !== 'down' && Date.now() < deadline) { await sleep(50); await polls(); }
    expect(state).toBe('down');

    await nova.evacuate(active.id);
    await nova.evacuate(stopped.id);
    expect((await nova.getServer(active.id))).toMatchObject({ status: 'REBUILD', taskState: 'rebuilding', host: 'compute2' });
    const again = await nova.evacuate(active.id).catch((e) => e);
    expect(again.status).toBe(409);
    expect(again.message).toContain('task_state rebuilding');

    await waitFor(() => active.taskState === null && stopped.taskState === null, 10000);
    const moved = await nova.getServer(active.id);
    expect(moved.status).toBe('ACTIVE');
    expect(['compute1', 'compute3']).toContain(moved.host);
    expect((await nova.getServer(stopped.id))).toMatchObject({ status: 'SHUTOFF', vmState: 'stopped' });
    expect(st.migrations.map((m) => [m.instanceUuid, m.type, m.status, m.source])).toEqual([
      [active.id, 'evacuation', 'done', 'compute2'],
      [stopped.id, 'evacuation', 'done', 'compute2'],
    ]);
    expect(await nova.listServersOnHost('compute2')).toEqual([]);
  });

  it('puts a server in ERROR when no host can take it', async () => {
    fc = await fakeCloud({ hosts: 2, evacuateDelayMs: 1 });
    const st = fc.fake.state;
    const [s] = st.addServers('compute1', 1);
    st.service('compute1')!.forcedDown = true;
    await fc.cloud.nova().disableService('compute2', 'maintenance');
    await fc.cloud.nova().evacuate(s.id);
    await waitFor(() => s.taskState === null);
    expect(await fc.cloud.nova().getServer(s.id)).toMatchObject({ status: 'ERROR', host: 'compute1' });
    expect(st.migrations[0].status).toBe('error');
  });

  it('answers 406 above its maximum microversion and honours "latest"', async () => {
    fc = await fakeCloud({ maxMicroversion: '2.60' });
    const token = await fc.cloud.endpoint('compute').then(() => [...fc!.fake.state.tokens.keys()][0]);
    const get = (mv: string) => fetch(`${fc!.fake.baseUrl}/compute/v2.1/os-services`, {
      headers: { 'X-Auth-Token': token, 'OpenStack-API-Version': `compute ${mv}` },
    });
    const tooHigh = await get('2.61');
    expect(tooHigh.status).toBe(406);
    expect(await tooHigh.json()).toEqual({ computeFault: { code: 406, message: 'Version 2.61 is not supported by the API. Minimum is 2.1 and maximum is 2.60.' } });
    const latest = await get('latest');
    expect(latest.headers.get('openstack-api-version')).toBe('compute 2.60');
    const none = await fetch(`${fc.fake.baseUrl}/compute/v2.1/os-services`, { headers: { 'X-Auth-Token': token } });
    expect(none.headers.get('x-openstack-nova-api-version')).toBe('2.1');
    expect((await none.json()).services[0]).not.toHaveProperty('forced_down');
  });

  it('refuses expired and unknown tokens with 401', async () => {
    fc = await fakeCloud({ tokenTtlSec: 0 }, { attempts: 1 });
    const err = await fc.cloud.nova().listServices().catch((e) => e);
    expect(err.status).toBe(401);
    const res = await fetch(`${fc.fake.baseUrl}/compute/v2.1/os-services`, { headers: { 'X-Auth-Token': 'made-up' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } });
  });

  it('is driven from another process through its command-line wrapper and /_fake', async () => {
    const dir = tmpDir('oha-serve-');
    try {
      const esbuild = await import('esbuild');
      const outfile = path.join(dir, 'serve.js');
      await esbuild.build({
        entryPoints: [path.join(ROOT, 'test/fake/serve.ts')], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'silent',
      });
      const portFile = path.join(dir, 'port');
      const child = spawn(process.execPath, [outfile, '--hosts', '4', '--servers-on', 'compute2=3', '--max-microversion', '2.88',
        '--port-file', portFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      await waitFor(() => out.includes('FAKE_OPENSTACK_BASE='), 10000);
      const authUrl = /FAKE_OPENSTACK_URL=(\S+)/.exec(out)![1];
      const base = /FAKE_OPENSTACK_BASE=(\S+)/.exec(out)![1];
      expect(authUrl).toBe(`${base}/identity/v3`);
      const fs = await import('node:fs');
      expect(fs.readFileSync(portFile, 'utf8').trim()).toBe(new URL(base).port);

      const post = async (what: string, body: object) => {
        const r = await fetch(`${base}/_fake/${what}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
        expect(r.status).toBe(200);
        return r.json();
      };
      const created = await post('servers', { host: 'compute4', count: 2, status: 'SHUTOFF' });
      expect(created.servers).toHaveLength(2);
      await post('kill', { host: 'compute2' });
      await post('fail', { count: 1, status: 503, path: 'os-services' });
      await post('keystone', { down: false });
      await post('revoke', {});
      await post('reset-requests', {});
      const auth = await fetch(`${authUrl}/auth/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'admin' } } },
          scope: { project: { name: 'admin', domain: { name: 'Default' } } } } }),
      });
      expect(auth.status).toBe(201);
      const token = auth.headers.get('x-subject-token')!;
      const failed = await fetch(`${base}/compute/v2.1/os-services`, { headers: { 'X-Auth-Token': token } });
      expect(failed.status).toBe(503);
      expect(await failed.json()).toEqual({ serviceUnavailable: { code: 503, message: 'Injected failure 503' } });

      const state = await (await fetch(`${base}/_fake/state`)).json();
      expect(state.services.map((s: { host: string; state: string }) => `${s.host}:${s.state}`))
        .toEqual(['compute1:up', 'compute2:down', 'compute3:up', 'compute4:up']);
      expect(state.servers.filter((s: { host: string }) => s.host === 'compute2')).toHaveLength(3);
      expect(state.servers.filter((s: { status: string }) => s.status === 'SHUTOFF')).toHaveLength(2);
      expect(state.requests.map((r: { method: string; path: string; status: number }) => `${r.method} ${r.path} ${r.status}`)).toEqual([
        'POST /identity/v3/auth/tokens 201',
        'GET /compute/v2.1/os-services 503',
      ]);
      expect(state.requests[0].body.auth.identity.password.user.password).toBe('***');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      rmDir(dir);
    }
  });
});
