/**
 * This node's ports as the guest-cluster agents see them: the openstack_ports attribute format, the port on a
 * subnet, and how Neutron failures are told apart (a missing id is a configuration error; no answer is an outage).
 */
import type { OcfContext } from '../runtime/ocf/index';
import { OCF, OcfError } from '../runtime/ocf/index';
import { OpenStackError, type NeutronClient, type NeutronPort } from '../openstack/index';
import { PORTS_ATTR, ownAttribute, thisServerId } from './instance';

/**
 * openstack_ports as the reference formats it: comma-separated "subnet_id:port_id", one tuple per subnet of each port
 * (a port with addresses on two subnets gives two tuples; two addresses on one subnet give one).
 */
export function formatPorts(ports: NeutronPort[]): string {
  const out: string[] = [];
  for (const p of ports) {
    for (const subnet of new Set(p.fixedIps.map((f) => f.subnetId))) out.push(`${subnet}:${p.id}`);
  }
  return out.join(',');
}

/** The port id of a subnet in an openstack_ports value (also the reference's newline-separated values). */
export function portOfSubnet(value: string, subnetId: string): string | undefined {
  for (const t of value.split(/[,\s]+/)) {
    const [s, p] = t.split(':');
    if (s === subnetId && p) return p;
  }
  return undefined;
}

/**
 * This node's server cannot be found: no openstack_id or openstack_ports attribute (attrd not answering, openstack-info
 * not running) and no config drive or metadata service (Neutron's metadata agent down). ERR_GENERIC for start and
 * stop; a monitor takes it for an outage (the node did not change servers).
 */
export class ServerUnknown extends OcfError {
  constructor() {
    super(OCF.ERR_GENERIC, 'cannot find this node\'s server (no openstack_id or openstack_ports attribute: is openstack-info ' +
      'running? and no config drive or answer from the metadata service)');
  }
}

/** A Neutron (or Keystone) 404 */
export const isNotFound = (e: unknown): boolean => e instanceof OpenStackError && e.status === 404;

/**
 * An id of the configuration that OpenStack does not know (subnet, port, floating IP, volume): ERR_CONFIGURED for
 * every action, probes included, since no node can run the resource; Pacemaker then keeps it stopped everywhere.
 */
export class UnknownId extends OcfError {
  constructor(reason: string) { super(OCF.ERR_CONFIGURED, reason); }
}

/** No answer, or a server-side failure: an outage, not a verdict on the configuration. */
export const isUnavailable = (e: unknown): boolean => e instanceof OpenStackError && (e.status === 0 || e.status >= 500);

/** The subnet exists (ERR_CONFIGURED when Neutron does not know it). */
export async function checkSubnet(neutron: NeutronClient, subnetId: string): Promise<void> {
  try {
    await neutron.getSubnet(subnetId);
  } catch (e) {
    if (isNotFound(e)) throw new UnknownId(`subnet_id ${subnetId} not found`);
    throw e;
  }
}

/**
 * This node's port on the subnet: Neutron's ports of this node's server with an address on it; without a server id,
 * the port the openstack_ports attribute names (the reference agents' only source). ERR_CONFIGURED when the subnet
 * does not exist or this server has no port on it; ERR_GENERIC when this node's server cannot be found.
 */
export async function nodePort(ctx: OcfContext, neutron: NeutronClient, subnetId: string): Promise<NeutronPort> {
  const serverId = await thisServerId(ctx);
  if (serverId) {
    const ports = await neutron.listPorts({ deviceId: serverId, subnetId });
    const port = ports.find((p) => p.fixedIps.some((f) => f.subnetId === subnetId));
    if (port) return port;
    await checkSubnet(neutron, subnetId);
    throw new OcfError(OCF.ERR_CONFIGURED, `this node's server ${serverId} has no port on subnet ${subnetId}`);
  }
  const fromAttr = portOfSubnet(await ownAttribute(ctx, PORTS_ATTR), subnetId);
  if (!fromAttr) throw new ServerUnknown();
  try {
    return await neutron.getPort(fromAttr);
  } catch (e) {
    if (isNotFound(e)) throw new UnknownId(`port ${fromAttr} (openstack_ports attribute, subnet ${subnetId}) not found`);
    throw e;
  }
}

/**
 * Run Neutron work within the action's timeout: rejects with an OpenStackError of status 0 ("no answer") 2 s before
 * Pacemaker would time the action out, so the caller can still decide what to report.
 */
export function withinTimeout<T>(ctx: OcfContext, work: Promise<T>): Promise<T> {
  const left = ctx.remaining();
  if (left === undefined) return work;
  const ms = Math.max(500, Math.floor(left * 1000) - 2000);
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new OpenStackError(`no answer from OpenStack within ${ms} ms (the action's timeout)`, 0)), ms);
  });
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
}

/** Same address: exact, ignoring a host prefix length (/32, /128) and IPv6 case. */
export function sameAddress(a: string, b: string): boolean {
  const norm = (x: string) => x.trim().toLowerCase().replace(/\/(32|128)$/, '');
  return norm(a) === norm(b);
}
