import Protocol, { type RawDhcpPacket } from 'dhcp/lib/protocol.js';
import { LabError, invalidArgument } from '../errors.js';
import { fastDecode, fastEncode } from './codec-fast.js';

// The packet format and option table come from node-dhcp (patched: patches/dhcp+0.2.20.patch).
// This module adds what socketlab needs on top: normalised MACs, typed option accessors, the
// minimum BOOTP size, and byte-level helpers for the relay. No sockets here.

/** RFC 2132 section 9.6: DHCP message types, with a reverse lookup for logs. */
export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type MessageTypeName = keyof typeof MessageType;
const typeNames = Object.fromEntries(Object.entries(MessageType).map(([k, v]) => [v, k])) as Record<number, MessageTypeName>;

/** `DISCOVER`, `ACK`, ... or `TYPE<n>` for codes outside RFC 2132. */
export function messageTypeName(code: number | undefined): string {
  if (code === undefined) return 'BOOTP';
  return typeNames[code] ?? `TYPE${code}`;
}

/** Option codes socketlab reads or writes (RFC 2132, RFC 3046). */
export const Opt = {
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  HOSTNAME: 12,
  DOMAIN: 15,
  BROADCAST: 28,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAM_REQUEST: 55,
  MESSAGE: 56,
  T1: 58,
  T2: 59,
  CLIENT_ID: 61,
  RELAY_AGENT: 82,
} as const;

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** RFC 2131 section 2: the leftmost bit of `flags`. */
export const BROADCAST_FLAG = 0x8000;
export const SERVER_PORT = 67;
export const CLIENT_PORT = 68;
/** RFC 2131 section 2 / RFC 1542: relays and some clients drop BOOTP messages under 300 bytes. */
const MIN_BOOTP = 300;
const OPTIONS_START = 240;

/** A decoded DHCP message: node-dhcp's packet with `chaddr` normalised to `aa:bb:cc:dd:ee:ff`. */
export type DhcpMessage = Omit<RawDhcpPacket, 'magicCookie'>;

/** Decodes one datagram; throws LabError (LAB_ERR_DHCP) saying what is wrong with it. */
export function decode(buf: Buffer): DhcpMessage {
  return fastDecode(buf) ?? decodeWithNodeDhcp(buf);
}

/** The codec of record (node-dhcp); decode() takes a fast path with the same result where it can. */
export function decodeWithNodeDhcp(buf: Buffer): DhcpMessage {
  let raw: RawDhcpPacket;
  try {
    raw = Protocol.parse(buf);
  } catch (err) {
    throw new LabError('LAB_ERR_DHCP', `malformed DHCP message (${buf.length} bytes): ${(err as Error).message}`);
  }
  const { magicCookie: _m, ...rest } = raw;
  return { ...rest, chaddr: raw.chaddr.toLowerCase().replaceAll('-', ':') };
}

/** Encodes a message, padded to the 300-byte BOOTP minimum. */
export function encode(msg: DhcpMessage): Buffer {
  return fastEncode(msg) ?? encodeWithNodeDhcp(msg);
}

/** The codec of record (node-dhcp); encode() takes a fast path with the same bytes where it can. */
export function encodeWithNodeDhcp(msg: DhcpMessage): Buffer {
  const sb = Protocol.format(msg);
  // format() writes into a fresh zero-filled 1500-byte buffer: a view of it is already padded.
  return sb._data.subarray(0, Math.max(sb._w, MIN_BOOTP));
}

export function messageType(m: DhcpMessage): number | undefined {
  const t = m.options[Opt.MESSAGE_TYPE];
  return typeof t === 'number' ? t : undefined;
}

export function optIp(m: DhcpMessage, code: number): string | undefined {
  const v = m.options[code];
  return typeof v === 'string' && v !== '0.0.0.0' ? v : undefined;
}

export function optString(m: DhcpMessage, code: number): string | undefined {
  const v = m.options[code];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Parameter request list (option 55); always an array of numbers. */
export function paramRequestList(m: DhcpMessage): number[] {
  const v = m.options[Opt.PARAM_REQUEST];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return typeof v === 'number' ? [v] : [];
}

/** A blank BOOTREPLY answering `req` (xid, flags, giaddr, chaddr copied; RFC 2131 table 3). */
export function replyTo(req: DhcpMessage, type: number): DhcpMessage {
  return {
    op: BOOTREPLY,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: req.xid,
    secs: 0,
    flags: req.flags,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: req.giaddr,
    chaddr: req.chaddr,
    sname: '',
    file: '',
    options: { [Opt.MESSAGE_TYPE]: type },
  };
}

const MAC_FORMS = [
  /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i,
  /^([0-9a-f]{2})([0-9a-f]{2})\.([0-9a-f]{2})([0-9a-f]{2})\.([0-9a-f]{2})([0-9a-f]{2})$/i,
  /^([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i,
];

/** `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff` (or bare hex) -> `aa:bb:cc:dd:ee:ff`. */
export function parseMac(text: string): string {
  for (const re of MAC_FORMS) {
    const m = re.exec(text.trim());
    if (m) return m.slice(1).join(':').toLowerCase();
  }
  throw invalidArgument(`"${text}" is not a MAC address (use aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or aabb.ccdd.eeff)`);
}

/** Byte spans of the options area: [code, start, end) with start at the code byte. */
function optionSpans(buf: Buffer): { code: number; start: number; end: number }[] | null {
  const spans: { code: number; start: number; end: number }[] = [];
  let i = OPTIONS_START;
  while (i < buf.length) {
    const code = buf[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) {
      spans.push({ code, start: i, end: i + 1 });
      return spans;
    }
    if (i + 1 >= buf.length) return null;
    const end = i + 2 + buf[i + 1]!;
    if (end > buf.length) return null;
    spans.push({ code, start: i, end });
    i = end;
  }
  return null; // no END option
}

/** Largest hop count a relay forwards (RFC 1542 section 4.1.1 recommends 16 as the maximum). */
export const MAX_HOPS = 16;

/**
 * Relay agent, client -> server (RFC 1542 4.1.1, RFC 3046): sets giaddr if empty, counts the hop and
 * appends option 82 with sub-option 1 (circuit id) before END. Returns null for what must not be
 * forwarded (malformed, too many hops, option 82 already present with no giaddr).
 */
export function relayForward(buf: Buffer, giaddr: string, circuitId: string): Buffer | null {
  let msg: DhcpMessage;
  try {
    msg = decode(buf);
  } catch {
    return null;
  }
  if (msg.op !== BOOTREQUEST || msg.hops >= MAX_HOPS) return null;
  const spans = optionSpans(buf);
  if (!spans) return null;
  const end = spans.find((s) => s.code === 255)!;
  const has82 = spans.some((s) => s.code === Opt.RELAY_AGENT);
  if (has82 && msg.giaddr === '0.0.0.0') return null; // RFC 3046 2.1: untrusted option 82
  const circuit = Buffer.from(circuitId, 'utf8').subarray(0, 250);
  const opt82 = has82 ? Buffer.alloc(0) : Buffer.from([Opt.RELAY_AGENT, circuit.length + 2, 1, circuit.length, ...circuit]);
  const out = Buffer.concat([buf.subarray(0, end.start), opt82, Buffer.from([255])]);
  out[3] = msg.hops + 1;
  if (msg.giaddr === '0.0.0.0') giaddr.split('.').forEach((o, k) => (out[24 + k] = Number(o)));
  return out.length < MIN_BOOTP ? Buffer.concat([out, Buffer.alloc(MIN_BOOTP - out.length)]) : out;
}

/** Relay agent, server -> client: the reply without option 82 (RFC 3046 2.2), or null if malformed. */
export function relayReply(buf: Buffer): { buf: Buffer; msg: DhcpMessage } | null {
  let msg: DhcpMessage;
  try {
    msg = decode(buf);
  } catch {
    return null;
  }
  if (msg.op !== BOOTREPLY) return null;
  const spans = optionSpans(buf);
  if (!spans) return null;
  const parts = [buf.subarray(0, OPTIONS_START)];
  for (const s of spans) if (s.code !== Opt.RELAY_AGENT) parts.push(buf.subarray(s.start, s.end));
  let out = Buffer.concat(parts);
  if (out.length < MIN_BOOTP) out = Buffer.concat([out, Buffer.alloc(MIN_BOOTP - out.length)]);
  delete msg.options[Opt.RELAY_AGENT];
  return { buf: out, msg };
}

/** Circuit id (sub-option 1) from option 82's raw hex, for logs. */
export function circuitIdOf(opt82hex: unknown): string | undefined {
  if (typeof opt82hex !== 'string') return undefined;
  const b = Buffer.from(opt82hex, 'hex');
  for (let i = 0; i + 1 < b.length; ) {
    const len = b[i + 1]!;
    if (b[i] === 1) return b.subarray(i + 2, i + 2 + len).toString('utf8');
    i += 2 + len;
  }
  return undefined;
}
