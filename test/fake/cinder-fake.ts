/**
 * The Block Storage API (Cinder v3, Zed: microversions 3.0 to 3.70) for the OpenStack fake, under /volume:
 *   GET /volume                          300 version list
 *   GET /volume/v3/                      200 version document (with a token; 401 without, like Cinder)
 *   GET /volume/v3[/PROJECT]/types       volume types (any valid token)
 *   GET /volume/v3[/PROJECT]/os-services services (admin; ?host= ?binary= filters), state from the last report
 *   anything else                        501 notImplemented naming the request (other query parameters: see
 *                                        QUERY_MODELLED in openstack-fake.ts)
 * Test control (no token; the fake's /_fake control API belongs to openstack-fake.ts):
 *   POST /volume/_control/report   {binary, host[, zone]}   a service reports (like report_state): up from now
 *   POST /volume/_control/service  {binary, host, status?, disabled_reason?, down?}   set status / force down
 *   POST /volume/_control/config   {service_down_ms?, api_status?}   report age after which a service is down
 *                                   (default 60000, Cinder's service_down_time); api_status: every v3 call answers it
 *   GET  /volume/_control/state
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

export class CinderFakeState {
  services: CinderFakeService[] = [];
  types = [
    { id: randomUUID(), name: '__DEFAULT__', description: 'Default Volume Type', is_public: true, extra_specs: {} as Record<string, string> },
    { id: randomUUID(), name: 'ceph', description: null, is_public: true, extra_specs: { volume_backend_name: 'ceph' } as Record<string, string> },
  ];
  serviceDownMs = 60000;
  /** when set, every authenticated v3 call answers this status */
  apiStatus?: number;

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
  return notModelled(req);
}

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
    return ok({ services: st.services.map((s) => ({ ...s, state: st.isUp(s) ? 'up' : 'down' })), serviceDownMs: st.serviceDownMs, apiStatus: st.apiStatus ?? null });
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
  if (what === 'config') {
    if (b.service_down_ms !== undefined) st.serviceDownMs = Number(b.service_down_ms);
    if (b.api_status !== undefined) st.apiStatus = Number(b.api_status) || undefined;
    return ok();
  }
  return { status: 404, body: { error: `unknown control request ${method} ${what}` } };
}
