/**
 * Control-plane service agents (OCF, provider openstack), one definition each over the daemon engine
 * (lib/daemon/engine.ts): binary, default config, user, health check. Parameters of the reference
 * openstack-resource-agents are accepted under their names (binary, config, user, pid, url, os_username,
 * os_password, os_tenant_name, keystone_get_token_url, additional_parameters).
 */
import * as fs from 'node:fs';
import type { AgentEntry } from '../lib/runtime/agent';
import { runOcf, type OcfContext, type OcfParam } from '../lib/runtime/ocf/index';
import { serviceAgent, type ServiceDef, type DaemonRecord } from '../lib/daemon/engine';
import {
  authParams, validateCredentials, cinderApiHealth, cinderServicesHealth, novaServicesHealth, apiHealth,
} from '../lib/daemon/health';
import { VERSION } from '../lib/core/version';

const url = (def: string, what: string, extra = ''): OcfParam => ({
  name: 'url', type: 'string', default: def, shortdesc: `${what} monitor URL`,
  longdesc: `The URL of the local ${what} used by the health check.${extra}`,
});

const hostParam = (what: string, extra = ''): OcfParam => ({
  name: 'host', type: 'string', shortdesc: `Host name ${what} registers under`,
  longdesc: `The host of this service in os-services. Default: [DEFAULT] host of the config file, else the node's host name. ` +
    `For an active/passive service this is the shared name (e.g. cinder-cluster-1).${extra}`,
});

const SERVICES_NOTE = 'With credentials (os_username/os_password or cloud), the monitor also checks that os-services reports ' +
  'the service up and enabled, after a grace period; without, only the process is watched.';

/** Agents whose health is os-services: the same credential, host, grace and failure settings. */
function servicesDef(d: {
  name: string; title: string; binary: string; config: string; user: string; shortdesc: string; longdesc: string;
  service: 'cinder' | 'nova'; params?: OcfParam[];
}): ServiceDef {
  return {
    name: d.name, title: d.title, shortdesc: d.shortdesc, binary: d.binary, config: d.config, user: d.user,
    longdesc: `${d.longdesc}\n${SERVICES_NOTE}`,
    params: [...(d.params ?? [hostParam(d.name)]), ...authParams(d.title)],
    grace: 60,
    failures: 2,
    validate: validateCredentials,
    health: (ctx: OcfContext, rec: DaemonRecord, phase) => d.service === 'cinder'
      ? cinderServicesHealth(ctx, rec, d.name, phase === 'start')
      : novaServicesHealth(ctx, rec, d.name, phase === 'start'),
  };
}

export const SERVICE_DEFS: ServiceDef[] = [
  {
    name: 'cinder-api',
    title: 'OpenStack Cinder API (cinder-api)',
    shortdesc: 'Manages the OpenStack Cinder API (cinder-api)',
    longdesc: 'Resource agent for the OpenStack Cinder API service (cinder-api). Runs as a clone (active/active behind a ' +
      'load balancer or VIP) or as a primitive (active/passive). The health check authenticates with Keystone v3 and lists ' +
      'the volume types at url: any answer but HTTP 200 is a failure. Without credentials it only checks that the API ' +
      'answers its version document.',
    binary: '/usr/bin/cinder-api', config: '/etc/cinder/cinder.conf', user: 'cinder',
    params: [
      url('http://127.0.0.1:8776/v3/', 'Cinder API', ' The volume types are listed at its v3 API (a /v1/ or /v2/ URL of ' +
        'the old agent is taken as the API\'s location; the check uses /v3/types there).'),
      ...authParams('OpenStack Cinder API (cinder-api)', 'http://127.0.0.1:5000/v2.0/tokens'),
    ],
    failures: 2,
    validate: validateCredentials,
    health: (ctx) => cinderApiHealth(ctx),
  },
  servicesDef({
    name: 'cinder-scheduler', title: 'OpenStack Cinder Scheduler (cinder-scheduler)', service: 'cinder',
    shortdesc: 'Manages the OpenStack Cinder Scheduler (cinder-scheduler)',
    longdesc: 'Resource agent for the OpenStack Cinder scheduler (cinder-scheduler), usually a clone.',
    binary: '/usr/bin/cinder-scheduler', config: '/etc/cinder/cinder.conf', user: 'cinder',
  }),
  servicesDef({
    name: 'cinder-volume', title: 'OpenStack Cinder Volume (cinder-volume)', service: 'cinder',
    shortdesc: 'Manages the OpenStack Cinder Volume service (cinder-volume)',
    longdesc: 'Resource agent for the OpenStack Cinder volume service (cinder-volume). Run ONE instance (active/passive): ' +
      'every node uses the same host name (host = cinder-cluster-1 in cinder.conf, or backend_host per backend), so that the ' +
      'volumes stay reachable after a failover. Order it after cinder-scheduler and colocate it with the storage it needs.',
    binary: '/usr/bin/cinder-volume', config: '/etc/cinder/cinder.conf', user: 'cinder',
    params: [
      hostParam('cinder-volume', ' cinder-volume registers HOST@BACKEND for each enabled backend.'),
      { name: 'backend_host', type: 'string', aliasOf: 'host', shortdesc: 'Shared host name (backend_host)', longdesc: 'Same as host, named like cinder.conf\'s backend_host option.' },
      { name: 'backends', type: 'string', shortdesc: 'Backends to check (comma-separated)', longdesc: 'Backend names whose HOST@BACKEND entries must be up, e.g. "ceph" or "lvm,nfs". Default: enabled_backends of the config file, else every HOST@* entry (at least one). A backend section\'s backend_host option replaces [DEFAULT] host for that backend (the host parameter replaces both).' },
    ],
  }),
  servicesDef({
    name: 'cinder-backup', title: 'OpenStack Cinder Backup (cinder-backup)', service: 'cinder',
    shortdesc: 'Manages the OpenStack Cinder Backup service (cinder-backup)',
    longdesc: 'Resource agent for the OpenStack Cinder backup service (cinder-backup).',
    binary: '/usr/bin/cinder-backup', config: '/etc/cinder/cinder.conf', user: 'cinder',
  }),
  {
    name: 'keystone',
    title: 'OpenStack Keystone (keystone)',
    shortdesc: 'Manages the OpenStack Identity service (keystone)',
    longdesc: 'Resource agent for the OpenStack Identity service, run as keystone-wsgi-public (pbr\'s built-in WSGI server: ' +
      'keystone-wsgi-public --port PORT --host BIND -- --config-file CONFIG). Health: GET url (the v3 version document) answers 200.',
    binary: '/usr/bin/keystone-wsgi-public', config: '/etc/keystone/keystone.conf', user: 'keystone',
    params: [
      url('http://127.0.0.1:5000/v3', 'Keystone'),
      { name: 'port', type: 'integer', default: '5000', shortdesc: 'Port to listen on', longdesc: 'TCP port of keystone-wsgi-public.' },
      { name: 'bind_host', type: 'string', default: '0.0.0.0', shortdesc: 'Address to listen on', longdesc: 'Address keystone-wsgi-public binds to.' },
      { name: 'insecure', type: 'boolean', default: 'false', shortdesc: 'Allow insecure TLS requests', longdesc: 'Do not verify the TLS certificate of url.' },
    ],
    argv: (ctx, config, extra) => ['--port', ctx.str('port'), '--host', ctx.str('bind_host'), '--', '--config-file', config, ...extra],
    health: (ctx) => apiHealth(ctx, [200]),
  },
  {
    name: 'glance-api',
    title: 'OpenStack Glance API (glance-api)',
    shortdesc: 'Manages the OpenStack Image API (glance-api)',
    longdesc: 'Resource agent for the OpenStack Image API (glance-api). Health: GET url (/versions) answers 200; with ' +
      'credentials, GET /v2/images?limit=1 with a token answers 200.',
    binary: '/usr/bin/glance-api', config: '/etc/glance/glance-api.conf', user: 'glance',
    params: [url('http://127.0.0.1:9292/versions', 'Glance API'), ...authParams('OpenStack Glance API (glance-api)')],
    validate: validateCredentials,
    health: (ctx) => apiHealth(ctx, [200], '/v2/images?limit=1'),
  },
  {
    name: 'nova-api',
    title: 'OpenStack Nova API (nova-api)',
    shortdesc: 'Manages the OpenStack Compute API (nova-api)',
    longdesc: 'Resource agent for the OpenStack Compute API (nova-api). Health: GET url (the version list) answers 200.',
    binary: '/usr/bin/nova-api', config: '/etc/nova/nova.conf', user: 'nova',
    params: [url('http://127.0.0.1:8774/', 'Nova API'), { name: 'insecure', type: 'boolean', default: 'false', shortdesc: 'Allow insecure TLS requests', longdesc: 'Do not verify the TLS certificate of url.' }],
    health: (ctx) => apiHealth(ctx, [200]),
  },
  servicesDef({
    name: 'nova-scheduler', title: 'OpenStack Nova Scheduler (nova-scheduler)', service: 'nova',
    shortdesc: 'Manages the OpenStack Nova Scheduler (nova-scheduler)',
    longdesc: 'Resource agent for the OpenStack Nova scheduler (nova-scheduler).',
    binary: '/usr/bin/nova-scheduler', config: '/etc/nova/nova.conf', user: 'nova',
  }),
  servicesDef({
    name: 'nova-conductor', title: 'OpenStack Nova Conductor (nova-conductor)', service: 'nova',
    shortdesc: 'Manages the OpenStack Nova Conductor (nova-conductor)',
    longdesc: 'Resource agent for the OpenStack Nova conductor (nova-conductor).',
    binary: '/usr/bin/nova-conductor', config: '/etc/nova/nova.conf', user: 'nova',
  }),
  {
    name: 'neutron-server',
    title: 'OpenStack Neutron Server (neutron-server)',
    shortdesc: 'Manages the OpenStack Networking API (neutron-server)',
    longdesc: 'Resource agent for the OpenStack Networking server (neutron-server). Health: GET url (the version list) answers 200.',
    binary: '/usr/bin/neutron-server', config: '/etc/neutron/neutron.conf', user: 'neutron',
    params: [
      url('http://127.0.0.1:9696/', 'Neutron server'),
      { name: 'plugin_config', type: 'string', default: '/etc/neutron/plugins/ml2/ml2_conf.ini', shortdesc: 'Plugin config file', longdesc: 'Second --config-file (the ML2 plugin configuration); empty for none. Used when it exists.' },
      { name: 'insecure', type: 'boolean', default: 'false', shortdesc: 'Allow insecure TLS requests', longdesc: 'Do not verify the TLS certificate of url.' },
    ],
    argv: (ctx, config, extra) => {
      const plugin = ctx.str('plugin_config');
      return ['--config-file', config, ...(plugin && fs.existsSync(plugin) ? ['--config-file', plugin] : []), ...extra];
    },
    health: (ctx) => apiHealth(ctx, [200]),
  },
];

/** Registry entries: one per definition. */
export const SERVICE_AGENTS: Record<string, AgentEntry> = Object.fromEntries(SERVICE_DEFS.map((def) => {
  const agent = serviceAgent(def, VERSION);
  const entry: AgentEntry = { kind: 'ocf', provider: 'openstack', summary: def.shortdesc, run: (args) => runOcf(agent, args) };
  return [def.name, entry];
}));

export function serviceAgentDefinition(name: string) {
  const def = SERVICE_DEFS.find((d) => d.name === name);
  if (!def) throw new Error(`no service agent ${name}`);
  return serviceAgent(def, VERSION);
}
