/**
 * Health checks of the service agents (lib/daemon.ts runs them): plain HTTP probes of a local API, authenticated API
 * calls (Keystone v3 token, then the service), and os-services state in Cinder or Nova. Also the OpenStack
 * credential parameters of these agents, with the names of the reference openstack-resource-agents (os_username,
 * os_password, os_tenant_name, keystone_get_token_url) plus Keystone v3 (auth_url, project_name, domains, cloud).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { OCF, OcfError, stateFile, touchStateFile, type OcfContext, type OcfParam } from '../runtime/ocf/index';
import {
  ConfigError, ENDPOINT_TYPES, OpenStackError, cloudParamsFromSettings, openCloud, resolveCloudConfig,
  type CloudParams, type CinderService, type NovaService,
} from '../openstack/index';
import { openstackTimeMs } from '../core/time';
import { iniValue, localHostname, type DaemonRecord, type Health } from './engine';

const AUTH_NOTE = 'The health check authenticates when os_username and os_password (or cloud) are set; without ' +
  'credentials it only checks that the process runs and its API answers.';

/** Credential parameters; `tokenUrlDefault` is the reference default of keystone_get_token_url (cinder-api). */
export function authParams(title: string, tokenUrlDefault?: string): OcfParam[] {
  return [
    { name: 'keystone_get_token_url', type: 'string', default: tokenUrlDefault, shortdesc: 'Keystone URL to get a token for monitoring', longdesc: `Keystone URL used to acquire a token for monitoring ${title}. A Keystone v2.0 URL of the old agents (http://VIP:5000/v2.0/tokens) is used as the v3 API at the same place (http://VIP:5000/v3). auth_url takes precedence. ${AUTH_NOTE}` },
    { name: 'os_username', type: 'string', shortdesc: 'Monitoring user name', longdesc: `The user name to use when connecting to ${title} for monitoring purposes.` },
    { name: 'os_password', type: 'string', secret: true, shortdesc: 'Monitoring password', longdesc: `The password of os_username. Prefer cloud with a clouds.yaml readable by root only, so that no password is kept in the CIB.` },
    { name: 'os_tenant_name', type: 'string', aliasOf: 'project_name', shortdesc: 'Monitoring tenant (project)', longdesc: 'The tenant (Keystone v3 project) to use when connecting for monitoring purposes.' },
    { name: 'auth_url', type: 'string', shortdesc: 'Keystone v3 URL', longdesc: 'Keystone URL, e.g. http://VIP:5000/v3 (wins over keystone_get_token_url).' },
    { name: 'project_name', type: 'string', shortdesc: 'Project name', longdesc: 'Keystone v3 project of the monitoring user (os_tenant_name is the old name).' },
    { name: 'user_domain', type: 'string', default: 'Default', shortdesc: 'Keystone v3 user domain', longdesc: 'Keystone v3 user domain name.' },
    { name: 'project_domain', type: 'string', default: 'Default', shortdesc: 'Keystone v3 project domain', longdesc: 'Keystone v3 project domain name.' },
    { name: 'cloud', type: 'string', shortdesc: 'Cloud name in clouds.yaml', longdesc: 'Name of an entry in clouds.yaml (/etc/openstack/clouds.yaml, ~/.config/openstack/clouds.yaml), used for whatever connection parameters are left unset.' },
    { name: 'region_name', type: 'string', shortdesc: 'Region name', longdesc: 'Region of the service catalog to use.' },
    { name: 'endpoint_type', type: 'string', default: 'internalURL', values: ENDPOINT_TYPES, shortdesc: 'Catalog interface', longdesc: 'Which endpoint of the service catalog to use for os-services queries.' },
    { name: 'insecure', type: 'boolean', default: 'false', shortdesc: 'Allow insecure TLS requests', longdesc: 'Do not verify the TLS certificates of Keystone and the services.' },
  ];
}

/** Credentials configured: a cloud (parameter or OS_CLOUD), or a user name / password. */
export function hasCredentials(ctx: OcfContext): boolean {
  return !!(ctx.str('cloud') || ctx.env.OS_CLOUD || ctx.str('os_username') || ctx.str('os_password'));
}

/** http://VIP:5000/v2.0/tokens → http://VIP:5000/v3 (also …/v3/auth/tokens, …/v2.0, …/). */
export function v3AuthUrl(url: string): string {
  let u = url.trim().replace(/\/+$/, '');
  u = u.replace(/\/(v2\.0|v3)(\/auth)?\/tokens$/, '').replace(/\/(v2\.0|v3)$/, '');
  return `${u}/v3`;
}

/** Per-request timeout of health checks: a third of the action's remaining time, between 2 and 10 s. */
function requestTimeoutMs(ctx: OcfContext): number {
  const left = ctx.remaining();
  if (left === undefined) return 10000;
  return Math.min(10000, Math.max(2000, (left * 1000) / 3));
}

/** CloudParams from the agent's parameters (one attempt per request, short timeouts: a monitor must not hang). */
export function serviceCloudParams(ctx: OcfContext): CloudParams {
  let authUrl = ctx.str('auth_url') || undefined;
  const tokenUrl = ctx.str('keystone_get_token_url');
  if (!authUrl && tokenUrl && (ctx.given.has('keystone_get_token_url') || !(ctx.str('cloud') || ctx.env.OS_CLOUD))) {
    authUrl = v3AuthUrl(tokenUrl);
    if (!/\/v3\/?$/.test(tokenUrl)) noteMapping(ctx, tokenUrl, authUrl);
  }
  return cloudParamsFromSettings((n) => ctx.str(n), {
    names: { username: 'os_username', password: 'os_password', projectName: 'project_name' },
    authUrl, insecure: ctx.bool('insecure'), timeoutMs: requestTimeoutMs(ctx), attempts: 1,
  });
}

/** Log the v2.0 → v3 mapping once per resource (remembered in a state file). */
function noteMapping(ctx: OcfContext, from: string, to: string): void {
  const file = stateFile(ctx, 'keystone-v3');
  let seen = '';
  try { seen = fs.readFileSync(file, 'utf8').trim(); } catch { /* first time */ }
  if (seen === to) return;
  ctx.log.info(`keystone_get_token_url ${from} is not a Keystone v3 URL: using the v3 API at ${to}`);
  try { touchStateFile(file, `${to}\n`); } catch { /* state dir not writable: logged again next time */ }
}

/** validate-all: partial or unresolvable credentials are a configuration error. */
export function validateCredentials(ctx: OcfContext): void {
  if (!hasCredentials(ctx)) return;
  if (!ctx.str('cloud') && !ctx.env.OS_CLOUD) {
    const missing = ['os_username', 'os_password'].filter((n) => !ctx.str(n));
    if (missing.length) throw new OcfError(OCF.ERR_CONFIGURED, `${missing.join(' and ')} not set (set os_username and os_password, or cloud)`);
  }
  try {
    resolveCloudConfig(serviceCloudParams(ctx), ctx.env);
  } catch (e) {
    if (e instanceof ConfigError) throw new OcfError(OCF.ERR_CONFIGURED, e.message);
    throw e;
  }
}

/** Unauthenticated GET; healthy when the status is one of `expect`. */
export function httpProbe(url: string, expect: readonly number[], timeoutMs: number, insecure = false): Promise<Health> {
  return new Promise((resolve) => {
    let u: URL;
    try { u = new URL(url); } catch { resolve({ ok: false, reason: `invalid URL ${url}` }); return; }
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.get(u, { timeout: timeoutMs, headers: { Accept: 'application/json', Connection: 'close' }, rejectUnauthorized: !insecure } as https.RequestOptions, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(expect.includes(status) ? { ok: true } : { ok: false, reason: `GET ${url} returned HTTP ${status}` });
    });
    req.on('timeout', () => { req.destroy(new Error(`timed out after ${timeoutMs} ms`)); });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, reason: `GET ${url}: connection failed (${e.code ?? e.message})` }));
  });
}

/** What a failed OpenStack call says, with its HTTP status (0: connection error). */
function failure(e: unknown, ctx: OcfContext): Health {
  if (e instanceof OpenStackError) return { ok: false, reason: ctx.log.scrub(e.status ? `${e.message}` : `${e.message} (no HTTP response)`) };
  if (e instanceof ConfigError) return { ok: false, reason: ctx.log.scrub(e.message) };
  throw e;
}

/** Authenticated GET of a URL; healthy on HTTP 200 only. */
export async function authedGet(ctx: OcfContext, url: string): Promise<Health> {
  const cloud = openCloud(serviceCloudParams(ctx), ctx.log, ctx.env);
  try {
    const res = await cloud.get(url);
    return res.status === 200 ? { ok: true } : { ok: false, reason: `GET ${url} returned HTTP ${res.status}` };
  } catch (e) {
    return failure(e, ctx);
  } finally {
    cloud.close();
  }
}

/** cinder-api: list volume types at the local API (url), which must answer 200. */
export async function cinderApiHealth(ctx: OcfContext): Promise<Health> {
  const url = ctx.str('url');
  if (!hasCredentials(ctx)) {
    const root = new URL(url);
    root.pathname = '/';
    root.search = '';
    return httpProbe(root.href, [200, 300], requestTimeoutMs(ctx), ctx.bool('insecure'));
  }
  const cloud = openCloud(serviceCloudParams(ctx), ctx.log, ctx.env);
  try {
    await cloud.cinder({ endpoint: url }).listVolumeTypes();
    return { ok: true };
  } catch (e) {
    return failure(e, ctx);
  } finally {
    cloud.close();
  }
}

/** The host name a service registers under: the host parameter, else [DEFAULT] host of its config, else hostname. */
export function serviceHost(ctx: OcfContext): string {
  return ctx.str('host') || iniValue(ctx.str('config'), 'DEFAULT', 'host') || localHostname();
}

/** Cinder's updated_at ("2026-11-21T19:58:03.000000", UTC) in epoch ms. */
export const serviceTime = openstackTimeMs;

/** Seconds of clock difference tolerated when telling a report of our daemon from one of a previous holder. */
const REPORT_SLACK_MS = 2000;

export interface ServiceWanted { binary: string; hosts: string[]; backendPrefix?: string }

/**
 * Judge os-services entries: every wanted host present, up and enabled (for cinder-volume without a backend list:
 * every HOST@* entry, at least one). During start, each must also have reported since the daemon started; with
 * `seen` (cinder-volume), twice, in seconds after the start's.
 */
export function judgeServices(list: (CinderService | NovaService)[], want: ServiceWanted, startedAt: number | undefined,
  seen?: Map<string, Set<number>>): Health {
  const mine = list.filter((s) => s.binary === want.binary);
  let entries: (CinderService | NovaService)[];
  const names: string[] = [];
  if (want.backendPrefix !== undefined) {
    entries = mine.filter((s) => s.host.startsWith(`${want.backendPrefix}@`));
    if (entries.length === 0) return { ok: false, reason: `no ${want.binary} service ${want.backendPrefix}@<backend> in os-services` };
    names.push(...entries.map((s) => s.host));
  } else {
    entries = [];
    for (const h of want.hosts) {
      const e = mine.find((s) => s.host === h);
      if (!e) return { ok: false, reason: `no ${want.binary} service on host ${h} in os-services` };
      entries.push(e);
      names.push(h);
    }
  }
  for (const e of entries) {
    const label = `${want.binary} on ${e.host}`;
    if (e.status !== 'enabled') return { ok: false, reason: `${label} is disabled${e.disabledReason ? ` (${e.disabledReason})` : ''}` };
    if (e.state !== 'up') return { ok: false, reason: `${label} is down (last report ${e.updatedAt ?? 'never'})` };
    if (startedAt !== undefined && !(serviceTime(e.updatedAt) >= startedAt - REPORT_SLACK_MS)) {
      return { ok: false, reason: `${label} has not reported since the daemon started (last report ${e.updatedAt ?? 'never'})` };
    }
    if (startedAt !== undefined && seen !== undefined) {
      // updated_at has a 1 s resolution and the first write comes before the driver is initialised: wait for a
      // second, later report (the periodic one, after init_host) in a later second than the start
      const t = serviceTime(e.updatedAt);
      const times = seen.get(e.host) ?? new Set<number>();
      if (t >= Math.floor(startedAt / 1000) * 1000 + 1000) times.add(t);
      seen.set(e.host, times);
      if (times.size < 2) return { ok: false, reason: `${label} has not reported twice since the daemon started (last report ${e.updatedAt ?? 'never'})` };
    }
  }
  return { ok: true };
}

/** Reports seen per cinder-volume host during this process's start (see judgeServices). */
const seenDuringStart = new Map<string, Set<number>>();

/** Cinder os-services health of this agent's service (cinder-scheduler, cinder-backup, cinder-volume). */
export async function cinderServicesHealth(ctx: OcfContext, rec: DaemonRecord, binary: string, starting: boolean): Promise<Health> {
  if (!hasCredentials(ctx)) return { ok: true };
  const host = serviceHost(ctx);
  const want: ServiceWanted = { binary, hosts: [host] };
  if (binary === 'cinder-volume') {
    const backends = (ctx.str('backends') || iniValue(ctx.str('config'), 'DEFAULT', 'enabled_backends'))
      .split(',').map((b) => b.trim()).filter(Boolean);
    // a backend section's backend_host overrides [DEFAULT] host (not the host parameter)
    const hostOf = (b: string) => ctx.str('host') || iniValue(ctx.str('config'), b, 'backend_host') || host;
    if (backends.length) want.hosts = backends.map((b) => `${hostOf(b)}@${b}`);
    else want.backendPrefix = host;
  }
  const cloud = openCloud(serviceCloudParams(ctx), ctx.log, ctx.env);
  try {
    const list = await cloud.cinder().listServices({ binary });
    return judgeServices(list, want, starting ? rec.startedAt : undefined, binary === 'cinder-volume' ? seenDuringStart : undefined);
  } catch (e) {
    return failure(e, ctx);
  } finally {
    cloud.close();
  }
}

/** Nova os-services health (nova-scheduler, nova-conductor). */
export async function novaServicesHealth(ctx: OcfContext, rec: DaemonRecord, binary: string, starting: boolean): Promise<Health> {
  if (!hasCredentials(ctx)) return { ok: true };
  const host = serviceHost(ctx);
  const cloud = openCloud(serviceCloudParams(ctx), ctx.log, ctx.env);
  try {
    const list = await cloud.nova().listServices({ binary, host });
    return judgeServices(list, { binary, hosts: [host] }, starting ? rec.startedAt : undefined);
  } catch (e) {
    return failure(e, ctx);
  } finally {
    cloud.close();
  }
}

/** A plain API probe, or with credentials an authenticated GET of `authedPath` at the same place. */
export async function apiHealth(ctx: OcfContext, expect: readonly number[], authedPath?: string): Promise<Health> {
  const url = ctx.str('url');
  if (authedPath && hasCredentials(ctx)) {
    const u = new URL(url);
    u.pathname = authedPath;
    u.search = '';
    const withQuery = authedPath.includes('?') ? `${u.origin}${authedPath}` : u.href;
    return authedGet(ctx, withQuery);
  }
  return httpProbe(url, expect, requestTimeoutMs(ctx), ctx.bool('insecure'));
}
