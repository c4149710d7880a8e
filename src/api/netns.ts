/** socketlab/netns: lab networks of network namespaces (root), for servers and clients given `host`. */
import { createTopology as create } from '../netns/topology.js';
import type { Topology, TopologyOptions, TopologySpec } from './types.js';

export type { ExecResult, Topology, TopologyHost, TopologyInterface, TopologyOptions, TopologySpec } from './types.js';

/**
 * Builds hosts `sl-<id>-<host>` joined by bridged segments; nothing is created in this machine's
 * own network namespace. Needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN). `await using` removes it all.
 */
export function createTopology(spec: TopologySpec, opts: TopologyOptions = {}): Promise<Topology> {
  return create(spec, opts);
}
