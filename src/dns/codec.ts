/**
 * DNS wire format (RFC 1035 section 4, RFC 3596 AAAA, RFC 2782 SRV, RFC 8659 CAA, RFC 6891 OPT):
 * pure Buffer <-> object, no sockets. Decoding is strict about the things that crash or stall
 * naive parsers: compression pointers must point backwards (no loops), names stay within 255
 * octets, and section counts may not claim more records than the bytes hold.
 *
 * Why not dns2's decoder (measured on dns2 3.1.1, details in examples/zones/README.md "Why and
 * where dns2"): on a pointer loop or a truncated question it returns a packet with an EMPTY question
 * list (errors on the side) instead of failing, it follows forward pointers, it cannot tell a `.`
 * inside a label from a label boundary, and it is 3x slower on a typical answer. So untrusted bytes
 * go through this file; dns2 builds the queries we send (dns2-wire.ts) and checks this codec in tests.
 */
import { formatIPv6 } from '../core/address.js';

/**
 * Record types socketlab knows by name (RFC 1035 3.2.2, RFC 3596, RFC 2782, RFC 8659, RFC 6891,
 * RFC 5936; HINFO RFC 1035, LOC RFC 1876, NAPTR RFC 3403, DNAME RFC 6672, DS RFC 4034, SSHFP RFC 4255,
 * TLSA RFC 6698, SVCB/HTTPS RFC 9460). Any other type is served from RFC 3597 generic data.
 */
export const TYPES = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  SSHFP: 44,
  TLSA: 52,
  SVCB: 64,
  HTTPS: 65,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
  CAA: 257,
} as const;
export type TypeName = keyof typeof TYPES;

export const CLASSES = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const OPCODES = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export const RCODES = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  NOTAUTH: 9,
  BADVERS: 16,
} as const;
export type RcodeName = keyof typeof RCODES;

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPES).map(([k, v]) => [v, k]));
const RCODE_NAMES = new Map<number, string>(Object.entries(RCODES).map(([k, v]) => [v, k]));
const CLASS_NAMES = new Map<number, string>(Object.entries(CLASSES).map(([k, v]) => [v, k]));

/** `A`, `AAAA`, ... or RFC 3597's `TYPE65` for the rest. */
export function typeName(t: number): string {
  return TYPE_NAMES.get(t) ?? `TYPE${t}`;
}
export function rcodeName(r: number): string {
  return RCODE_NAMES.get(r) ?? `RCODE${r}`;
}
export function className(c: number): string {
  return CLASS_NAMES.get(c) ?? `CLASS${c}`;
}
/** Type number from `A`, `aaaa`, `TYPE65`; undefined when unknown. */
export function typeFromName(name: string): number | undefined {
  const u = name.toUpperCase();
  if (u in TYPES) return TYPES[u as TypeName];
  const m = /^TYPE(\d{1,5})$/.exec(u);
  if (m && Number(m[1]) <= 65535) return Number(m[1]);
  return undefined;
}

export interface Flags {
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number;
}

export interface Question {
  /** Presentation form without the trailing dot; the root is `''`. */
  name: string;
  type: number;
  class: number;
}

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}
export type RData =
  | { address: string } // A, AAAA
  | { target: string } // CNAME, NS, PTR, DNAME
  | { preference: number; exchange: string } // MX
  | { strings: Buffer[] } // TXT
  | SoaData
  | { priority: number; weight: number; port: number; target: string } // SRV
  | { flags: number; tag: string; value: Buffer } // CAA
  | { options: Buffer } // OPT
  | { raw: Buffer }; // anything else (RFC 3597)

export interface ResourceRecord {
  name: string;
  type: number;
  /** For OPT this is the requester's UDP payload size (RFC 6891 6.1.2). */
  class: number;
  /** For OPT: extended rcode, version and flags (RFC 6891 6.1.3). */
  ttl: number;
  data: RData;
}

export interface Message {
  id: number;
  flags: Flags;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

/** Thrown on bytes that are not a DNS message; `offset` says where decoding gave up. */
export class DecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

export const HEADER_SIZE = 12;
const MAX_NAME = 255;

export function emptyFlags(over: Partial<Flags> = {}): Flags {
  return { qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false, rcode: 0, ...over };
}

export function decodeFlags(v: number): Flags {
  return {
    qr: (v & 0x8000) !== 0,
    opcode: (v >> 11) & 0xf,
    aa: (v & 0x0400) !== 0,
    tc: (v & 0x0200) !== 0,
    rd: (v & 0x0100) !== 0,
    ra: (v & 0x0080) !== 0,
    ad: (v & 0x0020) !== 0,
    cd: (v & 0x0010) !== 0,
    rcode: v & 0xf,
  };
}

export function encodeFlags(f: Flags): number {
  return (
    (f.qr ? 0x8000 : 0) |
    ((f.opcode & 0xf) << 11) |
    (f.aa ? 0x0400 : 0) |
    (f.tc ? 0x0200 : 0) |
    (f.rd ? 0x0100 : 0) |
    (f.ra ? 0x0080 : 0) |
    (f.ad ? 0x0020 : 0) |
    (f.cd ? 0x0010 : 0) |
    (f.rcode & 0xf)
  );
}

// ---------------------------------------------------------------------------------------------
// Names

/**
 * Names inside socketlab are strings in ONE canonical presentation form, the one BIND and dig print:
 * each label's octets with `.`, `\`, and the master-file specials `;()"@$` escaped as `\X`, other
 * printable ASCII literal and every other octet (space, controls, UTF-8 bytes) as `\DDD`. The form is a
 * one-to-one encoding of the label sequence, so zone file, wire and AXFR names compare as strings; and
 * since only A-Z stay letters, ASCII lowercase of it is exactly RFC 4343 case folding (`canonicalName`).
 */
function labelToText(buf: Buffer, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    if (c === 0x2e || c === 0x5c || c === 0x3b || c === 0x28 || c === 0x29 || c === 0x22 || c === 0x40 || c === 0x24) s += '\\' + String.fromCharCode(c);
    else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + String(c).padStart(3, '0');
  }
  return s;
}

/** Label octets to the canonical presentation form (no trailing dot; the root is `''`). */
export function labelsToName(labels: readonly Buffer[]): string {
  return labels.map((l) => labelToText(l, 0, l.length)).join('.');
}

/** A name has at most 127 labels; a longer chain of pointers is an attack, not compression. */
export const MAX_POINTER_HOPS = 127;

/**
 * Reads a possibly compressed name at `offset`. RFC 1035 4.1.4: a pointer refers to a prior
 * occurrence, so every pointer must go strictly backwards — that alone rules out loops. The hop cap
 * bounds the work per name: otherwise a 64 KB datagram of pointers each pointing one back costs
 * quadratic time (about 144 ms measured) and stalls the server.
 */
export function decodeName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  let wire = 1;
  let lowest = offset;
  let hops = 0;
  for (;;) {
    if (pos >= buf.length) throw new DecodeError('name runs past the end of the message', pos);
    const len = buf[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) throw new DecodeError('truncated compression pointer', pos);
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (target >= lowest) throw new DecodeError(`compression pointer at ${pos} does not point backwards (to ${target})`, pos);
      // the header holds no names; a pointer into it would make the name depend on the ID, which
      // the response cache's key leaves out (answers would cross between queries with other IDs)
      if (target < HEADER_SIZE) throw new DecodeError(`compression pointer at ${pos} points into the header (to ${target})`, pos);
      if (++hops > MAX_POINTER_HOPS) throw new DecodeError(`more than ${MAX_POINTER_HOPS} compression pointers in one name`, pos);
      if (next < 0) next = pos + 2;
      lowest = target;
      pos = target;
      continue;
    }
    if (kind !== 0) throw new DecodeError(`unsupported label type 0x${kind.toString(16)}`, pos);
    if (pos + 1 + len > buf.length) throw new DecodeError('label runs past the end of the message', pos);
    wire += len + 1;
    if (wire > MAX_NAME) throw new DecodeError('name longer than 255 octets', pos);
    labels.push(labelToText(buf, pos + 1, len));
    pos += 1 + len;
  }
  return { name: labels.join('.'), next };
}

/** Does presentation-form `name` end with an unescaped `.` (an absolute name)? */
export function isAbsoluteName(name: string): boolean {
  if (!name.endsWith('.')) return false;
  let slashes = 0;
  for (let i = name.length - 2; i >= 0 && name[i] === '\\'; i--) slashes++;
  return slashes % 2 === 0;
}

/**
 * Splits presentation form into raw labels, honouring `\X` and `\DDD` (RFC 1035 5.1); characters
 * beyond ASCII (a UTF-8 zone file's `bücher`) become their UTF-8 octets. Throws on bad syntax.
 */
export function nameToLabels(name: string): Buffer[] {
  if (name === '' || name === '.') return [];
  const n = isAbsoluteName(name) ? name.slice(0, -1) : name;
  const labels: Buffer[] = [];
  let cur: number[] = [];
  const pushChar = (i: number): number => {
    const cp = n.codePointAt(i)!;
    if (cp < 0x80) {
      cur.push(cp);
      return i;
    }
    const ch = String.fromCodePoint(cp);
    for (const b of Buffer.from(ch, 'utf8')) cur.push(b);
    return i + ch.length - 1;
  };
  for (let i = 0; i < n.length; i++) {
    const ch = n.charCodeAt(i);
    if (ch === 0x5c) {
      const d = /^\d{3}/.exec(n.slice(i + 1, i + 4));
      if (d) {
        const v = Number(d[0]);
        if (v > 255) throw new Error(`bad escape \\${d[0]} in name "${name}"`);
        cur.push(v);
        i += 3;
      } else if (i + 1 < n.length) {
        i = pushChar(i + 1);
      } else throw new Error(`name "${name}" ends with a backslash`);
    } else if (ch === 0x2e) {
      if (cur.length === 0) throw new Error(`empty label in name "${name}"`);
      labels.push(Buffer.from(cur));
      cur = [];
    } else i = pushChar(i);
  }
  if (cur.length === 0) throw new Error(`empty label in name "${name}"`);
  labels.push(Buffer.from(cur));
  let total = 1;
  for (const l of labels) {
    if (l.length > 63) throw new Error(`label longer than 63 octets in name "${name}"`);
    total += l.length + 1;
  }
  if (total > MAX_NAME) throw new Error(`name "${name}" is longer than 255 octets`);
  return labels;
}

/** Any presentation form (`\065bc.`, `bücher`, `a\.b`) to the canonical one, case kept. Throws on bad syntax. */
export function normalizeName(name: string): string {
  return labelsToName(nameToLabels(name));
}

/** Only these characters are the same in every presentation form: no escapes, nothing to re-encode. */
const PLAIN_NAME = /^[A-Za-z0-9_*/+=:,-]+(\.[A-Za-z0-9_*/+=:,-]+)*\.?$/;

/**
 * Lookup key: the canonical form with ASCII letters lowercased (RFC 4343: case-insensitive for
 * A-Z only; other octets compare exactly), no trailing dot. Text that is not a valid name is only
 * lowercased, so the key is total; the encoder rejects such names.
 */
export function canonicalName(name: string): string {
  let n = name;
  if (!PLAIN_NAME.test(n)) {
    try {
      n = normalizeName(n);
    } catch {
      /* not a name: key it as text */
    }
  }
  if (isAbsoluteName(n)) n = n.slice(0, -1);
  return n.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Decoding

function need(buf: Buffer, pos: number, n: number, what: string): void {
  if (pos + n > buf.length) throw new DecodeError(`${what} runs past the end of the message`, pos);
}

/** RDATA of one record from `len` octets at `pos` of `buf` (the whole message, for compression pointers). */
export function decodeRData(buf: Buffer, type: number, pos: number, len: number): RData {
  const end = pos + len;
  const nameIn = (p: number): { name: string; next: number } => {
    const r = decodeName(buf, p);
    if (r.next > end) throw new DecodeError('name runs past its record', p);
    return r;
  };
  switch (type) {
    case TYPES.A:
      if (len !== 4) throw new DecodeError(`A record with ${len} octets of data`, pos);
      return { address: `${buf[pos]}.${buf[pos + 1]}.${buf[pos + 2]}.${buf[pos + 3]}` };
    case TYPES.AAAA:
      if (len !== 16) throw new DecodeError(`AAAA record with ${len} octets of data`, pos);
      return { address: formatIPv6(buf, pos) };
    case TYPES.CNAME:
    case TYPES.NS:
    case TYPES.PTR:
    case TYPES.DNAME: {
      const r = nameIn(pos);
      if (r.next !== end) throw new DecodeError(`${typeName(type)} record has data after its name`, r.next);
      return { target: r.name };
    }
    case TYPES.MX: {
      if (len < 3) throw new DecodeError('MX record too short', pos);
      return { preference: buf.readUInt16BE(pos), exchange: nameIn(pos + 2).name };
    }
    case TYPES.TXT: {
      const strings: Buffer[] = [];
      let p = pos;
      while (p < end) {
        const l = buf[p]!;
        if (p + 1 + l > end) throw new DecodeError('TXT string runs past its record', p);
        strings.push(Buffer.from(buf.subarray(p + 1, p + 1 + l)));
        p += 1 + l;
      }
      return { strings };
    }
    case TYPES.SOA: {
      const m = nameIn(pos);
      const r = nameIn(m.next);
      if (r.next + 20 > end) throw new DecodeError('SOA record too short', pos);
      const p = r.next;
      return {
        mname: m.name,
        rname: r.name,
        serial: buf.readUInt32BE(p),
        refresh: buf.readUInt32BE(p + 4),
        retry: buf.readUInt32BE(p + 8),
        expire: buf.readUInt32BE(p + 12),
        minimum: buf.readUInt32BE(p + 16),
      };
    }
    case TYPES.SRV: {
      if (len < 7) throw new DecodeError('SRV record too short', pos);
      return {
        priority: buf.readUInt16BE(pos),
        weight: buf.readUInt16BE(pos + 2),
        port: buf.readUInt16BE(pos + 4),
        target: nameIn(pos + 6).name,
      };
    }
    case TYPES.CAA: {
      if (len < 2) throw new DecodeError('CAA record too short', pos);
      const tl = buf[pos + 1]!;
      if (pos + 2 + tl > end) throw new DecodeError('CAA tag runs past its record', pos);
      return {
        flags: buf[pos]!,
        tag: buf.toString('latin1', pos + 2, pos + 2 + tl),
        value: Buffer.from(buf.subarray(pos + 2 + tl, end)),
      };
    }
    case TYPES.OPT: {
      // RFC 6891 6.1.2: the RDATA is {code, length, data} triples; one running past it is malformed
      for (let p = pos; p < end; ) {
        if (p + 4 > end) throw new DecodeError('EDNS option header runs past the OPT record', p);
        const l = buf.readUInt16BE(p + 2);
        if (p + 4 + l > end) throw new DecodeError(`EDNS option ${buf.readUInt16BE(p)} of ${l} octets runs past the OPT record`, p);
        p += 4 + l;
      }
      return { options: Buffer.from(buf.subarray(pos, end)) };
    }
    default:
      return { raw: Buffer.from(buf.subarray(pos, end)) };
  }
}

function decodeRecord(buf: Buffer, pos: number): { rr: ResourceRecord; next: number } {
  const { name, next } = decodeName(buf, pos);
  need(buf, next, 10, 'record header');
  const type = buf.readUInt16BE(next);
  const klass = buf.readUInt16BE(next + 2);
  const ttl = buf.readUInt32BE(next + 4);
  const len = buf.readUInt16BE(next + 8);
  const start = next + 10;
  need(buf, start, len, 'record data');
  const data = decodeRData(buf, type, start, len);
  return { rr: { name, type, class: klass, ttl, data }, next: start + len };
}

/** Options for decode(). */
export interface DecodeOptions {
  /** Throw on octets after the last record (a server parsing a query; a client may be lenient). */
  rejectTrailing?: boolean;
}

/** Decodes one message. Throws DecodeError for anything malformed; never reads out of bounds. */
export function decode(buf: Buffer, opts: DecodeOptions = {}): Message {
  if (buf.length < HEADER_SIZE) throw new DecodeError(`message of ${buf.length} octets is shorter than the 12-octet header`, 0);
  const id = buf.readUInt16BE(0);
  const flags = decodeFlags(buf.readUInt16BE(2));
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  // Each question needs >= 5 octets, each record >= 11: cheap check before allocating anything.
  if (HEADER_SIZE + qd * 5 + (an + ns + ar) * 11 > buf.length) {
    throw new DecodeError(`section counts (${qd}/${an}/${ns}/${ar}) claim more than ${buf.length} octets can hold`, 4);
  }
  let pos = HEADER_SIZE;
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = decodeName(buf, pos);
    need(buf, next, 4, 'question');
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  const section = (count: number): ResourceRecord[] => {
    const out: ResourceRecord[] = [];
    for (let i = 0; i < count; i++) {
      const r = decodeRecord(buf, pos);
      out.push(r.rr);
      pos = r.next;
    }
    return out;
  };
  const answers = section(an);
  const authorities = section(ns);
  const additionals = section(ar);
  if (opts.rejectTrailing && pos < buf.length) throw new DecodeError(`${buf.length - pos} octets after the last record`, pos);
  return { id, flags, questions, answers, authorities, additionals };
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Growable writer with a name-compression table (RFC 1035 4.1.4). */
class Writer {
  buf: Buffer;
  pos = 0;
  private names = new Map<string, number>();

  constructor(size = 512) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }
  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
  name(name: string, compress: boolean): void {
    const labels = nameToLabels(name);
    for (let i = 0; i < labels.length; i++) {
      // exact octets of the label sequence: a label `a.b` is not the labels `a`,`b`, and a pointer
      // to `mixed` must not rewrite the zone's `MiXeD` (RFC 4343 4.1, case preserved as BIND does)
      let key = '';
      for (let j = i; j < labels.length; j++) key += String.fromCharCode(labels[j]!.length) + labels[j]!.toString('latin1');
      if (compress) {
        const at = this.names.get(key);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
      }
      if (this.pos < 0x4000 && !this.names.has(key)) this.names.set(key, this.pos);
      const l = labels[i]!;
      this.u8(l.length);
      this.bytes(l);
    }
    this.u8(0);
  }
  /** Forget compression targets at or past `pos` (after rolling back a record that did not fit). */
  rollback(pos: number): void {
    this.pos = pos;
    for (const [k, v] of this.names) if (v >= pos) this.names.delete(k);
  }
}

function ipv4Bytes(address: string): Buffer {
  const parts = address.split('.');
  if (parts.length !== 4) throw new Error(`bad IPv4 address "${address}"`);
  return Buffer.from(
    parts.map((p) => {
      if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`bad IPv4 address "${address}"`);
      return Number(p);
    }),
  );
}

/** IPv6 text (with `::` and an optional dotted IPv4 tail) to its 16 octets. */
export function ipv6Bytes(address: string): Buffer {
  let text = address;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail = [...ipv4Bytes(v4[1]!)];
    text = text.slice(0, -v4[1]!.length) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address "${address}"`);
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(h)) throw new Error(`bad IPv6 address "${address}"`);
    return parseInt(h, 16);
  }));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) throw new Error(`bad IPv6 address "${address}"`);
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else groups = head;
  if (groups.length !== 8) throw new Error(`bad IPv6 address "${address}"`);
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  if (tail.length) Buffer.from(tail).copy(b, 12);
  return b;
}

function encodeRData(w: Writer, rr: ResourceRecord): void {
  const d = rr.data as Record<string, unknown>;
  switch (rr.type) {
    case TYPES.A:
      w.bytes(ipv4Bytes(d.address as string));
      return;
    case TYPES.AAAA:
      w.bytes(ipv6Bytes(d.address as string));
      return;
    case TYPES.CNAME:
    case TYPES.NS:
    case TYPES.PTR:
      w.name(d.target as string, true);
      return;
    case TYPES.DNAME:
      w.name(d.target as string, false); // RFC 6672 2.5: never compressed
      return;
    case TYPES.MX:
      w.u16(d.preference as number);
      w.name(d.exchange as string, true);
      return;
    case TYPES.TXT:
      for (const s of d.strings as Buffer[]) {
        w.u8(s.length);
        w.bytes(s);
      }
      return;
    case TYPES.SOA: {
      const s = rr.data as SoaData;
      w.name(s.mname, true);
      w.name(s.rname, true);
      w.u32(s.serial);
      w.u32(s.refresh);
      w.u32(s.retry);
      w.u32(s.expire);
      w.u32(s.minimum);
      return;
    }
    case TYPES.SRV:
      w.u16(d.priority as number);
      w.u16(d.weight as number);
      w.u16(d.port as number);
      w.name(d.target as string, false); // RFC 2782: no compression
      return;
    case TYPES.CAA: {
      const tag = Buffer.from(d.tag as string, 'latin1');
      w.u8(d.flags as number);
      w.u8(tag.length);
      w.bytes(tag);
      w.bytes(d.value as Buffer);
      return;
    }
    case TYPES.OPT:
      w.bytes((d.options as Buffer | undefined) ?? Buffer.alloc(0));
      return;
    default:
      w.bytes((d.raw as Buffer | undefined) ?? Buffer.alloc(0));
  }
}

function encodeRecord(w: Writer, rr: ResourceRecord): void {
  w.name(rr.name, true);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.pos;
  w.u16(0);
  encodeRData(w, rr);
  w.buf.writeUInt16BE(w.pos - lenAt - 2, lenAt);
}

/** What encode() had to leave out to stay within `maxSize`. */
export interface EncodeResult {
  buf: Buffer;
  truncated: boolean;
}

/**
 * Encodes a message. With `maxSize` (UDP), whole records that do not fit are dropped from the end
 * and TC is set (RFC 1035 4.2.1, RFC 2181 9); an OPT record always stays (RFC 6891 7).
 */
export function encodeLimited(msg: Message, maxSize = 65535): EncodeResult {
  const w = new Writer();
  w.u16(msg.id);
  w.u16(0); // flags later
  w.u16(msg.questions.length);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  for (const q of msg.questions) {
    w.name(q.name, true);
    w.u16(q.type);
    w.u16(q.class);
  }
  const opt = msg.additionals.filter((r) => r.type === TYPES.OPT);
  const limit = maxSize - opt.length * 11;
  let truncated = w.pos > maxSize;
  const counts = [0, 0, 0];
  const sections = [msg.answers, msg.authorities, msg.additionals.filter((r) => r.type !== TYPES.OPT)];
  outer: for (let s = 0; s < 3; s++) {
    for (const rr of sections[s]!) {
      const at = w.pos;
      encodeRecord(w, rr);
      if (w.pos > limit) {
        w.rollback(at);
        // RFC 2181 9: TC only when required data (answer/authority) is cut; dropping glue is fine.
        if (s < 2) truncated = true;
        break outer;
      }
      counts[s]!++;
    }
  }
  for (const rr of opt) {
    encodeRecord(w, rr);
    counts[2]!++;
  }
  w.buf.writeUInt16BE(encodeFlags({ ...msg.flags, tc: msg.flags.tc || truncated }), 2);
  w.buf.writeUInt16BE(counts[0]!, 6);
  w.buf.writeUInt16BE(counts[1]!, 8);
  w.buf.writeUInt16BE(counts[2]!, 10);
  return { buf: Buffer.from(w.buf.subarray(0, w.pos)), truncated };
}

/** Encodes a message whole (throws if it exceeds 65535 octets). */
export function encode(msg: Message): Buffer {
  const r = encodeLimited(msg);
  if (r.truncated) throw new Error('message larger than 65535 octets');
  return r.buf;
}

/** Size of one record on the wire without compression; used to split AXFR into messages. */
export function recordSize(rr: ResourceRecord): number {
  const w = new Writer(256);
  encodeRecord(w, rr);
  return w.pos;
}

// ---------------------------------------------------------------------------------------------
// TCP framing (RFC 1035 4.2.2, RFC 7766 8): a two-octet length before each message.

export function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 2);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

/** Accumulates TCP bytes; `next()` returns one whole message or null until one has arrived. */
export class Deframer {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }
  /** Octets buffered and not yet returned. */
  get buffered(): number {
    return this.size;
  }
  /** The length prefix of the next message, once two octets are in. */
  peekLength(): number | null {
    if (this.size < 2) return null;
    this.flatten();
    return this.chunks[0]!.readUInt16BE(0);
  }
  next(): Buffer | null {
    const len = this.peekLength();
    if (len === null || this.size < len + 2) return null;
    const buf = this.chunks[0]!;
    const msg = buf.subarray(2, 2 + len);
    const rest = buf.subarray(2 + len);
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
    return msg;
  }
  private flatten(): void {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
  }
}

// ---------------------------------------------------------------------------------------------
// EDNS(0) helpers (RFC 6891)

export interface Edns {
  udpSize: number;
  version: number;
  extendedRcode: number;
  do: boolean;
}

export function getEdns(msg: Message): Edns | undefined {
  const opt = msg.additionals.find((r) => r.type === TYPES.OPT);
  if (!opt) return undefined;
  return { udpSize: opt.class, extendedRcode: opt.ttl >>> 24, version: (opt.ttl >>> 16) & 0xff, do: (opt.ttl & 0x8000) !== 0 };
}

export function optRecord(udpSize: number, extendedRcode = 0): ResourceRecord {
  return { name: '', type: TYPES.OPT, class: udpSize, ttl: (extendedRcode & 0xff) << 24, data: { options: Buffer.alloc(0) } };
}

/** Renders RDATA in master-file form, as dig prints it. */
export function rdataToText(rr: ResourceRecord): string {
  const d = rr.data as Record<string, unknown>;
  const fq = (n: string): string => (n === '' ? '.' : `${n}.`);
  switch (rr.type) {
    case TYPES.A:
    case TYPES.AAAA:
      return d.address as string;
    case TYPES.CNAME:
    case TYPES.NS:
    case TYPES.PTR:
    case TYPES.DNAME:
      return fq(d.target as string);
    case TYPES.MX:
      return `${d.preference as number} ${fq(d.exchange as string)}`;
    case TYPES.TXT:
      return (d.strings as Buffer[]).map((s) => quoteString(s)).join(' ');
    case TYPES.SOA: {
      const s = rr.data as SoaData;
      return `${fq(s.mname)} ${fq(s.rname)} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
    case TYPES.SRV:
      return `${d.priority as number} ${d.weight as number} ${d.port as number} ${fq(d.target as string)}`;
    case TYPES.CAA:
      return `${d.flags as number} ${d.tag as string} ${quoteString(d.value as Buffer)}`;
    default: {
      const raw = (d.raw ?? d.options ?? Buffer.alloc(0)) as Buffer;
      const known = rawToText(rr.type, raw);
      if (known !== undefined) return known;
      return `\\# ${raw.length}${raw.length ? ' ' + raw.toString('hex') : ''}`;
    }
  }
}

/** Master-file text of the simple types kept as raw RDATA; undefined for the RFC 3597 generic form. */
function rawToText(type: number, raw: Buffer): string | undefined {
  const hex = (b: Buffer): string => b.toString('hex').toUpperCase();
  switch (type) {
    case TYPES.HINFO: {
      const a = raw[0];
      if (a === undefined || 1 + a >= raw.length || 2 + a + raw[1 + a]! !== raw.length) return undefined;
      return `${quoteString(raw.subarray(1, 1 + a))} ${quoteString(raw.subarray(2 + a))}`;
    }
    case TYPES.DS:
      return raw.length > 4 ? `${raw.readUInt16BE(0)} ${raw[2]} ${raw[3]} ${hex(raw.subarray(4))}` : undefined;
    case TYPES.SSHFP:
      return raw.length > 2 ? `${raw[0]} ${raw[1]} ${hex(raw.subarray(2))}` : undefined;
    case TYPES.TLSA:
      return raw.length > 3 ? `${raw[0]} ${raw[1]} ${raw[2]} ${hex(raw.subarray(3))}` : undefined;
    default:
      return undefined;
  }
}

/** A character-string in master-file form: quoted, with `"`/`\` escaped and non-printables as \DDD. */
export function quoteString(b: Buffer): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + String(c).padStart(3, '0');
  }
  return s + '"';
}

/** One record as a master-file line (`www.example.com. 300 IN A 192.0.2.1`). */
export function recordToText(rr: ResourceRecord): string {
  return `${rr.name === '' ? '.' : rr.name + '.'}\t${rr.ttl}\t${className(rr.class)}\t${typeName(rr.type)}\t${rdataToText(rr)}`;
}
