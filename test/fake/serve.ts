/**
 * Runs the fake OpenStack as a process, for tests outside vitest (bats, Pacemaker rigs):
 *
 *   serve.ts [--port N] [--hosts 3] [--extra-host NAME ...] [--servers-on compute2=10 ...] [--max-microversion 2.93] [--port-file F]
 *            [--token-ttl SEC] [--evacuate-delay MS] [--service-down MS] [--page-size N] [--tls-key F --tls-cert F]
 *
 * Prints FAKE_OPENSTACK_URL=<keystone auth url> (and FAKE_OPENSTACK_BASE=<base url>) on stdout once listening,
 * writes the port to --port-file when given, and stays up until SIGTERM/SIGINT. Drive it through /_fake/*
 * (see openstack-fake.ts).
 */
import * as fs from 'node:fs';
import { startFakeOpenStack, type FakeOptions } from './openstack-fake';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`serve: ${msg}\n`);
  process.stderr.write('usage: serve [--port N] [--hosts N] [--servers-on HOST=COUNT]... [--max-microversion X.Y] [--port-file F]\n' +
    '             [--token-ttl SEC] [--evacuate-delay MS] [--service-down MS] [--page-size N] [--tls-key F --tls-cert F]\n');
  process.exit(2);
}

function parseServeArgs(argv: string[]): { opts: FakeOptions; portFile?: string } {
  const opts: FakeOptions = {};
  let portFile: string | undefined;
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
      case '-h': case '--help': usage();
      default: usage(`unknown argument ${arg}`);
    }
  }
  if (!!tlsKey !== !!tlsCert) usage('--tls-key and --tls-cert go together');
  if (tlsKey && tlsCert) opts.tls = { key: fs.readFileSync(tlsKey), cert: fs.readFileSync(tlsCert) };
  return { opts, portFile };
}

async function main(): Promise<void> {
  const { opts, portFile } = parseServeArgs(process.argv.slice(2));
  const fake = await startFakeOpenStack(opts);
  if (portFile) fs.writeFileSync(portFile, `${fake.port}\n`);
  process.stdout.write(`FAKE_OPENSTACK_URL=${fake.url}\nFAKE_OPENSTACK_BASE=${fake.baseUrl}\n`);
  const stop = () => { fake.close().then(() => process.exit(0), () => process.exit(1)); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e) => {
  process.stderr.write(`serve: ${(e as Error).message}\n`);
  process.exit(1);
});
