/** Keystone v3: token requests (password or application credential) and service catalog lookups. */
import type { Logger } from '../core/log';
import { ConfigError } from './config';
import type { HttpClient } from './http';
import { OpenStackError, type CloudConfig, type Interface } from './types';

export interface CatalogEndpoint { id?: string; interface: string; region_id?: string | null; region?: string | null; url: string }
export interface CatalogService { type: string; name?: string; id?: string; endpoints: CatalogEndpoint[] }

export interface TokenInfo {
  token: string;
  /** ISO 8601, as Keystone returns it */
  expiresAt: string;
  catalog: CatalogService[];
}

/** The auth URL with a /v3 suffix (a /v2.0 suffix of the old agents' configuration is replaced). */
export function normalizeAuthUrl(authUrl: string): string {
  let u = authUrl.trim().replace(/\/+$/, '');
  if (/\/v2\.0$/.test(u)) u = u.slice(0, -'/v2.0'.length);
  if (!/\/v3$/.test(u)) u += '/v3';
  return u;
}

/** Who we authenticate as, for messages (never contains a secret). */
export function describeIdentity(c: CloudConfig): string {
  if (c.applicationCredentialSecret && (c.applicationCredentialId || c.applicationCredentialName)) {
    return `application credential ${c.applicationCredentialId ?? c.applicationCredentialName}`;
  }
  return `user ${c.username ?? c.userId}`;
}

const domain = (id?: string, name?: string) => (id ? { id } : name ? { name } : undefined);

/** The POST /v3/auth/tokens body for this configuration. */
export function tokenRequestBody(c: CloudConfig): unknown {
  const userRef = (): Record<string, unknown> => {
    if (c.userId) return { id: c.userId };
    const d = domain(c.userDomainId, c.userDomainName ?? 'Default');
    return { name: c.username, domain: d };
  };
  if (c.applicationCredentialSecret && (c.applicationCredentialId || c.applicationCredentialName)) {
    const cred: Record<string, unknown> = c.applicationCredentialId
      ? { id: c.applicationCredentialId, secret: c.applicationCredentialSecret }
      : { name: c.applicationCredentialName, secret: c.applicationCredentialSecret, user: userRef() };
    // an application credential carries its own project scope: sending one is an error
    return { auth: { identity: { methods: ['application_credential'], application_credential: cred } } };
  }
  const auth: Record<string, unknown> = {
    identity: { methods: ['password'], password: { user: { ...userRef(), password: c.password } } },
  };
  if (c.projectId) auth.scope = { project: { id: c.projectId } };
  else if (c.projectName) auth.scope = { project: { name: c.projectName, domain: domain(c.projectDomainId, c.projectDomainName ?? 'Default') } };
  return { auth };
}

/** Request a new token. */
export async function authenticate(http: HttpClient, c: CloudConfig, log: Logger): Promise<TokenInfo> {
  const url = `${normalizeAuthUrl(c.authUrl)}/auth/tokens`;
  const who = describeIdentity(c);
  log.debug(`requesting a Keystone token for ${who} at ${url}`);
  let res;
  try {
    // A token request is safe to repeat: each one only creates a token.
    res = await http.request({ method: 'POST', url, body: tokenRequestBody(c), idempotent: true, closeConnection: true });
  } catch (e) {
    if (e instanceof OpenStackError && e.status === 401) {
      throw new OpenStackError(log.scrub(`authentication failed for ${who} at ${url}: ${e.message}`), 401, e.requestId);
    }
    throw e;
  }
  const token = res.headers.get('x-subject-token');
  const body = res.body as { token?: { expires_at?: string; catalog?: CatalogService[] } } | null;
  if (!token || !body?.token?.expires_at) {
    throw new OpenStackError(`POST ${url}: Keystone answered ${res.status} without a token`, res.status, res.requestId);
  }
  log.addSecret(token);
  if (!Array.isArray(body.token.catalog) || body.token.catalog.length === 0) {
    throw new ConfigError(`Keystone token for ${who} at ${url} has no service catalog: set a project (project_name or project_id)`);
  }
  return { token, expiresAt: body.token.expires_at, catalog: body.token.catalog };
}

/** The endpoint URL for a service type, interface and (optional) region. */
export function findEndpoint(catalog: CatalogService[], serviceType: string, iface: Interface, region?: string): string {
  const regionOk = (e: CatalogEndpoint) => !region || e.region_id === region || e.region === region;
  for (const svc of catalog) {
    if (svc.type !== serviceType) continue;
    const ep = (svc.endpoints ?? []).find((e) => e.interface === iface && regionOk(e));
    if (ep) return ep.url;
  }
  throw new ConfigError(`no ${iface} endpoint for service type ${serviceType} in ${region ? `region ${region}` : 'any region'}`);
}
