#!/usr/bin/env node
// `npm run sim -- [options]`: runs the OpenStack simulator (test/fake/serve.ts) on 127.0.0.1 until SIGINT/SIGTERM.
// Test-only: bundles serve.ts with esbuild (a devDependency) into a temporary file and runs it in this process.
// Options and output: see the header of test/fake/serve.ts (e.g. --port 8999 --hosts 10 --servers-per-host 5 --latency-ms 50).
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const esbuild = await import('esbuild');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oha-sim-'));
const outfile = path.join(dir, 'serve.cjs');
await esbuild.build({
  entryPoints: [path.join(here, 'serve.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'warning',
});
createRequire(import.meta.url)(outfile);
// the bundle is loaded: remove it now, the process keeps running the server
fs.rmSync(dir, { recursive: true, force: true });
