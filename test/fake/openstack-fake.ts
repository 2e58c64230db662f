/**
 * An in-process fake of the parts of Keystone v3, Nova and Glance v2 the agents use, on one HTTP(S) server bound to
 * 127.0.0.1. Response shapes, headers and status codes follow a real Zed deployment (see test/fixtures/openstack-zed
 * and test/unit/fake-fixtures.test.ts, which holds the fake to them).
 *
 * Layout (PORT random unless opts.port):
 *   /identity/v3/...            Keystone (the auth URL)
 *   /compute/v2.1/...           Nova
 *   /image/v2/...               Glance
 *   /network/v2.0/...           Neutron (test/fake/neutron-fake.ts)
 *   /_fake/...                  control API for tests running outside this process
 * The catalog's internal and admin endpoints carry the prefixes /internal and /admin, and regions other than the
 * first the prefix /region-NAME, so tests can see which endpoint a client chose (RecordedRequest.iface/region).
 *
 * Behaviour held to real Nova (Zed): evacuating a server whose host's nova-compute is up → 400 "Compute service of H
 * is still in use."; only vm_state active, stopped or error can be evacuated (an instance left in ERROR by a failed
 * evacuation can be evacuated again), one already rebuilding → 409. An accepted evacuation creates a migration of
 * type evacuation (status "accepted", task_state rebuilding); at evacuateDelayMs/2 the scheduler picks the least loaded
 * up and enabled nova-compute other than the source (or the requested `host`, microversion >= 2.29: 404 when it does
 * not exist, 400 when it is the source; it too must be up and enabled unless `force` (2.29-2.67) was given) and the
 * migration goes "pre-migrating" with its dest_compute; at evacuateDelayMs the server is on the destination (SHUTOFF
 * stays SHUTOFF) and the migration "done". No valid host (nova/conductor/manager.py rebuild_instance, Zed): the
 * migration goes "error", the server stays on its source host with task_state null and vm_state error (with
 * `force`, the conductor's forced-host branch leaves vm_state unchanged). Microversions above the maximum → 406;
 * expired or revoked tokens → 401. os-migrations filters (instance_uuid, migration_type, source_compute, host, status,
 * hidden, changes-since/changes-before from 2.59/2.66, user_id/project_id from 2.80) and pages (limit/marker from
 * 2.59, newest first) like Nova; os-aggregates (list, show, create, update, delete, add_host, remove_host,
 * set_metadata; uuid from 2.41). Server actions os-stop (vm_state active or error) and os-start (vm_state stopped), task
 * state none, else 409 "Cannot 'stop' instance ID while it is in vm_state stopped" (nova/api/openstack/common.py
 * raise_http_conflict_for_instance_invalid_state); accepted: 202 without a body, task_state powering-off/powering-on,
 * and after powerDelayMs SHUTOFF/ACTIVE, once the server's nova-compute is up (the RPC cast waits in the queue).
 * GET /servers/detail takes name (a regular expression), status, limit and marker; all_tenants and host for admins.
 *
 * Fault injection and scenario set-up (FakeState method → /_fake route, JSON body):
 *   addServers(host, n, {status, flavor, image, name})  POST /_fake/servers {host, count, status, flavor, image, name}
 *   addComputeHost(host)                             POST /_fake/hosts {names: [..]} or {count, prefix}
 *   killService(host, binary?) / reviveService(..)   POST /_fake/kill {host, binary} / POST /_fake/revive {host, binary}
 *       binary defaults to nova-compute; with opts.controlServices (serve --control-services) nova-scheduler and
 *       nova-conductor run on host "controller" (zone internal) and can be killed/revived the same way
 *       (also stopService/startService). Conductor down: accepted evacuations wait (RPC cast queued) until it is
 *       back; scheduler down when the conductor schedules: the evacuation stays accepted/rebuilding (Nova's
 *       MessagingTimeout leaves it stuck)
 *   addAggregate(name, hosts, metadata?)             POST /_fake/aggregates {name, hosts, metadata}
 *   failEvacuations(n, {hostLike, serverIds, kind})  POST /_fake/fail-evacuations {count, hostLike, serverIds, kind}
 *       the next n accepted evacuations (of servers whose source host matches the regex hostLike / whose id is in
 *       serverIds) fail: kind "error" (default) = the rebuild fails on the destination (server ERROR on the
 *       destination, migration "failed"); "novalidhost" = the scheduler finds no host (see above, migration "error")
 *   failPowerActions(n, {action, serverIds})         POST /_fake/fail-power-actions {count, action, serverIds}
 *       the next n accepted os-stop/os-start (action "stop" or "start", default both) fail on the compute host: the
 *       task state is reverted and the server stays as it was (Nova's reverts_task_state; no fault shown)
 *   volumes (test/fake/cinder-fake.ts, cinderOf(state)): addVolume, stallAttachments  POST /volume/_control/volume, /stall
 *       Nova's POST/GET /servers/ID/os-volume_attachments and DELETE .../VOLUME_ID drive Cinder's attach and detach
 *   failNext(n, status, pathRegex?)                  POST /_fake/fail {count, status, path}        (5xx and others)
 *   hangNext(n, pathRegex?)                          POST /_fake/hang {count, path}   never answered (until close)
 *   resetNext(n, pathRegex?)                         POST /_fake/reset {count, path}  connection destroyed
 *   latencyMs = ms                                   POST /_fake/latency {ms}
 *   keystoneDown = bool                              POST /_fake/keystone {down}
 *   revokeAllTokens() / expireTokens()               POST /_fake/revoke / POST /_fake/expire-tokens   (then 401)
 *   resetRequests()                                  POST /_fake/reset-requests
 *   dump()                                           GET /_fake/state
 * Path regexes are tested on the request path (after the interface/region prefix) plus "?query".
 *
 * Scale: servers are indexed by id and by host (listing a host is O(servers on that host)), services by host, so
 * thousands of hosts and tens of thousands of servers stay fast (see test/unit/openstack-fake-ext.test.ts).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { cinderOf, cinderRoute, type CinderFakeAttachment } from './cinder-fake';
import { neutronRoute } from './neutron-fake';

export interface FakeOptions {
  /** 0 (default) picks a free port */
  port?: number;
  /** compute hosts compute1..N (default 3) */
  hosts?: number;
  /** also list nova-scheduler and nova-conductor on host "controller" (zone internal) in os-services (default false) */
  controlServices?: boolean;
  /** more compute hosts, by name (e.g. the cluster's own node name) */
  extraHosts?: string[];
  /** highest compute microversion (default "2.93"); the lowest is 2.1 */
  maxMicroversion?: string;
  /** token lifetime (default 3600 s) */
  tokenTtlSec?: number;
  /** time an accepted evacuation takes (default 50 ms) */
  evacuateDelayMs?: number;
  /** time an accepted os-stop / os-start takes on an up nova-compute (default 30 ms) */
  powerDelayMs?: number;
  /** after killService(host), the service is reported down only after this long (default 0) */
  serviceDownMs?: number;
  /** largest page Nova and Glance return, like osapi_max_limit / api_limit_max (default 1000) */
  pageSize?: number;
  /** serve HTTPS with this key and certificate (PEM) */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** catalog regions (default ["RegionOne"]) */
  regions?: string[];
  /** servers to create at start: host → count */
  serversOn?: Record<string, number>;
  /** password of the admin user (default "admin") */
  adminPassword?: string;
}

export interface FakeUser {
  id: string; name: string; password: string; domainId: string; projectId: string; projectName: string; roles: string[];
}
export interface FakeAppCredential { id: string; name: string; secret: string; userId: string }
export interface FakeService {
  id: string; legacyId: number; host: string; binary: string; zone: string;
  status: 'enabled' | 'disabled'; disabledReason: string | null; forcedDown: boolean;
  /** set by killService: the time nova-compute stopped reporting */
  killedAt?: number;
  hypervisorId: string; hypervisorLegacyId: number;
}
export interface FakeFlavor {
  id: string; name: string; ram: number; vcpus: number; disk: number; ephemeral: number; swap: number;
  isPublic: boolean; extraSpecs: Record<string, string>; description: string | null;
}
export interface FakeImage { id: string; name: string; tags: string[]; properties: Record<string, string>; visibility: string; owner: string }
export interface FakeServer {
  id: string; name: string; host: string | null; vmState: string; taskState: string | null; powerState: number;
  flavorId: string; imageId: string; tenantId: string; userId: string; created: string; updated: string;
  instanceName: string; fault?: { code: number; message: string; created: string };
}
export interface FakeMigration {
  id: number; uuid: string; instanceUuid: string; source: string; dest: string | null; status: string;
  type: string; created: string; updated: string; userId: string; projectId: string;
  /** hidden migrations (cross-cell bookkeeping) are listed only with ?hidden=1 */
  hidden?: boolean;
}
export interface FakeAggregate {
  id: number; uuid: string; name: string; availabilityZone: string | null; hosts: string[]; metadata: Record<string, string>;
  /** epoch ms */
  created: number;
  /** epoch ms of the last rename / zone change (Nova leaves it null for host and metadata changes) */
  updated: number | null;
}
export interface FailEvacuationsOptions {
  /** regex (or substring) the evacuated server's source host must match */
  hostLike?: string | RegExp;
  /** only these servers */
  serverIds?: string[];
  /** "error" (default): rebuild fails on the destination; "novalidhost": the scheduler finds no host */
  kind?: 'error' | 'novalidhost';
}
export interface RecordedRequest {
  method: string;
  /** path without the interface/region prefix and without the query, e.g. /compute/v2.1/servers/detail */
  path: string;
  /** the query string without "?" */
  query: string;
  /** effective compute microversion (compute requests only) */
  microversion?: string;
  /** 0 when the connection was dropped */
  status: number;
  /** when it arrived (epoch ms) */
  at: number;
  /** parsed JSON body, with passwords and secrets replaced by "***" */
  body?: unknown;
  iface: 'public' | 'internal' | 'admin';
  region: string;
  /** number of the TCP connection the request came on (tells reused connections from new ones) */
  connection: number;
}

interface Token { userId: string; projectId: string | null; expiresAt: number; appCredId?: string }
interface FailRule { remaining: number; status: number; path?: RegExp }
interface NetRule { remaining: number; kind: 'hang' | 'reset'; path?: RegExp }
interface PowerFailRule { remaining: number; action?: 'stop' | 'start'; serverIds?: Set<string> }
interface EvacFailRule { remaining: number; kind: 'error' | 'novalidhost'; hostLike?: RegExp; serverIds?: Set<string> }
interface Reply { status: number; body?: unknown; headers?: Record<string, string>; raw?: string }

const DOMAIN = { id: 'default', name: 'Default' };
/** host of nova-scheduler and nova-conductor (opts.controlServices) */
export const CONTROLLER = 'controller';
const hex32 = () => randomBytes(16).toString('hex');
const novaTime = (t = Date.now()) => new Date(t).toISOString().replace(/\.\d+Z$/, '.000000');
const zTime = (t = Date.now()) => new Date(t).toISOString().replace(/Z$/, '').replace(/\.\d+$/, '') + 'Z';
const keystoneTime = (t: number) => new Date(t).toISOString().replace(/\.\d+Z$/, '.000000Z');
/** 2016-12-27T23:47:32.911000 (aggregates) */
const microTime = (t = Date.now()) => new Date(t).toISOString().replace(/\.(\d+)Z$/, (_m, ms: string) => `.${ms.padEnd(6, '0')}`);
const toRegex = (r: RegExp | string | undefined): RegExp | undefined => (typeof r === 'string' ? new RegExp(r) : r);
/** creation order of servers (Nova lists newest first) */
const SEQ = new WeakMap<FakeServer, number>();

export function parseMv(v: string): number[] {
  const m = /^(\d+)\.(\d+)$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
}
function mvGe(a: string, b: string): boolean {
  const [x, y] = [parseMv(a), parseMv(b)];
  return x[0] !== y[0] ? x[0] > y[0] : x[1] >= y[1];
}

/** Nova's fault names by status (nova/api/openstack/wsgi.py) */
const FAULT: Record<number, string> = {
  400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod', 409: 'conflictingRequest',
  413: 'overLimit', 415: 'badMediaType', 429: 'overLimit', 501: 'notImplemented', 503: 'serviceUnavailable',
};
const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};
/** Nova's faults come as application/json; charset=UTF-8 (recorded: nova_post_os_aggregates_add_unknown_host_mv2.41.json) */
const novaFault = (status: number, message: string): Reply =>
  ({ status, body: { [FAULT[status] ?? 'computeFault']: { code: status, message } }, headers: { 'Content-Type': 'application/json; charset=UTF-8' } });
const keystoneError = (status: number, message: string): Reply =>
  ({ status, body: { error: { code: status, message, title: TITLES[status] ?? 'Error' } } });
const UNAUTHORIZED = 'The request you have made requires authentication.';

/** What the simulator does not model is refused with 501 and says what it is (never a silent wrong answer). */
const NOT_MODELLED = 'The OpenStack simulator (test/fake) does not model';

/**
 * Query parameters the simulator models, by route (request path after the interface/region prefix): any other one is
 * refused with 501. Routes not listed take no query parameters; os-hypervisors checks its own (microversion-gated).
 */
const QUERY_MODELLED: [method: string, path: RegExp, params: string[] | 'own'][] = [
  ['GET', /^\/compute\/v2\.1\/os-services$/, ['host', 'binary']],
  ['GET', /^\/compute\/v2\.1\/os-hypervisors(\/detail)?$/, 'own'],
  ['GET', /^\/compute\/v2\.1\/servers\/detail$/, ['all_tenants', 'host', 'name', 'status', 'limit', 'marker']],
  ['GET', /^\/compute\/v2\.1\/os-migrations$/, ['instance_uuid', 'migration_type', 'source_compute', 'host', 'status', 'hidden',
    'changes-since', 'changes-before', 'user_id', 'project_id', 'limit', 'marker']],
  ['GET', /^\/compute\/v2\.1\/flavors(\/detail)?$/, ['is_public', 'limit', 'marker']],
  ['GET', /^\/image\/v2\/images$/, ['limit', 'marker']],
  ['GET', /^\/volume\/v3(\/[0-9a-f]{32})?\/os-services$/, ['host', 'binary']],
  ['GET', /^\/network\//, 'own'],
];

/** The 501 answer, in the error format of the service the request went to. */
function notModelledReply(state: FakeState, service: string, what: string): Reply {
  const message = `${NOT_MODELLED} ${what}`;
  state.faults.notModelled++;
  state.notModelled.push(what);
  if (service === 'compute') return novaFault(501, message);
  if (service === 'identity') return keystoneError(501, message);
  if (service === 'volume') return { status: 501, body: { notImplemented: { code: 501, message } } };
  return { status: 501, raw: `501 Not Implemented\n\n${message}\n\n`, headers: { 'Content-Type': 'text/plain; charset=UTF-8' } };
}

/** 501 for a route the simulator does not serve. */
function notModelled(ctx: Ctx): Reply {
  const service = ctx.path.split('/')[1] ?? '';
  return notModelledReply(ctx.state, service, `${ctx.method} ${ctx.path}`);
}

/** The 501 answer when the request has query parameters the simulator does not model for its route, else undefined. */
function unmodelledQuery(ctx: Ctx): Reply | undefined {
  const keys = [...new Set(ctx.query.keys())];
  if (!keys.length || ctx.path.startsWith('/_fake/')) return undefined;
  const route = QUERY_MODELLED.find(([m, re]) => m === ctx.method && re.test(ctx.path));
  if (route?.[2] === 'own') return undefined;
  const extra = keys.filter((k) => !(route?.[2] ?? []).includes(k));
  if (!extra.length) return undefined;
  const service = ctx.path.split('/')[1] ?? '';
  return notModelledReply(ctx.state, service, `the query parameter${extra.length > 1 ? 's' : ''} ${extra.join(', ')} of ${ctx.method} ${ctx.path}`);
}

/** Replace password/secret string values (any depth) by "***". */
function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = /^(password|secret|adminPass)$/i.test(k) && (typeof x === 'string' || typeof x === 'number') ? '***' : redact(x);
    return out;
  }
  return v;
}

export class FakeState {
  readonly maxMicroversion: string;
  readonly tokenTtlSec: number;
  readonly evacuateDelayMs: number;
  readonly serviceDownMs: number;
  powerDelayMs: number;
  pageSize: number;
  readonly regions: string[];

  users: FakeUser[] = [];
  appCredentials: FakeAppCredential[] = [];
  services: FakeService[] = [];
  flavors: FakeFlavor[] = [];
  images: FakeImage[] = [];
  servers: FakeServer[] = [];
  migrations: FakeMigration[] = [];
  requests: RecordedRequest[] = [];
  tokens = new Map<string, Token>();
  /** added to every response (not to /_fake) */
  latencyMs = 0;
  /** requests to /identity get their connection destroyed */
  keystoneDown = false;
  failRules: FailRule[] = [];
  netRules: NetRule[] = [];
  evacFailRules: EvacFailRule[] = [];
  powerFailRules: PowerFailRule[] = [];
  aggregates: FakeAggregate[] = [];
  /** faults served: requests left unanswered (hangNext), connections reset (resetNext), injected error answers
   * (failNext), Keystone connections dropped (keystoneDown), evacuations failed on purpose (failEvacuations), power
   * actions failed on purpose (failPowerActions),
   * 501 answers for what the simulator does not model */
  faults = { hangs: 0, resets: 0, injectedFailures: 0, keystoneDrops: 0, evacuationFailures: 0, powerActionFailures: 0, notModelled: 0 };
  /** what was refused with 501 ("GET /compute/v2.1/os-hosts", "the query parameter x of GET ...") */
  notModelled: string[] = [];
  /** sockets of requests held by hangNext (destroyed on close) */
  readonly hung = new Set<import('node:net').Socket>();
  /** set once listening: http(s)://127.0.0.1:PORT */
  baseUrl = '';
  readonly timers = new Set<NodeJS.Timeout>();
  private serverSeq = 0;
  private readonly byId = new Map<string, FakeServer>();
  private readonly byHost = new Map<string | null, Set<FakeServer>>();
  private readonly serviceByHost = new Map<string, FakeService>();
  /** evacuations claimed on a destination and not finished yet (the scheduler counts them, like placement allocations) */
  readonly claims = new Map<string, number>();

  constructor(opts: FakeOptions = {}) {
    this.maxMicroversion = opts.maxMicroversion ?? '2.93';
    this.tokenTtlSec = opts.tokenTtlSec ?? 3600;
    this.evacuateDelayMs = opts.evacuateDelayMs ?? 50;
    this.serviceDownMs = opts.serviceDownMs ?? 0;
    this.powerDelayMs = opts.powerDelayMs ?? 30;
    this.pageSize = opts.pageSize ?? 1000;
    this.regions = opts.regions?.length ? opts.regions : ['RegionOne'];
    this.addUser('admin', opts.adminPassword ?? 'admin', 'admin', ['admin', 'reader', 'member']);
    if (opts.controlServices) for (const b of ['nova-scheduler', 'nova-conductor']) this.addService(CONTROLLER, b);
    for (let i = 1; i <= (opts.hosts ?? 3); i++) this.addComputeHost(`compute${i}`);
    for (const h of opts.extraHosts ?? []) this.addComputeHost(h);
    this.addFlavor({ id: '1', name: 'm1.tiny', ram: 512, disk: 1 });
    this.addFlavor({ id: '2', name: 'm1.small', ram: 2048, disk: 20 });
    this.addFlavor({ id: '42', name: 'm1.evacuable', ram: 512, disk: 1, extraSpecs: { evacuable: 'true' } });
    this.addImage({ name: 'cirros' });
    this.addImage({ name: 'cirros-evacuable-tag', tags: ['evacuable'] });
    this.addImage({ name: 'cirros-evacuable-prop', properties: { evacuable: 'True' } });
    for (const [host, n] of Object.entries(opts.serversOn ?? {})) this.addServers(host, n);
  }

  get admin(): FakeUser { return this.users[0]; }

  addUser(name: string, password: string, projectName = 'admin', roles = ['member']): FakeUser {
    const existing = this.users.find((u) => u.projectName === projectName);
    const u: FakeUser = { id: hex32(), name, password, domainId: 'default', projectId: existing?.projectId ?? hex32(), projectName, roles };
    this.users.push(u);
    return u;
  }

  addAppCredential(userName: string, name: string, secret: string): FakeAppCredential {
    const user = this.users.find((u) => u.name === userName);
    if (!user) throw new Error(`no user ${userName}`);
    const c = { id: hex32(), name, secret, userId: user.id };
    this.appCredentials.push(c);
    return c;
  }

  addComputeHost(host: string): FakeService {
    const s: FakeService = {
      id: randomUUID(), legacyId: this.services.length + 1, host, binary: 'nova-compute', zone: 'nova', status: 'enabled',
      disabledReason: null, forcedDown: false, hypervisorId: randomUUID(), hypervisorLegacyId: this.services.length + 1,
    };
    this.services.push(s);
    this.serviceByHost.set(host, s);
    return s;
  }

  /** A control-plane service (nova-scheduler, nova-conductor) on a host, zone "internal". */
  addService(host: string, binary: string, zone = 'internal'): FakeService {
    if (binary === 'nova-compute') return this.addComputeHost(host);
    if (this.services.some((x) => x.host === host && x.binary === binary)) throw new Error(`${binary} on ${host} exists`);
    const s: FakeService = {
      id: randomUUID(), legacyId: this.services.length + 1, host, binary, zone, status: 'enabled', disabledReason: null, forcedDown: false,
      hypervisorId: '', hypervisorLegacyId: 0,
    };
    this.services.push(s);
    return s;
  }

  /** Any service by host and binary. */
  serviceOf(host: string, binary = 'nova-compute'): FakeService | undefined {
    return binary === 'nova-compute' ? this.service(host) : this.services.find((x) => x.host === host && x.binary === binary);
  }

  /** nova-scheduler and nova-conductor both up (no such services listed counts as up) */
  controlPlaneState(): { scheduler: boolean; conductor: boolean } {
    const up = (b: string) => {
      const list = this.services.filter((x) => x.binary === b);
      return list.length === 0 || list.some((x) => this.serviceState(x) === 'up');
    };
    return { scheduler: up('nova-scheduler'), conductor: up('nova-conductor') };
  }

  /** A host aggregate (like `openstack aggregate create` + `add host` + `set --property`). */
  addAggregate(name: string, hosts: string[] = [], metadata: Record<string, string> = {}): FakeAggregate {
    if (this.aggregates.some((a) => a.name === name)) throw new Error(`aggregate ${name} already exists`);
    for (const h of hosts) if (!this.service(h)) throw new Error(`no compute host ${h}`);
    const a: FakeAggregate = {
      id: this.aggregates.reduce((n, x) => Math.max(n, x.id), 0) + 1, uuid: randomUUID(), name,
      availabilityZone: metadata.availability_zone ?? null, hosts: [...new Set(hosts)], metadata: { ...metadata },
      created: Date.now(), updated: null,
    };
    this.aggregates.push(a);
    return a;
  }

  /** The next `count` accepted evacuations (matching opts) fail; see the file header. */
  failEvacuations(count: number, opts: FailEvacuationsOptions = {}): void {
    const kind = opts.kind ?? 'error';
    if (kind !== 'error' && kind !== 'novalidhost') throw new Error(`unknown evacuation failure kind ${kind}`);
    this.evacFailRules.push({
      remaining: count, kind, hostLike: toRegex(opts.hostLike), serverIds: opts.serverIds ? new Set(opts.serverIds) : undefined,
    });
  }

  /** The failure planned for this evacuation, if any (consumes one). */
  takeEvacuationFailure(s: FakeServer, sourceHost: string | null): 'error' | 'novalidhost' | undefined {
    const rule = this.evacFailRules.find((r) => r.remaining > 0 && (!r.hostLike || r.hostLike.test(sourceHost ?? ''))
      && (!r.serverIds || r.serverIds.has(s.id)));
    if (!rule) return undefined;
    if (--rule.remaining <= 0) this.evacFailRules.splice(this.evacFailRules.indexOf(rule), 1);
    this.faults.evacuationFailures++;
    return rule.kind;
  }

  /** The next `count` accepted os-stop / os-start (of that action, of those servers) fail on the compute host. */
  failPowerActions(count: number, opts: { action?: 'stop' | 'start'; serverIds?: string[] } = {}): void {
    if (opts.action !== undefined && opts.action !== 'stop' && opts.action !== 'start') throw new Error(`unknown power action ${opts.action}`);
    this.powerFailRules.push({ remaining: count, action: opts.action, serverIds: opts.serverIds ? new Set(opts.serverIds) : undefined });
  }

  /** Whether this accepted power action is to fail (consumes one). */
  takePowerFailure(s: FakeServer, action: 'stop' | 'start'): boolean {
    const rule = this.powerFailRules.find((r) => r.remaining > 0 && (!r.action || r.action === action) && (!r.serverIds || r.serverIds.has(s.id)));
    if (!rule) return false;
    if (--rule.remaining <= 0) this.powerFailRules.splice(this.powerFailRules.indexOf(rule), 1);
    this.faults.powerActionFailures++;
    return true;
  }

  /** The next n requests (matching pathRegex, tested on path?query) are never answered; their sockets close with the server. */
  hangNext(n: number, pathRegex?: RegExp | string): void { this.netRules.push({ remaining: n, kind: 'hang', path: toRegex(pathRegex) }); }

  /** The next n requests (matching pathRegex) get their connection destroyed (a reset, no answer). */
  resetNext(n: number, pathRegex?: RegExp | string): void { this.netRules.push({ remaining: n, kind: 'reset', path: toRegex(pathRegex) }); }

  /** Every token issued so far expires now (401 afterwards; new tokens are fine). */
  expireTokens(): void {
    const now = Date.now();
    for (const t of this.tokens.values()) t.expiresAt = Math.min(t.expiresAt, now);
  }

  /** The server with that id (O(1)). */
  server(id: string): FakeServer | undefined {
    this.checkIndex();
    return this.byId.get(id);
  }

  /** Servers on a host, newest first (O(servers on that host)). */
  serversOn(host: string | null): FakeServer[] {
    this.checkIndex();
    const set = this.byHost.get(host);
    if (!set) return [];
    return [...set].sort((a, b) => (SEQ.get(b) ?? 0) - (SEQ.get(a) ?? 0));
  }

  /** Number of servers on a host (O(1)). */
  countOn(host: string | null): number {
    this.checkIndex();
    return this.byHost.get(host)?.size ?? 0;
  }

  /** Remove a server (as if deleted). */
  deleteServer(id: string): boolean {
    const s = this.server(id);
    if (!s) return false;
    this.servers.splice(this.servers.indexOf(s), 1);
    this.byId.delete(id);
    this.byHost.get(s.host)?.delete(s);
    return true;
  }

  /** Index a server: its `host` becomes an accessor keeping byHost up to date, so tests may still assign s.host. */
  private track(s: FakeServer): void {
    let host = s.host;
    if (!SEQ.has(s)) SEQ.set(s, ++this.serverSeq);
    const setOf = (h: string | null) => {
      let set = this.byHost.get(h);
      if (!set) this.byHost.set(h, (set = new Set()));
      return set;
    };
    Object.defineProperty(s, 'host', {
      enumerable: true, configurable: true,
      get: () => host,
      set: (v: string | null) => {
        if (v === host) return;
        this.byHost.get(host)?.delete(s);
        host = v;
        if (this.byId.get(s.id) === s) setOf(host).add(s);
      },
    });
    setOf(host).add(s);
    this.byId.set(s.id, s);
  }

  /** Rebuild the indexes when tests pushed to or spliced state.servers directly. */
  private checkIndex(): void {
    if (this.byId.size === this.servers.length) return;
    this.byId.clear();
    this.byHost.clear();
    for (const s of this.servers) this.track(s);
  }

  addFlavor(f: Partial<FakeFlavor> & { name: string }): FakeFlavor {
    const flavor: FakeFlavor = {
      id: f.id ?? randomUUID(), name: f.name, ram: f.ram ?? 512, vcpus: f.vcpus ?? 1, disk: f.disk ?? 1, ephemeral: f.ephemeral ?? 0,
      swap: f.swap ?? 0, isPublic: f.isPublic ?? true, extraSpecs: f.extraSpecs ?? {}, description: f.description ?? null,
    };
    this.flavors.push(flavor);
    return flavor;
  }

  addImage(i: Partial<FakeImage> & { name: string }): FakeImage {
    const img: FakeImage = {
      id: i.id ?? randomUUID(), name: i.name, tags: i.tags ?? [], properties: i.properties ?? {},
      visibility: i.visibility ?? 'public', owner: i.owner ?? this.admin.projectId,
    };
    this.images.push(img);
    return img;
  }

  /** Create servers on a host. status: ACTIVE (default), SHUTOFF, ERROR, PAUSED, SUSPENDED. */
  addServers(host: string, count: number, o: { flavor?: string; image?: string; status?: string; tenantId?: string; name?: string } = {}): FakeServer[] {
    if (!this.service(host)) throw new Error(`no compute host ${host}`);
    const flavor = this.flavors.find((f) => f.id === o.flavor || f.name === o.flavor) ?? this.flavors[0];
    const image = o.image === '' ? undefined : this.images.find((i) => i.id === o.image || i.name === o.image) ?? this.images[0];
    const vmState = ({ ACTIVE: 'active', SHUTOFF: 'stopped', ERROR: 'error', PAUSED: 'paused', SUSPENDED: 'suspended' } as Record<string, string>)[
      (o.status ?? 'ACTIVE').toUpperCase()];
    if (!vmState) throw new Error(`unsupported server status ${o.status}`);
    const out: FakeServer[] = [];
    for (let i = 0; i < count; i++) {
      const seq = ++this.serverSeq;
      const s: FakeServer = {
        id: randomUUID(), name: o.name ? (count > 1 ? `${o.name}-${i + 1}` : o.name) : `vm-${seq}`, host, vmState, taskState: null,
        powerState: vmState === 'active' ? 1 : vmState === 'paused' ? 3 : 4, flavorId: flavor.id, imageId: image?.id ?? '',
        tenantId: o.tenantId ?? this.admin.projectId, userId: this.admin.id, created: zTime(), updated: zTime(),
        instanceName: `instance-${seq.toString(16).padStart(8, '0')}`,
      };
      if (vmState === 'error') s.fault = { code: 500, message: 'fake failure', created: zTime() };
      SEQ.set(s, seq);
      this.checkIndex();
      this.servers.push(s);
      this.track(s);
      out.push(s);
    }
    return out;
  }

  /** The nova-compute service of a host. */
  service(host: string): FakeService | undefined {
    const s = this.serviceByHost.get(host);
    if (s && s.host === host && s.binary === 'nova-compute') return s;
    const found = this.services.find((x) => x.host === host && x.binary === 'nova-compute');
    if (found) this.serviceByHost.set(host, found);
    return found;
  }

  /** up unless forced down or killed more than serviceDownMs ago */
  serviceState(s: FakeService): 'up' | 'down' {
    if (s.forcedDown) return 'down';
    if (s.killedAt !== undefined && Date.now() - s.killedAt >= this.serviceDownMs) return 'down';
    return 'up';
  }

  /** Simulate a dead service (default nova-compute): reported down after serviceDownMs. */
  killService(host: string, binary = 'nova-compute'): void {
    const s = this.serviceOf(host, binary);
    if (!s) throw new Error(binary === 'nova-compute' ? `no compute host ${host}` : `no ${binary} on ${host}`);
    s.killedAt ??= Date.now();
  }

  /** The service starts again; a nova-compute, like real Nova, moves the "done" evacuations from its host to "completed". */
  reviveService(host: string, binary = 'nova-compute'): void {
    const s = this.serviceOf(host, binary);
    if (s) s.killedAt = undefined;
    if (binary !== 'nova-compute') return;
    for (const m of this.migrations) if (m.source === host && m.type === 'evacuation' && m.status === 'done') m.status = 'completed';
  }

  stopService(host: string, binary: string): void { this.killService(host, binary); }
  startService(host: string, binary: string): void { this.reviveService(host, binary); }

  /** Real Nova refuses to force a host up while "done" evacuation records of it remain (until its compute restarts). */
  forceUpRefusal(host: string): string | undefined {
    if (!this.migrations.some((m) => m.source === host && m.type === 'evacuation' && m.status === 'done')) return undefined;
    return `Unable to force up host ${host} as \`done\` evacuation migration records remain associated with the host. ` +
      'Ensure the compute service has been restarted, allowing these records to move to `completed` before retrying this request.';
  }

  /** The next n requests (matching pathRegex, tested on path?query) get this status. */
  failNext(n: number, status: number, pathRegex?: RegExp | string): void {
    this.failRules.push({ remaining: n, status, path: typeof pathRegex === 'string' ? new RegExp(pathRegex) : pathRegex });
  }

  revokeAllTokens(): void { this.tokens.clear(); }

  resetRequests(): void { this.requests = []; }

  /** Requests matching method and a path regex. */
  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  serverStatus(s: FakeServer): string {
    if (s.taskState === 'rebuilding' || s.taskState === 'rebuild_spawning') return 'REBUILD';
    return ({ active: 'ACTIVE', stopped: 'SHUTOFF', error: 'ERROR', paused: 'PAUSED', suspended: 'SUSPENDED', building: 'BUILD' } as Record<string, string>)[s.vmState] ?? 'UNKNOWN';
  }

  dump(): unknown {
    return {
      services: this.services.map((s) => ({
        id: s.id, host: s.host, binary: s.binary, state: this.serviceState(s), status: s.status, forced_down: s.forcedDown,
        disabled_reason: s.disabledReason, killed: s.killedAt !== undefined,
      })),
      servers: this.servers.map((s) => ({
        id: s.id, name: s.name, host: s.host, status: this.serverStatus(s), task_state: s.taskState, vm_state: s.vmState,
        flavor: s.flavorId, image: s.imageId, tenant_id: s.tenantId,
      })),
      migrations: this.migrations,
      aggregates: this.aggregates,
      requests: this.requests,
      keystoneDown: this.keystoneDown,
      latencyMs: this.latencyMs,
      faults: { ...this.faults },
      notModelled: [...this.notModelled],
    };
  }
}

export interface FakeOpenStack {
  /** the Keystone auth URL, e.g. http://127.0.0.1:PORT/identity/v3 */
  url: string;
  /** http(s)://127.0.0.1:PORT */
  baseUrl: string;
  port: number;
  state: FakeState;
  close(): Promise<void>;
}

export async function startFakeOpenStack(opts: FakeOptions = {}): Promise<FakeOpenStack> {
  const state = new FakeState(opts);
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(state, req, res).catch((e) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String((e as Error)?.stack ?? e));
      } else {
        res.destroy();
      }
    });
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  state.baseUrl = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    url: `${state.baseUrl}/identity/v3`,
    baseUrl: state.baseUrl,
    port,
    state,
    close: () => new Promise<void>((resolve) => {
      for (const t of state.timers) clearTimeout(t);
      state.timers.clear();
      for (const sock of state.hung) sock.destroy();
      state.hung.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const socketIds = new WeakMap<object, number>();
let socketSeq = 0;
function socketId(socket: object): number {
  let id = socketIds.get(socket);
  if (id === undefined) socketIds.set(socket, (id = ++socketSeq));
  return id;
}

interface Ctx {
  state: FakeState;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: any;
  bodyError?: string;
  iface: 'public' | 'internal' | 'admin';
  region: string;
  /** prefix of this endpoint, e.g. http://127.0.0.1:P/internal */
  prefix: string;
  mv?: string;
  token?: Token;
}

async function handle(state: FakeState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  const text = await readBody(req);
  let body: unknown;
  let bodyError: string | undefined;
  if (text) {
    try { body = JSON.parse(text); } catch { bodyError = 'Malformed request body'; }
  }

  if (url.pathname.startsWith('/_fake/')) {
    const r = control(state, req.method ?? 'GET', url.pathname, (body ?? {}) as Record<string, any>);
    send(res, r, {});
    return;
  }

  // strip the region and interface prefixes
  let path = url.pathname;
  let region = state.regions[0];
  let prefix = state.baseUrl;
  const rm = /^\/region-([^/]+)(\/.*)$/.exec(path);
  if (rm && state.regions.includes(decodeURIComponent(rm[1]))) {
    region = decodeURIComponent(rm[1]);
    prefix += `/region-${rm[1]}`;
    path = rm[2];
  }
  let iface: 'public' | 'internal' | 'admin' = 'public';
  const im = /^\/(internal|admin)(\/.*)$/.exec(path);
  if (im) {
    iface = im[1] as 'internal' | 'admin';
    prefix += `/${im[1]}`;
    path = im[2];
  }

  const record: RecordedRequest = {
    method: req.method ?? 'GET', path, query: url.search.replace(/^\?/, ''), status: 0, iface, region, connection: socketId(req.socket),
    at: Date.now(),
  };
  if (body !== undefined) record.body = redact(body);
  state.requests.push(record);

  if (path.startsWith('/identity') && state.keystoneDown) {
    state.faults.keystoneDrops++;
    req.socket.destroy();
    return;
  }
  const net = state.netRules.find((r) => r.remaining > 0 && (!r.path || r.path.test(path + url.search)));
  if (net) {
    if (--net.remaining <= 0) state.netRules.splice(state.netRules.indexOf(net), 1);
    if (net.kind === 'reset') {
      state.faults.resets++;
      req.socket.destroy();
    } else {
      state.faults.hangs++;
      const sock = req.socket;
      state.hung.add(sock);
      sock.once('close', () => state.hung.delete(sock));
    }
    return;
  }
  if (state.latencyMs > 0) await sleep(state.latencyMs);
  if (req.socket.destroyed) return;

  const ctx: Ctx = {
    state, method: req.method ?? 'GET', path, query: url.searchParams, headers: req.headers, body, bodyError, iface, region, prefix,
  };
  let reply: Reply;
  let extraHeaders: Record<string, string> = {};
  const rule = state.failRules.find((r) => r.remaining > 0 && (!r.path || r.path.test(path + url.search)));
  const service = path.startsWith('/identity') ? 'identity' : path.startsWith('/compute') ? 'compute' : path.startsWith('/image') ? 'image' : 'none';
  const mv = service === 'compute' ? negotiate(state, req.headers) : undefined;
  if (service === 'compute') {
    if (typeof mv === 'object' && mv.status === 406 && mv.headers?.['X-Requested-Microversion']) {
      // Nova sets the request's version before checking its range: the 406 echoes it (recorded:
      // nova_get_os_services_mv_unsupported.json)
      const asked = mv.headers['X-Requested-Microversion'];
      delete mv.headers['X-Requested-Microversion'];
      extraHeaders = {
        'OpenStack-API-Version': `compute ${asked}`,
        'X-OpenStack-Nova-API-Version': asked,
        Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
      };
    } else if (typeof mv === 'string') {
      ctx.mv = mv;
      record.microversion = mv;
      extraHeaders = {
        'OpenStack-API-Version': `compute ${mv}`,
        'X-OpenStack-Nova-API-Version': mv,
        Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
      };
    }
  }
  // a query parameter the simulator does not model for this route (see QUERY_MODELLED)
  const unmodelled = rule ? undefined : unmodelledQuery(ctx);
  if (rule) {
    rule.remaining--;
    if (rule.remaining === 0) state.failRules.splice(state.failRules.indexOf(rule), 1);
    state.faults.injectedFailures++;
    const msg = `Injected failure ${rule.status}`;
    reply = service === 'compute' ? novaFault(rule.status, msg) : keystoneError(rule.status, msg);
  } else if (unmodelled) {
    reply = unmodelled;
  } else if (service === 'identity') {
    reply = keystone(ctx);
    extraHeaders = { ...reply.headers };
  } else if (service === 'compute') {
    reply = typeof mv === 'string' || mv === undefined ? nova(ctx) : mv;
  } else if (service === 'image') {
    reply = glance(ctx);
  } else if (path.startsWith('/volume')) {
    reply = cinderRoute(state, ctx);
    if (reply.status === 501) {
      state.faults.notModelled++;
      state.notModelled.push(`${ctx.method} ${path}`);
    }
  } else if (path.startsWith('/network')) {
    reply = neutronRoute(state, ctx);
    if (reply.status === 501) {
      state.faults.notModelled++;
      state.notModelled.push(`${ctx.method} ${path}`);
    }
  } else {
    reply = notModelled(ctx);
  }
  record.status = reply.status;
  send(res, reply, { ...extraHeaders, ...(service === 'identity' ? { Connection: 'close' } : {}) });
}

function send(res: http.ServerResponse, r: Reply, extra: Record<string, string>): void {
  const rid = `req-${randomUUID()}`;
  const payload = r.raw !== undefined ? r.raw : r.body === undefined ? '' : JSON.stringify(r.body);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    ...extra,
    ...r.headers,
    'Content-Length': String(Buffer.byteLength(payload)),
    'X-OpenStack-Request-Id': rid,
  };
  if (extra['OpenStack-API-Version'] || 'X-Compute-Request-Id' in headers) headers['X-Compute-Request-Id'] = rid;
  res.writeHead(r.status, headers);
  res.end(payload);
}

/** The effective microversion, or the 400/406 reply Nova gives. */
function negotiate(state: FakeState, headers: http.IncomingHttpHeaders): string | Reply {
  let requested: string | undefined;
  const std = headers['openstack-api-version'];
  if (typeof std === 'string') {
    for (const part of std.split(',')) {
      const [svc, ver] = part.trim().split(/\s+/);
      if (svc?.toLowerCase() === 'compute') requested = ver;
    }
  }
  if (!requested && typeof headers['x-openstack-nova-api-version'] === 'string') requested = headers['x-openstack-nova-api-version'].trim();
  if (!requested) return '2.1';
  if (requested === 'latest') return state.maxMicroversion;
  if (Number.isNaN(parseMv(requested)[0])) return novaFault(400, `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`);
  if (!mvGe(requested, '2.1') || !mvGe(state.maxMicroversion, requested)) {
    const r = novaFault(406, `Version ${requested} is not supported by the API. Minimum is 2.1 and maximum is ${state.maxMicroversion}.`);
    const [a, b] = parseMv(requested);
    r.headers = { ...r.headers, 'X-Requested-Microversion': `${a}.${b}` };
    return r;
  }
  const [a, b] = parseMv(requested);
  return `${a}.${b}`;
}

function authToken(ctx: Ctx): Token | Reply {
  const id = ctx.headers['x-auth-token'];
  const t = typeof id === 'string' ? ctx.state.tokens.get(id) : undefined;
  if (!t || t.expiresAt <= Date.now()) {
    return { ...keystoneError(401, UNAUTHORIZED), headers: { 'WWW-Authenticate': `Keystone uri="${ctx.state.baseUrl}/identity"` } };
  }
  return t;
}

function isAdmin(ctx: Ctx): boolean {
  const u = ctx.state.users.find((x) => x.id === ctx.token?.userId);
  return !!u?.roles.includes('admin');
}

// ---------------------------------------------------------------------------------------------------- Keystone

function keystone(ctx: Ctx): Reply {
  const { state, method, path } = ctx;
  if (method === 'GET' && (path === '/identity' || path === '/identity/')) {
    // (recorded: keystone_get_versions.json: Location names the only version, Vary: X-Auth-Token)
    return {
      status: 300, body: { versions: { values: [versionV3(state)] } },
      headers: { Location: `${state.baseUrl}/identity/v3/`, Vary: 'X-Auth-Token' },
    };
  }
  if (method === 'GET' && (path === '/identity/v3' || path === '/identity/v3/')) {
    return { status: 200, body: { version: versionV3(state) }, headers: { Vary: 'X-Auth-Token' } };
  }
  if (path !== '/identity/v3/auth/tokens' || method !== 'POST') return notModelled(ctx);
  if (ctx.bodyError) return keystoneError(400, ctx.bodyError);
  const identity = ctx.body?.auth?.identity;
  const methods: string[] = Array.isArray(identity?.methods) ? identity.methods : [];
  let user: FakeUser | undefined;
  let projectId: string | null = null;
  let appCred: FakeAppCredential | undefined;
  const findUser = (u: any): FakeUser | undefined => {
    if (!u || typeof u !== 'object') return undefined;
    if (u.id) return state.users.find((x) => x.id === u.id);
    const d = u.domain ?? {};
    if (!(d.id === DOMAIN.id || d.name === DOMAIN.name)) return undefined;
    return state.users.find((x) => x.name === u.name);
  };
  if (methods.includes('application_credential')) {
    const c = identity.application_credential ?? {};
    if (!c.secret || (!c.id && !c.name)) return keystoneError(400, 'Invalid input for field \'identity/application_credential\'.');
    if (c.id) appCred = state.appCredentials.find((a) => a.id === c.id);
    else {
      const u = findUser(c.user);
      appCred = state.appCredentials.find((a) => a.name === c.name && a.userId === u?.id);
    }
    if (!appCred || appCred.secret !== c.secret) return keystoneError(401, UNAUTHORIZED);
    if (ctx.body.auth.scope) return keystoneError(401, 'Application credentials cannot request a scope.');
    user = state.users.find((u) => u.id === appCred!.userId);
    projectId = user?.projectId ?? null;
  } else if (methods.includes('password')) {
    const u = identity.password?.user;
    if (!u || typeof u.password !== 'string' || (!u.id && !u.name)) return keystoneError(400, 'Invalid input for field \'identity/password/user\'.');
    if (!u.id && !u.domain) return keystoneError(400, 'Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
    user = findUser(u);
    if (!user || user.password !== u.password) return keystoneError(401, UNAUTHORIZED);
    const scope = ctx.body.auth.scope;
    if (scope) {
      const p = scope.project;
      if (!p) return keystoneError(400, 'only project scope is supported by the fake');
      const want = p.id ? p.id : (p.domain?.id === DOMAIN.id || p.domain?.name === DOMAIN.name)
        ? state.users.find((x) => x.projectName === p.name)?.projectId : undefined;
      if (!want || want !== user.projectId) return keystoneError(401, UNAUTHORIZED);
      projectId = want;
    }
  } else {
    return keystoneError(400, 'Expecting to find identity methods in auth.');
  }
  if (!user) return keystoneError(401, UNAUTHORIZED);
  const now = Date.now();
  const expires = now + state.tokenTtlSec * 1000;
  const id = 'gAAAAA' + randomBytes(135).toString('base64url');
  state.tokens.set(id, { userId: user.id, projectId, expiresAt: expires, appCredId: appCred?.id });
  const token: Record<string, unknown> = {
    methods: [appCred ? 'application_credential' : 'password'],
    user: { domain: { ...DOMAIN }, id: user.id, name: user.name, password_expires_at: null },
    audit_ids: [randomBytes(16).toString('base64url').slice(0, 22)],
    expires_at: keystoneTime(expires),
    issued_at: keystoneTime(now),
  };
  if (projectId) {
    token.project = { domain: { ...DOMAIN }, id: projectId, name: user.projectName };
    token.is_domain = false;
    token.roles = user.roles.map((r) => ({ id: createHash('md5').update(r).digest('hex'), name: r }));
    if (appCred) token.application_credential = { id: appCred.id, name: appCred.name, restricted: true };
    token.catalog = catalog(state);
  }
  return { status: 201, body: { token }, headers: { 'X-Subject-Token': id, Vary: 'X-Auth-Token' } };
}

function versionV3(state: FakeState) {
  return {
    id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${state.baseUrl}/identity/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

function catalog(state: FakeState) {
  const services = [
    { type: 'identity', name: 'keystone', path: '/identity/v3/' },
    { type: 'compute', name: 'nova', path: '/compute/v2.1' },
    { type: 'image', name: 'glance', path: '/image' },
    { type: 'volumev3', name: 'cinderv3', path: '/volume/v3' },
    { type: 'network', name: 'neutron', path: '/network' },
  ];
  return services.map((s) => ({
    endpoints: state.regions.flatMap((region, ri) => (['public', 'internal', 'admin'] as const).map((iface) => {
      const prefix = (ri === 0 ? '' : `/region-${encodeURIComponent(region)}`) + (iface === 'public' ? '' : `/${iface}`);
      return {
        id: createHash('md5').update(`${s.type}/${region}/${iface}`).digest('hex'),
        interface: iface, region_id: region, url: `${state.baseUrl}${prefix}${s.path}`, region,
      };
    })),
    id: createHash('md5').update(s.type).digest('hex'),
    type: s.type,
    name: s.name,
  }));
}

// ---------------------------------------------------------------------------------------------------- Nova

/** One page of items after `marker`, and the next marker when the page is full (Nova and Glance both do so). */
function paginate<T>(ctx: Ctx, items: T[], idOf: (t: T) => string, locate?: (marker: string) => number | undefined,
  markerError?: (marker: string) => Reply): { page: T[]; next?: string } | Reply {
  const limitQ = ctx.query.get('limit');
  let limit = ctx.state.pageSize;
  if (limitQ !== null) {
    const n = Number(limitQ);
    if (!Number.isInteger(n) || n < 0) return novaFault(400, `limit param must be an integer`);
    limit = Math.min(n, ctx.state.pageSize);
  }
  let start = 0;
  const marker = ctx.query.get('marker');
  if (marker !== null) {
    const i = items.findIndex((t) => idOf(t) === marker);
    // like Nova, a marker that exists but no longer matches the filter (a server evacuated meanwhile) still places the page
    const at = i >= 0 ? i + 1 : locate?.(marker);
    if (at === undefined) return markerError ? markerError(marker) : novaFault(400, `marker [${marker}] not found`);
    start = at;
  }
  const page = items.slice(start, start + limit);
  return { page, next: page.length > 0 && page.length === limit ? idOf(page[page.length - 1]) : undefined };
}

function nextLinks(ctx: Ctx, key: string, next: string | undefined): Record<string, unknown> {
  if (!next) return {};
  const q = new URLSearchParams(ctx.query);
  q.set('marker', next);
  if (!q.has('limit')) q.set('limit', String(ctx.state.pageSize));
  return { [`${key}_links`]: [{ href: `${ctx.prefix}${ctx.path}?${q}`, rel: 'next' }] };
}

function nova(ctx: Ctx): Reply {
  const { state, method } = ctx;
  const mv = ctx.mv!;
  const sub = ctx.path.replace(/^\/compute/, '');
  if (method === 'GET' && (sub === '' || sub === '/')) {
    return { status: 200, body: { versions: [novaVersion(state, 'v2.0'), novaVersion(state, 'v2.1')] } };
  }
  if (!sub.startsWith('/v2.1')) return notModelled(ctx);
  const p = sub.slice('/v2.1'.length);
  if (method === 'GET' && (p === '' || p === '/')) {
    // (recorded: nova_get_v2.1.json; GET / lists the versions without these: nova_get_versions.json)
    const v = novaVersion(state, 'v2.1');
    return {
      status: 200,
      body: {
        version: {
          ...v,
          links: [...v.links, { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' }],
          'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
        },
      },
    };
  }
  const tok = authToken(ctx);
  if (!('userId' in tok)) return tok;
  ctx.token = tok;
  if (ctx.bodyError) return novaFault(400, ctx.bodyError);
  const at = (v: string) => mvGe(mv, v);
  let m: RegExpExecArray | null;

  if (p === '/os-services' || p.startsWith('/os-services/')) {
    if (!isAdmin(ctx)) return novaFault(403, "Policy doesn't allow os_compute_api:os-services:list to be performed.");
    if (method === 'GET' && p === '/os-services') {
      const host = ctx.query.get('host');
      const binary = ctx.query.get('binary');
      const list = state.services.filter((s) => (host === null || s.host === host) && (binary === null || s.binary === binary));
      return { status: 200, body: { services: list.map((s) => serviceView(state, s, mv)) } };
    }
    if (method !== 'PUT') return notModelled(ctx);
    const action = p.slice('/os-services/'.length);
    if (['force-down', 'enable', 'disable', 'disable-log-reason'].includes(action)) {
      if (at('2.53') || (action === 'force-down' && !at('2.11'))) return novaFault(404, 'The resource could not be found.');
      const b = ctx.body ?? {};
      const s = state.services.find((x) => x.host === b.host && x.binary === b.binary);
      if (typeof b.host !== 'string' || typeof b.binary !== 'string') return novaFault(400, `Invalid input for field/attribute ${action}: host and binary are required`);
      if (!s) return novaFault(404, `Host '${b.host}' is not mapped to any cell`);
      if (action === 'force-down') {
        if (typeof b.forced_down !== 'boolean') return novaFault(400, "Invalid input for field/attribute forced_down. Value: " + JSON.stringify(b.forced_down) + '.');
        const refusal = b.forced_down ? undefined : state.forceUpRefusal(s.host);
        if (refusal) return novaFault(400, refusal);
        s.forcedDown = b.forced_down;
        return { status: 200, body: { service: { binary: s.binary, host: s.host, forced_down: s.forcedDown } } };
      }
      if (action === 'enable') {
        s.status = 'enabled';
        s.disabledReason = null;
        return { status: 200, body: { service: { binary: s.binary, host: s.host, status: 'enabled' } } };
      }
      s.status = 'disabled';
      if (action === 'disable-log-reason') {
        if (typeof b.disabled_reason !== 'string' || !b.disabled_reason) return novaFault(400, 'Missing disabled reason field');
        s.disabledReason = b.disabled_reason;
        return { status: 200, body: { service: { binary: s.binary, host: s.host, status: 'disabled', disabled_reason: s.disabledReason } } };
      }
      s.disabledReason = null;
      return { status: 200, body: { service: { binary: s.binary, host: s.host, status: 'disabled' } } };
    }
    if (!at('2.53')) return novaFault(404, 'The resource could not be found.');
    const s = state.services.find((x) => x.id === action);
    if (!s) return novaFault(404, `Service ${action} could not be found.`);
    const b = ctx.body;
    if (!b || typeof b !== 'object') return novaFault(400, 'Invalid input: a JSON object is required');
    const extra = Object.keys(b).filter((k) => !['status', 'disabled_reason', 'forced_down'].includes(k));
    if (extra.length) return novaFault(400, `Invalid input for field/attribute request body. Additional properties are not allowed ('${extra[0]}' was unexpected)`);
    if (!('status' in b) && !('forced_down' in b)) return novaFault(400, "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
    if ('status' in b && !['enabled', 'disabled'].includes(b.status)) return novaFault(400, `Invalid input for field/attribute status. Value: ${b.status}.`);
    if ('disabled_reason' in b && b.status !== 'disabled') return novaFault(400, 'Specifying a disabled reason is not supported unless disabling the service.');
    if ('forced_down' in b && typeof b.forced_down !== 'boolean') return novaFault(400, `Invalid input for field/attribute forced_down. Value: ${b.forced_down}.`);
    const refusal = b.forced_down === false ? state.forceUpRefusal(s.host) : undefined;
    if (refusal) return novaFault(400, refusal);
    if (b.status === 'enabled') { s.status = 'enabled'; s.disabledReason = null; }
    if (b.status === 'disabled') { s.status = 'disabled'; s.disabledReason = b.disabled_reason ?? null; }
    if ('forced_down' in b) s.forcedDown = b.forced_down;
    return { status: 200, body: { service: serviceView(state, s, mv) } };
  }

  if (method === 'GET' && (p === '/os-hypervisors' || p.startsWith('/os-hypervisors/'))) return hypervisors(ctx, p.slice('/os-hypervisors'.length));

  if (method === 'GET' && p === '/servers/detail') {
    const admin = isAdmin(ctx);
    const allTenants = admin && ['1', 'true', 'True', ''].includes(ctx.query.get('all_tenants') ?? 'no');
    const host = admin ? ctx.query.get('host') : null;
    // name: a regular expression (Nova matches it with REGEXP); status: the API status
    let nameRe: RegExp | undefined;
    try { nameRe = ctx.query.has('name') ? new RegExp(ctx.query.get('name')!) : undefined; } catch { return novaFault(400, 'Invalid name regular expression'); }
    const status = ctx.query.get('status')?.toUpperCase();
    const list = (host !== null ? state.serversOn(host) : [...state.servers].reverse())
      .filter((s) => (allTenants || s.tenantId === ctx.token!.projectId) && (!nameRe || nameRe.test(s.name))
        && (!status || state.serverStatus(s) === status));
    const pg = paginate(ctx, list, (s) => s.id, (marker) => {
      const ms = state.server(marker);
      if (!ms) return undefined;
      const seq = SEQ.get(ms) ?? 0;
      const i = list.findIndex((x) => (SEQ.get(x) ?? 0) < seq);
      return i < 0 ? list.length : i;
    });
    if ('status' in pg) return pg;
    return { status: 200, body: { servers: pg.page.map((s) => serverView(ctx, s)), ...nextLinks(ctx, 'servers', pg.next) } };
  }

  if ((m = /^\/servers\/([^/]+)$/.exec(p)) && method === 'GET') {
    const s = state.server(decodeURIComponent(m[1]));
    if (!s || (!isAdmin(ctx) && s.tenantId !== ctx.token.projectId)) return novaFault(404, `Instance ${m[1]} could not be found.`);
    const view = serverView(ctx, s);
    // 2.71: the server's groups, in show (not in the list: nova_get_servers_detail_host_mv2.74.json); the simulator
    // has no server groups (recorded: nova_get_server_mv2.74.json)
    if (mvGe(ctx.mv!, '2.71')) view.server_groups = [];
    return { status: 200, body: { server: view } };
  }

  if ((m = /^\/servers\/([^/]+)\/action$/.exec(p)) && method === 'POST') {
    const s = state.server(decodeURIComponent(m[1]));
    if (!s || (!isAdmin(ctx) && s.tenantId !== ctx.token.projectId)) return novaFault(404, `Instance ${m[1]} could not be found.`);
    const b = ctx.body;
    if (b && typeof b === 'object' && 'evacuate' in b) return evacuate(ctx, s, b.evacuate);
    if (b && typeof b === 'object' && ('os-stop' in b || 'os-start' in b)) return powerAction(ctx, s, 'os-stop' in b ? 'stop' : 'start');
    return notModelledReply(state, 'compute', `the server action ${b && typeof b === 'object' ? Object.keys(b)[0] : '(none)'} (POST ${ctx.path})`);
  }

  if ((m = /^\/servers\/([^/]+)\/os-volume_attachments(?:\/([^/]+))?$/.exec(p))) {
    const s = state.server(decodeURIComponent(m[1]));
    if (!s || (!isAdmin(ctx) && s.tenantId !== ctx.token.projectId)) return novaFault(404, `Instance ${m[1]} could not be found.`);
    return volumeAttachments(ctx, s, m[2] === undefined ? undefined : decodeURIComponent(m[2]));
  }

  if (method === 'GET' && p === '/os-migrations') {
    if (!isAdmin(ctx)) return novaFault(403, "Policy doesn't allow os_compute_api:os-migrations:index to be performed.");
    return listMigrations(ctx);
  }

  if (p === '/os-aggregates' || p.startsWith('/os-aggregates/')) {
    if (!isAdmin(ctx)) return novaFault(403, `Policy doesn't allow os_compute_api:os-aggregates:${method === 'GET' ? 'index' : 'create'} to be performed.`);
    return aggregates(ctx, p.slice('/os-aggregates'.length));
  }

  if (method === 'GET' && (p === '/flavors/detail' || p === '/flavors')) {
    const isPublic = (ctx.query.get('is_public') ?? 'true').toLowerCase();
    let list = state.flavors.filter((f) => (isPublic === 'none' && isAdmin(ctx)) || (isPublic === 'false' ? !f.isPublic : f.isPublic))
      // Nova lists flavors by flavorid (sort_key=flavorid, sort_dir=asc: a string order)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const pg = paginate(ctx, list, (f) => f.id);
    if ('status' in pg) return pg;
    list = pg.page;
    const view = p.endsWith('/detail') ? (f: FakeFlavor) => flavorView(ctx, f) : (f: FakeFlavor) => ({ id: f.id, name: f.name, links: flavorLinks(ctx, f) });
    return { status: 200, body: { flavors: list.map(view), ...nextLinks(ctx, 'flavors', pg.next) } };
  }
  if ((m = /^\/flavors\/([^/]+)(\/os-extra_specs)?$/.exec(p)) && method === 'GET') {
    const f = state.flavors.find((x) => x.id === decodeURIComponent(m![1]));
    if (!f) return novaFault(404, `Flavor ${m[1]} could not be found.`);
    return { status: 200, body: m[2] ? { extra_specs: { ...f.extraSpecs } } : { flavor: flavorView(ctx, f) } };
  }
  return notModelled(ctx);
}

/** oslo strutils.bool_from_string(strict=True) / Nova's parameter_types.boolean (query string forms) */
const NOVA_TRUE = ['1', 'true', 'True', 'TRUE', 'on', 'On', 'ON', 'yes', 'Yes', 'YES'];
const NOVA_FALSE = ['0', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF', 'no', 'No', 'NO'];

/** Compute nodes whose hypervisor_hostname is LIKE '%pattern%' (nova/db/main/api.py compute_node_search_by_hypervisor;
 * SQL wildcards % and _ keep their meaning, MariaDB's default collation compares case-insensitively). */
function searchHypervisors(state: FakeState, pattern: string): FakeService[] {
  const re = new RegExp(pattern.split('').map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join(''), 'i');
  return state.services.filter((s) => s.binary === 'nova-compute' && re.test(s.host));
}

/**
 * os-hypervisors (nova/api/openstack/compute/hypervisors.py, Zed):
 *   GET /os-hypervisors[/detail]   limit/marker from 2.33; hypervisor_hostname_pattern (LIKE '%P%', 404 when nothing
 *                                  matches, 400 with limit/marker) and with_servers from 2.53; other query parameters
 *                                  are ignored before 2.33, stripped 2.33-2.52 and refused (400) from 2.53
 *   GET /os-hypervisors/{P}/search and /os-hypervisors/{P}/servers   before 2.53 only (404 from 2.53)
 * A hypervisor's "servers" ([{name, uuid}], all projects, oldest first) is there when it has servers; from 2.75 an
 * empty list when with_servers was asked and it has none.
 */
function hypervisors(ctx: Ctx, rest: string): Reply {
  const { state } = ctx;
  const mv = ctx.mv!;
  const at = (v: string) => mvGe(mv, v);
  const serversOf = (s: FakeService) => state.serversOn(s.host).reverse().map((x) => ({ name: x.name, uuid: x.id }));
  const view = (s: FakeService, detail: boolean, withServers: boolean) => {
    const v: Record<string, unknown> = detail ? hypervisorView(state, s, mv) : hypervisorSummary(state, s, mv);
    if (!withServers) return v;
    const servers = serversOf(s);
    if (servers.length) v.servers = servers;
    else if (at('2.75')) v.servers = [];
    return v;
  };
  const noMatch = (pattern: string) => novaFault(404, `No hypervisor matching '${pattern}' could be found.`);
  let m: RegExpExecArray | null;
  if ((m = /^\/([^/]+)\/(search|servers)$/.exec(rest))) {
    if (!isAdmin(ctx)) return novaFault(403, `Policy doesn't allow os_compute_api:os-hypervisors:${m[2]} to be performed.`);
    if (at('2.53')) return novaFault(404, 'The resource could not be found.');
    const pattern = decodeURIComponent(m[1]);
    const list = searchHypervisors(state, pattern);
    if (!list.length) return noMatch(pattern);
    return { status: 200, body: { hypervisors: list.map((s) => view(s, false, m![2] === 'servers')) } };
  }
  if (rest !== '' && rest !== '/detail') return notModelled(ctx);
  const detail = rest === '/detail';
  if (!isAdmin(ctx)) return novaFault(403, `Policy doesn't allow os_compute_api:os-hypervisors:${detail ? 'list-detail' : 'list'} to be performed.`);
  const q = ctx.query;
  let pattern: string | null = null;
  let withServers = false;
  if (at('2.53')) {
    const extra = [...new Set(q.keys())].filter((k) => !['limit', 'marker', 'hypervisor_hostname_pattern', 'with_servers'].includes(k));
    if (extra.length) return novaFault(400, `Invalid input for query parameters ${extra[0]}. Value: ${q.get(extra[0])}. Additional properties are not allowed ('${extra[0]}' was unexpected)`);
    pattern = q.get('hypervisor_hostname_pattern');
    const ws = q.get('with_servers');
    if (ws !== null) {
      if (!NOVA_TRUE.includes(ws) && !NOVA_FALSE.includes(ws)) {
        return novaFault(400, `Invalid input for query parameters with_servers. Value: ${ws}. '${ws}' is not one of ${JSON.stringify([true, ...NOVA_TRUE, false, ...NOVA_FALSE].map(String))}`);
      }
      withServers = NOVA_TRUE.includes(ws);
    }
  }
  let list: FakeService[];
  let links = {};
  if (pattern !== null) {
    if (q.has('limit') || q.has('marker')) {
      return novaFault(400, 'Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
    }
    list = searchHypervisors(state, pattern);
    if (!list.length) return noMatch(pattern);
  } else {
    list = state.services.filter((s) => s.binary === 'nova-compute');
    if (at('2.33') && (q.has('limit') || q.has('marker') || list.length > state.pageSize)) {
      const pg = paginate(ctx, list, (s) => String(at('2.53') ? s.hypervisorId : s.hypervisorLegacyId));
      if ('status' in pg) return pg;
      list = pg.page;
      links = nextLinks(ctx, 'hypervisors', pg.next);
    }
  }
  return { status: 200, body: { hypervisors: list.map((s) => view(s, detail, withServers)), ...links } };
}

function novaVersion(state: FakeState, id: 'v2.0' | 'v2.1') {
  return {
    id,
    status: id === 'v2.1' ? 'CURRENT' : 'SUPPORTED',
    version: id === 'v2.1' ? state.maxMicroversion : '',
    min_version: id === 'v2.1' ? '2.1' : '',
    updated: id === 'v2.1' ? '2013-07-23T11:33:21Z' : '2011-01-21T11:33:21Z',
    links: [{ rel: 'self', href: `${state.baseUrl}/compute/${id === 'v2.1' ? 'v2.1' : 'v2'}/` }],
  };
}

function serviceView(state: FakeState, s: FakeService, mv: string) {
  const v: Record<string, unknown> = {
    binary: s.binary,
    host: s.host,
    id: mvGe(mv, '2.53') ? s.id : s.legacyId,
    zone: s.zone,
    status: s.status,
    state: state.serviceState(s),
    updated_at: novaTime(s.killedAt ?? Date.now() - 3000),
    disabled_reason: s.disabledReason,
  };
  if (mvGe(mv, '2.11')) v.forced_down = s.forcedDown;
  return v;
}

function hypervisorSummary(state: FakeState, s: FakeService, mv: string) {
  return {
    id: mvGe(mv, '2.53') ? s.hypervisorId : s.hypervisorLegacyId, hypervisor_hostname: s.host, state: state.serviceState(s), status: s.status,
  };
}

function hypervisorView(state: FakeState, s: FakeService, mv: string) {
  const v: Record<string, unknown> = {
    ...hypervisorSummary(state, s, mv),
    hypervisor_type: 'fake',
    hypervisor_version: 1000,
    host_ip: '127.0.0.1',
    service: { id: mvGe(mv, '2.53') ? s.id : s.legacyId, host: s.host, disabled_reason: s.disabledReason },
  };
  if (mvGe(mv, '2.88')) {
    v.uptime = null;
    return v;
  }
  const running = state.countOn(s.host);
  const cpu = { arch: 'x86_64', model: 'Nehalem', vendor: 'Intel', features: ['pge', 'clflush'], topology: { cores: 1, threads: 1, sockets: 4 } };
  Object.assign(v, {
    vcpus: 1000, memory_mb: 800000, local_gb: 600000, vcpus_used: running, memory_mb_used: 512 + running * 512, local_gb_used: running,
    free_ram_mb: 800000 - 512 - running * 512, free_disk_gb: 600000 - running, current_workload: 0, running_vms: running,
    disk_available_least: 0, cpu_info: mvGe(mv, '2.28') ? cpu : JSON.stringify(cpu),
  });
  return v;
}

function flavorLinks(ctx: Ctx, f: FakeFlavor) {
  return [
    { rel: 'self', href: `${ctx.prefix}/compute/v2.1/flavors/${f.id}` },
    { rel: 'bookmark', href: `${ctx.prefix}/compute/flavors/${f.id}` },
  ];
}

function flavorView(ctx: Ctx, f: FakeFlavor) {
  const mv = ctx.mv!;
  const v: Record<string, unknown> = {
    id: f.id, name: f.name, ram: f.ram, disk: f.disk, swap: f.swap === 0 && !mvGe(mv, '2.75') ? '' : f.swap,
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeral, 'OS-FLV-DISABLED:disabled': false, vcpus: f.vcpus,
    'os-flavor-access:is_public': f.isPublic, rxtx_factor: 1.0, links: flavorLinks(ctx, f),
  };
  if (mvGe(mv, '2.55')) v.description = f.description;
  if (mvGe(mv, '2.61') && isAdmin(ctx)) v.extra_specs = { ...f.extraSpecs };
  return v;
}

function serverView(ctx: Ctx, s: FakeServer) {
  const { state } = ctx;
  const mv = ctx.mv!;
  const at = (v: string) => mvGe(mv, v);
  const flavor = state.flavors.find((f) => f.id === s.flavorId)!;
  const svc = s.host ? state.service(s.host) : undefined;
  const v: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status: state.serverStatus(s),
    tenant_id: s.tenantId,
    user_id: s.userId,
    metadata: {},
    hostId: s.host ? createHash('sha224').update(s.tenantId + s.host).digest('hex') : '',
    image: s.imageId
      ? { id: s.imageId, links: [{ rel: 'bookmark', href: `${ctx.prefix}/compute/images/${s.imageId}` }] }
      : '',
    flavor: at('2.47')
      ? { vcpus: flavor.vcpus, ram: flavor.ram, disk: flavor.disk, ephemeral: flavor.ephemeral, swap: flavor.swap, original_name: flavor.name, extra_specs: { ...flavor.extraSpecs } }
      : { id: flavor.id, links: [{ rel: 'bookmark', href: `${ctx.prefix}/compute/flavors/${flavor.id}` }] },
    created: s.created,
    updated: s.updated,
    addresses: {},
    accessIPv4: '',
    accessIPv6: '',
    links: [
      { rel: 'self', href: `${ctx.prefix}/compute/v2.1/servers/${s.id}` },
      { rel: 'bookmark', href: `${ctx.prefix}/compute/servers/${s.id}` },
    ],
    'OS-DCF:diskConfig': 'MANUAL',
    progress: 0,
    'OS-EXT-AZ:availability_zone': 'nova',
    config_drive: '',
    key_name: null,
    'OS-SRV-USG:launched_at': s.created.replace(/Z$/, '.000000'),
    'OS-SRV-USG:terminated_at': null,
    'OS-EXT-SRV-ATTR:host': s.host,
    'OS-EXT-SRV-ATTR:instance_name': s.instanceName,
    'OS-EXT-SRV-ATTR:hypervisor_hostname': s.host,
  };
  if (at('2.3')) {
    Object.assign(v, {
      'OS-EXT-SRV-ATTR:reservation_id': `r-${s.id.slice(0, 8)}`, 'OS-EXT-SRV-ATTR:launch_index': 0, 'OS-EXT-SRV-ATTR:hostname': s.name,
      'OS-EXT-SRV-ATTR:kernel_id': '', 'OS-EXT-SRV-ATTR:ramdisk_id': '', 'OS-EXT-SRV-ATTR:root_device_name': '/dev/sda',
      'OS-EXT-SRV-ATTR:user_data': null,
    });
  }
  Object.assign(v, {
    'OS-EXT-STS:task_state': s.taskState,
    'OS-EXT-STS:vm_state': s.vmState,
    'OS-EXT-STS:power_state': s.powerState,
    'os-extended-volumes:volumes_attached': [],
  });
  if (s.fault) v.fault = { ...s.fault };
  if (at('2.9')) v.locked = false;
  if (at('2.73')) v.locked_reason = null;
  if (at('2.19')) v.description = null;
  if (at('2.26')) v.tags = [];
  if (at('2.63')) v.trusted_image_certificates = null;
  if (at('2.16')) {
    v.host_status = !svc ? '' : state.serviceState(svc) === 'down' ? 'DOWN' : svc.status === 'disabled' ? 'MAINTENANCE' : 'UP';
  }
  if (at('2.96')) v.pinned_availability_zone = null;
  return v;
}

function migrationView(x: FakeMigration, mv: string) {
  const v: Record<string, unknown> = { id: x.id };
  if (mvGe(mv, '2.59')) v.uuid = x.uuid;
  Object.assign(v, {
    source_compute: x.source, dest_compute: x.dest, source_node: x.source, dest_node: x.dest, dest_host: x.dest ? '192.168.0.1' : null,
    old_instance_type_id: null, new_instance_type_id: null, instance_uuid: x.instanceUuid, status: x.status,
  });
  if (mvGe(mv, '2.23')) v.migration_type = x.type;
  v.created_at = x.created;
  v.updated_at = x.updated;
  if (mvGe(mv, '2.80')) { v.user_id = x.userId; v.project_id = x.projectId; }
  return v;
}

/** Nova's os-migrations index (nova/api/openstack/compute/migrations.py): filters, then newest first and paged from 2.59. */
function listMigrations(ctx: Ctx): Reply {
  const { state } = ctx;
  const mv = ctx.mv!;
  const at = (v: string) => mvGe(mv, v);
  const q = ctx.query;
  const time = (name: string, from: string): number | undefined | Reply => {
    const v = q.get(name);
    if (v === null || !at(from)) return undefined;
    const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
    if (Number.isNaN(t)) return novaFault(400, `Invalid input for query parameters ${name}. Value: ${v}. '${v}' is not a 'date-time'`);
    return t;
  };
  const since = time('changes-since', '2.59');
  if (typeof since === 'object') return since;
  const before = time('changes-before', '2.66');
  if (typeof before === 'object') return before;
  if (since !== undefined && before !== undefined && since > before) {
    return novaFault(400, 'The value of changes-since must be less than or equal to changes-before.');
  }
  const hiddenQ = q.get('hidden');
  const hidden = hiddenQ === null ? false : ['1', 'true', 'True', 'yes', 'on'].includes(hiddenQ);
  const eq = (name: string, v: string | null) => { const w = q.get(name); return w === null || w === v; };
  const updatedMs = (x: FakeMigration) => Date.parse(`${x.updated}Z`);
  let list = state.migrations.filter((x) => !!x.hidden === hidden
    && eq('migration_type', x.type) && eq('instance_uuid', x.instanceUuid) && eq('status', x.status) && eq('source_compute', x.source)
    && (q.get('host') === null || x.source === q.get('host') || x.dest === q.get('host'))
    && (since === undefined || updatedMs(x) >= since) && (before === undefined || updatedMs(x) <= before)
    && (!at('2.80') || (eq('user_id', x.userId) && eq('project_id', x.projectId))));
  // created_at desc, id desc
  list.sort((a, b) => (a.created === b.created ? b.id - a.id : a.created < b.created ? 1 : -1));
  let links = {};
  if (at('2.59')) {
    const pg = paginate(ctx, list, (x) => x.uuid, (marker) => {
      const mm = state.migrations.find((x) => x.uuid === marker);
      if (!mm) return undefined;
      const i = list.findIndex((x) => x.created < mm.created || (x.created === mm.created && x.id < mm.id));
      return i < 0 ? list.length : i;
    }, (marker) => novaFault(400, `Marker ${marker} could not be found.`));
    if ('status' in pg) return pg;
    list = pg.page;
    links = nextLinks(ctx, 'migrations', pg.next);
  }
  return { status: 200, body: { migrations: list.map((x) => migrationView(x, mv)), ...links } };
}

/**
 * As recorded on Zed (test/fixtures/openstack-zed/nova_*aggregate*): the create answer has no hosts/metadata and
 * microsecond times, later answers the database's whole seconds; set_metadata answers with an updated_at that is
 * not stored (later GETs show null); add_host/remove_host leave it alone.
 */
function aggregateView(ctx: Ctx, a: FakeAggregate, o: { created?: boolean; metadataAt?: number } = {}) {
  const v: Record<string, unknown> = { id: a.id };
  if (mvGe(ctx.mv!, '2.41')) v.uuid = a.uuid;
  v.name = a.name;
  if (!o.created) { v.hosts = [...a.hosts]; v.metadata = { ...a.metadata }; }
  const updated = o.metadataAt ?? a.updated;
  Object.assign(v, {
    created_at: o.created ? microTime(a.created) : novaTime(a.created), updated_at: updated === null ? null : microTime(updated),
    deleted_at: null, deleted: false, availability_zone: a.availabilityZone,
  });
  return v;
}

/** os-aggregates: GET, POST, GET/PUT/DELETE {id}, POST {id}/action add_host/remove_host/set_metadata */
function aggregates(ctx: Ctx, rest: string): Reply {
  const { state, method } = ctx;
  const b = ctx.body;
  const bad = (msg: string) => novaFault(400, msg);
  const validName = (n: unknown) => typeof n === 'string' && n.trim().length > 0 && n.length <= 255;
  if (rest === '' || rest === '/') {
    if (method === 'GET') return { status: 200, body: { aggregates: state.aggregates.map((a) => aggregateView(ctx, a)) } };
    if (method !== 'POST') return novaFault(405, 'The method is not allowed.');
    const agg = b?.aggregate;
    if (!agg || typeof agg !== 'object') return bad("Invalid input for field/attribute aggregate. Value: None. None is not of type 'object'");
    if (!validName(agg.name)) return bad(`Invalid input for field/attribute name. Value: ${agg.name}.`);
    const az = agg.availability_zone;
    if (az !== undefined && az !== null && !validName(az)) return bad(`Invalid input for field/attribute availability_zone. Value: ${az}.`);
    if (state.aggregates.some((a) => a.name === agg.name)) return novaFault(409, `Aggregate ${agg.name} already exists.`);
    const a = state.addAggregate(agg.name, [], az ? { availability_zone: az } : {});
    return { status: 200, body: { aggregate: aggregateView(ctx, a, { created: true }) } };
  }
  const m = /^\/([^/]+)(\/action)?$/.exec(rest);
  if (!m) return notModelled(ctx);
  const idText = decodeURIComponent(m[1]);
  if (!/^\d+$/.test(idText)) return bad(`Invalid aggregate id ${idText}`);
  const a = state.aggregates.find((x) => x.id === Number(idText));
  if (!a) return novaFault(404, `Aggregate ${idText} could not be found.`);
  if (!m[2]) {
    if (method === 'GET') return { status: 200, body: { aggregate: aggregateView(ctx, a) } };
    if (method === 'DELETE') {
      if (a.hosts.length) return bad(`Cannot delete aggregate ${a.id}: it still has hosts`);
      state.aggregates.splice(state.aggregates.indexOf(a), 1);
      return { status: 200, raw: '' };
    }
    if (method === 'PUT') {
      const agg = b?.aggregate;
      if (!agg || typeof agg !== 'object' || (!('name' in agg) && !('availability_zone' in agg))) {
        return bad("Invalid input for field/attribute aggregate. Value: {}. {} does not have enough properties");
      }
      if ('name' in agg) {
        if (!validName(agg.name)) return bad(`Invalid input for field/attribute name. Value: ${agg.name}.`);
        if (state.aggregates.some((x) => x !== a && x.name === agg.name)) return novaFault(409, `Aggregate ${agg.name} already exists.`);
        a.name = agg.name;
      }
      if ('availability_zone' in agg) {
        a.availabilityZone = agg.availability_zone ?? null;
        if (a.availabilityZone) a.metadata.availability_zone = a.availabilityZone; else delete a.metadata.availability_zone;
      }
      a.updated = Date.now();
      return { status: 200, body: { aggregate: aggregateView(ctx, a) } };
    }
    return novaFault(405, 'The method is not allowed.');
  }
  if (method !== 'POST') return novaFault(405, 'The method is not allowed.');
  const action = b && typeof b === 'object' ? Object.keys(b)[0] : undefined;
  const arg = action ? b[action] : undefined;
  if (action === 'add_host' || action === 'remove_host') {
    const host = arg?.host;
    if (typeof host !== 'string' || !host) return bad(`Invalid input for field/attribute host. Value: ${JSON.stringify(host)}.`);
    if (action === 'add_host') {
      if (!state.service(host)) return novaFault(404, `Compute host ${host} could not be found.`);
      if (a.hosts.includes(host)) return novaFault(409, `Cannot add host ${host} in aggregate ${a.id}: host exists`);
      a.hosts.push(host);
    } else {
      if (!a.hosts.includes(host)) return novaFault(404, `Cannot remove host ${host} in aggregate ${a.id}: not found`);
      a.hosts.splice(a.hosts.indexOf(host), 1);
    }
    return { status: 200, body: { aggregate: aggregateView(ctx, a) } };
  }
  if (action === 'set_metadata') {
    const md = arg?.metadata;
    if (!md || typeof md !== 'object' || Array.isArray(md)) return bad("Invalid input for field/attribute metadata. 'metadata' is a required property");
    for (const [k, v] of Object.entries(md)) {
      if (v === null) delete a.metadata[k];
      else if (typeof v !== 'string') return bad(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string', 'null'`);
      else a.metadata[k] = v;
    }
    a.availabilityZone = a.metadata.availability_zone ?? null;
    return { status: 200, body: { aggregate: aggregateView(ctx, a, { metadataAt: Date.now() }) } };
  }
  return bad(`Invalid request body: unknown action ${action}`);
}

/** A timer of the fake server (cleared when it closes). */
function laterOf(state: FakeState): (ms: number, fn: () => void) => void {
  return (ms, fn) => {
    const timer = setTimeout(() => { state.timers.delete(timer); fn(); }, ms);
    timer.unref();
    state.timers.add(timer);
  };
}

/** A volume attachment as Nova shows it: id until 2.88, tag from 2.70, delete_on_termination from 2.79, attachment_id and bdm_uuid from 2.89. */
function attachmentView(ctx: Ctx, s: FakeServer, volumeId: string, a: CinderFakeAttachment, listing: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { device: a.device, serverId: s.id, volumeId };
  if (!listing || !mvGe(ctx.mv!, '2.89')) out.id = volumeId;
  if (mvGe(ctx.mv!, '2.70')) out.tag = a.tag ?? null;
  if (mvGe(ctx.mv!, '2.79')) out.delete_on_termination = false;
  if (listing && mvGe(ctx.mv!, '2.89')) Object.assign(out, { attachment_id: a.id, bdm_uuid: a.id });
  return out;
}

/**
 * /servers/ID/os-volume_attachments: GET (the server's volumes), POST {volumeAttachment: {volumeId}} (200 with the
 * attachment; Cinder does the rest, see cinder-fake.ts), DELETE .../VOLUME_ID (202, no body). Nova's refusals: an
 * unknown volume 404, a volume not free to attach 400 (a multiattach one below 2.60 too), a volume not attached 404.
 */
function volumeAttachments(ctx: Ctx, s: FakeServer, volumeId: string | undefined): Reply {
  const { state, method } = ctx;
  const cinder = cinderOf(state);
  const mine = () => cinder.volumes.flatMap((v) => v.attachments.filter((a) => a.serverId === s.id).map((a) => ({ v, a })));
  if (method === 'GET' && volumeId === undefined) {
    return { status: 200, body: { volumeAttachments: mine().map(({ v, a }) => attachmentView(ctx, s, v.id, a, true)) } };
  }
  if (method === 'POST' && volumeId === undefined) {
    const b = ctx.body?.volumeAttachment;
    if (!b || typeof b !== 'object' || typeof b.volumeId !== 'string') {
      return novaFault(400, `Invalid input for field/attribute volumeAttachment. Value: ${JSON.stringify(ctx.body ?? null)}. 'volumeId' is a required property`);
    }
    const extra = Object.keys(b).filter((k) => k !== 'volumeId');
    if (extra.length) return notModelledReply(state, 'compute', `volumeAttachment.${extra[0]} (POST ${ctx.path})`);
    const v = cinder.volume(b.volumeId);
    if (!v || (!isAdmin(ctx) && v.projectId !== ctx.token!.projectId)) return novaFault(404, `Volume ${b.volumeId} could not be found.`);
    if (v.multiattach && !mvGe(ctx.mv!, '2.60')) return novaFault(400, 'Multiattach volumes are only supported starting with compute API version 2.60.');
    const att = cinder.beginAttach(v, s.id, s.host, laterOf(state));
    if (typeof att === 'string') return novaFault(400, att);
    const used = new Set(mine().map(({ a }) => a.device));
    att.device = ['b', 'c', 'd', 'e', 'f', 'g', 'h'].map((l) => `/dev/vd${l}`).find((d) => !used.has(d)) ?? '/dev/vdz';
    return { status: 200, body: { volumeAttachment: attachmentView(ctx, s, v.id, att, false) } };
  }
  if (method === 'DELETE' && volumeId !== undefined) {
    const found = mine().find(({ v }) => v.id === volumeId);
    if (!found) return novaFault(404, `Instance ${s.id} is not attached to volume ${volumeId}`);
    const refused = cinder.beginDetach(found.v, found.a, laterOf(state));
    if (refused) return novaFault(400, refused);
    return { status: 202, headers: { 'Content-Type': 'application/json' } };
  }
  return notModelled(ctx);
}

/** os-stop / os-start (nova/compute/api.py stop/start: check_instance_state, then an RPC cast to the compute host). */
function powerAction(ctx: Ctx, s: FakeServer, action: 'stop' | 'start'): Reply {
  const { state } = ctx;
  const allowed = action === 'stop' ? ['active', 'error'] : ['stopped'];
  if (s.taskState !== null) return novaFault(409, `Cannot '${action}' instance ${s.id} while it is in task_state ${s.taskState}`);
  if (!allowed.includes(s.vmState)) return novaFault(409, `Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
  s.taskState = action === 'stop' ? 'powering-off' : 'powering-on';
  s.updated = zTime();
  const fail = state.takePowerFailure(s, action);
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => { state.timers.delete(timer); fn(); }, ms);
    timer.unref();
    state.timers.add(timer);
  };
  const finish = () => {
    const svc = s.host ? state.service(s.host) : undefined;
    if (!svc || state.serviceState(svc) !== 'up') { later(50, finish); return; }
    s.taskState = null;
    s.updated = zTime();
    if (fail) return;
    s.vmState = action === 'stop' ? 'stopped' : 'active';
    s.powerState = action === 'stop' ? 4 : 1;
    s.fault = undefined;
  };
  later(state.powerDelayMs, finish);
  // no body, yet Content-Type application/json (recorded on Zed)
  return { status: 202, headers: { 'Content-Type': 'application/json' } };
}

function evacuate(ctx: Ctx, s: FakeServer, args: unknown): Reply {
  const { state } = ctx;
  const mv = ctx.mv!;
  if (!isAdmin(ctx)) return novaFault(403, "Policy doesn't allow os_compute_api:os-evacuate to be performed.");
  if (!args || typeof args !== 'object' || Array.isArray(args)) return novaFault(400, `Invalid input for field/attribute evacuate. Value: ${JSON.stringify(args)}. ${JSON.stringify(args)} is not of type 'object'`);
  const a = args as Record<string, unknown>;
  const allowed = ['host', 'adminPass'];
  if (!mvGe(mv, '2.14')) allowed.push('onSharedStorage');
  if (mvGe(mv, '2.29') && !mvGe(mv, '2.68')) allowed.push('force');
  if (mvGe(mv, '2.95')) allowed.push('targetState');
  const value = JSON.stringify(a);
  const unexpected = Object.keys(a).filter((k) => !allowed.includes(k));
  if (unexpected.length) {
    return novaFault(400, `Invalid input for field/attribute evacuate. Value: ${value}. Additional properties are not allowed ('${unexpected[0]}' was unexpected)`);
  }
  if (!mvGe(mv, '2.14') && typeof a.onSharedStorage !== 'boolean') {
    return novaFault(400, `Invalid input for field/attribute evacuate. Value: ${value}. 'onSharedStorage' is a required property`);
  }
  const target = a.host;
  if (target !== undefined) {
    if (typeof target !== 'string') return novaFault(400, `Invalid input for field/attribute host. Value: ${JSON.stringify(target)}.`);
    if (!state.service(target)) return novaFault(404, `Compute host ${target} could not be found.`);
    if (target === s.host) return novaFault(400, 'The target host can\'t be the same one.');
  }
  const source = s.host ? state.service(s.host) : undefined;
  if (source && state.serviceState(source) === 'up') return novaFault(400, `Compute service of ${s.host} is still in use.`);
  if (s.taskState !== null) return novaFault(409, `Cannot 'evacuate' instance ${s.id} while it is in task_state ${s.taskState}`);
  if (!['active', 'stopped', 'error'].includes(s.vmState)) return novaFault(409, `Cannot 'evacuate' instance ${s.id} while it is in vm_state ${s.vmState}`);

  const now = novaTime();
  const sourceHost = s.host;
  const migration: FakeMigration = {
    id: state.migrations.length + 1, uuid: randomUUID(), instanceUuid: s.id, source: sourceHost ?? '', dest: null, status: 'accepted',
    type: 'evacuation', created: now, updated: now, userId: ctx.token!.userId, projectId: s.tenantId,
  };
  state.migrations.push(migration);
  s.taskState = 'rebuilding';
  s.updated = zTime();
  const wasStopped = s.vmState === 'stopped';
  const planned = state.takeEvacuationFailure(s, sourceHost);
  // `force` (2.29-2.67) bypasses the scheduler's filters: a disabled target is fine, only a dead one is refused
  const forced = target !== undefined && a.force === true;
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => { state.timers.delete(timer); fn(); }, ms);
    timer.unref();
    state.timers.add(timer);
  };
  // the conductor schedules, then the destination claims (migration pre-migrating, dest set)
  const schedule = () => {
    const cp = state.controlPlaneState();
    // conductor down: the RPC cast waits in the queue; scheduler down: select_destinations times out and the
    // evacuation stays accepted/rebuilding (forced hosts skip the scheduler)
    if (!cp.conductor) { later(50, schedule); return; }
    if (!cp.scheduler && !forced) return;
    let dest: FakeService | undefined;
    if (target !== undefined) {
      const t = state.service(target);
      if (t && state.serviceState(t) === 'up' && (forced || t.status === 'enabled')) dest = t;
    } else {
      // least loaded up and enabled nova-compute other than the source, like a simple scheduler (O(hosts))
      let best = Infinity;
      for (const x of state.services) {
        if (x.binary !== 'nova-compute' || x.host === sourceHost || x.status !== 'enabled' || state.serviceState(x) !== 'up') continue;
        const n = state.countOn(x.host) + (state.claims.get(x.host) ?? 0);
        if (n < best) { best = n; dest = x; }
      }
    }
    migration.updated = novaTime();
    s.updated = zTime();
    if (!dest || planned === 'novalidhost') {
      // nova/conductor/manager.py rebuild_instance: NoValidHost → migration error, vm_state ERROR, task_state None
      // (the forced-host branch only sets the migration to error); the server stays on its source host
      s.taskState = null;
      migration.status = 'error';
      if (!forced) {
        s.vmState = 'error';
        s.fault = { code: 500, message: 'No valid host was found. There are not enough hosts available.', created: zTime() };
      }
      return;
    }
    migration.dest = dest.host;
    migration.status = 'pre-migrating';
    const destHost = dest.host;
    state.claims.set(destHost, (state.claims.get(destHost) ?? 0) + 1);
    later(state.evacuateDelayMs - Math.floor(state.evacuateDelayMs / 2), () => {
      const left = (state.claims.get(destHost) ?? 1) - 1;
      if (left > 0) state.claims.set(destHost, left); else state.claims.delete(destHost);
      s.host = destHost;
      s.taskState = null;
      s.updated = zTime();
      migration.updated = novaTime();
      if (planned === 'error') {
        // the rebuild failed on the destination: the compute manager errors the instance out and fails the migration
        s.vmState = 'error';
        s.fault = { code: 500, message: `Rebuild of instance ${s.id} failed on ${destHost} (injected)`, created: zTime() };
        migration.status = 'failed';
        return;
      }
      s.vmState = wasStopped ? 'stopped' : 'active';
      s.powerState = wasStopped ? 4 : 1;
      s.fault = undefined;
      migration.status = 'done';
    });
  };
  later(Math.floor(state.evacuateDelayMs / 2), schedule);
  if (!mvGe(mv, '2.14')) return { status: 200, body: { adminPass: randomBytes(9).toString('base64url') } };
  return { status: 200, raw: '' };
}

// ---------------------------------------------------------------------------------------------------- Glance

function glance(ctx: Ctx): Reply {
  const { state, method, path } = ctx;
  if (method === 'GET' && (path === '/image' || path === '/image/' || path === '/image/versions')) {
    // 300 at the root, 200 at /versions (recorded: glance_get_versions.json, glance_get_versions_path.json)
    const ids = ['v2.16', 'v2.15', 'v2.14', 'v2.9', 'v2.7', 'v2.6', 'v2.5', 'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0'];
    return {
      status: path === '/image/versions' ? 200 : 300,
      body: {
        versions: ids.map((id, i) => ({ id, status: i === 0 ? 'CURRENT' : 'SUPPORTED', links: [{ rel: 'self', href: `${ctx.prefix}/image/v2/` }] })),
      },
    };
  }
  const tok = authToken(ctx);
  if (!('userId' in tok)) return tok;
  ctx.token = tok;
  if (method === 'GET' && path === '/image/v2/images') {
    const admin = isAdmin(ctx);
    const list = state.images.filter((i) => admin || i.visibility === 'public' || i.owner === tok.projectId);
    const pg = paginate(ctx, list, (i) => i.id);
    if ('status' in pg) return glanceError(ctx, 400, 'marker could not be found.');
    const q = new URLSearchParams(ctx.query);
    const f = new URLSearchParams(ctx.query);
    f.delete('marker');
    // (recorded: glance_get_images.json: first keeps the query but the marker)
    const first = `/v2/images${[...f].length ? `?${f}` : ''}`;
    const body: Record<string, unknown> = { images: pg.page.map(imageView), first, schema: '/v2/schemas/images' };
    if (pg.next) {
      q.set('marker', pg.next);
      body.next = `/v2/images?${q}`;
    }
    return { status: 200, body };
  }
  let m: RegExpExecArray | null;
  if (method === 'GET' && (m = /^\/image\/v2\/images\/([^/]+)$/.exec(path))) {
    const img = state.images.find((i) => i.id === m![1]);
    if (!img) return glanceError(ctx, 404, `No image found with ID ${m[1]}`);
    return { status: 200, body: imageView(img) };
  }
  return notModelled(ctx);
}

/**
 * Glance's errors are webob's: JSON when the client accepts application/json (recorded: glance_get_image_not_found.json),
 * else text.
 */
function glanceError(ctx: Ctx, status: 400 | 404, detail: string): Reply {
  const code = `${status} ${TITLES[status]}`;
  const accept = String(ctx.headers.accept ?? '');
  if (/application\/json/i.test(accept)) {
    return { status, body: { message: `${detail}<br /><br />\n\n\n`, code, title: TITLES[status] } };
  }
  return { status, raw: `${code}\n\n${detail}\n\n`, headers: { 'Content-Type': 'text/plain; charset=UTF-8' } };
}

function imageView(i: FakeImage) {
  return {
    ...i.properties,
    id: i.id, name: i.name, status: 'active', visibility: i.visibility, protected: false, tags: [...i.tags],
    container_format: 'bare', disk_format: 'qcow2', min_ram: 0, min_disk: 0, size: 16338944, virtual_size: null,
    checksum: 'ee1eca47dc88f4879d8a229cc70a07c6', os_hidden: false, owner: i.owner,
    os_hash_algo: 'sha512',
    os_hash_value: '6b813aa46bb90b4da216a4d19376593fa3f4fc7e617f03a92b7fe11e9a3981cbe8f0959dbebe36225e5f53dc4492341a4863cac4ed1ee0909f3fc78ef9c3e869',
    created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
    self: `/v2/images/${i.id}`, file: `/v2/images/${i.id}/file`, schema: '/v2/schemas/image',
  };
}

// ---------------------------------------------------------------------------------------------------- control API

function control(state: FakeState, method: string, path: string, b: Record<string, any>): Reply {
  const ok = (body: unknown = {}): Reply => ({ status: 200, body });
  const bad = (message: string): Reply => ({ status: 400, body: { error: message } });
  try {
    switch (`${method} ${path}`) {
      case 'GET /_fake/state': return ok(state.dump());
      case 'POST /_fake/servers': {
        if (typeof b.host !== 'string') return bad('host is required');
        const created = state.addServers(b.host, Number(b.count ?? 1), { flavor: b.flavor, image: b.image, status: b.status, name: b.name });
        return ok({ servers: created.map((s) => ({ id: s.id, name: s.name, host: s.host })) });
      }
      case 'POST /_fake/kill': state.killService(String(b.host), b.binary ? String(b.binary) : undefined); return ok();
      case 'POST /_fake/revive': state.reviveService(String(b.host), b.binary ? String(b.binary) : undefined); return ok();
      case 'POST /_fake/fail': state.failNext(Number(b.count ?? 1), Number(b.status ?? 500), b.path ? String(b.path) : undefined); return ok();
      case 'POST /_fake/revoke': state.revokeAllTokens(); return ok();
      case 'POST /_fake/expire-tokens': state.expireTokens(); return ok();
      case 'POST /_fake/hang': state.hangNext(Number(b.count ?? 1), b.path ? String(b.path) : undefined); return ok();
      case 'POST /_fake/reset': state.resetNext(Number(b.count ?? 1), b.path ? String(b.path) : undefined); return ok();
      case 'POST /_fake/fail-evacuations': {
        if (b.serverIds !== undefined && !Array.isArray(b.serverIds)) return bad('serverIds must be a list');
        state.failEvacuations(Number(b.count ?? 1), {
          hostLike: b.hostLike === undefined ? undefined : String(b.hostLike), serverIds: b.serverIds?.map(String), kind: b.kind,
        });
        return ok();
      }
      case 'POST /_fake/fail-power-actions': {
        if (b.serverIds !== undefined && !Array.isArray(b.serverIds)) return bad('serverIds must be a list');
        state.failPowerActions(Number(b.count ?? 1), { action: b.action, serverIds: b.serverIds?.map(String) });
        return ok();
      }
      case 'POST /_fake/aggregates': {
        if (typeof b.name !== 'string') return bad('name is required');
        const a = state.addAggregate(b.name, Array.isArray(b.hosts) ? b.hosts.map(String) : [], b.metadata ?? {});
        return ok({ aggregate: { id: a.id, uuid: a.uuid, name: a.name } });
      }
      case 'POST /_fake/hosts': {
        const names: string[] = Array.isArray(b.names) ? b.names.map(String)
          : Array.from({ length: Number(b.count ?? 1) }, (_x, i) => `${b.prefix ?? 'compute'}${state.services.length + i + 1}`);
        for (const n of names) if (state.service(n)) return bad(`compute host ${n} exists`);
        for (const n of names) state.addComputeHost(n);
        return ok({ hosts: names });
      }
      case 'POST /_fake/keystone': state.keystoneDown = !!b.down; return ok();
      case 'POST /_fake/latency': state.latencyMs = Number(b.ms ?? 0); return ok();
      case 'POST /_fake/reset-requests': state.resetRequests(); return ok();
      default: return { status: 404, body: { error: `unknown control request ${method} ${path}` } };
    }
  } catch (e) {
    return bad((e as Error).message);
  }
}
