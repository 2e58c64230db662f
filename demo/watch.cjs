// Live timeline of an evacuation: polls the cloud (the simulator's state, or a real Nova through env OS_*) and
// the host's evacuate attribute, and prints each change with the seconds since the failure.
//   node demo/watch.cjs --host compute2 --since EPOCH_MS --state-url URL [--fenced-file F] [--timeout 120]
// (--fenced-file: a file the caller writes the epoch ms of the end of fencing into)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith('--') ? a.concat([[v.slice(2), all[i + 1]]]) : a), []));
const host = args.host;
const t0 = Number(args.since);
const timeout = Number(args.timeout ?? 120) * 1000;
const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s]`;
const say = (m) => console.log(`${stamp()} ${m}`);

function attr() {
  try {
    const out = execFileSync('attrd_updater', ['-p', '-n', 'evacuate', '-Q', '-N', host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /value="([^"]*)"/.exec(out)?.[1] ?? '';
  } catch { return ''; }
}

async function state() {
  const r = await fetch(args['state-url']);
  return r.json();
}

(async () => {
  const seen = new Map();
  let lastAttr;
  let firstEvac = 0;
  const initial = (await state()).servers.filter((s) => s.host === host);
  const figures = {};
  let fenced = false;
  for (;;) {
    if (!fenced && args['fenced-file'] && fs.existsSync(args['fenced-file']) && fs.readFileSync(args['fenced-file'], 'utf8').trim()) {
      fenced = true;
      figures.fenced = (Number(fs.readFileSync(args['fenced-file'], 'utf8')) - t0) / 1000;
      console.log(`[${figures.fenced.toFixed(1).padStart(5)} s] fencing of ${host} done (level 1: power device, then fence-nova)`);
    }
    const a = attr();
    if (a !== lastAttr) { say(`evacuate attribute of ${host}: ${a === '' ? '(unset)' : a}`); lastAttr = a; }
    const st = await state();
    if (!firstEvac) {
      const ev = st.requests.find((r) => r.method === 'POST' && r.path.endsWith('/action') && JSON.stringify(r.body ?? '').includes('evacuate') && r.at >= t0);
      if (ev) { firstEvac = ev.at; figures.firstEvacuate = (ev.at - t0) / 1000; console.log(`[${figures.firstEvacuate.toFixed(1).padStart(5)} s] first evacuate call (${ev.path.split('/')[4]})`); }
    }
    for (const s of st.servers) {
      const was = initial.find((x) => x.id === s.id);
      if (!was) continue;
      const key = `${s.host}/${s.status}/${s.task_state}`;
      if (seen.get(s.id) === key) continue;
      seen.set(s.id, key);
      if (s.host !== host) say(`${s.name.padEnd(18)} ${s.status.padEnd(8)} on ${s.host}${s.task_state ? ` (${s.task_state})` : ''}`);
      else if (s.task_state) say(`${s.name.padEnd(18)} ${s.task_state} (still on ${host})`);
    }
    const moved = initial.filter((x) => st.servers.find((s) => s.id === x.id && s.host !== host && !s.task_state));
    if (a === 'no' && moved.length > 0 && st.servers.filter((s) => s.host !== host && initial.find((x) => x.id === s.id)).every((s) => !s.task_state)) {
      figures.lastActive = (Date.now() - t0) / 1000;
      const left = initial.length - moved.length;
      say(`done: ${moved.length} instance(s) evacuated, ${left} left on ${host} (not tagged evacuable)`);
      if (figures.fenced !== undefined) {
        console.log(`fence done -> first evacuate call: ${(figures.firstEvacuate - figures.fenced).toFixed(1)} s; ` +
          `fence done -> last instance evacuated: ${(figures.lastActive - figures.fenced).toFixed(1)} s`);
      }
      return;
    }
    if (Date.now() - t0 > timeout) { say('timed out'); process.exitCode = 1; return; }
    await new Promise((r) => setTimeout(r, 200));
  }
})();
