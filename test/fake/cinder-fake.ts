/**
 * The Block Storage API (Cinder v3, Zed: microversions 3.0 to 3.70) for the OpenStack fake, under /volume:
 *   GET /volume                          300 version list
 *   GET /volume/v3/                      200 version document (with a token; 401 without, like Cinder)
 *   GET /volume/v3[/PROJECT]/types       volume types (any valid token)
 *   GET /volume/v3[/PROJECT]/os-services services (admin; ?host= ?binary= filters), state from the last report
 *   GET /volume/v3[/PROJECT]/volumes/ID  one volume (its project's, or any for an admin; 404 itemNotFound otherwise),
 *                                        with the attachments that are done (Cinder lists no attachment while it is
 *                                        attaching) and multiattach; the fields of later microversions by microversion
 *   anything else                        501 notImplemented naming the request (other query parameters: see
 *                                        QUERY_MODELLED in openstack-fake.ts)
 * Test control (no token; the fake's /_fake control API belongs to openstack-fake.ts):
 *   POST /volume/_control/report   {binary, host[, zone]}   a service reports (like report_state): up from now
 *   POST /volume/_control/service  {binary, host, status?, disabled_reason?, down?}   set status / force down
 *   POST /volume/_control/config   {service_down_ms?, api_status?}   report age after which a service is down
 *                                   (default 60000, Cinder's service_down_time); api_status: every v3 call answers it
 *   POST /volume/_control/volume   {name?, size?, multiattach?, volume_type?, project_id?, id?}   create an available volume
 *   POST /volume/_control/stall    {count}   the next count attachments stay "attaching" (never done; a detach of such a
 *                                   volume is refused like Cinder's begin_detaching); counted in faults.attachStalls
 *   GET  /volume/_control/state
 * Attachments are made by Nova (openstack-fake.ts: POST/DELETE /servers/ID/os-volume_attachments) through
 * beginAttach/beginDetach: available → attaching → in-use after attachDelayMs (the attachment listed from then on),
 * in-use → detaching → available (or in-use while other attachments remain) after detachDelayMs.
 * Shapes follow the Block Storage API v3 reference (os-services at the base microversion: binary, host, zone, status,
 * state, updated_at, disabled_reason; cinder-volume entries also replication_status, active_backend_id, frozen; plus
 * cluster from 3.7 and backend_state from 3.49).
 */
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';

export interface CinderFakeService {
  binary: string; host: string; zone: string; status: 'enabled' | 'disabled'; disabledReason: string | null;
  /** epoch ms of the last report; 0: never */
  reportedAt: number;
  forcedDown: boolean;
}

/** One attachment (a Nova block device mapping and its Cinder attachment). */
export interface CinderFakeAttachment {
  /** Cinder's attachment id */
  id: string;
  serverId: string;
  /** the server's compute host (Cinder's host_name) */
  hostName: string | null;
  device: string;
  /** attaching (not listed by Cinder yet), attached, detaching (still listed) */
  state: 'attaching' | 'attached' | 'detaching';
  /** epoch ms once attached */
  attachedAt: number;
  /** when set, Nova's tag (2.49+) */
  tag?: string | null;
}

export interface CinderFakeVolume {
  id: string; name: string; size: number; status: string; multiattach: boolean; volumeType: string; projectId: string;
  userId: string; created: number; updated: number; attachments: CinderFakeAttachment[];
}

/** Schedules fn after ms (the fake server's timers, cleared when it closes). */
export type Later = (ms: number, fn: () => void) => void;

export class CinderFakeState {
  services: CinderFakeService[] = [];
  types = [
    { id: randomUUID(), name: '__DEFAULT__', description: 'Default Volume Type', is_public: true, extra_specs: {} as Record<string, string> },
    { id: randomUUID(), name: 'ceph', description: null, is_public: true, extra_specs: { volume_backend_name: 'ceph' } as Record<string, string> },
  ];
  serviceDownMs = 60000;
  /** when set, every authenticated v3 call answers this status */
  apiStatus?: number;
  volumes: CinderFakeVolume[] = [];
  attachDelayMs = 30;
  detachDelayMs = 30;
  /** attachments still to stall (stallAttachments) */
  stallCount = 0;
  faults = { attachStalls: 0 };

  /** An available volume of a project (default: 1 GiB, not multiattach, type __DEFAULT__ or multiattach). */
  addVolume(o: { id?: string; name?: string; size?: number; multiattach?: boolean; volumeType?: string; projectId: string; userId?: string }): CinderFakeVolume {
    const now = Date.now();
    const v: CinderFakeVolume = {
      id: o.id ?? randomUUID(), name: o.name ?? `vol-${this.volumes.length + 1}`, size: o.size ?? 1, status: 'available',
      multiattach: o.multiattach ?? false, volumeType: o.volumeType ?? (o.multiattach ? 'multiattach' : '__DEFAULT__'),
      projectId: o.projectId, userId: o.userId ?? '', created: now, updated: now, attachments: [],
    };
    this.volumes.push(v);
    return v;
  }

  volume(id: string): CinderFakeVolume | undefined { return this.volumes.find((v) => v.id === id); }

  /** The next `count` attachments stay attaching. */
  stallAttachments(count: number): void { this.stallCount += count; }

  /**
   * Nova attaches the volume to a server (the checks Nova and Cinder make, in their words); the error message, or
   * the new attachment (done after attachDelayMs, unless stalled).
   */
  beginAttach(v: CinderFakeVolume, serverId: string, hostName: string | null, later: Later): CinderFakeAttachment | string {
    if (v.attachments.some((a) => a.serverId === serverId)) return `Invalid volume: volume ${v.id} already attached`;
    const free = v.status === 'available' || (v.multiattach && v.status === 'in-use');
    if (!free) {
      return `Invalid input received: Invalid volume: Volume status must be available or downloading to reserve, but the current status is ${v.status}.`;
    }
    const att: CinderFakeAttachment = { id: randomUUID(), serverId, hostName, device: '', state: 'attaching', attachedAt: 0 };
    v.attachments.push(att);
    v.status = 'attaching';
    v.updated = Date.now();
    if (this.stallCount > 0) {
      this.stallCount--;
      this.faults.attachStalls++;
      return att;
    }
    later(this.attachDelayMs, () => {
      if (!v.attachments.includes(att)) return;
      att.state = 'attached';
      att.attachedAt = Date.now();
      v.status = 'in-use';
      v.updated = Date.now();
    });
    return att;
  }

  /** Nova detaches it: the error message (Cinder's begin_detaching refuses a volume that is not in-use), or undefined. */
  beginDetach(v: CinderFakeVolume, att: CinderFakeAttachment, later: Later): string | undefined {
    if (v.status !== 'in-use' || att.state !== 'attached') {
      return 'Invalid volume: Unable to detach volume. Volume status must be \'in-use\' and attach_status must be \'attached\' to detach.';
    }
    att.state = 'detaching';
    v.status = 'detaching';
    v.updated = Date.now();
    later(this.detachDelayMs, () => {
      v.attachments = v.attachments.filter((a) => a !== att);
      v.status = v.attachments.some((a) => a.state === 'attached') ? 'in-use' : 'available';
      v.updated = Date.now();
    });
    return undefined;
  }

  report(binary: string, host: string, zone = 'nova'): CinderFakeService {
    let s = this.services.find((x) => x.binary === binary && x.host === host);
    if (!s) {
      s = { binary, host, zone, status: 'enabled', disabledReason: null, reportedAt: 0, forcedDown: false };
      this.services.push(s);
    }
    s.reportedAt = Date.now();
    s.forcedDown = false;
    return s;
  }

  isUp(s: CinderFakeService): boolean { return !s.forcedDown && s.reportedAt > 0 && Date.now() - s.reportedAt < this.serviceDownMs; }
}

/** What the fake server knows that Cinder needs: tokens and users (structurally, from openstack-fake's FakeState). */
export interface CinderHost {
  tokens: Map<string, { userId: string; projectId: string | null; expiresAt: number }>;
  users: { id: string; roles: string[] }[];
  baseUrl: string;
}

const states = new WeakMap<object, CinderFakeState>();
/** The Cinder state of a fake server (created on first use). */
export function cinderOf(host: object): CinderFakeState {
  let s = states.get(host);
  if (!s) { s = new CinderFakeState(); states.set(host, s); }
  return s;
}

export interface CinderRequest {
  method: string;
  /** path without interface/region prefix, starting with /volume */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body?: any;
  /** URL prefix of the endpoint the request came to (http://127.0.0.1:P[/internal]) */
  prefix: string;
}

export interface CinderReply { status: number; body?: unknown; headers?: Record<string, string>; raw?: string }

const ZED_MAX = '3.70';
const cinderTime = (t: number) => new Date(t).toISOString().replace(/Z$/, '').replace(/\.(\d{3})$/, '.$1000');

function versionDoc(prefix: string) {
  return {
    id: 'v3.0', status: 'CURRENT', version: ZED_MAX, min_version: '3.0', updated: '2022-08-31T00:00:00Z',
    links: [{ rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' }, { rel: 'self', href: `${prefix}/volume/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

const fault = (status: number, key: string, message: string): CinderReply => ({ status, body: { [key]: { code: status, message } } });

/** Handle a request to /volume/... */
export function cinderRoute(host: CinderHost, req: CinderRequest): CinderReply {
  const st = cinderOf(host);
  const p = req.path.replace(/^\/volume/, '') || '/';
  if (p.startsWith('/_control/')) return control(st, req.method, p.slice('/_control/'.length), req.body ?? {});
  // Cinder's API answers (not keystonemiddleware's 401) carry the negotiated microversion, Vary and, like Nova,
  // X-Compute-Request-Id (recorded: cinder_get_versions.json, cinder_get_os_services.json)
  const mv = microversion(req.headers);
  if (mv === undefined) {
    return withVersion(notModelled(req, `the volume microversion ${String(req.headers['openstack-api-version'])} (only 3.0 to ${ZED_MAX} are modelled)`), 0);
  }
  return withVersion(route(host, st, req, p, mv), mv);
}

function withVersion(r: CinderReply, mv: number): CinderReply {
  if (r.status === 401) return r;
  return { ...r, headers: { 'OpenStack-API-Version': `volume 3.${mv}`, Vary: 'OpenStack-API-Version', 'X-Compute-Request-Id': '', ...r.headers } };
}

function route(host: CinderHost, st: CinderFakeState, req: CinderRequest, p: string, mv: number): CinderReply {
  if (req.method === 'GET' && p === '/') return { status: 300, body: { versions: [versionDoc(req.prefix)] } };
  const m = /^\/v3(?:\/([0-9a-f]{32}))?(\/.*)?$/.exec(p);
  if (!m) return notModelled(req);
  // everything under /v3 (its version document too) is behind keystonemiddleware (recorded: cinder_get_v3.json, 401
  // without a token)
  const tokId = req.headers['x-auth-token'];
  const tok = typeof tokId === 'string' ? host.tokens.get(tokId) : undefined;
  if (!tok || tok.expiresAt <= Date.now()) {
    return { status: 401, body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } },
      headers: { 'WWW-Authenticate': `Keystone uri="${host.baseUrl}/identity/v3"` } };
  }
  if (req.method === 'GET' && !m[1] && (m[2] === undefined || m[2] === '/')) return { status: 200, body: { versions: [versionDoc(req.prefix)] } };
  if (m[2] === undefined) return notModelled(req);
  if (m[1] && m[1] !== tok.projectId) return fault(403, 'forbidden', 'Policy doesn\'t allow this project.');
  if (st.apiStatus) return fault(st.apiStatus, st.apiStatus >= 500 ? 'computeFault' : 'badRequest', `Injected failure ${st.apiStatus}`);
  const sub = m[2];
  if (req.method === 'GET' && sub === '/types') {
    return { status: 200, body: { volume_types: st.types.map((t) => ({ ...t, qos_specs_id: null, 'os-volume-type-access:is_public': t.is_public })) } };
  }
  if (req.method === 'GET' && sub === '/os-services') {
    const user = host.users.find((u) => u.id === tok.userId);
    if (!user?.roles.includes('admin')) return fault(403, 'forbidden', 'Policy doesn\'t allow volume_extension:services:index to be performed.');
    const h = req.query.get('host');
    const b = req.query.get('binary');
    const services = st.services.filter((s) => (!h || s.host === h) && (!b || s.binary === b)).map((s) => {
      const out: Record<string, unknown> = {
        binary: s.binary, host: s.host, zone: s.zone, status: s.status, state: st.isUp(s) ? 'up' : 'down',
        updated_at: s.reportedAt ? cinderTime(s.reportedAt) : null, disabled_reason: s.disabledReason,
      };
      if (s.binary === 'cinder-volume') Object.assign(out, { replication_status: 'not-capable', active_backend_id: null, frozen: false });
      if (mv >= 7) out.cluster = null;
      if (mv >= 49 && s.binary === 'cinder-volume') out.backend_state = 'up';
      return out;
    });
    return { status: 200, body: { services } };
  }
  const vm = /^\/volumes\/([^/]+)$/.exec(sub);
  if (req.method === 'GET' && vm) {
    const admin = !!host.users.find((u) => u.id === tok.userId)?.roles.includes('admin');
    const v = st.volume(decodeURIComponent(vm[1]));
    if (!v || (!admin && v.projectId !== tok.projectId)) return fault(404, 'itemNotFound', `Volume ${decodeURIComponent(vm[1])} could not be found.`);
    return { status: 200, body: { volume: volumeView(req, v, mv, admin) } };
  }
  return notModelled(req);
}

/**
 * A volume as Cinder shows it (cinder/api/v3/views/volumes.py): the base fields, the admin-only ones, and those of
 * later microversions; attachments only once attached.
 */
function volumeView(req: CinderRequest, v: CinderFakeVolume, mv: number, admin: boolean): Record<string, unknown> {
  const self = `${req.prefix}/volume/v3/${v.projectId}/volumes/${v.id}`;
  const out: Record<string, unknown> = {
    id: v.id, status: v.status, size: v.size, availability_zone: 'nova', created_at: cinderTime(v.created),
    updated_at: cinderTime(v.updated), name: v.name, description: null, volume_type: v.volumeType, snapshot_id: null,
    source_volid: null, metadata: {}, links: [{ rel: 'self', href: self }, { rel: 'bookmark', href: self.replace('/v3/', '/') }],
    user_id: v.userId, bootable: 'false', encrypted: false, replication_status: null, consistencygroup_id: null,
    multiattach: v.multiattach, migration_status: null,
    attachments: v.attachments.filter((a) => a.state !== 'attaching').map((a) => ({
      id: v.id, attachment_id: a.id, volume_id: v.id, server_id: a.serverId, host_name: a.hostName, device: a.device,
      attached_at: cinderTime(a.attachedAt),
    })),
  };
  if (admin) {
    Object.assign(out, {
      'os-vol-tenant-attr:tenant_id': v.projectId, 'os-vol-host-attr:host': 'cinder-cluster-1@nfs#nfs',
      'os-vol-mig-status-attr:migstat': null, 'os-vol-mig-status-attr:name_id': null,
    });
  }
  if (mv >= 13) out.group_id = null;
  if (admin && mv >= 21) out.provider_id = null;
  if (mv >= 48) Object.assign(out, { service_uuid: SERVICE_UUID, shared_targets: false });
  if (admin && mv >= 61) out.cluster_name = null;
  if (mv >= 63) out.volume_type_id = VOLUME_TYPE_ID;
  if (mv >= 64) out.encryption_key_id = null;
  if (mv >= 65) out.consumes_quota = true;
  return out;
}
const SERVICE_UUID = randomUUID();
const VOLUME_TYPE_ID = randomUUID();

/** 501 for what this fake does not serve (the caller counts it; never a silent wrong answer). */
function notModelled(req: CinderRequest, what = `${req.method} ${req.path}`): CinderReply {
  return fault(501, 'notImplemented', `The OpenStack simulator (test/fake) does not model ${what}`);
}

/**
 * The requested volume microversion's minor number (3.0 when none); undefined for what is not modelled (above Zed's
 * 3.70, "latest", malformed: Cinder answers those 406/400, in a shape not recorded).
 */
function microversion(headers: http.IncomingHttpHeaders): number | undefined {
  const v = headers['openstack-api-version'];
  if (typeof v !== 'string' || !/\bvolume\b/i.test(v)) return 0;
  const m = /volume\s+3\.(\d+)\s*(,|$)/i.exec(v);
  if (!m || Number(m[1]) > Number(ZED_MAX.split('.')[1])) return undefined;
  return Number(m[1]);
}

function control(st: CinderFakeState, method: string, what: string, b: Record<string, any>): CinderReply {
  const ok = (body: unknown = {}): CinderReply => ({ status: 200, body });
  if (method === 'GET' && what === 'state') {
    return ok({
      services: st.services.map((s) => ({ ...s, state: st.isUp(s) ? 'up' : 'down' })), serviceDownMs: st.serviceDownMs, apiStatus: st.apiStatus ?? null,
      volumes: st.volumes, faults: { ...st.faults },
    });
  }
  if (method !== 'POST') return { status: 405, body: { error: 'POST only' } };
  if (what === 'report') {
    if (typeof b.binary !== 'string' || typeof b.host !== 'string') return { status: 400, body: { error: 'binary and host are required' } };
    st.report(b.binary, b.host, typeof b.zone === 'string' ? b.zone : undefined);
    return ok();
  }
  if (what === 'service') {
    const s = st.services.find((x) => x.binary === b.binary && x.host === b.host);
    if (!s) return { status: 404, body: { error: `no ${b.binary} on ${b.host}` } };
    if (b.status === 'enabled' || b.status === 'disabled') s.status = b.status;
    if (b.disabled_reason !== undefined) s.disabledReason = b.disabled_reason;
    if (b.down !== undefined) s.forcedDown = !!b.down;
    return ok();
  }
  if (what === 'volume') {
    if (typeof b.project_id !== 'string') return { status: 400, body: { error: 'project_id is required' } };
    const v = st.addVolume({ id: b.id, name: b.name, size: b.size, multiattach: !!b.multiattach, volumeType: b.volume_type, projectId: b.project_id });
    return ok({ volume: { id: v.id, name: v.name } });
  }
  if (what === 'stall') { st.stallAttachments(Number(b.count ?? 1)); return ok(); }
  if (what === 'config') {
    if (b.service_down_ms !== undefined) st.serviceDownMs = Number(b.service_down_ms);
    if (b.api_status !== undefined) st.apiStatus = Number(b.api_status) || undefined;
    return ok();
  }
  return { status: 404, body: { error: `unknown control request ${method} ${what}` } };
}
