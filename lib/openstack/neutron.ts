/**
 * The Networking API (Neutron v2.0) as the guest-cluster agents need it: this server's ports (by device_id, by
 * fixed_ips subnet), one port, its allowed_address_pairs, a subnet, a floating IP and its association.
 *
 * The endpoint is the catalog's "network" URL (usually unversioned, http://HOST:9696); /v2.0 is appended unless the
 * URL already names it. Neutron answers errors as {"NeutronError": {"type", "message", "detail"}}: a missing port,
 * subnet or floating IP is a 404 (OpenStackError status 404).
 */
import type { Logger } from '../core/log';
import type { Session } from './session';
import type {
  NeutronAddressPair, NeutronClient, NeutronFixedIp, NeutronFloatingIp, NeutronPort, NeutronSubnet,
} from './neutron-types';

interface RawPort {
  id: string; name?: string; network_id: string; device_id?: string; device_owner?: string; mac_address: string;
  status?: string; fixed_ips?: { subnet_id: string; ip_address: string }[];
  allowed_address_pairs?: { ip_address: string; mac_address?: string }[];
}
interface RawSubnet { id: string; name?: string; network_id: string; cidr: string; ip_version: number; gateway_ip?: string | null }
interface RawFloatingIp {
  id: string; floating_ip_address: string; floating_network_id: string; port_id?: string | null;
  fixed_ip_address?: string | null; router_id?: string | null; status?: string;
}

/** The v2.0 API base of a catalog URL. */
export function networkBase(endpoint: string): string {
  const url = endpoint.replace(/\/+$/, '');
  return /\/v2\.0$/.test(url) ? url : `${url}/v2.0`;
}

function mapPort(p: RawPort): NeutronPort {
  return {
    id: p.id,
    name: p.name ?? '',
    networkId: p.network_id,
    deviceId: p.device_id ?? '',
    deviceOwner: p.device_owner ?? '',
    macAddress: p.mac_address,
    status: p.status ?? '',
    fixedIps: (p.fixed_ips ?? []).map((f): NeutronFixedIp => ({ subnetId: f.subnet_id, ipAddress: f.ip_address })),
    allowedAddressPairs: (p.allowed_address_pairs ?? []).map((a): NeutronAddressPair =>
      (a.mac_address ? { ipAddress: a.ip_address, macAddress: a.mac_address } : { ipAddress: a.ip_address })),
  };
}

function mapFloatingIp(f: RawFloatingIp): NeutronFloatingIp {
  return {
    id: f.id,
    floatingIpAddress: f.floating_ip_address,
    floatingNetworkId: f.floating_network_id,
    portId: f.port_id ?? null,
    fixedIpAddress: f.fixed_ip_address ?? null,
    routerId: f.router_id ?? null,
    status: f.status ?? '',
  };
}

export class Neutron implements NeutronClient {
  private base?: Promise<string>;

  constructor(private readonly session: Session, private readonly log: Logger) {}

  private api(): Promise<string> {
    if (!this.base) {
      this.base = this.session.endpoint('network').then((url) => {
        const b = networkBase(url);
        this.log.debug(`network API: ${b}`);
        return b;
      });
      this.base.catch(() => { this.base = undefined; });
    }
    return this.base;
  }

  private async call(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<any> {
    const res = await this.session.request({ method, url: (await this.api()) + path, body });
    return res.body;
  }

  async listPorts(filter: { deviceId?: string; networkId?: string; subnetId?: string }): Promise<NeutronPort[]> {
    const q = new URLSearchParams();
    if (filter.deviceId) q.set('device_id', filter.deviceId);
    if (filter.networkId) q.set('network_id', filter.networkId);
    if (filter.subnetId) q.set('fixed_ips', `subnet_id=${filter.subnetId}`);
    const qs = q.toString();
    const body = await this.call('GET', `/ports${qs ? `?${qs}` : ''}`);
    return ((body?.ports ?? []) as RawPort[]).map(mapPort);
  }

  async getPort(id: string): Promise<NeutronPort> {
    return mapPort((await this.call('GET', `/ports/${encodeURIComponent(id)}`)).port);
  }

  async setAllowedAddressPairs(portId: string, pairs: NeutronAddressPair[]): Promise<NeutronPort> {
    const raw = pairs.map((p) => (p.macAddress ? { ip_address: p.ipAddress, mac_address: p.macAddress } : { ip_address: p.ipAddress }));
    const body = await this.call('PUT', `/ports/${encodeURIComponent(portId)}`, { port: { allowed_address_pairs: raw } });
    return mapPort(body.port);
  }

  async getSubnet(id: string): Promise<NeutronSubnet> {
    const s = (await this.call('GET', `/subnets/${encodeURIComponent(id)}`)).subnet as RawSubnet;
    return { id: s.id, name: s.name ?? '', networkId: s.network_id, cidr: s.cidr, ipVersion: s.ip_version, gatewayIp: s.gateway_ip ?? null };
  }

  async getFloatingIp(id: string): Promise<NeutronFloatingIp> {
    return mapFloatingIp((await this.call('GET', `/floatingips/${encodeURIComponent(id)}`)).floatingip);
  }

  async setFloatingIpPort(id: string, portId: string | null, fixedIpAddress?: string): Promise<NeutronFloatingIp> {
    const fip: Record<string, unknown> = { port_id: portId };
    if (portId && fixedIpAddress) fip.fixed_ip_address = fixedIpAddress;
    const body = await this.call('PUT', `/floatingips/${encodeURIComponent(id)}`, { floatingip: fip });
    return mapFloatingIp(body.floatingip);
  }
}
