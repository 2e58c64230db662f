/**
 * openstack-virtual-ip (OCF, provider openstack): lets a virtual IP address move between the servers of a guest
 * cluster by adding it to the allowed_address_pairs of this node's port on subnet_id, like resource-agents'
 * openstack-virtual-ip. Colocate it with the IPaddr2 resource that plumbs the address.
 */
import * as net from 'node:net';
import type { AgentEntry } from '../lib/runtime/agent';
import { runOcf, OCF, OcfError, stateFile, touchStateFile, removeStateFile, type OcfAgent, type OcfContext } from '../lib/runtime/ocf/index';
import {
  GUEST_CLOUD_PARAMS, validateGuestCloud, nodePort, checkSubnet, sameAddress, withCloud, tolerantMonitor, informAttribute,
  startedHere, asOcfError, configuredForStop, heldHere,
} from '../lib/guest/index';
import type { NeutronAddressPair, NeutronClient, NeutronPort } from '../lib/openstack/index';
import { VERSION } from '../lib/core/version';

const ATTR = 'openstack_virtual_ip';
const ATTEMPTS = 3;

/** The address pair this resource manages: its address, for the port's own MAC (or none given). */
function isOurs(port: NeutronPort, ip: string, pair: NeutronAddressPair): boolean {
  return sameAddress(pair.ipAddress, ip) && (!pair.macAddress || pair.macAddress.toLowerCase() === port.macAddress.toLowerCase());
}
const hasIp = (port: NeutronPort, ip: string) => port.allowedAddressPairs.some((p) => isOurs(port, ip, p));

/**
 * Replace the port's pairs with change(pairs), read the port back, and again (from what was read) when a concurrent
 * update of the same port (another virtual IP starting) replaced ours: Neutron replaces the list as a whole.
 */
async function updatePairs(neutron: NeutronClient, port: NeutronPort, done: (p: NeutronPort) => boolean,
  change: (p: NeutronPort) => NeutronAddressPair[]): Promise<NeutronPort> {
  let current = port;
  for (let i = 0; i < ATTEMPTS && !done(current); i++) {
    await neutron.setAllowedAddressPairs(current.id, change(current));
    current = await neutron.getPort(current.id);
  }
  return current;
}

/**
 * The address moved here: remove it from the other ports of the network (the node it left was fenced, so its stop
 * never ran). Otherwise that node's probe, once it is back, finds the address on its port and reports the resource
 * running there too, and Pacemaker sees it active on two nodes.
 */
async function takeOver(ctx: OcfContext, neutron: NeutronClient, port: NeutronPort, ip: string): Promise<void> {
  const others = (await neutron.listPorts({ networkId: port.networkId })).filter((p) => p.id !== port.id && hasIp(p, ip));
  for (const other of others) {
    ctx.log.info(`Removing IP address ${ip} from port ID ${other.id} (device ${other.deviceId || 'none'}): it moved to port ID ${port.id}`);
    const after = await updatePairs(neutron, other, (x) => !hasIp(x, ip), (x) => x.allowedAddressPairs.filter((p) => !isOurs(x, ip, p)));
    if (hasIp(after, ip)) throw new OcfError(OCF.ERR_GENERIC, `${ip} is still an allowed address of port ${other.id}`);
  }
}

async function start(ctx: OcfContext): Promise<number> {
  const ip = ctx.str('ip');
  const port = await withCloud(ctx, async (cloud) => {
    const neutron = cloud.neutron();
    const p = await nodePort(ctx, neutron, ctx.str('subnet_id'));
    let now = p;
    if (hasIp(p, ip)) ctx.log.info(`${ip} already started`);
    else {
      ctx.log.info(`Moving IP address ${ip} to port ID ${p.id}`);
      try {
        now = await updatePairs(neutron, p, (x) => hasIp(x, ip), (x) => [...x.allowedAddressPairs, { ipAddress: ip }]);
      } catch (e) {
        throw asOcfError(e, `${ip} cannot be set to port ${p.id}`);
      }
    }
    if (!hasIp(now, ip)) throw new OcfError(OCF.ERR_GENERIC, `${ip} Cannot be set to port ${now.id}`);
    await takeOver(ctx, neutron, now, ip);
    return now;
  });
  touchStateFile(stateFile(ctx), `${port.id}\n`);
  await informAttribute(ctx, ATTR, ip);
  ctx.log.info(`Successfully brought up ${ip}`);
  return OCF.SUCCESS;
}

/** Remove exactly this resource's pair; when this node has no port on the subnet, the address cannot be on it. */
async function stop(ctx: OcfContext): Promise<number> {
  const ip = ctx.str('ip');
  if (!(await configuredForStop(ctx, validate))) return OCF.SUCCESS;
  await withCloud(ctx, async (cloud) => {
    const neutron = cloud.neutron();
    let port: NeutronPort;
    try {
      port = await nodePort(ctx, neutron, ctx.str('subnet_id'));
    } catch (e) {
      if (!(e instanceof OcfError) || (e.code !== OCF.ERR_CONFIGURED && startedHere(ctx))) throw e;
      ctx.log.info(`${e.reason}: ${ip} is not on this node`);
      return;
    }
    if (!hasIp(port, ip)) { ctx.log.info(`Address ${ip} already down`); return; }
    ctx.log.info(`Bringing down IP address ${ip}`);
    const after = await updatePairs(neutron, port, (x) => !hasIp(x, ip), (x) => x.allowedAddressPairs.filter((p) => !isOurs(x, ip, p)));
    if (hasIp(after, ip)) throw new OcfError(OCF.ERR_GENERIC, `Couldn't unset IP address ${ip}.`);
  });
  // the attribute is the node's, not the resource's: only the resource that set it removes it (not another one's stop)
  const setHere = startedHere(ctx);
  removeStateFile(stateFile(ctx));
  if (setHere) await informAttribute(ctx, ATTR, undefined);
  return OCF.SUCCESS;
}

async function monitor(ctx: OcfContext): Promise<number> {
  const ip = ctx.str('ip');
  return tolerantMonitor(ctx, async () => {
    const port = await withCloud(ctx, (cloud) => nodePort(ctx, cloud.neutron(), ctx.str('subnet_id')));
    if (hasIp(port, ip)) return heldHere(ctx, `${ip} is an allowed address of this node's port ${port.id}`);
    ctx.log.debug(`${ip} is not an allowed address of port ${port.id}`);
    return OCF.NOT_RUNNING;
  });
}

async function validate(ctx: OcfContext): Promise<void> {
  if (!net.isIP(ctx.str('ip'))) throw new OcfError(OCF.ERR_CONFIGURED, `ip '${ctx.str('ip')}' is not an IP address`);
  validateGuestCloud(ctx);
  if (ctx.action === 'validate-all') await withCloud(ctx, (cloud) => checkSubnet(cloud.neutron(), ctx.str('subnet_id')));
}

export const definition: OcfAgent = {
  name: 'openstack-virtual-ip',
  version: VERSION,
  shortdesc: 'Move a virtual IP',
  longdesc: 'Resource Agent to move a virtual IP address from an instance to another one by adding an allowed-address ' +
    'pair associated with an instance port.\n' +
    'Start adds ip to the allowed_address_pairs of this node\'s port on subnet_id (the other pairs are kept), then removes ' +
    'it from any other port of that network (a node fenced while it held the address never ran its stop); stop ' +
    'removes exactly that pair (ip for the port\'s MAC address); monitor reports running when the port has exactly that ' +
    'address (10.0.0.1 does not match 10.0.0.10). This node\'s port is found from its server (node attribute ' +
    'openstack_id of openstack-info, else the config drive or metadata service) and Neutron; without those, from the ' +
    'openstack_ports attribute. The attribute called "openstack_virtual_ip" is updated.\n' +
    'Running means held in OpenStack by this node and started by this node since it booted (a state file in HA_RSCTMP): ' +
    'what a node fenced while it held the resource left behind is not taken for the resource running there once it ' +
    'is back (the node that takes it over removes it).\n' +
    'A subnet_id Neutron does not know fails every action with a configuration error, probes included (no node can ' +
    'run it); a server without a port on the subnet is a configuration error too, but a probe reports not running. ' +
    'When Neutron (or Keystone) does not answer within the monitor\'s timeout, or answers 5xx, the ' +
    'monitor logs a warning and reports the last known state: running if this node started the address and did not ' +
    'stop it, not running otherwise, so an outage of the control plane does not move the address. A stop that cannot ' +
    'reach Neutron fails (the address may still be allowed on this port).',
  params: [
    ...GUEST_CLOUD_PARAMS,
    { name: 'ip', type: 'string', required: true, shortdesc: 'IP Address', longdesc: 'Virtual IP Address.' },
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

export const openstackVirtualIp: AgentEntry = {
  kind: 'ocf',
  provider: 'openstack',
  summary: definition.shortdesc,
  run: (args) => runOcf(definition, args),
};
