/**
 * Entry point of the multi-call binary. The agent to run is chosen from the name the program was started under
 * (basename of argv0: a hard link or symlink named fence_compute, NovaEvacuate, ...), or from the first argument
 * when started as openstack-ha-agents itself ("openstack-ha-agents NovaEvacuate meta-data"). Anything else is the
 * top-level program (bin/cli.ts: --help, --version, --list, status), loaded only then: agents don't pay for yargs.
 */
import * as path from 'node:path';
import { AGENTS } from '../agents/index';
import type { AgentEntry } from '../lib/runtime/agent';
export const PROGRAM = 'openstack-ha-agents';

/**
 * The name the binary was invoked under: the first of argv0, argv[1], argv[0] whose basename is an agent name.
 *
 * Measured with Node 24.21 (SEA, Linux):
 *  - in a single executable application argv = [execPath, <argv[0] as passed to execve()>, ...args] and
 *    process.argv0 is also the argv[0] passed to execve(), unresolved ("NovaEvacuate" when found on PATH,
 *    "d/fence_compute", "/usr/sbin/fence_compute");
 *  - execPath comes from /proc/self/exe: a hard link keeps its own name, a symlink is resolved to its target.
 * So argv0 gives the name for hard links and symlinks alike; execPath (argv[0]) is the fallback for a hard link
 * started with an unrelated argv[0] (execv(path, ["x", ...])). Under plain node (node dist/openstack-ha-agents.cjs)
 * argv0 is "node" and argv[1] the script, which only matters if the script itself is named after an agent.
 */
export function invokedName(argv0: string | undefined, argv: string[]): string {
  const candidates = [argv0, argv[1], argv[0]].filter((x): x is string => !!x);
  for (const c of candidates) {
    const base = path.basename(c);
    if (Object.prototype.hasOwnProperty.call(AGENTS, base)) return base;
  }
  return PROGRAM;
}

export async function main(): Promise<number> {
  const argv = process.argv;
  // In a SEA binary argv = [execPath, argv0 as given to execve(), ...args]; under plain node argv = [node, script, ...args].
  const args = argv.slice(2);
  const name = invokedName(process.argv0, argv);
  let entry: AgentEntry | undefined = AGENTS[name];
  let agentArgs = args;
  if (!entry) {
    const first = args[0];
    entry = first !== undefined && Object.prototype.hasOwnProperty.call(AGENTS, first) ? AGENTS[first] : undefined;
    // the top-level program (--help, --version, --list, status...): yargs, loaded here only, never for an agent
    if (!entry) return (await import('./cli.js')).cli(args);
    agentArgs = args.slice(1);
  }
  return entry.run(agentArgs);
}

if (require.main === module) {
  main().then(
    (code) => { process.exitCode = code; },
    (err) => {
      process.stderr.write(`${PROGRAM}: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
