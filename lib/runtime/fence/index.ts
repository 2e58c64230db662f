/**
 * Fence agent runtime (the Fence Agent API as fence-agents' fencing.py implements it). An agent is declared once
 * ({@link FenceAgent}): its options, with the common ones added here, give the metadata, the command line, stdin
 * parsing, validation, --help and the man page.
 *
 * Options come from the command line when there are arguments, else from stdin as name=value lines (this is how
 * Pacemaker's fencer calls agents). Exit codes: 0 success; status: 0 on, 2 off; 1 any failure.
 */
import * as fs from 'node:fs';
import { execFile } from 'node:child_process';
import yargsParser from 'yargs-parser';
import { Logger } from '../../core/log';
import { isTrue } from '../../core/text';
import { poll, sleep } from '../../core/poll';
import { writeStdout } from '../../core/stdout';

/**
 * Exit codes. fencing.py defines more (EC_LOGIN_DENIED 3, EC_TIMED_OUT 5, EC_WAITING_ON 6...), but its fail() logs their
 * message and exits 1 (fence-agents 4.12, Debian 12): every failure is 1.
 */
export const EC = { OK: 0, GENERIC: 1, STATUS_OFF: 2 } as const;

export type FenceAction = 'on' | 'off' | 'reboot' | 'status' | 'list' | 'list-status' | 'monitor' | 'metadata' | 'manpage' | 'validate-all';
const ACTIONS: readonly FenceAction[] = ['on', 'off', 'reboot', 'status', 'list', 'list-status', 'monitor', 'metadata', 'manpage', 'validate-all'];

export interface FenceOpt {
  /** name in metadata and on stdin */
  name: string;
  /** the setting it feeds; several names may feed one (login and username) — defaults to name */
  key?: string;
  short?: string;
  long: string;
  /** placeholder of the value, e.g. "[url]"; absent for flags */
  arg?: string;
  type: 'string' | 'boolean' | 'integer' | 'second';
  default?: string;
  /** required for actions that act on a plug (on, off, reboot, status) */
  required?: boolean;
  shortdesc: string;
  deprecated?: boolean;
  obsoletes?: string;
  /** never logged or printed */
  secret?: boolean;
  /** not listed in metadata, --help or the man page (inputs Pacemaker sends that agents may use) */
  hidden?: boolean;
}

export class FenceError extends Error {
  constructor(message: string, readonly code: number = EC.GENERIC) { super(message); }
}

export interface FenceContext {
  agent: FenceAgent;
  action: FenceAction;
  /** settings by key */
  opts: Record<string, string>;
  /** keys given explicitly */
  given: Set<string>;
  log: Logger;
  str(key: string): string;
  bool(key: string): boolean;
  num(key: string): number;
  /** the target (plug), '' when none */
  plug: string;
}

/**
 * status: known from the listing itself (list-status then asks no one per plug); 'unknown' for a plug that is neither
 * on nor off (list-status prints UNKNOWN, as fencing.py does for any other state)
 */
export interface PlugEntry { plug: string; alias?: string; status?: 'on' | 'off' | 'unknown' }

export interface FenceHandlers {
  /** checks after the generic ones, for every action but metadata/manpage; throw FenceError */
  validate?(ctx: FenceContext): Promise<void> | void;
  status?(ctx: FenceContext): Promise<'on' | 'off'>;
  on?(ctx: FenceContext): Promise<void>;
  off?(ctx: FenceContext): Promise<void>;
  /** defaults to off then on */
  reboot?(ctx: FenceContext): Promise<void>;
  list?(ctx: FenceContext): Promise<PlugEntry[]>;
  /** defaults to: list (when available) must answer */
  monitor?(ctx: FenceContext): Promise<void>;
}

export interface FenceAgent {
  name: string;
  version: string;
  shortdesc: string;
  longdesc: string;
  vendorUrl?: string;
  /** agent options, in metadata order, placed after "action" */
  options: readonly FenceOpt[];
  /** agent options placed after the common ones (fencing.py sorts e.g. missing_as_off, use_sudo, sudo_path there) */
  tailOptions?: readonly FenceOpt[];
  /** overrides of the common options' defaults, by name */
  defaults?: Record<string, string>;
  /** action "on" is used for unfencing */
  onAutomatic?: boolean;
  /** actions listed in metadata (default: all) */
  actions?: readonly FenceAction[];
  handlers: FenceHandlers;
}

/** The common options fencing.py gives every agent (those that make sense for API-driven agents). */
export const COMMON_PLUG_OPTS: readonly FenceOpt[] = [
  { name: 'login', key: 'username', short: 'l', long: 'username', arg: '[name]', type: 'string', shortdesc: 'Login name', deprecated: true },
  { name: 'passwd', key: 'password', short: 'p', long: 'password', arg: '[password]', type: 'string', shortdesc: 'Login password or passphrase', deprecated: true, secret: true },
  { name: 'passwd_script', key: 'password_script', short: 'S', long: 'password-script', arg: '[script]', type: 'string', shortdesc: 'Script to run to retrieve password', deprecated: true },
  { name: 'password', short: 'p', long: 'password', arg: '[password]', type: 'string', shortdesc: 'Login password or passphrase', obsoletes: 'passwd', secret: true },
  { name: 'password_script', short: 'S', long: 'password-script', arg: '[script]', type: 'string', shortdesc: 'Script to run to retrieve password', obsoletes: 'passwd_script' },
  { name: 'plug', short: 'n', long: 'plug', arg: '[id]', type: 'string', required: true, shortdesc: 'Physical plug number on device, UUID or identification of machine', obsoletes: 'port' },
  { name: 'port', key: 'plug', short: 'n', long: 'plug', arg: '[id]', type: 'string', required: true, shortdesc: 'Physical plug number on device, UUID or identification of machine', deprecated: true },
  { name: 'nodename', key: 'nodename', long: 'nodename', arg: '[name]', type: 'string', shortdesc: 'Name of the node to be fenced (sent by Pacemaker)', hidden: true },
];

const COMMON_TAIL_OPTS: readonly FenceOpt[] = [
  { name: 'quiet', short: 'q', long: 'quiet', type: 'boolean', shortdesc: 'Disable logging to stderr. Does not affect --verbose or --debug-file or logging to syslog.' },
  { name: 'verbose', short: 'v', long: 'verbose', type: 'boolean', shortdesc: 'Verbose mode. Multiple -v flags can be stacked on the command line (e.g., -vvv) to increase verbosity.' },
  { name: 'verbose_level', long: 'verbose-level', type: 'integer', shortdesc: 'Level of debugging detail in output. Defaults to the number of --verbose flags specified on the command line, or to 1 if verbose=1 in a stonith device configuration (i.e., on stdin).' },
  { name: 'debug', key: 'debug_file', short: 'D', long: 'debug-file', arg: '[debugfile]', type: 'string', shortdesc: 'Write debug information to given file', deprecated: true },
  { name: 'debug_file', short: 'D', long: 'debug-file', arg: '[debugfile]', type: 'string', shortdesc: 'Write debug information to given file', obsoletes: 'debug' },
  { name: 'version', short: 'V', long: 'version', type: 'boolean', shortdesc: 'Display version information and exit' },
  { name: 'help', short: 'h', long: 'help', type: 'boolean', shortdesc: 'Display help and exit' },
  { name: 'plug_separator', long: 'plug-separator', arg: '[char]', type: 'string', default: ',', shortdesc: 'Separator for plug parameter when specifying more than 1 plug' },
  { name: 'separator', short: 'C', long: 'separator', arg: '[char]', type: 'string', default: ',', shortdesc: "Separator for CSV created by 'list' operation" },
  { name: 'delay', long: 'delay', arg: '[seconds]', type: 'second', default: '0', shortdesc: 'Wait X seconds before fencing is started' },
  { name: 'disable_timeout', long: 'disable-timeout', arg: '[true/false]', type: 'string', shortdesc: 'Disable timeout (true/false) (default: true when run from Pacemaker 2.0+)' },
  { name: 'login_timeout', long: 'login-timeout', arg: '[seconds]', type: 'second', default: '5', shortdesc: 'Wait X seconds for cmd prompt after login' },
  { name: 'power_timeout', long: 'power-timeout', arg: '[seconds]', type: 'second', default: '20', shortdesc: 'Test X seconds for status change after ON/OFF' },
  { name: 'power_wait', long: 'power-wait', arg: '[seconds]', type: 'second', default: '0', shortdesc: 'Wait X seconds after issuing ON/OFF' },
  { name: 'shell_timeout', long: 'shell-timeout', arg: '[seconds]', type: 'second', default: '3', shortdesc: 'Wait X seconds for cmd prompt after issuing command' },
  { name: 'stonith_status_sleep', long: 'stonith-status-sleep', arg: '[seconds]', type: 'second', default: '1', shortdesc: 'Sleep X seconds between status calls during a STONITH action' },
  { name: 'retry_on', long: 'retry-on', arg: '[attempts]', type: 'integer', default: '1', shortdesc: 'Count of attempts to retry power on' },
];

/**
 * An option under fence-agents' old dashed name too (auth-url for auth_url), declared as fence-agents declares
 * project-domain: the dashed name deprecated, the underscore name obsoleting it. pcs checks names against the
 * metadata, so this is what lets dashed names (`pcs stonith create ... auth-url=... tenant-name=...`) through without
 * --force (the runtime maps dashed names to the option either way).
 */
export function withDashedAlias(o: FenceOpt): FenceOpt[] {
  const dashed = o.name.replace(/_/g, '-');
  return [{ ...o, name: dashed, key: o.key ?? o.name, deprecated: true }, { ...o, obsoletes: dashed }];
}

const ACTION_OPT = (def: string): FenceOpt => ({ name: 'action', short: 'o', long: 'action', arg: '[action]', type: 'string', default: def, required: true, shortdesc: 'Fencing action' });

/** All options of an agent in metadata order, common defaults overridden. */
export function allOptions(agent: FenceAgent): FenceOpt[] {
  const d = agent.defaults ?? {};
  const list = [ACTION_OPT(d.action ?? 'reboot'), ...agent.options, ...COMMON_TAIL_OPTS, ...(agent.tailOptions ?? [])];
  return list.map((o) => (d[o.name] !== undefined && o.name !== 'action' ? { ...o, default: d[o.name] } : o));
}
const keyOf = (o: FenceOpt) => o.key ?? o.name;

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function mixed(o: FenceOpt): string {
  const long = `--${o.long}${o.arg ? `=${o.arg}` : ''}`;
  return o.short ? `-${o.short}, ${long}` : long;
}

/** metadata XML, valid against fence-agents' metadata.rng */
export function metadataXml(agent: FenceAgent): string {
  const out: string[] = [];
  out.push('<?xml version="1.0" ?>');
  out.push(`<resource-agent name="${agent.name}" shortdesc="${xmlEscape(agent.shortdesc)}" >`);
  out.push(`<longdesc>${xmlEscape(agent.longdesc)}</longdesc>`);
  out.push(`<vendor-url>${xmlEscape(agent.vendorUrl ?? '')}</vendor-url>`);
  out.push('<parameters>');
  for (const o of allOptions(agent)) {
    if (o.hidden) continue;
    const attrs = [`name="${o.name}"`, 'unique="0"', `required="${o.required ? 1 : 0}"`];
    if (o.deprecated) attrs.push('deprecated="1"');
    if (o.obsoletes) attrs.push(`obsoletes="${o.obsoletes}"`);
    out.push(`\t<parameter ${attrs.join(' ')}>`);
    out.push(`\t\t<getopt mixed="${xmlEscape(mixed(o))}" />`);
    const def = o.default !== undefined ? ` default="${xmlEscape(o.default)}"` : '';
    out.push(`\t\t<content type="${o.type}"${def}  />`);
    out.push(`\t\t<shortdesc lang="en">${xmlEscape(o.shortdesc)}</shortdesc>`);
    out.push('\t</parameter>');
  }
  out.push('</parameters>');
  out.push('<actions>');
  for (const a of agent.actions ?? ACTIONS) {
    out.push(a === 'on' ? `\t<action name="on" automatic="${agent.onAutomatic ? 1 : 0}"/>` : `\t<action name="${a}" />`);
  }
  out.push('</actions>');
  out.push('</resource-agent>');
  return out.join('\n') + '\n';
}

export function helpText(agent: FenceAgent): string {
  const lines = [`Usage:`, `\t${agent.name} [options]`, `Options:`];
  const seen = new Set<string>();
  for (const o of allOptions(agent)) {
    if (o.hidden || o.deprecated) continue;
    const m = mixed(o);
    if (seen.has(m)) continue;
    seen.add(m);
    const def = o.default ? ` (default: ${o.default})` : '';
    lines.push(`   ${m.padEnd(36)} ${o.shortdesc}${def}`);
  }
  lines.push('', `Actions: ${(agent.actions ?? ACTIONS).join(', ')}`);
  lines.push('Options can also be given on stdin as name=value lines (names as in the metadata), when there are no arguments.');
  return lines.join('\n') + '\n';
}

export function manpage(agent: FenceAgent): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/^\./gm, '\\&.').replace(/-/g, '\\-');
  const out = [
    `.TH ${agent.name.toUpperCase()} 8 "" "openstack-ha-agents ${agent.version}" "System Manager's Manual"`,
    '.SH NAME', `${agent.name} \\- ${esc(agent.shortdesc)}`,
    '.SH DESCRIPTION', esc(agent.longdesc),
    `.P\n${esc(agent.name)} accepts options on the command line as well as from stdin. Pacemaker's fencer sends name=value lines on stdin.`,
    '.SH PARAMETERS',
  ];
  for (const o of allOptions(agent)) {
    if (o.hidden) continue;
    out.push('.TP', `.B ${esc(mixed(o))}`);
    out.push(`${esc(o.shortdesc)}${o.required ? ' This parameter is always required.' : ''}${o.default ? ` (Default Value: ${esc(o.default)})` : ''}${o.obsoletes ? ` Obsoletes: ${esc(o.obsoletes)}` : ''}${o.deprecated ? ' (deprecated)' : ''}`);
  }
  out.push('.SH ACTIONS');
  for (const a of agent.actions ?? ACTIONS) out.push('.TP', `\\fB${a}\\fR`);
  out.push('.SH STDIN PARAMETERS', 'Each option can be given as name=value on its own line; lines starting with # are ignored.');
  return out.join('\n') + '\n';
}

/** Parse stdin: name=value lines, '#' comments, unknown names ignored (warned), last one wins. */
export function parseStdin(agent: FenceAgent, text: string, log?: Logger): { opts: Record<string, string>; given: Set<string> } {
  const byName = new Map<string, FenceOpt>();
  for (const o of [...allOptions(agent), ...COMMON_PLUG_OPTS.filter((o) => o.hidden)]) byName.set(o.name, o);
  const opts: Record<string, string> = {};
  const given = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new FenceError(`Parse error on stdin line ${i + 1}: expected name=value`);
    const rawName = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const q = /^"(.*)"$/.exec(value);
    if (q) value = q[1];
    const o = byName.get(rawName) ?? byName.get(rawName.replace(/-/g, '_'));
    if (!o) { log?.debug(`Ignoring unknown option '${rawName}'`); continue; }
    if (o.type === 'boolean') value = isTrue(value) ? '1' : '0';
    opts[keyOf(o)] = value;
    given.add(keyOf(o));
  }
  return { opts, given };
}

/** Parse the command line: --long-name, --long_name, -x short options, -vvv. Unknown options are ignored. */
/**
 * Like getopt, an option that takes a value takes the next word even when it starts with "-" ("-p -Secret1"), unless
 * that word is itself one of the agent's options ("--action --password=x" leaves action empty rather than making the
 * password its value). Such pairs are joined as "--long=value" before yargs-parser sees them.
 */
function joinDashValues(argv: string[], canon: Map<string, FenceOpt>, alias: Record<string, string[]>): string[] {
  const takesValue = new Map<string, string>();
  const known = new Set<string>(['--', '-h', '--help']);
  for (const [long, o] of canon) {
    for (const n of [long, ...(alias[long] ?? [])]) {
      const token = n.length === 1 ? `-${n}` : `--${n}`;
      known.add(token);
      if (o.arg) takesValue.set(token, long);
    }
  }
  const isOption = (t: string) => known.has(t.split('=')[0]) || /^-v+$/.test(t);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const long = takesValue.get(argv[i]);
    const next = argv[i + 1];
    if (long !== undefined && next !== undefined && next.startsWith('-') && !isOption(next)) {
      out.push(`--${long}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

export function parseArgv(agent: FenceAgent, argv: string[], log?: Logger): { opts: Record<string, string>; given: Set<string>; verboseCount: number } {
  const all = [...allOptions(agent), ...COMMON_PLUG_OPTS.filter((o) => o.hidden)];
  // options sharing a long name are one setting (login/username, port/plug): the non-deprecated one is canonical
  const canon = new Map<string, FenceOpt>();
  const alias: Record<string, string[]> = {};
  for (const o of all) {
    const cur = canon.get(o.long);
    if (!cur || (cur.deprecated && !o.deprecated)) canon.set(o.long, o);
    const names = new Set(alias[o.long] ?? []);
    for (const n of [o.long.replace(/-/g, '_'), o.name, o.name.replace(/-/g, '_'), o.name.replace(/_/g, '-'), o.short]) {
      if (n && n !== o.long) names.add(n);
    }
    alias[o.long] = [...names];
  }
  const boolean: string[] = [];
  const string: string[] = [];
  for (const [long, o] of canon) if (long !== 'verbose') (o.arg ? string : boolean).push(long);
  const parsed = yargsParser(joinDashValues(argv, canon, alias), {
    alias, boolean, string, count: ['verbose'],
    configuration: { 'camel-case-expansion': false, 'strip-dashed': false, 'strip-aliased': true, 'duplicate-arguments-array': false, 'short-option-groups': true, 'boolean-negation': false, 'parse-numbers': false, 'parse-positional-numbers': false },
  });
  const opts: Record<string, string> = {};
  const given = new Set<string>();
  for (const [k, v] of Object.entries(parsed)) {
    if (k === '_' || k === '$0') continue;
    const o = canon.get(k);
    if (!o) { log?.debug(`Ignoring unknown option '${k}'`); continue; }
    if (k === 'verbose') { if (Number(v) > 0) { opts.verbose = '1'; given.add('verbose'); } continue; }
    if (v === undefined || v === false) continue;
    opts[keyOf(o)] = v === true ? '1' : String(v);
    given.add(keyOf(o));
  }
  if (parsed._.length) log?.debug(`Ignoring extra arguments: ${parsed._.join(' ')}`);
  return { opts, given, verboseCount: Number(parsed.verbose ?? 0) };
}

function runPasswordScript(script: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', script], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout) => {
      if (err) { reject(new FenceError(`password script failed: ${(err as Error).message.split('\n')[0]}`)); return; }
      resolve(String(stdout).split('\n')[0]);
    });
  });
}

/** Poll status until it is `want` (fencing.py's loop after on/off), within power_timeout. */
export async function waitForStatus(ctx: FenceContext, want: 'on' | 'off', status: (ctx: FenceContext) => Promise<'on' | 'off'>): Promise<boolean> {
  const deadline = Date.now() + ctx.num('power_timeout') * 1000;
  const pause = Math.max(ctx.num('stonith_status_sleep'), 0.2) * 1000;
  return (await poll(async () => ((await status(ctx)) === want ? true : undefined), { intervalMs: pause, until: deadline })) ?? false;
}

/** What {@link powerSequence} needs of an agent. */
export interface PowerControl {
  /** the power state now (fencing.py's get_power_fn) */
  status(ctx: FenceContext): Promise<'on' | 'off'>;
  /** ask for a state (fencing.py's set_power_fn); whether it took is told by polling status */
  request(ctx: FenceContext, want: 'on' | 'off'): Promise<void>;
  /**
   * A reboot whose power-on fails after the power-off: 'succeed' (fencing.py: the node is fenced either way) logs the
   * error (and a failure of the power-on itself as a warning) and reports "Success: Rebooted"; 'fail' fails.
   */
  rebootOnFailure: 'succeed' | 'fail';
  /** an attempt (1-based, of `attempts`) that did not reach `want` within power_timeout; for a log line */
  onTimeout?(ctx: FenceContext, want: 'on' | 'off', attempt: number, attempts: number): void;
}

/** fencing.py's set_multi_power_fn: request, power_wait, then poll status until `want` or power_timeout; `attempts` times. */
async function setAndWait(ctx: FenceContext, pc: PowerControl, want: 'on' | 'off', attempts: number): Promise<boolean> {
  const n = Math.max(attempts, 1);
  for (let i = 1; i <= n; i++) {
    await pc.request(ctx, want);
    if (ctx.num('power_wait') > 0) await sleep(ctx.num('power_wait') * 1000);
    if (await waitForStatus(ctx, want, pc.status)) return true;
    pc.onTimeout?.(ctx, want, i, n);
  }
  return false;
}

/**
 * fencing.py's fence_action for on, off and reboot: status first ("Success: Already ON/OFF"); on in 1 + retry_on
 * attempts; off in one; reboot = off (unless off already), then on in max(retry_on, 1) attempts, its failure as
 * `rebootOnFailure` says. Writes the "Success: ..." line; a failure is a FenceError.
 */
export async function powerSequence(ctx: FenceContext, action: 'on' | 'off' | 'reboot', pc: PowerControl): Promise<void> {
  const now = await pc.status(ctx);
  if (action === now) { writeStdout(`Success: Already ${now.toUpperCase()}\n`); return; }
  if (action === 'on') {
    if (!(await setAndWait(ctx, pc, 'on', 1 + ctx.num('retry_on')))) throw new FenceError('Failed: Timed out waiting to power ON');
    writeStdout('Success: Powered ON\n');
    return;
  }
  if (now !== 'off' && !(await setAndWait(ctx, pc, 'off', 1))) throw new FenceError('Failed: Timed out waiting to power OFF');
  if (action === 'off') { writeStdout('Success: Powered OFF\n'); return; }
  const attempts = Math.max(ctx.num('retry_on'), 1);
  if (pc.rebootOnFailure === 'fail') {
    if (!(await setAndWait(ctx, pc, 'on', attempts))) {
      throw new FenceError('Failed: the server was powered off but did not power on again (Timed out waiting to power ON)');
    }
  } else {
    let on = false;
    try { on = await setAndWait(ctx, pc, 'on', attempts); } catch (e) { ctx.log.warn((e as Error).message); }
    // the node is fenced either way
    if (!on) ctx.log.error('Timed out waiting to power ON');
  }
  writeStdout('Success: Rebooted\n');
}

function readStdin(): string {
  try { return fs.readFileSync(0, 'utf8'); } catch { return ''; }
}

/**
 * The action when argv is only an action (-o ACTION, --action ACTION, --action=ACTION), else undefined:
 * parseArgv would give just {action} for these. Used for metadata, what Pacemaker runs most (at every fenced start and
 * when it reads the agent's parameters): yargs-parser (its first run) alone cost about 2.5 MiB of max RSS (V8's and
 * Node's native code it touches) and a few ms.
 */
export function actionOnly(argv: string[]): string | undefined {
  if (argv.length === 2 && (argv[0] === '-o' || argv[0] === '--action')) return argv[1];
  if (argv.length === 1 && argv[0].startsWith('--action=')) return argv[0].slice(9);
  return undefined;
}

/** Run a fence agent; returns the exit code. */
export async function runFence(agent: FenceAgent, argv: string[], env: NodeJS.ProcessEnv = process.env, stdin?: () => string): Promise<number> {
  if (actionOnly(argv)?.toLowerCase() === 'metadata') { writeStdout(metadataXml(agent)); return EC.OK; }
  const log = new Logger({ tag: agent.name, env, stderr: true, stderrFormat: 'fence', debug: false });
  let ctx: FenceContext | undefined;
  try {
    const parsed = argv.length > 0 ? parseArgv(agent, argv, log) : parseStdin(agent, (stdin ?? readStdin)(), log);
    const opts: Record<string, string> = {};
    for (const o of allOptions(agent)) if (o.default !== undefined && opts[keyOf(o)] === undefined) opts[keyOf(o)] = o.default;
    Object.assign(opts, parsed.opts);
    const given = parsed.given;
    if (isTrue(opts.verbose) || Number(opts.verbose_level) > 0) log.debugEnabled = true;
    if (opts.debug_file) { log.setDebugFile(opts.debug_file); log.debugEnabled = true; }
    if (isTrue(opts.quiet)) log.quiet = true;
    log.addSecret(opts.password);

    if (isTrue(opts.help)) { writeStdout(helpText(agent)); return EC.OK; }
    if (isTrue(opts.version)) { writeStdout(`${agent.version}\n`); return EC.OK; }

    const action = (opts.action || '').toLowerCase() as FenceAction;
    if (!ACTIONS.includes(action)) throw new FenceError(`Failed: Unrecognised action '${opts.action}'`);
    if (action === 'metadata') { writeStdout(metadataXml(agent)); return EC.OK; }
    if (action === 'manpage') { writeStdout(manpage(agent)); return EC.OK; }
    if (agent.actions && !agent.actions.includes(action) && !(action === 'reboot')) {
      throw new FenceError(`Failed: action ${action} is not supported by ${agent.name}`);
    }

    if (!opts.plug && opts.nodename) opts.plug = opts.nodename;
    ctx = {
      agent, action, opts, given, log, plug: opts.plug ?? '',
      str: (k) => opts[k] ?? '',
      bool: (k) => isTrue(opts[k]),
      num: (k) => Number(opts[k] ?? 0),
    };
    // type checks derived from the declaration
    for (const o of allOptions(agent)) {
      const v = opts[keyOf(o)];
      if (v === undefined || v === '' || !given.has(keyOf(o))) continue;
      if ((o.type === 'integer' || o.type === 'second') && !/^\d+(\.\d+)?$/.test(v)) {
        throw new FenceError(`Failed: ${o.name} must be a number${o.secret ? '' : `, got '${v}'`}`);
      }
    }
    const needsPlug = ['on', 'off', 'reboot', 'status'].includes(action);
    if (needsPlug && !ctx.plug) throw new FenceError('Failed: You have to enter plug number or machine identification');
    if (opts.password_script && !opts.password) {
      opts.password = await runPasswordScript(opts.password_script, Math.max(ctx.num('shell_timeout'), 5) * 1000);
      log.addSecret(opts.password);
    }
    await agent.handlers.validate?.(ctx);
    if (action === 'validate-all') return EC.OK;

    if ((action === 'off' || action === 'reboot') && ctx.num('delay') > 0) {
      log.info(`Delay ${ctx.num('delay')} second(s) before logging in to the fence device`);
      await sleep(ctx.num('delay') * 1000);
    }
    return await dispatch(ctx);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log.error(msg);
    return e instanceof FenceError ? e.code : EC.GENERIC;
  } finally {
    log.flush();
  }
}

async function dispatch(ctx: FenceContext): Promise<number> {
  const h = ctx.agent.handlers;
  const need = <T>(f: T | undefined, what: string): T => {
    if (!f) throw new FenceError(`Failed: action ${what} is not supported by ${ctx.agent.name}`);
    return f;
  };
  const sep = ctx.str('separator') || ',';
  switch (ctx.action) {
    case 'status': {
      const s = await need(h.status, 'status')(ctx);
      writeStdout(`Status: ${s.toUpperCase()}\n`);
      return s === 'off' ? EC.STATUS_OFF : EC.OK;
    }
    case 'on':
      await need(h.on, 'on')(ctx);
      return EC.OK;
    case 'off':
      await need(h.off, 'off')(ctx);
      return EC.OK;
    case 'reboot':
      if (h.reboot) await h.reboot(ctx);
      else { await need(h.off, 'off')(ctx); await need(h.on, 'on')(ctx); }
      return EC.OK;
    case 'list':
    case 'list-status': {
      const plugs = await need(h.list, 'list')(ctx);
      const lines: string[] = [];
      for (const p of plugs) {
        if (ctx.action === 'list') lines.push(`${p.plug}${sep}${p.alias ?? ''}`);
        else {
          const st = p.status ?? (h.status ? await h.status({ ...ctx, plug: p.plug }) : 'on');
          lines.push(`${p.plug}${sep}${p.alias ?? ''}${sep}${st.toUpperCase()}`);
        }
      }
      writeStdout(lines.map((l) => l + '\n').join(''));
      return EC.OK;
    }
    case 'monitor':
      if (h.monitor) await h.monitor(ctx);
      else if (h.list) await h.list(ctx);
      return EC.OK;
    default:
      throw new FenceError(`Failed: Unrecognised action '${ctx.action}'`);
  }
}
