/**
 * The OpenStack connection settings of the instance-HA agents, declared once for OCF and once for the fence-agent
 * option style (the reference agents' names), and their mapping to the client library.
 */
import type { OcfParam, OcfContext } from '../runtime/ocf/index';
import { OcfError, OCF } from '../runtime/ocf/index';
import { withDashedAlias, type FenceOpt, type FenceContext } from '../runtime/fence/index';
import { ConfigError, ENDPOINT_TYPES, cloudParamsFromSettings, resolveCloudConfig, type CloudParams } from '../openstack/index';

export { ENDPOINT_TYPES };

const AUTH_NOTE = 'Either cloud, or auth_url with username, password and tenant_name (project_name), must be set.';

/** OCF parameters for reaching OpenStack (NovaEvacuate, nova-compute-wait), reference names first. */
export const OCF_CLOUD_PARAMS: readonly OcfParam[] = [
  { name: 'auth_url', type: 'string', shortdesc: 'Authorization URL', longdesc: `Keystone URL used to authenticate in admin context, e.g. http://keystone.example.com:5000/v3. ${AUTH_NOTE}` },
  { name: 'username', type: 'string', shortdesc: 'Username', longdesc: 'Username for connecting to keystone in admin context.' },
  { name: 'password', type: 'string', secret: true, shortdesc: 'Password', longdesc: 'Password for connecting to keystone in admin context. Prefer cloud with a clouds.yaml readable by root only, so that no password is kept in the CIB.' },
  { name: 'tenant_name', type: 'string', shortdesc: 'Tenant name', longdesc: 'Tenant (project) name for connecting to keystone in admin context. Note that with Keystone V3 tenant names are only unique within a domain.' },
  { name: 'project_name', type: 'string', aliasOf: 'tenant_name', shortdesc: 'Project name', longdesc: 'Keystone v3 name for tenant_name; either may be used.' },
  { name: 'user_domain', type: 'string', default: 'Default', shortdesc: 'Keystone v3 user domain', longdesc: 'Keystone v3 user domain name.' },
  { name: 'project_domain', type: 'string', default: 'Default', shortdesc: 'Keystone v3 project domain', longdesc: 'Keystone v3 project domain name.' },
  { name: 'cloud', type: 'string', shortdesc: 'Cloud name in clouds.yaml', longdesc: 'Name of an entry in clouds.yaml (/etc/openstack/clouds.yaml, ~/.config/openstack/clouds.yaml), used for whatever auth_url, username, password and the other connection parameters leave unset. Application credentials are configured this way.' },
  { name: 'domain', type: 'string', shortdesc: 'DNS domain', longdesc: 'DNS domain in which hosts live, useful when the cluster uses short names and nova uses FQDN.' },
  { name: 'endpoint_type', type: 'string', default: 'internalURL', values: ENDPOINT_TYPES, shortdesc: 'Nova API location (internal, public or admin URL)', longdesc: 'Which endpoint of the service catalog to use.' },
  { name: 'region_name', type: 'string', shortdesc: 'Region name', longdesc: 'Region name for connecting to nova.' },
  { name: 'insecure', type: 'boolean', default: 'false', shortdesc: 'Allow insecure TLS requests', longdesc: 'Explicitly allow the agent to perform "insecure" TLS (https) requests. The server\'s certificate will not be verified against any certificate authorities. This option should be used with caution.' },
];

export { withDashedAlias };

/** Fence-agent options for reaching OpenStack, as fence-agents' fence_compute declares them (plus the dashed names). */
export const FENCE_CLOUD_OPTS: readonly FenceOpt[] = [
  ...withDashedAlias({ name: 'auth_url', short: 'k', long: 'auth-url', arg: '[url]', type: 'string', default: '', shortdesc: 'Keystone Admin Auth URL' }),
  ...withDashedAlias({ name: 'endpoint_type', short: 'e', long: 'endpoint-type', arg: '[endpoint]', type: 'string', default: 'internalURL', shortdesc: 'Nova Endpoint type' }),
];
export const FENCE_CLOUD_OPTS_2: readonly FenceOpt[] = [
  ...withDashedAlias({ name: 'region_name', long: 'region-name', arg: '[region]', type: 'string', default: '', shortdesc: 'Region Name' }),
  ...withDashedAlias({ name: 'tenant_name', short: 't', long: 'tenant-name', arg: '[name]', type: 'string', default: '', shortdesc: 'Keystone Admin Tenant or v3 Project' }),
];
export const FENCE_CLOUD_OPTS_3: readonly FenceOpt[] = [
  { name: 'insecure', long: 'insecure', type: 'boolean', shortdesc: 'Allow Insecure TLS Requests' },
  { name: 'project-domain', key: 'project_domain', short: 'P', long: 'project-domain', arg: '[name]', type: 'string', default: 'Default', shortdesc: 'Keystone v3 Project Domain', deprecated: true },
  { name: 'project_domain', short: 'P', long: 'project-domain', arg: '[name]', type: 'string', default: 'Default', shortdesc: 'Keystone v3 Project Domain', obsoletes: 'project-domain' },
  { name: 'user-domain', key: 'user_domain', short: 'u', long: 'user-domain', arg: '[name]', type: 'string', default: 'Default', shortdesc: 'Keystone v3 User Domain', deprecated: true },
  { name: 'user_domain', short: 'u', long: 'user-domain', arg: '[name]', type: 'string', default: 'Default', shortdesc: 'Keystone v3 User Domain', obsoletes: 'user-domain' },
  { name: 'domain', short: 'd', long: 'domain', arg: '[string]', type: 'string', shortdesc: 'DNS domain in which hosts live' },
  { name: 'cloud', long: 'cloud', arg: '[name]', type: 'string', shortdesc: 'Cloud name in clouds.yaml, used for the connection parameters left unset' },
];
export const FENCE_EVAC_OPTS: readonly FenceOpt[] = [
  ...withDashedAlias({ name: 'instance_filtering', long: 'instance-filtering', type: 'boolean', default: 'True', shortdesc: 'Allow instances to be evacuated' }),
  ...withDashedAlias({ name: 'no_shared_storage', long: 'no-shared-storage', type: 'boolean', default: 'False', shortdesc: 'Disable functionality for dealing with shared storage' }),
];

function endpointTypeOk(v: string): boolean {
  return v === '' || (ENDPOINT_TYPES as readonly string[]).includes(v);
}

/**
 * Which of the password-auth settings are missing: none when a clouds.yaml entry is named (parameter or OS_CLOUD),
 * else those of auth_url, username, password, tenant_name that neither the agent nor an OS_* variable gives.
 */
export function missingCredentials(v: Record<string, string | undefined>, env: NodeJS.ProcessEnv): string[] {
  if (v.cloud || env.OS_CLOUD) return [];
  const fromEnv: Record<string, string | undefined> = {
    auth_url: env.OS_AUTH_URL, username: env.OS_USERNAME, password: env.OS_PASSWORD, tenant_name: env.OS_PROJECT_NAME ?? env.OS_TENANT_NAME,
  };
  return ['auth_url', 'username', 'password', 'tenant_name'].filter((n) => !v[n] && !fromEnv[n]);
}

/** Connection settings from an OCF agent's parameters; ERR_CONFIGURED when credentials are missing. */
export function cloudParamsFromOcf(ctx: OcfContext): CloudParams {
  const missing = missingCredentials(ctx.params, ctx.env);
  if (missing.length) throw new OcfError(OCF.ERR_CONFIGURED, `${missing.join(', ')} not configured (${AUTH_NOTE})`);
  return cloudParamsFromSettings((n) => ctx.params[n], { insecure: ctx.bool('insecure') });
}

/**
 * What is wrong with the connection settings once clouds.yaml and OS_* are merged in (a cloud name that no
 * clouds.yaml has, an unknown auth_type, ...), without contacting anything; undefined when they resolve.
 */
export function cloudConfigProblem(params: CloudParams, env: NodeJS.ProcessEnv): string | undefined {
  try {
    resolveCloudConfig(params, env);
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
}

/** validate-all of the OCF agents: credentials present and resolvable (ERR_CONFIGURED otherwise). */
export function validateOcfCloud(ctx: OcfContext): void {
  const problem = cloudConfigProblem(cloudParamsFromOcf(ctx), ctx.env);
  if (problem) throw new OcfError(OCF.ERR_CONFIGURED, problem);
}

/** Connection settings from a fence agent's options. */
export function cloudParamsFromFence(ctx: FenceContext): CloudParams {
  return cloudParamsFromSettings((n) => ctx.opts[n], { insecure: ctx.bool('insecure'), timeoutMs: Math.max(ctx.num('shell_timeout'), 1) * 1000 });
}

export function checkEndpointType(v: string): string | undefined {
  return endpointTypeOk(v) ? undefined : `endpoint_type '${v}' is not valid: use one of ${ENDPOINT_TYPES.join(', ')}`;
}
