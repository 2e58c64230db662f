/**
 * Daemon supervision for OCF agents: one engine behind every control-plane service agent (cinder-api, nova-conductor, ...).
 *
 * An agent is a {@link ServiceDef} (binary, default config, user, health check); {@link serviceAgent} turns it into an
 * {@link OcfAgent} whose actions do:
 *  - start: run the binary as its user (setpriv --reuid/--regid --init-groups, so the process keeps the pid we
 *    record), in a new session, with a clean environment (no OCF_RESKEY_*: no credential reaches the daemon),
 *    stdout/stderr to console_log or /dev/null; write the pid file and a record of the process (pid, start time from
 *    /proc/PID/stat); wait for the health check until the start deadline (OCF_RESKEY_CRM_meta_timeout);
 *  - stop: SIGTERM to the daemon's process group, SIGKILL when the stop deadline comes near, remove the pid file;
 *  - monitor: process alive and ours (pid + start time, or for a pid file written by someone else, /proc/PID/cmdline
 *    or exe naming the binary), then the health check; health failures end in OCF_ERR_GENERIC only after `failures`
 *    consecutive ones (count kept in a state file) and never during the `grace` period after start;
 *  - probes: a stopped service is not running, whatever the state of its configuration (config on absent shared
 *    storage, missing binary);
 *  - systemd mode: with `systemd_unit` set, systemd running and the unit known, start/stop go through systemctl and
 *    the unit's MainPID is recorded (decision in {@link chooseMode}; not exercised live here: no systemd).
 */
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  OCF, OcfError, stateFile, touchStateFile, removeStateFile,
  type OcfActionDef, type OcfAgent, type OcfContext, type OcfParam,
} from '../runtime/ocf/index';
import type { Logger } from '../core/log';
import { poll } from '../core/poll';

// ------------------------------------------------------------------------------------------------ processes

/** Shell-like word splitting of additional_parameters (single and double quotes, backslash escapes; no expansion). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote === "'") {
      if (c === "'") quote = undefined; else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c; inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i]; inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) { out.push(cur); cur = ''; inWord = false; }
    } else {
      cur += c; inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in "${s}"`);
  if (inWord) out.push(cur);
  return out;
}

/** The executable a binary parameter names: an absolute/relative path as is, a bare name looked up in PATH. */
export function resolveBinary(binary: string, pathEnv = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): string | undefined {
  const ok = (p: string) => {
    try { const st = fs.statSync(p); return st.isFile() && (st.mode & 0o111) !== 0; } catch { return false; }
  };
  if (binary.includes('/')) return ok(binary) ? path.resolve(binary) : undefined;
  for (const dir of `${pathEnv}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`.split(':')) {
    if (!dir) continue;
    const p = path.join(dir, binary);
    if (ok(p)) return p;
  }
  return undefined;
}

export interface UserInfo { name: string; uid: number; gid: number; home: string }

/** getent passwd NAME (NSS: files, LDAP, ...), falling back to /etc/passwd. */
export function lookupUser(name: string): UserInfo | undefined {
  const parse = (line: string): UserInfo | undefined => {
    const f = line.trim().split(':');
    if (f.length < 7 || f[0] !== name && String(f[2]) !== name) return undefined;
    return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' };
  };
  try {
    const out = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return parse(out.split('\n')[0]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return undefined; // getent ran: no such user
  }
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const u = parse(line);
      if (u) return u;
    }
  } catch { /* no passwd file */ }
  return undefined;
}

interface ProcStat { state: string; startTime: string }

/** State and start time (clock ticks since boot, field 22) from /proc/PID/stat; undefined when there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  let s: string;
  try { s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19]
  return { state: rest[0], startTime: rest[19] };
}

/** Alive: exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  const st = procStat(pid);
  return !!st && st.state !== 'Z' && st.state !== 'X';
}

export function procCmdline(pid: number): string[] {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((x) => x !== ''); } catch { return []; }
}

function procExe(pid: number): string | undefined {
  try { return fs.readlinkSync(`/proc/${pid}/exe`); } catch { return undefined; }
}

function realpathOr(p: string): string {
  try { return fs.realpathSync(p); } catch { return p; }
}

/**
 * Does this running process run that binary? Its exe, or one of its first two command-line words (interpreted
 * daemons: "/usr/bin/python3 /usr/bin/cinder-api ..."), is the binary (same real path, or same base name).
 */
export function runsBinary(pid: number, binary: string): boolean {
  const want = realpathOr(resolveBinary(binary) ?? binary);
  const base = path.basename(binary);
  const exe = procExe(pid);
  if (exe && realpathOr(exe.replace(/ \(deleted\)$/, '')) === want) return true;
  const words = procCmdline(pid).slice(0, 2);
  return words.some((w) => realpathOr(w) === want || path.basename(w) === base || path.basename(w.split(' ')[0]) === base);
}

/** What start records about the daemon, next to the pid file (in the OCF state directory). */
export interface DaemonRecord {
  pid: number;
  /** /proc/PID/stat start time: tells our process from a later one that got the same pid */
  startTime?: string;
  binary: string;
  /** epoch ms */
  startedAt: number;
  mode: 'direct' | 'systemd';
  unit?: string;
}

export type PidCheck =
  | { state: 'running'; pid: number; record?: DaemonRecord }
  | { state: 'stopped'; why: string; stale: boolean };

/**
 * The daemon of a pid file: running (ours), or stopped with the reason — no pid file, a stale one (no such
 * process), or a recycled pid (another process now has it).
 */
export function checkPid(pidFile: string, record: DaemonRecord | undefined, binary: string): PidCheck {
  let text: string;
  try {
    text = fs.readFileSync(pidFile, 'utf8');
  } catch {
    // the pid file was removed behind our back: our record still identifies a daemon that runs on
    if (record?.startTime && procStat(record.pid)?.startTime === record.startTime && processAlive(record.pid)) {
      return { state: 'running', pid: record.pid, record };
    }
    return { state: 'stopped', why: `no pid file ${pidFile}`, stale: false };
  }
  const pid = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isInteger(pid) || pid <= 1) return { state: 'stopped', why: `pid file ${pidFile} holds no pid ("${text.trim().slice(0, 40)}")`, stale: true };
  const st = procStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return { state: 'stopped', why: `stale pid file ${pidFile}: process ${pid} is gone`, stale: true };
  if (record && record.pid === pid && record.startTime) {
    if (record.startTime === st.startTime) return { state: 'running', pid, record };
    return { state: 'stopped', why: `stale pid file ${pidFile}: pid ${pid} now belongs to another process (started later)`, stale: true };
  }
  // a pid file without our record (written by another agent or an older version): trust the command line
  if (runsBinary(pid, binary)) return { state: 'running', pid, record };
  return { state: 'stopped', why: `stale pid file ${pidFile}: pid ${pid} runs ${procCmdline(pid).slice(0, 2).join(' ') || 'something else'}, not ${binary}`, stale: true };
}

/** Send a signal to the daemon's process group (it leads one: started with setsid), or to the process alone. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(-pid, sig); return; } catch { /* not a group leader (systemd/foreign pid file) */ }
  try { process.kill(pid, sig); } catch { /* gone */ }
}

/** Wait until the process is gone; false when `until` (epoch ms) passes first. */
async function waitGone(pid: number, until: number): Promise<boolean> {
  return (await poll(() => (processAlive(pid) ? undefined : true), { intervalMs: 100, until })) ?? false;
}

/**
 * SIGTERM, then SIGKILL at `killAt` (epoch ms), then wait up to `giveUpAt`. Returns how it ended.
 */
export async function terminate(pid: number, killAt: number, giveUpAt: number, log: Logger): Promise<'term' | 'kill' | 'alive'> {
  const t0 = Date.now();
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, killAt)) return 'term';
  log.warn(`process ${pid} did not stop within ${((Date.now() - t0) / 1000).toFixed(1)} s of SIGTERM: sending SIGKILL`);
  signal(pid, 'SIGKILL');
  if (await waitGone(pid, Math.max(giveUpAt, Date.now() + 1000))) return 'kill';
  return 'alive';
}

export interface SpawnSpec {
  binary: string;
  args: string[];
  user?: UserInfo;
  /** file receiving stdout and stderr (appended), or /dev/null */
  consoleLog: string;
  env: Record<string, string>;
  cwd: string;
}

/**
 * Start the daemon detached (own session and process group). When it must run as another user, setpriv changes
 * uid, gid and supplementary groups and then execs the binary, so the pid we get is the daemon's.
 */
export function spawnDaemon(spec: SpawnSpec): number {
  let cmd = spec.binary;
  let args = spec.args;
  const dropTo = spec.user && spec.user.uid !== process.getuid?.() ? spec.user : undefined;
  let idOpts: { uid?: number; gid?: number } = {};
  if (dropTo) {
    const setpriv = resolveBinary('setpriv');
    if (setpriv) {
      cmd = setpriv;
      args = [`--reuid=${dropTo.uid}`, `--regid=${dropTo.gid}`, '--init-groups', '--', spec.binary, ...spec.args];
    } else {
      idOpts = { uid: dropTo.uid, gid: dropTo.gid }; // libuv: setgid, setuid, no supplementary groups
    }
  }
  fs.mkdirSync(path.dirname(spec.consoleLog), { recursive: true });
  const fd = fs.openSync(spec.consoleLog, 'a');
  try {
    const child = spawn(cmd, args, {
      detached: true, stdio: ['ignore', fd, fd], env: spec.env, cwd: spec.cwd, ...idOpts,
    });
    child.on('error', () => { /* reported through the pid check */ });
    child.unref();
    if (!child.pid) throw new Error(`cannot execute ${cmd}`);
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

// ------------------------------------------------------------------------------------------------ systemd mode

export interface ModeInput { unit: string; systemdRunning: boolean; unitExists: boolean }

/** Whether to drive a systemd unit or the binary, and why. */
export function chooseMode(i: ModeInput): { mode: 'direct' | 'systemd'; why: string } {
  if (!i.unit) return { mode: 'direct', why: 'no systemd_unit configured' };
  if (!i.systemdRunning) return { mode: 'direct', why: `systemd is not running: running the binary instead of ${i.unit}` };
  if (!i.unitExists) return { mode: 'direct', why: `no systemd unit ${i.unit}: running the binary` };
  return { mode: 'systemd', why: `managing systemd unit ${i.unit}` };
}

function systemdRunning(): boolean { return fs.existsSync('/run/systemd/system'); }

function systemctl(args: string[], timeoutMs: number): { status: number; out: string } {
  const r = spawnSync('systemctl', args, { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function unitExists(unit: string): boolean {
  const r = systemctl(['show', '-p', 'LoadState', '--value', unit], 10000);
  return r.status === 0 && r.out !== '' && r.out !== 'not-found';
}

// ------------------------------------------------------------------------------------------------ health checks

export interface Health { ok: boolean; reason?: string }

export interface ServiceDef {
  /** agent name, e.g. cinder-api */
  name: string;
  /** what it manages, for messages: "OpenStack Cinder API (cinder-api)" */
  title: string;
  longdesc: string;
  binary: string;
  config: string;
  user: string;
  /** extra OCF parameters (health check settings, credentials) */
  params?: readonly OcfParam[];
  /** command line after the binary (default: --config-file CONFIG, then additional_parameters) */
  argv?(ctx: OcfContext, config: string, extra: string[]): string[];
  /** health of the running daemon (readiness during start, then every monitor) */
  health?(ctx: OcfContext, rec: DaemonRecord, phase: 'start' | 'monitor'): Promise<Health>;
  /** extra environment variables of the daemon (nothing secret: they show in /proc/PID/environ to its user) */
  env?: Record<string, string>;
  /** exit code of a missing config file outside probes (default OCF_ERR_INSTALLED) */
  missingConfig?: typeof OCF.ERR_INSTALLED | typeof OCF.ERR_CONFIGURED;
  /** agent-specific validation (after binary, user and config) */
  validate?(ctx: OcfContext): void | Promise<void>;
  /** default grace period, seconds */
  grace?: number;
  /** default consecutive failures before the monitor fails */
  failures?: number;
  /** default systemd unit (empty: none) */
  systemdUnit?: string;
  timeouts?: { start?: number; stop?: number; monitor?: number; interval?: number };
  /** how the agent describes itself in crm_mon's agent list */
  shortdesc: string;
}

/** Parameters every service agent has, reference names and defaults first. */
export function engineParams(def: ServiceDef): OcfParam[] {
  return [
    { name: 'binary', type: 'string', default: def.binary, shortdesc: `${def.title} binary`, longdesc: `Location of the ${def.title} server binary (an absolute path, or a name looked up in PATH).` },
    { name: 'config', type: 'string', default: def.config, shortdesc: `${def.title} config file`, longdesc: `Location of the ${def.title} configuration file. A missing file is tolerated during probes only (configuration on shared storage that is not mounted here).` },
    { name: 'user', type: 'string', default: def.user, shortdesc: `${def.title} user`, longdesc: `User running ${def.title}. The daemon runs with this user's uid, primary group and supplementary groups.` },
    { name: 'pid', type: 'string', shortdesc: `${def.title} pid file`, longdesc: `The pid file to use for this ${def.title} instance. Default: $HA_RSCTMP/$OCF_RESOURCE_INSTANCE.pid.` },
    { name: 'additional_parameters', type: 'string', shortdesc: `Additional parameters for ${def.name}`, longdesc: `Additional parameters to pass on to ${def.title}, split like a shell would (quotes, backslashes) but never run through a shell. Do not put secrets here: they would show in the process list.` },
    ...(def.params ?? []),
    { name: 'failures', type: 'integer', default: String(def.failures ?? 2), shortdesc: 'Consecutive health check failures before the monitor fails', longdesc: 'The monitor reports the resource failed (OCF_ERR_GENERIC) when this many health checks in a row failed while the process was alive; fewer are logged as warnings. A dead process fails at once.' },
    { name: 'grace', type: 'integer', default: String(def.grace ?? 0), shortdesc: 'Grace period after start, seconds', longdesc: 'For this long after the daemon started, failed health checks are only logged. A start whose health check has not passed when the start timeout nears succeeds if the grace period has not elapsed yet, and fails otherwise.' },
    { name: 'console_log', type: 'string', shortdesc: 'File receiving the daemon\'s stdout and stderr', longdesc: 'Appended to; default /dev/null (the services log through their own configuration).' },
    { name: 'systemd_unit', type: 'string', default: def.systemdUnit ?? '', shortdesc: 'systemd unit to drive instead of the binary', longdesc: 'When set, systemd is running and the unit exists, start and stop use systemctl and the unit\'s main pid is watched; otherwise the binary is run directly.' },
  ];
}

const RECORD_SUFFIX = 'daemon';
const FAILURES_SUFFIX = 'failures';

export function pidFileOf(ctx: OcfContext): string {
  return ctx.str('pid') || path.join(ctx.rscTmp, `${ctx.instance}.pid`);
}

function readRecord(ctx: OcfContext): DaemonRecord | undefined {
  try { return JSON.parse(fs.readFileSync(stateFile(ctx, RECORD_SUFFIX), 'utf8')) as DaemonRecord; } catch { return undefined; }
}

function status(ctx: OcfContext): PidCheck {
  return checkPid(pidFileOf(ctx), readRecord(ctx), ctx.str('binary'));
}

function clearRecords(ctx: OcfContext): void {
  removeStateFile(pidFileOf(ctx));
  removeStateFile(stateFile(ctx, RECORD_SUFFIX));
  removeStateFile(stateFile(ctx, FAILURES_SUFFIX));
}

/** When this action times out, epoch ms: from OCF_RESKEY_CRM_meta_timeout, else the agent's default timeout. */
function deadlineMs(ctx: OcfContext, fallbackSec: number): number {
  return ctx.deadlineAt ?? Date.now() + fallbackSec * 1000;
}

/** Safety margin before a deadline: 20 % of what is left, between 1 and 5 s. */
export function marginMs(totalMs: number): number {
  return Math.min(5000, Math.max(1000, totalMs * 0.2));
}

/** The environment the daemon gets: nothing of the agent's (no OCF_RESKEY_*, no credentials). */
function daemonEnv(user: UserInfo | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: process.env.LANG || 'C.UTF-8',
    ...extra,
  };
  if (user) Object.assign(env, { HOME: user.home, USER: user.name, LOGNAME: user.name });
  return env;
}

function mode(ctx: OcfContext): { mode: 'direct' | 'systemd'; why: string } {
  const unit = ctx.str('systemd_unit');
  if (!unit) return { mode: 'direct', why: 'no systemd_unit configured' };
  const running = systemdRunning();
  return chooseMode({ unit, systemdRunning: running, unitExists: running && unitExists(unit) });
}

export function failureCount(ctx: OcfContext): number {
  try { return Number(fs.readFileSync(stateFile(ctx, FAILURES_SUFFIX), 'utf8').trim()) || 0; } catch { return 0; }
}

async function runHealth(def: ServiceDef, ctx: OcfContext, rec: DaemonRecord, phase: 'start' | 'monitor'): Promise<Health> {
  if (!def.health) return { ok: true };
  try {
    return await def.health(ctx, rec, phase);
  } catch (e) {
    if (e instanceof OcfError) throw e;
    return { ok: false, reason: ctx.log.scrub((e as Error).message) };
  }
}

async function start(def: ServiceDef, ctx: OcfContext): Promise<number> {
  const st = status(ctx);
  const startMs = deadlineMs(ctx, def.timeouts?.start ?? 120);
  const readyBy = startMs - marginMs(startMs - Date.now());
  let rec: DaemonRecord;
  if (st.state === 'running') {
    ctx.log.info(`${def.title} already running (pid ${st.pid})`);
    rec = st.record ?? { pid: st.pid, binary: ctx.str('binary'), startedAt: Date.now(), mode: 'direct', startTime: procStat(st.pid)?.startTime };
  } else {
    if (st.stale) ctx.log.info(`${st.why}: removing it`);
    clearRecords(ctx);
    const m = mode(ctx);
    if (ctx.str('systemd_unit')) ctx.log.info(m.why);
    const pidFile = pidFileOf(ctx);
    fs.mkdirSync(path.dirname(pidFile), { recursive: true });
    if (m.mode === 'systemd') {
      const unit = ctx.str('systemd_unit');
      const r = systemctl(['start', unit], Math.max(1000, readyBy - Date.now()));
      if (r.status !== 0) throw new OcfError(OCF.ERR_GENERIC, `systemctl start ${unit} failed: ${r.out}`);
      const pid = Number(systemctl(['show', '-p', 'MainPID', '--value', unit], 10000).out);
      if (!pid) throw new OcfError(OCF.ERR_GENERIC, `systemd unit ${unit} has no main process after start`);
      rec = { pid, binary: ctx.str('binary'), startedAt: Date.now(), mode: 'systemd', unit, startTime: procStat(pid)?.startTime };
    } else {
      const binary = resolveBinary(ctx.str('binary'));
      if (!binary) throw new OcfError(OCF.ERR_INSTALLED, `binary ${ctx.str('binary')} not found or not executable`);
      const user = lookupUser(ctx.str('user'));
      const config = ctx.str('config');
      const extra = splitArgs(ctx.str('additional_parameters'));
      const args = def.argv ? def.argv(ctx, config, extra) : ['--config-file', config, ...extra];
      const pid = spawnDaemon({
        binary, args, user, consoleLog: ctx.str('console_log') || '/dev/null', env: daemonEnv(user, def.env), cwd: user?.home && fs.existsSync(user.home) ? user.home : '/',
      });
      rec = { pid, binary, startedAt: Date.now(), mode: 'direct', startTime: procStat(pid)?.startTime };
      ctx.log.info(`started ${def.title}: pid ${pid}, ${binary}${user ? ` as ${user.name}` : ''}`);
    }
    touchStateFile(pidFile, `${rec.pid}\n`);
    touchStateFile(stateFile(ctx, RECORD_SUFFIX), JSON.stringify(rec) + '\n');
  }

  const graceEnds = rec.startedAt + ctx.int('grace') * 1000;
  let last: Health = { ok: false, reason: 'not checked' };
  // looks after 100, 200, 400, 800 ms, then every second, until the start deadline (less a margin)
  const ready = await poll(async (looks) => {
    if (!processAlive(rec.pid)) {
      clearRecords(ctx);
      const where = ctx.str('console_log') ? ` (see ${ctx.str('console_log')})` : ' (set console_log to capture its output)';
      throw new OcfError(OCF.ERR_GENERIC, `${def.title} exited during start${where}`);
    }
    last = await runHealth(def, ctx, rec, 'start');
    if (last.ok) return true;
    if (looks === 1 || (looks - 1) % 15 === 0) ctx.log.info(`waiting for ${def.title} to become ready: ${last.reason}`);
    return undefined;
  }, { intervalMs: (looks) => Math.min(1000, 100 * 2 ** Math.min(looks - 1, 4)), until: readyBy });
  if (!ready) {
    if (Date.now() < graceEnds) {
      ctx.log.warn(`${def.title} is not ready yet (${last.reason}); the grace period runs until ${new Date(graceEnds).toISOString()}`);
      return OCF.SUCCESS;
    }
    throw new OcfError(OCF.ERR_GENERIC, `${def.title} did not become ready before the start timeout: ${last.reason}`);
  }
  removeStateFile(stateFile(ctx, FAILURES_SUFFIX));
  ctx.log.info(`${def.title} started`);
  return OCF.SUCCESS;
}

async function stop(def: ServiceDef, ctx: OcfContext): Promise<number> {
  const rec = readRecord(ctx);
  const st = status(ctx);
  const stopMs = deadlineMs(ctx, def.timeouts?.stop ?? 60);
  if (rec?.mode === 'systemd' && rec.unit && systemdRunning()) {
    const r = systemctl(['stop', rec.unit], Math.max(1000, stopMs - Date.now() - 1000));
    if (r.status !== 0) ctx.log.warn(`systemctl stop ${rec.unit} failed: ${r.out}`);
  }
  if (st.state !== 'running') {
    if (st.stale) ctx.log.info(`${st.why}: removing it`);
    ctx.log.info(`${def.title} already stopped`);
    clearRecords(ctx);
    return OCF.SUCCESS;
  }
  const killAt = stopMs - marginMs(stopMs - Date.now());
  const how = await terminate(st.pid, killAt, stopMs - 500, ctx.log);
  if (how === 'alive') throw new OcfError(OCF.ERR_GENERIC, `${def.title} (pid ${st.pid}) survived SIGKILL`);
  clearRecords(ctx);
  ctx.log.info(`${def.title} stopped${how === 'kill' ? ' (SIGKILL)' : ''}`);
  return OCF.SUCCESS;
}

async function monitor(def: ServiceDef, ctx: OcfContext): Promise<number> {
  const st = status(ctx);
  if (st.state !== 'running') {
    if (st.stale) {
      ctx.log.info(`${st.why}: removing it`);
      clearRecords(ctx);
    } else {
      ctx.log.debug(`${def.title} is not running`);
    }
    return OCF.NOT_RUNNING;
  }
  if (ctx.isProbe) return OCF.SUCCESS;
  const rec = st.record ?? { pid: st.pid, binary: ctx.str('binary'), startedAt: 0, mode: 'direct' as const };
  const h = await runHealth(def, ctx, rec, 'monitor');
  const file = stateFile(ctx, FAILURES_SUFFIX);
  if (h.ok) {
    if (failureCount(ctx) > 0) ctx.log.info(`${def.title} is healthy again`);
    removeStateFile(file);
    return OCF.SUCCESS;
  }
  if (Date.now() < rec.startedAt + ctx.int('grace') * 1000) {
    ctx.log.info(`${def.title} health check failed during the grace period after start: ${h.reason}`);
    return OCF.SUCCESS;
  }
  const n = failureCount(ctx) + 1;
  const max = Math.max(1, ctx.int('failures'));
  if (n >= max) {
    touchStateFile(file, `${n}\n`);
    throw new OcfError(OCF.ERR_GENERIC, `${def.title} health check failed (${n} in a row): ${h.reason}`);
  }
  touchStateFile(file, `${n}\n`);
  ctx.log.warn(`${def.title} health check failed (${n} of ${max} allowed in a row): ${h.reason}`);
  return OCF.SUCCESS;
}

/** Generic validation: binary, user, config (missing config tolerated on probes), numbers. */
async function validate(def: ServiceDef, ctx: OcfContext): Promise<void> {
  const binary = ctx.str('binary');
  if (!resolveBinary(binary)) throw new OcfError(OCF.ERR_INSTALLED, `binary ${binary} not found or not executable`);
  const user = ctx.str('user');
  if (!user) throw new OcfError(OCF.ERR_CONFIGURED, 'user is empty');
  if (!lookupUser(user)) throw new OcfError(OCF.ERR_INSTALLED, `user ${user} does not exist`);
  const config = ctx.str('config');
  if (config && !fs.existsSync(config)) {
    if (!ctx.isProbe) throw new OcfError(def.missingConfig ?? OCF.ERR_INSTALLED, `config ${config} does not exist`);
    ctx.log.warn(`config ${config} not available during a probe`);
  }
  try { splitArgs(ctx.str('additional_parameters')); } catch (e) { throw new OcfError(OCF.ERR_CONFIGURED, `additional_parameters: ${(e as Error).message}`); }
  if (ctx.int('failures') < 1) throw new OcfError(OCF.ERR_CONFIGURED, 'failures must be at least 1');
  if (ctx.int('grace') < 0) throw new OcfError(OCF.ERR_CONFIGURED, 'grace must not be negative');
  await def.validate?.(ctx);
}

/** The OCF agent for a service definition. */
export function serviceAgent(def: ServiceDef, version: string): OcfAgent {
  const t = def.timeouts ?? {};
  const actions: OcfActionDef[] = [
    { name: 'start', timeout: t.start ?? 120 },
    { name: 'stop', timeout: t.stop ?? 60 },
    { name: 'monitor', timeout: t.monitor ?? 30, interval: t.interval ?? 30, depth: 0 },
    { name: 'validate-all', timeout: 10 },
    { name: 'meta-data', timeout: 5 },
  ];
  return {
    name: def.name,
    version,
    shortdesc: def.shortdesc,
    longdesc: def.longdesc,
    params: engineParams(def),
    actions,
    handlers: {
      validate: (ctx) => validate(def, ctx),
      isRunning: (ctx) => status(ctx).state === 'running',
      start: (ctx) => start(def, ctx),
      stop: (ctx) => stop(def, ctx),
      monitor: (ctx) => monitor(def, ctx),
    },
  };
}

export { iniValue } from '../core/ini';

export function localHostname(): string { return os.hostname(); }
