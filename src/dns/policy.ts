/**
 * Which records answer a query: pure decisions over the loaded zones, no sockets. Behaves as an
 * authoritative-only server (RFC 1034 4.3.2): AA on data from its zones, CNAMEs chased inside the
 * zone, negative answers with the SOA in authority (RFC 2308), REFUSED for names it is not
 * authoritative for (never recursion), referrals at delegations with glue.
 */
import {
  canonicalName,
  CLASSES,
  emptyFlags,
  getEdns,
  labelsToName,
  nameToLabels,
  normalizeName,
  OPCODES,
  optRecord,
  RCODES,
  recordSize,
  TYPES,
  type Message,
  type Question,
  type ResourceRecord,
} from './codec.js';
import { findZone, inZone, parentName, type Zone } from './zone.js';

/** The payload size this server advertises in its OPT record (the DNS flag day 2020 value). */
export const SERVER_UDP_PAYLOAD = 1232;

export interface Answer {
  /** null: send nothing (a response arrived, RFC 1035 4.1.1 QR=1). */
  response: Message | null;
  /** The response must be streamed as a zone transfer (TCP only). */
  axfr?: Zone;
  /** UDP size limit for this client: 512 without EDNS, else its advertised size (RFC 6891 6.2.5). */
  udpLimit: number;
}

export interface AnswerContext {
  transport: 'udp' | 'tcp';
  /** May this client transfer zones? (decided by the server from --allow-transfer) */
  transferAllowed: boolean;
  /** Zones we should serve but hold no copy of (a secondary before its first transfer or after expire). */
  unavailable?: readonly string[];
  /** Largest UDP answer this server sends, whatever the client advertises; default SERVER_UDP_PAYLOAD. */
  maxUdpSize?: number;
}

/** Why a query's EDNS is malformed (RFC 6891 6.1.1), or undefined when it is fine or absent. */
function ednsFault(query: Message): string | undefined {
  if (query.answers.some((r) => r.type === TYPES.OPT) || query.authorities.some((r) => r.type === TYPES.OPT)) return 'OPT outside the additional section';
  const opts = query.additionals.filter((r) => r.type === TYPES.OPT);
  if (opts.length > 1) return 'more than one OPT record';
  if (opts[0] && opts[0].name !== '') return 'OPT owner name is not the root';
  return undefined;
}

function reply(query: Message, rcode: number, over: Partial<Message> = {}): Message {
  return {
    id: query.id,
    flags: emptyFlags({ qr: true, opcode: query.flags.opcode, rd: query.flags.rd, cd: query.flags.cd, rcode }),
    questions: query.questions.slice(0, 1),
    answers: [],
    authorities: [],
    additionals: [],
    ...over,
  };
}

/** The SOA for a negative answer: TTL is min(SOA TTL, SOA MINIMUM) (RFC 2308 3). */
function negativeSoa(zone: Zone): ResourceRecord {
  return { ...zone.soa, ttl: Math.min(zone.soa.ttl, zone.soa.data.minimum) };
}

function rrset(zone: Zone, name: string, type: number): ResourceRecord[] | undefined {
  return zone.nodes.get(name)?.get(type);
}

/** Renames wildcard-synthesised records to the query name (RFC 4592 3.3.1). */
function synth(records: ResourceRecord[], name: string): ResourceRecord[] {
  return records.map((r) => ({ ...r, name }));
}

/** Lowercase keys from the apex down to `name` (exclusive of the apex). */
function ancestors(zone: Zone, name: string): string[] {
  const out: string[] = [];
  for (let n = name; n !== zone.origin && inZone(n, zone.origin); n = parentName(n)) out.unshift(n);
  return out;
}

/**
 * What stops the descent from the apex to `name` first (RFC 1034 4.3.2 step 3b, RFC 6672 3.2): a
 * delegation, or a DNAME strictly above `name`. A DS query at a cut is answered from this side of
 * it, as the parent holds the DS (RFC 4035 3.1.4.1).
 */
function descend(zone: Zone, name: string, qtype: number): { cut: string } | { dname: ResourceRecord } | undefined {
  const apexDname = name !== zone.origin ? rrset(zone, zone.origin, TYPES.DNAME) : undefined;
  if (apexDname) return { dname: apexDname[0]! };
  for (const n of ancestors(zone, name)) {
    if (rrset(zone, n, TYPES.NS) && !(n === name && qtype === TYPES.DS)) return { cut: n };
    const d = n !== name ? rrset(zone, n, TYPES.DNAME) : undefined;
    if (d) return { dname: d[0]! };
  }
  return undefined;
}

/** A/AAAA for targets inside the zone (RFC 1034 4.3.2 step 6: additional section processing). */
function additionalFor(zone: Zone, records: ResourceRecord[]): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const rr of records) {
    const d = rr.data as { target?: string; exchange?: string };
    const target = rr.type === TYPES.MX ? d.exchange : rr.type === TYPES.NS || rr.type === TYPES.SRV ? d.target : undefined;
    if (target === undefined) continue;
    const t = canonicalName(target);
    if (seen.has(t) || !inZone(t, zone.origin)) continue;
    seen.add(t);
    out.push(...(rrset(zone, t, TYPES.A) ?? []), ...(rrset(zone, t, TYPES.AAAA) ?? []));
  }
  return out;
}

type Lookup =
  | { kind: 'answer'; records: ResourceRecord[] }
  | { kind: 'cname'; records: ResourceRecord[]; target: string }
  | { kind: 'nodata' }
  | { kind: 'nxdomain' }
  | { kind: 'yxdomain'; records: ResourceRecord[] }
  | { kind: 'referral'; cut: string };

/**
 * RFC 1034 4.3.2 step 3 for one name inside one zone. `qname` is the name as asked (canonical
 * form, its case kept for synthesised owners); the zone's own records keep the zone's case.
 */
function lookup(zone: Zone, qname: string, qtype: number): Lookup {
  const name = canonicalName(qname);
  const stop = descend(zone, name, qtype);
  if (stop && 'cut' in stop) return { kind: 'referral', cut: stop.cut };
  if (stop) {
    // RFC 6672 3.2: the DNAME, then a CNAME from qname to qname with the DNAME owner replaced by its target
    const dname = stop.dname;
    const ownerLabels = nameToLabels(dname.name).length;
    const qLabels = nameToLabels(qname);
    const prefix = labelsToName(qLabels.slice(0, qLabels.length - ownerLabels));
    const dtarget = (dname.data as { target: string }).target;
    const target = dtarget === '' ? prefix : `${prefix}.${dtarget}`;
    try {
      nameToLabels(target);
    } catch {
      return { kind: 'yxdomain', records: [dname] }; // RFC 6672 2.2: the result would exceed 255 octets
    }
    const cname: ResourceRecord = { name: qname, type: TYPES.CNAME, class: dname.class, ttl: dname.ttl, data: { target } };
    return { kind: 'cname', records: [dname, cname], target };
  }
  let node = zone.nodes.get(name);
  let wildcard = false;
  if (!node) {
    if (zone.ents.has(name)) return { kind: 'nodata' };
    // closest encloser, then its wildcard (RFC 4592 3.3.1)
    let enc = parentName(name);
    while (!zone.nodes.has(enc) && !zone.ents.has(enc) && enc !== zone.origin && enc !== '') enc = parentName(enc);
    node = zone.nodes.get(enc === '' ? '*' : `*.${enc}`);
    if (!node) return { kind: 'nxdomain' };
    wildcard = true;
  }
  const cname = node.get(TYPES.CNAME);
  if (cname && qtype !== TYPES.CNAME && qtype !== TYPES.ANY) {
    const record = wildcard ? synth(cname, qname)[0]! : cname[0]!;
    return { kind: 'cname', records: [record], target: (record.data as { target: string }).target };
  }
  if (qtype === TYPES.ANY) {
    const all = [...node.values()].flat();
    return { kind: 'answer', records: wildcard ? synth(all, qname) : all };
  }
  const set = node.get(qtype);
  if (!set) return { kind: 'nodata' };
  return { kind: 'answer', records: wildcard ? synth(set, qname) : set };
}

/** The query name in canonical form with its case; a decoded name always is, but stay total. */
function normalizedQname(name: string): string {
  try {
    return normalizeName(name);
  } catch {
    return canonicalName(name);
  }
}

/** Answers one decoded query from `zones`. Never throws for any decoded message. */
export function answer(query: Message, zones: readonly Zone[], ctx: AnswerContext): Answer {
  const edns = getEdns(query);
  // The client's advertised size, capped at our own limit (RFC 6891 6.2.5; BIND's max-udp-size):
  // otherwise a 40-octet query with a 65535 advertisement draws a 60 KB answer to any spoofed source.
  const udpLimit = edns ? Math.max(512, Math.min(edns.udpSize, ctx.maxUdpSize ?? SERVER_UDP_PAYLOAD)) : 512;
  if (query.flags.qr) return { response: null, udpLimit };
  // RFC 6891 6.1.1: one OPT, in the additional section, owned by the root; else FORMERR (as BIND)
  if (ednsFault(query)) return { response: reply(query, RCODES.FORMERR), udpLimit: 512 };
  const withOpt = (m: Message): Message => {
    // RFC 3225 3: the DO bit of the query MUST be copied in the response
    if (edns) m.additionals.push(edns.do ? { ...optRecord(SERVER_UDP_PAYLOAD), ttl: 0x8000 } : optRecord(SERVER_UDP_PAYLOAD));
    return m;
  };
  // RFC 6891 6.1.3: we speak EDNS version 0 only.
  if (edns && edns.version > 0) {
    const r = reply(query, 0);
    r.additionals.push(optRecord(SERVER_UDP_PAYLOAD, RCODES.BADVERS >> 4));
    return { response: r, udpLimit };
  }
  if (query.flags.opcode !== OPCODES.QUERY) return { response: withOpt(reply(query, RCODES.NOTIMP)), udpLimit };
  if (query.questions.length !== 1) return { response: withOpt(reply(query, RCODES.FORMERR)), udpLimit };
  const q: Question = query.questions[0]!;
  // type 0 is reserved (RFC 6895 3.1) and OPT is a pseudo-record (RFC 6891 6.1.1): nothing to ask
  if (q.type === 0 || q.type === TYPES.OPT) return { response: withOpt(reply(query, RCODES.FORMERR)), udpLimit };
  const qname = canonicalName(q.name);
  if (q.class !== CLASSES.IN && q.class !== CLASSES.ANY) return { response: withOpt(reply(query, RCODES.REFUSED)), udpLimit };
  const zone = findZone(zones, qname);
  if (!zone) {
    // RFC 1035 4.1.1: SERVFAIL when we are meant to serve the name but cannot right now
    const ours = ctx.unavailable?.some((o) => inZone(qname, o));
    return { response: withOpt(reply(query, ours ? RCODES.SERVFAIL : RCODES.REFUSED)), udpLimit };
  }

  if (q.type === TYPES.AXFR || q.type === TYPES.IXFR) {
    // RFC 5936 4.2: AXFR only over TCP; only from allowed clients; only for the apex.
    if (ctx.transport !== 'tcp' || !ctx.transferAllowed) return { response: withOpt(reply(query, RCODES.REFUSED)), udpLimit };
    if (qname !== zone.origin) return { response: withOpt(reply(query, RCODES.NOTAUTH)), udpLimit };
    return { response: reply(query, RCODES.NOERROR, { flags: { ...reply(query, 0).flags, aa: true } }), axfr: zone, udpLimit };
  }

  const res = reply(query, RCODES.NOERROR);
  res.flags.aa = true;
  let name = normalizedQname(q.name);
  const seen = new Set<string>();
  for (let hops = 0; ; hops++) {
    const r = lookup(zone, name, q.type);
    if (r.kind === 'answer') {
      res.answers.push(...r.records);
      res.additionals.push(...additionalFor(zone, r.records));
      break;
    }
    if (r.kind === 'cname') {
      res.answers.push(...r.records);
      seen.add(canonicalName(name));
      const key = canonicalName(r.target);
      // follow inside this zone only, and never round a loop (RFC 1034 3.6.2)
      if (!inZone(key, zone.origin) || seen.has(key) || hops >= 8) break;
      name = r.target;
      continue;
    }
    if (r.kind === 'yxdomain') {
      res.answers.push(...r.records);
      res.flags.rcode = RCODES.YXDOMAIN;
      break;
    }
    if (r.kind === 'referral') {
      if (res.answers.length === 0) res.flags.aa = false; // RFC 1034 4.3.2 step 3b: a referral is not authoritative
      const ns = rrset(zone, r.cut, TYPES.NS)!;
      res.authorities.push(...ns);
      res.additionals.push(...additionalFor(zone, ns));
      break;
    }
    if (r.kind === 'nxdomain') res.flags.rcode = RCODES.NXDOMAIN;
    res.authorities.push(negativeSoa(zone));
    break;
  }
  return { response: withOpt(res), udpLimit };
}

/**
 * Splits a zone into AXFR messages (RFC 5936 2.2): SOA, every other record, SOA again, packed into
 * messages of at most `maxSize` octets.
 */
export function axfrMessages(query: Message, zone: Zone, maxSize = 16_000): Message[] {
  const body = zone.records.filter((r) => r.type !== TYPES.SOA);
  const all = [zone.soa, ...body, zone.soa];
  const out: Message[] = [];
  let cur: ResourceRecord[] = [];
  let size = 12 + (query.questions[0] ? canonicalName(query.questions[0].name).length + 6 : 0);
  const base = size;
  for (const rr of all) {
    const s = recordSize(rr);
    if (cur.length && size + s > maxSize) {
      out.push(msg(cur, out.length === 0));
      cur = [];
      size = base;
    }
    cur.push(rr);
    size += s;
  }
  if (cur.length) out.push(msg(cur, out.length === 0));
  return out;

  function msg(answers: ResourceRecord[], first: boolean): Message {
    return {
      id: query.id,
      flags: emptyFlags({ qr: true, aa: true, opcode: 0 }),
      // RFC 5936 2.2.1: the question appears in the first message only (later ones may omit it)
      questions: first ? query.questions.slice(0, 1) : [],
      answers,
      authorities: [],
      additionals: [],
    };
  }
}
