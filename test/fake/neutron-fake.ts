/**
 * The Networking API (Neutron v2.0, Zed: ML2 with the port_security extension driver and the L3 router service
 * plugin, as test/rig/openstack runs it) for the OpenStack fake, under /network (catalog type "network", unversioned
 * like the rig's http://127.0.0.1:9696):
 *   GET /network/v2.0/ports[?device_id=&network_id=&fixed_ips=subnet_id=X|ip_address=Y]   (admin: every project's)
 *   GET /network/v2.0/ports/ID                  404 PortNotFound when unknown
 *   PUT /network/v2.0/ports/ID {port: {allowed_address_pairs: [{ip_address[, mac_address]}]}}
 *       (the list is replaced; mac_address defaults to the port's; other attributes are not modelled: 501)
 *   GET /network/v2.0/subnets/ID                404 SubnetNotFound when unknown
 *   GET /network/v2.0/floatingips/ID            404 FloatingIPNotFound when unknown
 *   PUT /network/v2.0/floatingips/ID {floatingip: {port_id[, fixed_ip_address]}}   port_id null disassociates;
 *       the port's subnet must be an interface of a router whose gateway is on the floating IP's network (404
 *       ExternalGatewayForFloatingIPNotFound otherwise), a port with several IPv4 addresses needs fixed_ip_address
 *       (400), an address already associated with another floating IP is 409
 *   anything else                                501 (other query parameters too), counted by openstack-fake.ts
 * Without a valid token: keystonemiddleware's 401. Errors: {"NeutronError": {"type", "message", "detail"}}.
 * Test set-up (in-process): neutronOf(fake.state).addNetwork / addSubnet / addPort / addRouter / addFloatingIp, and
 * apiStatus (every authenticated call answers it, e.g. 503: "Neutron down").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type * as http from 'node:http';

export interface NeutronFakeNetwork { id: string; name: string; external: boolean; projectId: string }
export interface NeutronFakeSubnet { id: string; name: string; networkId: string; cidr: string; gatewayIp: string | null; projectId: string }
export interface NeutronFakePort {
  id: string; name: string; networkId: string; deviceId: string; deviceOwner: string; macAddress: string; status: string;
  fixedIps: { subnet_id: string; ip_address: string }[];
  allowedAddressPairs: { ip_address: string; mac_address: string }[];
  projectId: string; createdAt: string; updatedAt: string; revision: number;
}
export interface NeutronFakeRouter { id: string; externalNetworkId: string | null; subnetIds: string[] }
export interface NeutronFakeFloatingIp {
  id: string; floatingNetworkId: string; floatingIpAddress: string; portId: string | null; fixedIpAddress: string | null;
  routerId: string | null; projectId: string; createdAt: string; updatedAt: string; revision: number;
}

const nTime = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export class NeutronFakeState {
  networks: NeutronFakeNetwork[] = [];
  subnets: NeutronFakeSubnet[] = [];
  ports: NeutronFakePort[] = [];
  routers: NeutronFakeRouter[] = [];
  floatingIps: NeutronFakeFloatingIp[] = [];
  /** when set, every authenticated call answers this status */
  apiStatus?: number;

  constructor(private readonly projectId: () => string) {}

  addNetwork(o: { name?: string; external?: boolean } = {}): NeutronFakeNetwork {
    const n = { id: randomUUID(), name: o.name ?? `net${this.networks.length + 1}`, external: !!o.external, projectId: this.projectId() };
    this.networks.push(n);
    return n;
  }

  /** a subnet (on a new network unless networkId is given) */
  addSubnet(cidr: string, o: { networkId?: string; name?: string; external?: boolean } = {}): NeutronFakeSubnet {
    const networkId = o.networkId ?? this.addNetwork({ external: o.external }).id;
    const base = cidr.split('/')[0].split('.').slice(0, 3).join('.');
    const s = { id: randomUUID(), name: o.name ?? `subnet${this.subnets.length + 1}`, networkId, cidr, gatewayIp: `${base}.1`, projectId: this.projectId() };
    this.subnets.push(s);
    return s;
  }

  /** a port with these fixed IPs ([subnet id, address]); its network is the first subnet's */
  addPort(fixedIps: [subnetId: string, ip: string][], o: { deviceId?: string; deviceOwner?: string; pairs?: { ip_address: string; mac_address?: string }[] } = {}): NeutronFakePort {
    const net = this.subnets.find((s) => s.id === fixedIps[0]?.[0])?.networkId;
    if (!net) throw new Error('addPort: the first fixed IP needs a known subnet');
    const mac = `fa:16:3e:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;
    const p: NeutronFakePort = {
      id: randomUUID(), name: '', networkId: net, deviceId: o.deviceId ?? '', deviceOwner: o.deviceOwner ?? (o.deviceId ? 'compute:nova' : ''),
      macAddress: mac, status: 'ACTIVE', fixedIps: fixedIps.map(([subnet_id, ip_address]) => ({ subnet_id, ip_address })),
      allowedAddressPairs: (o.pairs ?? []).map((a) => ({ ip_address: a.ip_address, mac_address: a.mac_address ?? mac })),
      projectId: this.projectId(), createdAt: nTime(), updatedAt: nTime(), revision: 1,
    };
    this.ports.push(p);
    return p;
  }

  /** a router with its gateway on externalNetworkId and an interface on each of subnetIds */
  addRouter(externalNetworkId: string | null, subnetIds: string[]): NeutronFakeRouter {
    const r = { id: randomUUID(), externalNetworkId, subnetIds: [...subnetIds] };
    this.routers.push(r);
    return r;
  }

  addFloatingIp(networkId: string, address: string): NeutronFakeFloatingIp {
    const f: NeutronFakeFloatingIp = {
      id: randomUUID(), floatingNetworkId: networkId, floatingIpAddress: address, portId: null, fixedIpAddress: null, routerId: null,
      projectId: this.projectId(), createdAt: nTime(), updatedAt: nTime(), revision: 0,
    };
    this.floatingIps.push(f);
    return f;
  }

  port(id: string): NeutronFakePort | undefined { return this.ports.find((p) => p.id === id); }
}

/** What the fake server knows that Neutron needs (structurally, from openstack-fake's FakeState). */
export interface NeutronHost {
  tokens: Map<string, { userId: string; projectId: string | null; expiresAt: number }>;
  users: { id: string; roles: string[]; projectId: string }[];
  baseUrl: string;
}

const states = new WeakMap<object, NeutronFakeState>();
/** The Neutron state of a fake server (created on first use). */
export function neutronOf(host: NeutronHost): NeutronFakeState {
  let s = states.get(host);
  if (!s) { s = new NeutronFakeState(() => host.users[0]?.projectId ?? ''); states.set(host, s); }
  return s;
}

export interface NeutronRequest {
  method: string;
  /** path without interface/region prefix, starting with /network */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body?: any;
  bodyError?: string;
}

export interface NeutronReply { status: number; body?: unknown; headers?: Record<string, string>; raw?: string }

const fault = (status: number, type: string, message: string): NeutronReply =>
  ({ status, body: { NeutronError: { type, message, detail: '' } } });

/** 501 for what this fake does not serve (openstack-fake.ts counts it; never a silent wrong answer). */
function notModelled(req: NeutronRequest, what = `${req.method} ${req.path}`): NeutronReply {
  return fault(501, 'HTTPNotImplemented', `The OpenStack simulator (test/fake) does not model ${what}`);
}

/** Handle a request to /network/... */
export function neutronRoute(host: NeutronHost, req: NeutronRequest): NeutronReply {
  const st = neutronOf(host);
  const m = /^\/network\/v2\.0\/(ports|subnets|floatingips)(?:\/([^/]+))?$/.exec(req.path);
  if (!m) return notModelled(req);
  const tokId = req.headers['x-auth-token'];
  const tok = typeof tokId === 'string' ? host.tokens.get(tokId) : undefined;
  if (!tok || tok.expiresAt <= Date.now()) {
    return { status: 401, body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } },
      headers: { 'WWW-Authenticate': `Keystone uri="${host.baseUrl}/identity/v3"` } };
  }
  const extra = [...new Set(req.query.keys())].filter((k) => !(req.method === 'GET' && m[1] === 'ports' && !m[2] && QUERY.includes(k)));
  if (extra.length) return notModelled(req, `the query parameter${extra.length > 1 ? 's' : ''} ${extra.join(', ')} of ${req.method} ${req.path}`);
  if (st.apiStatus) return fault(st.apiStatus, st.apiStatus >= 500 ? 'HTTPServiceUnavailable' : 'HTTPBadRequest', `Injected failure ${st.apiStatus}`);
  const admin = !!host.users.find((u) => u.id === tok.userId)?.roles.includes('admin');
  const visible = (o: { projectId: string }) => admin || o.projectId === tok.projectId;
  const [, kind, id] = m;
  if (req.method === 'GET' && kind === 'ports' && !id) return { status: 200, body: { ports: listPorts(st, req.query).filter(visible).map(portView) } };
  if (!id) return notModelled(req);
  const key = decodeURIComponent(id);
  if (kind === 'ports') {
    const p = st.port(key);
    if (!p || !visible(p)) return fault(404, 'PortNotFound', `Port ${key} could not be found.`);
    if (req.method === 'GET') return { status: 200, body: { port: portView(p) } };
    if (req.method === 'PUT') return updatePort(req, p);
  }
  if (kind === 'subnets' && req.method === 'GET') {
    const s = st.subnets.find((x) => x.id === key && visible(x));
    return s ? { status: 200, body: { subnet: subnetView(s) } } : fault(404, 'SubnetNotFound', `Subnet ${key} could not be found.`);
  }
  if (kind === 'floatingips' && (req.method === 'GET' || req.method === 'PUT')) {
    const f = st.floatingIps.find((x) => x.id === key && visible(x));
    if (!f) return fault(404, 'FloatingIPNotFound', `Floating IP ${key} could not be found`);
    return req.method === 'GET' ? { status: 200, body: { floatingip: fipView(st, f) } } : updateFloatingIp(st, req, f);
  }
  return notModelled(req);
}

const QUERY = ['device_id', 'network_id', 'fixed_ips'];

/** Neutron's filters: values of one key OR'd, keys AND'ed; fixed_ips=subnet_id=X / fixed_ips=ip_address=Y */
function listPorts(st: NeutronFakeState, q: URLSearchParams): NeutronFakePort[] {
  const any = (key: string, test: (v: string, p: NeutronFakePort) => boolean) => (p: NeutronFakePort) => {
    const vs = q.getAll(key);
    return !vs.length || vs.some((v) => test(v, p));
  };
  const fixed = (v: string, p: NeutronFakePort) => {
    const [k, val] = v.split('=', 2);
    return p.fixedIps.some((f) => (k === 'subnet_id' ? f.subnet_id : k === 'ip_address' ? f.ip_address : undefined) === val);
  };
  return st.ports.filter(any('device_id', (v, p) => p.deviceId === v)).filter(any('network_id', (v, p) => p.networkId === v))
    .filter(any('fixed_ips', fixed));
}

function updatePort(req: NeutronRequest, p: NeutronFakePort): NeutronReply {
  if (req.bodyError) return fault(400, 'HTTPBadRequest', req.bodyError);
  const port = req.body?.port;
  if (!port || typeof port !== 'object') return fault(400, 'HTTPBadRequest', 'Resource body required');
  const keys = Object.keys(port);
  if (keys.some((k) => k !== 'allowed_address_pairs')) return notModelled(req, `updating the port attributes ${keys.filter((k) => k !== 'allowed_address_pairs').join(', ')}`);
  const pairs = port.allowed_address_pairs;
  if (!Array.isArray(pairs)) return fault(400, 'HTTPBadRequest', `Invalid input for allowed_address_pairs. Reason: Allowed address pairs must be a list.`);
  const out: { ip_address: string; mac_address: string }[] = [];
  for (const a of pairs) {
    if (!a || typeof a.ip_address !== 'string' || !/^[\d.]+(\/\d+)?$|:/.test(a.ip_address)) {
      return fault(400, 'HTTPBadRequest', `Invalid input for allowed_address_pairs. Reason: AllowedAddressPair must contain ip_address.`);
    }
    const pair = { ip_address: a.ip_address, mac_address: typeof a.mac_address === 'string' ? a.mac_address : p.macAddress };
    if (out.some((x) => x.ip_address === pair.ip_address && x.mac_address === pair.mac_address)) {
      return fault(400, 'HTTPBadRequest', 'Invalid input for allowed_address_pairs. Reason: Request contains duplicate address pair: ' +
        `mac_address ${pair.mac_address} ip_address ${pair.ip_address}.`);
    }
    out.push(pair);
  }
  p.allowedAddressPairs = out;
  p.updatedAt = nTime();
  p.revision++;
  return { status: 200, body: { port: portView(p) } };
}

function updateFloatingIp(st: NeutronFakeState, req: NeutronRequest, f: NeutronFakeFloatingIp): NeutronReply {
  if (req.bodyError) return fault(400, 'HTTPBadRequest', req.bodyError);
  const b = req.body?.floatingip;
  if (!b || typeof b !== 'object' || !('port_id' in b)) return notModelled(req, 'a floating IP update without port_id');
  if (Object.keys(b).some((k) => k !== 'port_id' && k !== 'fixed_ip_address')) return notModelled(req, `updating the floating IP attributes ${Object.keys(b).join(', ')}`);
  if (b.port_id === null) {
    Object.assign(f, { portId: null, fixedIpAddress: null, routerId: null });
  } else {
    const p = st.port(String(b.port_id));
    if (!p) return fault(404, 'PortNotFound', `Port ${b.port_id} could not be found.`);
    const v4 = p.fixedIps.filter((x) => x.ip_address.includes('.'));
    if (!b.fixed_ip_address && v4.length > 1) {
      return fault(400, 'BadRequest', `Bad floatingip request: Port ${p.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP.`);
    }
    const fixed = b.fixed_ip_address ? v4.find((x) => x.ip_address === b.fixed_ip_address) : v4[0];
    if (!fixed) return fault(400, 'BadRequest', `Bad floatingip request: Port ${p.id} does not have fixed ip ${b.fixed_ip_address}.`);
    const router = st.routers.find((r) => r.externalNetworkId === f.floatingNetworkId && r.subnetIds.includes(fixed.subnet_id));
    if (!router) {
      return fault(404, 'ExternalGatewayForFloatingIPNotFound', `External network ${f.floatingNetworkId} is not reachable from subnet ` +
        `${fixed.subnet_id}.  Therefore, cannot associate Port ${p.id} with a Floating IP.`);
    }
    const other = st.floatingIps.find((x) => x !== f && x.portId === p.id && x.fixedIpAddress === fixed.ip_address);
    if (other) {
      return fault(409, 'FloatingIPPortAlreadyAssociated', `Cannot associate floating IP ${f.floatingIpAddress} (${f.id}) with port ${p.id} ` +
        `using fixed IP ${fixed.ip_address}, as that fixed IP already has a floating IP on external network ${f.floatingNetworkId}.`);
    }
    Object.assign(f, { portId: p.id, fixedIpAddress: fixed.ip_address, routerId: router.id });
  }
  f.updatedAt = nTime();
  f.revision++;
  return { status: 200, body: { floatingip: fipView(st, f) } };
}

function std(o: { projectId: string; createdAt: string; updatedAt: string; revision: number }) {
  return { tags: [], created_at: o.createdAt, updated_at: o.updatedAt, revision_number: o.revision, project_id: o.projectId };
}

/** the project's "default" security group, which real Neutron gives every new port (recorded: one id) */
const DEFAULT_SECURITY_GROUP = '5f3a6c52-0d6e-4b8e-9a51-3c2f7d9e1b40';

function portView(p: NeutronFakePort) {
  return {
    id: p.id, name: p.name, network_id: p.networkId, tenant_id: p.projectId, mac_address: p.macAddress, admin_state_up: true,
    status: p.status, device_id: p.deviceId, device_owner: p.deviceOwner, fixed_ips: p.fixedIps.map((f) => ({ ...f })),
    allowed_address_pairs: p.allowedAddressPairs.map((a) => ({ ...a })), extra_dhcp_opts: [], security_groups: [DEFAULT_SECURITY_GROUP],
    description: '', 'binding:vnic_type': 'normal', 'binding:profile': {}, 'binding:host_id': '', 'binding:vif_type': 'unbound',
    'binding:vif_details': {}, port_security_enabled: true, ...std(p),
  };
}

function subnetView(s: NeutronFakeSubnet) {
  const base = s.cidr.split('/')[0].split('.').slice(0, 3).join('.');
  return {
    id: s.id, name: s.name, tenant_id: s.projectId, network_id: s.networkId, ip_version: 4, subnetpool_id: null, enable_dhcp: false,
    ipv6_ra_mode: null, ipv6_address_mode: null, gateway_ip: s.gatewayIp, cidr: s.cidr,
    allocation_pools: [{ start: `${base}.2`, end: `${base}.254` }], host_routes: [], dns_nameservers: [], description: '',
    service_types: [], tags: [], created_at: '2022-10-05T00:00:00Z', updated_at: '2022-10-05T00:00:00Z', revision_number: 0, project_id: s.projectId,
  };
}

function fipView(st: NeutronFakeState, f: NeutronFakeFloatingIp) {
  const p = f.portId ? st.port(f.portId) : undefined;
  return {
    id: f.id, tenant_id: f.projectId, floating_network_id: f.floatingNetworkId, router_id: f.routerId, fixed_ip_address: f.fixedIpAddress,
    floating_ip_address: f.floatingIpAddress, port_id: f.portId, status: 'DOWN', description: '',
    port_details: p ? {
      name: p.name, network_id: p.networkId, mac_address: p.macAddress, admin_state_up: true, status: p.status, device_id: p.deviceId,
      device_owner: p.deviceOwner,
    } : null,
    ...std(f),
  };
}
