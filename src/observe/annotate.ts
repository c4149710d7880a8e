/** A server's structured log record (src/events.ts netEvent fields plus the protocol's own). */
export type LogRecord = Record<string, unknown> & { event?: unknown; from?: unknown; to?: unknown; transport?: unknown; time?: unknown };

/** Protocol fields worth showing next to an event, in the order a learner reads them. */
export const KEY_FIELDS = ['flags', 'seq', 'ack', 'len', 'type', 'qname', 'qtype', 'rcode', 'tc', 'size', 'xid', 'chaddr', 'ciaddr', 'yiaddr', 'giaddr', 'bytes', 'state', 'serial', 'records'] as const;

/** When a record happened: the capture timestamp for a captured packet, else the log record's time. */
export function recordTime(r: LogRecord): number {
  return typeof r.captured === 'number' ? r.captured * 1000 : Date.parse(String(r.time ?? ''));
}

/** `qname=www.example.test qtype=A rcode=NOERROR` */
export function recordFields(r: LogRecord): string {
  // an unset BOOTP address field (0.0.0.0) says nothing; leave it out
  return KEY_FIELDS.filter((k) => r[k] !== undefined && r[k] !== null && r[k] !== '' && r[k] !== '0.0.0.0')
    .map((k) => `${k}=${k === 'xid' && typeof r[k] === 'number' ? `0x${r[k].toString(16).padStart(8, '0')}` : typeof r[k] === 'object' ? JSON.stringify(r[k]) : String(r[k])}`)
    .join(' ');
}

/** The note a record leaves on the packet it matches: `dhcp: dhcp.out type=OFFER yiaddr=10.0.7.100 (offer sent)`. */
export function noteOf(r: LogRecord, service: string): string {
  const f = recordFields(r);
  return `${service}: ${String(r.event)}${f ? ` ${f}` : ''}${typeof r.msg === 'string' ? ` (${r.msg})` : ''}`;
}

/** What a packet looks like to the matcher: both the captured frames and (localhost) the log arrows. */
export interface Matchable {
  t: number;
  transport: string;
  src: string;
  dst: string;
  tcpFlags?: string;
  dhcp?: { xid: number; type: string };
  dns?: { qr: boolean };
  broadcast?: boolean;
}

/**
 * How well a log record fits a packet; undefined when it cannot be that packet. Lower is better
 * (ms of time difference, plus a penalty for weaker evidence). A DHCP record matches by xid and
 * message type (the server logs 0.0.0.0:68 -> its own address, the frame went to 255.255.255.255);
 * tcp.accept is the SYN, tcp.close / tcp.half-close a FIN, a DNS record the query it answered.
 */
export function matchScore(r: LogRecord, p: Matchable, windowMs = 3_000): number | undefined {
  const dt = Math.abs(p.t - recordTime(r));
  if (!(dt <= windowMs) || (r.transport && r.transport !== p.transport)) return undefined;
  const ev = String(r.event);
  const from = String(r.from ?? '');
  const to = String(r.to ?? '');
  const same = p.src === from && p.dst === to;
  const either = same || (p.src === to && p.dst === from);
  if (ev.startsWith('dhcp.')) {
    if (!p.dhcp || p.dhcp.xid !== r.xid || (typeof r.type === 'string' && p.dhcp.type !== r.type)) return undefined;
    // relayed: the same xid on two segments; the hop the server itself saw fits best
    return dt + (p.src === from || p.dst === to ? 0 : 500);
  }
  if (ev === 'tcp.accept' || ev === 'tcp.connect') return p.tcpFlags === 'S' && same ? dt : undefined;
  if (ev === 'tcp.close' || ev === 'tcp.half-close') return p.tcpFlags?.includes('F') && (ev === 'tcp.half-close' ? same : either) ? dt : undefined;
  if (ev.startsWith('dns.')) {
    if (!same) return undefined;
    if (p.dns) return p.dns.qr ? undefined : dt;
    // a DNS message split over TCP segments was not decoded: any data segment of that direction
    return p.tcpFlags?.includes('P') ? dt + 200 : undefined;
  }
  if (ev === 'tcp.segment' || ev === 'udp.datagram') return same ? dt : undefined;
  return either ? dt + 300 : undefined;
}
