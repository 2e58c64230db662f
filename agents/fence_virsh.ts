/**
 * fence_virsh: fences libvirt domains by running virsh on their host over SSH (ssh2, one connection per run, one exec
 * channel per command): `virsh domstate`, `start`, `destroy`, `list --all`, with sudo when use_sudo.
 *
 * Options, defaults, output and exit codes are those of fence-agents' fence_virsh (fencing.py), so existing stonith
 * resources keep working. Differences, on purpose:
 *  - the host key is checked against known_hosts (~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts, or known_hosts=FILE,
 *    or -o UserKnownHostsFile=/GlobalKnownHostsFile= in ssh_options); the reference answers "yes" to OpenSSH's question
 *    about an unknown key. ssh_options with -o StrictHostKeyChecking=no skips the check, =accept-new accepts unknown keys.
 *  - uri=URI runs virsh --connect URI (the reference only uses virsh's default URI).
 *  - no interactive shell: cmd_prompt and ssh_path are accepted and ignored, and of ssh_options only -o
 *    StrictHostKeyChecking / UserKnownHostsFile / GlobalKnownHostsFile, -4 and -6 mean something.
 *  - "in shutdown" and "pmsuspended" count as on (the QEMU process still runs); the reference says off.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { AgentEntry } from '../lib/runtime/agent';
import {
  runFence, FenceError, EC, COMMON_PLUG_OPTS, powerSequence, type FenceAgent, type FenceContext, type FenceOpt, type PlugEntry, type PowerControl,
} from '../lib/runtime/fence/index';
import { SshError, SshSession, shellQuote, type HostKeyPolicy } from '../lib/remote/ssh';
import { VERSION } from '../lib/core/version';

const [login, passwd, passwdScript, password, passwordScript, plug, port, nodename] = COMMON_PLUG_OPTS;
const PROMPT_DEFAULT = "['\\\\[EXPECT\\\\]#']";
const SSH_OPTIONS_DEFAULT = `-t '/bin/bash -c "PS1=\\\\[EXPECT\\\\]# /bin/bash --noprofile --norc"'`;

const OPTIONS: FenceOpt[] = [
  { name: 'cmd_prompt', key: 'command_prompt', short: 'c', long: 'command-prompt', arg: '[prompt]', type: 'string', default: PROMPT_DEFAULT, shortdesc: 'Force Python regex for command prompt', deprecated: true },
  { name: 'command_prompt', short: 'c', long: 'command-prompt', arg: '[prompt]', type: 'string', default: PROMPT_DEFAULT, shortdesc: 'Force Python regex for command prompt', obsoletes: 'cmd_prompt' },
  { name: 'identity_file', short: 'k', long: 'identity-file', arg: '[filename]', type: 'string', shortdesc: 'Identity file (private key) for SSH' },
  { name: 'inet4_only', short: '4', long: 'inet4-only', type: 'boolean', shortdesc: 'Forces agent to use IPv4 addresses only' },
  { name: 'inet6_only', short: '6', long: 'inet6-only', type: 'boolean', shortdesc: 'Forces agent to use IPv6 addresses only' },
  { name: 'ip', short: 'a', long: 'ip', arg: '[ip]', type: 'string', required: true, shortdesc: 'IP address or hostname of fencing device', obsoletes: 'ipaddr' },
  { name: 'ipaddr', key: 'ip', short: 'a', long: 'ip', arg: '[ip]', type: 'string', required: true, shortdesc: 'IP address or hostname of fencing device', deprecated: true },
  { name: 'ipport', short: 'u', long: 'ipport', arg: '[port]', type: 'integer', default: '22', shortdesc: 'TCP/UDP port to use for connection with device' },
  { name: 'known_hosts', long: 'known-hosts', arg: '[filename]', type: 'string', shortdesc: 'known_hosts file to check the host key against, instead of ~/.ssh/known_hosts (/etc/ssh/ssh_known_hosts is always read)' },
  { ...login, required: true }, passwd, passwdScript, password, passwordScript, plug, port, nodename,
  { name: 'secure', key: 'ssh', short: 'x', long: 'ssh', type: 'boolean', default: '1', shortdesc: 'Use SSH connection', deprecated: true },
  { name: 'ssh', short: 'x', long: 'ssh', type: 'boolean', default: '1', shortdesc: 'Use SSH connection', obsoletes: 'secure' },
  { name: 'ssh_options', long: 'ssh-options', arg: '[options]', type: 'string', default: SSH_OPTIONS_DEFAULT, shortdesc: 'SSH options to use' },
  { name: 'uri', long: 'uri', arg: '[uri]', type: 'string', shortdesc: 'libvirt connection URI (virsh --connect URI); default: virsh\'s own default' },
  { name: 'username', short: 'l', long: 'username', arg: '[name]', type: 'string', required: true, shortdesc: 'Login name', obsoletes: 'login' },
];
const TAIL_OPTIONS: FenceOpt[] = [
  { name: 'missing_as_off', long: 'missing-as-off', type: 'boolean', shortdesc: 'Missing port returns OFF instead of failure' },
  { name: 'sudo', key: 'use_sudo', long: 'use-sudo', type: 'boolean', shortdesc: 'Use sudo (without password) when calling 3rd party software', deprecated: true },
  { name: 'use_sudo', long: 'use-sudo', type: 'boolean', shortdesc: 'Use sudo (without password) when calling 3rd party software', obsoletes: 'sudo' },
  { name: 'ssh_path', long: 'ssh-path', arg: '[path]', type: 'string', default: '/usr/bin/ssh', shortdesc: 'Path to ssh binary' },
  { name: 'sudo_path', long: 'sudo-path', arg: '[path]', type: 'string', default: '/usr/bin/sudo', shortdesc: 'Path to sudo binary' },
];

/** split like a shell (quotes and backslashes; no expansion) */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'") { const j = s.indexOf("'", i + 1); cur += s.slice(i + 1, j < 0 ? s.length : j); i = j < 0 ? s.length : j; inWord = true; }
    else if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') { if (s[i] === '\\' && i + 1 < s.length) i++; cur += s[i++]; }
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) { cur += s[++i]; inWord = true; }
    else if (/\s/.test(c)) { if (inWord) out.push(cur); cur = ''; inWord = false; }
    else { cur += c; inWord = true; }
  }
  if (inWord) out.push(cur);
  return out;
}

/** what ssh_options says about host keys and address family */
export function sshOptionSettings(s: string): { policy?: HostKeyPolicy; userKnownHosts?: string; globalKnownHosts?: string; family?: 4 | 6 } {
  const r: ReturnType<typeof sshOptionSettings> = {};
  const w = shellWords(s);
  for (let i = 0; i < w.length; i++) {
    let kv: string | undefined;
    if (w[i] === '-o') kv = w[++i];
    else if (w[i].startsWith('-o')) kv = w[i].slice(2);
    else if (w[i] === '-4') r.family = 4;
    else if (w[i] === '-6') r.family = 6;
    if (!kv) continue;
    const m = /^\s*(\w+)\s*[=\s]\s*(.*?)\s*$/.exec(/[=\s]/.test(kv.trim()) || !w[i + 1] ? kv : `${kv} ${w[++i]}`);
    if (!m) continue;
    const [key, value] = [m[1].toLowerCase(), m[2]];
    if (key === 'stricthostkeychecking') {
      const v = value.toLowerCase();
      r.policy = v === 'no' || v === 'off' ? 'no' : v === 'accept-new' ? 'accept-new' : 'strict';
    } else if (key === 'userknownhostsfile') r.userKnownHosts = value.split(/\s+/)[0];
    else if (key === 'globalknownhostsfile') r.globalKnownHosts = value.split(/\s+/)[0];
  }
  return r;
}

const expandHome = (f: string) => (f.startsWith('~/') ? path.join(os.homedir(), f.slice(2)) : f);

/** one SSH session per run (list-status, on/off with their status polls all share it) */
let session: Promise<SshSession> | undefined;
function ssh(ctx: FenceContext): Promise<SshSession> {
  if (!session) {
    const so = sshOptionSettings(ctx.str('ssh_options'));
    const userFile = ctx.str('known_hosts') || so.userKnownHosts || '~/.ssh/known_hosts';
    const family = ctx.bool('inet4_only') ? 4 : ctx.bool('inet6_only') ? 6 : so.family;
    session = SshSession.connect({
      host: ctx.str('ip'),
      port: ctx.num('ipport') || 22,
      username: ctx.str('username'),
      password: ctx.opts.password || undefined,
      identityFile: ctx.str('identity_file') || undefined,
      loginTimeoutMs: Math.max(ctx.num('login_timeout'), 0.1) * 1000,
      knownHostsFiles: [expandHome(userFile), expandHome(so.globalKnownHosts ?? '/etc/ssh/ssh_known_hosts')],
      hostKeyPolicy: so.policy ?? 'strict',
      family,
      debug: (m) => ctx.log.debug(m),
    });
  }
  return session;
}

async function closeSession(): Promise<void> {
  const s = session;
  session = undefined;
  if (s) { try { (await s).close(); } catch { /* never connected */ } }
}

function virshCommand(ctx: FenceContext, ...args: string[]): string {
  const parts: string[] = [];
  if (ctx.bool('use_sudo')) parts.push(ctx.str('sudo_path') || '/usr/bin/sudo');
  parts.push('virsh');
  if (ctx.str('uri')) parts.push('--connect', shellQuote(ctx.str('uri')));
  return [...parts, ...args.map(shellQuote)].join(' ');
}

async function run(ctx: FenceContext, timeoutS: number, ...args: string[]) {
  const s = await ssh(ctx);
  return s.exec(virshCommand(ctx, ...args), Math.max(timeoutS, 0.1) * 1000);
}

/** virsh's state names that mean a running QEMU process */
const ON_STATES = ['running', 'blocked', 'idle', 'no state', 'paused', 'in shutdown', 'pmsuspended'];
const stateOf = (s: string): 'on' | 'off' => (ON_STATES.includes(s.trim().toLowerCase()) ? 'on' : 'off');

async function status(ctx: FenceContext): Promise<'on' | 'off'> {
  const r = await run(ctx, ctx.num('shell_timeout'), 'domstate', ctx.plug);
  if (r.code === 0) return stateOf(r.stdout.split('\n').find((l) => l.trim() !== '') ?? '');
  const err = (r.stderr || r.stdout).trim().replace(/\s*\n\s*/g, ' ');
  if (/failed to get domain/i.test(err)) {
    if (ctx.bool('missing_as_off')) { ctx.log.debug(`domain ${ctx.plug} not found: off (missing_as_off)`); return 'off'; }
    throw new FenceError(`Failed: You have to enter existing name/UUID of virtual machine! (${err})`);
  }
  throw new FenceError(`Failed: virsh domstate ${ctx.plug} on ${ctx.str('ip')}: ${err || `exit ${r.code}`}`);
}

async function list(ctx: FenceContext): Promise<PlugEntry[]> {
  const r = await run(ctx, ctx.num('shell_timeout'), 'list', '--all');
  if (r.code !== 0) throw new FenceError(`Failed: virsh list --all on ${ctx.str('ip')}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
  const out: PlugEntry[] = [];
  let header = false;
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*(\S+)\s+(\S+)\s+(\S.*?)\s*$/.exec(line);
    if (!m) continue;
    if (!header) { header = m[1].toLowerCase() === 'id' && m[2].toLowerCase() === 'name'; continue; }
    out.push({ plug: m[2], alias: '', status: stateOf(m[3]) });
  }
  return out;
}

async function setPower(ctx: FenceContext, want: 'on' | 'off'): Promise<void> {
  const verb = want === 'on' ? 'start' : 'destroy';
  const r = await run(ctx, ctx.num('power_timeout'), verb, ctx.plug);
  if (r.code !== 0) ctx.log.warn(`virsh ${verb} ${ctx.plug}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
}

/** fencing.py's power sequence with virsh start / destroy; as fencing.py, a reboot succeeds once the domain is off. */
const POWER: PowerControl = { status, request: setPower, rebootOnFailure: 'succeed' };

function validate(ctx: FenceContext): void {
  if (!ctx.str('username')) throw new FenceError('Failed: You have to set login name');
  if (!ctx.str('ip')) throw new FenceError('Failed: You have to enter fence address');
  if (!ctx.opts.password && !ctx.str('identity_file') && !ctx.str('password_script')) {
    throw new FenceError('Failed: You have to enter password, password script or identity file');
  }
  if (ctx.given.has('ssh') && !ctx.bool('ssh')) ctx.log.warn('ssh=0 (telnet) is not supported: using SSH');
}

export const definition: FenceAgent = {
  name: 'fence_virsh',
  version: VERSION,
  shortdesc: 'Fence agent for virsh',
  longdesc: 'fence_virsh is an I/O Fencing agent which can be used with the virtual machines managed by libvirt. It logs via ssh to a dom0 and there run virsh command, which does all work. \n\n'
    + 'By default, virsh needs root account to do properly work. So you must allow ssh login in your sshd_config.\n\n'
    + 'This fence_virsh (openstack-ha-agents) checks the host key against known_hosts (~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts, or known_hosts=FILE); ssh_options="-o StrictHostKeyChecking=no" skips the check. uri=URI runs virsh --connect URI.',
  vendorUrl: 'http://libvirt.org',
  options: OPTIONS,
  tailOptions: TAIL_OPTIONS,
  handlers: {
    validate,
    status,
    list,
    on: (ctx) => powerSequence(ctx, 'on', POWER),
    off: (ctx) => powerSequence(ctx, 'off', POWER),
    reboot: (ctx) => powerSequence(ctx, 'reboot', POWER),
  },
};

/** SSH failures with fencing.py's messages (its fail(): every one exits 1) and what happened */
function withSshErrors(agent: FenceAgent): FenceAgent {
  const wrap = <A extends unknown[], R>(f: ((...a: A) => Promise<R> | R) | undefined) => f && (async (...a: A): Promise<R> => {
    try { return await f(...a); } catch (e) {
      if (!(e instanceof SshError)) throw e;
      if (e.kind === 'login') throw new FenceError(`Unable to connect/login to fencing device: ${e.message}`);
      if (e.kind === 'timeout') throw new FenceError(`Connection timed out: ${e.message}`);
      throw new FenceError(`Connection lost: ${e.message}`);
    }
  });
  const h = agent.handlers;
  return { ...agent, handlers: { validate: h.validate, status: wrap(h.status), list: wrap(h.list), on: wrap(h.on), off: wrap(h.off), reboot: wrap(h.reboot) } };
}

export async function runFenceVirsh(args: string[], env?: NodeJS.ProcessEnv, stdin?: () => string): Promise<number> {
  try { return await runFence(withSshErrors(definition), args, env, stdin); } finally { await closeSession(); }
}

export const fenceVirsh: AgentEntry = {
  kind: 'fence',
  summary: definition.shortdesc,
  run: (args) => runFenceVirsh(args),
};
