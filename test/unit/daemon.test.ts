/**
 * The daemon engine (lib/daemon/engine.ts) with real processes: test/daemons/fake-service (a python HTTP server driven by
 * an ini file) started, monitored and stopped through the OCF runtime, as Pacemaker would.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runOcf, OCF } from '../../lib/runtime/ocf/index';
import {
  serviceAgent, splitArgs, chooseMode, checkPid, procStat, processAlive, marginMs, iniValue, runsBinary,
  type ServiceDef, type DaemonRecord,
} from '../../lib/daemon/engine';
import { httpProbe } from '../../lib/daemon/health';
import { capture } from './capture';
import { tmpDir, rmDir, sleep, freePort } from '../fake/harness';

const DAEMON = path.resolve(__dirname, '../daemons/fake-service');
let dir: string;
let port = 0;
const started: number[] = [];


function writeConf(name: string, opts: Record<string, string>): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, '[fake]\n' + Object.entries(opts).map(([k, v]) => `${k} = ${v}\n`).join(''));
  fs.chmodSync(file, 0o644);
  return file;
}

const def = (over: Partial<ServiceDef> = {}): ServiceDef => ({
  name: 'test-svc', title: 'test service', shortdesc: 'Test service', longdesc: 'A test service.',
  binary: DAEMON, config: '/etc/test-svc.conf', user: 'root',
  params: [{ name: 'url', type: 'string', default: 'http://127.0.0.1:1/', shortdesc: 'url' }],
  health: (ctx) => httpProbe(ctx.str('url'), [200], 2000),
  ...over,
});

function envFor(instance: string, params: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HA_RSCTMP: path.join(dir, 'run'), OCF_RESOURCE_INSTANCE: instance, HA_LOGFILE: path.join(dir, `${instance}.log`), OCF_RESKEY_CRM_meta_interval: '10000', ...extra };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  return env;
}

async function run(d: ServiceDef, action: string, env: NodeJS.ProcessEnv) {
  const r = await capture(() => runOcf(serviceAgent(d, '1'), [action], env));
  return { rc: r.result, stderr: r.stderr };
}

function pidOf(instance: string): number {
  const pid = Number(fs.readFileSync(path.join(dir, 'run', `${instance}.pid`), 'utf8'));
  started.push(pid);
  return pid;
}

beforeAll(async () => {
  dir = tmpDir('oha-daemon-');
  fs.chmodSync(dir, 0o755);
  port = await freePort();
});
afterEach(() => {
  for (const pid of started.splice(0)) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
});
afterAll(() => rmDir(dir));

describe('pure helpers', () => {
  it('splits additional_parameters like a shell, without running one', () => {
    expect(splitArgs('')).toEqual([]);
    expect(splitArgs(' --a 1  --b "two words" \'$HOME\' c\\ d "x\\"y"')).toEqual(['--a', '1', '--b', 'two words', '$HOME', 'c d', 'x"y']);
    expect(splitArgs('--empty ""')).toEqual(['--empty', '']);
    expect(() => splitArgs('--a "unterminated')).toThrow(/unterminated/);
  });
  it('chooses systemd only when a unit is configured, systemd runs and the unit exists', () => {
    expect(chooseMode({ unit: '', systemdRunning: true, unitExists: true }).mode).toBe('direct');
    expect(chooseMode({ unit: 'cinder-api.service', systemdRunning: false, unitExists: true })).toEqual({ mode: 'direct', why: expect.stringMatching(/systemd is not running/) });
    expect(chooseMode({ unit: 'cinder-api.service', systemdRunning: true, unitExists: false })).toEqual({ mode: 'direct', why: expect.stringMatching(/no systemd unit/) });
    expect(chooseMode({ unit: 'cinder-api.service', systemdRunning: true, unitExists: true }).mode).toBe('systemd');
  });
  it('keeps a margin of 20 % between 1 and 5 s before deadlines', () => {
    expect(marginMs(2000)).toBe(1000);
    expect(marginMs(10000)).toBe(2000);
    expect(marginMs(60000)).toBe(5000);
  });
  it('reads oslo.config ini values', () => {
    const f = path.join(dir, 'c.conf');
    fs.writeFileSync(f, '# c\n[DEFAULT]\nhost = cinder-cluster-1\nenabled_backends=ceph, lvm\n[ceph]\nhost = other\n');
    expect(iniValue(f, 'DEFAULT', 'host')).toBe('cinder-cluster-1');
    expect(iniValue(f, 'DEFAULT', 'enabled_backends')).toBe('ceph, lvm');
    expect(iniValue(f, 'ceph', 'host')).toBe('other');
    expect(iniValue(f, 'DEFAULT', 'nope')).toBe('');
    expect(iniValue('/nonexistent', 'DEFAULT', 'host')).toBe('');
  });
});

describe('pid files: stale and recycled pids', () => {
  it('no pid file, garbage, a dead pid', async () => {
    const pf = path.join(dir, 'x.pid');
    expect(checkPid(pf, undefined, 'sleep')).toMatchObject({ state: 'stopped', stale: false });
    fs.writeFileSync(pf, 'garbage\n');
    expect(checkPid(pf, undefined, 'sleep')).toMatchObject({ state: 'stopped', stale: true });
    const child = spawn('sleep', ['30']);
    const pid = child.pid!;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    fs.writeFileSync(pf, `${pid}\n`);
    expect(checkPid(pf, undefined, 'sleep')).toMatchObject({ state: 'stopped', stale: true, why: expect.stringMatching(/is gone/) });
  });
  it('a live pid with another start time is a recycled pid; a foreign pid file is judged by the command line', async () => {
    const child = spawn('sleep', ['30']);
    const pid = child.pid!;
    try {
      await sleep(50);
      const pf = path.join(dir, 'y.pid');
      fs.writeFileSync(pf, `${pid}\n`);
      const st = procStat(pid)!;
      const rec = (startTime: string): DaemonRecord => ({ pid, startTime, binary: 'sleep', startedAt: 0, mode: 'direct' });
      expect(checkPid(pf, rec(st.startTime), 'sleep')).toMatchObject({ state: 'running', pid });
      expect(checkPid(pf, rec(String(Number(st.startTime) - 1)), 'sleep')).toMatchObject({ state: 'stopped', stale: true, why: expect.stringMatching(/another process/) });
      // pid file deleted behind our back: the record still finds the daemon
      expect(checkPid(path.join(dir, 'none.pid'), rec(st.startTime), 'sleep')).toMatchObject({ state: 'running', pid });
      expect(checkPid(path.join(dir, 'none.pid'), rec('1'), 'sleep')).toMatchObject({ state: 'stopped', stale: false });
      // no record (pid file of the reference agent): the process must run the binary
      expect(runsBinary(pid, 'sleep')).toBe(true);
      expect(checkPid(pf, undefined, 'sleep')).toMatchObject({ state: 'running' });
      expect(checkPid(pf, undefined, '/usr/bin/cinder-api')).toMatchObject({ state: 'stopped', stale: true, why: expect.stringMatching(/not \/usr\/bin\/cinder-api/) });
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('start, monitor, stop with a real daemon', () => {
  it('starts as the user, detached, with a clean environment; monitors; stops', async () => {
    const out = path.join(dir, 'out');
    fs.mkdirSync(out, { mode: 0o777 });
    fs.chmodSync(out, 0o777);
    const argvFile = path.join(out, 'argv.json');
    const conf = writeConf('a.conf', { port: String(port), argv_file: argvFile });
    const env = envFor('a', { config: conf, user: 'nobody', url: `http://127.0.0.1:${port}/`, additional_parameters: '--debug "two words"' },
      { OCF_RESKEY_os_password: 'not-a-param-but-in-env' });
    const t0 = Date.now();
    const st = await run(def(), 'start', env);
    expect(st.stderr).toBe('');
    expect(st.rc).toBe(OCF.SUCCESS);
    const startMs = Date.now() - t0;
    const pid = pidOf('a');
    const info = JSON.parse(fs.readFileSync(argvFile, 'utf8'));
    expect(info.pid).toBe(pid); // setpriv execs: the recorded pid is the daemon
    expect(info.uid).toBe(65534);
    expect(info.gid).toBe(65534);
    expect(info.argv.slice(1)).toEqual(['--config-file', conf, '--debug', 'two words']);
    expect(info.env.filter((k: string) => k.startsWith('OCF_') || k.startsWith('HA_'))).toEqual([]);
    expect(procStat(pid)).toBeDefined();
    // its own session: not in our process group
    expect(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[2]).toBe(String(pid));
    expect((await run(def(), 'monitor', env)).rc).toBe(OCF.SUCCESS);
    // start again: already running, same pid
    expect((await run(def(), 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(pidOf('a')).toBe(pid);
    expect((await run(def(), 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(processAlive(pid)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'run', 'a.pid'))).toBe(false);
    expect((await run(def(), 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
    expect((await run(def(), 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(startMs).toBeLessThan(5000);
  });

  it('a stale pid file (dead pid) is replaced at start and reported not running by monitor', async () => {
    const conf = writeConf('b.conf', { port: String(port) });
    const env = envFor('b', { config: conf, url: `http://127.0.0.1:${port}/` });
    fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
    const child = spawn('sleep', ['30']);
    const dead = child.pid!;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    fs.writeFileSync(path.join(dir, 'run', 'b.pid'), `${dead}\n`);
    const mon = await run(def(), 'monitor', env);
    expect(mon.rc).toBe(OCF.NOT_RUNNING);
    expect(fs.readFileSync(env.HA_LOGFILE!, 'utf8')).toMatch(/stale pid file .* is gone/);
    fs.writeFileSync(path.join(dir, 'run', 'b.pid'), `${dead}\n`);
    expect((await run(def(), 'start', env)).rc).toBe(OCF.SUCCESS);
    const pid = pidOf('b');
    expect(pid).not.toBe(dead);
    expect((await run(def(), 'stop', env)).rc).toBe(OCF.SUCCESS);
  });

  it('a recycled pid (our pid file, another live process) is not our daemon', async () => {
    const conf = writeConf('c.conf', { port: String(port) });
    const env = envFor('c', { config: conf, url: `http://127.0.0.1:${port}/` });
    expect((await run(def(), 'start', env)).rc).toBe(OCF.SUCCESS);
    const pid = pidOf('c');
    expect((await run(def(), 'stop', env)).rc).toBe(OCF.SUCCESS);
    // simulate the pid being reused by an unrelated process: pid file + record point at a live `sleep`
    const other = spawn('sleep', ['30']);
    try {
      await sleep(50);
      fs.writeFileSync(path.join(dir, 'run', 'c.pid'), `${other.pid}\n`);
      fs.writeFileSync(path.join(dir, 'run', 'c.daemon'), JSON.stringify({ pid: other.pid, startTime: '1', binary: DAEMON, startedAt: Date.now(), mode: 'direct' }));
      expect((await run(def(), 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
      expect(fs.readFileSync(env.HA_LOGFILE!, 'utf8')).toMatch(/belongs to another process/);
      // stop must not kill the unrelated process
      fs.writeFileSync(path.join(dir, 'run', 'c.pid'), `${other.pid}\n`);
      fs.writeFileSync(path.join(dir, 'run', 'c.daemon'), JSON.stringify({ pid: other.pid, startTime: '1', binary: DAEMON, startedAt: Date.now(), mode: 'direct' }));
      expect((await run(def(), 'stop', env)).rc).toBe(OCF.SUCCESS);
      expect(processAlive(other.pid!)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
    expect(pid).toBeGreaterThan(1);
  });

  it('escalates to SIGKILL before the stop deadline when SIGTERM is ignored', async () => {
    const conf = writeConf('d.conf', { port: String(port), ignore_term: 'yes' });
    const env = envFor('d', { config: conf, url: `http://127.0.0.1:${port}/` });
    expect((await run(def(), 'start', env)).rc).toBe(OCF.SUCCESS);
    const pid = pidOf('d');
    const t0 = Date.now();
    const r = await run(def(), 'stop', { ...env, OCF_RESKEY_CRM_meta_timeout: '4000' });
    const took = Date.now() - t0;
    expect(r.rc).toBe(OCF.SUCCESS);
    expect(processAlive(pid)).toBe(false);
    // SIGKILL at 4 s - margin (1 s): within the timeout, not before SIGTERM had its chance
    expect(took).toBeGreaterThan(2500);
    expect(took).toBeLessThan(4000);
    const logText = fs.readFileSync(env.HA_LOGFILE!, 'utf8');
    expect(logText).toMatch(/sending SIGKILL/);
    expect(logText).toMatch(/stopped \(SIGKILL\)/);
  });

  it('a daemon that dies during start fails the start with OCF_ERR_GENERIC', async () => {
    const conf = writeConf('e.conf', { port: '0', exit_after: '0.3' });
    const env = envFor('e', { config: conf, url: `http://127.0.0.1:${port}/` }, { OCF_RESKEY_CRM_meta_timeout: '10000' });
    const r = await run(def(), 'start', env);
    expect(r.rc).toBe(OCF.ERR_GENERIC);
    expect(r.stderr).toMatch(/ocf-exit-reason:test service exited during start/);
    expect(fs.existsSync(path.join(dir, 'run', 'e.pid'))).toBe(false);
  });

  it('not ready by the start deadline: fails, unless the grace period runs on', async () => {
    const conf = writeConf('f.conf', { port: '0' }); // runs, never listens
    const env = envFor('f', { config: conf, url: `http://127.0.0.1:${port}/` }, { OCF_RESKEY_CRM_meta_timeout: '3000' });
    const t0 = Date.now();
    const r = await run(def(), 'start', env);
    expect(r.rc).toBe(OCF.ERR_GENERIC);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r.stderr).toMatch(/did not become ready before the start timeout: GET http:\/\/127\.0\.0\.1:\d+\/: connection failed \(ECONNREFUSED\)/);
    started.push(pidOf('f'));
    await run(def(), 'stop', env);
    const g = await run(def(), 'start', { ...env, OCF_RESKEY_grace: '60' });
    expect(g.rc).toBe(OCF.SUCCESS);
    pidOf('f');
    // during the grace period failed health checks do not count
    expect((await run(def(), 'monitor', { ...env, OCF_RESKEY_grace: '60', OCF_RESKEY_failures: '1' })).rc).toBe(OCF.SUCCESS);
    expect((await run(def(), 'monitor', { ...env, OCF_RESKEY_grace: '0', OCF_RESKEY_failures: '1' })).rc).toBe(OCF.ERR_GENERIC);
    await run(def(), 'stop', env);
  });

  it('counts consecutive health failures in a state file; a success resets the count', async () => {
    const status = path.join(dir, 'g.status');
    const conf = writeConf('g.conf', { port: String(port), status_file: status });
    const env = envFor('g', { config: conf, url: `http://127.0.0.1:${port}/`, failures: '3' });
    expect((await run(def(), 'start', env)).rc).toBe(OCF.SUCCESS);
    pidOf('g');
    fs.writeFileSync(status, '503');
    expect((await run(def(), 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run(def(), 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect(fs.readFileSync(path.join(dir, 'run', 'g.failures'), 'utf8').trim()).toBe('2');
    fs.writeFileSync(status, '200');
    expect((await run(def(), 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect(fs.existsSync(path.join(dir, 'run', 'g.failures'))).toBe(false);
    fs.writeFileSync(status, '500');
    expect((await run(def(), 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run(def(), 'monitor', env)).rc).toBe(OCF.SUCCESS);
    const third = await run(def(), 'monitor', env);
    expect(third.rc).toBe(OCF.ERR_GENERIC);
    expect(third.stderr).toMatch(/ocf-exit-reason:test service health check failed \(3 in a row\): GET http:\/\/127\.0\.0\.1:\d+\/ returned HTTP 500/);
    // a probe only looks at the process
    expect((await run(def(), 'monitor', { ...env, OCF_RESKEY_CRM_meta_interval: '0' })).rc).toBe(OCF.SUCCESS);
    expect((await run(def(), 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(fs.existsSync(path.join(dir, 'run', 'g.failures'))).toBe(false);
  });

  it('a daemon killed behind the agent\'s back is not running (Pacemaker recovers it)', async () => {
    const conf = writeConf('h.conf', { port: String(port) });
    const env = envFor('h', { config: conf, url: `http://127.0.0.1:${port}/` });
    expect((await run(def(), 'start', env)).rc).toBe(OCF.SUCCESS);
    const pid = pidOf('h');
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && processAlive(pid); i++) await sleep(20);
    expect((await run(def(), 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
    expect((await run(def(), 'stop', env)).rc).toBe(OCF.SUCCESS);
  });
});

describe('bad input', () => {
  const conf = () => writeConf('bad.conf', { port: String(port) });
  it('missing binary: ERR_INSTALLED, but a probe says not running', async () => {
    const env = envFor('bad', { config: conf(), binary: '/nonexistent/cinder-api' });
    const r = await run(def(), 'start', env);
    expect(r.rc).toBe(OCF.ERR_INSTALLED);
    expect(r.stderr).toMatch(/binary \/nonexistent\/cinder-api not found/);
    expect((await run(def(), 'monitor', env)).rc).toBe(OCF.ERR_INSTALLED);
    expect((await run(def(), 'monitor', { ...env, OCF_RESKEY_CRM_meta_interval: '0' })).rc).toBe(OCF.NOT_RUNNING);
    expect((await run(def(), 'validate-all', env)).rc).toBe(OCF.ERR_INSTALLED);
  });
  it('unknown user: ERR_INSTALLED', async () => {
    const r = await run(def(), 'start', envFor('bad', { config: conf(), user: 'no-such-user-oha' }));
    expect(r.rc).toBe(OCF.ERR_INSTALLED);
    expect(r.stderr).toMatch(/user no-such-user-oha does not exist/);
  });
  it('missing config: ERR_INSTALLED outside probes; a probe of the stopped service says not running', async () => {
    const env = envFor('bad', { config: '/mnt/shared-not-mounted/cinder.conf' });
    const r = await run(def(), 'start', env);
    expect(r.rc).toBe(OCF.ERR_INSTALLED);
    expect(r.stderr).toMatch(/config \/mnt\/shared-not-mounted\/cinder.conf does not exist/);
    expect((await run(def(), 'validate-all', env)).rc).toBe(OCF.ERR_INSTALLED);
    expect((await run(def(), 'monitor', { ...env, OCF_RESKEY_CRM_meta_interval: '0' })).rc).toBe(OCF.NOT_RUNNING);
  });
  it('a running service with its config gone (shared storage lost) still probes as running', async () => {
    const c = writeConf('i.conf', { port: String(port) });
    const env = envFor('i', { config: c, url: `http://127.0.0.1:${port}/` });
    expect((await run(def(), 'start', env)).rc).toBe(OCF.SUCCESS);
    pidOf('i');
    fs.renameSync(c, `${c}.away`);
    expect((await run(def(), 'monitor', { ...env, OCF_RESKEY_CRM_meta_interval: '0' })).rc).toBe(OCF.SUCCESS);
    expect((await run(def(), 'stop', env)).rc).toBe(OCF.SUCCESS);
  });
  it('bad numbers and quotes: ERR_CONFIGURED', async () => {
    expect((await run(def(), 'validate-all', envFor('bad', { config: conf(), failures: '0' }))).rc).toBe(OCF.ERR_CONFIGURED);
    expect((await run(def(), 'validate-all', envFor('bad', { config: conf(), grace: 'soon' }))).rc).toBe(OCF.ERR_CONFIGURED);
    expect((await run(def(), 'validate-all', envFor('bad', { config: conf(), additional_parameters: '--x "open' }))).rc).toBe(OCF.ERR_CONFIGURED);
  });
});

describe('metadata', () => {
  it('validates against ra-api-1.dtd', async () => {
    const { stdout } = await capture(() => runOcf(serviceAgent(def(), '1'), ['meta-data'], {}));
    const f = path.join(dir, 'meta.xml');
    fs.writeFileSync(f, stdout);
    const r = spawnSync('xmllint', ['--noout', '--dtdvalid', '/usr/share/resource-agents/ra-api-1.dtd', f], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/validity error|parser error/);
    expect(r.status).toBe(0);
  });
});
