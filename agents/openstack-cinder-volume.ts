/**
 * openstack-cinder-volume (OCF, provider openstack): attaches a Cinder volume to this node's Nova server, so that the
 * volume follows the resource between the servers of a guest cluster, like resource-agents' openstack-cinder-volume.
 * Start attaches (after detaching it from another server when it is not multiattach), stop detaches, monitor asks
 * Cinder and looks for the volume's disk under /dev/disk/by-id. Every wait ends inside the action's timeout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentEntry } from '../lib/runtime/agent';
import { runOcf, OCF, OcfError, stateFile, touchStateFile, removeStateFile, type OcfAgent, type OcfContext } from '../lib/runtime/ocf/index';
import {
  GUEST_CLOUD_PARAMS, ServerUnknown, UnknownId, heldHere, validateGuestCloud, thisServerId, isNotFound, withCloud, tolerantMonitor, startedHere,
  configuredForStop,
} from '../lib/guest/index';
import { compareMicroversions, type CinderClient, type CinderVolume, type Cloud, type NovaClient } from '../lib/openstack/index';
import { poll } from '../lib/core/poll';
import { VERSION } from '../lib/core/version';

const BY_ID = '/dev/disk/by-id';
/** Cinder's statuses on the way from one state to another */
const SETTLING = ['attaching', 'detaching', 'reserved'];
/** Nova attaches a multiattach volume from this compute microversion on */
const MULTIATTACH_MV = '2.60';
/** the waits end this long before the action's timeout, leaving time to undo and to report */
const MARGIN_MS = 5000;

/** Cinder does not know volume_id: ERR_CONFIGURED, probes included. */
class VolumeUnknown extends UnknownId {
  constructor(id: string) { super(`volume-id ${id} not found`); }
}

/** Started here, attached here in Cinder, but no disk of it on this node: the monitor fails, probes too (a stop detaches it). */
class DeviceMissing extends OcfError {}

async function volume(cinder: CinderClient, id: string): Promise<CinderVolume> {
  try {
    return await cinder.getVolume(id);
  } catch (e) {
    if (isNotFound(e)) throw new VolumeUnknown(id);
    throw e;
  }
}

/** This node's server (the openstack_id attribute, else the config drive or metadata service). */
async function serverId(ctx: OcfContext): Promise<string> {
  const id = await thisServerId(ctx);
  if (!id) throw new ServerUnknown();
  return id;
}

/** Cinder lists an attachment to the server and the volume is in use (a multiattach one may be busy with another). */
function attachedTo(v: CinderVolume, server: string): boolean {
  if (!v.attachments.some((a) => a.serverId === server)) return false;
  return v.status === 'in-use' || (v.multiattach && SETTLING.includes(v.status));
}

/**
 * The by-id directory. OPENSTACK_HA_AGENTS_DISK_BY_ID replaces /dev/disk/by-id, like the other OPENSTACK_HA_AGENTS_*
 * overrides of lib/guest/instance.ts: for tests (the unit tests; the guest-cluster rig, whose nodes cannot be given a
 * block device) and unusual set-ups; not a parameter.
 */
const byIdDir = (ctx: OcfContext) => ctx.env.OPENSTACK_HA_AGENTS_DISK_BY_ID || BY_ID;

/**
 * The volume's disk on this node: by-id names derived from the volume id, virtio-<first 20 characters> (virtio-blk
 * keeps 20 characters of the serial Nova sets to the volume id) and scsi-0QEMU_QEMU_HARDDISK_<id or its first 20 or
 * more characters> or scsi-SQEMU_QEMU_HARDDISK_... (virtio-scsi). A dangling link is no disk.
 */
export function localDevice(dir: string, id: string): string | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const ours = (n: string) => {
    if (n === `virtio-${id.slice(0, 20)}`) return true;
    const m = /^scsi-[0S]QEMU_QEMU_HARDDISK_(.+)$/.exec(n);
    return !!m && m[1].length >= 20 && id.startsWith(m[1]);
  };
  return names.filter(ours).map((n) => path.join(dir, n)).find((p) => fs.existsSync(p));
}

const deviceNames = (id: string) => `virtio-${id.slice(0, 20)} or scsi-[0S]QEMU_QEMU_HARDDISK_${id.slice(0, 20)}...`;

/** When the waits of this action end: MARGIN_MS before its timeout (the declared one when run by hand). */
function waitDeadline(ctx: OcfContext): number {
  const declared = ctx.agent.actions.find((a) => a.name === ctx.action)?.timeout ?? 180;
  const end = ctx.deadlineAt ?? Date.now() + declared * 1000;
  return Math.max(Date.now() + 500, end - MARGIN_MS);
}

/** Poll until check answers; ERR_GENERIC naming what was awaited and what was last seen when the deadline comes. */
async function waitFor<T>(ctx: OcfContext, what: string, check: (seen: (s: string) => void) => Promise<T | undefined>): Promise<T> {
  let last = '';
  const answer = await poll(() => check((s) => { last = s; }), { intervalMs: (n) => Math.min(250 * n, 2000), until: waitDeadline(ctx) });
  if (answer === undefined) throw new OcfError(OCF.ERR_GENERIC, `${what}: not done within the ${ctx.action} timeout${last ? ` (${last})` : ''}`);
  return answer;
}

/** Wait until the volume is not on its way between states (another node's attach or detach). */
async function settled(ctx: OcfContext, cinder: CinderClient, id: string): Promise<CinderVolume> {
  return waitFor(ctx, `volume ${id} settling`, async (seen) => {
    const v = await volume(cinder, id);
    seen(`Cinder shows it ${v.status}`);
    return SETTLING.includes(v.status) ? undefined : v;
  });
}

/** A single-attach volume attached elsewhere: detach it from those servers and wait until it is available. */
async function detachElsewhere(ctx: OcfContext, cloud: Cloud, v: CinderVolume, server: string): Promise<void> {
  const others = [...new Set(v.attachments.map((a) => a.serverId).filter((s) => s !== server))];
  for (const other of others) {
    ctx.log.info(`Detaching ${v.id} from instance ${other}`);
    try {
      await cloud.nova().detachVolume(other, v.id);
    } catch (e) {
      if (!isNotFound(e)) throw new OcfError(OCF.ERR_GENERIC, `Couldn't remove volume ${v.id} from instance ${other}: ${(e as Error).message}`);
      ctx.log.warn(`Nova has no attachment of ${v.id} to instance ${other}: ${(e as Error).message}`);
    }
  }
  if (!others.length) return;
  await waitFor(ctx, `detach of ${v.id} from instance ${others.join(', ')}`, async (seen) => {
    const now = await volume(cloud.cinder(), v.id);
    seen(`Cinder shows it ${now.status}`);
    return now.status === 'available' ? true : undefined;
  });
}

/** Ask Nova to attach (at microversion 2.60 or later for a multiattach volume). */
async function attach(ctx: OcfContext, nova: NovaClient, v: CinderVolume, server: string): Promise<void> {
  if (v.multiattach) {
    const mv = await nova.microversion();
    if (compareMicroversions(mv, MULTIATTACH_MV) < 0) {
      throw new OcfError(OCF.ERR_CONFIGURED, `volume ${v.id} is multiattach: Nova attaches those from compute API ${MULTIATTACH_MV}, it offers ${mv}`);
    }
  }
  ctx.log.info(`Attaching ${v.id} to instance ${server}${v.multiattach ? ' (multiattach: other attachments kept)' : ''}`);
  try {
    await nova.attachVolume(server, v.id);
  } catch (e) {
    throw new OcfError(OCF.ERR_GENERIC, `Couldn't add volume ${v.id} to instance ${server}: ${(e as Error).message}`);
  }
}

/**
 * Attach; when Cinder refused because another node's attach of the same multiattach volume is under way (Nova's 400:
 * the volume is "reserved" for that one), wait until it settles and ask again. Both nodes of a clone start at once.
 * False when the volume turned out attached here meanwhile.
 */
async function attachRacing(ctx: OcfContext, cloud: Cloud, v: CinderVolume, server: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await attach(ctx, cloud.nova(), v, server);
      return true;
    } catch (e) {
      const now = await volume(cloud.cinder(), v.id);
      if (!now.multiattach || !SETTLING.includes(now.status) || attempt >= 5) throw e;
      ctx.log.info(`${v.id} is ${now.status} (another attachment under way): waiting for it, then attaching again`);
      v = await settled(ctx, cloud.cinder(), v.id);
      if (attachedTo(v, server)) return false;
    }
  }
}

/** Wait until Cinder shows the volume in use by this server and (volume_local_check) its disk is here. */
function untilUsable(ctx: OcfContext, cinder: CinderClient, id: string, server: string): Promise<true> {
  const local = ctx.bool('volume_local_check');
  return waitFor(ctx, `attachment of ${id} to instance ${server}`, async (seen) => {
    const v = await volume(cinder, id);
    if (!attachedTo(v, server)) { seen(`Cinder shows it ${v.status}, not attached to this instance`); return undefined; }
    if (local && !localDevice(byIdDir(ctx), id)) { seen(`in-use, but no ${deviceNames(id)} in ${byIdDir(ctx)}`); return undefined; }
    return true;
  });
}

/** An attachment this start made and could not complete: detach it again (best effort: Nova may refuse). */
async function undoAttach(ctx: OcfContext, nova: NovaClient, server: string, id: string): Promise<void> {
  try {
    await nova.detachVolume(server, id);
    ctx.log.warn(`start did not complete: detach of ${id} from instance ${server} requested`);
  } catch (e) {
    ctx.log.warn(`start did not complete, and the attachment of ${id} to instance ${server} cannot be undone: ${(e as Error).message}`);
  }
}

async function start(ctx: OcfContext): Promise<number> {
  const id = ctx.str('volume_id');
  const server = await withCloud(ctx, async (cloud) => {
    const me = await serverId(ctx);
    let v = await volume(cloud.cinder(), id);
    let attached = false;
    if (attachedTo(v, me)) {
      ctx.log.info(`${id} already attached to instance ${me}`);
    } else {
      v = await settled(ctx, cloud.cinder(), id);
      if (!['available', 'in-use'].includes(v.status)) throw new OcfError(OCF.ERR_GENERIC, `volume ${id} is ${v.status}: it cannot be attached`);
      if (!attachedTo(v, me)) {
        if (!v.multiattach) await detachElsewhere(ctx, cloud, v, me);
        attached = await attachRacing(ctx, cloud, v, me);
      }
    }
    try {
      await untilUsable(ctx, cloud.cinder(), id, me);
    } catch (e) {
      if (attached) await undoAttach(ctx, cloud.nova(), me, id);
      throw e;
    }
    return me;
  });
  touchStateFile(stateFile(ctx), `${server}\n`);
  ctx.log.info(`Successfully attached ${id} to instance ${server}`);
  return OCF.SUCCESS;
}

/** Detach from this node's server only, and wait until Cinder no longer lists that attachment. */
async function detachHere(ctx: OcfContext, cloud: Cloud, id: string, server: string): Promise<void> {
  const listed = (v: CinderVolume | undefined) => !!v?.attachments.some((a) => a.serverId === server);
  const current = async () => {
    try { return await volume(cloud.cinder(), id); } catch (e) { if (e instanceof VolumeUnknown) return undefined; throw e; }
  };
  const v = await current();
  if (!listed(v)) { ctx.log.info(`Volume ${id} is not attached to instance ${server}`); return; }
  if (v!.status !== 'detaching') {
    ctx.log.info(`Detaching ${id} from instance ${server}`);
    try {
      await cloud.nova().detachVolume(server, id);
    } catch (e) {
      if (!isNotFound(e)) throw new OcfError(OCF.ERR_GENERIC, `Couldn't remove volume ${id} from instance ${server}: ${(e as Error).message}`);
    }
  }
  await waitFor(ctx, `detach of ${id} from instance ${server}`, async (seen) => {
    const now = await current();
    seen(`Cinder shows it ${now?.status ?? 'gone'}`);
    return listed(now) ? undefined : true;
  });
}

async function stop(ctx: OcfContext): Promise<number> {
  const id = ctx.str('volume_id');
  if (!(await configuredForStop(ctx, validateLocal))) return OCF.SUCCESS;
  await withCloud(ctx, async (cloud) => {
    const me = await thisServerId(ctx);
    if (!me) {
      if (startedHere(ctx)) throw new ServerUnknown();
      ctx.log.info(`this node's server is unknown and ${id} was not started here: nothing to stop`);
      return;
    }
    await detachHere(ctx, cloud, id, me);
  });
  removeStateFile(stateFile(ctx));
  ctx.log.info(`Successfully removed ${id} from this instance`);
  return OCF.SUCCESS;
}

async function monitor(ctx: OcfContext): Promise<number> {
  const id = ctx.str('volume_id');
  const check = () => withCloud(ctx, async (cloud) => {
    const me = await serverId(ctx);
    const v = await volume(cloud.cinder(), id);
    if (!attachedTo(v, me)) {
      ctx.log.debug(`${id} is ${v.status}, not attached to instance ${me}`);
      return OCF.NOT_RUNNING;
    }
    if (!startedHere(ctx)) return heldHere(ctx, `${id} is attached to this node's instance ${me}`);
    if (!ctx.bool('volume_local_check') || localDevice(byIdDir(ctx), id)) return OCF.SUCCESS;
    throw new DeviceMissing(OCF.ERR_GENERIC,
      `${id} is attached to instance ${me} in Cinder, but this node has no disk of it (no ${deviceNames(id)} in ${byIdDir(ctx)})`);
  });
  return tolerantMonitor(ctx, check, (e) => e instanceof DeviceMissing);   // (an UnknownId is reported anyway)
}

async function validateLocal(ctx: OcfContext): Promise<void> {
  validateGuestCloud(ctx);
}

async function validate(ctx: OcfContext): Promise<void> {
  validateGuestCloud(ctx);
  if (ctx.action === 'validate-all') await withCloud(ctx, (cloud) => volume(cloud.cinder(), ctx.str('volume_id')));
}

export const definition: OcfAgent = {
  name: 'openstack-cinder-volume',
  version: VERSION,
  shortdesc: 'Attach a cinder volume',
  longdesc: 'Resource Agent to attach a cinder volume to an instance.\n' +
    'Start attaches volume_id to this node\'s server through Nova and waits until Cinder shows it in-use by that server ' +
    '(and, with volume_local_check, until its disk appears here). A volume that is not multiattach and is attached to ' +
    'another server is first detached from it, and start waits until Cinder shows it available; a multiattach volume ' +
    'keeps its other attachments (Nova attaches it at compute API 2.60 or later). Stop detaches it from this node\'s ' +
    'server only and waits until Cinder no longer lists that attachment; not attached here, it succeeds. Every wait ends ' +
    'before the action\'s timeout: an attachment that does not complete in time fails the start with the reason, after ' +
    'asking Nova to detach what this start attached. This node\'s server comes from the node attribute openstack_id ' +
    '(openstack-info), else the config drive or metadata service. No node attribute is set.\n' +
    'Monitor reports running when Cinder lists an attachment of the volume to this node\'s server with the volume ' +
    'in-use and, with volume_local_check, its disk is present under /dev/disk/by-id as virtio-<first 20 characters of ' +
    'volume_id> (virtio-blk) or scsi-0QEMU_QEMU_HARDDISK_<volume_id, or its first 20 or more characters> or ' +
    'scsi-SQEMU_QEMU_HARDDISK_... (virtio-scsi); other names (wwn-..., nvme-...) cannot be derived from the volume id. ' +
    'Attached in Cinder without that disk here, the monitor of a volume this node started (a probe too) fails with OCF_ERR_GENERIC and a reason ' +
    'naming what it looked for, so that Pacemaker recovers the resource (its stop detaches the volume).\n' +
    'Running means held in OpenStack by this node and started by this node since it booted (a state file in HA_RSCTMP): ' +
    'what a node fenced while it held the resource left behind is not taken for the resource running there once it ' +
    'is back (the node that takes it over removes it).\n' +
    'A volume_id Cinder does not know is a configuration error (OCF_ERR_CONFIGURED), for probes too. When Cinder or ' +
    'Keystone does not answer within the monitor\'s timeout, or answers 5xx, the monitor logs a warning and reports the ' +
    'last known state: running if this node started the volume and did not stop it, not running otherwise. A start or ' +
    'stop that cannot reach Nova or Cinder fails.',
  params: [
    ...GUEST_CLOUD_PARAMS,
    {
      name: 'volume_local_check', type: 'boolean', default: 'true', shortdesc: 'Monitor cinder volume locally',
      longdesc: 'Also require the volume\'s disk on this node (see the description for the /dev/disk/by-id names looked ' +
        'for) in monitor and start. Unlike the reference agent, whose monitor then skips the API, Cinder is always ' +
        'asked as well. Set it to false on clouds whose disks get other names.',
    },
    { name: 'volume_id', type: 'string', required: true, shortdesc: 'Volume ID', longdesc: 'Cinder volume identifier to use to attach the block storage.' },
  ],
  actions: [
    { name: 'start', timeout: 180 },
    { name: 'stop', timeout: 180 },
    { name: 'monitor', timeout: 180, interval: 60, depth: 0 },
    { name: 'validate-all', timeout: 20 },
    { name: 'meta-data', timeout: 5 },
  ],
  handlers: { validate, isRunning: (ctx) => startedHere(ctx), start, stop, monitor },
};

export const openstackCinderVolume: AgentEntry = {
  kind: 'ocf',
  provider: 'openstack',
  summary: definition.shortdesc,
  run: (args) => runOcf(definition, args),
};
