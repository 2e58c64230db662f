import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runOcf, metadataXml, OCF, OcfError, stateFile, touchStateFile, type OcfAgent } from '../../lib/runtime/ocf/index';
import { capture } from './capture';

const made: string[] = [];
function tmpdir(): string { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'oha-ocf-')); made.push(d); return d; }
afterAll(() => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

function agent(calls: string[] = []): OcfAgent {
  return {
    name: 'Test', version: '1.2.3', shortdesc: 'A test agent', longdesc: 'Longer <description> & more',
    params: [
      { name: 'url', type: 'string', required: true, shortdesc: 'URL' },
      { name: 'count', type: 'integer', default: '3', shortdesc: 'Count' },
      { name: 'flag', type: 'boolean', default: 'false', shortdesc: 'Flag' },
      { name: 'mode', type: 'string', default: 'a', values: ['a', 'b'], shortdesc: 'Mode' },
      { name: 'secret', type: 'string', secret: true, shortdesc: 'Secret' },
      { name: 'old_url', type: 'string', aliasOf: 'url', shortdesc: 'Old URL' },
    ],
    actions: [
      { name: 'start', timeout: 20 }, { name: 'stop', timeout: 20 },
      { name: 'monitor', timeout: 30, interval: 10, depth: 0 }, { name: 'validate-all', timeout: 20 }, { name: 'meta-data', timeout: 5 },
    ],
    handlers: {
      async start(ctx) { calls.push(`start count=${ctx.int('count')} flag=${ctx.bool('flag')} url=${ctx.str('url')}`); touchStateFile(stateFile(ctx)); return OCF.SUCCESS; },
      async stop(ctx) { calls.push('stop'); fs.rmSync(stateFile(ctx), { force: true }); return OCF.SUCCESS; },
      async monitor(ctx) { calls.push(`monitor probe=${ctx.isProbe} depth=${ctx.checkLevel}`); return fs.existsSync(stateFile(ctx)) ? OCF.SUCCESS : OCF.NOT_RUNNING; },
      validate(ctx) { if (ctx.str('url') === 'bad') throw new OcfError(OCF.ERR_CONFIGURED, `url is bad, secret ${ctx.str('secret')}`); },
      isRunning: (ctx) => fs.existsSync(stateFile(ctx)),
    },
  };
}

const env = (extra: Record<string, string> = {}) => ({ HA_RSCTMP: tmpdir(), OCF_RESOURCE_INSTANCE: 'test-1', HA_LOGFILE: path.join(tmpdir(), 'ha.log'), ...extra });

describe('OCF runtime', () => {
  it('meta-data is valid against the installed ra-api-1.dtd and reflects the declaration', async () => {
    const xml = metadataXml(agent());
    expect(xml).toContain('<parameter name="url" unique="0" required="1">');
    expect(xml).toContain('<content type="integer" default="3" />');
    expect(xml).toContain('<action name="monitor" timeout="30s" interval="10s" depth="0" />');
    expect(xml).toContain('Longer &lt;description&gt; &amp; more');
    const dtd = '/usr/share/resource-agents/ra-api-1.dtd';
    if (!fs.existsSync(dtd)) return; // the CLI suite validates installed agents; here only when resource-agents is present
    const dir = path.dirname(dtd);
    execFileSync('xmllint', ['--noout', '--valid', '-'], { input: xml, cwd: dir });
  });

  it('meta-data and usage exit 0; unknown action exits 3 with usage; no action exits 2', async () => {
    let r = await capture(() => runOcf(agent(), ['meta-data'], env()));
    expect(r.result).toBe(0);
    expect(r.stdout).toMatch(/^<\?xml/);
    r = await capture(() => runOcf(agent(), ['usage'], env()));
    expect(r.result).toBe(0);
    expect(r.stdout).toContain('usage: Test {start|stop|monitor|validate-all|meta-data|usage}');
    r = await capture(() => runOcf(agent(), ['promote'], env()));
    expect(r.result).toBe(OCF.ERR_UNIMPLEMENTED);
    r = await capture(() => runOcf(agent(), [], env()));
    expect(r.result).toBe(OCF.ERR_ARGS);
  });

  it('missing required parameter: validate, start and monitor give ERR_CONFIGURED with an exit reason', async () => {
    for (const action of ['validate-all', 'start', 'monitor']) {
      const r = await capture(() => runOcf(agent(), [action], env({ OCF_RESKEY_CRM_meta_interval: '10000' })));
      expect(r.result, action).toBe(OCF.ERR_CONFIGURED);
      expect(r.stderr).toContain('ocf-exit-reason:required parameter url (or old_url) is not set');
    }
  });

  it('a probe of a stopped resource with a bad configuration reports not running', async () => {
    const r = await capture(() => runOcf(agent(), ['monitor'], env({ OCF_RESKEY_CRM_meta_interval: '0' })));
    expect(r.result).toBe(OCF.NOT_RUNNING);
    expect(r.stderr).not.toContain('ocf-exit-reason');
  });

  it('a probe of a running resource with a bad configuration is an error', async () => {
    const e = env({ OCF_RESKEY_url: 'http://x' });
    const calls: string[] = [];
    expect((await capture(() => runOcf(agent(calls), ['start'], e))).result).toBe(0);
    const r = await capture(() => runOcf(agent(calls), ['monitor'], { ...e, OCF_RESKEY_url: '', OCF_RESKEY_CRM_meta_interval: '0' }));
    expect(r.result).toBe(OCF.ERR_CONFIGURED);
  });

  it('type checks: integer, boolean and accepted values', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ OCF_RESKEY_count: 'x' }, /count 'x' is not an integer/],
      [{ OCF_RESKEY_flag: 'maybe' }, /flag 'maybe' is not a boolean/],
      [{ OCF_RESKEY_mode: 'c' }, /mode 'c' must be one of: a, b/],
    ];
    for (const [extra, re] of cases) {
      const r = await capture(() => runOcf(agent(), ['validate-all'], env({ OCF_RESKEY_url: 'u', ...extra })));
      expect(r.result).toBe(OCF.ERR_CONFIGURED);
      expect(r.stderr).toMatch(re);
    }
  });

  it('defaults, aliases, probe detection and OCF_CHECK_LEVEL reach the handlers', async () => {
    const calls: string[] = [];
    const e = env({ OCF_RESKEY_old_url: 'http://old', OCF_RESKEY_flag: 'yes' });
    expect((await capture(() => runOcf(agent(calls), ['start'], e))).result).toBe(0);
    expect(calls).toContain('start count=3 flag=true url=http://old');
    expect((await capture(() => runOcf(agent(calls), ['monitor'], { ...e, OCF_RESKEY_CRM_meta_interval: '0', OCF_CHECK_LEVEL: '10' }))).result).toBe(0);
    expect(calls).toContain('monitor probe=true depth=10');
    expect((await capture(() => runOcf(agent(calls), ['monitor'], { ...e, OCF_RESKEY_CRM_meta_interval: '10000' }))).result).toBe(0);
    expect(calls).toContain('monitor probe=false depth=0');
    expect((await capture(() => runOcf(agent(calls), ['stop'], e))).result).toBe(0);
    expect((await capture(() => runOcf(agent(calls), ['monitor'], { ...e, OCF_RESKEY_CRM_meta_interval: '10000' }))).result).toBe(OCF.NOT_RUNNING);
  });

  it('stop succeeds even with an invalid configuration', async () => {
    const r = await capture(() => runOcf(agent(), ['stop'], env()));
    expect(r.result).toBe(0);
  });

  it('secret parameters never reach the exit reason or the log file', async () => {
    const e = env({ OCF_RESKEY_url: 'bad', OCF_RESKEY_secret: 'hunter2' });
    const r = await capture(() => runOcf(agent(), ['validate-all'], e));
    expect(r.result).toBe(OCF.ERR_CONFIGURED);
    expect(r.stderr).toContain('ocf-exit-reason:url is bad, secret ****');
    expect(r.stderr).not.toContain('hunter2');
    const log = fs.readFileSync(e.HA_LOGFILE, 'utf8');
    expect(log).toContain('Test(test-1)');
    expect(log).not.toContain('hunter2');
  });

  it('an unexpected exception becomes ERR_GENERIC with a reason', async () => {
    const a = agent();
    a.handlers.start = async () => { throw new Error('boom'); };
    const r = await capture(() => runOcf(a, ['start'], env({ OCF_RESKEY_url: 'u' })));
    expect(r.result).toBe(OCF.ERR_GENERIC);
    expect(r.stderr).toContain('ocf-exit-reason:start failed: boom');
  });
});
