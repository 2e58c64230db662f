/**
 * openstack-info (OCF, provider openstack): publishes this node's Nova server and ports as node attributes, like
 * resource-agents' openstack-info, for openstack-virtual-ip, openstack-floating-ip and openstack-cinder-volume (and
 * constraints).
 *   openstack_id     this node's server UUID (config drive, metadata service, or cloud-init's instance id)
 *   openstack_ports  "subnet_id:port_id" tuples, comma-separated, one per subnet of each of the server's ports
 * Usually a clone. Monitor refreshes both.
 */
import * as fs from 'node:fs';
import type { AgentEntry } from '../lib/runtime/agent';
import { runOcf, OCF, OcfError, stateFile, touchStateFile, removeStateFile, type OcfAgent, type OcfContext } from '../lib/runtime/ocf/index';
import {
  GUEST_CLOUD_PARAMS, ID_ATTR, PORTS_ATTR, validateGuestCloud, discoverServerId, ownAttribute, formatPorts, withCloud,
  setNodeAttribute, deleteNodeAttribute, isUnavailable,
} from '../lib/guest/index';
import { VERSION } from '../lib/core/version';

const pidfile = (ctx: OcfContext) => ctx.str('pidfile') || stateFile(ctx);

/** This node's server id: discovered (config drive, metadata service, cloud-init), else the attribute published before. */
async function serverId(ctx: OcfContext): Promise<string> {
  const id = (await discoverServerId(ctx)) ?? ((await ownAttribute(ctx, ID_ATTR)).trim() || undefined);
  if (!id) throw new OcfError(OCF.ERR_GENERIC, 'Cannot find server ID (no config drive, no answer from the metadata service, no cloud-init instance id)');
  return id;
}

/** Read the server's ports from Neutron and publish both attributes. */
async function publish(ctx: OcfContext): Promise<void> {
  const id = await serverId(ctx);
  const delay = ctx.str('delay');
  await setNodeAttribute(ctx, ID_ATTR, id, delay);
  const ports = await withCloud(ctx, (cloud) => cloud.neutron().listPorts({ deviceId: id }));
  const value = formatPorts(ports);
  await setNodeAttribute(ctx, PORTS_ATTR, value, delay);
  ctx.log.debug(`${ID_ATTR}=${id} ${PORTS_ATTR}=${value}`);
}

async function start(ctx: OcfContext): Promise<number> {
  try {
    await publish(ctx);
  } catch (e) {
    if (e instanceof OcfError) throw e;
    throw new OcfError(OCF.ERR_GENERIC, `cannot publish this node's OpenStack attributes: ${(e as Error).message}`);
  }
  touchStateFile(pidfile(ctx), `${ctx.instance}\n`);
  return OCF.SUCCESS;
}

async function stop(ctx: OcfContext): Promise<number> {
  removeStateFile(pidfile(ctx));
  for (const name of [ID_ATTR, PORTS_ATTR]) {
    try {
      await deleteNodeAttribute(ctx, name, ctx.str('delay'));
    } catch (e) {
      ctx.log.warn(`cannot remove the node attribute ${name}: ${(e as Error).message}`);
    }
  }
  return OCF.SUCCESS;
}

/** Running while started; a refresh that fails (Neutron, metadata service or attrd not answering) only warns. */
async function monitor(ctx: OcfContext): Promise<number> {
  if (!fs.existsSync(pidfile(ctx))) return OCF.NOT_RUNNING;
  try {
    await publish(ctx);
  } catch (e) {
    const why = isUnavailable(e) ? 'OpenStack is not answering' : 'refresh failed';
    ctx.log.warn(`${why}: ${(e as Error).message}; the attributes keep their last values`);
  }
  return OCF.SUCCESS;
}

export const definition: OcfAgent = {
  name: 'openstack-info',
  version: VERSION,
  shortdesc: 'Records various node attributes in the CIB',
  longdesc: 'OCF resource agent to set attributes from Openstack instance details.\n' +
    'It records (in the CIB) the node attributes openstack_id (this node\'s Nova server UUID) and openstack_ports, a ' +
    'comma-separated list of tuples "subnet_id:port_id": one per subnet of each port of the server (a port with ' +
    'addresses on several subnets gives one tuple per subnet), e.g.\n' +
    '  openstack_id    : 60ac4343-5828-49b1-8aac-7c69b1417f31\n' +
    '  openstack_ports : SUBNET_A:PORT_1,SUBNET_B:PORT_1,SUBNET_A:PORT_2 (each an id like the one above)\n' +
    'The server is found from a mounted config drive, else the metadata service ' +
    '(http://169.254.169.254/openstack/latest/meta_data.json), else cloud-init\'s instance id; the ports from Neutron ' +
    '(the network endpoint of the catalog). The reference agent\'s other attributes (openstack_flavor, openstack_az, ' +
    'openstack_region, openstack_project_id...) are not published.\n' +
    'Start fails when the server or its ports cannot be read. Monitor refreshes both attributes; when the metadata ' +
    'service or Neutron does not answer it logs a warning, leaves the attributes as they were and reports running ' +
    '(the node did not change servers).',
  params: [
    ...GUEST_CLOUD_PARAMS,
    { name: 'pidfile', type: 'string', shortdesc: 'PID file', longdesc: 'State file marking the resource started (default: HA_RSCTMP/INSTANCE.active).' },
    { name: 'delay', type: 'string', default: '0', shortdesc: 'Dampening Delay', longdesc: 'Interval to allow values to stabilize (attrd_updater -d).' },
    { name: 'curlcli', type: 'string', default: '/usr/bin/curl', shortdesc: 'Path to cURL binary', longdesc: 'Accepted for compatibility with the reference agent and not used.' },
    { name: 'pythoncli', type: 'string', default: '/usr/bin/python3', shortdesc: 'Path to Python interpreter', longdesc: 'Accepted for compatibility with the reference agent and not used.' },
  ],
  actions: [
    { name: 'start', timeout: 180 },
    { name: 'stop', timeout: 180 },
    { name: 'monitor', timeout: 180, interval: 60 },
    { name: 'meta-data', timeout: 5 },
    { name: 'validate-all', timeout: 20 },
  ],
  handlers: {
    validate: validateGuestCloud,
    isRunning: (ctx) => fs.existsSync(pidfile(ctx)),
    start,
    stop,
    monitor,
  },
};

export const openstackInfo: AgentEntry = {
  kind: 'ocf',
  provider: 'openstack',
  summary: definition.shortdesc,
  run: (args) => runOcf(definition, args),
};
