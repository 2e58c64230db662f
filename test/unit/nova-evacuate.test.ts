/** NovaEvacuate (and nova-compute-wait) run in-process: deadlines inside the action timeout. */
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeContext, runOcf, OCF } from '../../lib/runtime/ocf/index';
import { definition as novaEvacuate, boundedPolicy } from '../../agents/NovaEvacuate';
import { definition as novaComputeWait } from '../../agents/nova-compute-wait';
import { startFakeOpenStack, type FakeOpenStack } from '../fake/openstack-fake';
import { tmpDir, rmDir, waitFor } from '../fake/harness';
import { capture } from './capture';

const CREDS = { OCF_RESKEY_auth_url: 'http://127.0.0.1:9/v3', OCF_RESKEY_username: 'a', OCF_RESKEY_password: 'b', OCF_RESKEY_tenant_name: 'c' };

describe('NovaEvacuate: the verification deadline stays inside the monitor timeout', () => {
  it('a 60 s monitor timeout caps verify_timeout (default 600 s) below 60 s', () => {
    const ctx = makeContext(novaEvacuate, 'monitor', { ...CREDS, OCF_RESKEY_CRM_meta_timeout: '60000' });
    const p = boundedPolicy(ctx);
    expect(p.verifyTimeoutSec).toBeGreaterThan(0);
    expect(p.verifyTimeoutSec).toBeLessThan(60);
  });

  it("Pacemaker's default 20 s monitor timeout still leaves the verification most of it (15 s), not the 5 s floor", () => {
    const ctx = makeContext(novaEvacuate, 'monitor', { ...CREDS, OCF_RESKEY_CRM_meta_timeout: '20000' });
    expect(boundedPolicy(ctx).verifyTimeoutSec).toBeGreaterThanOrEqual(14);
    expect(boundedPolicy(ctx).verifyTimeoutSec).toBeLessThan(20);
    // and it ends by then, counted from the monitor's start, not from the start of the verification
    expect(boundedPolicy(ctx).verifyUntil! - ctx.deadlineAt!).toBeLessThanOrEqual(-4000);
  });

  it('without a timeout, verify_timeout is used as configured', () => {
    const ctx = makeContext(novaEvacuate, 'monitor', { ...CREDS, OCF_RESKEY_verify_timeout: '120' });
    expect(boundedPolicy(ctx).verifyTimeoutSec).toBe(120);
  });
});

describe('OCF context: remaining()', () => {
  it('is the seconds left until OCF_RESKEY_CRM_meta_timeout, undefined without one', () => {
    const ctx = makeContext(novaEvacuate, 'monitor', { OCF_RESKEY_CRM_meta_timeout: '60000' });
    const left = ctx.remaining();
    expect(left).toBeGreaterThan(59);
    expect(left).toBeLessThanOrEqual(60);
    expect(makeContext(novaEvacuate, 'monitor', {}).remaining()).toBeUndefined();
  });
});

describe('monitors when attrd cannot be reached', () => {
  const FAKE_BIN = path.resolve(__dirname, '../fake/bin');
  const saved = { PATH: process.env.PATH, ATTRD_FAKE_DIR: process.env.ATTRD_FAKE_DIR, STATE: process.env.OPENSTACK_HA_AGENTS_STATE_DIR };
  let fake: FakeOpenStack;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const logText = () => { try { return fs.readFileSync(path.join(dir, 'ra.log'), 'utf8'); } catch { return ''; } };
  const run = async (agent: typeof novaEvacuate, action: string) => (await capture(() => runOcf(agent, [action], env))).result;
  const attrdPath = {
    // an attrd_updater that cannot reach attrd (outside a running cluster), and none at all
    failing: () => path.join(dir, 'stub-bin') + ':/usr/bin:/bin',
    missing: () => path.join(dir, 'empty-bin') + ':/usr/bin:/bin',
    working: () => `${FAKE_BIN}:/usr/bin:/bin`,
  };
  const attr = (node: string, value?: string) => execFileSync(path.join(FAKE_BIN, 'attrd_updater'),
    ['-p', '-n', 'evacuate', '-Q', '-N', node, ...(value === undefined ? [] : ['-U', value])], { env: process.env, encoding: 'utf8' });

  beforeAll(async () => { fake = await startFakeOpenStack({ hosts: 3 }); });
  afterAll(async () => { await fake.close(); });
  beforeEach(() => {
    dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'stub-bin'));
    fs.mkdirSync(path.join(dir, 'empty-bin'));
    fs.writeFileSync(path.join(dir, 'stub-bin', 'attrd_updater'),
      '#!/bin/sh\necho "Could not connect to the attribute manager: Transport endpoint is not connected" >&2\nexit 102\n', { mode: 0o755 });
    process.env.ATTRD_FAKE_DIR = path.join(dir, 'attrd');
    process.env.OPENSTACK_HA_AGENTS_STATE_DIR = path.join(dir, 'state');
    env = {
      HA_RSCTMP: path.join(dir, 'rsc'), HA_LOGFILE: path.join(dir, 'ra.log'), OCF_RESOURCE_INSTANCE: 'rsc',
      OCF_RESKEY_CRM_meta_on_node: 'node-a', OCF_RESKEY_CRM_meta_interval: '10000', OCF_RESKEY_CRM_meta_timeout: '600000',
      OCF_RESKEY_auth_url: fake.url, OCF_RESKEY_username: 'admin', OCF_RESKEY_password: fake.state.admin.password,
      OCF_RESKEY_tenant_name: 'admin', OCF_RESKEY_endpoint_type: 'public', OCF_RESKEY_evacuation_delay: '0',
    };
  });
  afterEach(() => {
    for (const [k, v] of Object.entries({ PATH: saved.PATH, ATTRD_FAKE_DIR: saved.ATTRD_FAKE_DIR, OPENSTACK_HA_AGENTS_STATE_DIR: saved.STATE })) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    rmDir(dir);
  });

  for (const kind of ['failing', 'missing'] as const) {
    it(`NovaEvacuate: monitor of the started resource returns 0 and warns (attrd_updater ${kind})`, async () => {
      expect(await run(novaEvacuate, 'start')).toBe(OCF.SUCCESS);
      process.env.PATH = attrdPath[kind]();
      expect(await run(novaEvacuate, 'monitor')).toBe(OCF.SUCCESS);
      expect(logText()).toMatch(/WARNING: .*evacuate attributes.*next monitor/);
      process.env.PATH = saved.PATH;
      expect(await run(novaEvacuate, 'stop')).toBe(OCF.SUCCESS);
      expect(await run(novaEvacuate, 'monitor')).toBe(OCF.NOT_RUNNING);
    });

    it(`nova-compute-wait: monitor of the started resource returns 0 (attrd_updater ${kind})`, async () => {
      fs.mkdirSync(env.HA_RSCTMP!, { recursive: true });
      fs.writeFileSync(path.join(env.HA_RSCTMP!, 'rsc.active'), '');
      process.env.PATH = attrdPath[kind]();
      expect(await run(novaComputeWait, 'monitor')).toBe(OCF.SUCCESS);
    });
  }

  it('NovaEvacuate: a hanging attrd_updater is killed inside the monitor timeout; the monitor returns 0 and warns', async () => {
    expect(await run(novaEvacuate, 'start')).toBe(OCF.SUCCESS);
    // it never answers, and its child holds the output pipes open after it is killed
    fs.mkdirSync(path.join(dir, 'hang-bin'));
    const pidFile = path.join(dir, 'sleep.pid');
    fs.writeFileSync(path.join(dir, 'hang-bin', 'attrd_updater'), `#!/bin/sh\nsleep 60 &\necho $! >${pidFile}\nwait\n`, { mode: 0o755 });
    process.env.PATH = path.join(dir, 'hang-bin') + ':/usr/bin:/bin';
    env.OCF_RESKEY_CRM_meta_timeout = '4000';
    try {
      const t0 = Date.now();
      expect(await run(novaEvacuate, 'monitor')).toBe(OCF.SUCCESS);
      const took = Date.now() - t0;
      expect(took).toBeLessThan(4000);
      expect(took).toBeGreaterThanOrEqual(1900); // attrd_updater had the monitor's timeout less 2 s
      expect(logText()).toMatch(/WARNING: cannot read the evacuate attributes .*timed out after \d{4} ms.*next monitor/);
    } finally {
      try { process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch { /* gone */ }
    }
  }, 10000);

  it("NovaEvacuate: stop hands this node's claims back (yes), leaves other nodes' claims and finished hosts alone", async () => {
    process.env.PATH = attrdPath.working();
    const now = Math.floor(Date.now() / 1000);
    attr('compute1', `node-a@${now}`);
    attr('compute2', `node-b@${now}`);
    attr('compute3', 'no');
    expect(await run(novaEvacuate, 'start')).toBe(OCF.SUCCESS);
    expect(await run(novaEvacuate, 'stop')).toBe(OCF.SUCCESS);
    expect(attr('compute1')).toContain('value="yes"');
    expect(attr('compute2')).toContain(`value="node-b@${now}"`);
    expect(attr('compute3')).toContain('value="no"');
    expect(logText()).toMatch(/Released this node's claim on the evacuation of compute1/);
    // attrd not answering does not fail the stop
    expect(await run(novaEvacuate, 'start')).toBe(OCF.SUCCESS);
    process.env.PATH = attrdPath.failing();
    expect(await run(novaEvacuate, 'stop')).toBe(OCF.SUCCESS);
    expect(logText()).toMatch(/could not release this node's evacuation claims/);
    process.env.PATH = saved.PATH;
  });

  it('NovaEvacuate: once attrd answers again, the next monitor evacuates the flagged host', async () => {
    fake.state.addServers('compute2', 3, { flavor: 'm1.evacuable' });
    const onCompute2 = () => fake.state.servers.filter((s) => s.host === 'compute2').length;
    expect(onCompute2()).toBe(3);
    fake.state.killService('compute2');
    process.env.PATH = attrdPath.working();
    attr('compute2', 'yes');
    expect(await run(novaEvacuate, 'start')).toBe(OCF.SUCCESS);
    process.env.PATH = attrdPath.failing();
    expect(await run(novaEvacuate, 'monitor')).toBe(OCF.SUCCESS);
    expect(onCompute2()).toBe(3);
    process.env.PATH = attrdPath.working();
    expect(await run(novaEvacuate, 'monitor')).toBe(OCF.SUCCESS);
    expect(attr('compute2')).toContain('value="no"');
    await waitFor(() => onCompute2() === 0, 5000);
    fake.state.reviveService('compute2');
  });
});
