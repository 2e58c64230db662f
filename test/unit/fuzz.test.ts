/**
 * Fuzz tests of the two runtimes' input handling, in-process with a seeded PRNG (FUZZ_SEED=<n> reproduces a run;
 * the seed is printed, and every failure message carries the seed and the case number):
 *  (a) the fence runtime (lib/runtime/fence/index.ts): stdin name=value text and argv, run through runFence with the real
 *      option declarations and the real validate() of fence_compute / fence_evacuate / fence_openstack;
 *  (b) the OCF runtime (lib/runtime/ocf/index.ts): OCF_RESKEY_* environments and actions, run through runOcf with the real
 *      parameter declarations, validate() of NovaEvacuate, nova-compute-wait, NovaCompute and openstack-cinder-volume, and the real
 *      start/stop of NovaEvacuate.
 * Handlers that would reach OpenStack or Pacemaker are replaced by stubs that succeed, answer a status or throw
 * (errors carrying the secret, non-Error throws), so that the runtimes' mapping of outcomes to exit codes and their
 * secret scrubbing are exercised, without network or child processes.
 * Asserted for every input: no exception escapes, only documented exit codes (fence: 0, 1, 2; OCF: by action), and
 * no secret (password values, on stdin, argv or in the environment) appears on stdout, stderr or in a log file.
 * Inputs that would run a shell (password_script) or write files (debug_file, HA_LOGFILE) only ever get safe values.
 *  (c) the built binary, spawned (dist/openstack-ha-agents): fence stdin and OCF environments that never reach the network.
 * FUZZ_BINARY chooses the parts: npm test (test/run-all.sh) runs vitest before the build with FUZZ_BINARY=off (only (a)
 * and (b)) and again after it with FUZZ_BINARY=only (only (c); a missing binary fails it). Unset, as in a plain
 * `npx vitest run`, all three run and (c) is skipped when the binary has not been built.
 */
import { describe, it, expect, vi, afterAll } from 'vitest';
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { runFence, parseArgv, parseStdin, allOptions, FenceError, type FenceAgent, type FenceContext, type FenceHandlers } from '../../lib/runtime/fence/index';
import { runOcf, OCF, OcfError, type OcfAgent, type OcfContext } from '../../lib/runtime/ocf/index';
import { definition as fenceCompute } from '../../agents/fence_compute';
import { definition as fenceEvacuate } from '../../agents/fence_evacuate';
import { definition as fenceOpenstack } from '../../agents/fence_openstack';
import { definition as novaEvacuate } from '../../agents/NovaEvacuate';
import { definition as novaComputeWait } from '../../agents/nova-compute-wait';
import { definition as novaCompute } from '../../agents/NovaCompute';
import { definition as openstackCinderVolume } from '../../agents/openstack-cinder-volume';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : 0x0a11ce5;
const N = Number(process.env.FUZZ_CASES ?? 10_000);
const FUZZ_BINARY = process.env.FUZZ_BINARY ?? '';
if (!['', 'off', 'only'].includes(FUZZ_BINARY)) throw new Error(`FUZZ_BINARY=${FUZZ_BINARY}: expected off, only or nothing`);
/** describe, or nothing at all: a part left out is not defined, so it is not reported as skipped either */
const describeIf = (on: boolean): typeof describe => (on ? describe : ((() => undefined) as unknown as typeof describe));
const inProcess = describeIf(FUZZ_BINARY !== 'only');
// eslint-disable-next-line no-console
console.log(`fuzz: seed ${SEED} (FUZZ_SEED=${SEED} to reproduce), ${N} cases per runtime`);

/** mulberry32: small, fast, seedable */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'oha-fuzz-'));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** random text of various kinds (printable, unicode, raw bytes with NULs and CRs, huge) */
function text(r: Rng, maxLen = 40): string {
  const kind = r.int(10);
  const len = r.int(maxLen + 1);
  let s = '';
  switch (kind) {
    case 0: return '';
    case 1: for (let i = 0; i < len; i++) s += String.fromCharCode(32 + r.int(95)); return s;
    case 2: for (let i = 0; i < len; i++) s += String.fromCharCode(r.int(256)); return s; // binary bytes incl. NUL, CR, LF
    case 3: for (let i = 0; i < len; i++) s += String.fromCodePoint(r.chance(0.1) ? 0x1f600 + r.int(50) : 0xa0 + r.int(0x2000)); return s;
    case 4: return r.pick(['0', '1', '-1', '007', '1.5', '1e3', 'NaN', 'Infinity', '99999999999999999999', '+3', ' 5 ', '0x10', '٣']);
    case 5: return r.pick(['yes', 'no', 'true', 'false', 'True', 'FALSE', 'on', 'off', 'y', 'n', '2', 'maybe', '']);
    case 6: return `"${text(r, 10)}"`;
    case 7: return r.chance(0.05) ? 'x'.repeat(50_000 + r.int(150_000)) : '\0'.repeat(1 + r.int(4));
    case 8: return r.pick(['=', '==', '#', '"', "'", '\\', '\r', '\r\n', '\t', ' = ', '$(id)', '`id`', '%s%n', '../../etc/passwd', '<>&"']);
    default: for (let i = 0; i < len; i++) s += r.pick('abcdefghijklmnopqrstuvwxyz_-0123456789'.split('')); return s;
  }
}

/** a distinctive secret that is long enough never to occur by chance in the output */
function secret(r: Rng): string {
  const core = `S3cr3t${r.int(1e9).toString(36)}${r.int(1e9).toString(36)}`;
  return r.pick([core, `${core} with space`, `${core}"quote`, `${core}=eq`, `${core}#hash`, `${core}\u00e9\u4e2d`, `${core}$(id)`]);
}

function leaks(out: string, secrets: string[]): string | undefined {
  return secrets.find((s) => s.length > 0 && out.includes(s));
}

/** spy on stdout/stderr for the whole test; per case buffers */
function captureAll() {
  const buf = { out: '', err: '' };
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: unknown) => { buf.out += String(c); return true; });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: unknown) => { buf.err += String(c); return true; });
  return { buf, restore: () => { o.mockRestore(); e.mockRestore(); } };
}

// ------------------------------------------------------------------------------------------------------- fence
type Outcome = 'ok' | 'off' | 'fence-error' | 'error' | 'throw-string' | 'type-error';

function stubFence(base: FenceAgent, outcome: () => Outcome): FenceAgent {
  // errors carry the password in effect, as a careless client library would
  const act = async (ctx: FenceContext): Promise<void> => {
    const o = outcome();
    const s = ctx.str('password');
    if (o === 'fence-error') throw new FenceError(`Failed: Nova said no to ${s}`);
    if (o === 'error') throw new Error(`connection refused while sending password ${s}`);
    if (o === 'throw-string') throw `raw ${s}`; // eslint-disable-line no-throw-literal
    if (o === 'type-error') (undefined as unknown as { x(): void }).x();
  };
  const handlers: FenceHandlers = {
    validate: base.handlers.validate, // the real one (endpoint type, credentials, clouds.yaml), local only
    status: async (ctx) => { await act(ctx); return outcome() === 'off' ? 'off' : 'on'; },
    on: act, off: act, reboot: act, monitor: act,
    list: async (ctx) => { await act(ctx); return [{ plug: 'compute1' }, { plug: 'compute2', alias: text(prng(1), 5) }]; },
  };
  return { ...base, handlers };
}

/** fence option names that must only get safe values (they run a shell, write a file or sleep; openrc is sourced) */
const GUARDED = new Set(['password_script', 'passwd_script', 'debug', 'debug_file', 'delay', 'openrc']);

function fenceStdin(r: Rng, agent: FenceAgent, secrets: string[], debugFile: string): string {
  const opts = allOptions(agent).filter((o) => !GUARDED.has(o.name));
  const names = [...opts.map((o) => o.name), ...opts.map((o) => o.name.replace(/_/g, '-')), 'nodename', 'port', 'plug'];
  const lines: string[] = [];
  if (r.chance(0.6)) { // a complete, valid configuration first, so that validation passes and the handlers run
    const s = secret(r); secrets.push(s);
    lines.push('auth_url=http://127.0.0.1:1/identity/v3', 'login=admin', `passwd=${s}`, 'tenant_name=admin', 'plug=compute1');
  }
  const n = r.int(14);
  if (r.chance(0.85)) lines.push(`action=${r.chance(0.8) ? r.pick(['on', 'off', 'reboot', 'status', 'list', 'list-status', 'monitor', 'metadata', 'manpage', 'validate-all']) : text(r, 12)}`);
  for (let i = 0; i < n; i++) {
    switch (r.int(14)) {
      case 0: lines.push(`# ${text(r)}`); break;
      case 1: lines.push(r.pick(['', '   ', '\t'])); break;
      case 2: lines.push(text(r)); break; // malformed (mostly no "=")
      case 3: lines.push(`=${text(r)}`); break;
      case 4: lines.push(`${text(r, 12)}=${text(r)}`); break; // unknown names, binary names
      case 5: { const s = secret(r); secrets.push(s); lines.push(`${r.pick(['passwd', 'password'])}=${r.chance(0.3) ? `"${s}"` : s}`); break; }
      case 6: if (lines.length) lines.push(r.pick(lines)); break; // duplicate
      case 7: lines.push(`debug_file=${debugFile}`); break;
      case 8: lines.push(`delay=${r.pick(['0', '', 'x', '-1', '1e3', '0.0'])}`); break;
      case 9: if (r.chance(0.02)) { const s = secret(r).replace(/[^A-Za-z0-9]/g, ''); secrets.push(s); lines.push(`password_script=printf '%s\\n' ${s}`); } break;
      default: lines.push(`${r.chance(0.1) ? '  ' : ''}${r.pick(names)}${r.chance(0.1) ? ' ' : ''}=${text(r)}`);
    }
  }
  const eol = r.pick(['\n', '\r\n', '\r\n', '\n']);
  let s = lines.map((l) => l + (r.chance(0.1) ? r.pick(['\n', '\r\n']) : eol)).join('');
  if (r.chance(0.2)) s = s.replace(/\r?\n$/, '');
  return s;
}

function fenceArgv(r: Rng, agent: FenceAgent, secrets: string[]): string[] {
  const longs = allOptions(agent).filter((o) => !GUARDED.has(o.name)).map((o) => o.long).filter((l) => !/script|debug|delay/.test(l));
  const shortSafe = 'abcefghijklmnoqrtuvwxyzACEFGHIJKLMNOPQRTUVWXYZ0123456789'; // no S (password script), no D (debug file)
  const argv: string[] = [];
  if (r.chance(0.6)) {
    const s = secret(r).replace(/^-+/, ''); secrets.push(s);
    argv.push('--auth-url', 'http://127.0.0.1:1/identity/v3', '-l', 'admin', `--password=${s}`, '-t', 'admin', '-n', 'compute1');
  }
  const n = 1 + r.int(10);
  for (let i = 0; i < n; i++) {
    switch (r.int(12)) {
      case 0: argv.push('-o', r.chance(0.8) ? r.pick(['status', 'list', 'monitor', 'metadata', 'off', 'on', 'reboot', 'validate-all']) : text(r, 8)); break;
      case 1: argv.push(`--action=${r.pick(['status', 'list', 'monitor', 'metadata', 'manpage'])}`); break;
      case 2: { const s = secret(r); secrets.push(s); argv.push(`--password=${s}`); break; }
      case 3: { const s = secret(r).replace(/^-+/, ''); secrets.push(s); argv.push(r.pick(['-p', '--password', '--passwd']), s); break; }
      case 4: argv.push(`--${r.pick(longs)}`, text(r, 10).replace(/^-+/, '')); break;
      case 5: argv.push(`--${r.pick(longs)}=${text(r, 10)}`); break;
      case 6: argv.push(`-${Array.from({ length: 1 + r.int(3) }, () => r.pick(shortSafe.split(''))).join('')}`); break;
      case 7: argv.push(`--${text(r, 8).replace(/[^a-z-]/g, 'x')}`); break;
      case 8: argv.push(r.pick(['-v', '-vvv', '--verbose', '--quiet', '-q', '--', '-', '--insecure', '--help', '-V'])); break;
      case 9: argv.push(text(r, 10).replace(/^-+/, '')); break; // positional garbage
      default: argv.push(`--${r.pick(longs)}`);
    }
  }
  return argv;
}

/** nothing in argv or stdin may make the runtime run a shell, write outside TMP or sleep (should random text ever spell it) */
function argvIsSafe(agent: FenceAgent, argv: string[]): boolean {
  const { opts } = parseArgv(agent, argv);
  return !opts.password_script && !opts.debug_file && !(Number(opts.delay) > 0) && !opts.openrc;
}
function stdinIsSafe(agent: FenceAgent, stdin: string, debugFile: string): boolean {
  let opts: Record<string, string>;
  try { opts = parseStdin(agent, stdin).opts; } catch { return true; } // rejected before anything runs
  return (!opts.password_script || /^printf '%s\\n' [A-Za-z0-9]+$/.test(opts.password_script))
    && (!opts.debug_file || opts.debug_file === debugFile) && !(Number(opts.delay) > 0) && !opts.openrc;
}

inProcess('fuzz: fence runtime (stdin and argv)', () => {
  it(`${N} generated inputs: no uncaught exception, exit codes 0/1/2 only, no secret in the output`, async () => {
    const r = prng(SEED);
    let outcome: Outcome = 'ok';
    let secrets: string[] = [];
    const agents = [fenceCompute, fenceEvacuate, fenceOpenstack].map((a) => stubFence(a, () => outcome));
    const debugFile = path.join(TMP, 'fence-debug.log');
    const counts: Record<string, number> = {};
    const cap = captureAll();
    let argvRuns = 0;
    try {
      for (let i = 0; i < N; i++) {
        secrets = [];
        outcome = r.pick(['ok', 'ok', 'ok', 'off', 'fence-error', 'error', 'throw-string', 'type-error'] as const);
        const agent = r.pick(agents);
        let argv: string[] = [];
        let stdin = '';
        if (r.chance(0.3)) {
          argv = fenceArgv(r, agent, secrets);
          if (!argvIsSafe(agent, argv)) { i--; continue; }
          argvRuns++;
        } else {
          stdin = fenceStdin(r, agent, secrets, debugFile);
          if (!stdinIsSafe(agent, stdin, debugFile)) { i--; continue; }
        }
        cap.buf.out = ''; cap.buf.err = '';
        let rc: number;
        try {
          rc = await runFence(agent, argv, {}, () => stdin);
        } catch (e) {
          throw new Error(`seed ${SEED} case ${i}: runFence threw ${(e as Error).stack ?? e}\nargv=${JSON.stringify(argv)}\nstdin=${JSON.stringify(stdin.slice(0, 2000))}`);
        }
        counts[rc] = (counts[rc] ?? 0) + 1;
        const where = `seed ${SEED} case ${i} (rc ${rc}, outcome ${outcome})\nargv=${JSON.stringify(argv)}\nstdin=${JSON.stringify(stdin.slice(0, 2000))}`;
        if (![0, 1, 2].includes(rc)) throw new Error(`undocumented exit code: ${where}`);
        const leaked = leaks(cap.buf.out + cap.buf.err, secrets);
        if (leaked) throw new Error(`secret ${JSON.stringify(leaked)} in the output: ${where}\nout=${JSON.stringify(cap.buf.out.slice(0, 500))}\nerr=${JSON.stringify(cap.buf.err.slice(0, 1000))}`);
        if (fs.existsSync(debugFile)) {
          const leakedFile = leaks(fs.readFileSync(debugFile, 'utf8'), secrets);
          fs.rmSync(debugFile);
          if (leakedFile) throw new Error(`secret ${JSON.stringify(leakedFile)} in debug_file: ${where}`);
        }
      }
    } finally {
      cap.restore();
    }
    // eslint-disable-next-line no-console
    console.log(`fuzz fence: ${N} inputs (${argvRuns} argv), exit codes ${JSON.stringify(counts)}`);
    // the generator must reach all three codes, or it is not exercising the runtime
    expect(counts[0]).toBeGreaterThan(100);
    expect(counts[1]).toBeGreaterThan(100);
    expect(counts[2]).toBeGreaterThan(0);
  }, 120_000);
});

// --------------------------------------------------------------------------------------------------------- OCF
const OCF_ALL = new Set<number>(Object.values(OCF));
/** what each action may return (OCF Resource Agent API 1.1 and Pacemaker's degraded codes) */
const ALLOWED: Record<string, Set<number>> = {
  'meta-data': new Set([0]), usage: new Set([0]), help: new Set([0]), '--help': new Set([0]), '-h': new Set([0]), '--version': new Set([0]), '-V': new Set([0]),
  'validate-all': new Set([0, 1, 2, 3, 4, 5, 6]),
  start: new Set([0, 1, 2, 3, 4, 5, 6]),
  stop: new Set([0, 1, 2, 3, 4, 5, 6]),
  monitor: OCF_ALL,
};

function stubOcf(base: OcfAgent, outcome: () => number | 'error' | 'ocf-error' | 'throw-string'): OcfAgent {
  const act = async (ctx: OcfContext): Promise<number> => {
    const o = outcome();
    const s = ctx.str('password');
    if (o === 'error') throw new Error(`Nova is not reachable with password ${s}`);
    if (o === 'ocf-error') throw new OcfError(OCF.ERR_GENERIC, `cannot evacuate: token for ${s} refused`);
    if (o === 'throw-string') throw `raw ${s}`; // eslint-disable-line no-throw-literal
    return o;
  };
  return {
    ...base,
    handlers: {
      ...base.handlers, // real validate, isRunning, start and stop where they are local (state files under HA_RSCTMP)
      start: base.name === 'NovaEvacuate' ? base.handlers.start : act,
      stop: base.name === 'NovaEvacuate' ? base.handlers.stop : act,
      monitor: act,
    },
  };
}

function ocfEnv(r: Rng, agent: OcfAgent, secrets: string[], rscTmp: string, logFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HA_LOGFACILITY: 'none', HA_RSCTMP: rscTmp };
  if (r.chance(0.6)) { // a complete, valid configuration, so that validation passes and the handlers run
    const s = secret(r); secrets.push(s);
    Object.assign(env, { OCF_RESKEY_auth_url: 'http://127.0.0.1:1/identity/v3', OCF_RESKEY_username: 'admin', OCF_RESKEY_password: s, OCF_RESKEY_tenant_name: 'admin' });
  }
  const n = r.int(12);
  for (let i = 0; i < n; i++) {
    switch (r.int(10)) {
      case 0: env[`OCF_RESKEY_${text(r, 12)}`] = text(r); break;
      case 1: { const s = secret(r); secrets.push(s); env.OCF_RESKEY_password = s; break; }
      case 2: env.OCF_CHECK_LEVEL = r.pick(['0', '10', '20', '-1', 'x', '', '1e9', text(r, 5)]); break;
      case 3: env.OCF_RESKEY_CRM_meta_timeout = r.pick(['20000', '0', '-5', 'abc', '', '1e400', '600000', text(r, 6)]); break;
      case 4: env.OCF_RESKEY_CRM_meta_interval = r.pick(['0', '10000', '', 'x', '-1', text(r, 6)]); break;
      case 5: env.OCF_RESOURCE_INSTANCE = r.pick(['nova-evacuate', 'ne:0', 'x y', '', text(r, 10).replace(/[/\0]/g, '_')]); break;
      case 6: env.HA_debug = r.pick(['0', '1', 'yes', '']); break;
      case 7: env.HA_LOGFILE = logFile; break;
      default: {
        const p = r.pick(agent.params);
        env[`OCF_RESKEY_${p.name}`] = r.chance(0.5) ? text(r) : r.pick(['http://127.0.0.1:1/v3', 'admin', 'publicURL', 'internalURL', 'Default', 'true', '10', '-3', 'x']);
      }
    }
  }
  return env;
}

inProcess('fuzz: OCF runtime (environment and actions)', () => {
  it(`${N} generated environments: no uncaught exception, documented exit codes per action, no secret in the output`, async () => {
    const r = prng(SEED ^ 0x5eed);
    let outcome: number | 'error' | 'ocf-error' | 'throw-string' = 0;
    let secrets: string[] = [];
    const agents = [novaEvacuate, novaComputeWait, novaCompute, openstackCinderVolume].map((a) => stubOcf(a, () => outcome));
    const rscTmp = path.join(TMP, 'rsctmp');
    const logFile = path.join(TMP, 'ha.log');
    const counts: Record<string, Record<number, number>> = {};
    const cap = captureAll();
    try {
      for (let i = 0; i < N; i++) {
        secrets = [];
        const agent = r.pick(agents);
        const action = r.chance(0.9)
          ? r.pick(['start', 'stop', 'monitor', 'monitor', 'monitor', 'validate-all', 'meta-data', 'usage', 'reload', 'promote', 'notify', '', 'MONITOR'])
          : text(r, 10);
        outcome = r.pick([0, 0, 7, 1, 6, 8, 9, 190, 191, 5, 'error', 'ocf-error', 'throw-string'] as const);
        if (action !== 'monitor' && typeof outcome === 'number' && !ALLOWED.start.has(outcome)) outcome = 0;
        const env = ocfEnv(r, agent, secrets, rscTmp, logFile);
        if (r.chance(0.5)) { fs.mkdirSync(rscTmp, { recursive: true }); } else fs.rmSync(rscTmp, { recursive: true, force: true });
        cap.buf.out = ''; cap.buf.err = '';
        const args = r.chance(0.05) ? [] : [action];
        if (args.length === 0) env.__OCF_ACTION = r.chance(0.5) ? action : undefined;
        const effective = args[0] ?? env.__OCF_ACTION ?? '';
        let rc: number;
        try {
          rc = await runOcf(agent, args, env);
        } catch (e) {
          throw new Error(`seed ${SEED} case ${i}: runOcf threw ${(e as Error).stack ?? e}\naction=${JSON.stringify(effective)} env=${JSON.stringify(env).slice(0, 2000)}`);
        }
        (counts[effective in ALLOWED ? effective : 'other'] ??= {})[rc] = ((counts[effective in ALLOWED ? effective : 'other'] ?? {})[rc] ?? 0) + 1;
        const where = `seed ${SEED} case ${i}: ${agent.name} ${JSON.stringify(effective)} rc ${rc} (outcome ${outcome})\nenv=${JSON.stringify(env).slice(0, 2000)}`;
        const declared = agent.actions.some((a) => a.name === effective);
        const allowed = ALLOWED[effective] ?? (effective === '' ? new Set([OCF.ERR_ARGS]) : declared ? OCF_ALL : new Set([OCF.ERR_UNIMPLEMENTED]));
        if (!allowed.has(rc)) throw new Error(`exit code ${rc} not documented for ${JSON.stringify(effective)}: ${where}\nerr=${JSON.stringify(cap.buf.err.slice(0, 500))}`);
        if (rc === 0 && ['meta-data', 'usage'].includes(effective) && cap.buf.out.length === 0) throw new Error(`empty ${effective}: ${where}`);
        for (const line of cap.buf.err.split('\n')) {
          if (line.startsWith('ocf-exit-reason:') && /[\r]/.test(line)) throw new Error(`multi-line exit reason: ${where}`);
        }
        const leaked = leaks(cap.buf.out + cap.buf.err, secrets);
        if (leaked) throw new Error(`secret ${JSON.stringify(leaked)} in the output: ${where}\nerr=${JSON.stringify(cap.buf.err.slice(0, 1000))}`);
        if (fs.existsSync(logFile)) {
          const leakedFile = leaks(fs.readFileSync(logFile, 'utf8'), secrets);
          fs.rmSync(logFile);
          if (leakedFile) throw new Error(`secret ${JSON.stringify(leakedFile)} in HA_LOGFILE: ${where}`);
        }
      }
    } finally {
      cap.restore();
    }
    // eslint-disable-next-line no-console
    console.log(`fuzz OCF: ${N} environments, exit codes by action ${JSON.stringify(counts)}`);
    expect(Object.keys(counts.monitor ?? {}).length).toBeGreaterThan(3);
    expect(counts['validate-all']?.[0] ?? 0).toBeGreaterThan(0);
    expect(counts['validate-all']?.[6] ?? 0).toBeGreaterThan(0);
    expect(counts.other?.[3] ?? 0).toBeGreaterThan(0);
  }, 120_000);
});

// ------------------------------------------------------------------------------------------ the built binary
const BIN = path.resolve(__dirname, '../../dist/openstack-ha-agents');
const SPAWNS = Number(process.env.FUZZ_SPAWNS ?? 120); // FUZZ_SPAWNS=1000 for a longer run

interface Spawned { code: number | null; signal: NodeJS.Signals | null; out: string }
function spawnAgent(argv: string[], env: NodeJS.ProcessEnv, stdin: string): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, argv, { env: { PATH: '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, out }); });
    p.stdin.on('error', () => { /* exited before reading */ });
    p.stdin.end(stdin);
  });
}

// FUZZ_BINARY=only (npm test, after the build): a missing binary is a failure, not a skip
const spawned = FUZZ_BINARY === 'off' ? describeIf(false) : FUZZ_BINARY === 'only' ? describe : describe.skipIf(!fs.existsSync(BIN));
spawned('fuzz: the built binary (spawned)', () => {
  it(`${SPAWNS} spawned runs of dist/openstack-ha-agents with generated stdin, argv and environments`, async () => {
    if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
    const r = prng(SEED ^ 0xb1);
    const stateDir = path.join(TMP, 'spawn-state');
    const rscTmp = path.join(TMP, 'spawn-rsctmp');
    fs.mkdirSync(rscTmp, { recursive: true });
    // actions that never reach the network (the credentials point at a closed loopback port anyway)
    const fenceActions = ['metadata', 'manpage', 'validate-all', 'METADATA', 'bogus', ''];
    const jobs: (() => Promise<void>)[] = [];
    const counts: Record<string, number> = {};
    for (let i = 0; i < SPAWNS; i++) {
      const secrets: string[] = [];
      if (i % 2 === 0) {
        const agent = r.pick([fenceCompute, fenceEvacuate, fenceOpenstack]);
        const stdin = fenceStdin(r, agent, secrets, path.join(TMP, 'spawn-debug.log')).replace(/^action=.*$/m, '') + `\naction=${r.pick(fenceActions)}\n`;
        const argv = [agent.name];
        jobs.push(async () => {
          const s = await spawnAgent(argv, { OPENSTACK_HA_AGENTS_STATE_DIR: stateDir }, stdin);
          const where = `seed ${SEED} spawn ${i}: ${agent.name} rc ${s.code} signal ${s.signal}\nstdin=${JSON.stringify(stdin.slice(0, 1000))}`;
          counts[`fence:${s.code}`] = (counts[`fence:${s.code}`] ?? 0) + 1;
          expect([0, 1, 2], where).toContain(s.code);
          expect(leaks(s.out, secrets), where).toBeUndefined();
        });
      } else {
        const agent = r.pick([novaEvacuate, novaComputeWait]);
        const env = ocfEnv(r, agent, secrets, rscTmp, path.join(TMP, 'spawn-ha.log'));
        for (const k of Object.keys(env)) { // execve cannot pass these (NULs, "=" in names, strings over MAX_ARG_STRLEN)
          const v = env[k] ?? '';
          if (k.includes('\0') || v.includes('\0') || k === '' || k.includes('=') || Buffer.byteLength(k + v) > 100_000) delete env[k];
        }
        if (r.chance(0.5)) env.OCF_RESKEY_CRM_meta_interval = '0'; // probes: no state file means not running, before any network use
        env.OCF_RESKEY_CRM_meta_on_node = 'node1';
        const action = r.pick(['meta-data', 'validate-all', 'usage', 'stop', 'monitor', 'reload', 'bogus', 'start']);
        jobs.push(async () => {
          const s = await spawnAgent([agent.name, action], env, '');
          const where = `seed ${SEED} spawn ${i}: ${agent.name} ${action} rc ${s.code} signal ${s.signal}\nenv=${JSON.stringify(env).slice(0, 1500)}`;
          counts[`ocf:${action}:${s.code}`] = (counts[`ocf:${action}:${s.code}`] ?? 0) + 1;
          const allowed = ALLOWED[action] ?? (agent.actions.some((a) => a.name === action) ? OCF_ALL : new Set([OCF.ERR_UNIMPLEMENTED]));
          expect(allowed.has(s.code ?? -1), where).toBe(true);
          expect(leaks(s.out, secrets), where).toBeUndefined();
        });
      }
    }
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => { while (next < jobs.length) await jobs[next++](); }));
    // eslint-disable-next-line no-console
    console.log(`fuzz spawned: ${SPAWNS} runs, exit codes ${JSON.stringify(counts)}`);
  }, 120_000);
});
