import { cleanNetns, createTopology } from '../netns/index.js';
import { bridgeName, namespaceName, switchNamespace } from '../netns/names.js';
import type { BuildOptions, HostBackend, HostTopology, SegmentTap, TopologySpec } from './backend.js';
import { processHost } from './local.js';

/** The hosts of a namespace topology: one `ip netns exec` prefix each. */
function hostsOf(spec: TopologySpec, id: string, opts: BuildOptions, ifaces: (host: string) => { segment: string; ifname: string; address?: string }[]) {
  return Object.fromEntries(
    spec.hosts.map((h) => {
      const ns = namespaceName(id, h.name);
      return [h.name, processHost(h.name, { prefix: ['ip', 'netns', 'exec', ns], netns: ns, interfaces: ifaces(h.name), ...(opts.mounts && { mounts: opts.mounts }) })];
    }),
  );
}

/** Network namespaces on this machine (root): src/netns does the building; this adapts it to HostBackend. */
export const netnsBackend: HostBackend = {
  name: 'netns',
  build: async (spec, opts): Promise<HostTopology> => {
    const topo = await createTopology(spec);
    const hosts = hostsOf(spec, topo.id, opts, (h) => topo.hosts[h]?.interfaces ?? []);
    const close = (): Promise<void> => topo.close();
    // every segment's bridge sits in the switch namespace
    const sw = switchNamespace(topo.id);
    const taps = Object.fromEntries((spec.segments ?? []).map((s): [string, SegmentTap] => [s.name, { ifname: bridgeName(s.name), netns: { prefix: ['ip', 'netns', 'exec', sw], label: sw } }]));
    return { backend: 'netns', id: topo.id, hosts, taps, close, [Symbol.asyncDispose]: close };
  },
  attach: async (spec, opts) => {
    const id = spec.id!;
    const hosts = hostsOf(spec, id, opts, () => []);
    // lab check in another process: the namespaces belong to the runner, which removes them
    const close = async (): Promise<void> => {};
    return { backend: 'netns', id, hosts, close, [Symbol.asyncDispose]: close };
  },
  clean: async (_lab, id) => {
    if (id === undefined) return [];
    const r = await cleanNetns({ id });
    return r.namespaces.map((n) => `namespace ${n.name}`);
  },
};
