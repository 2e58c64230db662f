/** The Neutron client (lib/openstack/neutron.ts) against the simulator's Neutron (test/fake/neutron-fake.ts). */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { OpenStackError } from '../../lib/openstack/index';
import { networkBase } from '../../lib/openstack/neutron';
import { fakeCloud, type FakeCloud } from '../fake/harness';
import { neutronOf, type NeutronFakeState } from '../fake/neutron-fake';

let fc: FakeCloud;
let n: NeutronFakeState;

beforeAll(async () => {
  fc = await fakeCloud({}, { interface: 'internal' });
  n = neutronOf(fc.fake.state);
});
afterAll(async () => { await fc.close(); });

describe('Neutron client', () => {
  it('appends /v2.0 to an unversioned catalog URL only', () => {
    expect(networkBase('http://h:9696')).toBe('http://h:9696/v2.0');
    expect(networkBase('http://h:9696/')).toBe('http://h:9696/v2.0');
    expect(networkBase('https://h/network/v2.0/')).toBe('https://h/network/v2.0');
  });

  it('lists ports by device_id and by fixed_ips subnet_id, through the catalog\'s network endpoint (internal here)', async () => {
    const a = n.addSubnet('10.1.0.0/24');
    const b = n.addSubnet('10.2.0.0/24');
    const dev = randomUUID();
    const p1 = n.addPort([[a.id, '10.1.0.5']], { deviceId: dev });
    const p2 = n.addPort([[b.id, '10.2.0.5'], [a.id, '10.1.0.6']], { deviceId: dev });
    n.addPort([[a.id, '10.1.0.7']], { deviceId: randomUUID() });
    const neutron = fc.cloud.neutron();
    expect((await neutron.listPorts({ deviceId: dev })).map((p) => p.id).sort()).toEqual([p1.id, p2.id].sort());
    expect((await neutron.listPorts({ deviceId: dev, subnetId: b.id })).map((p) => p.id)).toEqual([p2.id]);
    expect((await neutron.listPorts({ networkId: b.networkId })).map((p) => p.id)).toEqual([p2.id]);
    const got = await neutron.getPort(p2.id);
    expect(got.fixedIps).toEqual([{ subnetId: b.id, ipAddress: '10.2.0.5' }, { subnetId: a.id, ipAddress: '10.1.0.6' }]);
    expect(got.deviceId).toBe(dev);
    expect(fc.fake.state.requests.filter((r) => r.path.startsWith('/network/')).every((r) => r.iface === 'internal')).toBe(true);
  });

  it('replaces allowed_address_pairs; Neutron fills in the port\'s MAC; duplicates are refused (400)', async () => {
    const s = n.addSubnet('10.3.0.0/24');
    const p = n.addPort([[s.id, '10.3.0.5']], { deviceId: randomUUID() });
    const neutron = fc.cloud.neutron();
    const after = await neutron.setAllowedAddressPairs(p.id, [{ ipAddress: '10.3.0.100' }, { ipAddress: '10.3.0.0/28', macAddress: 'fa:16:3e:00:00:01' }]);
    expect(after.allowedAddressPairs).toEqual([{ ipAddress: '10.3.0.100', macAddress: p.macAddress }, { ipAddress: '10.3.0.0/28', macAddress: 'fa:16:3e:00:00:01' }]);
    await expect(neutron.setAllowedAddressPairs(p.id, [{ ipAddress: '10.3.0.9' }, { ipAddress: '10.3.0.9' }])).rejects.toMatchObject({ status: 400 });
    expect((await neutron.getPort(p.id)).allowedAddressPairs).toHaveLength(2);
  });

  it('unknown port, subnet, floating IP: OpenStackError 404 with Neutron\'s message', async () => {
    const neutron = fc.cloud.neutron();
    const id = randomUUID();
    const err = await neutron.getPort(id).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err.status).toBe(404);
    expect(err.message).toContain(`Port ${id} could not be found.`);
    await expect(neutron.getSubnet(id)).rejects.toMatchObject({ status: 404 });
    await expect(neutron.getFloatingIp(id)).rejects.toMatchObject({ status: 404 });
  });

  it('associates and disassociates a floating IP (a router must join the subnet to its network)', async () => {
    const ext = n.addSubnet('198.51.100.0/24', { external: true });
    const s = n.addSubnet('10.4.0.0/24');
    const p = n.addPort([[s.id, '10.4.0.5']], { deviceId: randomUUID() });
    const f = n.addFloatingIp(ext.networkId, '198.51.100.7');
    const neutron = fc.cloud.neutron();
    await expect(neutron.setFloatingIpPort(f.id, p.id)).rejects.toMatchObject({ status: 404 });
    n.addRouter(ext.networkId, [s.id]);
    const on = await neutron.setFloatingIpPort(f.id, p.id, '10.4.0.5');
    expect(on).toMatchObject({ portId: p.id, fixedIpAddress: '10.4.0.5', floatingIpAddress: '198.51.100.7' });
    expect((await neutron.getFloatingIp(f.id)).portId).toBe(p.id);
    expect((await neutron.setFloatingIpPort(f.id, null)).portId).toBeNull();
  });

  it('what the simulator does not model is a 501', async () => {
    await expect(fc.cloud.get(`${await fc.cloud.endpoint('network')}/v2.0/networks`)).rejects.toMatchObject({ status: 501 });
    await expect(fc.cloud.get(`${await fc.cloud.endpoint('network')}/v2.0/ports?name=x`)).rejects.toMatchObject({ status: 501 });
    // (a 5xx: the client tried each 3 times)
    expect(new Set(fc.fake.state.notModelled)).toEqual(new Set(['GET /network/v2.0/networks', 'GET /network/v2.0/ports']));
  });
});
