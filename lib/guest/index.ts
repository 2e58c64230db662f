/**
 * What the guest-cluster agents (openstack-info, openstack-virtual-ip, openstack-floating-ip, openstack-cinder-volume)
 * share: connection settings, finding this node's server and ports, node attributes, and how a monitor treats an
 * unreachable OpenStack.
 */
import * as fs from 'node:fs';
import type { OcfContext } from '../runtime/ocf/index';
import { OCF, OcfError, stateFile } from '../runtime/ocf/index';
import { run } from '../pacemaker/index';
import { OpenStackError, type Cloud } from '../openstack/index';
import { nodeName } from './instance';
import { openGuestCloud } from './params';
import { ServerUnknown, UnknownId, isUnavailable, withinTimeout } from './ports';

export * from './params';
export * from './instance';
export * from './ports';

/** Set a node attribute of this node (public, as the reference agents set them), optionally with attrd's dampening. */
export async function setNodeAttribute(ctx: OcfContext, name: string, value: string, delay = ''): Promise<void> {
  const args = ['-n', name, '-N', await nodeName(ctx), '-U', value, ...(delay && delay !== '0' ? ['-d', delay] : [])];
  const r = await run('attrd_updater', args, { timeoutMs: 10000 });
  if (r.code !== 0) throw new Error(`attrd_updater -n ${name} -U ${value} failed (${r.code}): ${r.stderr.trim()}`);
}

export async function deleteNodeAttribute(ctx: OcfContext, name: string, delay = ''): Promise<void> {
  const args = ['-n', name, '-N', await nodeName(ctx), '-D', ...(delay && delay !== '0' ? ['-d', delay] : [])];
  const r = await run('attrd_updater', args, { timeoutMs: 10000 });
  if (r.code !== 0 && !/does not exist|not found/i.test(r.stderr)) throw new Error(`attrd_updater -D -n ${name} failed (${r.code}): ${r.stderr.trim()}`);
}

/** An attribute that only informs (openstack_virtual_ip, openstack_floating_ip): a failure is a warning. */
export async function informAttribute(ctx: OcfContext, name: string, value: string | undefined): Promise<void> {
  try {
    if (value === undefined) await deleteNodeAttribute(ctx, name);
    else await setNodeAttribute(ctx, name, value);
  } catch (e) {
    ctx.log.warn(`cannot ${value === undefined ? 'remove' : 'set'} the node attribute ${name}: ${(e as Error).message}`);
  }
}

/** The agent's record that it was started here (and not stopped since): the last known state. */
export const startedHere = (ctx: OcfContext, file = stateFile(ctx)): boolean => fs.existsSync(file);

/**
 * Held by this node in OpenStack: running only when this node also started it since it booted (its state file is in
 * HA_RSCTMP, which a boot empties). What a node fenced while it held the resource left behind (its stop never ran:
 * an address pair, a floating IP association, a volume attachment) is not the resource running there once it is
 * back; taken for running, its probe would make Pacemaker see the resource active twice, or move it back. The node
 * that takes the resource over removes the leftover.
 */
export function heldHere(ctx: OcfContext, what: string): number {
  if (startedHere(ctx)) return OCF.SUCCESS;
  ctx.log.info(`${what}, but this node has not started it since it booted: a leftover of before a reboot, not running here`);
  return OCF.NOT_RUNNING;
}

/** Open the cloud for one action, run work within the action's timeout, and close the connections after. */
export async function withCloud<T>(ctx: OcfContext, work: (cloud: Cloud) => Promise<T>): Promise<T> {
  const cloud = openGuestCloud(ctx);
  try {
    return await withinTimeout(ctx, work(cloud));
  } finally {
    cloud.close();
  }
}

/** An OpenStack error as the action's outcome: 400 is a refused configuration, anything else a failure. */
export function asOcfError(e: unknown, what: string): unknown {
  if (e instanceof OcfError || !(e instanceof OpenStackError)) return e;
  return new OcfError(e.status === 400 ? OCF.ERR_CONFIGURED : OCF.ERR_GENERIC, `${what}: ${e.message}`);
}

/**
 * A monitor that an unreachable Neutron (no answer, 5xx, the action's timeout running out; nor this node's server
 * unknown for want of the metadata service and the attributes) cannot fail: it warns and
 * reports the last known state (running when this node started the resource and did not stop it). An id OpenStack
 * does not know fails every action with ERR_CONFIGURED, probes included (no node can run it); any other configuration
 * error of a probe (this node has no port on the subnet) reports not running here, unless `fatal` says it is to be
 * reported as it is (openstack-cinder-volume: a volume attached in Cinder whose disk is missing here).
 */
export async function tolerantMonitor(ctx: OcfContext, check: () => Promise<number>, fatal?: (e: unknown) => boolean): Promise<number> {
  try {
    return await check();
  } catch (e) {
    if (fatal?.(e)) throw e;
    if (isUnavailable(e) || e instanceof ServerUnknown) {
      const last = startedHere(ctx) ? OCF.SUCCESS : OCF.NOT_RUNNING;
      const why = e instanceof ServerUnknown ? e.reason : `OpenStack is not answering (${(e as Error).message})`;
      ctx.log.warn(`${why}; reporting the last known state: ${last === OCF.SUCCESS ? 'running' : 'not running'}`);
      return last;
    }
    if (e instanceof OcfError && !(e instanceof UnknownId) && ctx.isProbe && !startedHere(ctx)) {
      ctx.log.warn(`probe: ${e.reason}; reporting not running`);
      return OCF.NOT_RUNNING;
    }
    throw e;
  }
}

/**
 * Stop never fails on configuration (a failed stop gets the node fenced): with settings that do not validate, a
 * resource this node never started is stopped already (false); one it started must still be undone (the error).
 */
export async function configuredForStop(ctx: OcfContext, validate: (ctx: OcfContext) => Promise<void>): Promise<boolean> {
  try {
    await validate(ctx);
    return true;
  } catch (e) {
    if (e instanceof OcfError && !startedHere(ctx)) {
      ctx.log.info(`stop with an invalid configuration (${e.reason}): not started here`);
      return false;
    }
    throw e;
  }
}
