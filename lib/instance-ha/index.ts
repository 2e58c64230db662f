/**
 * Instance HA, what the agents share: connection parameters and their mapping (params), the evacuation policy and
 * its settings (policy), node and Nova host names and fencing in Nova (hosts), the evacuate attribute protocol
 * (attributes), the fence agents' target (fence-host), holding nova-compute back until its host is unfenced (hold) and
 * the local Nova host name (nova-host). The evacuation engine (evacuate) and the status command
 * (status) are imported on their own, when needed: agent start-up (meta-data, a quiet monitor) does not load them.
 */
export * from './params';
export * from './policy';
export * from './hosts';
export * from './attributes';
export * from './marker';
export * from './hold';
export * from './nova-host';
