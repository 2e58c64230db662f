/**
 * openstack-cinder-volume in-process against the OpenStack simulator's Nova os-volume_attachments and Cinder volumes
 * (test/fake/openstack-fake.ts, test/fake/cinder-fake.ts), with the stand-in attrd_updater (test/fake/bin), a metadata
 * service on 127.0.0.1 and a by-id directory of its own (OPENSTACK_HA_AGENTS_DISK_BY_ID) where a stand-in for udev makes the
 * volume's disk appear while Cinder shows it attached to this node's server.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { runOcf, OCF } from '../../lib/runtime/ocf/index';
import { definition as agent, localDevice } from '../../agents/openstack-cinder-volume';
import { AGENTS } from '../../agents/index';
import { startFakeOpenStack, type FakeOpenStack, type FakeServer } from '../fake/openstack-fake';
import { cinderOf, type CinderFakeState, type CinderFakeVolume } from '../fake/cinder-fake';
import { tmpDir, rmDir } from '../fake/harness';
import { capture } from './capture';

const FAKE_BIN = path.resolve(__dirname, '../fake/bin');
const PASSWORD = 'Volume-S3cret-pw-9d2';
const NODE = 'guest-a';

let fake: FakeOpenStack;
let cinder: CinderFakeState;
let me: FakeServer;
let other: FakeServer;
let metadata: http.Server;
let metadataUrl: string;
let dir: string;
let byId: string;
let udev: NodeJS.Timeout | undefined;
const saved = { PATH: process.env.PATH, ATTRD_FAKE_DIR: process.env.ATTRD_FAKE_DIR, STATE: process.env.OPENSTACK_HA_AGENTS_STATE_DIR };

beforeAll(async () => {
  fake = await startFakeOpenStack({ adminPassword: PASSWORD });
  cinder = cinderOf(fake.state);
  [me] = fake.state.addServers('compute1', 1, { name: 'guest-a' });
  [other] = fake.state.addServers('compute2', 1, { name: 'guest-b' });
  metadata = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ uuid: me.id, name: 'guest-a' }));
  });
  await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
  metadataUrl = `http://127.0.0.1:${(metadata.address() as { port: number }).port}/openstack/latest/meta_data.json`;
});

afterAll(async () => {
  await fake.close();
  await new Promise((r) => metadata.close(r));
});

beforeEach(() => {
  dir = tmpDir('oha-cinder-volume-');
  byId = path.join(dir, 'by-id');
  fs.mkdirSync(byId);
  fs.mkdirSync(path.join(dir, 'bin'));
  // the stand-in attrd_updater, with its arguments recorded (no secret may be on a command line)
  fs.writeFileSync(path.join(dir, 'bin', 'attrd_updater'), `#!/bin/bash\necho "$*" >>"${dir}/argv.log"\nexec "${FAKE_BIN}/attrd_updater" "$@"\n`, { mode: 0o755 });
  process.env.PATH = `${path.join(dir, 'bin')}:/usr/bin:/bin`;
  process.env.ATTRD_FAKE_DIR = path.join(dir, 'attrd');
  process.env.OPENSTACK_HA_AGENTS_STATE_DIR = path.join(dir, 'state');
  Object.assign(cinder, { apiStatus: undefined, attachDelayMs: 30, detachDelayMs: 30, stallCount: 0 });
  fake.state.netRules.length = 0;
  fake.state.resetRequests();
});

afterEach(() => {
  if (udev) clearInterval(udev);
  udev = undefined;
  process.env.PATH = saved.PATH;
  process.env.ATTRD_FAKE_DIR = saved.ATTRD_FAKE_DIR;
  process.env.OPENSTACK_HA_AGENTS_STATE_DIR = saved.STATE;
  rmDir(dir);
});

const newVolume = (o: { multiattach?: boolean } = {}) => cinder.addVolume({ projectId: fake.state.admin.projectId, ...o });
const disk = (v: CinderFakeVolume) => path.join(byId, `virtio-${v.id.slice(0, 20)}`);

/** The guest's udev: the disk is there while Cinder lists the volume attached to this node's server. */
function guestKernel(v: CinderFakeVolume): void {
  udev = setInterval(() => {
    const here = v.attachments.some((a) => a.serverId === me.id && a.state !== 'attaching');
    if (here && !fs.existsSync(disk(v))) fs.writeFileSync(disk(v), '');
    if (!here) fs.rmSync(disk(v), { force: true });
  }, 10);
}

/** Attached to a server as if long done (another node of the cluster had it). */
function attachedTo(v: CinderFakeVolume, s: FakeServer): void {
  v.attachments.push({ id: randomUUID(), serverId: s.id, hostName: s.host, device: '/dev/vdb', state: 'attached', attachedAt: Date.now() });
  v.status = 'in-use';
}

function envFor(instance: string, params: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    HA_RSCTMP: path.join(dir, 'run'), OCF_RESOURCE_INSTANCE: instance, HA_LOGFILE: path.join(dir, 'ra.log'), HA_debug: '1',
    OCF_RESKEY_CRM_meta_on_node: NODE, OCF_RESKEY_CRM_meta_interval: '60000', OCF_RESKEY_CRM_meta_timeout: '20000',
    OPENSTACK_HA_AGENTS_METADATA_URL: metadataUrl, OPENSTACK_HA_AGENTS_CONFIG_DRIVE: path.join(dir, 'no-config-drive'),
    OPENSTACK_HA_AGENTS_CLOUD_INIT_ID: path.join(dir, 'no-instance-id'), OPENSTACK_HA_AGENTS_DISK_BY_ID: byId,
    OCF_RESKEY_auth_url: fake.url, OCF_RESKEY_username: 'admin', OCF_RESKEY_password: PASSWORD, OCF_RESKEY_project_name: 'admin',
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  return env;
}

async function run(action: string, env: NodeJS.ProcessEnv) {
  const r = await capture(() => runOcf(agent, [action], env));
  return { rc: r.result, stderr: r.stderr };
}
const probe = (env: NodeJS.ProcessEnv) => ({ ...env, OCF_RESKEY_CRM_meta_interval: '0' });
const logText = () => { try { return fs.readFileSync(path.join(dir, 'ra.log'), 'utf8'); } catch { return ''; } };
const servers = (v: CinderFakeVolume) => v.attachments.map((a) => a.serverId).sort();
const started = (instance: string) => fs.existsSync(path.join(dir, 'run', `${instance}.active`));

describe('registry and metadata', () => {
  it('is registered as an OCF agent of provider openstack', () => {
    expect(AGENTS['openstack-cinder-volume']).toMatchObject({ kind: 'ocf', provider: 'openstack' });
  });

  it('valid against ra-api-1.dtd; every parameter of the reference with its default', async () => {
    const { stdout } = await capture(() => runOcf(agent, ['meta-data'], {}));
    const f = path.join(dir, 'meta.xml');
    fs.writeFileSync(f, stdout);
    const r = spawnSync('xmllint', ['--noout', '--dtdvalid', '/usr/share/resource-agents/ra-api-1.dtd', f], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/validity error|parser error/);
    expect(r.status).toBe(0);
    const params = new Map([...stdout.matchAll(/<parameter name="([^"]+)"[^>]*>[\s\S]*?<content type="(\w+)"(?: default="([^"]*)")?/g)]
      .map((m) => [m[1], m[3] ?? ''] as const));
    // resource-agents' heartbeat/openstack-cinder-volume (with openstack-common.sh)
    const reference: Record<string, string> = {
      cloud: '', openrc: '', auth_url: '', username: '', password: '', project_name: '', user_domain_name: 'Default',
      project_domain_name: 'Default', openstackcli: '/usr/bin/openstack', insecure: 'false', volume_local_check: 'true', volume_id: '',
    };
    for (const [name, def] of Object.entries(reference)) expect(params.get(name), name).toBe(def);
    expect(stdout).toMatch(/<parameter name="volume_id" unique="0" required="1">/);
    expect([...stdout.matchAll(/<action name="([^"]+)"/g)].map((m) => m[1]).sort()).toEqual(['meta-data', 'monitor', 'start', 'stop', 'validate-all']);
  });

  it('the disk: virtio-<20 characters>, scsi-0QEMU_QEMU_HARDDISK_<id or 20+ characters>; not a partition, not a dangling link', () => {
    const id = randomUUID();
    expect(localDevice(byId, id)).toBeUndefined();
    fs.writeFileSync(path.join(byId, `virtio-${id.slice(0, 20)}-part1`), '');
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(byId, `virtio-${id.slice(0, 20)}`));
    expect(localDevice(byId, id)).toBeUndefined();
    fs.writeFileSync(path.join(byId, `scsi-0QEMU_QEMU_HARDDISK_${id}`), '');
    expect(localDevice(byId, id)).toBe(path.join(byId, `scsi-0QEMU_QEMU_HARDDISK_${id}`));
    expect(localDevice(byId, randomUUID())).toBeUndefined();
    expect(localDevice(path.join(dir, 'missing'), id)).toBeUndefined();
  });
});

describe('start, monitor, stop', () => {
  it('probe: not running; start attaches to this node\'s server and waits for its disk; stop detaches and waits', async () => {
    const v = newVolume();
    guestKernel(v);
    const env = envFor('vol', { volume_id: v.id });
    expect((await run('monitor', probe(env))).rc).toBe(OCF.NOT_RUNNING);
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    expect([v.status, servers(v)]).toEqual(['in-use', [me.id]]);
    expect(fs.existsSync(disk(v))).toBe(true);
    expect(started('vol')).toBe(true);
    expect((await run('monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run('monitor', probe(env))).rc).toBe(OCF.SUCCESS);
    // start again: nothing attached twice
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    expect(fake.state.requestsTo('POST', /os-volume_attachments$/)).toHaveLength(1);
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
    expect([v.status, servers(v)]).toEqual(['available', []]);
    expect(started('vol')).toBe(false);
    expect((await run('monitor', env)).rc).toBe(OCF.NOT_RUNNING);
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
    expect(fake.state.requestsTo('DELETE', /os-volume_attachments/)).toHaveLength(1);
    expect(logText()).toMatch(/Successfully attached .* to instance/);
    expect(logText()).toMatch(new RegExp(`Volume ${v.id} is not attached to instance ${me.id}`));
  });

  it('multiattach, attached to another server: start keeps that attachment (Nova at 2.60 or later); stop removes only ours', async () => {
    const v = newVolume({ multiattach: true });
    attachedTo(v, other);
    guestKernel(v);
    const env = envFor('vol', { volume_id: v.id });
    expect((await run('monitor', probe(env))).rc).toBe(OCF.NOT_RUNNING);
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    expect([v.status, servers(v)]).toEqual(['in-use', [me.id, other.id].sort()]);
    expect(fake.state.requestsTo('DELETE', /os-volume_attachments/)).toEqual([]);
    const [post] = fake.state.requestsTo('POST', /os-volume_attachments$/);
    expect(post.path).toContain(me.id);
    expect(Number(post.microversion!.split('.')[1])).toBeGreaterThanOrEqual(60);
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
    expect([v.status, servers(v)]).toEqual(['in-use', [other.id]]);
  });

  it('single-attach, attached to another server: start detaches it there, waits until it is available, then attaches here', async () => {
    const v = newVolume();
    attachedTo(v, other);
    guestKernel(v);
    cinder.detachDelayMs = 400;
    const env = envFor('vol', { volume_id: v.id });
    expect((await run('monitor', env)).rc).toBe(OCF.NOT_RUNNING);
    // not attached here: stop leaves the other server's attachment alone
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
    expect(servers(v)).toEqual([other.id]);
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    expect([v.status, servers(v)]).toEqual(['in-use', [me.id]]);
    const [del] = fake.state.requestsTo('DELETE', /os-volume_attachments/);
    const [post] = fake.state.requestsTo('POST', /os-volume_attachments$/);
    expect(del.path).toBe(`/compute/v2.1/servers/${other.id}/os-volume_attachments/${v.id}`);
    expect(post.at - del.at).toBeGreaterThanOrEqual(400);
    expect(logText()).toContain(`Detaching ${v.id} from instance ${other.id}`);
  });

  it('an unknown volume_id: ERR_CONFIGURED with the reason, probes included; stop succeeds', async () => {
    const env = envFor('vol', { volume_id: randomUUID() });
    for (const [action, e] of [['monitor', probe(env)], ['monitor', env], ['start', env], ['validate-all', env]] as const) {
      const r = await run(action, e);
      expect(r.rc, action).toBe(OCF.ERR_CONFIGURED);
      expect(r.stderr, action).toMatch(/ocf-exit-reason:volume-id \S+ not found/);
    }
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
    expect(fake.state.requestsTo('POST', /os-volume_attachments/)).toEqual([]);
  });
});

describe('outages and deadlines', () => {
  it('Cinder answering 5xx during a monitor: a warning and the last known state; a start fails', async () => {
    const v = newVolume();
    guestKernel(v);
    const env = envFor('vol', { volume_id: v.id });
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    cinder.apiStatus = 503;
    expect((await run('monitor', env)).rc).toBe(OCF.SUCCESS);
    expect(logText()).toMatch(/WARN.*OpenStack is not answering.*last known state: running/);
    const elsewhere = envFor('vol-b', { volume_id: newVolume().id });
    expect((await run('monitor', probe(elsewhere))).rc).toBe(OCF.NOT_RUNNING);
    expect((await run('start', elsewhere)).rc).toBe(OCF.ERR_GENERIC);
    cinder.apiStatus = undefined;
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
    expect(servers(v)).toEqual([]);
  });

  it('Cinder not answering at all: the monitor ends inside its timeout with the last known state', async () => {
    const v = newVolume();
    guestKernel(v);
    const env = envFor('vol', { volume_id: v.id });
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    fake.state.hangNext(10, /^\/volume\//);
    const t0 = Date.now();
    expect((await run('monitor', { ...env, OCF_RESKEY_CRM_meta_timeout: '5000' })).rc).toBe(OCF.SUCCESS);
    expect(Date.now() - t0).toBeLessThan(5000);
    fake.state.netRules.length = 0;
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
  }, 20000);

  it('an attachment that stays "attaching": start fails with the reason before its timeout, nothing recorded as started', async () => {
    const v = newVolume();
    guestKernel(v);
    cinder.stallAttachments(1);
    const env = envFor('vol', { volume_id: v.id }, { OCF_RESKEY_CRM_meta_timeout: '8000' });
    const t0 = Date.now();
    const r = await run('start', env);
    expect(r.rc).toBe(OCF.ERR_GENERIC);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(r.stderr).toMatch(/ocf-exit-reason:attachment of \S+ to instance \S+: not done within the start timeout \(Cinder shows it attaching/);
    expect(cinder.faults.attachStalls).toBe(1);
    expect(started('vol')).toBe(false);
    expect(servers(v)).toEqual([me.id]);
    expect(v.attachments[0].state).toBe('attaching');
    // Nova could not undo it (Cinder refuses to detach a volume that is attaching): said so
    expect(logText()).toMatch(/WARN.*cannot be undone/);
    expect((await run('monitor', env)).rc).toBe(OCF.NOT_RUNNING);
    v.attachments = [];
    v.status = 'available';
  }, 20000);

  it('attached in Cinder but its disk never appears: start fails in time and detaches again', async () => {
    const v = newVolume();
    const env = envFor('vol', { volume_id: v.id }, { OCF_RESKEY_CRM_meta_timeout: '7000' });
    const t0 = Date.now();
    const r = await run('start', env);
    expect(r.rc).toBe(OCF.ERR_GENERIC);
    expect(Date.now() - t0).toBeLessThan(7000);
    expect(r.stderr).toMatch(/not done within the start timeout \(in-use, but no virtio-\S+ or scsi-/);
    expect(started('vol')).toBe(false);
    await new Promise((res) => setTimeout(res, 200));
    expect([v.status, servers(v)]).toEqual(['available', []]);
  }, 20000);
});

describe('the disk on this node', () => {
  it('attached in Cinder, disk gone: monitor and probe fail with the paths looked for; volume_local_check=false only asks Cinder', async () => {
    const v = newVolume();
    guestKernel(v);
    const env = envFor('vol', { volume_id: v.id });
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    clearInterval(udev);
    fs.rmSync(disk(v));
    for (const e of [env, probe(env)]) {
      const r = await run('monitor', e);
      expect(r.rc).toBe(OCF.ERR_GENERIC);
      expect(r.stderr).toContain(`ocf-exit-reason:${v.id} is attached to instance ${me.id} in Cinder, but this node has no disk of it (no virtio-${v.id.slice(0, 20)}`);
    }
    expect((await run('monitor', { ...env, OCF_RESKEY_volume_local_check: 'false' })).rc).toBe(OCF.SUCCESS);
    // a virtio-scsi disk counts too
    fs.writeFileSync(path.join(byId, `scsi-0QEMU_QEMU_HARDDISK_${v.id.slice(0, 20)}`), '');
    expect((await run('monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
    expect(servers(v)).toEqual([]);
  });
});

describe('after a reboot', () => {
  it('attached to this node\'s server, disk there, but not started since boot (no state file): not running here; start takes it as its own', async () => {
    const v = newVolume();
    guestKernel(v);
    const env = envFor('vol-left', { volume_id: v.id });
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    fs.rmSync(path.join(dir, 'run'), { recursive: true, force: true });   // the boot empties HA_RSCTMP
    expect((await run('monitor', probe(env))).rc).toBe(OCF.NOT_RUNNING);
    expect(logText()).toContain(`${v.id} is attached to this node's instance ${me.id}, but this node has not started it since it booted`);
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    expect(servers(v)).toEqual([me.id]);
    expect((await run('monitor', env)).rc).toBe(OCF.SUCCESS);
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
    expect(servers(v)).toEqual([]);
  });
});

describe('credentials', () => {
  it('cloud=NAME with an application credential (a member of another project): attaches that project\'s volume', async () => {
    const user = fake.state.addUser('guest', 'Guest-pw-1', 'guests', ['member']);
    const cred = fake.state.addAppCredential('guest', 'cluster', 'App-Secret-4711');
    const [mine] = fake.state.addServers('compute1', 1, { name: 'guest-c', tenantId: user.projectId });
    const v = cinder.addVolume({ projectId: user.projectId });
    setAttr('openstack_id', mine.id);
    const file = path.join(dir, 'clouds.yaml');
    fs.writeFileSync(file, `clouds:\n  guests:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: ${fake.url}\n`
      + `      application_credential_id: ${cred.id}\n      application_credential_secret: App-Secret-4711\n`);
    const env = envFor('vol', { volume_id: v.id, cloud: 'guests', volume_local_check: 'false' }, {
      OS_CLIENT_CONFIG_FILE: file, OCF_RESKEY_auth_url: '', OCF_RESKEY_username: '', OCF_RESKEY_password: '', OCF_RESKEY_project_name: '',
      OPENSTACK_HA_AGENTS_METADATA_URL: 'http://127.0.0.1:9/x',
    });
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    expect(v.attachments.map((a) => a.serverId)).toEqual([mine.id]);
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
    expect(v.status).toBe('available');
    // the admin project's volume is not this project's: Cinder says 404
    expect((await run('start', { ...env, OCF_RESKEY_volume_id: newVolume().id })).rc).toBe(OCF.ERR_CONFIGURED);
    expect(logText()).not.toContain('App-Secret-4711');
  });

  it('no secret on a command line or in the log', async () => {
    const v = newVolume();
    guestKernel(v);
    const env = envFor('vol', { volume_id: v.id });
    expect((await run('start', env)).rc).toBe(OCF.SUCCESS);
    expect((await run('stop', env)).rc).toBe(OCF.SUCCESS);
    expect(fs.readFileSync(path.join(dir, 'argv.log'), 'utf8')).toContain('openstack_id');
    expect(fs.readFileSync(path.join(dir, 'argv.log'), 'utf8')).not.toContain(PASSWORD);
    expect(logText()).toContain(`Successfully attached ${v.id}`);
    expect(logText()).not.toContain(PASSWORD);
  });
});

function setAttr(name: string, value: string): void {
  execFileSync(path.join(FAKE_BIN, 'attrd_updater'), ['-n', name, '-N', NODE, '-U', value], { env: process.env });
}
