/** The top-level program (bin/cli.ts): help, --list --json, usage errors (exit 2, usage on stderr). In-process. */
import { describe, it, expect } from 'vitest';
import { cli, EXIT_USAGE } from '../../bin/cli';
import { AGENTS } from '../../agents/index';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''; let err = '';
  const code = await cli(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; } }, {});
  return { code, out, err };
}

describe('openstack-ha-agents (bin/cli.ts)', () => {
  it('--help and help status print the usage on stdout and exit 0', async () => {
    const h = await run(['--help']);
    expect(h.code).toBe(0);
    expect(h.err).toBe('');
    expect(h.out.split('\n')[0]).toBe('usage: openstack-ha-agents AGENT [ARGS...]');
    for (const name of Object.keys(AGENTS)) expect(h.out).toContain(`  ${name} `);
    const s = await run(['help', 'status']);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^usage: openstack-ha-agents status \[--json\]/);
    expect(s.out).toContain('--instances');
  });

  it('--list --json is the registry as JSON', async () => {
    const r = await run(['--list', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as { name: string; kind: string; summary: string }[];
    expect(list.map((x) => x.name)).toEqual(Object.keys(AGENTS).sort());
    for (const x of list) expect(x).toEqual({ name: x.name, kind: AGENTS[x.name].kind, summary: AGENTS[x.name].summary });
  });

  it.each([[[]], [['nope']], [['--nope']], [['status', '--nope']], [['status', '--cloud']], [['--json']], [['--list', '-V']]])(
    'usage error %j: exit 2, message and usage on stderr, nothing on stdout', async (args) => {
      const r = await run(args);
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^openstack-ha-agents: .+\n\nusage: openstack-ha-agents /);
    });
});
