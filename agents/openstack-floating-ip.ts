/**
 * openstack-floating-ip (OCF, provider openstack): moves a floating IP between the servers of a guest cluster by
 * associating it with this node's port on subnet_id, like resource-agents' openstack-floating-ip.
 */
import type { AgentEntry } from '../lib/runtime/agent';
import { runOcf, OCF, OcfError, stateFile, touchStateFile, removeStateFile, type OcfAgent, type OcfContext } from '../lib/runtime/ocf/index';
import {
  GUEST_CLOUD_PARAMS, validateGuestCloud, nodePort, checkSubnet, isNotFound, withCloud, tolerantMonitor, informAttribute,
  startedHere, asOcfError, configuredForStop,
  UnknownId, heldHere,
} from '../lib/guest/index';
import type { NeutronClient, NeutronFloatingIp, NeutronPort } from '../lib/openstack/index';
import { VERSION } from '../lib/core/version';

const ATTR = 'openstack_floating_ip';

/** The floating IP (ERR_CONFIGURED when Neutron does not know it). */
async function floatingIp(neutron: NeutronClient, id: string): Promise<NeutronFloatingIp> {
  try {
    return await neutron.getFloatingIp(id);
  } catch (e) {
    if (isNotFound(e)) throw new UnknownId(`ip-id ${id} not found`);
    throw e;
  }
}

/** The port's address on the subnet to associate (IPv4 first: floating IPs are IPv4). */
function fixedAddress(port: NeutronPort, subnetId: string): string | undefined {
  const on = port.fixedIps.filter((f) => f.subnetId === subnetId);
  return (on.find((f) => f.ipAddress.includes('.')) ?? on[0])?.ipAddress;
}

async function associate(ctx: OcfContext, neutron: NeutronClient): Promise<NeutronFloatingIp> {
  const id = ctx.str('ip_id');
  const fip = await floatingIp(neutron, id);
  const port = await nodePort(ctx, neutron, ctx.str('subnet_id'));
  if (fip.portId === port.id) { ctx.log.info(`${id} already started`); return fip; }
  ctx.log.info(`Moving IP address ${id} to port ID ${port.id}`);
  let after: NeutronFloatingIp;
  try {
    after = await neutron.setFloatingIpPort(id, port.id, fixedAddress(port, ctx.str('subnet_id')));
  } catch (e) {
    // 404 here is Neutron's "external network not reachable from the subnet": no router, a configuration error
    if (isNotFound(e)) throw new OcfError(OCF.ERR_CONFIGURED, `${id} cannot be set to port ${port.id}: ${(e as Error).message}`);
    throw asOcfError(e, `${id} cannot be set to port ${port.id}`);
  }
  if (after.portId !== port.id) throw new OcfError(OCF.ERR_GENERIC, `${id} Cannot be set to port ${port.id}`);
  return after;
}

async function start(ctx: OcfContext): Promise<number> {
  const fip = await withCloud(ctx, (cloud) => associate(ctx, cloud.neutron()));
  touchStateFile(stateFile(ctx), `${fip.portId}\n`);
  await informAttribute(ctx, ATTR, fip.floatingIpAddress);
  ctx.log.info(`Successfully brought up ${ctx.str('ip_id')}`);
  return OCF.SUCCESS;
}

/** Disassociate only from this node's port: associated elsewhere (another node took it), it is not ours to undo. */
async function stop(ctx: OcfContext): Promise<number> {
  const id = ctx.str('ip_id');
  if (!(await configuredForStop(ctx, validateLocal))) return OCF.SUCCESS;
  await withCloud(ctx, async (cloud) => {
    const neutron = cloud.neutron();
    let fip: NeutronFloatingIp;
    let port: NeutronPort;
    try {
      fip = await floatingIp(neutron, id);
      if (!fip.portId) { ctx.log.info(`Address ${id} already down`); return; }
      port = await nodePort(ctx, neutron, ctx.str('subnet_id'));
    } catch (e) {
      if (!(e instanceof OcfError) || (e.code !== OCF.ERR_CONFIGURED && startedHere(ctx))) throw e;
      ctx.log.info(`${e.reason}: ${id} is not on this node`);
      return;
    }
    if (fip.portId !== port.id) { ctx.log.info(`${id} is associated with port ${fip.portId}, not this node's: nothing to stop`); return; }
    ctx.log.info(`Bringing down IP address ${id}`);
    const after = await neutron.setFloatingIpPort(id, null);
    if (after.portId === port.id) throw new OcfError(OCF.ERR_GENERIC, `Couldn't unset IP address ${id}.`);
  });
  // the attribute is the node's, not the resource's: only the resource that set it removes it (not another one's stop)
  const setHere = startedHere(ctx);
  removeStateFile(stateFile(ctx));
  if (setHere) await informAttribute(ctx, ATTR, undefined);
  return OCF.SUCCESS;
}

async function monitor(ctx: OcfContext): Promise<number> {
  return tolerantMonitor(ctx, async () => withCloud(ctx, async (cloud) => {
    const neutron = cloud.neutron();
    const fip = await floatingIp(neutron, ctx.str('ip_id'));
    const port = await nodePort(ctx, neutron, ctx.str('subnet_id'));
    if (fip.portId === port.id) return heldHere(ctx, `${ctx.str('ip_id')} is associated with this node's port ${port.id}`);
    ctx.log.debug(`${ctx.str('ip_id')} is associated with ${fip.portId ?? 'no port'}, not with port ${port.id}`);
    return OCF.NOT_RUNNING;
  }));
}

async function validateLocal(ctx: OcfContext): Promise<void> {
  validateGuestCloud(ctx);
}

async function validate(ctx: OcfContext): Promise<void> {
  validateGuestCloud(ctx);
  if (ctx.action !== 'validate-all') return;
  await withCloud(ctx, async (cloud) => {
    await floatingIp(cloud.neutron(), ctx.str('ip_id'));
    await checkSubnet(cloud.neutron(), ctx.str('subnet_id'));
  });
}

export const definition: OcfAgent = {
  name: 'openstack-floating-ip',
  version: VERSION,
  shortdesc: 'Move a floating IP',
  longdesc: 'Resource Agent to move a floating IP address from an instance to another one.\n' +
    'Start associates the floating IP ip_id with this node\'s port on subnet_id (its address on that subnet); stop ' +
    'disassociates it when it is associated with that port (never when another node has it); monitor reports running ' +
    'when it is associated with that port. This node\'s port is found from its server (node attribute openstack_id of ' +
    'openstack-info, else the config drive or metadata service) and Neutron; without those, from the openstack_ports ' +
    'attribute. The attribute called "openstack_floating_ip" is updated.\n' +
    'Running means held in OpenStack by this node and started by this node since it booted (a state file in HA_RSCTMP): ' +
    'what a node fenced while it held the resource left behind is not taken for the resource running there once it ' +
    'is back (the node that takes it over removes it).\n' +
    'An ip_id or subnet_id Neutron does not know fails every action with a configuration error, probes included (no ' +
    'node can run it). A server without a port on the subnet, or a subnet without a router to the floating IP\'s ' +
    'network, is a configuration error too, but a probe reports not running. When Neutron (or Keystone) ' +
    'does not answer within the monitor\'s timeout, or answers 5xx, the monitor logs a warning and reports the last ' +
    'known state: running if this node started the floating IP and did not stop it, not running otherwise, so an ' +
    'outage of the control plane does not move the address. A stop that cannot reach Neutron fails.',
  params: [
    ...GUEST_CLOUD_PARAMS,
    { name: 'ip_id', type: 'string', required: true, shortdesc: 'IP ID', longdesc: 'Floating IP Identifier.' },
    { name: 'subnet_id', type: 'string', required: true, shortdesc: 'Subnet ID', longdesc: 'Subnet Identifier to use to attach the address.' },
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

export const openstackFloatingIp: AgentEntry = {
  kind: 'ocf',
  provider: 'openstack',
  summary: definition.shortdesc,
  run: (args) => runOcf(definition, args),
};
