#!/usr/bin/env node
// Checks, on the esbuild metafile of the bundle (dist/openstack-ha-agents.meta.json, written by build/build.mjs), that
// the top-level program's modules (bin/cli.ts and yargs with the packages only yargs uses) are reached from
// bin/main.ts through a dynamic import() only: esbuild then wraps them in functions that run on that import, so an
// agent (fence_compute -o metadata, an OCF monitor) never evaluates them. Static imports and require() calls count
// as eager. Run by the build and by test/cli/cli.bats.
//
//   node build/check-lazy.mjs [METAFILE]       exit 0 and one line when the check passes, 1 and what is wrong if not
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = 'bin/main.ts';
/** modules that only the top-level program may load: bin/cli.ts, the status command (with its crm_mon reader), yargs,
 * and the packages yargs alone depends on */
export const LAZY_ONLY = /^bin\/cli\.ts$|^lib\/instance-ha\/status\.ts$|^lib\/pacemaker\/crm-mon\.ts$|(^|\/)node_modules\/(yargs|cliui|y18n|escalade|get-caller-file|string-width|strip-ansi|ansi-regex|wrap-ansi|emoji-regex|get-east-asian-width|ansi-styles)\//;

/** the inputs reached from the entry through static imports and require() calls (not import()) */
export function eagerInputs(meta, entry = ENTRY) {
  const seen = new Set([entry]);
  const queue = [entry];
  while (queue.length) {
    const input = meta.inputs[queue.shift()];
    for (const imp of input?.imports ?? []) {
      if (imp.external || imp.kind === 'dynamic-import' || seen.has(imp.path)) continue;
      seen.add(imp.path);
      queue.push(imp.path);
    }
  }
  return seen;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2] ?? path.join(ROOT, 'dist', 'openstack-ha-agents.meta.json');
  const meta = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!meta.inputs[ENTRY]) {
    console.error(`check-lazy: ${file} has no input ${ENTRY}`);
    process.exit(1);
  }
  const lazy = Object.keys(meta.inputs).filter((p) => LAZY_ONLY.test(p));
  if (!lazy.some((p) => /node_modules\/yargs\//.test(p))) {
    console.error(`check-lazy: yargs is not in the bundle (${file}): nothing to check?`);
    process.exit(1);
  }
  const eager = [...eagerInputs(meta)].filter((p) => LAZY_ONLY.test(p));
  if (eager.length) {
    console.error(`check-lazy: loaded eagerly from ${ENTRY} (static import or require), so every agent would load them:\n  ${eager.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`check-lazy: ok: ${lazy.length} modules of the top-level program (bin/cli.ts, yargs...) are reached from ${ENTRY} through import() only`);
}
