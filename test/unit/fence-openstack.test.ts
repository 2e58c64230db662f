/** fence_openstack run in-process against the OpenStack simulator (test/fake). */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runFence, parseStdin, parseArgv } from '../../lib/runtime/fence/index';
import { definition } from '../../agents/fence_openstack';
import { startFakeOpenStack, type FakeOpenStack, type FakeServer, type FakeUser } from '../fake/openstack-fake';
import { tmpDir, rmDir, sleep } from '../fake/harness';
import { capture } from './capture';

let fake: FakeOpenStack;
let dir: string;
let guest: FakeUser;
const PASSWORD = 'Guest-Secret-4711';
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  dir = tmpDir();
  // no OS_* of the developer's shell: every test says what it uses
  for (const k of Object.keys(process.env).filter((k) => k.startsWith('OS_'))) { saved[k] = process.env[k]; delete process.env[k]; }
  saved.OPENSTACK_HA_AGENTS_STATE_DIR = process.env.OPENSTACK_HA_AGENTS_STATE_DIR;
  process.env.OPENSTACK_HA_AGENTS_STATE_DIR = path.join(dir, 'state');
  fake = await startFakeOpenStack({ hosts: 2, powerDelayMs: 20 });
  // a guest cluster's project member (not admin): it sees and fences the servers of its project only
  guest = fake.state.addUser('guest', PASSWORD, 'guests', ['member']);
});
afterAll(async () => {
  await fake.close();
  rmDir(dir);
  for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
});
beforeEach(() => {
  fake.state.servers.splice(0);
  fake.state.pageSize = 1000;
  fake.state.reviveService('compute1');
  fake.state.failRules.splice(0);
  fake.state.powerFailRules.splice(0);
  fake.state.resetRequests();
});

const creds = () => ['--auth-url', fake.url, '--username', 'guest', '--password', PASSWORD, '--project-name', 'guests', '--endpoint-type', 'public'];
const vm = (name: string, status = 'ACTIVE', host = 'compute1'): FakeServer => fake.state.addServers(host, 1, { name, status, tenantId: guest.projectId })[0];
const run = (...args: string[]) => capture(() => runFence(definition, [...args, ...creds()]));
const serverCalls = () => fake.state.requests.filter((r) => r.path.startsWith('/compute/v2.1/servers'));
const actions = () => serverCalls().filter((r) => r.method === 'POST').map((r) => Object.keys(r.body as object)[0]);

describe('fence_openstack status', () => {
  it('is ON (0) for an ACTIVE server and OFF (2) for a SHUTOFF one, by UUID', async () => {
    const a = vm('node-a');
    const b = vm('node-b', 'SHUTOFF');
    let r = await run('-o', 'status', '-n', a.id);
    expect([r.result, r.stdout]).toEqual([0, 'Status: ON\n']);
    r = await run('-o', 'status', '-n', b.id);
    expect([r.result, r.stdout]).toEqual([2, 'Status: OFF\n']);
  });

  it('takes a server name, looked up with one filtered request', async () => {
    vm('node-b', 'SHUTOFF');
    const r = await run('-o', 'status', '-n', 'node-b');
    expect([r.result, r.stdout]).toEqual([2, 'Status: OFF\n']);
    const calls = serverCalls();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /compute/v2.1/servers/detail']);
    expect(new URLSearchParams(calls[0].query).get('name')).toBe('^node-b$');
  });

  it('a name that is a prefix of others, or has regex characters, matches only itself', async () => {
    vm('db.1');
    vm('db.10', 'SHUTOFF');
    vm('dbx1', 'SHUTOFF');
    const r = await run('-o', 'status', '-n', 'db.1');
    expect([r.result, r.stdout]).toEqual([0, 'Status: ON\n']);
  });

  it('fails on an ambiguous name, naming the candidates', async () => {
    const [x, y] = [vm('twin'), vm('twin', 'SHUTOFF')];
    const r = await run('-o', 'status', '-n', 'twin');
    expect(r.result).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/2 servers are named 'twin'/);
    expect(r.stderr).toContain(x.id);
    expect(r.stderr).toContain(y.id);
  });

  it('fails on an unknown name or UUID', async () => {
    let r = await run('-o', 'status', '-n', 'nobody');
    expect(r.result).toBe(1);
    expect(r.stderr).toMatch(/no server with UUID or name 'nobody'/);
    r = await run('-o', 'status', '-n', '0b8e3c4e-1111-4222-8333-444455556666');
    expect(r.result).toBe(1);
    expect(r.stderr).toMatch(/no server with UUID or name '0b8e3c4e-1111-4222-8333-444455556666'/);
  });

  it("does not see another project's server (the admin's)", async () => {
    const other = fake.state.addServers('compute1', 1, { name: 'admins-vm' })[0];
    const r = await run('-o', 'status', '-n', other.id);
    expect(r.result).toBe(1);
    expect(r.stderr).toMatch(/no server with UUID or name/);
  });

  for (const state of ['ERROR', 'PAUSED', 'SUSPENDED']) {
    it(`fails for a server in ${state}, naming the state`, async () => {
      const s = vm(`node-${state}`, state);
      const r = await run('-o', 'status', '-n', s.id);
      expect(r.result).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`is in state ${state}`);
    });
  }
});

describe('fence_openstack off, on, reboot', () => {
  it('off stops an ACTIVE server (os-stop) and waits until it is SHUTOFF', async () => {
    const s = vm('node-a');
    const r = await run('-o', 'off', '-n', 'node-a');
    expect([r.result, r.stdout]).toEqual([0, 'Success: Powered OFF\n']);
    expect(fake.state.serverStatus(s)).toBe('SHUTOFF');
    expect(actions()).toEqual(['os-stop']);
  });

  it('off on a SHUTOFF server succeeds without asking Nova to stop it', async () => {
    const s = vm('node-a', 'SHUTOFF');
    const r = await run('-o', 'off', '-n', s.id);
    expect([r.result, r.stdout]).toEqual([0, 'Success: Already OFF\n']);
    expect(actions()).toEqual([]);
  });

  it('off while a stop is already under way: Nova answers 409, the agent waits for SHUTOFF', async () => {
    const s = vm('node-a');
    s.taskState = 'powering-off';
    setTimeout(() => { s.taskState = null; s.vmState = 'stopped'; s.powerState = 4; }, 300);
    const r = await run('-o', 'off', '-n', s.id);
    expect([r.result, r.stdout]).toEqual([0, 'Success: Powered OFF\n']);
    expect(serverCalls().some((c) => c.method === 'POST' && c.status === 409)).toBe(true);
  });

  it('off fails when the server does not stop within power_timeout (its compute host is down)', async () => {
    const s = vm('node-a');
    fake.state.killService('compute1');
    const t0 = Date.now();
    const r = await run('-o', 'off', '-n', s.id, '--power-timeout', '1');
    expect(r.result).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Timed out waiting to power OFF/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(fake.state.serverStatus(s)).toBe('ACTIVE');
  });

  it('on starts a SHUTOFF server (os-start) and waits until it is ACTIVE', async () => {
    const s = vm('node-a', 'SHUTOFF');
    const r = await run('-o', 'on', '-n', s.id);
    expect([r.result, r.stdout]).toEqual([0, 'Success: Powered ON\n']);
    expect(fake.state.serverStatus(s)).toBe('ACTIVE');
    expect(actions()).toEqual(['os-start']);
  });

  it('on an ACTIVE server: already ON', async () => {
    vm('node-a');
    const r = await run('-o', 'on', '-n', 'node-a');
    expect([r.result, r.stdout]).toEqual([0, 'Success: Already ON\n']);
    expect(actions()).toEqual([]);
  });

  it('on retries the start retry_on times when it does not take', async () => {
    const s = vm('node-a', 'SHUTOFF');
    fake.state.failPowerActions(1, { action: 'start' });
    const r = await run('-o', 'on', '-n', s.id, '--power-timeout', '1');
    expect([r.result, r.stdout]).toEqual([0, 'Success: Powered ON\n']);
    expect(actions()).toEqual(['os-start', 'os-start']);
  });

  it('reboot stops then starts the server', async () => {
    const s = vm('node-a');
    const r = await run('-o', 'reboot', '-n', s.id);
    expect([r.result, r.stdout]).toEqual([0, 'Success: Rebooted\n']);
    expect(actions()).toEqual(['os-stop', 'os-start']);
    expect(fake.state.serverStatus(s)).toBe('ACTIVE');
  });

  it('reboot fails when the server does not power on again (the reference reports success)', async () => {
    const s = vm('node-a');
    fake.state.failPowerActions(1, { action: 'start' });
    const r = await run('-o', 'reboot', '-n', s.id, '--power-timeout', '1');
    expect(r.result).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/did not power on again/);
    expect(actions()).toEqual(['os-stop', 'os-start']);
    expect(fake.state.serverStatus(s)).toBe('SHUTOFF');
  });

  it('the default action is reboot (stdin without action)', async () => {
    const s = vm('node-a');
    const stdin = `auth_url=${fake.url}\nusername=guest\npassword=${PASSWORD}\nproject_name=guests\nplug=${s.id}\n`;
    const r = await capture(() => runFence(definition, [], {}, () => stdin));
    expect([r.result, r.stdout]).toEqual([0, 'Success: Rebooted\n']);
  });
});

describe('fence_openstack list, list-status, monitor', () => {
  it('list: every server of the project as uuid,name, paged with limit and marker', async () => {
    fake.state.pageSize = 2;
    const made = [vm('a'), vm('b', 'SHUTOFF'), vm('c'), vm('d'), vm('e', 'ERROR')];
    fake.state.addServers('compute2', 1, { name: 'admins-vm' });
    const r = await run('-o', 'list');
    expect(r.result).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(made.map((s) => `${s.id},${s.name}`).sort());
    const pages = serverCalls().map((c) => new URLSearchParams(c.query));
    expect(pages.length).toBe(3);
    expect(pages.slice(1).every((q) => q.get('marker'))).toBe(true);
    expect(pages.every((q) => q.get('limit') !== null && !q.has('all_tenants'))).toBe(true);
  });

  it('list-status: ON, OFF, UNKNOWN from the listing itself', async () => {
    const [a, b, c] = [vm('a'), vm('b', 'SHUTOFF'), vm('c', 'ERROR')];
    const r = await run('-o', 'list-status');
    expect(r.result).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([`${a.id},a,ON`, `${b.id},b,OFF`, `${c.id},c,UNKNOWN`].sort());
    expect(serverCalls().length).toBe(1);
  });

  it('monitor: one small request (limit=1), never the full listing', async () => {
    for (let i = 0; i < 5; i++) vm(`m${i}`);
    const r = await run('-o', 'monitor');
    expect(r.result).toBe(0);
    const calls = serverCalls();
    expect(calls.map((c) => `${c.method} ${c.path}?${c.query}`)).toEqual(['GET /compute/v2.1/servers/detail?limit=1']);
  });

  it('monitor fails when Nova does not answer properly', async () => {
    fake.state.failNext(5, 500, '/servers');
    const r = await run('-o', 'monitor', '--apitimeout', '5');
    expect(r.result).toBe(1);
    expect(r.stderr).toMatch(/500/);
  });
});

describe('fence_openstack options under the reference names', () => {
  it('the metadata declares every parameter of fence-agents\' fence_openstack, with its flags and default, and validates', async () => {
    const { stdout } = await capture(() => runFence(definition, ['-o', 'metadata']));
    const rng = '/usr/share/cluster/relaxng/metadata.rng';
    if (fs.existsSync(rng)) execFileSync('xmllint', ['--noout', '--relaxng', rng, '-'], { input: stdout, stdio: ['pipe', 'ignore', 'pipe'] });
    const params = (xml: string) => new Map([...xml.matchAll(/<parameter name="([^"]+)"([^>]*)>\s*<getopt mixed="([^"]*)"[^>]*>\s*<content type="(\w+)"(?: default="([^"]*)")?/g)]
      .map((m) => [m[1], { attrs: m[2].trim(), getopt: m[3].replace(/=\[[^\]]*\]/, '='), type: m[4], def: m[5] }]));
    const ours = params(stdout);
    // fence-agents' own (its metadata needs neither novaclient nor keystoneauth1)
    if (!fs.existsSync('/usr/sbin/fence_openstack')) return;
    const ref = params(execFileSync('/usr/sbin/fence_openstack', ['-o', 'metadata'], { encoding: 'utf8' }));
    expect(ref.size).toBeGreaterThan(30);
    for (const [name, p] of ref) expect(ours.get(name), name).toEqual(p);
  });

  it('stdin with the reference\'s dashed and deprecated names feeds the same settings', () => {
    const { opts } = parseStdin(definition, 'action=status\nauth-url=http://k:5000/v3\nlogin=u\npasswd=pw\nproject-name=p\n'
      + 'user-domain-name=UD\nproject-domain-name=PD\nuuid=abc\nssl_insecure=1\ncacert=/c.pem\napitimeout=9\n');
    expect(opts).toMatchObject({
      auth_url: 'http://k:5000/v3', username: 'u', password: 'pw', project_name: 'p', user_domain_name: 'UD',
      project_domain_name: 'PD', plug: 'abc', ssl_insecure: '1', cacert: '/c.pem', apitimeout: '9',
    });
    const { opts: a } = parseArgv(definition, ['--auth-url', 'http://k', '-l', 'u', '-p', 'pw', '--project-name', 'p', '--uuid', 'abc',
      '--user-domain-name', 'UD', '--project-domain-name', 'PD', '--ssl-insecure', '--apitimeout', '9']);
    expect(a).toMatchObject({ auth_url: 'http://k', username: 'u', password: 'pw', project_name: 'p', plug: 'abc', user_domain_name: 'UD',
      project_domain_name: 'PD', ssl_insecure: '1', apitimeout: '9' });
  });

  it('status from stdin as the fencer sends it (reference names, uuid)', async () => {
    const s = vm('node-a', 'SHUTOFF');
    const stdin = `action=status\nauth-url=${fake.url}\nlogin=guest\npasswd=${PASSWORD}\nproject-name=guests\nuser-domain-name=Default\n`
      + `project-domain-name=Default\nuuid=${s.id}\nnodename=node-a\n`;
    const r = await capture(() => runFence(definition, [], {}, () => stdin));
    expect([r.result, r.stdout]).toEqual([2, 'Status: OFF\n']);
  });

  it('project_name defaults to admin (the reference\'s default) when nothing else sets it', async () => {
    const s = fake.state.addServers('compute1', 1, { name: 'admins-vm' })[0];
    const r = await capture(() => runFence(definition, ['-o', 'status', '-n', s.id, '--auth-url', fake.url, '-l', 'admin', '-p', fake.state.admin.password]));
    expect([r.result, r.stdout]).toEqual([0, 'Status: ON\n']);
  });

  it('password_script: the password is its output (and never printed)', async () => {
    const s = vm('node-a', 'SHUTOFF');
    const r = await capture(() => runFence(definition, ['-o', 'status', '-n', s.id, '-v', '--auth-url', fake.url, '-l', 'guest',
      '--project-name', 'guests', '-S', `echo ${PASSWORD}`]));
    expect([r.result, r.stdout]).toEqual([2, 'Status: OFF\n']);
    expect(r.stderr).not.toContain(PASSWORD);
  });

  it('OS_* of the environment when no option says otherwise (as the other agents)', async () => {
    const s = vm('node-a');
    Object.assign(process.env, { OS_AUTH_URL: fake.url, OS_USERNAME: 'guest', OS_PASSWORD: PASSWORD, OS_PROJECT_NAME: 'guests', OS_INTERFACE: 'public' });
    try {
      const r = await capture(() => runFence(definition, ['-o', 'status', '-n', s.id]));
      expect([r.result, r.stdout]).toEqual([0, 'Status: ON\n']);
    } finally {
      for (const k of ['OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_NAME', 'OS_INTERFACE']) delete process.env[k];
    }
  });

  it('openrc=FILE: the OS_* variables of the sourced file', async () => {
    const s = vm('node-a');
    const rc = path.join(dir, 'guest-openrc.sh');
    fs.writeFileSync(rc, `export OS_AUTH_URL=${fake.url}\nexport OS_USERNAME=guest\nexport OS_PASSWORD='${PASSWORD}'\n`
      + 'export OS_PROJECT_NAME=guests\nexport OS_USER_DOMAIN_NAME=Default\nexport OS_PROJECT_DOMAIN_NAME=Default\nexport OS_INTERFACE=public\necho sourced\n');
    const r = await capture(() => runFence(definition, ['-o', 'status', '--uuid', s.id, '--openrc', rc]));
    expect([r.result, r.stdout]).toEqual([0, 'Status: ON\n']);
    const missing = await capture(() => runFence(definition, ['-o', 'status', '--uuid', s.id, '--openrc', path.join(dir, 'nope')]));
    expect(missing.result).toBe(1);
    expect(missing.stderr).toMatch(/nope does not exist/);
  });

  it('cloud=NAME: clouds.yaml, with an application credential', async () => {
    const s = vm('node-a', 'SHUTOFF');
    const cred = fake.state.addAppCredential('guest', 'fencing', 'App-Secret-0815');
    const file = path.join(dir, 'clouds.yaml');
    fs.writeFileSync(file, `clouds:\n  guests:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: ${fake.url}\n`
      + `      application_credential_id: ${cred.id}\n      application_credential_secret: App-Secret-0815\n    interface: public\n`);
    process.env.OS_CLIENT_CONFIG_FILE = file;
    try {
      const r = await capture(() => runFence(definition, ['-o', 'status', '-n', 'node-a', '--cloud', 'guests', '-v']));
      expect([r.result, r.stdout]).toEqual([2, 'Status: OFF\n']);
      expect(r.stderr).not.toContain('App-Secret-0815');
      expect(fake.state.requests.find((q) => q.path.endsWith('/auth/tokens'))?.body).toMatchObject({ auth: { identity: { methods: ['application_credential'] } } });
    } finally { delete process.env.OS_CLIENT_CONFIG_FILE; }
  });

  it('validate-all: 0 with credentials; 1 naming what is missing', async () => {
    let r = await run('-o', 'validate-all');
    expect(r.result).toBe(0);
    r = await capture(() => runFence(definition, ['-o', 'validate-all', '--username', 'guest']));
    expect(r.result).toBe(1);
    expect(r.stderr).toMatch(/auth_url/);
  });

  it('never shows the password: not on stderr with -v, not in a failure message', async () => {
    const s = vm('node-a');
    let r = await run('-o', 'off', '-n', s.id, '-v');
    expect(r.result).toBe(0);
    expect(r.stderr).toContain('Stopping server node-a');
    expect(r.stderr).not.toContain(PASSWORD);
    fake.state.revokeAllTokens();
    fake.state.keystoneDown = true;
    try {
      r = await capture(() => runFence(definition, ['-o', 'status', '-n', s.id, '-v', '--auth-url', fake.url, '-l', 'guest', '-p', PASSWORD,
        '--project-name', 'guests', '--apitimeout', '2']));
    } finally { fake.state.keystoneDown = false; }
    expect(r.result).toBe(1);
    expect(r.stderr).not.toContain(PASSWORD);
  });
});

describe('fence_openstack waits with power_wait', () => {
  it('sleeps power_wait seconds after the request before polling', async () => {
    const s = vm('node-a');
    const t0 = Date.now();
    const r = await run('-o', 'off', '-n', s.id, '--power-wait', '1');
    expect(r.result).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    await sleep(0);
  });
});
