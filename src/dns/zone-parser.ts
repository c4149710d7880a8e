/**
 * RFC 1035 section 5 master files as BIND and Knot users write them: $ORIGIN, $TTL, `@`, relative
 * and absolute names, omitted owner/TTL/class, ( multi-line ) records, `;` comments, quoted
 * strings with \" and \DDD escapes, TTLs with units (1h30m, BIND style). Pure: text in, Zone out.
 * Every error says `file:line: what is wrong`.
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { LabError } from '../errors.js';
import { canonicalName, CLASSES, nameToLabels, TYPES, typeFromName, type RData, type ResourceRecord } from './codec.js';
import { buildZone, inZone, type Zone } from './zone.js';

interface Token {
  text: string;
  quoted: boolean;
  line: number;
}
interface Entry {
  line: number;
  /** The entry started with blank space: the owner is the previous one (RFC 1035 5.1). */
  blankOwner: boolean;
  tokens: Token[];
}

class ZoneSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Splits master-file text into entries, joining ( ... ) continuations and dropping comments. */
function tokenize(text: string): Entry[] {
  const entries: Entry[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  let depth = 0;
  let parenLine = 0;
  let cur: Entry | null = null;
  let atLineStart = true;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      if (depth === 0) {
        if (cur && cur.tokens.length) entries.push(cur);
        cur = null;
        atLineStart = true;
      }
      continue;
    }
    if (c === ';') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      if (atLineStart && depth === 0) cur = { line, blankOwner: true, tokens: [] };
      atLineStart = false;
      i++;
      continue;
    }
    if (!cur) cur = { line, blankOwner: false, tokens: [] };
    atLineStart = false;
    if (c === '(') {
      if (depth === 0) parenLine = line;
      depth++;
      i++;
      continue;
    }
    if (c === ')') {
      if (depth === 0) throw new ZoneSyntaxError(line, 'unbalanced ")" without a matching "("');
      depth--;
      i++;
      continue;
    }
    if (c === '"') {
      const start = line;
      let s = '';
      i++;
      for (;;) {
        if (i >= n) throw new ZoneSyntaxError(start, 'unterminated quoted string (missing closing ")');
        const d = text[i]!;
        if (d === '\\' && i + 1 < n) {
          s += d + text[i + 1];
          if (text[i + 1] === '\n') line++;
          i += 2;
          continue;
        }
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\n') line++;
        s += d;
        i++;
      }
      cur.tokens.push({ text: s, quoted: true, line: start });
      continue;
    }
    let s = '';
    while (i < n) {
      const d = text[i]!;
      if (d === '\\' && i + 1 < n) {
        s += d + text[i + 1];
        i += 2;
        continue;
      }
      if (' \t\r\n;()"'.includes(d)) break;
      s += d;
      i++;
    }
    cur.tokens.push({ text: s, quoted: false, line });
  }
  if (depth > 0) throw new ZoneSyntaxError(parenLine, 'unbalanced "(": the closing ")" is missing');
  if (cur && cur.tokens.length) entries.push(cur);
  return entries;
}

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `3600`, `1h`, `1h30m`, `2W` (BIND units) to seconds. */
export function parseTtl(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const v = Number(text);
    return v <= 0xffffffff ? v : undefined;
  }
  if (!/^(\d+[smhdwSMHDW])+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+)([smhdwSMHDW])/g)) total += Number(m[1]) * TTL_UNITS[m[2]!.toLowerCase()]!;
  return total <= 0xffffffff ? total : undefined;
}

/** Unescapes a character-string (`\"`, `\\`, `\DDD`) into its octets. */
function charString(text: string): Buffer {
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

export interface ParseOptions {
  /** Shown in error messages; default `zone`. */
  file?: string;
  /** Origin before any $ORIGIN (like BIND's zone statement); relative names need one. */
  origin?: string;
  /** TTL before any $TTL. */
  defaultTtl?: number;
}

/** Parses zone text. Throws LabError LAB_ERR_ZONE_FILE with `file:line: message`. */
export function parseZone(text: string, opts: ParseOptions = {}): Zone {
  const file = opts.file ?? 'zone';
  const fail = (line: number, msg: string): never => {
    throw new LabError('LAB_ERR_ZONE_FILE', `${file}:${line}: ${msg}`, { file, line });
  };
  let entries: Entry[];
  try {
    entries = tokenize(text);
  } catch (err) {
    if (err instanceof ZoneSyntaxError) fail(err.line, err.message);
    throw err;
  }
  let origin: string | undefined = opts.origin !== undefined ? canonicalName(opts.origin) : undefined;
  let zoneOrigin: string | undefined;
  let defaultTtl = opts.defaultTtl;
  let lastTtl: number | undefined;
  let lastOwner: string | undefined;
  const records: ResourceRecord[] = [];
  const lineOf = new Map<ResourceRecord, number>();

  const absName = (tok: Token, line: number): string => {
    const t = tok.text;
    if (tok.quoted) fail(line, `a domain name cannot be a quoted string: "${t}"`);
    let full: string;
    if (t === '@') {
      if (origin === undefined) fail(line, '"@" used but no $ORIGIN is set: add "$ORIGIN example.com." at the top');
      full = origin!;
    } else if (t === '.') full = '';
    else if (t.endsWith('.') && !t.endsWith('\\.')) full = t.slice(0, -1);
    else {
      if (origin === undefined) fail(line, `relative name "${t}" but no $ORIGIN is set: write "${t}." or add $ORIGIN`);
      full = origin === '' ? t : `${t}.${origin}`;
    }
    try {
      nameToLabels(full);
    } catch (err) {
      fail(line, (err as Error).message);
    }
    return canonicalName(full);
  };
  const num = (tok: Token | undefined, line: number, what: string, max: number): number => {
    if (!tok) return fail(line, `missing ${what}`);
    if (!/^\d+$/.test(tok.text) || Number(tok.text) > max) fail(line, `${what} "${tok.text}" is not a number from 0 to ${max}`);
    return Number(tok.text);
  };
  const time = (tok: Token | undefined, line: number, what: string): number => {
    if (!tok) return fail(line, `missing ${what}`);
    const v = parseTtl(tok.text);
    if (v === undefined) fail(line, `${what} "${tok.text}" is not a time (seconds, or units like 1h30m)`);
    return v!;
  };

  for (const e of entries) {
    const toks = e.tokens;
    const first = toks[0]!;
    if (!first.quoted && first.text.startsWith('$') && !e.blankOwner) {
      const dir = first.text.toUpperCase();
      if (dir === '$ORIGIN') {
        if (!toks[1]) fail(e.line, '$ORIGIN needs a domain name');
        const t = toks[1]!;
        if (!t.text.endsWith('.') && origin === undefined) fail(e.line, `$ORIGIN "${t.text}" must be absolute (end with ".")`);
        origin = absName(t, e.line);
      } else if (dir === '$TTL') {
        defaultTtl = time(toks[1], e.line, '$TTL value');
      } else if (dir === '$INCLUDE') {
        fail(e.line, '$INCLUDE is not supported: put the records in this file');
      } else if (dir === '$GENERATE') {
        fail(e.line, '$GENERATE is not supported: write the records out');
      } else fail(e.line, `unknown directive ${first.text}`);
      continue;
    }

    let idx = 0;
    let owner: string;
    if (e.blankOwner) {
      if (lastOwner === undefined) fail(e.line, 'record has no owner name and there is no previous record to take it from');
      owner = lastOwner!;
    } else {
      owner = absName(first, e.line);
      idx = 1;
    }
    lastOwner = owner;
    // [ttl] [class] type  or  [class] [ttl] type
    let ttl: number | undefined;
    let klass: number | undefined;
    for (let k = 0; k < 2 && idx < toks.length; k++) {
      const t = toks[idx]!.text;
      const up = t.toUpperCase();
      if (ttl === undefined && parseTtl(t) !== undefined && !toks[idx]!.quoted) {
        ttl = parseTtl(t);
        idx++;
      } else if (klass === undefined && (up === 'IN' || up === 'CH' || up === 'HS' || up === 'CS')) {
        if (up !== 'IN') fail(e.line, `class ${up} is not supported: socketlab serves class IN only`);
        klass = CLASSES.IN;
        idx++;
      }
    }
    const typeTok = toks[idx];
    if (!typeTok) fail(e.line, `record for ${owner || '.'} has no type`);
    const type = typeFromName(typeTok!.text);
    if (type === undefined) fail(e.line, `unknown record type "${typeTok!.text}" (supported: A AAAA CNAME MX TXT NS SOA SRV PTR CAA)`);
    const rd = toks.slice(idx + 1);
    const want = (count: number, form: string): void => {
      if (rd.length < count) fail(e.line, `${typeTok!.text.toUpperCase()} needs ${form}; got ${rd.length ? rd.map((r) => r.text).join(' ') : 'nothing'}`);
      if (rd.length > count) fail(e.line, `${typeTok!.text.toUpperCase()} has extra data "${rd.slice(count).map((r) => r.text).join(' ')}" (expected ${form})`);
    };
    let data: RData;
    switch (type) {
      case TYPES.A:
        want(1, 'an IPv4 address');
        if (!isIPv4(rd[0]!.text)) fail(e.line, `"${rd[0]!.text}" is not an IPv4 address`);
        data = { address: rd[0]!.text };
        break;
      case TYPES.AAAA:
        want(1, 'an IPv6 address');
        if (!isIPv6(rd[0]!.text)) fail(e.line, `"${rd[0]!.text}" is not an IPv6 address`);
        data = { address: rd[0]!.text.toLowerCase() };
        break;
      case TYPES.CNAME:
      case TYPES.NS:
      case TYPES.PTR:
        want(1, 'a domain name');
        data = { target: absName(rd[0]!, e.line) };
        break;
      case TYPES.MX:
        want(2, 'a preference and a mail exchanger name');
        data = { preference: num(rd[0], e.line, 'MX preference', 65535), exchange: absName(rd[1]!, e.line) };
        break;
      case TYPES.SRV:
        want(4, 'priority weight port target');
        data = {
          priority: num(rd[0], e.line, 'SRV priority', 65535),
          weight: num(rd[1], e.line, 'SRV weight', 65535),
          port: num(rd[2], e.line, 'SRV port', 65535),
          target: absName(rd[3]!, e.line),
        };
        break;
      case TYPES.TXT: {
        if (rd.length === 0) fail(e.line, 'TXT needs at least one string');
        const strings = rd.map((t) => {
          let b: Buffer;
          try {
            b = charString(t.text);
          } catch (err) {
            return fail(e.line, `TXT string: ${(err as Error).message}`);
          }
          if (b.length > 255) fail(e.line, `TXT string of ${b.length} octets is longer than 255: split it into several "quoted" "strings"`);
          return b;
        });
        data = { strings };
        break;
      }
      case TYPES.CAA: {
        want(3, 'flags tag value (e.g. 0 issue "letsencrypt.org")');
        const tag = rd[1]!.text;
        if (!/^[A-Za-z0-9]{1,15}$/.test(tag)) fail(e.line, `CAA tag "${tag}" must be 1-15 letters or digits`);
        data = { flags: num(rd[0], e.line, 'CAA flags', 255), tag, value: charString(rd[2]!.text) };
        break;
      }
      case TYPES.SOA:
        want(7, 'mname rname serial refresh retry expire minimum');
        data = {
          mname: absName(rd[0]!, e.line),
          rname: absName(rd[1]!, e.line),
          serial: num(rd[2], e.line, 'SOA serial', 0xffffffff),
          refresh: time(rd[3], e.line, 'SOA refresh'),
          retry: time(rd[4], e.line, 'SOA retry'),
          expire: time(rd[5], e.line, 'SOA expire'),
          minimum: time(rd[6], e.line, 'SOA minimum'),
        };
        if (zoneOrigin === undefined) zoneOrigin = owner;
        else fail(e.line, `second SOA record (for ${owner || '.'}): a zone file holds exactly one SOA, at the origin`);
        break;
      default:
        return fail(e.line, `record type ${typeTok!.text.toUpperCase()} is not supported (supported: A AAAA CNAME MX TXT NS SOA SRV PTR CAA)`);
    }
    if (ttl === undefined) {
      if (defaultTtl !== undefined) ttl = defaultTtl;
      else if (lastTtl !== undefined) ttl = lastTtl;
      else if (type === TYPES.SOA) ttl = (data as { minimum: number }).minimum;
      else fail(e.line, 'no TTL on this record and no $TTL before it: add "$TTL 3600" at the top');
    } else lastTtl = ttl;
    if (records.length === 0 && type !== TYPES.SOA) fail(e.line, `the first record must be the zone's SOA, not ${typeTok!.text.toUpperCase()}`);
    const rr: ResourceRecord = { name: owner, type, class: CLASSES.IN, ttl: ttl!, data };
    if (zoneOrigin !== undefined && !inZone(owner, zoneOrigin)) {
      fail(e.line, `${owner || '.'} is outside the zone ${zoneOrigin || '.'} (did you forget the final "." or a $ORIGIN?)`);
    }
    records.push(rr);
    lineOf.set(rr, e.line);
  }
  if (zoneOrigin === undefined) fail(entries.length ? entries[entries.length - 1]!.line : 1, 'no SOA record: a zone file must start with the zone\'s SOA');

  // CNAME and other data (RFC 1034 3.6.2, RFC 2181 10.1): a CNAME owner has nothing else.
  const byOwner = new Map<string, ResourceRecord[]>();
  for (const rr of records) {
    const list = byOwner.get(rr.name) ?? [];
    list.push(rr);
    byOwner.set(rr.name, list);
  }
  for (const [name, list] of byOwner) {
    const cnames = list.filter((r) => r.type === TYPES.CNAME);
    if (cnames.length > 1) fail(lineOf.get(cnames[1]!)!, `${name || '.'} has more than one CNAME record`);
    if (cnames.length === 1 && list.length > 1) {
      const other = list.find((r) => r.type !== TYPES.CNAME)!;
      fail(lineOf.get(other.type === TYPES.CNAME ? cnames[0]! : list[list.indexOf(other)]!)!, `${name || '.'} has a CNAME and other data; a CNAME must be alone at its name (RFC 1034 3.6.2)`);
    }
  }
  // Identical records collapse (RFC 2181 5), keeping the first.
  const seen = new Set<string>();
  const unique = records.filter((rr) => {
    const key = `${rr.name}|${rr.type}|${JSON.stringify(rr.data, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v))}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // RFC 2181 5.2: all records in an RRset share one TTL; use the first, as BIND does.
  const firstTtl = new Map<string, number>();
  for (const rr of unique) {
    const key = `${rr.name}|${rr.type}`;
    const t = firstTtl.get(key);
    if (t === undefined) firstTtl.set(key, rr.ttl);
    else rr.ttl = t;
  }
  try {
    return buildZone(zoneOrigin!, unique, file);
  } catch (err) {
    return fail(1, (err as Error).message);
  }
}

/** Reads and parses a zone file; a missing file is a LabError too. */
export function loadZoneFile(path: string, opts: Omit<ParseOptions, 'file'> = {}): Zone {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new LabError('LAB_ERR_ZONE_FILE', `${path}: cannot read zone file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  return parseZone(text, { ...opts, file: path });
}
