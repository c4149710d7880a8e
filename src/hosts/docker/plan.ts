import { isIP } from 'node:net';
import { planTopology } from '../../netns/topology.js';
import { invalidArgument } from '../../errors.js';
import { bigIntToIp, ipToBigInt, networkOf, type WideAddress } from '../../core/address.js';
import type { TopologySpec } from '../backend.js';

/** The network of CIDR and its size. */
export function subnetOf(cidr: string): { base: WideAddress; prefix: number; text: string } {
  const { address, prefix, text } = networkOf(cidr);
  return { base: ipToBigInt(address), prefix, text };
}

export interface SegmentIpam {
  subnet: string;
  /** Docker's own address on the bridge: the last usable address of the subnet the lab does not use. */
  gateway: string;
  /** Where Docker puts members without a lab address (flushed at start): a small block at the top. */
  ipRange?: string;
}

/** Docker's IPAM for one address family of a segment: the lab's subnet, a gateway off the lab's addresses. */
export function segmentIpam(cidrs: string[], needsRange: boolean): SegmentIpam {
  const { base, prefix, text } = subnetOf(cidrs[0]!);
  const hostBits = base.bits - prefix;
  if (hostBits < 3) throw invalidArgument(`subnet ${text} is too small for Docker (it needs a gateway address of its own): use /29 or larger`);
  const used = new Set(cidrs.map((c) => ipToBigInt(c.split('/')[0]!).value));
  const size = 1n << BigInt(hostBits);
  // IPv4: the top address is broadcast; IPv6 has none, but ...ffff is avoided all the same
  const rangeBits = BigInt(Math.min(base.bits === 32 ? 3 : 16, hostBits - 1));
  let gw = base.value + size - 2n;
  // Engine 20.10 indexes a /64's addresses in 64 bits and cannot take its last one (…ffff) into an
  // IP range ("invalid bit range"): there gateway and range go one block lower
  if (base.bits === 128 && hostBits >= 64) gw = base.value + size - (1n << rangeBits) - 2n;
  while (used.has(gw) && gw > base.value + 1n) gw--;
  if (used.has(gw)) throw invalidArgument(`subnet ${text} has no address left for Docker's gateway`);
  const gateway = bigIntToIp({ value: gw, bits: base.bits });
  // a block of 8 (IPv4) or 2^16 (IPv6) addresses at the top of the subnet, holding the gateway
  const rangeBase = (gw >> rangeBits) << rangeBits;
  const ipRange = `${bigIntToIp({ value: rangeBase, bits: base.bits })}/${base.bits - Number(rangeBits)}`;
  return { subnet: text, gateway, ...(needsRange && { ipRange }) };
}

export interface PlannedInterface {
  segment: string;
  ifname: string;
  address?: string;
  /** The lab's fixed MAC, set by the setup script (Engine API 1.41 takes no MAC per network). */
  mac?: string;
}

export interface PlannedNetwork {
  segment: string;
  /** Engine name `sl-<id>-<segment>`; bridge `slb-<id>-<n>` on the Docker host. */
  name: string;
  bridge: string;
  ipv4?: SegmentIpam;
  ipv6?: SegmentIpam;
}

export interface PlannedHost {
  name: string;
  container: string;
  interfaces: PlannedInterface[];
  sysctls: Record<string, string>;
}

export interface DockerPlan {
  id: string;
  networks: PlannedNetwork[];
  hosts: PlannedHost[];
  routes: { host: string; to: string; via: string }[];
}

/** Names, subnets, gateways and sysctls for a topology, checked before anything is created. Pure. */
export function planDocker(spec: TopologySpec): DockerPlan {
  const { id, interfaces } = planTopology(spec);
  const networks = (spec.segments ?? []).map((seg, n): PlannedNetwork => {
    const v4 = seg.members.filter((m) => m.address && isIP(m.address.split('/')[0]!) === 4).map((m) => m.address!);
    const v6 = seg.members.filter((m) => m.address && isIP(m.address.split('/')[0]!) === 6).map((m) => m.address!);
    const anyBare = seg.members.some((m) => !m.address);
    for (const group of [v4, v6]) {
      const nets = new Set(group.map((c) => subnetOf(c).text));
      if (nets.size > 1) throw invalidArgument(`segment "${seg.name}": Docker gives a network one subnet per family, the lab has ${[...nets].join(', ')}`);
    }
    return {
      segment: seg.name,
      name: `sl-${id}-${seg.name}`,
      bridge: `slb-${id}-${n}`,
      ...(v4.length > 0 && { ipv4: segmentIpam(v4, anyBare || v6.length > 0) }),
      ...(v6.length > 0 && { ipv6: segmentIpam(v6, anyBare || v4.length > 0) }),
    };
  });
  const hosts = spec.hosts.map((h): PlannedHost => {
    const fwd = h.forwarding ? '1' : '0';
    return {
      name: h.name,
      container: `sl-${id}-${h.name}`,
      interfaces: interfaces.filter((i) => i.host === h.name).map(({ segment, ifname, address, mac }) => ({ segment, ifname, ...(address && { address }), ...(mac && { mac }) })),
      // set explicitly: a new namespace copies the Docker host's ip_forward (dockerd turns it on)
      sysctls: {
        'net.ipv4.ip_forward': fwd,
        'net.ipv6.conf.all.forwarding': fwd,
        'net.ipv6.conf.all.disable_ipv6': '0',
        // the rename below takes each link down once: keep the lab's IPv6 address through it
        'net.ipv6.conf.all.keep_addr_on_down': '1',
        ...(h.ephemeralRange && { 'net.ipv4.ip_local_port_range': `${h.ephemeralRange[0]} ${h.ephemeralRange[1]}` }),
      },
    };
  });
  return { id, networks, hosts, routes: spec.routes ?? [] };
}

/**
 * The shell script run once in a container after start: Docker attaches networks in its own order
 * and (before Engine 28.1) names them itself, so each interface is found by the MAC the engine
 * reports and renamed (via a temporary name, so eth0 and eth1 can swap); addresses Docker gave
 * where the lab gives none are flushed, a lab's fixed MAC set while the link is down (DHCP and SLAAC clients start bare); the lab's routes added.
 */
export function setupScript(
  ifaces: { mac: string; ifname: string; address?: string; setMac?: string }[],
  routes: { to: string; via: string }[],
): string {
  const lines = ['set -e', 'ifof() { for f in /sys/class/net/*/address; do [ "$(cat "$f")" = "$1" ] && { d=${f%/address}; echo "${d##*/}"; return; }; done; echo "no interface with MAC $1" >&2; exit 1; }'];
  ifaces.forEach((i, k) => lines.push(`d=$(ifof ${i.mac}); ip link set dev "$d" down; ip link set dev "$d" name sltmp${k}`));
  ifaces.forEach((i, k) => {
    lines.push(`ip link set dev sltmp${k} name ${i.ifname}`);
    if (i.setMac) lines.push(`ip link set dev ${i.ifname} address ${i.setMac}`);
    lines.push(`ip link set dev ${i.ifname} up`);
    const family = i.address ? isIP(i.address.split('/')[0]!) : 0;
    if (family !== 4) lines.push(`ip -4 addr flush dev ${i.ifname}`);
    if (family !== 6) lines.push(`ip -6 addr flush dev ${i.ifname} scope global`);
    // again, in case the link going down took it (IPv6 drops addresses on down unless keep_addr_on_down)
    if (i.address) lines.push(`ip addr replace ${i.address} dev ${i.ifname}${family === 6 ? ' nodad' : ''}`);
  });
  // Docker's default route via its gateway (if any) is not part of the lab
  lines.push('ip -4 route del default 2>/dev/null || true', 'ip -6 route del default 2>/dev/null || true');
  for (const r of routes) lines.push(`ip ${isIP(r.via) === 6 ? '-6' : '-4'} route replace ${r.to} via ${r.via}`);
  return lines.join('\n');
}
