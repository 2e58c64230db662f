/**
 * fence_openstack: powers Nova servers off and on (guest clusters inside OpenStack): off is os-stop, on is os-start,
 * each followed by polling the server until it is SHUTOFF / ACTIVE (power_timeout, power_wait, retry_on as fencing.py).
 *
 * Options, defaults and output are those of fence-agents' fence_openstack, so existing stonith resources keep working:
 * auth_url/auth-url, username/login, password/passwd, project_name, user_domain_name, project_domain_name (their
 * defaults admin, Default, Default apply only when neither clouds.yaml nor OS_* give them), cloud (clouds.yaml),
 * openrc (a shell file sourced for its OS_* variables), uuid (or plug), ssl_insecure, cacert, apitimeout. As the other
 * fence agents here, clouds.yaml entries and OS_* may carry application credentials, and region_name / endpoint_type
 * choose the endpoint. Differences from the reference, on purpose:
 *  - the plug is a server UUID or its name (looked up with one filtered request; no match or several → failure);
 *  - status fails, naming the state, for a server neither ACTIVE (on) nor SHUTOFF (off), e.g. ERROR or PAUSED;
 *  - off on a stopped server and on on a running one succeed ("Success: Already OFF/ON", fencing.py's way); a 409
 *    from Nova is looked into instead of failing blindly;
 *  - reboot fails when the server does not power on again (the reference reports success);
 *  - monitor asks Nova for one server (GET /servers/detail?limit=1) instead of listing them all.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import type { AgentEntry } from '../lib/runtime/agent';
import {
  runFence, FenceError, COMMON_PLUG_OPTS, powerSequence, withDashedAlias, type FenceAgent, type FenceContext, type FenceOpt, type PlugEntry, type PowerControl,
} from '../lib/runtime/fence/index';
import {
  ConfigError, OpenStackError, cloudParamsFromSettings, openCloud, resolveCloudConfig, type Cloud, type CloudParams, type NovaServer,
} from '../lib/openstack/index';
import { VERSION } from '../lib/core/version';

const [login, passwd, passwdScript, password, passwordScript, plug, port, nodename] = COMMON_PLUG_OPTS;
const PLUG_DESC = 'UUID or name of the server to be fenced.';

const OPTIONS: FenceOpt[] = [
  login, passwd, passwdScript, password, passwordScript,
  { ...plug, arg: '[UUID]', required: false, shortdesc: PLUG_DESC },
  { ...port, arg: '[UUID]', required: false, shortdesc: PLUG_DESC },
  nodename,
  { name: 'ssl_insecure', long: 'ssl-insecure', type: 'boolean', shortdesc: 'Use SSL connection without verifying certificate' },
  { name: 'username', short: 'l', long: 'username', arg: '[name]', type: 'string', shortdesc: 'Login name', obsoletes: 'login' },
  ...withDashedAlias({ name: 'auth_url', long: 'auth-url', arg: '[authurl]', type: 'string', shortdesc: 'Keystone Auth URL' }),
  ...withDashedAlias({ name: 'project_name', long: 'project-name', arg: '[project]', type: 'string', default: 'admin', shortdesc: 'Keystone Project' }),
  ...withDashedAlias({ name: 'user_domain_name', long: 'user-domain-name', arg: '[domain]', type: 'string', default: 'Default', shortdesc: 'Keystone User Domain Name' }),
  ...withDashedAlias({ name: 'project_domain_name', long: 'project-domain-name', arg: '[domain]', type: 'string', default: 'Default', shortdesc: 'Keystone Project Domain Name' }),
  { name: 'cloud', long: 'cloud', arg: '[cloud]', type: 'string', shortdesc: 'Cloud from clouds.yaml' },
  { name: 'openrc', long: 'openrc', arg: '[openrc]', type: 'string', shortdesc: 'openrc config file' },
  { name: 'uuid', key: 'plug', long: 'uuid', arg: '[uuid]', type: 'string', shortdesc: 'Replaced by port/-n/--plug' },
  { name: 'cacert', long: 'cacert', arg: '[cacert]', type: 'string', default: '', shortdesc: 'SSL X.509 certificates file' },
  { name: 'apitimeout', long: 'apitimeout', arg: '[seconds]', type: 'second', default: '60', shortdesc: 'Timeout in seconds to use for API calls, default is 60.' },
  { name: 'region_name', long: 'region-name', arg: '[region]', type: 'string', shortdesc: 'Region of the compute endpoint (default: from clouds.yaml or OS_REGION_NAME, else the first one)' },
  { name: 'endpoint_type', long: 'endpoint-type', arg: '[endpoint]', type: 'string', shortdesc: 'Endpoint interface: public (default), internal or admin' },
];

/** The reference's defaults: used only when neither clouds.yaml (cloud, OS_CLOUD) nor the environment sets the value. */
const REFERENCE_DEFAULTS: Record<string, { value: string; env: string[] }> = {
  project_name: { value: 'admin', env: ['OS_PROJECT_NAME', 'OS_TENANT_NAME', 'OS_PROJECT_ID', 'OS_TENANT_ID'] },
  user_domain_name: { value: 'Default', env: ['OS_USER_DOMAIN_NAME', 'OS_USER_DOMAIN_ID', 'OS_DOMAIN_NAME', 'OS_DOMAIN_ID'] },
  project_domain_name: { value: 'Default', env: ['OS_PROJECT_DOMAIN_NAME', 'OS_PROJECT_DOMAIN_ID', 'OS_DOMAIN_NAME', 'OS_DOMAIN_ID'] },
};

/** Per run: the environment (openrc's when given), one connection, the servers the plugs name. */
interface State { env?: NodeJS.ProcessEnv; cloud?: Cloud; ids: Map<string, { id: string; name: string }> }
const states = new WeakMap<Record<string, string>, State>();

function stateOf(ctx: FenceContext): State {
  let st = states.get(ctx.opts);
  if (!st) { st = { ids: new Map() }; states.set(ctx.opts, st); }
  return st;
}

/** openrc: sourced by /bin/sh (as fencing.py's source_env), its environment replaces ours for the connection. */
function sourceOpenrc(file: string, timeoutMs: number): Promise<NodeJS.ProcessEnv> {
  if (!fs.existsSync(file)) return Promise.reject(new FenceError(`Failed: ${file} does not exist`));
  return new Promise((resolve, reject) => {
    const child = execFile('/bin/sh', ['-c', '. "$1" >/dev/null </dev/null && env -0', 'sh', file], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (err) { reject(new FenceError(`Failed: sourcing ${file} failed: ${(err as Error).message.split('\n')[0]}`)); return; }
        const env: NodeJS.ProcessEnv = {};
        for (const entry of String(stdout).split('\0')) {
          const eq = entry.indexOf('=');
          if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
        }
        resolve(env);
      });
    child.stdin?.end();
  });
}

async function environment(ctx: FenceContext): Promise<NodeJS.ProcessEnv> {
  const st = stateOf(ctx);
  if (!st.env) {
    const openrc = ctx.str('openrc');
    st.env = openrc ? await sourceOpenrc(openrc, Math.max(ctx.num('apitimeout'), 1) * 1000) : process.env;
    ctx.log.addSecret(st.env.OS_PASSWORD);
    ctx.log.addSecret(st.env.OS_APPLICATION_CREDENTIAL_SECRET);
  }
  return st.env;
}

/** The connection settings: the options given, then the reference's defaults where nothing else sets the value. */
export function cloudParams(ctx: FenceContext, env: NodeJS.ProcessEnv): CloudParams {
  const viaCloud = !!(ctx.str('cloud') || env.OS_CLOUD);
  // (the password may come from password_script: set, not given)
  const get = (n: string): string | undefined => {
    const d = REFERENCE_DEFAULTS[n];
    if (!d || ctx.given.has(n)) return ctx.opts[n] || undefined;
    return !viaCloud && !d.env.some((e) => env[e]) ? d.value : undefined;
  };
  const params = cloudParamsFromSettings(get, {
    names: { projectName: 'project_name', userDomain: 'user_domain_name', projectDomain: 'project_domain_name' },
    insecure: ctx.bool('ssl_insecure'),
    timeoutMs: Math.max(ctx.num('apitimeout'), 1) * 1000,
  });
  return { ...params, cacert: ctx.str('cacert') || undefined };
}

async function validate(ctx: FenceContext): Promise<void> {
  const env = await environment(ctx);
  try {
    resolveCloudConfig(cloudParams(ctx, env), env);
  } catch (e) {
    if (e instanceof ConfigError) throw new FenceError(`Failed: ${e.message}`);
    throw e;
  }
}

function cloud(ctx: FenceContext): Cloud {
  const st = stateOf(ctx);
  if (!st.cloud) st.cloud = openCloud(cloudParams(ctx, st.env ?? process.env), ctx.log, st.env ?? process.env);
  return st.cloud;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const isNotFound = (e: unknown) => e instanceof OpenStackError && e.status === 404;

/** The plug's server: by UUID (GET /servers/{id}), else by exact name (one filtered listing). */
async function lookUp(ctx: FenceContext): Promise<NovaServer> {
  const nova = cloud(ctx).nova();
  if (UUID_RE.test(ctx.plug)) {
    try { return await nova.showServer(ctx.plug); } catch (e) { if (!isNotFound(e)) throw e; }
  }
  const found = await nova.serversNamed(ctx.plug);
  if (found.length === 1) return found[0];
  if (found.length === 0) throw new FenceError(`Failed: no server with UUID or name '${ctx.plug}' (in the project the credentials give access to)`);
  throw new FenceError(`Failed: ${found.length} servers are named '${ctx.plug}' (${found.map((s) => s.id).join(', ')}): set the plug to the UUID of the one to fence`);
}

/** The target's current server document (the look-up's answer serves as the first one). */
async function server(ctx: FenceContext): Promise<NovaServer> {
  const st = stateOf(ctx);
  const known = st.ids.get(ctx.plug);
  if (!known) {
    const s = await lookUp(ctx);
    st.ids.set(ctx.plug, { id: s.id, name: s.name });
    return s;
  }
  try {
    return await cloud(ctx).nova().showServer(known.id);
  } catch (e) {
    if (isNotFound(e)) throw new FenceError(`Failed: server ${known.name} (${known.id}) no longer exists`);
    throw e;
  }
}

const describeServer = (s: NovaServer) => `server ${s.name} (${s.id})`;

function powerOf(s: NovaServer): 'on' | 'off' {
  if (s.status === 'ACTIVE') return 'on';
  if (s.status === 'SHUTOFF') return 'off';
  const task = s.taskState ? `, task ${s.taskState}` : '';
  throw new FenceError(`Failed: ${describeServer(s)} is in state ${s.status}${task}: neither ACTIVE (on) nor SHUTOFF (off)`);
}

async function status(ctx: FenceContext): Promise<'on' | 'off'> {
  const s = await server(ctx);
  ctx.log.debug(`${describeServer(s)}: status ${s.status}, task ${s.taskState ?? 'none'}`);
  return powerOf(s);
}

/** os-stop / os-start; a 409 (Nova refuses the action in the server's state) is looked into, not taken as failure. */
async function request(ctx: FenceContext, want: 'on' | 'off'): Promise<void> {
  const { id, name } = stateOf(ctx).ids.get(ctx.plug)!;
  const nova = cloud(ctx).nova();
  const verb = want === 'on' ? 'os-start' : 'os-stop';
  ctx.log.info(`${want === 'on' ? 'Starting' : 'Stopping'} server ${name} (${id})`);
  try {
    await (want === 'on' ? nova.startServer(id) : nova.stopServer(id));
  } catch (e) {
    if (!(e instanceof OpenStackError && e.status === 409)) throw e;
    const now = await cloud(ctx).nova().showServer(id);
    // already there (stopped meanwhile), or on its way (a stop or start in progress): the wait tells
    if (now.taskState || (now.status === 'SHUTOFF' && want === 'off') || (now.status === 'ACTIVE' && want === 'on')) {
      ctx.log.info(`Nova refused ${verb} (${now.status}, task ${now.taskState ?? 'none'}): waiting for the server to be ${want}`);
      return;
    }
    throw new FenceError(`Failed: Nova refused ${verb} for ${describeServer(now)} in state ${now.status}: ${e.message}`);
  }
}

/** fencing.py's power sequence with os-stop / os-start; reboot fails when the server does not come back on. */
const POWER: PowerControl = {
  status,
  request,
  rebootOnFailure: 'fail',
  onTimeout: (ctx, want, attempt, attempts) => {
    ctx.log.warn(`server not ${want} after ${ctx.num('power_timeout')} s${attempt < attempts ? ': trying again' : ''}`);
  },
};

function plugEntry(s: NovaServer): PlugEntry {
  return { plug: s.id, alias: s.name, status: s.status === 'ACTIVE' ? 'on' : s.status === 'SHUTOFF' ? 'off' : 'unknown' };
}

export const definition: FenceAgent = {
  name: 'fence_openstack',
  version: VERSION,
  shortdesc: "Fence agent for OpenStack's Nova service",
  longdesc: "fence_openstack is a Fencing agent which can be used with machines controlled by the Openstack's Nova service. "
    + 'This fence_openstack (openstack-ha-agents) talks to Keystone and Nova itself (no python-novaclient). The plug is the '
    + "server's UUID or its name. Off stops the server (os-stop), on starts it (os-start); reboot fails when the server does "
    + 'not power on again. Credentials: the options, or cloud=NAME (clouds.yaml, application credentials too), or openrc=FILE, or OS_*.',
  vendorUrl: 'https://wiki.openstack.org/wiki/Nova',
  options: OPTIONS,
  defaults: { power_timeout: '60' },
  handlers: {
    validate,
    status,
    on: (ctx) => powerSequence(ctx, 'on', POWER),
    off: (ctx) => powerSequence(ctx, 'off', POWER),
    reboot: (ctx) => powerSequence(ctx, 'reboot', POWER),
    list: async (ctx) => (await cloud(ctx).nova().listProjectServers()).map(plugEntry),
    monitor: async (ctx) => { await cloud(ctx).nova().listProjectServers({ onePage: 1 }); },
  },
};

export const fenceOpenstack: AgentEntry = {
  kind: 'fence',
  summary: definition.shortdesc,
  run: (args) => runFence(definition, args),
};
