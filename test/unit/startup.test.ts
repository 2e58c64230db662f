/**
 * Agent start-up stays light: meta-data and a monitor with nothing to do must not initialise node-fetch, the yaml
 * package or the evacuation engine (they are loaded on first use). The bundle is built (esbuild, as build/build.mjs
 * does) and every bundled module's initialisation is traced.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rmDir, tmpDir } from '../fake/harness';

const ROOT = path.resolve(__dirname, '../..');
const HEAVY = /^chunk:(?!yargs$)|node_modules\/node-fetch\/|node_modules\/ssh2\/|node_modules\/yaml\/dist\/index\.js|lib\/instance-ha\/evacuate\.ts/;
let traced: string;
let dir: string;

function initialised(args: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const r = spawnSync(process.execPath, [traced, ...args], {
    encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: dir, OHA_TRACE: '1', ...env },
  });
  return r.stderr.split('\n').filter((l) => l.startsWith('INIT ')).map((l) => l.slice(5));
}

describe('start-up', () => {
  beforeAll(() => {
    dir = tmpDir('oha-startup-');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'build/build.mjs'), '--bundle-only'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const trace = (name: string) => `process.env.OHA_TRACE&&process.stderr.write(${JSON.stringify(`INIT ${name}\n`)});`;
    const instrument = (bundle: string) => bundle
      .replace(/__esm\(\{"([^"]+)"\(\)\{/g, (m, name: string) => `${m}${trace(name)}`)
      .replace(/__commonJS\(\{"([^"]+)"\(([\w,]*)\)\{/g, (m, name: string) => `${m}${trace(name)}`);
    traced = path.join(dir, 'traced.cjs');
    fs.writeFileSync(traced, instrument(fs.readFileSync(path.join(ROOT, 'dist/openstack-ha-agents.cjs'), 'utf8')));
    // the packages in chunks of their own (yaml, node-fetch, ssh2, yargs; build/build.mjs CHUNKS), loaded from beside the bundle
    const chunks = path.join(ROOT, 'dist/openstack-ha-agents.chunks');
    fs.mkdirSync(path.join(dir, 'openstack-ha-agents.chunks'));
    for (const f of fs.readdirSync(chunks)) {
      // a chunk's ES modules are not wrapped (evaluated with the chunk): the chunk itself is traced as chunk:NAME
      fs.writeFileSync(path.join(dir, 'openstack-ha-agents.chunks', f),
        trace(`chunk:${path.basename(f, '.cjs')}`) + instrument(fs.readFileSync(path.join(chunks, f), 'utf8')));
    }
    return () => rmDir(dir);
  }, 60000);

  it('is traced (the instrumentation sees the modules)', () => {
    expect(initialised(['fence_compute', '-o', 'metadata'])).toContain('lib/core/log.ts');
  });

  for (const args of [['fence_compute', '-o', 'metadata'], ['fence_evacuate', '-o', 'metadata'], ['fence_virsh', '-o', 'metadata'], ['fence_openstack', '-o', 'metadata'], ['NovaEvacuate', 'meta-data'],
    ['nova-compute-wait', 'meta-data'], ['NovaCompute', 'meta-data'], ['cinder-api', 'meta-data'], ['openstack-virtual-ip', 'meta-data'],
    ['openstack-cinder-volume', 'meta-data'], ['--list']]) {
    it(`${args.join(' ')} loads no HTTP client, SSH client, YAML parser or evacuation engine`, () => {
      expect(initialised(args).filter((m) => HEAVY.test(m))).toEqual([]);
    });
  }

  // the top-level program's yargs (bin/cli.ts) is for the program only (build/check-lazy.mjs checks the metafile)
  for (const args of [['fence_compute', '-o', 'metadata'], ['NovaEvacuate', 'meta-data'], ['nova-compute-wait', 'meta-data'], ['NovaCompute', 'meta-data']]) {
    it(`${args.join(' ')} initialises neither bin/cli.ts nor yargs`, () => {
      expect(initialised(args).filter((m) => /^bin\/cli\.ts$|^chunk:yargs$|node_modules\/(yargs|cliui|y18n)\//.test(m))).toEqual([]);
    });
  }
  it('--version initialises bin/cli.ts and yargs (the tracing sees them)', () => {
    const mods = initialised(['--version']);
    expect(mods).toContain('bin/cli.ts');
    expect(mods).toContain('chunk:yargs');
  });

  // build/build.mjs makes these built-ins lazy (a Proxy that requires the module on first property read)
  for (const args of [['fence_compute', '-o', 'metadata'], ['NovaEvacuate', 'meta-data'], ['--list']]) {
    it(`${args.join(' ')} loads none of the built-ins http, https, tls, crypto, child_process, zlib`, () => {
      const preload = path.join(dir, 'builtins.cjs');
      fs.writeFileSync(preload, 'process.on("exit",()=>process.stderr.write("BUILTINS "+process.moduleLoadList.join(",")+"\\n"))');
      const bundle = path.join(ROOT, 'dist/openstack-ha-agents.cjs');
      const r = spawnSync(process.execPath, ['-r', preload, bundle, ...args], {
        encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: dir },
      });
      expect(r.status, r.stderr).toBe(0);
      const line = r.stderr.split('\n').find((l) => l.startsWith('BUILTINS ')) ?? '';
      const loaded = line.slice(9).split(',').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
      expect(loaded).toContain('fs');
      expect(loaded.filter((m) => ['http', 'https', 'tls', 'crypto', 'child_process', 'zlib'].includes(m))).toEqual([]);
    });
  }

  // the idle monitor of a running NovaEvacuate (its state file present, the stand-in attrd_updater answering "no evacuate
  // attribute") only reads the evacuate attributes: attrd_updater run through Node's spawn_sync binding (lib/pacemaker
  // runSync), without loading child_process (and net, dgram...): 3 MiB of RSS in the single executable
  it('NovaEvacuate monitor (idle, running) loads neither the heavy modules nor child_process, http, crypto', () => {
    const rsc = path.join(dir, 'rsc-running');
    fs.mkdirSync(rsc, { recursive: true });
    fs.writeFileSync(path.join(rsc, 'nova-evacuate.active'), '');
    const env = {
      PATH: `${path.join(ROOT, 'test/fake/bin')}:/usr/bin:/bin`, ATTRD_FAKE_DIR: path.join(dir, 'attrd'), HA_RSCTMP: rsc,
      OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'nova-evacuate', OCF_RESKEY_CRM_meta_on_node: 'node1',
      OCF_RESKEY_CRM_meta_interval: '10000', OCF_RESKEY_CRM_meta_timeout: '20000', OCF_RESKEY_auth_url: 'http://127.0.0.1:9/v3',
      OCF_RESKEY_username: 'admin', OCF_RESKEY_password: 'secret', OCF_RESKEY_tenant_name: 'admin',
    };
    expect(initialised(['NovaEvacuate', 'monitor'], env).filter((m) => HEAVY.test(m))).toEqual([]);
    const preload = path.join(dir, 'builtins.cjs');
    fs.writeFileSync(preload, 'process.on("exit",()=>process.stderr.write("BUILTINS "+process.moduleLoadList.join(",")+"\\n"))');
    const r = spawnSync(process.execPath, ['-r', preload, path.join(ROOT, 'dist/openstack-ha-agents.cjs'), 'NovaEvacuate', 'monitor'], {
      encoding: 'utf8', env: { ...env, HOME: dir, HA_LOGFILE: path.join(dir, 'idle.log') },
    });
    expect(r.status, r.stderr).toBe(0); // (and it did read the attributes: no warning logged)
    expect(fs.existsSync(path.join(dir, 'idle.log')) ? fs.readFileSync(path.join(dir, 'idle.log'), 'utf8') : '').not.toMatch(/WARNING|ERROR/);
    const line = r.stderr.split('\n').find((l) => l.startsWith('BUILTINS ')) ?? '';
    const loaded = line.slice(9).split(',').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
    expect(loaded).toContain('fs');
    // (not net: this preload's process.stderr, a pipe here, is a net.Socket)
    expect(loaded.filter((m) => ['child_process', 'dgram', 'http', 'https', 'tls', 'crypto', 'zlib'].includes(m))).toEqual([]);
  });

  it('a clouds.yaml is parsed with the yaml package, loaded then', () => {
    fs.mkdirSync(path.join(dir, 'openstack'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'openstack', 'clouds.yaml'),
      'clouds:\n  c:\n    auth:\n      auth_url: http://127.0.0.1:9/v3\n      username: u\n      password: p\n      project_name: x\n');
    const mods = initialised(['NovaEvacuate', 'validate-all'], { OCF_RESKEY_cloud: 'c' });
    expect(mods).toContain('chunk:yaml');
    expect(mods).toContain('node_modules/yaml/dist/index.js');
    // (the engine, lib/instance-ha/evacuate.ts; agents/fence_evacuate.ts is initialised with the registry)
    expect(mods.filter((m) => /node-fetch|^chunk:(?!yaml$)|lib\/instance-ha\/evacuate\.ts/.test(m))).toEqual([]);
  });
});
