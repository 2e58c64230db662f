/**
 * The top-level program, `openstack-ha-agents` started under its own name with no agent name first: --help, --version,
 * --list [--json], help [COMMAND], status [--json] [--instances] [--cloud NAME] [--reports DIR]. Parsed with yargs.
 *
 * Only bin/main.ts imports this module, with a dynamic import, and only once it knows no agent is to be run: agents
 * (fence_compute -o metadata, an OCF monitor) never load yargs (checked by build/check-lazy.mjs on the esbuild metafile,
 * and at run time by test/cli/cli.bats with OPENSTACK_HA_AGENTS_TRACE_LOAD=1).
 *
 * Exit codes: 0 done (and --help); 2 usage error (unknown command, agent or option, missing value), with the message
 * and the usage on stderr; otherwise the command's own (status: 1 when the cloud or the cluster cannot be read).
 */
import type { Argv } from 'yargs';
import { AGENTS } from '../agents/index';
import { VERSION } from '../lib/core/version';
import { writeStdout } from '../lib/core/stdout';
import { reportDir } from '../lib/instance-ha/policy';

export const PROGRAM = 'openstack-ha-agents';
/** exit code of a usage error */
export const EXIT_USAGE = 2;
/** help is not wrapped to the terminal: its texts are wrapped here, so that it is the same everywhere (and in README.md) */

export function versionLine(): string {
  return `${PROGRAM} ${VERSION} (Node.js ${process.version})`;
}

function agentLines(): string {
  const names = Object.keys(AGENTS).sort();
  const w = Math.max(...names.map((n) => n.length));
  return names
    .map((n) => `  ${n.padEnd(w)}  ${AGENTS[n].kind === 'ocf' ? 'OCF resource agent' : 'fence agent'}: ${AGENTS[n].summary}`)
    .join('\n');
}

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };
const defaultIo: Io = { stdout: writeStdout, stderr: (s) => process.stderr.write(s) };

interface StatusArgs {
  json: boolean;
  instances: boolean;
  cloud?: string;
  reports?: string;
}

function statusOptions(y: Argv): Argv {
  return y
    .usage(`usage: ${PROGRAM} status [--json] [--instances] [--cloud NAME] [--reports DIR]\n\n` +
      'Shows, per compute host: Nova\'s state, enabled/disabled (and why), forced_down, the cluster\'s\n' +
      '"evacuate" node attribute, its instances and the last evacuation report written on this node;\n' +
      'and Pacemaker\'s side, from one `crm_mon -1 --output-as=xml --inactive --fence-history=2`: the\n' +
      'host\'s cluster node (online, offline, unclean, or not a node; remote or member), its last\n' +
      'fencing (when, which action, by which node; FAILED, pending) and its NovaCompute or\n' +
      'nova-compute-wait instance (starting: holding nova-compute back; stopped on an online node:\n' +
      'held). Read-only: it changes nothing. Connection settings as for the openstack CLI: --cloud,\n' +
      'OS_CLOUD or the OS_* variables.')
    .options({
      json: { type: 'boolean', default: false, description: 'one JSON document instead of the table' },
      instances: { type: 'boolean', default: false, description: 'list each instance under its host (table), and each report\'s instances' },
      cloud: { type: 'string', requiresArg: true, description: 'clouds.yaml entry (default: OS_CLOUD, or the OS_* variables)' },
      reports: { type: 'string', requiresArg: true, description: `where the agents write their reports (default: ${reportDir()})` },
    })
    .example(`${PROGRAM} status --cloud overcloud`, 'the table')
    .example(`${PROGRAM} status --json | jq -r '.hosts[].host'`, 'the compute hosts');
}

function parser(y: Argv): Argv {
  return y
    .scriptName(PROGRAM)
    .usage(
      `usage: ${PROGRAM} AGENT [ARGS...]\n` +
      `       ${PROGRAM} status [--json] [--instances] [--cloud NAME] [--reports DIR]\n` +
      `       ${PROGRAM} --list [--json] | --version | --help | help [COMMAND]\n\n` +
      'Runs one of the agents below with its own arguments, as the reference agent takes them. The\n' +
      'installed hard links under the agent names (see the README) run them directly.',
    )
    .command('status', 'per compute host: Nova\'s and Pacemaker\'s view, fencing, the evacuate attribute, the last evacuation (read-only)', statusOptions)
    .command('help [command]', 'this help, or a command\'s')
    .options({
      list: { type: 'boolean', global: false, description: 'the agents\' names, one a line' },
      json: { type: 'boolean', global: false, description: 'with --list: the agents as JSON ([{name, kind, summary}])' },
    })
    .version(false)
    .option('version', { alias: 'V', type: 'boolean', global: false, description: 'version, and the version of the embedded Node.js' })
    .help('help', 'this help')
    .alias('help', 'h')
    .epilog(`Agents (${PROGRAM} AGENT ARGS...):\n${agentLines()}\n\n` +
      `Exit status: 0 done, ${EXIT_USAGE} usage error (message and usage on stderr), else the command's or\nthe agent's own.`)
    .strict()
    .detectLocale(false)
    .wrap(null)
    .exitProcess(false);
}

class UsageError extends Error {}

/** the help of the program (cmd undefined) or of one of its commands, as --help prints it */
/** (yargs' default export: a function making a new parser) */
async function helpOf(yargs: () => Argv, cmd?: string): Promise<string> {
  let text = '';
  await parser(yargs()).parseAsync(cmd ? [cmd, '--help'] : ['--help'], {}, (_e: unknown, _a: unknown, out: string) => { text = out; });
  return text;
}

/** Runs the top-level program with ARGS (after the program name); returns the exit code. */
export async function cli(args: string[], io: Io = defaultIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { default: yargs } = await import('yargs');
  const usageError = async (msg: string, cmd?: string) => {
    io.stderr(`${PROGRAM}: ${msg}\n\n${await helpOf(yargs, cmd)}\n`);
    return EXIT_USAGE;
  };
  // `help` and `help status` are --help and `status --help`
  if (args[0] === 'help') args = args.length > 1 ? [...args.slice(1), '--help'] : ['--help'];
  const first = args[0];
  // (bin/main.ts has run the agent when the first argument names one)
  if (first !== undefined && !first.startsWith('-') && first !== 'status') return usageError(`unknown command or agent '${first}'`);
  let help = '';
  let argv;
  try {
    argv = await parser(yargs())
      .fail((msg, err) => { throw err ?? new UsageError(msg); })
      .parseAsync(args, {}, (_e: unknown, _a: unknown, out: string) => { help = out; });
  } catch (e) {
    return usageError((e as Error).message, first === 'status' ? 'status' : undefined);
  }
  if (argv.help) {
    io.stdout(`${help}\n`);
    return 0;
  }
  if (argv._[0] === 'status') {
    if (argv.list || argv.version) return usageError('status takes neither --list nor --version', 'status');
    const opts: StatusArgs = { json: !!argv.json, instances: !!argv.instances, cloud: argv.cloud as string | undefined, reports: argv.reports as string | undefined };
    return (await import('../lib/instance-ha/status.js')).statusCommand(opts, env);
  }
  if (argv.version && !argv.list && !argv.json) {
    io.stdout(`${versionLine()}\n`);
    return 0;
  }
  if (argv.list && !argv.version) {
    const names = Object.keys(AGENTS).sort();
    io.stdout(argv.json
      ? JSON.stringify(names.map((name) => ({ name, kind: AGENTS[name].kind, summary: AGENTS[name].summary })), null, 1) + '\n'
      : names.join('\n') + '\n');
    return 0;
  }
  return usageError(args.length === 0 ? 'no agent or command given' : argv.json ? '--json goes with --list or status' : '--list and --version go alone');
}
