import { decode as decodeDhcp, messageTypeName, messageType, Opt } from '../dhcp/codec.js';
import { decode as decodeDns, typeName, rcodeName, type ResourceRecord } from '../dns/codec.js';
import { formatIPv6 } from '../core/address.js';

/** One protocol layer of a packet as the page's detail panel shows it: a name and ordered fields. */
export interface Layer {
  name: string;
  fields: Record<string, string | number | boolean>;
}

/** One frame seen on a lab segment, decoded as far as we understand it. */
export interface Packet {
  /** capture time, ms since the epoch (from the pcap record) */
  t: number;
  segment: string;
  len: number;
  src: { mac: string; ip?: string; port?: number };
  dst: { mac: string; ip?: string; port?: number };
  /** 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'arp' | 'other' */
  transport: string;
  /** the application protocol when we decoded one: 'dhcp' | 'dns' */
  app?: string;
  /** what a learner calls it: DHCPDISCOVER, TCP SYN, DNS query A www.example.com ... */
  summary: string;
  layers: Layer[];
  /** TCP flags as tcpdump writes them (S, S., ., P., F., R) */
  tcpFlags?: string;
  /** DHCP xid / message type / chaddr and lease times, for annotation and lease marks */
  dhcp?: { xid: number; type: string; chaddr: string; yiaddr: string; giaddr: string; lease?: number; t1?: number; t2?: number };
  dns?: { id: number; qr: boolean; qname: string; qtype: string; rcode: string; tc: boolean; opcode: number };
}

const mac = (b: Buffer, o: number): string => [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ip4 = (b: Buffer, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
const ip6 = (b: Buffer, o: number): string => formatIPv6(b, o);

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
/** Broadcast or multicast (the I/G bit, IEEE 802 48-bit address). */
export const isGroupMac = (m: string): boolean => (parseInt(m.slice(0, 2), 16) & 1) === 1;

const TCP_FLAGS: [number, string][] = [[0x02, 'S'], [0x01, 'F'], [0x04, 'R'], [0x08, 'P'], [0x20, 'U']];
/** tcpdump's flag string: `S`, `S.`, `P.`, `F.`, `.` */
export function tcpFlagString(f: number): string {
  const s = TCP_FLAGS.filter(([bit]) => f & bit).map(([, c]) => c).join('');
  return `${s}${f & 0x10 ? '.' : ''}` || 'none';
}

/** The kind of a TCP segment by its flags, as lab 03 names them. */
export function segmentName(flags: string, payload: number): string {
  if (flags.includes('R')) return 'RST';
  if (flags.includes('S')) return flags.includes('.') ? 'SYN-ACK' : 'SYN';
  if (flags.includes('F')) return 'FIN';
  return payload > 0 ? 'DATA' : 'ACK';
}

/** Decodes one Ethernet frame (pcap linktype 1). Never throws: what cannot be read stays raw. */
export function decodeFrame(frame: Buffer, t: number, segment: string): Packet {
  const p: Packet = { t, segment, len: frame.length, src: { mac: '' }, dst: { mac: '' }, transport: 'other', summary: 'frame', layers: [] };
  if (frame.length < 14) return p;
  p.dst.mac = mac(frame, 0);
  p.src.mac = mac(frame, 6);
  let type = frame.readUInt16BE(12);
  let off = 14;
  if (type === 0x8100 && frame.length >= 18) {
    type = frame.readUInt16BE(16);
    off = 18;
  }
  p.layers.push({ name: 'Ethernet', fields: { src: p.src.mac, dst: p.dst.mac, type: `0x${type.toString(16).padStart(4, '0')}` } });
  try {
    if (type === 0x0800) decodeIpv4(frame.subarray(off), p);
    else if (type === 0x86dd) decodeIpv6(frame.subarray(off), p);
    else if (type === 0x0806) decodeArp(frame.subarray(off), p);
    else p.summary = `Ethernet type 0x${type.toString(16)}`;
  } catch {
    p.summary = `${p.summary} (truncated)`;
  }
  return p;
}

function decodeArp(b: Buffer, p: Packet): void {
  p.transport = 'arp';
  const op = b.readUInt16BE(6);
  const spa = ip4(b, 14);
  const tpa = ip4(b, 24);
  p.src.ip = spa;
  p.dst.ip = tpa;
  p.layers.push({ name: 'ARP', fields: { op: op === 1 ? 'request' : op === 2 ? 'reply' : op, senderMac: mac(b, 8), senderIp: spa, targetMac: mac(b, 18), targetIp: tpa } });
  p.summary = op === 1 ? `ARP who has ${tpa}? tell ${spa}` : `ARP ${spa} is at ${mac(b, 8)}`;
}

function decodeIpv4(b: Buffer, p: Packet): void {
  const ihl = (b[0]! & 0x0f) * 4;
  const total = b.readUInt16BE(2);
  const proto = b[9]!;
  p.src.ip = ip4(b, 12);
  p.dst.ip = ip4(b, 16);
  p.layers.push({ name: 'IPv4', fields: { src: p.src.ip, dst: p.dst.ip, ttl: b[8]!, id: b.readUInt16BE(4), length: total, protocol: proto, dscp: b[1]! >> 2 } });
  decodeTransport(proto, b.subarray(ihl, Math.min(b.length, total || b.length)), p);
}

function decodeIpv6(b: Buffer, p: Packet): void {
  const plen = b.readUInt16BE(4);
  let next = b[6]!;
  p.src.ip = ip6(b, 8);
  p.dst.ip = ip6(b, 24);
  p.layers.push({ name: 'IPv6', fields: { src: p.src.ip, dst: p.dst.ip, hopLimit: b[7]!, payloadLength: plen, nextHeader: next } });
  let off = 40;
  // hop-by-hop options (MLD reports carry router alert) before the transport header
  while (next === 0 && off + 8 <= b.length) {
    next = b[off]!;
    off += (b[off + 1]! + 1) * 8;
  }
  decodeTransport(next, b.subarray(off, 40 + plen), p);
}

const ICMP6_TYPES: Record<number, string> = { 1: 'destination unreachable', 128: 'echo request', 129: 'echo reply', 133: 'router solicitation', 134: 'router advertisement', 135: 'neighbor solicitation', 136: 'neighbor advertisement', 143: 'MLDv2 report' };
const ICMP_TYPES: Record<number, string> = { 0: 'echo reply', 3: 'destination unreachable', 8: 'echo request', 11: 'time exceeded' };

function decodeTransport(proto: number, b: Buffer, p: Packet): void {
  if (proto === 6) return decodeTcp(b, p);
  if (proto === 17) return decodeUdp(b, p);
  if (proto === 1 || proto === 58) {
    p.transport = proto === 1 ? 'icmp' : 'icmpv6';
    const name = (proto === 1 ? ICMP_TYPES : ICMP6_TYPES)[b[0]!] ?? `type ${b[0]}`;
    p.layers.push({ name: proto === 1 ? 'ICMP' : 'ICMPv6', fields: { type: b[0]!, code: b[1]!, meaning: name } });
    p.summary = `${proto === 1 ? 'ICMP' : 'ICMPv6'} ${name}`;
    return;
  }
  p.summary = `IP protocol ${proto}`;
}

function decodeTcp(b: Buffer, p: Packet): void {
  p.transport = 'tcp';
  p.src.port = b.readUInt16BE(0);
  p.dst.port = b.readUInt16BE(2);
  const seq = b.readUInt32BE(4);
  const ack = b.readUInt32BE(8);
  const hl = (b[12]! >> 4) * 4;
  const flags = tcpFlagString(b[13]!);
  const payload = b.subarray(hl);
  p.tcpFlags = flags;
  p.layers.push({ name: 'TCP', fields: { srcPort: p.src.port, dstPort: p.dst.port, flags, seq, ack, window: b.readUInt16BE(14), payload: payload.length } });
  p.summary = `TCP ${segmentName(flags, payload.length)}${payload.length ? ` ${payload.length} B` : ''}`;
  // DNS over TCP: a 2-octet length, then the message (RFC 1035 4.2.2); only when one whole message is here
  if ((p.src.port === 53 || p.dst.port === 53) && payload.length > 2 && payload.readUInt16BE(0) === payload.length - 2) decodeDnsLayer(payload.subarray(2), p);
}

function decodeUdp(b: Buffer, p: Packet): void {
  p.transport = 'udp';
  p.src.port = b.readUInt16BE(0);
  p.dst.port = b.readUInt16BE(2);
  const payload = b.subarray(8, b.readUInt16BE(4));
  p.layers.push({ name: 'UDP', fields: { srcPort: p.src.port, dstPort: p.dst.port, length: b.readUInt16BE(4) } });
  p.summary = `UDP ${payload.length} B`;
  const ports = [p.src.port, p.dst.port];
  if (ports.includes(67) || ports.includes(68)) decodeDhcpLayer(payload, p);
  else if (ports.includes(53)) decodeDnsLayer(payload, p);
}

function decodeDhcpLayer(b: Buffer, p: Packet): void {
  let m;
  try {
    m = decodeDhcp(b);
  } catch {
    return;
  }
  const type = messageTypeName(messageType(m));
  const o = m.options as Record<number, unknown>;
  const num = (k: number): number | undefined => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  p.app = 'dhcp';
  p.dhcp = { xid: m.xid, type, chaddr: m.chaddr, yiaddr: m.yiaddr, giaddr: m.giaddr };
  const lease = num(Opt.LEASE_TIME);
  if (lease !== undefined) {
    p.dhcp.lease = lease;
    p.dhcp.t1 = num(Opt.T1) ?? Math.floor(lease / 2);
    p.dhcp.t2 = num(Opt.T2) ?? Math.floor(lease * 0.875);
  }
  const fields: Layer['fields'] = { op: m.op === 1 ? 'BOOTREQUEST' : 'BOOTREPLY', type, xid: `0x${m.xid.toString(16).padStart(8, '0')}`, flags: m.flags & 0x8000 ? 'broadcast' : 'unicast', chaddr: m.chaddr, ciaddr: m.ciaddr, yiaddr: m.yiaddr, siaddr: m.siaddr, giaddr: m.giaddr };
  for (const [k, v] of Object.entries(o)) {
    if (Number(k) === Opt.MESSAGE_TYPE) continue;
    fields[`option ${k}${OPT_NAMES[Number(k)] ? ` ${OPT_NAMES[Number(k)]}` : ''}`] = Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : (v as string | number);
  }
  p.layers.push({ name: 'DHCP', fields });
  p.summary = `DHCP${type}${m.yiaddr && m.yiaddr !== '0.0.0.0' ? ` ${m.yiaddr}` : ''}`;
}

const OPT_NAMES: Record<number, string> = { 1: 'subnet mask', 3: 'router', 6: 'DNS', 12: 'host name', 15: 'domain', 50: 'requested address', 51: 'lease time', 54: 'server id', 55: 'parameter request list', 58: 'T1', 59: 'T2', 61: 'client id', 82: 'relay agent' };

function rrText(r: ResourceRecord): string {
  const d = r.data as Record<string, unknown>;
  const v = 'address' in d ? d.address : 'target' in d ? d.target : 'serial' in d ? `serial ${String(d.serial)}` : 'exchange' in d ? `${String(d.preference)} ${String(d.exchange)}` : '';
  return `${r.name || '.'} ${r.ttl} ${typeName(r.type)} ${String(v)}`.trim();
}

function decodeDnsLayer(b: Buffer, p: Packet): void {
  let m;
  try {
    m = decodeDns(b);
  } catch {
    return;
  }
  const q = m.questions[0];
  p.app = 'dns';
  p.dns = { id: m.id, qr: m.flags.qr, qname: q?.name ?? '', qtype: q ? typeName(q.type) : '', rcode: rcodeName(m.flags.rcode), tc: m.flags.tc, opcode: m.flags.opcode };
  const flags = (['qr', 'aa', 'tc', 'rd', 'ra'] as const).filter((f) => m.flags[f]).join(' ');
  const fields: Layer['fields'] = { id: m.id, opcode: m.flags.opcode, flags, rcode: p.dns.rcode, question: q ? `${q.name || '.'} ${typeName(q.type)}` : '' };
  const section = (name: string, rrs: ResourceRecord[]): void => {
    if (rrs.length === 0) return;
    const shown = rrs.slice(0, 8).map(rrText);
    fields[`${name} (${rrs.length})`] = shown.join('; ') + (rrs.length > 8 ? `; ... ${rrs.length - 8} more` : '');
  };
  section('answer', m.answers);
  section('authority', m.authorities);
  section('additional', m.additionals);
  p.layers.push({ name: 'DNS', fields });
  const kind = m.flags.opcode === 4 ? 'NOTIFY' : q && typeName(q.type) === 'AXFR' ? 'AXFR' : '';
  p.summary = m.flags.qr
    ? `DNS ${kind ? `${kind} ` : ''}response ${p.dns.rcode}${m.flags.tc ? ' TC=1' : ''}${m.answers.length ? ` (${m.answers.length} answers)` : ''}`
    : `DNS ${kind || 'query'} ${q ? `${typeName(q.type)} ${q.name}` : ''}`.trim();
  if (p.transport === 'tcp') p.summary = `${p.summary} (TCP)`;
}
