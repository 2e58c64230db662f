/** The registry of agents served by the multi-call binary. */
export interface AgentEntry {
  kind: 'ocf' | 'fence';
  summary: string;
  /** where the installer links it: OCF provider directory name or sbin */
  provider?: string;
  run(args: string[]): Promise<number>;
}

import { fenceCompute } from './fence_compute';
import { fenceEvacuate } from './fence_evacuate';
import { novaEvacuate } from './NovaEvacuate';
import { novaComputeWait } from './nova-compute-wait';
import { SERVICE_AGENTS } from './openstack-services';

export const AGENTS: Record<string, AgentEntry> = {
  fence_compute: fenceCompute,
  fence_evacuate: fenceEvacuate,
  NovaEvacuate: novaEvacuate,
  'nova-compute-wait': novaComputeWait,
  ...SERVICE_AGENTS,
};
