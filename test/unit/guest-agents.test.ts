/**
 * The guest-cluster agents (openstack-info, openstack-virtual-ip, openstack-floating-ip) in-process against the
 * OpenStack simulator's Neutron (test/fake/neutron-fake.ts), with the stand-in attrd_updater (test/fake/bin) and a
 * metadata service on 127.0.0.1 (OPENSTACK_HA_AGENTS_METADATA_URL: 169.254.169.254 is never contacted).
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { runOcf, OCF, type OcfAgent } from '../../lib/runtime/ocf/index';
import { definition as info } from '../../agents/openstack-info';
import { definition as vip } from '../../agents/openstack-virtual-ip';
import { definition as fip } from '../../agents/openstack-floating-ip';
import { AGENTS } from '../../agents/index';
import { formatPorts, parseOpenrc, portOfSubnet } from '../../lib/guest/index';
import { startFakeOpenStack, type FakeOpenStack } from '../fake/openstack-fake';
import { neutronOf, type NeutronFakeState, type NeutronFakePort, type NeutronFakeSubnet } from '../fake/neutron-fake';
import { tmpDir, rmDir } from '../fake/harness';
import { capture } from './capture';

const FAKE_BIN = path.resolve(__dirname, '../fake/bin');
const PASSWORD = 'Guest-S3cret-pw-7f1';
const NODE = 'guest-a';

let fake: FakeOpenStack;
let neutron: NeutronFakeState;
let metadata: http.Server;
let metadataUrl: string;
let metadataHits = 0;
let dir: string;
const saved = { PATH: process.env.PATH, ATTRD_FAKE_DIR: process.env.ATTRD_FAKE_DIR, STATE: process.env.OPENSTACK_HA_AGENTS_STATE_DIR };

// this node's server and its ports: port1 on subnet A (with an unrelated pair 10.0.0.10), port2 on subnets B and C
const server = randomUUID();
const other = randomUUID();
let A: NeutronFakeSubnet, B: NeutronFakeSubnet, C: NeutronFakeSubnet, ext: NeutronFakeSubnet, lonely: NeutronFakeSubnet;
let port1: NeutronFakePort, port2: NeutronFakePort, otherPort: NeutronFakePort;

beforeAll(async () => {
  fake = await startFakeOpenStack({ adminPassword: PASSWORD });
  neutron = neutronOf(fake.state);
  A = neutron.addSubnet('10.0.0.0/24');
  B = neutron.addSubnet('192.168.1.0/24');
  C = neutron.addSubnet('192.168.2.0/24', { networkId: B.networkId });
  lonely = neutron.addSubnet('172.16.0.0/24');
  ext = neutron.addSubnet('203.0.113.0/24', { external: true });
  port1 = neutron.addPort([[A.id, '10.0.0.5']], { deviceId: server, pairs: [{ ip_address: '10.0.0.10' }] });
  port2 = neutron.addPort([[B.id, '192.168.1.5'], [C.id, '192.168.2.5'], [C.id, '192.168.2.6']], { deviceId: server });
  otherPort = neutron.addPort([[A.id, '10.0.0.6']], { deviceId: other });
  neutron.addRouter(ext.networkId, [A.id]);
  metadata = http.createServer((req, res) => {
    metadataHits++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ uuid: server, name: 'guest-a', availability_zone: 'nova', hostname: 'guest-a.novalocal' }));
  });
  await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
  metadataUrl = `http://127.0.0.1:${(metadata.address() as { port: number }).port}/openstack/latest/meta_data.json`;
});

afterAll(async () => {
  await fake.close();
  await new Promise((r) => metadata.close(r));
});

beforeEach(() => {
  dir = tmpDir('oha-guest-');
  fs.mkdirSync(path.join(dir, 'bin'));
  // the stand-in attrd_updater, with its arguments recorded (no secret may be on a command line)
  fs.writeFileSync(path.join(dir, 'bin', 'attrd_updater'), `#!/bin/bash\necho "$*" >>"${dir}/argv.log"\nexec "${FAKE_BIN}/attrd_updater" "$@"\n`, { mode: 0o755 });
  process.env.PATH = `${path.join(dir, 'bin')}:/usr/bin:/bin`;
  process.env.ATTRD_FAKE_DIR = path.join(dir, 'attrd');
  process.env.OPENSTACK_HA_AGENTS_STATE_DIR = path.join(dir, 'state');
  neutron.apiStatus = undefined;
});

afterEach(() => {
  process.env.PATH = saved.PATH;
  process.env.ATTRD_FAKE_DIR = saved.ATTRD_FAKE_DIR;
  process.env.OPENSTACK_HA_AGENTS_STATE_DIR = saved.STATE;
  rmDir(dir);
});

function envFor(instance: string, params: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    HA_RSCTMP: path.join(dir, 'run'), OCF_RESOURCE_INSTANCE: instance, HA_LOGFILE: path.join(dir, 'ra.log'), HA_debug: '1',
    OCF_RESKEY_CRM_meta_on_node: NODE, OCF_RESKEY_CRM_meta_interval: '60000', OCF_RESKEY_CRM_meta_timeout: '60000',
    OPENSTACK_HA_AGENTS_METADATA_URL: metadataUrl, OPENSTACK_HA_AGENTS_CONFIG_DRIVE: path.join(dir, 'no-config-drive'),
    OPENSTACK_HA_AGENTS_CLOUD_INIT_ID: path.join(dir, 'no-instance-id'),
    OCF_RESKEY_auth_url: fake.url, OCF_RESKEY_username: 'admin', OCF_RESKEY_password: PASSWORD, OCF_RESKEY_project_name: 'admin',
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  return env;
}

async function run(agent: OcfAgent, action: string, env: NodeJS.ProcessEnv) {
  const r = await capture(() => runOcf(agent, [action], env));
  return { rc: r.result, stderr: r.stderr, stdout: r.stdout };
}
const probe = (env: NodeJS.ProcessEnv) => ({ ...env, OCF_RESKEY_CRM_meta_interval: '0' });

function attr(name: string): string | undefined {
  try {
    return execFileSync(path.join(FAKE_BIN, 'attrd_updater'), ['-n', name, '-Q', '-N', NODE], { encoding: 'utf8', env: process.env })
      .match(/value="([^"]*)"/)?.[1];
  } catch {
    return undefined;
  }
}
const setAttr = (name: string, value: string) =>
  execFileSync(path.join(FAKE_BIN, 'attrd_updater'), ['-n', name, '-N', NODE, '-U', value], { env: process.env });
const logText = () => { try { return fs.readFileSync(path.join(dir, 'ra.log'), 'utf8'); } catch { return ''; } };
const pairsOf = (p: NeutronFakePort) => p.allowedAddressPairs.map((a) => a.ip_address);

describe('registry and helpers', () => {
  it('the three agents are registered (provider openstack)', () => {
    for (const n of ['openstack-info', 'openstack-virtual-ip', 'openstack-floating-ip']) expect(AGENTS[n]).toMatchObject({ kind: 'ocf', provider: 'openstack' });
  });

  it('openstack_ports: one subnet:port tuple per subnet of each port, comma-separated, no newline', () => {
    const v = formatPorts([
      { id: 'p1', name: '', networkId: 'n', deviceId: 'd', deviceOwner: '', macAddress: 'm', status: '', allowedAddressPairs: [],
        fixedIps: [{ subnetId: 's1', ipAddress: '10.0.0.5' }] },
      { id: 'p2', name: '', networkId: 'n', deviceId: 'd', deviceOwner: '', macAddress: 'm', status: '', allowedAddressPairs: [],
        fixedIps: [{ subnetId: 's2', ipAddress: '10.1.0.5' }, { subnetId: 's3', ipAddress: '10.2.0.5' }, { subnetId: 's3', ipAddress: '10.2.0.6' }] },
    ]);
    expect(v).toBe('s1:p1,s2:p2,s3:p2');
    expect(portOfSubnet(v, 's3')).toBe('p2');
    // the reference's newline-separated values are read too
    expect(portOfSubnet('s2\ns3:p9', 's3')).toBe('p9');
  });

  it('an openrc file is read, not run: export lines, quotes, $VAR of earlier lines', () => {
    const vars = parseOpenrc('#!/bin/bash\nexport OS_AUTH_URL=http://k:5000/v3\nexport OS_USERNAME="demo"\nexport OS_PROJECT_NAME=\'p $x\'\n' +
      'echo "Please enter your password: "\nread -sr OS_PASSWORD_INPUT\nexport OS_PASSWORD=$OS_PASSWORD_INPUT\nexport OS_REGION_NAME=${OS_USERNAME}-r\n',
    { OS_PASSWORD_INPUT: 'from-env' });
    expect(vars).toEqual({ OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'demo', OS_PROJECT_NAME: 'p $x', OS_PASSWORD: 'from-env', OS_REGION_NAME: 'demo-r' });
  });
});

describe('metadata', () => {
  const params = (xml: string) => new Map([...xml.matchAll(/<parameter name="([^"]+)"[^>]*>[\s\S]*?<content type="(\w+)"(?: default="([^"]*)")?/g)]
    .map((m) => [m[1], m[3] ?? ''] as const));
  const actions = (xml: string) => [...xml.matchAll(/<action name="([^"]+)"/g)].map((m) => m[1]).sort();

  for (const agent of [info, vip, fip]) {
    it(`${agent.name}: valid against ra-api-1.dtd; every parameter and action of the reference, same defaults`, async () => {
      const { stdout } = await capture(() => runOcf(agent, ['meta-data'], {}));
      const f = path.join(dir, 'meta.xml');
      fs.writeFileSync(f, stdout);
      const r = spawnSync('xmllint', ['--noout', '--dtdvalid', '/usr/share/resource-agents/ra-api-1.dtd', f], { encoding: 'utf8' });
      expect(r.stderr).not.toMatch(/validity error|parser error/);
      expect(r.status).toBe(0);
      const ref = `/usr/lib/ocf/resource.d/heartbeat/${agent.name}`;
      if (!fs.existsSync(ref)) return; // (resource-agents not installed)
      const refXml = execFileSync(ref, ['meta-data'], { encoding: 'utf8', env: { ...process.env, OCF_ROOT: '/usr/lib/ocf' } });
      const ours = params(stdout);
      for (const [name, def] of params(refXml)) {
        expect(ours.has(name), `parameter ${name}`).toBe(true);
        // (the reference's pidfile default is made of HA_RSCTMP; ours says so in words)
        if (name !== 'pidfile') expect(ours.get(name), `default of ${name}`).toBe(def);
      }
      expect(actions(stdout)).toEqual(expect.arrayContaining(actions(refXml)));
    });
  }
});

describe('openstack-info', () => {
  const params = {};

  it('start publishes openstack_id (from the metadata service) and openstack_ports (every subnet of every port); stop removes them', async () => {
    const hits = metadataHits;
    const env = envFor('info', params);
    expect((await run(info, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(metadataHits).toBeGreaterThan(hits);
    expect(attr('openstack_id')).toBe(server);
    const ports = attr('openstack_ports')!;
    expect(ports).not.toMatch(/\n/);
    expect(ports.split(',').sort()).toEqual([`${A.id}:${port1.id}`, `${B.id}:${port2.id}`, `${C.id}:${port2.id}`].sort());
    expect((await run(info, 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run(info, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(attr('openstack_id') ?? '').toBe('');
    expect(attr('openstack_ports') ?? '').toBe('');
    expect((await run(info, 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
  });

  it('monitor refreshes openstack_ports', async () => {
    const env = envFor('info', params);
    expect((await run(info, 'start', env)).rc).toBe(OCF.SUCCESS);
    const added = neutron.addPort([[lonely.id, '172.16.0.9']], { deviceId: server });
    try {
      expect((await run(info, 'monitor', env)).rc).toBe(OCF.SUCCESS);
      expect(attr('openstack_ports')).toContain(`${lonely.id}:${added.id}`);
    } finally {
      neutron.ports.splice(neutron.ports.indexOf(added), 1);
    }
  });

  it('the server id also comes from a config drive', async () => {
    const drive = path.join(dir, 'config-2');
    fs.mkdirSync(path.join(drive, 'openstack/latest'), { recursive: true });
    fs.writeFileSync(path.join(drive, 'openstack/latest/meta_data.json'), JSON.stringify({ uuid: server }));
    const env = envFor('info', params, { OPENSTACK_HA_AGENTS_CONFIG_DRIVE: drive, OPENSTACK_HA_AGENTS_METADATA_URL: 'http://127.0.0.1:9/x' });
    expect((await run(info, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(attr('openstack_id')).toBe(server);
  });

  it('start without any way to find the server: ERR_GENERIC "Cannot find server ID"', async () => {
    const env = envFor('info', params, { OPENSTACK_HA_AGENTS_METADATA_URL: 'http://127.0.0.1:9/openstack/latest/meta_data.json' });
    const r = await run(info, 'start', env);
    expect(r.rc).toBe(OCF.ERR_GENERIC);
    expect(r.stderr).toMatch(/ocf-exit-reason:Cannot find server ID/);
  });

  it('Neutron down during a monitor: a warning, running, the attributes kept', async () => {
    const env = envFor('info', params);
    expect((await run(info, 'start', env)).rc).toBe(OCF.SUCCESS);
    const before = attr('openstack_ports');
    neutron.apiStatus = 503;
    expect((await run(info, 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect(logText()).toMatch(/WARN.*OpenStack is not answering/);
    expect(attr('openstack_ports')).toBe(before);
  });

  it('missing credentials: ERR_CONFIGURED, a probe says not running', async () => {
    const env = envFor('info', params, { OCF_RESKEY_password: '', OCF_RESKEY_auth_url: '' });
    const r = await run(info, 'validate-all', env);
    expect(r.rc).toBe(OCF.ERR_CONFIGURED);
    expect(r.stderr).toMatch(/ocf-exit-reason:no auth_url/);
    expect((await run(info, 'monitor', probe(env))).rc).toBe(OCF.NOT_RUNNING);
  });

  it('an openrc file supplies the credentials', async () => {
    const rc = path.join(dir, 'openrc');
    fs.writeFileSync(rc, `export OS_AUTH_URL=${fake.url}\nexport OS_USERNAME=admin\nexport OS_PASSWORD='${PASSWORD}'\nexport OS_PROJECT_NAME=admin\n` +
      'export OS_USER_DOMAIN_NAME=Default\nexport OS_PROJECT_DOMAIN_NAME=Default\n');
    const env = envFor('info', { openrc: rc }, { OCF_RESKEY_auth_url: '', OCF_RESKEY_username: '', OCF_RESKEY_password: '', OCF_RESKEY_project_name: '' });
    expect((await run(info, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(attr('openstack_id')).toBe(server);
    const missing = await run(info, 'validate-all', { ...env, OCF_RESKEY_openrc: path.join(dir, 'nope') });
    expect(missing.rc).toBe(OCF.ERR_CONFIGURED);
    expect(missing.stderr).toMatch(/ocf-exit-reason:.*nope does not exist/);
  });
});

describe('openstack-virtual-ip', () => {
  const params = () => ({ ip: '10.0.0.1', subnet_id: A.id });

  it('10.0.0.10 on the port is not 10.0.0.1: probe not running; start adds exactly 10.0.0.1, stop removes exactly it', async () => {
    const env = envFor('vip', params());
    expect((await run(vip, 'monitor', probe(env))).rc).toBe(OCF.NOT_RUNNING);
    expect((await run(vip, 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
    expect((await run(vip, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1).sort()).toEqual(['10.0.0.1', '10.0.0.10']);
    // Neutron filled in the port's MAC for the new pair
    expect(port1.allowedAddressPairs.every((a) => a.mac_address === port1.macAddress)).toBe(true);
    expect(pairsOf(otherPort)).toEqual([]);
    expect((await run(vip, 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect(attr('openstack_virtual_ip')).toBe('10.0.0.1');
    // start again: nothing added twice
    expect((await run(vip, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1).sort()).toEqual(['10.0.0.1', '10.0.0.10']);
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1)).toEqual(['10.0.0.10']);
    expect((await run(vip, 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1)).toEqual(['10.0.0.10']);
  });

  it('start takes the address over: the pair left on the fenced node\'s port (its stop never ran) is removed, other pairs kept', async () => {
    otherPort.allowedAddressPairs.push({ ip_address: '10.0.0.1', mac_address: otherPort.macAddress }, { ip_address: '10.0.0.77', mac_address: otherPort.macAddress });
    try {
      const env = envFor('vip', params());
      expect((await run(vip, 'start', env)).rc).toBe(OCF.SUCCESS);
      expect(pairsOf(port1).sort()).toEqual(['10.0.0.1', '10.0.0.10']);
      expect(pairsOf(otherPort)).toEqual(['10.0.0.77']);
      expect(logText()).toContain(`Removing IP address 10.0.0.1 from port ID ${otherPort.id}`);
      expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
      expect(pairsOf(port1)).toEqual(['10.0.0.10']);
    } finally {
      otherPort.allowedAddressPairs = [];
    }
  });

  it('a pair left on this node\'s port from before its reboot (no state file) is not running here; start takes it as its own', async () => {
    port1.allowedAddressPairs.push({ ip_address: '10.0.0.1', mac_address: port1.macAddress });
    const env = envFor('vip', params());
    expect((await run(vip, 'monitor', probe(env))).rc).toBe(OCF.NOT_RUNNING);
    expect(logText()).toMatch(/10\.0\.0\.1 is an allowed address of this node's port \S+, but this node has not started it since it booted/);
    expect((await run(vip, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1).sort()).toEqual(['10.0.0.1', '10.0.0.10']);
    expect((await run(vip, 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1)).toEqual(['10.0.0.10']);
  });

  it('10.0.0.1 allowed does not make 10.0.0.10 running', async () => {
    const env = envFor('vip10', { ip: '10.0.0.100', subnet_id: A.id });
    port1.allowedAddressPairs.push({ ip_address: '10.0.0.1', mac_address: port1.macAddress });
    try {
      expect((await run(vip, 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
    } finally {
      port1.allowedAddressPairs = port1.allowedAddressPairs.filter((a) => a.ip_address !== '10.0.0.1');
    }
  });

  it('this node found through the openstack_id attribute (no metadata service)', async () => {
    setAttr('openstack_id', server);
    const env = envFor('vip', params(), { OPENSTACK_HA_AGENTS_METADATA_URL: 'http://127.0.0.1:9/x' });
    expect((await run(vip, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1)).toContain('10.0.0.1');
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1)).toEqual(['10.0.0.10']);
  });

  it('this node found through the openstack_ports attribute alone (the reference agents\' way)', async () => {
    setAttr('openstack_ports', `${B.id}:${port2.id},${A.id}:${port1.id}`);
    const env = envFor('vip', params(), { OPENSTACK_HA_AGENTS_METADATA_URL: 'http://127.0.0.1:9/x' });
    expect((await run(vip, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1)).toContain('10.0.0.1');
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1)).toEqual(['10.0.0.10']);
  });

  it('an unknown subnet: ERR_CONFIGURED with the reason (start, monitor, validate-all, probe)', async () => {
    const env = envFor('vip', { ip: '10.0.0.1', subnet_id: randomUUID() });
    for (const action of ['start', 'monitor', 'validate-all']) {
      const r = await run(vip, action, env);
      expect(r.rc, action).toBe(OCF.ERR_CONFIGURED);
      expect(r.stderr, action).toMatch(/ocf-exit-reason:subnet_id \S+ not found/);
    }
    const p = await run(vip, 'monitor', probe(env));
    expect(p.rc).toBe(OCF.ERR_CONFIGURED);
    expect(p.stderr).toMatch(/ocf-exit-reason:subnet_id \S+ not found/);
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
  });

  it('a subnet this server has no port on: ERR_CONFIGURED; not an IP address: ERR_CONFIGURED', async () => {
    const r = await run(vip, 'start', envFor('vip', { ip: '172.16.0.50', subnet_id: lonely.id }));
    expect(r.rc).toBe(OCF.ERR_CONFIGURED);
    expect(r.stderr).toMatch(/ocf-exit-reason:this node's server \S+ has no port on subnet/);
    const bad = await run(vip, 'validate-all', envFor('vip', { ip: '10.0.0.1x', subnet_id: A.id }));
    expect(bad.rc).toBe(OCF.ERR_CONFIGURED);
    expect(bad.stderr).toMatch(/ocf-exit-reason:ip '10.0.0.1x' is not an IP address/);
  });

  it('Neutron down during a monitor: the last known state, with a warning', async () => {
    const env = envFor('vip', params());
    expect((await run(vip, 'start', env)).rc).toBe(OCF.SUCCESS);
    neutron.apiStatus = 503;
    expect((await run(vip, 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect(logText()).toMatch(/WARN.*OpenStack is not answering.*running/);
    // a resource not started here stays not running
    expect((await run(vip, 'monitor', envFor('vip-other', { ip: '10.0.0.2', subnet_id: A.id }))).rc).toBe(OCF.NOT_RUNNING);
    // a stop that cannot reach Neutron fails: the address would stay allowed
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.ERR_GENERIC);
    neutron.apiStatus = undefined;
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1)).toEqual(['10.0.0.10']);
  });

  it('Neutron not answering at all: the monitor ends inside its timeout with the last known state', async () => {
    const env = envFor('vip', params());
    expect((await run(vip, 'start', env)).rc).toBe(OCF.SUCCESS);
    fake.state.hangNext(10, /^\/network\//);
    const t0 = Date.now();
    const r = await run(vip, 'monitor', { ...env, OCF_RESKEY_CRM_meta_timeout: '5000' });
    expect(r.rc).toBe(OCF.SUCCESS);
    expect(Date.now() - t0).toBeLessThan(5000);
    fake.state.netRules.length = 0;
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1)).toEqual(['10.0.0.10']);
  }, 20000);

  it('this node\'s server unknown (no attributes, no metadata service): start fails, a monitor keeps the last known state', async () => {
    const env = envFor('vip', params());
    expect((await run(vip, 'start', env)).rc).toBe(OCF.SUCCESS);
    const lost = { ...env, OPENSTACK_HA_AGENTS_METADATA_URL: 'http://127.0.0.1:9/openstack/latest/meta_data.json' };
    expect((await run(vip, 'monitor', lost)).rc).toBe(OCF.SUCCESS);
    expect(logText()).toMatch(/WARN.*cannot find this node's server.*last known state: running/);
    const r = await run(vip, 'start', envFor('vip-b', { ip: '10.0.0.3', subnet_id: A.id }, { OPENSTACK_HA_AGENTS_METADATA_URL: lost.OPENSTACK_HA_AGENTS_METADATA_URL }));
    expect(r.rc).toBe(OCF.ERR_GENERIC);
    expect(r.stderr).toMatch(/ocf-exit-reason:cannot find this node's server/);
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(pairsOf(port1)).toEqual(['10.0.0.10']);
  });

  it('no secret on a command line or in the log', async () => {
    const env = envFor('vip', params());
    expect((await run(vip, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect((await run(vip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(fs.readFileSync(path.join(dir, 'argv.log'), 'utf8')).toContain('openstack_virtual_ip');
    expect(fs.readFileSync(path.join(dir, 'argv.log'), 'utf8')).not.toContain(PASSWORD);
    expect(logText()).toContain('Successfully brought up 10.0.0.1');
    expect(logText()).not.toContain(PASSWORD);
  });
});

describe('openstack-floating-ip', () => {
  let f: ReturnType<NeutronFakeState['addFloatingIp']>;
  beforeAll(() => { f = neutron.addFloatingIp(ext.networkId, '203.0.113.20'); });
  beforeEach(() => { f.portId = null; f.fixedIpAddress = null; f.routerId = null; });
  const params = () => ({ ip_id: f.id, subnet_id: A.id });

  it('start associates it with this node\'s port on the subnet, monitor sees it, stop disassociates', async () => {
    const env = envFor('fip', params());
    expect((await run(fip, 'monitor', probe(env))).rc).toBe(OCF.NOT_RUNNING);
    expect((await run(fip, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(f.portId).toBe(port1.id);
    expect(f.fixedIpAddress).toBe('10.0.0.5');
    expect(attr('openstack_floating_ip')).toBe('203.0.113.20');
    expect((await run(fip, 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run(fip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(f.portId).toBeNull();
    expect((await run(fip, 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
  });

  it('associated with another node\'s port: not running here, and stop leaves it there; start moves it here', async () => {
    Object.assign(f, { portId: otherPort.id, fixedIpAddress: '10.0.0.6' });
    const env = envFor('fip', params());
    expect((await run(fip, 'monitor', env)).rc).toBe(OCF.NOT_RUNNING);
    expect((await run(fip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(f.portId).toBe(otherPort.id);
    expect((await run(fip, 'start', env)).rc).toBe(OCF.SUCCESS);
    expect(f.portId).toBe(port1.id);
  });

  it('an unknown floating IP: ERR_CONFIGURED with the reason, probes included', async () => {
    const env = envFor('fip', { ip_id: randomUUID(), subnet_id: A.id });
    for (const action of ['start', 'monitor', 'validate-all']) {
      const r = await run(fip, action, env);
      expect(r.rc, action).toBe(OCF.ERR_CONFIGURED);
      expect(r.stderr, action).toMatch(/ocf-exit-reason:ip-id \S+ not found/);
    }
    const p = await run(fip, 'monitor', probe(env));
    expect(p.rc).toBe(OCF.ERR_CONFIGURED);
    expect(p.stderr).toMatch(/ocf-exit-reason:ip-id \S+ not found/);
    expect((await run(fip, 'stop', env)).rc).toBe(OCF.SUCCESS);
  });

  it('an unknown subnet, or one without a router to the floating IP\'s network: ERR_CONFIGURED', async () => {
    const r = await run(fip, 'start', envFor('fip', { ip_id: f.id, subnet_id: randomUUID() }));
    expect(r.rc).toBe(OCF.ERR_CONFIGURED);
    expect(r.stderr).toMatch(/ocf-exit-reason:subnet_id \S+ not found/);
    const added = neutron.addPort([[lonely.id, '172.16.0.7']], { deviceId: server });
    try {
      const r2 = await run(fip, 'start', envFor('fip', { ip_id: f.id, subnet_id: lonely.id }));
      expect(r2.rc).toBe(OCF.ERR_CONFIGURED);
      expect(r2.stderr).toMatch(/ocf-exit-reason:.*is not reachable from subnet/);
      expect(f.portId).toBeNull();
    } finally {
      neutron.ports.splice(neutron.ports.indexOf(added), 1);
    }
  });

  it('Neutron down during a monitor: the last known state, with a warning', async () => {
    const env = envFor('fip', params());
    expect((await run(fip, 'start', env)).rc).toBe(OCF.SUCCESS);
    neutron.apiStatus = 503;
    expect((await run(fip, 'monitor', env)).rc).toBe(OCF.SUCCESS);
    expect(logText()).toMatch(/WARN.*OpenStack is not answering/);
    expect((await run(fip, 'monitor', probe(envFor('fip-b', params())))).rc).toBe(OCF.NOT_RUNNING);
    neutron.apiStatus = undefined;
    expect((await run(fip, 'stop', env)).rc).toBe(OCF.SUCCESS);
    expect(f.portId).toBeNull();
    expect(logText()).not.toContain(PASSWORD);
  });
});
