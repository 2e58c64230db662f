/**
 * Wrappers for Pacemaker's command-line tools. Every call has a timeout, and runs with
 * OCF_RESKEY_CRM_meta_on_node removed from its environment: with it set (as it is inside a resource agent),
 * Pacemaker 2.1.5's attrd_updater -A/-Q answers for the local node only, which blinds an agent to the others.
 */
import { execFile, spawnSync } from 'node:child_process';
import { getSystemErrorName } from 'node:util';

export interface RunResult { code: number; stdout: string; stderr: string }

export class PacemakerError extends Error {
  constructor(message: string, readonly result?: RunResult) { super(message); }
}

export const DEFAULT_TIMEOUT_MS = 15000;

function cleanEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (k === 'OCF_RESKEY_CRM_meta_on_node' || k === 'OCF_RESKEY_CRM_meta_on_node_uuid') continue;
    // nothing secret is ever passed to these tools; don't hand them the agents' parameters either
    if (k.startsWith('OCF_RESKEY_')) continue;
    out[k] = v;
  }
  return out;
}

export function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout, env: cleanEnv(opts.env ?? process.env), killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new PacemakerError(`${cmd} not found (is Pacemaker installed?)`)); return;
        }
        if (err && (err as { killed?: boolean }).killed) {
          reject(new PacemakerError(`${cmd} ${args.join(' ')} timed out after ${timeout} ms`)); return;
        }
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
  });
}

/** A synchronous run's outcome: exit status, or the error (ENOENT, ETIMEDOUT, ENOBUFS...) that ended it */
export interface SpawnSyncOutcome { error?: string; status: number | null; stdout: string; stderr: string }

/** Node's own spawnSync binding (what child_process.spawnSync calls), or null where process.binding refuses it */
interface SpawnSyncBinding { spawn(options: object): { status: number | null; output: (Buffer | null)[] | null; error?: number } }
let spawnSyncBinding: SpawnSyncBinding | null | undefined;
function getSpawnSyncBinding(): SpawnSyncBinding | null {
  if (spawnSyncBinding === undefined) {
    try {
      const b = (process as unknown as { binding(name: string): SpawnSyncBinding }).binding('spawn_sync');
      spawnSyncBinding = typeof b?.spawn === 'function' ? b : null;
    } catch {
      spawnSyncBinding = null;
    }
  }
  return spawnSyncBinding;
}

/**
 * child_process.spawnSync(cmd, args, { env, timeout, killSignal: 'SIGKILL', maxBuffer }) with UTF-8 output, by default
 * through Node's spawn_sync binding itself, as child_process.spawnSync does, with the options it would pass: loading
 * node:child_process (and the net, dgram and stream modules it loads) is 3 MiB of RSS and ~10 ms of a cold start in
 * the single executable, the spawn itself 0.3 MiB. Where the binding is not available (process.binding refused, its
 * interface changed), child_process.spawnSync runs it.
 */
export function spawnSyncText(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number,
  via: 'binding' | 'child_process' = 'binding'): SpawnSyncOutcome {
  const maxBuffer = 16 << 20;
  const b = via === 'binding' ? getSpawnSyncBinding() : null;
  if (b) {
    let r: ReturnType<SpawnSyncBinding['spawn']> | undefined;
    try {
      r = b.spawn({
        file: cmd, args: [cmd, ...args],
        envPairs: Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`),
        stdio: [{ type: 'pipe', readable: true, writable: false }, { type: 'pipe', readable: false, writable: true },
          { type: 'pipe', readable: false, writable: true }],
        timeout: timeoutMs, maxBuffer, killSignal: 9 /* SIGKILL */, detached: false, windowsHide: false, windowsVerbatimArguments: false,
      });
    } catch {
      r = undefined; // options refused before any spawn (another Node's binding): child_process.spawnSync below
    }
    if (r && typeof r === 'object' && 'status' in r) {
      return {
        ...(typeof r.error === 'number' && r.error < 0 ? { error: getSystemErrorName(r.error) } : {}),
        status: r.status, stdout: r.output?.[1]?.toString('utf8') ?? '', stderr: r.output?.[2]?.toString('utf8') ?? '',
      };
    }
  }
  const r = spawnSync(cmd, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer, encoding: 'utf8' });
  const error = (r.error as NodeJS.ErrnoException | undefined)?.code;
  return { ...(r.error ? { error: error ?? 'EUNKNOWN' } : {}), status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * run(), synchronously (no child process streams, no event loop turn: see spawnSyncText), for a process that has
 * nothing else to do meanwhile, such as an idle monitor: the timeout kills the tool (SIGKILL) and closes its pipes, so a
 * hanging tool (or a child of it holding the pipes open) cannot hold the caller past it.
 */
export function runSync(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const r = spawnSyncText(cmd, args, cleanEnv(opts.env ?? process.env), timeout);
  if (r.error === 'ENOENT') throw new PacemakerError(`${cmd} not found (is Pacemaker installed?)`);
  if (r.error === 'ETIMEDOUT') throw new PacemakerError(`${cmd} ${args.join(' ')} timed out after ${timeout} ms`);
  // as execFile: another spawn error or a kill (output over maxBuffer) is exit code 1
  return { code: r.error || r.status === null ? 1 : r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface AttrValue { name: string; host: string; value: string }

/** Parse attrd_updater -Q/-A output lines: name="evacuate" host="compute1" value="yes" */
export function parseAttrdOutput(text: string): AttrValue[] {
  const out: AttrValue[] = [];
  const re = /^name="([^"]*)" host="([^"]*)" value="([^"]*)"\s*$/;
  for (const line of text.split('\n')) {
    const m = re.exec(line.trim());
    if (m) out.push({ name: m[1], host: m[2], value: m[3] });
  }
  return out;
}

/** attrd_updater's "no such attribute" answers (exit codes and messages vary by version). */
function isMissing(r: RunResult): boolean {
  return r.code === 105 || r.code === 78 || /does not exist|no such|not found/i.test(r.stderr);
}

export class Attrd {
  constructor(private readonly opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {}

  /** Value of the attribute for one node; '' when unset or deleted. */
  async query(name: string, node: string, isPrivate = true): Promise<string> {
    const r = await run('attrd_updater', [...(isPrivate ? ['-p'] : []), '-n', name, '-Q', '-N', node], this.opts);
    if (r.code !== 0) {
      if (isMissing(r)) return '';
      throw new PacemakerError(`attrd_updater -Q -n ${name} -N ${node} failed (${r.code}): ${r.stderr.trim()}`, r);
    }
    const v = parseAttrdOutput(r.stdout).find((a) => a.host === node);
    return v?.value ?? '';
  }

  /** Values of the attribute for every node that has it. */
  async queryAll(name: string): Promise<AttrValue[]> {
    return this.allResult(name, await run('attrd_updater', ['-n', name, '-QA'], this.opts));
  }

  /** queryAll, synchronously (runSync): for a monitor that has nothing else to do while attrd_updater runs */
  queryAllSync(name: string): AttrValue[] {
    return this.allResult(name, runSync('attrd_updater', ['-n', name, '-QA'], this.opts));
  }

  private allResult(name: string, r: RunResult): AttrValue[] {
    if (r.code !== 0) {
      if (isMissing(r)) return [];
      throw new PacemakerError(`attrd_updater -QA -n ${name} failed (${r.code}): ${r.stderr.trim()}`, r);
    }
    return parseAttrdOutput(r.stdout).filter((a) => a.name === name);
  }

  /** Set the attribute for a node; -p keeps it out of the CIB (private), as the reference agents do. */
  async update(name: string, node: string, value: string, isPrivate = true): Promise<void> {
    const r = await run('attrd_updater', [...(isPrivate ? ['-p'] : []), '-n', name, '-Q', '-N', node, '-U', value], this.opts);
    if (r.code !== 0) throw new PacemakerError(`attrd_updater -n ${name} -N ${node} -U ${value} failed (${r.code}): ${r.stderr.trim()}`, r);
  }

  async delete(name: string, node: string, isPrivate = true): Promise<void> {
    const r = await run('attrd_updater', [...(isPrivate ? ['-p'] : []), '-n', name, '-D', '-N', node], this.opts);
    if (r.code !== 0 && !isMissing(r)) throw new PacemakerError(`attrd_updater -D -n ${name} -N ${node} failed (${r.code}): ${r.stderr.trim()}`, r);
  }
}

/** Name of the local cluster node (crm_node -n). */
export async function localNodeName(opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await run('crm_node', ['-n'], opts);
  const name = r.stdout.trim();
  if (r.code !== 0 || !name) throw new PacemakerError(`crm_node -n failed (${r.code}): ${r.stderr.trim()}`, r);
  return name;
}

/**
 * The evacuate attribute protocol shared by fence_compute, NovaEvacuate and nova-compute-wait:
 *   "yes"          the host was fenced and needs evacuating;
 *   "node@epoch"   node is evacuating it since epoch (seconds);
 *   "no" or ""     nothing to do (never fenced, or evacuation done).
 */
export type EvacState =
  | { kind: 'none' }
  | { kind: 'requested' }
  | { kind: 'claimed'; by: string; since: number }
  | { kind: 'unknown'; raw: string };

export function parseEvacState(value: string): EvacState {
  const v = value.trim();
  if (v === '' || v === 'no') return { kind: 'none' };
  if (v === 'yes') return { kind: 'requested' };
  const at = v.lastIndexOf('@');
  if (at > 0) {
    const since = Number(v.slice(at + 1));
    if (Number.isFinite(since)) return { kind: 'claimed', by: v.slice(0, at), since };
  }
  return { kind: 'unknown', raw: v };
}

export const EVACUATE_ATTR = 'evacuate';
/** a claim older than this is taken over (the claimer died or lost its resource) */
export const CLAIM_STALE_SECONDS = 60;
