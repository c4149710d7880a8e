import Options from 'dhcp/lib/options.js';
import type { DhcpMessage } from './codec.js';

// Fast paths for the messages a busy server handles (DISCOVER/REQUEST in, OFFER/ACK out).
// node-dhcp stays the codec of record: these functions produce exactly what its parse()/format()
// would (byte for byte, value for value; property-tested in codec.test.ts), and return undefined
// for anything they do not cover -- odd lengths, unusual option types, non-empty sname/file, bad
// values -- so the caller falls back to node-dhcp, which also produces the error messages. They
// skip its per-field method dispatch, regexes and a zeroed 1500-byte buffer per reply.

const T_OTHER = 0;
const T_UINT8 = 1;
const T_UINT16 = 2;
const T_UINT32 = 3;
const T_IP = 4;
const T_IPS = 5;
const T_UINT8S = 6;
const T_ASCII = 7;
const T_HEX = 8;
const T_UNKNOWN = 9; // not in the option table: node-dhcp skips it when parsing, throws when formatting
const TYPE_CODES: Record<string, number> = { UInt8: T_UINT8, UInt16: T_UINT16, UInt32: T_UINT32, IP: T_IP, IPs: T_IPS, UInt8s: T_UINT8S, ASCII: T_ASCII, Hex: T_HEX };
const TYPES = new Uint8Array(256).fill(T_UNKNOWN);
for (let code = 0; code < 256; code++) {
  const spec = Options.opts[code];
  if (spec) TYPES[code] = TYPE_CODES[spec.type] ?? T_OTHER;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const MAGIC = 0x63825363;
const MIN_BOOTP = 300;

function ip(buf: Buffer, o: number): string {
  return `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`;
}

/** node-dhcp's trimZero: the text up to the first NUL. */
function trimZero(s: string): string {
  const i = s.indexOf('\0');
  return i === -1 ? s : s.slice(0, i);
}

/** What node-dhcp's parse() plus socketlab's chaddr normalisation return, or undefined. */
export function fastDecode(buf: Buffer): DhcpMessage | undefined {
  const n = buf.length;
  if (n < 240 || buf.readUInt32BE(236) !== MAGIC || buf[1] !== 1 || buf[2] !== 6 || buf[44] !== 0 || buf[108] !== 0) return undefined;
  const options: Record<number, unknown> = {};
  let i = 240;
  while (i < n) {
    const code = buf[i++]!;
    if (code === 255) break;
    if (code === 0) continue;
    if (i >= n) return undefined;
    const len = buf[i++]!;
    const end = i + len;
    if (end > n) return undefined;
    switch (TYPES[code]) {
      case T_UNKNOWN:
        break;
      case T_UINT8:
        if (len < 1) return undefined;
        options[code] = buf[i];
        break;
      case T_UINT16:
        if (len < 2) return undefined;
        options[code] = buf.readUInt16BE(i);
        break;
      case T_UINT32:
        if (len < 4) return undefined;
        options[code] = buf.readUInt32BE(i);
        break;
      case T_IP:
        if (len < 4) return undefined;
        options[code] = ip(buf, i);
        break;
      case T_IPS: {
        if (len % 4 !== 0) return undefined;
        const a: string[] = [];
        for (let k = i; k < end; k += 4) a.push(ip(buf, k));
        options[code] = a;
        break;
      }
      case T_UINT8S: {
        const a: number[] = [];
        for (let k = i; k < end; k++) a.push(buf[k]!);
        options[code] = a;
        break;
      }
      case T_ASCII:
        options[code] = trimZero(buf.toString('ascii', i, end));
        break;
      case T_HEX:
        options[code] = buf.toString('hex', i, end);
        break;
      default:
        return undefined;
    }
    i = end;
  }
  return {
    op: buf[0]!,
    htype: 1,
    hlen: 6,
    hops: buf[3]!,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ip(buf, 12),
    yiaddr: ip(buf, 16),
    siaddr: ip(buf, 20),
    giaddr: ip(buf, 24),
    chaddr: `${HEX[buf[28]!]}:${HEX[buf[29]!]}:${HEX[buf[30]!]}:${HEX[buf[31]!]}:${HEX[buf[32]!]}:${HEX[buf[33]!]}`,
    sname: '',
    file: '',
    options,
  };
}

/** Writes a dotted quad of plain decimal parts (what node-dhcp's addIP reads alike); false otherwise. */
function putIp(s: unknown, out: Buffer, o: number): boolean {
  if (typeof s !== 'string') return false;
  let part = 0;
  let digits = 0;
  let k = 0;
  for (let j = 0; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 46) {
      if (digits === 0 || k === 3) return false;
      out[o + k++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      if (part > 255) return false;
      digits++;
    } else return false;
  }
  if (digits === 0 || k !== 3) return false;
  out[o + 3] = part;
  return true;
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** `aa:bb:cc:dd:ee:ff` or `AA-BB-..` into 6 bytes; false for any other spelling. */
function putMac(s: unknown, out: Buffer, o: number): boolean {
  if (typeof s !== 'string' || s.length !== 17) return false;
  for (let k = 0; k < 6; k++) {
    const hi = hexNibble(s.charCodeAt(3 * k));
    const lo = hexNibble(s.charCodeAt(3 * k + 1));
    if (hi < 0 || lo < 0) return false;
    if (k < 5) {
      const sep = s.charCodeAt(3 * k + 2);
      if (sep !== 58 && sep !== 45) return false;
    }
    out[o + k] = (hi << 4) | lo;
  }
  return true;
}

const isUInt = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

/** Scratch space for one reply; copied out into a right-sized buffer at the end. */
const scratch = Buffer.alloc(1500);

/** What node-dhcp's format() gives, cut to max(length, 300) bytes, or undefined. */
export function fastEncode(m: DhcpMessage): Buffer | undefined {
  const b = scratch;
  if (!isUInt(m.op, 255) || !isUInt(m.htype, 255) || !isUInt(m.hlen, 255) || !isUInt(m.hops, 255)) return undefined;
  if (!isUInt(m.xid, 0xffffffff) || !isUInt(m.secs, 0xffff) || !isUInt(m.flags, 0xffff)) return undefined;
  if (m.sname !== '' || m.file !== '') return undefined;
  b.fill(0, 0, 240);
  b[0] = m.op;
  b[1] = m.htype;
  b[2] = m.hlen;
  b[3] = m.hops;
  b.writeUInt32BE(m.xid, 4);
  b.writeUInt16BE(m.secs, 8);
  b.writeUInt16BE(m.flags, 10);
  if (!putIp(m.ciaddr, b, 12) || !putIp(m.yiaddr, b, 16) || !putIp(m.siaddr, b, 20) || !putIp(m.giaddr, b, 24) || !putMac(m.chaddr, b, 28)) return undefined;
  b.writeUInt32BE(MAGIC, 236);
  let w = 240;
  const opts = m.options;
  for (const key in opts) {
    if (!Object.prototype.hasOwnProperty.call(opts, key)) continue;
    const code = Number(key);
    if (!(code >= 1 && code <= 254 && String(code) === key)) return undefined;
    if (TYPES[code] === T_UNKNOWN) return undefined;
    const val = opts[code];
    if (val === null) continue;
    if (w + 2 + 255 + 1 > b.length) return undefined; // node-dhcp would run out of its 1500 bytes
    switch (TYPES[code]) {
      case T_UINT8:
        if (!isUInt(val, 255)) return undefined;
        b[w] = code;
        b[w + 1] = 1;
        b[w + 2] = val;
        w += 3;
        break;
      case T_UINT16:
        if (!isUInt(val, 0xffff)) return undefined;
        b[w] = code;
        b[w + 1] = 2;
        b.writeUInt16BE(val, w + 2);
        w += 4;
        break;
      case T_UINT32:
        if (!isUInt(val, 0xffffffff)) return undefined;
        b[w] = code;
        b[w + 1] = 4;
        b.writeUInt32BE(val, w + 2);
        w += 6;
        break;
      case T_IP:
        b[w] = code;
        b[w + 1] = 4;
        if (!putIp(val, b, w + 2)) return undefined;
        w += 6;
        break;
      case T_IPS: {
        const list = Array.isArray(val) ? val : typeof val === 'string' ? [val] : undefined;
        if (!list || list.length > 63) return undefined;
        b[w] = code;
        b[w + 1] = 4 * list.length;
        for (let k = 0; k < list.length; k++) if (!putIp(list[k], b, w + 2 + 4 * k)) return undefined;
        w += 2 + 4 * list.length;
        break;
      }
      case T_UINT8S: {
        const list = Array.isArray(val) ? val : [val];
        if (list.length > 255) return undefined;
        b[w] = code;
        b[w + 1] = list.length;
        for (let k = 0; k < list.length; k++) {
          const x = list[k];
          if (!isUInt(x, 255)) return undefined;
          b[w + 2 + k] = x;
        }
        w += 2 + list.length;
        break;
      }
      case T_ASCII: {
        if (typeof val !== 'string' || val.length > 255) return undefined;
        if (val.length === 0) continue; // node-dhcp leaves an empty text option out
        for (let k = 0; k < val.length; k++) {
          const c = val.charCodeAt(k);
          if (c > 127) return undefined;
          b[w + 2 + k] = c;
        }
        b[w] = code;
        b[w + 1] = val.length;
        w += 2 + val.length;
        break;
      }
      case T_HEX: {
        if (typeof val !== 'string') return undefined;
        const bytes = Buffer.from(val, 'hex');
        if (bytes.length === 0 || bytes.length > 255) return undefined;
        b[w] = code;
        b[w + 1] = bytes.length;
        bytes.copy(b, w + 2);
        w += 2 + bytes.length;
        break;
      }
      default:
        return undefined;
    }
  }
  b[w++] = 255;
  const size = Math.max(w, MIN_BOOTP);
  const out = Buffer.allocUnsafe(size);
  b.copy(out, 0, 0, w);
  if (size > w) out.fill(0, w, size);
  return out;
}
