import type { Packet } from './packet.js';

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

/** Fields of a DNS record that describe the answer (the response packet), not the question. */
const ANSWER_FIELDS = new Set<string>(['rcode', 'tc', 'size', 'serial', 'records']);

/**
 * Which part of a record a packet carries: the whole message (DHCP, TCP), or the question (the
 * query) or the answer (the response) of the DNS exchange the record logged.
 */
export type Part = 'all' | 'question' | 'answer';

/** The note a record leaves on the packet it matches: `dhcp: dhcp.out type=OFFER yiaddr=10.0.7.100 (offer sent)`. */
export function noteOf(r: LogRecord, service: string, part: Part = 'all'): string {
  const keep = part === 'all' ? r : Object.fromEntries(Object.entries(r).filter(([k]) => !(KEY_FIELDS as readonly string[]).includes(k) || ANSWER_FIELDS.has(k) === (part === 'answer')));
  const f = recordFields(keep);
  return `${service}: ${String(r.event)}${f ? ` ${f}` : ''}${typeof r.msg === 'string' ? ` (${r.msg})` : ''}`;
}

/** Whether a record has anything to say of a DNS response (its rcode, size, serial ...). */
export const hasAnswer = (r: LogRecord): boolean => [...ANSWER_FIELDS].some((k) => r[k] !== undefined && r[k] !== null);

/** What a packet looks like to the matcher: both the captured frames and (localhost) the log arrows. */
export interface Matchable {
  t: number;
  transport: string;
  src: string;
  dst: string;
  tcpFlags?: string;
  dhcp?: { xid: number; type: string };
  dns?: { id: number; qr: boolean; qname: string; qtype: string; opcode: number };
}

/** `10.0.7.1:67`, `[fe80::1]:547`, or the bare address of a portless packet. */
export const endpointOf = (ip: string | undefined, port: number | undefined): string => (ip === undefined ? '' : port === undefined ? ip : ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** What the matcher needs of a captured packet. */
export function matchableOf(p: Packet): Matchable {
  return { t: p.t, transport: p.transport, src: endpointOf(p.src.ip, p.src.port), dst: endpointOf(p.dst.ip, p.dst.port), ...(p.tcpFlags && { tcpFlags: p.tcpFlags }), ...(p.dhcp && { dhcp: p.dhcp }), ...(p.dns && { dns: p.dns }) };
}

/** A packet the matcher may annotate. */
export interface Target {
  id: number;
  m: Matchable;
}

/** Records and packets further apart than this are never matched (a record is written within ms of its packet). */
export const MATCH_WINDOW_MS = 3_000;

const portOf = (e: string): string | undefined => /:(\d+)$/.exec(e)?.[1];
const dnsName = (n: unknown): string => String(n ?? '').toLowerCase().replace(/\.$/, '');
const samePair = (p: Matchable, a: string, b: string): boolean => (p.src === a && p.dst === b) || (p.src === b && p.dst === a);

/** client and server of a record: `pair` is always written client first (src/events.ts); else from -> to. */
function ends(r: LogRecord): [string, string] {
  const m = /^(\S+) <-> (\S+)$/.exec(String(r.pair ?? ''));
  return m ? [m[1]!, m[2]!] : [String(r.from ?? ''), String(r.to ?? '')];
}

/**
 * Whether packet p is (a part of) the message record r logged; undefined when it cannot be. Exact:
 * the socket pair and direction, and the protocol's own identity -- DHCP xid + message type (the
 * server logs 0.0.0.0:68 -> its own address; the frame went to 255.255.255.255), a TCP SYN (accept,
 * connect) or FIN of the 4-tuple, a DNS question (name, type, opcode; id when the record has one)
 * with QR=0 from the client or QR=1 back. Time plays no part here.
 */
export function fits(r: LogRecord, p: Matchable): Part | undefined {
  if (r.transport && r.transport !== p.transport) return undefined;
  const ev = String(r.event);
  const from = String(r.from ?? '');
  const to = String(r.to ?? '');
  if (ev.startsWith('dhcp.')) {
    if (!p.dhcp || p.dhcp.xid !== r.xid || typeof r.type !== 'string' || p.dhcp.type !== r.type) return undefined;
    const toOk = p.dst === to || (p.dst.startsWith('255.255.255.255:') && portOf(p.dst) === portOf(to));
    // a relay logs what it forwards as peer -> destination: the frame it sent carries its own source
    if (ev === 'dhcp.relay') return toOk && p.src !== from ? 'all' : undefined;
    return toOk && p.src === from ? 'all' : undefined;
  }
  if (ev === 'tcp.accept' || ev === 'tcp.connect') return p.tcpFlags === 'S' && p.src === from && p.dst === to ? 'all' : undefined;
  if (ev === 'tcp.half-close') return p.tcpFlags?.includes('F') && p.src === from && p.dst === to ? 'all' : undefined;
  if (ev === 'tcp.close') return p.tcpFlags?.includes('F') && samePair(p, from, to) ? 'all' : undefined;
  if (ev === 'tcp.segment') return p.src === from && p.dst === to && (typeof r.flags !== 'string' || r.flags === p.tcpFlags) ? 'all' : undefined;
  if (ev === 'udp.datagram') return p.src === from && p.dst === to ? 'all' : undefined;
  if (ev.startsWith('dns.')) {
    if (!p.dns || p.dns.opcode !== (ev === 'dns.notify' ? 4 : 0)) return undefined;
    const qname = r.qname ?? r.zone;
    const qtype = r.qtype ?? (ev === 'dns.axfr' ? 'AXFR' : undefined);
    if (qname !== undefined && dnsName(qname) !== dnsName(p.dns.qname)) return undefined;
    if (qtype !== undefined && qtype !== p.dns.qtype) return undefined;
    if (typeof r.id === 'number' && r.id !== p.dns.id) return undefined;
    const [client, server] = ends(r);
    if (!p.dns.qr && p.src === client && p.dst === server) return 'question';
    if (p.dns.qr && p.src === server && p.dst === client) return 'answer';
  }
  return undefined;
}

/** One note to leave: on packet `id`, the record's `part`. */
export interface Match {
  id: number;
  part: Part;
}

/**
 * The packets record r annotates, or undefined when none is there (yet). Among the packets that
 * fit exactly and are not `taken` (by an earlier record of the same service and event: a
 * retransmission with the same xid has its own record), the one nearest in time within the window.
 * A DNS record is an exchange: its question goes on the query, its answer on the response with the
 * query's id and QR=1 (the first after the query); `answerDue` when that response is not here yet.
 */
export function matchRecord(r: LogRecord, targets: Iterable<Target>, taken: (id: number, part: Part) => boolean, windowMs = MATCH_WINDOW_MS): { matches: Match[]; answerDue: boolean } | undefined {
  const rt = recordTime(r);
  const fitting: { t: Target; part: Part }[] = [];
  for (const t of targets) {
    if (!(Math.abs(t.m.t - rt) <= windowMs)) continue;
    const part = fits(r, t.m);
    if (part && !taken(t.id, part)) fitting.push({ t, part });
  }
  const nearest = (xs: { t: Target; part: Part }[]): { t: Target; part: Part } | undefined =>
    xs.reduce<{ t: Target; part: Part } | undefined>((b, x) => (!b || Math.abs(x.t.m.t - rt) < Math.abs(b.t.m.t - rt) ? x : b), undefined);
  if (!String(r.event).startsWith('dns.')) {
    const best = nearest(fitting);
    return best && { matches: [{ id: best.t.id, part: 'all' }], answerDue: false };
  }
  const q = nearest(fitting.filter((x) => x.part === 'question'));
  if (!q) return undefined;
  if (!hasAnswer(r)) return { matches: [{ id: q.t.id, part: 'all' }], answerDue: false };
  const a = responseTo(q.t, fitting.filter((x) => x.part === 'answer').map((x) => x.t));
  return a ? { matches: [{ id: q.t.id, part: 'question' }, { id: a.id, part: 'answer' }], answerDue: false } : { matches: [{ id: q.t.id, part: 'question' }], answerDue: true };
}

/** The response to DNS query q among responses that fit its record: the same id, back, the first after q. */
export function responseTo(q: Target, responses: Target[]): Target | undefined {
  return responses.filter((a) => a.m.dns?.id === q.m.dns?.id && a.m.t >= q.m.t && a.m.src === q.m.dst && a.m.dst === q.m.src).sort((x, y) => x.m.t - y.m.t)[0];
}

/**
 * The records waiting for their packets and the notes already left: records go in as a service
 * writes them, packets as they are captured; `run` leaves every note it can (onNote) and keeps the
 * rest -- a record whose packet is not captured yet waits, up to `maxWaitMs`.
 */
export class Annotator {
  private pending: { r: LogRecord; service: string; seen: number }[] = [];
  /** DNS records whose question is on its query, waiting for the response to carry the answer */
  private answers: { r: LogRecord; service: string; seen: number; query: Target }[] = [];
  /** `id service event part`: a packet takes one record of a service and event (a retransmission has its own) */
  private readonly claimed = new Set<string>();

  constructor(
    private readonly onNote: (id: number, text: string) => void,
    private readonly maxWaitMs = 5_000,
  ) {}

  /** A record a service wrote, to be matched at the next run(). */
  add(r: LogRecord, service: string, now = Date.now()): void {
    this.pending.push({ r, service, seen: now });
  }

  /** Matches what it can among targets; `final`: the capture is over, nothing more will come. */
  run(targets: Target[], final = false, now = Date.now()): void {
    const left: typeof this.pending = [];
    for (const p of this.pending) if (!this.annotate(p.r, p.service, targets, now) && !final && now - p.seen < this.maxWaitMs) left.push(p);
    this.pending = left;
    const waiting: typeof this.answers = [];
    for (const a of this.answers) {
      const resp = responseTo(a.query, targets.filter((c) => fits(a.r, c.m) === 'answer' && !this.taken(c.id, a.service, a.r, 'answer')));
      // no response captured (a TCP answer split over segments, or none was sent): the answer goes on the query
      if (resp) this.claim(resp.id, a.service, a.r, 'answer');
      else if (final || now - a.seen >= this.maxWaitMs) this.claim(a.query.id, a.service, a.r, 'answer');
      else waiting.push(a);
    }
    this.answers = waiting;
  }

  /** Annotates the packets among targets that record r logged; false when none is there yet. */
  annotate(r: LogRecord, service: string, targets: Target[], now = Date.now()): boolean {
    const m = matchRecord(r, targets, (id, part) => this.taken(id, service, r, part));
    if (!m) return false;
    for (const x of m.matches) this.claim(x.id, service, r, x.part);
    if (m.answerDue) this.answers.push({ r, service, seen: now, query: targets.find((t) => t.id === m.matches[0]!.id)! });
    return true;
  }

  /** Whether packet id already carries this part of a record of service's event. */
  taken(id: number, service: string, r: LogRecord, part: Part): boolean {
    return this.claimed.has(`${id} ${service} ${String(r.event)} ${part}`);
  }

  /** Leaves record r's part on packet id. */
  claim(id: number, service: string, r: LogRecord, part: Part, silent = false): void {
    this.claimed.add(`${id} ${service} ${String(r.event)} ${part}`);
    if (!silent) this.onNote(id, noteOf(r, service, part));
  }
}
