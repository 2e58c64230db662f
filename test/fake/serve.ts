/**
 * Runs the fake OpenStack as a process, for tests outside vitest (bats, Pacemaker rigs):
 *
 *   npm run sim -- [options]          (test/fake/sim.mjs bundles this file with esbuild and runs it; test-only,
 *                                      not part of the shipped binary)
 *   options: [--port N] [--hosts 3] [--extra-host NAME ...] [--servers-on compute2=10 ...] [--servers-per-host N]
 *            [--latency-ms MS] [--aggregate NAME:HOST,HOST[:KEY=VALUE,...]] [--max-microversion 2.93] [--port-file F]
 *            [--token-ttl SEC] [--evacuate-delay MS] [--service-down MS] [--page-size N] [--tls-key F --tls-cert F]
 *            [--admin-password-file F] [--write-env F] [--control-services]
 *
 * Listens on 127.0.0.1 only. Prints FAKE_OPENSTACK_URL=<keystone auth url>, FAKE_OPENSTACK_BASE=<base url> and the
 * OS_* variables of the admin user (OS_AUTH_URL, OS_USERNAME, ...; OS_PASSWORD only when it is the built-in "admin",
 * not one read from --admin-password-file) on stdout once listening, writes the port to --port-file and a sourceable
 * OS_* file (mode 0600, with the password) to --write-env when given, and stays up until SIGTERM/SIGINT. Drive it
 * through /_fake/* (see openstack-fake.ts).
 */
import * as fs from 'node:fs';
import { startFakeOpenStack, type FakeOptions } from './openstack-fake';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`serve: ${msg}\n`);
  process.stderr.write('usage: serve [--port N] [--hosts N] [--servers-on HOST=COUNT]... [--max-microversion X.Y] [--port-file F]\n' +
    '             [--token-ttl SEC] [--evacuate-delay MS] [--service-down MS] [--page-size N] [--tls-key F --tls-cert F]\n' +
    '             [--servers-per-host N] [--latency-ms MS] [--aggregate NAME:HOST,HOST[:KEY=VALUE,...]]\n' +
    '             [--admin-password-file F] [--write-env F] [--control-services]\n');
  process.exit(2);
}

interface ServeArgs {
  opts: FakeOptions; portFile?: string; envFile?: string; latencyMs?: number; serversPerHost?: number; passwordFromFile: boolean;
  aggregates: { name: string; hosts: string[]; metadata: Record<string, string> }[];
}

function parseServeArgs(argv: string[]): ServeArgs {
  const opts: FakeOptions = {};
  let portFile: string | undefined;
  let envFile: string | undefined;
  let latencyMs: number | undefined;
  let serversPerHost: number | undefined;
  let passwordFromFile = false;
  const aggregates: ServeArgs['aggregates'] = [];
  let tlsKey: string | undefined;
  let tlsCert: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const need = (): string => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) usage(`${arg} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = need();
      if (!/^\d+$/.test(v)) usage(`${arg}: not a number: ${v}`);
      return Number(v);
    };
    switch (arg) {
      case '--port': opts.port = int(); break;
      case '--hosts': opts.hosts = int(); break;
      case '--extra-host': (opts.extraHosts ??= []).push(need()); break;
      case '--servers-on': {
        const m = /^([^=]+)=(\d+)$/.exec(need());
        if (!m) usage('--servers-on takes HOST=COUNT');
        opts.serversOn = { ...opts.serversOn, [m[1]]: Number(m[2]) };
        break;
      }
      case '--max-microversion': opts.maxMicroversion = need(); break;
      case '--port-file': portFile = need(); break;
      case '--token-ttl': opts.tokenTtlSec = int(); break;
      case '--evacuate-delay': opts.evacuateDelayMs = int(); break;
      case '--service-down': opts.serviceDownMs = int(); break;
      case '--page-size': opts.pageSize = int(); break;
      case '--tls-key': tlsKey = need(); break;
      case '--tls-cert': tlsCert = need(); break;
      case '--servers-per-host': serversPerHost = int(); break;
      case '--control-services': opts.controlServices = true; break;
      case '--latency-ms': latencyMs = int(); break;
      case '--write-env': envFile = need(); break;
      case '--admin-password-file': {
        const pw = fs.readFileSync(need(), 'utf8').replace(/\r?\n$/, '');
        if (!pw) usage('--admin-password-file: empty file');
        opts.adminPassword = pw;
        passwordFromFile = true;
        break;
      }
      case '--aggregate': {
        const m = /^([^:]+):([^:]*)(?::(.*))?$/.exec(need());
        if (!m) usage('--aggregate takes NAME:HOST,HOST[:KEY=VALUE,...]');
        const metadata: Record<string, string> = {};
        for (const kv of (m[3] ?? '').split(',').filter(Boolean)) {
          const i = kv.indexOf('=');
          if (i <= 0) usage(`--aggregate: bad property ${kv}`);
          metadata[kv.slice(0, i)] = kv.slice(i + 1);
        }
        aggregates.push({ name: m[1], hosts: m[2].split(',').filter(Boolean), metadata });
        break;
      }
      case '-h': case '--help': usage();
      default: usage(`unknown argument ${arg}`);
    }
  }
  if (!!tlsKey !== !!tlsCert) usage('--tls-key and --tls-cert go together');
  if (tlsKey && tlsCert) opts.tls = { key: fs.readFileSync(tlsKey), cert: fs.readFileSync(tlsCert) };
  return { opts, portFile, envFile, latencyMs, serversPerHost, passwordFromFile, aggregates };
}

const shq = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

async function main(): Promise<void> {
  const a = parseServeArgs(process.argv.slice(2));
  const fake = await startFakeOpenStack(a.opts);
  const st = fake.state;
  try {
    if (a.serversPerHost) for (const s of [...st.services]) if (s.binary === 'nova-compute') st.addServers(s.host, a.serversPerHost);
    for (const g of a.aggregates) st.addAggregate(g.name, g.hosts, g.metadata);
  } catch (e) {
    await fake.close();
    throw e;
  }
  if (a.latencyMs !== undefined) st.latencyMs = a.latencyMs;
  const env: [string, string][] = [
    ['OS_AUTH_URL', fake.url], ['OS_IDENTITY_API_VERSION', '3'], ['OS_USERNAME', st.admin.name], ['OS_PROJECT_NAME', st.admin.projectName],
    ['OS_USER_DOMAIN_NAME', 'Default'], ['OS_PROJECT_DOMAIN_NAME', 'Default'], ['OS_REGION_NAME', st.regions[0]], ['OS_INTERFACE', 'public'],
  ];
  if (a.envFile) {
    fs.writeFileSync(a.envFile, [...env, ['OS_PASSWORD', st.admin.password]].map(([k, v]) => `export ${k}=${shq(v)}\n`).join(''), { mode: 0o600 });
    fs.chmodSync(a.envFile, 0o600);
  }
  if (a.portFile) fs.writeFileSync(a.portFile, `${fake.port}\n`);
  process.stdout.write(`FAKE_OPENSTACK_URL=${fake.url}\nFAKE_OPENSTACK_BASE=${fake.baseUrl}\n` + env.map(([k, v]) => `${k}=${v}\n`).join('') +
    (a.passwordFromFile ? '# OS_PASSWORD: the contents of --admin-password-file\n' : `OS_PASSWORD=${st.admin.password}\n`) +
    `# ${st.services.length} compute hosts, ${st.servers.length} servers, ${st.aggregates.length} aggregates, latency ${st.latencyMs} ms\n`);
  const stop = () => { fake.close().then(() => process.exit(0), () => process.exit(1)); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e) => {
  process.stderr.write(`serve: ${(e as Error).message}\n`);
  process.exit(1);
});
