import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import {
  runFence, parseStdin, parseArgv, metadataXml, actionOnly, powerSequence, FenceError, COMMON_PLUG_OPTS, type FenceAgent, type FenceContext, type PowerControl,
} from '../../lib/runtime/fence/index';
import { capture } from './capture';

function agent(seen: FenceContext[] = [], power: { state: 'on' | 'off' } = { state: 'on' }): FenceAgent {
  return {
    name: 'fence_test', version: '9.9', shortdesc: 'Test fence agent', longdesc: 'Fences nothing',
    options: [
      { name: 'auth_url', short: 'k', long: 'auth-url', arg: '[url]', type: 'string', default: '', shortdesc: 'URL' },
      ...COMMON_PLUG_OPTS,
      { name: 'project-domain', key: 'project_domain', short: 'P', long: 'project-domain', arg: '[name]', type: 'string', default: 'Default', shortdesc: 'PD', deprecated: true },
      { name: 'project_domain', short: 'P', long: 'project-domain', arg: '[name]', type: 'string', default: 'Default', shortdesc: 'PD', obsoletes: 'project-domain' },
      { name: 'insecure', long: 'insecure', type: 'boolean', shortdesc: 'Insecure' },
    ],
    defaults: { action: 'off' },
    onAutomatic: true,
    handlers: {
      validate(ctx) { seen.push(ctx); if (ctx.str('auth_url') === 'bad') throw new FenceError(`Failed: bad url, password ${ctx.str('password')}`); },
      status: async () => power.state,
      on: async () => { power.state = 'on'; },
      off: async () => { power.state = 'off'; },
      list: async () => [{ plug: 'compute1' }, { plug: 'compute2', alias: 'c2' }],
    },
  };
}

describe('fence runtime: input', () => {
  it('stdin: name=value lines, comments, unknown names ignored, last one wins, quotes stripped', () => {
    const { opts } = parseStdin(agent(), '# comment\naction=status\nport=compute1\nplug=compute2\nunknown=1\nauth_url="http://x"\n\ninsecure=yes\nproject-domain=Old\n');
    expect(opts.action).toBe('status');
    expect(opts.plug).toBe('compute2');
    expect(opts.auth_url).toBe('http://x');
    expect(opts.insecure).toBe('1');
    expect(opts.project_domain).toBe('Old');
    expect(opts.unknown).toBeUndefined();
  });

  it('stdin: a line without "=" is rejected', () => {
    expect(() => parseStdin(agent(), 'action=off\njunk line\n')).toThrow(/line 2: expected name=value/);
  });

  it('argv: long options with dashes or underscores, short options, -vvv, unknown ignored', () => {
    const a = parseArgv(agent(), ['-o', 'status', '--auth_url=http://a', '-n', 'compute3', '-vvv', '--bogus', 'x', '-P', 'Dom', '--insecure']);
    expect(a.opts).toMatchObject({ action: 'status', auth_url: 'http://a', plug: 'compute3', verbose: '1', project_domain: 'Dom', insecure: '1' });
    expect(a.verboseCount).toBe(3);
    const b = parseArgv(agent(), ['--auth-url', 'http://b', '--plug=c1', '--username', 'u', '-p', 'pw']);
    expect(b.opts).toMatchObject({ auth_url: 'http://b', plug: 'c1', username: 'u', password: 'pw' });
  });

  it('argv: like getopt, a value may start with "-" ("-p -Secret1")', () => {
    const a = parseArgv(agent(), ['-n', 'c1', '-p', '-Secret1', '-o', 'status', '--username', '--odd', '-v']);
    expect(a.opts).toMatchObject({ plug: 'c1', password: '-Secret1', action: 'status', username: '--odd', verbose: '1' });
  });
});

describe('fence runtime: actions and exit codes', () => {
  it('status: 0 and "Status: ON" when on, 2 when off', async () => {
    let r = await capture(() => runFence(agent(), ['-o', 'status', '-n', 'c1']));
    expect(r.result).toBe(0);
    expect(r.stdout).toBe('Status: ON\n');
    r = await capture(() => runFence(agent([], { state: 'off' }), ['-o', 'status', '-n', 'c1']));
    expect(r.result).toBe(2);
    expect(r.stdout).toBe('Status: OFF\n');
  });

  it('off/on from stdin as Pacemaker sends them; default action is the agent default', async () => {
    const power = { state: 'on' as 'on' | 'off' };
    const r = await capture(() => runFence(agent([], power), [], {}, () => 'port=compute2\nnodename=compute2\n'));
    expect(r.result).toBe(0);
    expect(power.state).toBe('off');
    await capture(() => runFence(agent([], power), [], {}, () => 'action=on\nport=compute2\n'));
    expect(power.state).toBe('on');
  });

  it('nodename stands in for a missing plug', async () => {
    const seen: FenceContext[] = [];
    const r = await capture(() => runFence(agent(seen), [], {}, () => 'action=off\nnodename=compute9\n'));
    expect(r.result).toBe(0);
    expect(seen[0].plug).toBe('compute9');
  });

  it('off without a plug fails with exit 1', async () => {
    const r = await capture(() => runFence(agent(), ['-o', 'off']));
    expect(r.result).toBe(1);
    expect(r.stderr).toContain('You have to enter plug number');
  });

  it('list and list-status print plug,alias lines', async () => {
    let r = await capture(() => runFence(agent(), ['-o', 'list']));
    expect(r.stdout).toBe('compute1,\ncompute2,c2\n');
    r = await capture(() => runFence(agent(), ['-o', 'list-status']));
    expect(r.stdout).toBe('compute1,,ON\ncompute2,c2,ON\n');
  });

  it('unknown action and malformed stdin exit 1', async () => {
    expect((await capture(() => runFence(agent(), ['-o', 'dance']))).result).toBe(1);
    const r = await capture(() => runFence(agent(), [], {}, () => 'action=status\nplug\n'));
    expect(r.result).toBe(1);
    expect(r.stderr).toContain('Parse error');
  });

  it('non-numeric timing options are rejected', async () => {
    const r = await capture(() => runFence(agent(), ['-o', 'status', '-n', 'x', '--power-timeout', 'soon']));
    expect(r.result).toBe(1);
    expect(r.stderr).toContain('power_timeout must be a number');
  });

  it('validate-all runs the checks; the password never appears in messages', async () => {
    const r = await capture(() => runFence(agent(), [], {}, () => 'action=validate-all\nauth_url=bad\npassword=s3cr3t\n'));
    expect(r.result).toBe(1);
    expect(r.stderr).toContain('bad url, password ****');
    expect(r.stderr).not.toContain('s3cr3t');
    expect((await capture(() => runFence(agent(), ['-o', 'validate-all', '-k', 'http://ok']))).result).toBe(0);
  });

  it('password_script supplies the password without it being on a command line', async () => {
    const seen: FenceContext[] = [];
    const r = await capture(() => runFence(agent(seen), [], {}, () => 'action=validate-all\npassword_script=echo fromscript\n'));
    expect(r.result).toBe(0);
    expect(seen[0].str('password')).toBe('fromscript');
  });

  it('help and version', async () => {
    let r = await capture(() => runFence(agent(), ['-h']));
    expect(r.result).toBe(0);
    expect(r.stdout).toContain('-k, --auth-url=[url]');
    r = await capture(() => runFence(agent(), ['-V']));
    expect(r.stdout).toBe('9.9\n');
  });

  it('metadata is valid against fence-agents metadata.rng; manpage renders', async () => {
    const xml = metadataXml(agent());
    expect(xml).toContain('<action name="on" automatic="1"/>');
    expect(xml).toContain('<parameter name="port" unique="0" required="1" deprecated="1">');
    expect(xml).not.toContain('nodename');
    const rng = '/usr/share/cluster/relaxng/metadata.rng';
    if (fs.existsSync(rng)) execFileSync('xmllint', ['--noout', '--relaxng', rng, '-'], { input: xml, stdio: ['pipe', 'ignore', 'pipe'] });
    const r = await capture(() => runFence(agent(), ['-o', 'manpage']));
    expect(r.result).toBe(0);
    expect(r.stdout).toContain('.TH FENCE_TEST 8');
  });
});

describe('fence runtime: metadata without the argv parser', () => {
  it('argv that is only an action: -o ACTION, --action ACTION, --action=ACTION', () => {
    expect(actionOnly(['-o', 'metadata'])).toBe('metadata');
    expect(actionOnly(['--action', 'off'])).toBe('off');
    expect(actionOnly(['--action=metadata'])).toBe('metadata');
    for (const argv of [[], ['-o'], ['-ometadata'], ['-o', 'metadata', '-v'], ['--action', 'metadata', '--plug=x'], ['-n', 'metadata']]) {
      expect(actionOnly(argv)).toBeUndefined();
    }
  });
  it('its output is that of the parsed path, for every spelling', async () => {
    const want = (await capture(() => runFence(agent(), ['-o', 'metadata', '-q']))).stdout;
    expect(want).toBe(metadataXml(agent()));
    for (const argv of [['-o', 'metadata'], ['--action', 'METADATA'], ['--action=metadata']]) {
      const r = await capture(() => runFence(agent(), argv));
      expect(r.result).toBe(0);
      expect(r.stdout).toBe(want);
      expect(r.stderr).toBe('');
    }
  });
});

describe('fence runtime: quiet', () => {
  it('quiet silences stderr, errors included, but keeps the exit code', async () => {
    const r = await capture(() => runFence(agent(), ['-o', 'off', '-q']));
    expect(r.result).toBe(1);
    expect(r.stderr).toBe('');
  });
});

/** A machine whose power requests may not take (`ignore`: how many of each are ignored) or may throw. */
function machine(state: 'on' | 'off', ignore: { on?: number; off?: number } = {}, throwOn?: 'on' | 'off') {
  const m = {
    state,
    requests: [] as { want: 'on' | 'off'; at: number }[],
    looks: [] as number[],
    timeouts: [] as string[],
    control(rebootOnFailure: 'succeed' | 'fail'): PowerControl {
      return {
        rebootOnFailure,
        status: async () => { m.looks.push(Date.now()); return m.state; },
        request: async (_ctx, want) => {
          m.requests.push({ want, at: Date.now() });
          if (want === throwOn) throw new Error(`cannot power ${want}`);
          if ((ignore[want] ?? 0) > 0) { ignore[want]!--; return; }
          m.state = want;
        },
        onTimeout: (_ctx, want, attempt, attempts) => { m.timeouts.push(`${want} ${attempt}/${attempts}`); },
      };
    },
    wants: () => m.requests.map((r) => r.want),
  };
  return m;
}

function powerAgent(pc: PowerControl): FenceAgent {
  return {
    name: 'fence_power', version: '9.9', shortdesc: 'Power test agent', longdesc: 'Powers a fake machine',
    options: [...COMMON_PLUG_OPTS],
    handlers: {
      status: pc.status,
      on: (ctx) => powerSequence(ctx, 'on', pc),
      off: (ctx) => powerSequence(ctx, 'off', pc),
      reboot: (ctx) => powerSequence(ctx, 'reboot', pc),
    },
  };
}

const FAST = ['-n', 'm1', '--power-timeout', '0.2', '--stonith-status-sleep', '0.1'];

describe('fence runtime: powerSequence (fencing.py fence_action and set_multi_power_fn)', () => {
  it('status first: already ON / OFF asks for nothing', async () => {
    for (const state of ['on', 'off'] as const) {
      const m = machine(state);
      const r = await capture(() => runFence(powerAgent(m.control('fail')), ['-o', state, ...FAST]));
      expect([r.result, r.stdout]).toEqual([0, `Success: Already ${state.toUpperCase()}\n`]);
      expect(m.wants()).toEqual([]);
    }
  });

  it('off: one attempt; a timeout fails with "Timed out waiting to power OFF"', async () => {
    let m = machine('on');
    let r = await capture(() => runFence(powerAgent(m.control('succeed')), ['-o', 'off', ...FAST, '--retry-on', '3']));
    expect([r.result, r.stdout, m.state]).toEqual([0, 'Success: Powered OFF\n', 'off']);
    m = machine('on', { off: 1 });
    r = await capture(() => runFence(powerAgent(m.control('succeed')), ['-o', 'off', ...FAST, '--retry-on', '3']));
    expect([r.result, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toContain('Failed: Timed out waiting to power OFF');
    expect(m.wants()).toEqual(['off']);
    expect(m.timeouts).toEqual(['off 1/1']);
  });

  it('on: 1 + retry_on attempts, each timeout told to onTimeout', async () => {
    let m = machine('off', { on: 2 });
    let r = await capture(() => runFence(powerAgent(m.control('fail')), ['-o', 'on', ...FAST, '--retry-on', '2']));
    expect([r.result, r.stdout, m.state]).toEqual([0, 'Success: Powered ON\n', 'on']);
    expect(m.wants()).toEqual(['on', 'on', 'on']);
    expect(m.timeouts).toEqual(['on 1/3', 'on 2/3']);
    m = machine('off', { on: 3 });
    r = await capture(() => runFence(powerAgent(m.control('fail')), ['-o', 'on', ...FAST, '--retry-on', '2']));
    expect([r.result, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toContain('Failed: Timed out waiting to power ON');
    expect(m.wants()).toEqual(['on', 'on', 'on']);
    expect(m.timeouts).toEqual(['on 1/3', 'on 2/3', 'on 3/3']);
  });

  it('reboot: off then on (max(retry_on, 1) attempts); from off, on only', async () => {
    let m = machine('on', { on: 1 });
    let r = await capture(() => runFence(powerAgent(m.control('fail')), ['-o', 'reboot', ...FAST, '--retry-on', '2']));
    expect([r.result, r.stdout, m.state]).toEqual([0, 'Success: Rebooted\n', 'on']);
    expect(m.wants()).toEqual(['off', 'on', 'on']);
    m = machine('off');
    r = await capture(() => runFence(powerAgent(m.control('fail')), ['-o', 'reboot', ...FAST, '--retry-on', '0']));
    expect([r.result, r.stdout]).toEqual([0, 'Success: Rebooted\n']);
    expect(m.wants()).toEqual(['on']);
  });

  it("reboot, rebootOnFailure 'fail': the power-on failing after the power-off fails", async () => {
    const m = machine('on', { on: 9 });
    const r = await capture(() => runFence(powerAgent(m.control('fail')), ['-o', 'reboot', ...FAST, '--retry-on', '0']));
    expect([r.result, r.stdout, m.state]).toEqual([1, '', 'off']);
    expect(r.stderr).toContain('Failed: the server was powered off but did not power on again (Timed out waiting to power ON)');
    expect(m.wants()).toEqual(['off', 'on']);
  });

  it("reboot, rebootOnFailure 'succeed': the node is fenced, so Rebooted, the failure logged", async () => {
    let m = machine('on', { on: 9 });
    let r = await capture(() => runFence(powerAgent(m.control('succeed')), ['-o', 'reboot', ...FAST, '--retry-on', '2']));
    expect([r.result, r.stdout, m.state]).toEqual([0, 'Success: Rebooted\n', 'off']);
    expect(r.stderr).toContain('Timed out waiting to power ON');
    expect(m.wants()).toEqual(['off', 'on', 'on']);
    // the power-on throwing: a warning, then the same
    m = machine('on', {}, 'on');
    r = await capture(() => runFence(powerAgent(m.control('succeed')), ['-o', 'reboot', ...FAST]));
    expect([r.result, r.stdout]).toEqual([0, 'Success: Rebooted\n']);
    expect(r.stderr).toMatch(/cannot power on[\s\S]*Timed out waiting to power ON/);
    // the power-off failing fails, whatever the rule
    m = machine('on', { off: 1 });
    r = await capture(() => runFence(powerAgent(m.control('succeed')), ['-o', 'reboot', ...FAST]));
    expect([r.result, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toContain('Failed: Timed out waiting to power OFF');
    expect(m.wants()).toEqual(['off']);
  });

  it('power_wait: status is first polled power_wait seconds after the request', async () => {
    const m = machine('on');
    const r = await capture(() => runFence(powerAgent(m.control('fail')), ['-o', 'off', ...FAST, '--power-wait', '0.3']));
    expect(r.result).toBe(0);
    // looks[0] is the status before the request; looks[1] the first poll after it
    expect(m.looks.length).toBeGreaterThanOrEqual(2);
    expect(m.looks[1] - m.requests[0].at).toBeGreaterThanOrEqual(290);
  });
});
