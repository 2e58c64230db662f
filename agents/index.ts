/** The registry of agents served by the multi-call binary (bin/main.ts). */
import type { AgentEntry } from '../lib/runtime/agent';
import { fenceCompute } from './fence_compute';
import { fenceEvacuate } from './fence_evacuate';
import { fenceOpenstack } from './fence_openstack';
import { fenceVirsh } from './fence_virsh';
import { novaEvacuate } from './NovaEvacuate';
import { novaComputeWait } from './nova-compute-wait';
import { novaCompute } from './NovaCompute';
import { SERVICE_AGENTS } from './openstack-services';
import { openstackInfo } from './openstack-info';
import { openstackVirtualIp } from './openstack-virtual-ip';
import { openstackFloatingIp } from './openstack-floating-ip';
import { openstackCinderVolume } from './openstack-cinder-volume';

export type { AgentEntry };

export const AGENTS: Record<string, AgentEntry> = {
  fence_compute: fenceCompute,
  fence_evacuate: fenceEvacuate,
  fence_openstack: fenceOpenstack,
  fence_virsh: fenceVirsh,
  NovaEvacuate: novaEvacuate,
  'nova-compute-wait': novaComputeWait,
  NovaCompute: novaCompute,
  ...SERVICE_AGENTS,
  'openstack-info': openstackInfo,
  'openstack-virtual-ip': openstackVirtualIp,
  'openstack-floating-ip': openstackFloatingIp,
  'openstack-cinder-volume': openstackCinderVolume,
};
