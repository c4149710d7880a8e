/** The namespace API other areas (DHCP, labs) build on. */
export { createTopology, planTopology, CLI_PATH } from './topology.js';
export type { Topology, TopologySpec, NetnsTopologySpec, TopologyOptions, NetnsHost, NetnsInterface, ExecResult } from './topology.js';
export { cleanNetns, listSocketlabNamespaces } from './clean.js';
export type { CleanReport, NamespaceInfo } from './clean.js';
export { requireNetnsPrivileges, needsRootError } from './privileges.js';
export { namespaceName, switchNamespace, isSocketlabName, parseNamespaceName } from './names.js';
