/**
 * Builds a CloudConfig from, highest precedence first: the agent's own parameters, the clouds.yaml (+ secure.yaml)
 * entry named by params.cloud or OS_CLOUD, the OS_* environment variables, and defaults.
 *
 * Related settings move together: when a layer sets the user name or the user id, both come from that layer (so a
 * user_id in clouds.yaml cannot pair with a username parameter); the same holds for the project, both domains and
 * the application credential.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../core/log';
import { isTrue } from '../core/text';
import type { CloudConfig, CloudParams, Interface } from './types';
import { parseYaml, type YamlValue } from './yaml';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** What agents accept as endpoint_type (the reference agents' values). */
export const ENDPOINT_TYPES = ['publicURL', 'internalURL', 'adminURL', 'public', 'internal', 'admin'] as const;

export const DEFAULT_TIMEOUT_MS = 30000;
export const DEFAULT_ATTEMPTS = 3;

const INTERFACES: Record<string, Interface> = {
  public: 'public', publicurl: 'public',
  internal: 'internal', internalurl: 'internal',
  admin: 'admin', adminurl: 'admin',
};

/** public/internal/admin or the legacy publicURL/internalURL/adminURL (any case) → Interface. */
export function parseInterface(value: string, source = 'endpoint_type'): Interface {
  const v = INTERFACES[value.trim().toLowerCase()];
  if (!v) {
    throw new ConfigError(`invalid ${source} "${value}": valid values are public, internal, admin (or publicURL, internalURL, adminURL)`);
  }
  return v;
}

type Layer = Partial<CloudConfig> & { authType?: string };

/** Fields that are taken from one layer as a whole: the first layer that sets any of them provides all of them. */
const GROUPS: (keyof Layer)[][] = [
  ['username', 'userId'],
  ['userDomainName', 'userDomainId'],
  ['projectName', 'projectId'],
  ['projectDomainName', 'projectDomainId'],
  ['applicationCredentialId', 'applicationCredentialName'],
];

export function resolveCloudConfig(params: CloudParams, env: NodeJS.ProcessEnv = process.env, log?: Logger): CloudConfig {
  const fromParams = paramsLayer(params);
  const cloudName = params.cloud || env.OS_CLOUD || undefined;
  const fromYaml = cloudName ? yamlLayer(cloudName, env, log) : {};
  const fromEnv = envLayer(env);
  const layers = [fromParams, fromYaml, fromEnv];

  const merged: Layer = {};
  const grouped = new Set<keyof Layer>(GROUPS.flat());
  for (const group of GROUPS) {
    const layer = layers.find((l) => group.some((k) => l[k] !== undefined));
    if (layer) for (const k of group) (merged as Record<string, unknown>)[k] = layer[k];
  }
  for (const layer of [...layers].reverse()) {
    for (const [k, v] of Object.entries(layer)) {
      if (v !== undefined && !grouped.has(k as keyof Layer)) (merged as Record<string, unknown>)[k] = v;
    }
  }

  const where = cloudName ? `the agent parameters, cloud "${cloudName}" in clouds.yaml, or` : 'the agent parameters or';
  if (!merged.authUrl) throw new ConfigError(`no auth_url: set it in ${where} OS_AUTH_URL`);

  // auth_type decides between the two methods; without it application credentials win when complete.
  const authType = (merged.authType ?? '').toLowerCase().replace(/^v3/, '').replace(/_/g, '');
  const appCred = !!((merged.applicationCredentialId || merged.applicationCredentialName) && merged.applicationCredentialSecret);
  let useAppCred: boolean;
  if (authType === '') useAppCred = appCred;
  else if (authType === 'password') useAppCred = false;
  else if (authType === 'applicationcredential') useAppCred = true;
  else throw new ConfigError(`unsupported auth_type "${merged.authType}": only password and v3applicationcredential are supported`);

  const cfg: CloudConfig = {
    authUrl: merged.authUrl,
    interface: merged.interface ?? 'public',
    insecure: merged.insecure ?? false,
    timeoutMs: merged.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    attempts: merged.attempts ?? DEFAULT_ATTEMPTS,
  };
  const copy = (keys: (keyof CloudConfig)[]) => {
    for (const k of keys) if (merged[k] !== undefined && merged[k] !== '') (cfg as unknown as Record<string, unknown>)[k] = merged[k];
  };
  copy(['regionName', 'cacert', 'tokenCacheDir', 'retryDelayMs']);

  if (useAppCred) {
    if (!merged.applicationCredentialSecret || !(merged.applicationCredentialId || merged.applicationCredentialName)) {
      throw new ConfigError('application credential auth needs application_credential_secret and application_credential_id (or _name)');
    }
    copy(['applicationCredentialId', 'applicationCredentialName', 'applicationCredentialSecret']);
    if (!cfg.applicationCredentialId) {
      // a credential looked up by name belongs to a user, who must be named
      if (!merged.username && !merged.userId) {
        throw new ConfigError('application_credential_name needs the user (username and user domain, or user_id); or use application_credential_id');
      }
      copy(['username', 'userId', 'userDomainName', 'userDomainId']);
      if (cfg.username && !cfg.userDomainId && !cfg.userDomainName) cfg.userDomainName = 'Default';
    }
  } else {
    if (!merged.password) {
      throw new ConfigError(`no credentials: set a password (agent parameter, clouds.yaml or OS_PASSWORD) or an application credential id and secret`);
    }
    if (!merged.username && !merged.userId) throw new ConfigError(`no username: set it in ${where} OS_USERNAME`);
    copy(['username', 'userId', 'password', 'userDomainName', 'userDomainId', 'projectName', 'projectId',
      'projectDomainName', 'projectDomainId']);
    if (cfg.username && !cfg.userDomainId && !cfg.userDomainName) cfg.userDomainName = 'Default';
    if (cfg.projectName && !cfg.projectDomainId && !cfg.projectDomainName) cfg.projectDomainName = 'Default';
  }
  if (!Number.isFinite(cfg.timeoutMs) || cfg.timeoutMs <= 0) throw new ConfigError(`invalid timeout: ${cfg.timeoutMs} ms`);
  if (!Number.isInteger(cfg.attempts) || cfg.attempts < 1) throw new ConfigError(`invalid attempts: ${cfg.attempts}`);

  log?.addSecret(cfg.password);
  log?.addSecret(cfg.applicationCredentialSecret);
  return cfg;
}

function paramsLayer(p: CloudParams): Layer {
  return {
    authUrl: p.authUrl || undefined,
    username: p.username || undefined,
    password: p.password || undefined,
    projectName: p.projectName || undefined,
    userDomainName: p.userDomain || undefined,
    projectDomainName: p.projectDomain || undefined,
    applicationCredentialId: p.applicationCredentialId || undefined,
    applicationCredentialSecret: p.applicationCredentialSecret || undefined,
    regionName: p.regionName || undefined,
    interface: p.endpointType ? parseInterface(p.endpointType) : undefined,
    insecure: p.insecure,
    cacert: p.cacert || undefined,
    timeoutMs: p.timeoutMs,
    attempts: p.attempts,
    retryDelayMs: p.retryDelayMs,
    tokenCacheDir: p.tokenCacheDir || undefined,
  };
}

function envLayer(env: NodeJS.ProcessEnv): Layer {
  const e = (k: string) => (env[k] ? env[k] : undefined);
  const iface = e('OS_INTERFACE') ?? e('OS_ENDPOINT_TYPE');
  return {
    authUrl: e('OS_AUTH_URL'),
    authType: e('OS_AUTH_TYPE'),
    username: e('OS_USERNAME'),
    userId: e('OS_USER_ID'),
    password: e('OS_PASSWORD'),
    projectName: e('OS_PROJECT_NAME') ?? e('OS_TENANT_NAME'),
    projectId: e('OS_PROJECT_ID') ?? e('OS_TENANT_ID'),
    userDomainName: e('OS_USER_DOMAIN_NAME') ?? e('OS_DOMAIN_NAME'),
    userDomainId: e('OS_USER_DOMAIN_ID') ?? e('OS_DOMAIN_ID'),
    projectDomainName: e('OS_PROJECT_DOMAIN_NAME') ?? e('OS_DOMAIN_NAME'),
    projectDomainId: e('OS_PROJECT_DOMAIN_ID') ?? e('OS_DOMAIN_ID'),
    applicationCredentialId: e('OS_APPLICATION_CREDENTIAL_ID'),
    applicationCredentialName: e('OS_APPLICATION_CREDENTIAL_NAME'),
    applicationCredentialSecret: e('OS_APPLICATION_CREDENTIAL_SECRET'),
    regionName: e('OS_REGION_NAME'),
    interface: iface ? parseInterface(iface, e('OS_INTERFACE') ? 'OS_INTERFACE' : 'OS_ENDPOINT_TYPE') : undefined,
    cacert: e('OS_CACERT'),
    insecure: e('OS_INSECURE') !== undefined ? isTrue(e('OS_INSECURE')) : undefined,
  };
}

/** clouds.yaml locations in openstacksdk's order (the first existing file is used). */
export function configSearchPaths(fileName: 'clouds.yaml' | 'secure.yaml', env: NodeJS.ProcessEnv, cwd = process.cwd()): string[] {
  const home = env.HOME || os.homedir();
  const userDir = env.XDG_CONFIG_HOME ? path.join(env.XDG_CONFIG_HOME, 'openstack') : path.join(home, '.config', 'openstack');
  const override = fileName === 'clouds.yaml' ? env.OS_CLIENT_CONFIG_FILE : env.OS_CLIENT_SECURE_FILE;
  return [
    ...(override ? [override] : []),
    path.join(cwd, fileName),
    path.join(userDir, fileName),
    path.join('/etc/openstack', fileName),
  ];
}

function readYamlFile(candidates: string[], log?: Logger): { file: string; data: YamlValue } | undefined {
  for (const file of candidates) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new ConfigError(`cannot read ${file}: ${(e as Error).message}`);
    }
    log?.debug(`reading cloud configuration from ${file}`);
    try {
      return { file, data: parseYaml(text, file) };
    } catch (e) {
      throw new ConfigError(`cannot parse ${(e as Error).message}`);
    }
  }
  return undefined;
}

type YamlMap = { [k: string]: YamlValue };
const isMap = (v: YamlValue | undefined): v is YamlMap => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);

function deepMerge(base: YamlMap, over: YamlMap): YamlMap {
  const out: YamlMap = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function yamlLayer(cloudName: string, env: NodeJS.ProcessEnv, log?: Logger): Layer {
  const cloudsPaths = configSearchPaths('clouds.yaml', env);
  const clouds = readYamlFile(cloudsPaths, log);
  const secure = readYamlFile(configSearchPaths('secure.yaml', env), log);
  const pick = (doc: { file: string; data: YamlValue } | undefined): YamlMap | undefined => {
    if (!doc) return undefined;
    if (!isMap(doc.data) || (doc.data.clouds !== undefined && doc.data.clouds !== null && !isMap(doc.data.clouds))) {
      throw new ConfigError(`${doc.file}: expected a "clouds:" mapping at the top level`);
    }
    const entry = isMap(doc.data.clouds) ? doc.data.clouds[cloudName] : undefined;
    if (entry !== undefined && entry !== null && !isMap(entry)) throw new ConfigError(`${doc.file}: cloud "${cloudName}" is not a mapping`);
    return entry ?? undefined;
  };
  const main = pick(clouds);
  const sec = pick(secure);
  if (!main && !sec) {
    throw new ConfigError(clouds
      ? `cloud "${cloudName}" not found in ${clouds.file}`
      : `cloud "${cloudName}" requested but no clouds.yaml found (looked in ${cloudsPaths.join(', ')})`);
  }
  const c = deepMerge(main ?? {}, sec ?? {});
  if (c.profile) log?.debug(`clouds.yaml: vendor profile "${String(c.profile)}" of cloud "${cloudName}" is ignored`);
  const auth: YamlMap = isMap(c.auth) ? c.auth : {};
  const s = (v: YamlValue | undefined): string | undefined =>
    v === undefined || v === null || v === '' ? undefined : typeof v === 'object' ? undefined : String(v);
  const region = s(c.region_name) ?? firstRegion(c.regions);
  const iface = s(c.interface) ?? s(c.endpoint_type);
  let insecure: boolean | undefined;
  if (c.insecure !== undefined && c.insecure !== null) insecure = c.insecure === true || isTrue(String(c.insecure));
  if (c.verify !== undefined && c.verify !== null) {
    const verify = c.verify === true || (c.verify !== false && isTrue(String(c.verify)));
    if (insecure === undefined) insecure = !verify;
  }
  const timeout = s(c.api_timeout) ?? s(c.timeout);
  return {
    authUrl: s(auth.auth_url),
    authType: s(c.auth_type),
    username: s(auth.username) ?? s(auth.user_name),
    userId: s(auth.user_id),
    password: s(auth.password),
    projectName: s(auth.project_name) ?? s(auth.tenant_name),
    projectId: s(auth.project_id) ?? s(auth.tenant_id),
    userDomainName: s(auth.user_domain_name) ?? s(auth.domain_name),
    userDomainId: s(auth.user_domain_id) ?? s(auth.domain_id),
    projectDomainName: s(auth.project_domain_name) ?? s(auth.domain_name),
    projectDomainId: s(auth.project_domain_id) ?? s(auth.domain_id),
    applicationCredentialId: s(auth.application_credential_id),
    applicationCredentialName: s(auth.application_credential_name),
    applicationCredentialSecret: s(auth.application_credential_secret),
    regionName: region,
    interface: iface ? parseInterface(iface, `interface of cloud "${cloudName}"`) : undefined,
    insecure,
    cacert: s(c.cacert),
    timeoutMs: timeout !== undefined && Number(timeout) > 0 ? Math.round(Number(timeout) * 1000) : undefined,
  };
}

function firstRegion(regions: YamlValue | undefined): string | undefined {
  if (!Array.isArray(regions) || regions.length === 0) return undefined;
  const r = regions[0];
  if (isMap(r)) return r.name === undefined || r.name === null ? undefined : String(r.name);
  return r === null ? undefined : String(r);
}
