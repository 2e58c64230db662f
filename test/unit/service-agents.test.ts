/**
 * The service agents (agents/openstack-services.ts) with real processes: test/daemons/fake-service as the daemon,
 * the OpenStack fake (Keystone v3, Nova, Cinder) for authentication and os-services.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runOcf, OCF } from '../../lib/runtime/ocf/index';
import { SERVICE_DEFS, serviceAgentDefinition } from '../../agents/openstack-services';
import { AGENTS } from '../../agents/index';
import { judgeServices, v3AuthUrl, serviceTime } from '../../lib/daemon/health';
import { startFakeOpenStack, type FakeOpenStack } from '../fake/openstack-fake';
import { cinderOf } from '../fake/cinder-fake';
import { capture } from './capture';
import { tmpDir, rmDir, freePort } from '../fake/harness';
import type { CinderService } from '../../lib/openstack/index';

const DAEMON = path.resolve(__dirname, '../daemons/fake-service');
const PASSWORD = 'S3cret-Pa55-for-cinder';
let dir: string;
let fake: FakeOpenStack;
let port = 0;
const pids: number[] = [];
const savedStateDir = process.env.OPENSTACK_HA_AGENTS_STATE_DIR;


function conf(name: string, fakeOpts: Record<string, string>, defaults: Record<string, string> = {}): string {
  const file = path.join(dir, name);
  const lines = ['[DEFAULT]', ...Object.entries(defaults).map(([k, v]) => `${k} = ${v}`), '[fake]', ...Object.entries(fakeOpts).map(([k, v]) => `${k} = ${v}`)];
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function envFor(instance: string, params: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    HA_RSCTMP: path.join(dir, 'run'), OCF_RESOURCE_INSTANCE: instance, HA_LOGFILE: path.join(dir, `${instance}.log`),
    OCF_RESKEY_CRM_meta_interval: '10000', OCF_RESKEY_binary: DAEMON, OCF_RESKEY_user: 'root', ...extra,
  };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  return env;
}

async function run(agent: string, action: string, env: NodeJS.ProcessEnv) {
  const r = await capture(() => runOcf(serviceAgentDefinition(agent), [action], env));
  return { rc: r.result, stderr: r.stderr, stdout: r.stdout };
}

function pidOf(instance: string): number {
  const pid = Number(fs.readFileSync(path.join(dir, 'run', `${instance}.pid`), 'utf8'));
  pids.push(pid);
  return pid;
}

const creds = () => ({ os_username: 'admin', os_password: PASSWORD, os_tenant_name: 'admin', auth_url: fake.url });

beforeAll(async () => {
  dir = tmpDir('oha-svc-');
  process.env.OPENSTACK_HA_AGENTS_STATE_DIR = path.join(dir, 'state');
  fake = await startFakeOpenStack({ adminPassword: PASSWORD });
  port = await freePort();
});
afterEach(() => {
  for (const pid of pids.splice(0)) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
});
afterAll(async () => {
  await fake.close();
  rmDir(dir);
  if (savedStateDir === undefined) delete process.env.OPENSTACK_HA_AGENTS_STATE_DIR; else process.env.OPENSTACK_HA_AGENTS_STATE_DIR = savedStateDir;
});

describe('registry and metadata', () => {
  const names = ['cinder-api', 'cinder-scheduler', 'cinder-volume', 'cinder-backup', 'keystone', 'glance-api', 'nova-api', 'nova-scheduler', 'nova-conductor', 'neutron-server'];
  it('registers every agent under provider openstack', () => {
    expect(SERVICE_DEFS.map((d) => d.name).sort()).toEqual([...names].sort());
    for (const n of names) expect(AGENTS[n]).toMatchObject({ kind: 'ocf', provider: 'openstack' });
  });
  it('metadata of each agent validates against ra-api-1.dtd', async () => {
    for (const n of names) {
      const { stdout } = await run(n, 'meta-data', {});
      const f = path.join(dir, `${n}.xml`);
      fs.writeFileSync(f, stdout);
      const r = spawnSync('xmllint', ['--noout', '--dtdvalid', '/usr/share/resource-agents/ra-api-1.dtd', f], { encoding: 'utf8' });
      expect(r.stderr, n).not.toMatch(/validity error|parser error/);
      expect(r.status, n).toBe(0);
    }
  });
  it('cinder-api accepts every parameter of the reference agent, with its defaults where they still work', async () => {
    const { stdout } = await run('cinder-api', 'meta-data', {});
    for (const p of ['binary', 'config', 'user', 'pid', 'url', 'keystone_get_token_url', 'os_username', 'os_password', 'os_tenant_name', 'additional_parameters']) {
      expect(stdout).toContain(`<parameter name="${p}"`);
    }
    expect(stdout).toContain('default="http://127.0.0.1:5000/v2.0/tokens"');
    expect(stdout).toContain('default="/etc/cinder/cinder.conf"');
    expect(stdout).toContain('default="cinder"');
  });
});

describe('helpers', () => {
  it('maps Keystone v2.0 token URLs to v3', () => {
    expect(v3AuthUrl('http://VIP:5000/v2.0/tokens')).toBe('http://VIP:5000/v3');
    expect(v3AuthUrl('http://VIP:5000/v2.0/')).toBe('http://VIP:5000/v3');
    expect(v3AuthUrl('http://VIP:5000/v3/auth/tokens')).toBe('http://VIP:5000/v3');
    expect(v3AuthUrl('http://VIP/identity')).toBe('http://VIP/identity/v3');
  });
  it('judges os-services: present, enabled, up, and during start reported since the daemon started', () => {
    const now = Date.now();
    const t = (ms: number) => new Date(ms).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000');
    const s = (host: string, o: Partial<CinderService> = {}): CinderService => ({ binary: 'cinder-volume', host, status: 'enabled', state: 'up', disabledReason: null, updatedAt: t(now), ...o });
    expect(serviceTime(t(now))).toBe(now);
    expect(judgeServices([s('c1@ceph')], { binary: 'cinder-volume', hosts: [], backendPrefix: 'c1' }, undefined).ok).toBe(true);
    expect(judgeServices([s('c2@ceph')], { binary: 'cinder-volume', hosts: [], backendPrefix: 'c1' }, undefined).reason).toMatch(/no cinder-volume service c1@<backend>/);
    expect(judgeServices([s('c1@ceph')], { binary: 'cinder-volume', hosts: ['c1@ceph', 'c1@lvm'] }, undefined).reason).toMatch(/no cinder-volume service on host c1@lvm/);
    expect(judgeServices([s('c1@ceph', { state: 'down' })], { binary: 'cinder-volume', hosts: ['c1@ceph'] }, undefined).reason).toMatch(/is down/);
    expect(judgeServices([s('c1@ceph', { status: 'disabled', disabledReason: 'maint' })], { binary: 'cinder-volume', hosts: ['c1@ceph'] }, undefined).reason).toMatch(/disabled \(maint\)/);
    // A/P failover: the entry is still "up" from the previous node's last report, but not from our daemon
    const stale = s('c1@ceph', { updatedAt: t(now - 30_000) });
    expect(judgeServices([stale], { binary: 'cinder-volume', hosts: ['c1@ceph'] }, undefined).ok).toBe(true);
    expect(judgeServices([stale], { binary: 'cinder-volume', hosts: ['c1@ceph'] }, now - 1000).reason).toMatch(/has not reported since the daemon started/);
    // cinder-volume during start: the old holder's report in the start's second, then our first write, are not
    // enough; a second, later report is
    const start = Math.floor(now / 1000) * 1000 - 20_000 + 300;
    const seen = new Map<string, Set<number>>();
    const at = (ms: number) => [s('c1@ceph', { updatedAt: t(ms) })];
    const want = { binary: 'cinder-volume', hosts: ['c1@ceph'] };
    expect(judgeServices(at(start - 300), want, start, seen).reason).toMatch(/not reported twice/);
    expect(judgeServices(at(start + 1700), want, start, seen).reason).toMatch(/not reported twice/);
    expect(judgeServices(at(start + 1700), want, start, seen).reason).toMatch(/not reported twice/);
    expect(judgeServices(at(start + 11_700), want, start, seen).ok).toBe(true);
  });
});

describe('cinder-api', () => {
  it('authenticates (v2.0 token URL mapped to v3, logged once) and lists volume types at its url; no secret anywhere', async () => {
    const status = path.join(dir, 'api.status');
    const c = conf('api.conf', { port: String(port), status_file: status });
    const env = envFor('capi', {
      config: c, url: `http://127.0.0.1:${port}/v1/`, os_username: 'admin', os_password: PASSWORD, os_tenant_name: 'admin',
      keystone_get_token_url: `${fake.baseUrl}/identity/v2.0/tokens`, failures: '2',
    });
    const before = fake.state.requests.length;
    const st = await run('cinder-api', 'start', env);
    expect(st.stderr).toBe('');
    expect(st.rc).toBe(OCF.SUCCESS);
    const pid = pidOf('capi');
    expect((await run('cinder-api', 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run('cinder-api', 'monitor', env)).rc).toBe(OCF.SUCCESS);
    // authenticated at the v3 URL of the fake
    expect(fake.state.requests.slice(before).some((r) => r.path === '/identity/v3/auth/tokens' && r.status === 201)).toBe(true);
    const logText = fs.readFileSync(env.HA_LOGFILE!, 'utf8');
    expect(logText.match(/is not a Keystone v3 URL: using the v3 API at http:\/\/127\.0\.0\.1:\d+\/identity\/v3/g)).toHaveLength(1);
    // the API goes down while the process lives: fails after 2 consecutive failures, with the status
    fs.writeFileSync(status, '503');
    const m1 = await run('cinder-api', 'monitor', env);
    expect(m1.rc).toBe(OCF.SUCCESS);
    const m2 = await run('cinder-api', 'monitor', env);
    expect(m2.rc).toBe(OCF.ERR_GENERIC);
    expect(m2.stderr).toMatch(/ocf-exit-reason:OpenStack Cinder API \(cinder-api\) health check failed \(2 in a row\): GET http:\/\/127\.0\.0\.1:\d+\/v3\/types returned HTTP 503/);
    fs.writeFileSync(status, '200');
    expect((await run('cinder-api', 'monitor', env)).rc).toBe(OCF.SUCCESS);
    // a wrong password: the Keystone 401 is the reason
    const bad = await run('cinder-api', 'monitor', { ...env, OCF_RESKEY_os_password: 'wrong-one', OCF_RESKEY_failures: '1' });
    expect(bad.rc).toBe(OCF.ERR_GENERIC);
    expect(bad.stderr).toMatch(/HTTP 401/);
    // secrets: not in the daemon's argv or environment, not in logs or exit reasons
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    expect(cmdline).not.toContain(PASSWORD);
    expect(environ).not.toContain(PASSWORD);
    expect(environ).not.toContain('OCF_RESKEY');
    expect(fs.readFileSync(env.HA_LOGFILE!, 'utf8')).not.toContain(PASSWORD);
    for (const r of [st, m1, m2, bad]) expect(r.stderr).not.toContain(PASSWORD);
    expect((await run('cinder-api', 'stop', env)).rc).toBe(OCF.SUCCESS);
  });

  it('without credentials checks that the API answers its version document; partial credentials are a configuration error', async () => {
    const c = conf('api2.conf', { port: String(port) });
    const env = envFor('capi2', { config: c, url: `http://127.0.0.1:${port}/v3/` });
    expect((await run('cinder-api', 'start', env)).rc).toBe(OCF.SUCCESS);
    pidOf('capi2');
    expect((await run('cinder-api', 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run('cinder-api', 'stop', env)).rc).toBe(OCF.SUCCESS);
    const partial = await run('cinder-api', 'validate-all', { ...env, OCF_RESKEY_os_username: 'admin' });
    expect(partial.rc).toBe(OCF.ERR_CONFIGURED);
    expect(partial.stderr).toMatch(/os_password not set/);
  });
});

describe('cinder-volume, cinder-scheduler: os-services', () => {
  it('cinder-volume (A/P shared host from cinder.conf): ready once HOST@BACKEND reports; disabled or down fails the monitor', async () => {
    const c = conf('vol.conf', {
      report_url: `${fake.baseUrl}/volume/_control/report`, report_binary: 'cinder-volume', report_host: 'cinder-cluster-1@ceph', report_interval: '0.3',
    }, { host: 'cinder-cluster-1', enabled_backends: 'ceph' });
    const env = envFor('cvol', { config: c, ...creds(), grace: '0', failures: '1' });
    const t0 = Date.now();
    const st = await run('cinder-volume', 'start', env);
    expect(st.stderr).toBe('');
    expect(st.rc).toBe(OCF.SUCCESS);
    expect(Date.now() - t0).toBeLessThan(8000);
    pidOf('cvol');
    expect((await run('cinder-volume', 'monitor', env)).rc).toBe(OCF.SUCCESS);
    const svc = cinderOf(fake.state).services.find((s) => s.host === 'cinder-cluster-1@ceph')!;
    svc.status = 'disabled';
    svc.disabledReason = 'maintenance';
    const dis = await run('cinder-volume', 'monitor', env);
    expect(dis.rc).toBe(OCF.ERR_GENERIC);
    expect(dis.stderr).toMatch(/cinder-volume on cinder-cluster-1@ceph is disabled \(maintenance\)/);
    svc.status = 'enabled';
    svc.disabledReason = null;
    expect((await run('cinder-volume', 'monitor', env)).rc).toBe(OCF.SUCCESS);
    cinderOf(fake.state).serviceDownMs = 1; // reports stop counting: down
    try {
      const down = await run('cinder-volume', 'monitor', env);
      expect(down.rc).toBe(OCF.ERR_GENERIC);
      expect(down.stderr).toMatch(/cinder-volume on cinder-cluster-1@ceph is down/);
      // ...but not during the grace period after start
      expect((await run('cinder-volume', 'monitor', { ...env, OCF_RESKEY_grace: '600' })).rc).toBe(OCF.SUCCESS);
    } finally {
      cinderOf(fake.state).serviceDownMs = 60000;
    }
    expect((await run('cinder-volume', 'stop', env)).rc).toBe(OCF.SUCCESS);
  });

  it('a backend section\'s backend_host names the os-services entry', async () => {
    const c = conf('vol3.conf', {
      report_url: `${fake.baseUrl}/volume/_control/report`, report_binary: 'cinder-volume', report_host: 'shared-bh@lvm', report_interval: '0.3',
    }, { host: 'node-a', enabled_backends: 'lvm' });
    fs.appendFileSync(c, '[lvm]\nbackend_host = shared-bh\nvolume_backend_name = lvm\n');
    const env = envFor('cvol3', { config: c, ...creds(), grace: '0', failures: '1' });
    const st = await run('cinder-volume', 'start', env);
    expect(st.stderr).toBe('');
    expect(st.rc).toBe(OCF.SUCCESS);
    pidOf('cvol3');
    expect((await run('cinder-volume', 'stop', env)).rc).toBe(OCF.SUCCESS);
  });

  it('a backend that never reports: start fails at its deadline with the reason', async () => {
    const c = conf('vol2.conf', {}, { host: 'cinder-cluster-2' });
    const env = envFor('cvol2', { config: c, ...creds(), backends: 'lvm', grace: '0' }, { OCF_RESKEY_CRM_meta_timeout: '4000' });
    const r = await run('cinder-volume', 'start', env);
    expect(r.rc).toBe(OCF.ERR_GENERIC);
    expect(r.stderr).toMatch(/did not become ready before the start timeout: no cinder-volume service on host cinder-cluster-2@lvm in os-services/);
    pidOf('cvol2');
    expect((await run('cinder-volume', 'stop', env)).rc).toBe(OCF.SUCCESS);
  });

  it('cinder-scheduler without credentials watches the process only', async () => {
    const c = conf('sch.conf', {});
    const env = envFor('csch', { config: c });
    expect((await run('cinder-scheduler', 'start', env)).rc).toBe(OCF.SUCCESS);
    pidOf('csch');
    expect((await run('cinder-scheduler', 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run('cinder-scheduler', 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect((await run('cinder-scheduler', 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
  });
});

describe('nova-conductor: Nova os-services', () => {
  it('up and enabled: running; forced down: failed', async () => {
    fake.state.services.push({
      id: 'c0nduct0-0000-0000-0000-000000000001', legacyId: 901, host: 'ctl1', binary: 'nova-conductor', zone: 'internal',
      status: 'enabled', disabledReason: null, forcedDown: false, hypervisorId: '', hypervisorLegacyId: 0,
    } as (typeof fake.state.services)[number]);
    const c = conf('cond.conf', {});
    const env = envFor('ncond', { config: c, ...creds(), host: 'ctl1', grace: '0', failures: '1' });
    const st = await run('nova-conductor', 'start', env);
    expect(st.stderr).toBe('');
    expect(st.rc).toBe(OCF.SUCCESS);
    pidOf('ncond');
    expect((await run('nova-conductor', 'monitor', env)).rc).toBe(OCF.SUCCESS);
    fake.state.services.find((s) => s.host === 'ctl1' && s.binary === 'nova-conductor')!.forcedDown = true;
    const down = await run('nova-conductor', 'monitor', env);
    expect(down.rc).toBe(OCF.ERR_GENERIC);
    expect(down.stderr).toMatch(/nova-conductor on ctl1 is down/);
    expect((await run('nova-conductor', 'stop', env)).rc).toBe(OCF.SUCCESS);
  });
});

describe('API agents', () => {
  it('keystone, nova-api, neutron-server, glance-api: GET their url; keystone runs as pbr\'s WSGI server', async () => {
    const argvDir = path.join(dir, 'argv');
    fs.mkdirSync(argvDir, { recursive: true });
    for (const agent of ['keystone', 'nova-api', 'neutron-server', 'glance-api']) {
      const c = conf(`${agent}.conf`, { port: String(port), argv_file: path.join(argvDir, `${agent}.json`) });
      const env = envFor(agent, { config: c, url: `http://127.0.0.1:${port}/`, plugin_config: '' });
      const st = await run(agent, 'start', env);
      expect(st.stderr, agent).toBe('');
      expect(st.rc, agent).toBe(OCF.SUCCESS);
      pidOf(agent);
      expect((await run(agent, 'monitor', env)).rc, agent).toBe(OCF.SUCCESS);
      expect((await run(agent, 'stop', env)).rc, agent).toBe(OCF.SUCCESS);
    }
    const ks = JSON.parse(fs.readFileSync(path.join(argvDir, 'keystone.json'), 'utf8'));
    expect(ks.argv.slice(1)).toEqual(['--port', '5000', '--host', '0.0.0.0', '--', '--config-file', path.join(dir, 'keystone.conf')]);
  });

  it('glance-api with credentials: GET /v2/images with a token', async () => {
    const c = conf('glance2.conf', { port: String(port) });
    const env = envFor('glance2', { config: c, url: `http://127.0.0.1:${port}/versions`, ...creds() });
    expect((await run('glance-api', 'start', env)).rc).toBe(OCF.SUCCESS);
    pidOf('glance2');
    const before = fake.state.requests.length;
    fs.rmSync(path.join(dir, 'state'), { recursive: true, force: true }); // no cached token: must authenticate
    expect((await run('glance-api', 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect(fake.state.requests.slice(before).some((r) => r.path === '/identity/v3/auth/tokens' && r.status === 201)).toBe(true);
    // the image API answering 401 to the token fails the check
    expect((await run('glance-api', 'monitor', { ...env, OCF_RESKEY_os_password: 'wrong', OCF_RESKEY_failures: '1' })).rc).toBe(OCF.ERR_GENERIC);
    expect((await run('glance-api', 'stop', env)).rc).toBe(OCF.SUCCESS);
  });
});
