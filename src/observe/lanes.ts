import { isGroupMac, type Packet } from './packet.js';

/** What the observer knows of the lab's hosts: which MAC and IP is whose, and who sits on which segment. */
export interface HostTable {
  macs: Map<string, string>;
  ips: Map<string, string>;
  /** segment -> its member hosts, in the lab's order */
  segments: Map<string, string[]>;
}

/** Where a packet is drawn: from one host's lane to one lane, or (broadcast) to every other host on its segment. */
export interface Placement {
  from: string;
  to: string[];
  broadcast: boolean;
}

/** A lane for a MAC/IP that belongs to no lab host (a stray packet); never hidden, never merged. */
export const UNKNOWN_LANE = '?';

/**
 * Places a captured frame by the host that owns its source and destination MAC (the IP only when
 * the MAC is unknown). A routed packet is captured on each segment it crosses with that hop's MACs,
 * so a router in between shows as two arrows, client -> router and router -> server, although
 * both carry the same IP addresses; a relayed DHCP message lands on the relay's lane, not on the
 * lane of the client named in chaddr.
 */
export function placePacket(p: Packet, table: HostTable): Placement {
  const from = table.macs.get(p.src.mac) ?? (p.src.ip ? table.ips.get(p.src.ip) : undefined) ?? UNKNOWN_LANE;
  if (isGroupMac(p.dst.mac)) {
    const members = table.segments.get(p.segment) ?? [];
    return { from, to: members.filter((h) => h !== from), broadcast: true };
  }
  const to = table.macs.get(p.dst.mac) ?? (p.dst.ip ? table.ips.get(p.dst.ip) : undefined) ?? UNKNOWN_LANE;
  return { from, to: [to], broadcast: false };
}

/** Learns from a frame whose source MAC is known: its source IP belongs to that host (not 0.0.0.0 / ::). */
export function learn(p: Packet, table: HostTable): void {
  const host = table.macs.get(p.src.mac);
  if (!host || !p.src.ip || p.src.ip === '0.0.0.0' || p.src.ip === '::') return;
  // a router forwards other hosts' IPs under its own MAC: only addresses nobody claimed yet
  if (!table.ips.has(p.src.ip)) table.ips.set(p.src.ip, host);
}

/**
 * Lane order for namespace labs: the hosts that run no service (clients) first, then the servers,
 * each group in the order the lab file names them.
 */
export function laneOrder(hosts: string[], serviceHosts: Set<string>): string[] {
  return [...hosts.filter((h) => !serviceHosts.has(h)), ...hosts.filter((h) => serviceHosts.has(h))];
}
