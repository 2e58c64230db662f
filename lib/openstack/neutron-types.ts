/**
 * The part of the Networking API (Neutron v2.0) the guest-cluster agents use: ports, subnets and floating IPs.
 * (Declared apart from types.ts, which imports the client interface from here.)
 */

export interface NeutronFixedIp { subnetId: string; ipAddress: string }

/** An allowed address pair: macAddress is the port's own MAC when Neutron filled it in. */
export interface NeutronAddressPair { ipAddress: string; macAddress?: string }

export interface NeutronPort {
  id: string;
  name: string;
  networkId: string;
  /** the server (Nova instance UUID) or router the port belongs to; '' when none */
  deviceId: string;
  deviceOwner: string;
  macAddress: string;
  status: string;
  fixedIps: NeutronFixedIp[];
  allowedAddressPairs: NeutronAddressPair[];
}

export interface NeutronSubnet { id: string; name: string; networkId: string; cidr: string; ipVersion: number; gatewayIp: string | null }

export interface NeutronFloatingIp {
  id: string;
  floatingIpAddress: string;
  floatingNetworkId: string;
  /** the associated port, null when not associated */
  portId: string | null;
  fixedIpAddress: string | null;
  routerId: string | null;
  status: string;
}

export interface NeutronClient {
  /** GET /v2.0/ports with the filters given (device_id, network_id, fixed_ips=subnet_id=...) */
  listPorts(filter: { deviceId?: string; networkId?: string; subnetId?: string }): Promise<NeutronPort[]>;
  /** 404 (OpenStackError status 404) when there is no such port */
  getPort(id: string): Promise<NeutronPort>;
  /** PUT the port's whole allowed_address_pairs list (Neutron replaces the list) */
  setAllowedAddressPairs(portId: string, pairs: NeutronAddressPair[]): Promise<NeutronPort>;
  getSubnet(id: string): Promise<NeutronSubnet>;
  getFloatingIp(id: string): Promise<NeutronFloatingIp>;
  /** PUT port_id (and fixed_ip_address when given); portId null disassociates */
  setFloatingIpPort(id: string, portId: string | null, fixedIpAddress?: string): Promise<NeutronFloatingIp>;
}
