/**
 * The OpenStack connection settings of the guest-cluster agents (openstack-info, openstack-virtual-ip,
 * openstack-floating-ip, openstack-cinder-volume), under the names of resource-agents' openstack-common.sh (cloud, openrc, auth_url,
 * username, password, project_name, user_domain_name, project_domain_name, openstackcli, insecure), plus region_name
 * and endpoint_type. Precedence as there: cloud (clouds.yaml), else openrc, else the parameters; OS_* variables of the
 * environment (and of the openrc file) fill in what is left, application credentials included.
 */
import * as fs from 'node:fs';
import type { OcfContext, OcfParam } from '../runtime/ocf/index';
import { OCF, OcfError } from '../runtime/ocf/index';
import {
  ConfigError, ENDPOINT_TYPES, cloudParamsFromSettings, openCloud, resolveCloudConfig, type Cloud, type CloudParams,
} from '../openstack/index';

const AUTH_NOTE = 'Set cloud (an entry of clouds.yaml, e.g. with an application credential), or openrc, or auth_url, ' +
  'username, password and project_name (OS_* variables of the environment fill in what is left).';

/** The reference agents' connection parameters, same names and defaults. */
export const GUEST_CLOUD_PARAMS: readonly OcfParam[] = [
  { name: 'cloud', type: 'string', shortdesc: 'Cloud from clouds.yaml', longdesc: `Openstack cloud (from ~/.config/openstack/clouds.yaml or /etc/openstack/clouds.yaml). ${AUTH_NOTE}` },
  { name: 'openrc', type: 'string', shortdesc: 'openrc file', longdesc: 'Openstack credentials as openrc file from api_access/openrc. The file is read, not run: its "export OS_NAME=value" lines (quoted or not, $VAR references to earlier lines expanded) are used; anything else in it (prompts, commands) is ignored.' },
  { name: 'auth_url', type: 'string', shortdesc: 'Keystone Auth URL', longdesc: 'Keystone Auth URL' },
  { name: 'username', type: 'string', shortdesc: 'Username', longdesc: 'Username.' },
  { name: 'password', type: 'string', secret: true, shortdesc: 'Password', longdesc: 'Password. Prefer cloud (a clouds.yaml readable by root only) so that no password is kept in the CIB; it is never put on a command line or in a log.' },
  { name: 'project_name', type: 'string', shortdesc: 'Keystone Project', longdesc: 'Keystone Project.' },
  { name: 'user_domain_name', type: 'string', default: 'Default', shortdesc: 'Keystone User Domain Name', longdesc: 'Keystone User Domain Name (the default applies to the username parameter; clouds.yaml and openrc keep their own).' },
  { name: 'project_domain_name', type: 'string', default: 'Default', shortdesc: 'Keystone Project Domain Name', longdesc: 'Keystone Project Domain Name (the default applies to the project_name parameter; clouds.yaml and openrc keep their own).' },
  { name: 'region_name', type: 'string', shortdesc: 'Region name', longdesc: 'Region of the service catalog to use (default: clouds.yaml, OS_REGION_NAME, else the first).' },
  { name: 'endpoint_type', type: 'string', values: ENDPOINT_TYPES, shortdesc: 'Catalog interface (public, internal or admin)', longdesc: 'Which endpoint of the service catalog to use (default: clouds.yaml, OS_INTERFACE, else public).' },
  { name: 'openstackcli', type: 'string', default: '/usr/bin/openstack', shortdesc: 'Path to Openstack CLI tool', longdesc: 'Accepted for compatibility with the reference agent and not used: this agent talks to the OpenStack APIs itself.' },
  { name: 'insecure', type: 'boolean', default: 'false', shortdesc: 'Allow insecure connections', longdesc: 'Allow insecure connections: the TLS certificates of the OpenStack APIs are not verified.' },
];

const unquote = (v: string) => (/^'.*'$/.test(v) ? v.slice(1, -1) : /^".*"$/.test(v) ? v.slice(1, -1).replace(/\\(["\\$`])/g, '$1') : v);

/** The OS_* settings of an openrc file, read without running it (export lines; $VAR/${VAR} of earlier lines or env). */
export function parseOpenrc(text: string, env: NodeJS.ProcessEnv = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^\s*(?:export\s+)?(OS_[A-Z0-9_]+)=(.*?)\s*$/.exec(raw);
    if (!m) continue;
    const value = m[2].replace(/\s+#.*$/, '');
    const single = /^'.*'$/.test(value);
    let v = unquote(value);
    if (!single) v = v.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_s, n: string) => out[n] ?? env[n] ?? '');
    if (v !== '') out[m[1]] = v;
  }
  return out;
}

/** The environment the client reads OS_* from: the agent's, with the openrc file's settings over it. */
export function guestEnv(ctx: OcfContext): NodeJS.ProcessEnv {
  const file = ctx.str('openrc');
  if (ctx.str('cloud') || !file) return ctx.env;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new OcfError(OCF.ERR_CONFIGURED, `${file} does not exist`);
  }
  const vars = parseOpenrc(text, ctx.env);
  for (const [k, v] of Object.entries(vars)) if (/PASSWORD|SECRET|TOKEN/.test(k)) ctx.log.addSecret(v);
  return { ...ctx.env, ...vars };
}

/**
 * CloudParams from the parameters. The domain defaults apply to the username/project_name parameters only, so that a
 * clouds.yaml entry or an openrc file keeps its domains. Requests are bounded by the action's timeout.
 */
export function guestCloudParams(ctx: OcfContext): CloudParams {
  const fromParams = !ctx.str('cloud') && !ctx.str('openrc');
  const names = { projectName: 'project_name', userDomain: 'user_domain_name', projectDomain: 'project_domain_name' };
  const get = (n: string) => {
    if (!fromParams && ['auth_url', 'username', 'password', 'project_name', 'user_domain_name', 'project_domain_name'].includes(n)) return undefined;
    if ((n === 'user_domain_name' && !ctx.str('username')) || (n === 'project_domain_name' && !ctx.str('project_name'))) return undefined;
    return ctx.params[n];
  };
  const left = ctx.remaining();
  const timeoutMs = left === undefined ? 30000 : Math.max(1000, Math.min(30000, Math.floor((left * 1000) / 4)));
  return cloudParamsFromSettings(get, { names, insecure: ctx.bool('insecure'), timeoutMs, attempts: 2 });
}

/** validate-all: the connection settings resolve (ERR_CONFIGURED with what is missing otherwise), nothing contacted. */
export function validateGuestCloud(ctx: OcfContext): void {
  try {
    resolveCloudConfig(guestCloudParams(ctx), guestEnv(ctx));
  } catch (e) {
    if (e instanceof ConfigError) throw new OcfError(OCF.ERR_CONFIGURED, `${e.message} (${AUTH_NOTE})`);
    throw e;
  }
}

export function openGuestCloud(ctx: OcfContext): Cloud {
  return openCloud(guestCloudParams(ctx), ctx.log, guestEnv(ctx));
}
