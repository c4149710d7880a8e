/**
 * RDATA in master-file form -> record data, one entry per type: adding a type is one entry here
 * (and its number in codec TYPES). Types whose data holds no name to compress or chase are kept as
 * their wire octets (`{ raw }`), exactly what the RFC 3597 generic form `\# LEN HEX` gives too.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { DecodeError, decodeRData, ipv6Bytes, nameToLabels, TYPES, type RData } from './codec.js';

/** One master-file token (quoted strings keep their quotes off and `quoted` set). */
export interface Token {
  text: string;
  quoted: boolean;
  line: number;
}

/** What a type's parser may ask of the zone parser; every helper throws (with file:line) on bad input. */
export interface RdataContext {
  /** Fails this record with a message. */
  fail(msg: string): never;
  /** An absolute name in canonical form (relative ones completed with the origin). */
  name(tok: Token): string;
  num(tok: Token | undefined, what: string, max: number): number;
  time(tok: Token | undefined, what: string): number;
  /** Exactly `count` tokens, else a message naming `form`. */
  want(count: number, form: string): void;
}

type RdataParser = (rd: Token[], c: RdataContext, typeText: string) => RData;

/** Unescapes a character-string (`\"`, `\\`, `\DDD`) into its octets. */
export function charString(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const d = /^\d{3}/.exec(text.slice(i + 1, i + 4));
      if (d) {
        if (Number(d[0]) > 255) throw new Error(`escape \\${d[0]} is above 255`);
        out.push(Number(d[0]));
        i += 3;
      } else if (i + 1 < text.length) {
        for (const b of Buffer.from(text[++i]!, 'utf8')) out.push(b);
      }
    } else for (const b of Buffer.from(c, 'utf8')) out.push(b);
  }
  return Buffer.from(out);
}

function str(c: RdataContext, tok: Token | undefined, what: string): Buffer {
  if (!tok) return c.fail(`missing ${what}`);
  let b: Buffer;
  try {
    b = charString(tok.text);
  } catch (err) {
    return c.fail(`${what}: ${(err as Error).message}`);
  }
  if (b.length > 255) c.fail(`${what} of ${b.length} octets is longer than 255`);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

function hexOf(c: RdataContext, toks: Token[], what: string, allowEmpty = false): Buffer {
  const text = toks.map((t) => t.text).join('');
  if ((!text && !allowEmpty) || !/^([0-9a-fA-F]{2})*$/.test(text)) c.fail(`${what} "${text}" is not an even number of hex digits`);
  return Buffer.from(text, 'hex');
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

/** A name as uncompressed wire labels (RFC 3597 4: names in newer types are never compressed). */
function wireName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const l of nameToLabels(name)) parts.push(Buffer.from([l.length]), l);
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

const target: RdataParser = (rd, c) => {
  c.want(1, 'a domain name');
  return { target: c.name(rd[0]!) };
};

/** RFC 1876 3: `d [m [s]] N|S d [m [s]] E|W alt[m] [siz[m] [hp[m] [vp[m]]]]`. */
const loc: RdataParser = (rd, c) => {
  let i = 0;
  const t = (): string | undefined => rd[i]?.text;
  const angle = (hemis: string, maxDeg: number): number => {
    const parts: number[] = [];
    while (i < rd.length && !hemis.includes(t()!.toUpperCase()) && parts.length < 3) {
      if (!/^\d+(\.\d{1,3})?$/.test(t()!)) c.fail(`LOC coordinate "${t()}" is not a number`);
      parts.push(Number(t()));
      i++;
    }
    const h = t()?.toUpperCase();
    if (!h || !hemis.includes(h) || parts.length === 0) return c.fail(`LOC needs degrees [minutes [seconds]] ${hemis[0]}|${hemis[1]}`);
    i++;
    const [d = 0, m = 0, s = 0] = parts;
    if (d > maxDeg || m >= 60 || s >= 60) c.fail(`LOC coordinate ${parts.join(' ')} ${h} is out of range`);
    const thousandths = Math.round(d * 3_600_000 + m * 60_000 + s * 1000);
    return (h === hemis[0] ? 2 ** 31 + thousandths : 2 ** 31 - thousandths) >>> 0;
  };
  const lat = angle('NS', 90);
  const lon = angle('EW', 180);
  const metres = (text: string | undefined, what: string): number => {
    const m = text === undefined ? null : /^(-?\d+(?:\.\d{1,2})?)m?$/i.exec(text);
    if (!m) return c.fail(`LOC ${what} "${text ?? ''}" is not metres (like 10m)`);
    return Math.round(Number(m[1]) * 100);
  };
  const alt = metres(t(), 'altitude') + 10_000_000;
  i++;
  if (alt < 0 || alt > 0xffffffff) c.fail('LOC altitude is out of range');
  // size, horizontal and vertical precision: centimetres as mantissa * 10^exponent in one octet
  const prec = (def: number, what: string): number => {
    const text = t();
    const cm = text === undefined ? def : metres(text, what);
    if (text !== undefined) i++;
    let e = 0;
    let v = cm;
    while (v >= 10 && e < 9) {
      v = Math.floor(v / 10);
      e++;
    }
    if (cm < 0 || v > 9) c.fail(`LOC ${what} is out of range`);
    return (v << 4) | e;
  };
  const size = prec(100, 'size');
  const hp = prec(1_000_000, 'horizontal precision');
  const vp = prec(1_000, 'vertical precision');
  if (i < rd.length) c.fail(`LOC has extra data "${rd.slice(i).map((x) => x.text).join(' ')}"`);
  const b = Buffer.alloc(16);
  b.writeUInt8(0, 0);
  b.writeUInt8(size, 1);
  b.writeUInt8(hp, 2);
  b.writeUInt8(vp, 3);
  b.writeUInt32BE(lat, 4);
  b.writeUInt32BE(lon, 8);
  b.writeUInt32BE(alt, 12);
  return { raw: b };
};

const SVC_KEYS: Record<string, number> = { mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6 };

/** Splits an SvcParam value list on unescaped commas (RFC 9460 A.1). */
function commaList(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\' && i + 1 < v.length) cur += v[i]! + v[++i]!;
    else if (v[i] === ',') {
      out.push(cur);
      cur = '';
    } else cur += v[i];
  }
  out.push(cur);
  return out;
}

/** RFC 9460 2.1: `priority target key=value ...`, keys sorted on the wire. */
const svcb: RdataParser = (rd, c, typeText) => {
  if (rd.length < 2) c.fail(`${typeText} needs priority target [params]`);
  const priority = c.num(rd[0], `${typeText} priority`, 65535);
  const tgt = c.name(rd[1]!);
  const params = new Map<number, Buffer>();
  for (let i = 2; i < rd.length; i++) {
    let text = rd[i]!.text;
    // `alpn="h2,h3"` arrives as `alpn=` then the quoted string
    if (text.endsWith('=') && rd[i + 1]?.quoted) text += rd[++i]!.text;
    const eq = text.indexOf('=');
    const keyName = (eq < 0 ? text : text.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : text.slice(eq + 1);
    const km = /^key(\d{1,5})$/.exec(keyName);
    const key = SVC_KEYS[keyName] ?? (km && Number(km[1]) <= 65535 ? Number(km[1]) : undefined);
    if (key === undefined) c.fail(`${typeText} parameter "${keyName}" is not known (mandatory alpn no-default-alpn port ipv4hint ech ipv6hint keyNNNNN)`);
    if (params.has(key!)) c.fail(`${typeText} parameter ${keyName} given twice`);
    const need = (): string => value ?? c.fail(`${typeText} parameter ${keyName} needs a value`);
    let v: Buffer;
    switch (key) {
      case 0:
        v = Buffer.concat(
          need()
            .split(',')
            .map((k) => u16(SVC_KEYS[k] ?? (/^key\d{1,5}$/.test(k) ? Number(k.slice(3)) : c.fail(`${typeText} mandatory key "${k}" is not known`)))),
        );
        break;
      case 1:
        v = Buffer.concat(commaList(need()).map((a) => str(c, { text: a, quoted: true, line: 0 }, 'alpn id')));
        break;
      case 2:
        if (value) c.fail(`${typeText} no-default-alpn takes no value`);
        v = Buffer.alloc(0);
        break;
      case 3:
        v = u16(c.num({ text: need(), quoted: false, line: 0 }, `${typeText} port`, 65535));
        break;
      case 4:
        v = Buffer.concat(need().split(',').map((a) => (isIPv4(a) ? Buffer.from(a.split('.').map(Number)) : c.fail(`"${a}" is not an IPv4 address`))));
        break;
      case 5:
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(need())) c.fail(`${typeText} ech is not base64`);
        v = Buffer.from(need(), 'base64');
        break;
      case 6:
        v = Buffer.concat(need().split(',').map((a) => (isIPv6(a) ? ipv6Bytes(a) : c.fail(`"${a}" is not an IPv6 address`))));
        break;
      default:
        v = value === undefined ? Buffer.alloc(0) : charString(value);
    }
    params.set(key!, v);
  }
  const parts = [u16(priority), wireName(tgt)];
  for (const k of [...params.keys()].sort((a, b) => a - b)) parts.push(u16(k), u16(params.get(k)!.length), params.get(k)!);
  return { raw: Buffer.concat(parts) };
};

/** Per-type master-file parsers; types not listed are accepted in RFC 3597 generic form only. */
export const RDATA_PARSERS: Partial<Record<number, RdataParser>> = {
  [TYPES.A]: (rd, c) => {
    c.want(1, 'an IPv4 address');
    if (!isIPv4(rd[0]!.text)) c.fail(`"${rd[0]!.text}" is not an IPv4 address`);
    return { address: rd[0]!.text };
  },
  [TYPES.AAAA]: (rd, c) => {
    c.want(1, 'an IPv6 address');
    if (!isIPv6(rd[0]!.text)) c.fail(`"${rd[0]!.text}" is not an IPv6 address`);
    return { address: rd[0]!.text.toLowerCase() };
  },
  [TYPES.CNAME]: target,
  [TYPES.NS]: target,
  [TYPES.PTR]: target,
  [TYPES.DNAME]: target,
  [TYPES.MX]: (rd, c) => {
    c.want(2, 'a preference and a mail exchanger name');
    return { preference: c.num(rd[0], 'MX preference', 65535), exchange: c.name(rd[1]!) };
  },
  [TYPES.SRV]: (rd, c) => {
    c.want(4, 'priority weight port target');
    return { priority: c.num(rd[0], 'SRV priority', 65535), weight: c.num(rd[1], 'SRV weight', 65535), port: c.num(rd[2], 'SRV port', 65535), target: c.name(rd[3]!) };
  },
  [TYPES.TXT]: (rd, c) => {
    if (rd.length === 0) c.fail('TXT needs at least one string');
    const strings = rd.map((t) => {
      let b: Buffer;
      try {
        b = charString(t.text);
      } catch (err) {
        return c.fail(`TXT string: ${(err as Error).message}`);
      }
      if (b.length > 255) c.fail(`TXT string of ${b.length} octets is longer than 255: split it into several "quoted" "strings"`);
      return b;
    });
    return { strings };
  },
  [TYPES.CAA]: (rd, c) => {
    c.want(3, 'flags tag value (e.g. 0 issue "letsencrypt.org")');
    const tag = rd[1]!.text;
    if (!/^[A-Za-z0-9]{1,15}$/.test(tag)) c.fail(`CAA tag "${tag}" must be 1-15 letters or digits`);
    return { flags: c.num(rd[0], 'CAA flags', 255), tag, value: charString(rd[2]!.text) };
  },
  [TYPES.SOA]: (rd, c) => {
    c.want(7, 'mname rname serial refresh retry expire minimum');
    return {
      mname: c.name(rd[0]!),
      rname: c.name(rd[1]!),
      serial: c.num(rd[2], 'SOA serial', 0xffffffff),
      refresh: c.time(rd[3], 'SOA refresh'),
      retry: c.time(rd[4], 'SOA retry'),
      expire: c.time(rd[5], 'SOA expire'),
      minimum: c.time(rd[6], 'SOA minimum'),
    };
  },
  [TYPES.HINFO]: (rd, c) => {
    c.want(2, 'cpu and os strings');
    return { raw: Buffer.concat([str(c, rd[0], 'HINFO cpu'), str(c, rd[1], 'HINFO os')]) };
  },
  [TYPES.NAPTR]: (rd, c) => {
    c.want(6, 'order preference flags service regexp replacement');
    return {
      raw: Buffer.concat([
        u16(c.num(rd[0], 'NAPTR order', 65535)),
        u16(c.num(rd[1], 'NAPTR preference', 65535)),
        str(c, rd[2], 'NAPTR flags'),
        str(c, rd[3], 'NAPTR service'),
        str(c, rd[4], 'NAPTR regexp'),
        wireName(c.name(rd[5]!)),
      ]),
    };
  },
  [TYPES.DS]: (rd, c) => {
    if (rd.length < 4) c.fail('DS needs key-tag algorithm digest-type digest');
    return { raw: Buffer.concat([u16(c.num(rd[0], 'DS key tag', 65535)), Buffer.from([c.num(rd[1], 'DS algorithm', 255), c.num(rd[2], 'DS digest type', 255)]), hexOf(c, rd.slice(3), 'DS digest')]) };
  },
  [TYPES.SSHFP]: (rd, c) => {
    if (rd.length < 3) c.fail('SSHFP needs algorithm fp-type fingerprint');
    return { raw: Buffer.concat([Buffer.from([c.num(rd[0], 'SSHFP algorithm', 255), c.num(rd[1], 'SSHFP fingerprint type', 255)]), hexOf(c, rd.slice(2), 'SSHFP fingerprint')]) };
  },
  [TYPES.TLSA]: (rd, c) => {
    if (rd.length < 4) c.fail('TLSA needs usage selector matching-type data');
    return {
      raw: Buffer.concat([
        Buffer.from([c.num(rd[0], 'TLSA usage', 255), c.num(rd[1], 'TLSA selector', 255), c.num(rd[2], 'TLSA matching type', 255)]),
        hexOf(c, rd.slice(3), 'TLSA data'),
      ]),
    };
  },
  [TYPES.LOC]: loc,
  [TYPES.SVCB]: svcb,
  [TYPES.HTTPS]: svcb,
};

/** Types that only exist in messages (RFC 6891 OPT, RFC 8945 TSIG, RFC 2930 TKEY, RFC 1035 QTYPEs). */
const META = new Set<number>([0, TYPES.OPT, 249, 250, TYPES.IXFR, TYPES.AXFR, 253, 254, TYPES.ANY]);

/** Record data for `type` from its master-file tokens: type syntax, or RFC 3597 `\# LEN HEX` for any type. */
export function parseRdata(type: number, typeText: string, rd: Token[], c: RdataContext): RData {
  if (META.has(type)) c.fail(`${typeText} is a meta type that cannot appear in a zone`);
  if (rd[0]?.text === '\\#' && !rd[0].quoted) {
    const len = c.num(rd[1], `${typeText} generic data length`, 65535);
    const raw = hexOf(c, rd.slice(2), `${typeText} generic data`, true);
    if (raw.length !== len) c.fail(`${typeText} generic data has ${raw.length} octets, not the ${len} given after \\#`);
    // RFC 3597 5: a known type in generic form means exactly what its own syntax would
    if (!RDATA_PARSERS[type]) return { raw };
    try {
      return decodeRData(raw, type, 0, raw.length);
    } catch (err) {
      if (err instanceof DecodeError) c.fail(`${typeText} generic data is not a valid ${typeText}: ${err.message}`);
      throw err;
    }
  }
  const parser = RDATA_PARSERS[type];
  if (!parser) c.fail(`${typeText} has no known text form: write its data as RFC 3597 generic data, \\# LENGTH HEX`);
  return parser!(rd, c, typeText);
}
