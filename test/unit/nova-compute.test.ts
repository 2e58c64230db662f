/**
 * NovaCompute (agents/NovaCompute.ts) and the hold it shares with nova-compute-wait (lib/instance-ha/hold.ts), run
 * in-process against the OpenStack simulator, with test/daemons/fake-service as nova-compute (it reports to the
 * simulator through POST /_fake/revive, as a starting nova-compute does to Nova) and the attrd_updater stand-in of
 * test/fake/bin. Also the Nova host name from nova.conf and nova.conf.d (lib/instance-ha/nova-host.ts).
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runOcf, OCF } from '../../lib/runtime/ocf/index';
import { processAlive } from '../../lib/daemon/engine';
import { novaHostName, novaHostProblem, novaConfDir, novaConfFiles } from '../../lib/instance-ha/index';
import { definition as novaCompute } from '../../agents/NovaCompute';
import { definition as novaComputeWait } from '../../agents/nova-compute-wait';
import { AGENTS } from '../../agents/index';
import { startFakeOpenStack, type FakeOpenStack, type FakeService } from '../fake/openstack-fake';
import { tmpDir, rmDir, sleep, waitFor } from '../fake/harness';
import { capture } from './capture';

const DAEMON = path.resolve(__dirname, '../daemons/fake-service');
const FAKE_BIN = path.resolve(__dirname, '../fake/bin');

describe('Nova host name: nova.conf, then nova.conf.d/*.conf in order (last wins), else the host name', () => {
  let dir: string;
  beforeEach(() => { dir = tmpDir('oha-novahost-'); });
  afterEach(() => rmDir(dir));
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
    return path.join(dir, rel);
  };

  it('reads [DEFAULT] host; a later nova.conf.d file wins; other sections and non-.conf files do not count', () => {
    const conf = write('nova.conf', '[DEFAULT]\nhost = from-main\n[libvirt]\nhost = not-this\n');
    expect(novaConfDir(conf)).toBe(path.join(dir, 'nova.conf.d'));
    expect(novaHostName(conf, undefined, 'machine.example.com')).toEqual({ host: 'from-main', from: conf });
    write('nova.conf.d/20-b.conf', '[DEFAULT]\nhost=from-b\n');
    const a = write('nova.conf.d/10-a.conf', '[DEFAULT]\nhost = from-a\n');
    write('nova.conf.d/30-c.conf', '[DEFAULT]\ndebug = true\n');
    write('nova.conf.d/99-z.conf.rpmsave', '[DEFAULT]\nhost = ignored\n');
    expect(novaConfFiles(conf).map((f) => path.basename(f))).toEqual(['nova.conf', '10-a.conf', '20-b.conf', '30-c.conf']);
    expect(novaHostName(conf).host).toBe('from-b');
    fs.rmSync(path.join(dir, 'nova.conf.d/20-b.conf'));
    expect(novaHostName(conf)).toEqual({ host: 'from-a', from: a });
  });

  it('without a configured host: the machine name, its first label when domain is set', () => {
    const conf = write('nova.conf', '[DEFAULT]\ndebug = true\n');
    expect(novaHostName(conf, undefined, 'compute1.example.com')).toEqual({ host: 'compute1.example.com' });
    expect(novaHostName(conf, 'example.com', 'compute1.example.com')).toEqual({ host: 'compute1' });
    expect(novaHostName(path.join(dir, 'missing.conf'), undefined, 'c9')).toEqual({ host: 'c9' });
  });

  it('a configured name must be the cluster node name (short names compared when domain is set)', () => {
    const from = '/etc/nova/nova.conf';
    expect(novaHostProblem({ host: 'compute1' }, 'other')).toBeUndefined(); // the machine's own name is not checked
    expect(novaHostProblem({ host: 'compute1', from }, 'compute1')).toBeUndefined();
    expect(novaHostProblem({ host: 'compute1.example.com', from }, 'compute1')).toMatch(/invalid Nova host name compute1\.example\.com .*must be compute1/);
    expect(novaHostProblem({ host: 'compute1.example.com', from }, 'compute1', 'example.com')).toBeUndefined();
    expect(novaHostProblem({ host: 'compute1', from }, 'compute1.example.com', 'example.com')).toBeUndefined();
    expect(novaHostProblem({ host: 'compute2', from }, 'compute1', 'example.com')).toMatch(/must be compute1, the cluster node's short name/);
  });
});

describe('NovaCompute: declaration and metadata', () => {
  it('is registered, declares every parameter of the reference agent once, with its defaults', async () => {
    expect(AGENTS.NovaCompute).toMatchObject({ kind: 'ocf', provider: 'openstack' });
    const names = novaCompute.params.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    const { stdout } = await capture(() => runOcf(novaCompute, ['meta-data'], {}));
    for (const p of ['auth_url', 'username', 'password', 'tenant_name', 'domain', 'endpoint_type', 'region_name', 'insecure',
      'no_shared_storage', 'evacuation_delay', 'cloud', 'user_domain', 'project_domain', 'binary', 'config', 'user', 'pid',
      'additional_parameters']) {
      expect(stdout).toContain(`<parameter name="${p}"`);
    }
    const def = (n: string) => novaCompute.params.find((p) => p.name === n)?.default;
    expect([def('evacuation_delay'), def('binary'), def('config'), def('user')]).toEqual(['120', '/usr/bin/nova-compute', '/etc/nova/nova.conf', 'nova']);
    expect(stdout).toContain('<action name="start" timeout="600s" />');
    expect(stdout).toContain('<action name="stop" timeout="300s" />');
    expect(stdout).toContain('<action name="monitor" timeout="20s" interval="10s" depth="0" />');
  });

  it('metadata validates against ra-api-1.dtd', async () => {
    const dtd = '/usr/share/resource-agents/ra-api-1.dtd';
    if (!fs.existsSync(dtd)) return;
    const { stdout } = await capture(() => runOcf(novaCompute, ['meta-data'], {}));
    const r = spawnSync('xmllint', ['--noout', '--valid', '-'], { input: stdout, cwd: path.dirname(dtd), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('NovaCompute and nova-compute-wait against the simulator', () => {
  const saved = { PATH: process.env.PATH, ATTRD_FAKE_DIR: process.env.ATTRD_FAKE_DIR, STATE: process.env.OPENSTACK_HA_AGENTS_STATE_DIR };
  const started: number[] = [];
  let fake: FakeOpenStack;
  let dir: string;

  beforeAll(async () => { fake = await startFakeOpenStack({ hosts: 2, extraHosts: ['nc1', 'nc2', 'nc3', 'nc4', 'nc5', 'nc6'] }); });
  afterAll(async () => { await fake.close(); });
  beforeEach(() => {
    dir = tmpDir('oha-novacompute-');
    process.env.PATH = `${FAKE_BIN}:${saved.PATH}`;
    process.env.ATTRD_FAKE_DIR = path.join(dir, 'attrd');
    process.env.OPENSTACK_HA_AGENTS_STATE_DIR = path.join(dir, 'state');
  });
  afterEach(() => {
    for (const pid of started.splice(0)) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
    for (const [k, v] of Object.entries({ PATH: saved.PATH, ATTRD_FAKE_DIR: saved.ATTRD_FAKE_DIR, OPENSTACK_HA_AGENTS_STATE_DIR: saved.STATE })) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    rmDir(dir);
  });

  /** nova.conf naming the host, with the fake daemon's settings: it reports as nova-compute on `host` to the simulator */
  function novaConf(host: string, fakeOpts: Record<string, string> = {}, confHost = host): string {
    const file = path.join(dir, 'nova.conf');
    const opts = { port: '0', report_url: `${fake.baseUrl}/_fake/revive`, report_binary: 'nova-compute', report_host: host, report_interval: '0.2', ...fakeOpts };
    fs.writeFileSync(file, `[DEFAULT]\nhost = ${confHost}\n[fake]\n${Object.entries(opts).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`);
    return file;
  }
  function envFor(node: string, params: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      HA_RSCTMP: path.join(dir, 'run'), HA_LOGFILE: path.join(dir, 'ra.log'), OCF_RESOURCE_INSTANCE: 'nc',
      OCF_RESKEY_CRM_meta_on_node: node, OCF_RESKEY_CRM_meta_interval: '10000', OCF_RESKEY_CRM_meta_timeout: '30000',
      OCF_RESKEY_auth_url: fake.url, OCF_RESKEY_username: 'admin', OCF_RESKEY_password: fake.state.admin.password,
      OCF_RESKEY_tenant_name: 'admin', OCF_RESKEY_endpoint_type: 'public', OCF_RESKEY_evacuation_delay: '0',
      OCF_RESKEY_binary: DAEMON, OCF_RESKEY_user: 'root', ...extra,
    };
    for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
    return env;
  }
  const run = async (agent: typeof novaCompute, action: string, env: NodeJS.ProcessEnv) => {
    const r = await capture(() => runOcf(agent, [action], env));
    return { rc: r.result, stderr: r.stderr };
  };
  const logText = () => { try { return fs.readFileSync(path.join(dir, 'ra.log'), 'utf8'); } catch { return ''; } };
  const pidFile = () => path.join(dir, 'run', 'nc.pid');
  const pidOf = () => { const pid = Number(fs.readFileSync(pidFile(), 'utf8')); started.push(pid); return pid; };
  const attr = (node: string, value: string) => execFileSync(path.join(FAKE_BIN, 'attrd_updater'),
    ['-p', '-n', 'evacuate', '-Q', '-N', node, '-U', value], { env: process.env, encoding: 'utf8' });
  const svc = (host: string) => fake.state.services.find((s) => s.host === host && s.binary === 'nova-compute') as FakeService;
  /** the host as fencing and evacuation leave it: nova-compute dead, forced down, disabled, a "done" evacuation record */
  function fence(host: string): void {
    fake.state.killService(host);
    Object.assign(svc(host), { forcedDown: true, status: 'disabled', disabledReason: `openstack-ha-agents: fenced at ${Math.floor(Date.now() / 1000)}` });
    const now = new Date().toISOString();
    fake.state.migrations.push({
      id: 9000 + fake.state.migrations.length, uuid: `00000000-0000-0000-0000-${String(fake.state.migrations.length).padStart(12, '0')}`,
      instanceUuid: '11111111-2222-3333-4444-555555555555', source: host, dest: 'compute1', status: 'done', type: 'evacuation',
      created: now, updated: now, userId: 'admin', projectId: 'admin',
    });
  }

  it('a host never fenced: starts nova-compute, waits for Nova to report it up, monitors, stops; then not running', async () => {
    fake.state.killService('nc1');
    const env = envFor('nc1', { config: novaConf('nc1') });
    expect((await run(novaCompute, 'monitor', { ...env, OCF_RESKEY_CRM_meta_interval: '0' })).rc).toBe(OCF.NOT_RUNNING);
    const st = await run(novaCompute, 'start', env);
    expect(st.stderr).toBe('');
    expect(st.rc).toBe(OCF.SUCCESS);
    const pid = pidOf();
    expect(processAlive(pid)).toBe(true);
    expect(fake.state.serviceState(svc('nc1'))).toBe('up');
    expect(logText()).toMatch(/started OpenStack Nova Compute \(nova-compute\): pid \d+/);
    expect((await run(novaCompute, 'monitor', env)).rc).toBe(OCF.SUCCESS);
    // already running: start is a no-op
    expect((await run(novaCompute, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect((await run(novaCompute, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(processAlive(pid)).toBe(false);
    expect((await run(novaCompute, 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
    expect((await run(novaCompute, 'monitor', { ...env, OCF_RESKEY_CRM_meta_interval: '0' })).rc).toBe(OCF.NOT_RUNNING);
  });

  it('a fenced host whose evacuate attribute was erased (a remote node reconnecting): start asks for the evacuation again and holds until it is done', async () => {
    fence('nc6');
    // no attribute at all: Pacemaker purged it when the remote node's connection came back
    const env = envFor('nc6', { config: novaConf('nc6'), evacuation_delay: '0' });
    const starting = run(novaCompute, 'start', env);
    const readAttr = () => spawnSync(path.join(FAKE_BIN, 'attrd_updater'), ['-p', '-n', 'evacuate', '-Q', '-N', 'nc6'],
      { env: process.env, encoding: 'utf8' }).stdout;
    await waitFor(() => /value="yes"/.test(readAttr()), 10000);
    await sleep(2500);
    expect(fs.existsSync(pidFile())).toBe(false); // held until NovaEvacuate says done
    expect(svc('nc6').status).toBe('disabled');
    attr('nc6', 'no');
    const st = await starting;
    expect(st.rc).toBe(OCF.SUCCESS);
    pidOf();
    expect(logText()).toMatch(/nc6's evacuate attribute is gone while Nova still has nc6 fenced .*Asking for its evacuation again/);
    expect(svc('nc6')).toMatchObject({ forcedDown: false, status: 'enabled' });
    expect((await run(novaCompute, 'stop', env)).rc).toBe(OCF.SUCCESS);
  });

  it('a fenced host: start holds while evacuate=yes, waits evacuation_delay, unfences, and clears forced_down once nova-compute runs', async () => {
    fence('nc2');
    attr('nc2', 'yes');
    const env = envFor('nc2', { config: novaConf('nc2'), evacuation_delay: '1' });
    const t0 = Date.now();
    const starting = run(novaCompute, 'start', env);
    await sleep(2500);
    expect(fs.existsSync(pidFile())).toBe(false); // nova-compute held back
    expect(svc('nc2').status).toBe('disabled');
    attr('nc2', 'no');
    const st = await starting;
    expect(st.stderr).toBe('');
    expect(st.rc).toBe(OCF.SUCCESS);
    pidOf();
    expect(Date.now() - t0).toBeGreaterThan(3000); // the hold, then evacuation_delay
    expect(logText()).toMatch(/Waiting for pending evacuations from nc2 \(evacuate=yes\)/);
    expect(logText()).toMatch(/Pausing 1 s to give evacuations from nc2 time to complete/);
    // Nova refused forced_down=false before nova-compute ran; the start's readiness check finished it
    expect(logText()).toMatch(/stays forced down until it has started again/);
    expect(svc('nc2')).toMatchObject({ forcedDown: false, status: 'enabled' });
    expect(fake.state.serviceState(svc('nc2'))).toBe('up');
    expect(fs.readFileSync(path.join(dir, 'run', 'nc.unfence'), 'utf8')).toBe('');
    expect((await run(novaCompute, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(fs.existsSync(path.join(dir, 'run', 'nc.unfence'))).toBe(false);
  });

  it('an evacuation still pending at the start deadline: OCF_ERR_GENERIC with a reason, nova-compute not started', async () => {
    attr('nc3', 'compute1@1700000000');
    const env = envFor('nc3', { config: novaConf('nc3') }, { OCF_RESKEY_CRM_meta_timeout: '8000' });
    const t0 = Date.now();
    const st = await run(novaCompute, 'start', env);
    expect(st.rc).toBe(OCF.ERR_GENERIC);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(st.stderr).toMatch(/ocf-exit-reason:evacuation of nc3 is still pending \(evacuate=compute1@1700000000\); nova-compute stays held back/);
    expect(fs.existsSync(pidFile())).toBe(false);
  });

  it('stop escalates to SIGKILL before the deadline when nova-compute ignores SIGTERM', async () => {
    fake.state.killService('nc4'); // the start waits for the daemon's first report (its SIGTERM handler is set by then)
    const env = envFor('nc4', { config: novaConf('nc4', { ignore_term: 'yes' }) });
    expect((await run(novaCompute, 'start', env)).rc).toBe(OCF.SUCCESS);
    const pid = pidOf();
    const t0 = Date.now();
    const r = await run(novaCompute, 'stop', { ...env, OCF_RESKEY_CRM_meta_timeout: '4000' });
    expect(r.rc).toBe(OCF.SUCCESS);
    expect(processAlive(pid)).toBe(false);
    expect(Date.now() - t0).toBeGreaterThan(2500);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(logText()).toMatch(/stopped \(SIGKILL\)/);
  });

  it('passes neither credentials nor the agent environment to nova-compute; reads nova.conf.d with --config-dir', async () => {
    const argvFile = path.join(dir, 'argv.json');
    const conf = novaConf('nc6', { argv_file: argvFile });
    fs.mkdirSync(path.join(dir, 'nova.conf.d'));
    const env = envFor('nc6', { config: conf });
    expect((await run(novaCompute, 'start', env)).rc).toBe(OCF.SUCCESS);
    pidOf();
    await waitFor(() => fs.existsSync(argvFile));
    const seen = JSON.parse(fs.readFileSync(argvFile, 'utf8')) as { argv: string[]; env: string[] };
    expect(seen.argv.slice(1)).toEqual(['--config-file', conf, '--config-dir', path.join(dir, 'nova.conf.d')]);
    expect(JSON.stringify(seen)).not.toContain(fake.state.admin.password);
    expect(seen.env.filter((k) => k.startsWith('OCF_') || k.startsWith('OS_'))).toEqual([]);
    expect(seen.env).toContain('LIBGUESTFS_ATTACH_METHOD');
    expect((await run(novaCompute, 'stop', env)).rc).toBe(OCF.SUCCESS);
  });

  describe('bad input', () => {
    it('missing nova.conf: OCF_ERR_CONFIGURED; a probe of the stopped resource says not running', async () => {
      const env = envFor('nc1', { config: path.join(dir, 'none', 'nova.conf') });
      const r = await run(novaCompute, 'validate-all', env);
      expect(r.rc).toBe(OCF.ERR_CONFIGURED);
      expect(r.stderr).toMatch(/ocf-exit-reason:config .*none\/nova\.conf does not exist/);
      expect((await run(novaCompute, 'start', env)).rc).toBe(OCF.ERR_CONFIGURED);
      expect((await run(novaCompute, 'monitor', { ...env, OCF_RESKEY_CRM_meta_interval: '0' })).rc).toBe(OCF.NOT_RUNNING);
    });

    it('missing credentials: OCF_ERR_CONFIGURED', async () => {
      const env = envFor('nc1', { config: novaConf('nc1') }, { OCF_RESKEY_password: '' });
      const r = await run(novaCompute, 'validate-all', env);
      expect(r.rc).toBe(OCF.ERR_CONFIGURED);
      expect(r.stderr).toMatch(/ocf-exit-reason:password not configured/);
    });

    it('a configured Nova host name that is not the node name: OCF_ERR_CONFIGURED, nothing started', async () => {
      const env = envFor('nc1', { config: novaConf('nc1', {}, 'nc1.example.com') });
      let r = await run(novaCompute, 'validate-all', env);
      expect(r.rc).toBe(OCF.ERR_CONFIGURED);
      expect(r.stderr).toMatch(/ocf-exit-reason:invalid Nova host name nc1\.example\.com \(host in .*nova\.conf\): it must be nc1/);
      expect((await run(novaCompute, 'start', env)).rc).toBe(OCF.ERR_CONFIGURED);
      expect(fs.existsSync(pidFile())).toBe(false);
      // with domain set, short names are compared
      r = await run(novaCompute, 'validate-all', { ...env, OCF_RESKEY_domain: 'example.com' });
      expect(r.rc).toBe(OCF.SUCCESS);
    });

    it('missing binary: OCF_ERR_INSTALLED; negative evacuation_delay: OCF_ERR_CONFIGURED', async () => {
      const env = envFor('nc1', { config: novaConf('nc1'), binary: path.join(dir, 'no-nova-compute') });
      const r = await run(novaCompute, 'validate-all', env);
      expect(r.rc).toBe(OCF.ERR_INSTALLED);
      expect(r.stderr).toMatch(/ocf-exit-reason:binary .*no-nova-compute not found or not executable/);
      const d = await run(novaCompute, 'validate-all', envFor('nc1', { config: novaConf('nc1'), evacuation_delay: '-1' }));
      expect(d.rc).toBe(OCF.ERR_CONFIGURED);
    });
  });

  it('nova-compute-wait (same hold): holds while evacuate=yes, unfences; its monitor clears forced_down once nova-compute runs', async () => {
    fence('nc5');
    attr('nc5', 'yes');
    const env = envFor('nc5', {}, { OCF_RESOURCE_INSTANCE: 'wait' });
    const starting = run(novaComputeWait, 'start', env);
    await sleep(2500);
    expect(svc('nc5').status).toBe('disabled');
    attr('nc5', 'no');
    expect((await starting).rc).toBe(OCF.SUCCESS);
    const state = path.join(dir, 'run', 'wait.active');
    expect(svc('nc5')).toMatchObject({ status: 'enabled', forcedDown: true });
    expect(fs.readFileSync(state, 'utf8')).toBe('unfence-pending nc5\n');
    expect((await run(novaComputeWait, 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect(svc('nc5').forcedDown).toBe(true);
    fake.state.reviveService('nc5'); // nova-compute started (ordered after nova-compute-wait)
    expect((await run(novaComputeWait, 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect(svc('nc5').forcedDown).toBe(false);
    expect(fs.readFileSync(state, 'utf8')).toBe('');
    expect((await run(novaComputeWait, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect((await run(novaComputeWait, 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
  });
});
