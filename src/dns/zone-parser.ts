/**
 * RFC 1035 section 5 master files as BIND and Knot users write them: $ORIGIN, $TTL, `@`, relative
 * and absolute names, omitted owner/TTL/class, ( multi-line ) records, `;` comments, quoted
 * strings with \" and \DDD escapes, TTLs with units (1h30m, BIND style), $INCLUDE, $GENERATE and
 * RFC 3597 generic records. Text in, Zone and warnings out (only $INCLUDE reads files). Every error
 * and warning says `file:line: what is wrong`.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { LabError } from '../errors.js';
import { canonicalName, CLASSES, isAbsoluteName, normalizeName, TYPES, typeFromName, type ResourceRecord, type SoaData } from './codec.js';
import { buildZone, inZone, type Zone } from './zone.js';
import { parseRdata, type RdataContext, type Token } from './zone-rdata.js';

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
        if (text[i + 1] === '\n') line++; // an escaped newline still ends a line: later errors keep their line
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

/** A problem BIND would also only warn about: the zone still loads. */
export interface ZoneWarning {
  file: string;
  line: number;
  message: string;
}

export interface ParsedZone {
  zone: Zone;
  warnings: ZoneWarning[];
}

export interface ParseOptions {
  /** Shown in error messages; default `zone`. $INCLUDE paths are relative to its directory. */
  file?: string;
  /** Origin before any $ORIGIN (like BIND's zone statement); relative names need one. */
  origin?: string;
  /** TTL before any $TTL. */
  defaultTtl?: number;
}

/** $INCLUDE nesting deeper than this is a loop or a mistake. */
const MAX_INCLUDE_DEPTH = 16;
/** One $GENERATE makes at most this many records (BIND has no cap; a typo should not eat memory). */
const MAX_GENERATE = 65536;
const TTL_SYNTAX = /^(\d+|(\d+[smhdwSMHDW])+)$/;
/** RFC 2181 8: a TTL with the top bit set is treated as zero; BIND does the same with a warning. */
const MAX_TTL = 0x7fffffff;

/** Parses zone text into a Zone plus warnings. Throws LabError LAB_ERR_ZONE_FILE with `file:line: message`. */
export function parseZoneText(text: string, opts: ParseOptions = {}): ParsedZone {
  return new ZoneParser(opts).run(text);
}

/** Parses zone text; warnings are dropped (use parseZoneText to see them). */
export function parseZone(text: string, opts: ParseOptions = {}): Zone {
  return parseZoneText(text, opts).zone;
}

/** Reads and parses a zone file with its warnings; a missing file is a LabError too. */
export function loadZone(path: string, opts: Omit<ParseOptions, 'file'> = {}): ParsedZone {
  return parseZoneText(readZoneText(path, path, 0), { ...opts, file: path });
}

/** Reads and parses a zone file; a missing file is a LabError too. */
export function loadZoneFile(path: string, opts: Omit<ParseOptions, 'file'> = {}): Zone {
  return loadZone(path, opts).zone;
}

function readZoneText(path: string, shown: string, line: number, from?: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    if (from) throw new LabError('LAB_ERR_ZONE_FILE', `${from}:${line}: cannot read included file ${shown}: ${why}`, { file: from, line });
    throw new LabError('LAB_ERR_ZONE_FILE', `${path}: cannot read zone file: ${why}`, { file: path });
  }
}

interface Where {
  file: string;
  line: number;
}

class ZoneParser {
  private readonly top: string;
  private origin: string | undefined;
  private zoneOrigin: string | undefined;
  private defaultTtl: number | undefined;
  private lastTtl: number | undefined;
  private lastOwner: string | undefined;
  private warnedRfc1035 = false;
  private readonly records: ResourceRecord[] = [];
  private readonly where = new Map<ResourceRecord, Where>();
  private readonly warnings: ZoneWarning[] = [];
  /** Real paths of the files being read, for $INCLUDE loops. */
  private readonly stack: string[] = [];

  constructor(opts: ParseOptions) {
    this.top = opts.file ?? 'zone';
    this.origin = opts.origin !== undefined ? normalizeName(opts.origin) : undefined;
    this.defaultTtl = opts.defaultTtl;
  }

  private fail(at: Where, msg: string): never {
    throw new LabError('LAB_ERR_ZONE_FILE', `${at.file}:${at.line}: ${msg}`, { file: at.file, line: at.line });
  }
  private warn(at: Where, message: string): void {
    this.warnings.push({ file: at.file, line: at.line, message });
  }

  run(text: string): ParsedZone {
    try {
      this.stack.push(realpathSync(this.top));
    } catch {
      /* text not read from a file: nothing to loop back to */
    }
    this.parseFile(text, this.top, 0);
    const { records, where } = this;
    const last = { file: this.top, line: Math.max(1, text.split('\n').length - (text.endsWith('\n') ? 1 : 0)) };
    if (this.zoneOrigin === undefined) this.fail(records.length ? where.get(records[records.length - 1]!)! : last, "no SOA record: a zone file must start with the zone's SOA");
    this.checkAloneAtName();
    const unique = dedupe(records);
    unifyRrsetTtls(unique);
    try {
      return { zone: buildZone(this.zoneOrigin!, unique, this.top), warnings: this.warnings };
    } catch (err) {
      return this.fail({ file: this.top, line: 1 }, (err as Error).message);
    }
  }

  /** CNAME and other data (RFC 1034 3.6.2, RFC 2181 10.1): a CNAME owner has nothing else; one DNAME per name (RFC 6672 2.4). */
  private checkAloneAtName(): void {
    const { where } = this;
    const byOwner = new Map<string, ResourceRecord[]>();
    for (const rr of this.records) {
      const key = canonicalName(rr.name);
      const list = byOwner.get(key) ?? [];
      list.push(rr);
      byOwner.set(key, list);
    }
    for (const [, list] of byOwner) {
      const cnames = list.filter((r) => r.type === TYPES.CNAME);
      const name = list[0]!.name || '.';
      if (cnames.length > 1) this.fail(where.get(cnames[1]!)!, `${name} has more than one CNAME record`);
      if (cnames.length === 1 && list.length > 1) {
        const other = list.find((r) => r.type !== TYPES.CNAME)!;
        this.fail(where.get(other)!, `${name} has a CNAME and other data; a CNAME must be alone at its name (RFC 1034 3.6.2)`);
      }
      const dnames = list.filter((r) => r.type === TYPES.DNAME);
      if (dnames.length > 1) this.fail(where.get(dnames[1]!)!, `${name} has more than one DNAME record (RFC 6672 2.4)`);
    }
  }

  private parseFile(raw: string, file: string, depth: number): void {
    let text = raw;
    if (text.startsWith('\uFEFF')) {
      this.warn({ file, line: 1 }, 'file starts with a UTF-8 byte order mark; ignored');
      text = text.slice(1);
    }
    let entries: Entry[];
    try {
      entries = tokenize(text);
    } catch (err) {
      if (err instanceof ZoneSyntaxError) this.fail({ file, line: err.line }, err.message);
      throw err;
    }
    for (const e of entries) {
      const at = { file, line: e.line };
      const first = e.tokens[0]!;
      if (!first.quoted && first.text.startsWith('$') && !e.blankOwner) this.directive(e.tokens, at, depth);
      else this.record(e.tokens, e.blankOwner, at);
    }
  }

  private directive(toks: Token[], at: Where, depth: number): void {
    const dir = toks[0]!.text.toUpperCase();
    if (dir === '$ORIGIN') {
      if (!toks[1]) this.fail(at, '$ORIGIN needs a domain name');
      const t = toks[1]!;
      if (!isAbsoluteName(t.text) && this.origin === undefined) this.fail(at, `$ORIGIN "${t.text}" must be absolute (end with ".")`);
      this.origin = this.absName(t, at);
    } else if (dir === '$TTL') {
      this.defaultTtl = this.ttlValue(toks[1], at, '$TTL value');
    } else if (dir === '$INCLUDE') {
      this.include(toks, at, depth);
    } else if (dir === '$GENERATE') {
      this.generate(toks, at);
    } else this.fail(at, `unknown directive ${toks[0]!.text}`);
  }

  /** RFC 1035 5.1 `$INCLUDE file [origin]`: relative to the including file, never outside the zone file's directory tree. */
  private include(toks: Token[], at: Where, depth: number): void {
    const name = toks[1]?.text;
    if (!name) this.fail(at, '$INCLUDE needs a file name');
    if (toks.length > 3) this.fail(at, `$INCLUDE has extra data "${toks.slice(3).map((t) => t.text).join(' ')}"`);
    if (depth + 1 > MAX_INCLUDE_DEPTH) this.fail(at, `$INCLUDE nested more than ${MAX_INCLUDE_DEPTH} deep`);
    const root = dirname(resolve(this.top));
    const path = resolve(dirname(resolve(at.file)), name!);
    let real: string;
    let realRoot: string;
    try {
      realRoot = realpathSync(root);
      real = realpathSync(path);
    } catch (err) {
      return this.fail(at, `cannot read included file ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const rel = relative(realRoot, real);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) this.fail(at, `$INCLUDE ${name} is outside ${root}: included files must sit in the zone file's directory or below`);
    if (this.stack.includes(real)) this.fail(at, `$INCLUDE ${name} includes itself (a loop)`);
    const savedOrigin = this.origin;
    if (toks[2]) this.origin = this.absName(toks[2], at);
    const shown = relative(process.cwd(), path) || path;
    this.stack.push(real);
    this.parseFile(readZoneText(path, name!, at.line, at.file), shown.startsWith('..') ? path : shown, depth + 1);
    this.stack.pop();
    // RFC 1035 5.1: the included file's $ORIGIN does not leak into the parent
    this.origin = savedOrigin;
  }

  /** BIND's `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs`, with `$`, `${offset,width,base}` and `\$`. */
  private generate(toks: Token[], at: Where): void {
    const m = /^(\d+)-(\d+)(?:\/(\d+))?$/.exec(toks[1]?.text ?? '');
    if (!m) this.fail(at, `$GENERATE range "${toks[1]?.text ?? ''}" is not start-stop or start-stop/step`);
    const [start, stop, step] = [Number(m![1]), Number(m![2]), Number(m![3] ?? 1)];
    if (stop < start || step < 1) this.fail(at, `$GENERATE range ${toks[1]!.text} is empty or has a zero step`);
    if ((stop - start) / step + 1 > MAX_GENERATE) this.fail(at, `$GENERATE range ${toks[1]!.text} makes more than ${MAX_GENERATE} records`);
    if (toks.length < 5) this.fail(at, '$GENERATE needs range lhs [ttl] [class] type rhs');
    const body = toks.slice(2);
    for (let i = start; i <= stop; i += step) {
      // lhs and rhs carry `$`; TTL, class and type tokens have none and pass through unchanged
      const gen = body.map((t) => (t.quoted ? t : { ...t, text: substitute(t.text, i, (msg) => this.fail(at, `$GENERATE: ${msg}`)) }));
      this.record(gen, false, at);
    }
  }

  private absName(tok: Token, at: Where): string {
    const t = tok.text;
    if (tok.quoted) this.fail(at, `a domain name cannot be a quoted string: "${t}"`);
    let full: string;
    if (t === '@') {
      if (this.origin === undefined) this.fail(at, '"@" used but no $ORIGIN is set: add "$ORIGIN example.com." at the top');
      full = this.origin!;
    } else if (t === '.') full = '';
    else if (isAbsoluteName(t)) full = t;
    else {
      if (this.origin === undefined) this.fail(at, `relative name "${t}" but no $ORIGIN is set: write "${t}." or add $ORIGIN`);
      full = this.origin === '' ? t : `${t}.${this.origin}`;
    }
    try {
      return normalizeName(full);
    } catch (err) {
      return this.fail(at, (err as Error).message);
    }
  }

  /** A TTL token: above 2^32-1 is an error, above 2^31-1 is zero with a warning (RFC 2181 8). */
  private ttlValue(tok: Token | undefined, at: Where, what: string): number {
    if (!tok) return this.fail(at, `missing ${what}`);
    if (!TTL_SYNTAX.test(tok.text)) this.fail(at, `${what} "${tok.text}" is not a time (seconds, or units like 1h30m)`);
    const v = ttlSeconds(tok.text);
    if (v > 0xffffffff) this.fail(at, `${what} ${tok.text} is above 4294967295 (2^32-1), the largest a TTL field holds`);
    if (v > MAX_TTL) {
      this.warn(at, `${what} ${tok.text} is above 2147483647 (2^31-1); using 0 (RFC 2181 8)`);
      return 0;
    }
    return v;
  }

  /** `[ttl] [class] type` or `[class] [ttl] type` (RFC 1035 5.1): the TTL if given, and where the type starts. */
  private ttlAndClass(toks: Token[], start: number, at: Where): { ttl: number | undefined; idx: number } {
    let idx = start;
    let ttl: number | undefined;
    let klass: number | undefined;
    for (let k = 0; k < 2 && idx < toks.length; k++) {
      const tok = toks[idx]!;
      const up = tok.text.toUpperCase();
      if (ttl === undefined && !tok.quoted && TTL_SYNTAX.test(tok.text)) {
        ttl = this.ttlValue(tok, at, 'TTL');
        idx++;
      } else if (klass === undefined && (up === 'IN' || up === 'CH' || up === 'HS' || up === 'CS')) {
        if (up !== 'IN') this.fail(at, `class ${up} is not supported: socketlab serves class IN only`);
        klass = CLASSES.IN;
        idx++;
      }
    }
    return { ttl, idx };
  }

  /** What the RDATA parsers need from this line: its errors, names relative to $ORIGIN, numbers, times, counts. */
  private rdataContext(typeText: string, rd: Token[], at: Where): RdataContext {
    return {
      fail: (msg) => this.fail(at, msg),
      name: (tok) => this.absName(tok, at),
      num: (tok, what, max) => {
        if (!tok) return this.fail(at, `missing ${what}`);
        if (!/^\d+$/.test(tok.text) || Number(tok.text) > max) this.fail(at, `${what} "${tok.text}" is not a number from 0 to ${max}`);
        return Number(tok.text);
      },
      time: (tok, what) => {
        if (!tok) return this.fail(at, `missing ${what}`);
        if (!TTL_SYNTAX.test(tok.text)) this.fail(at, `${what} "${tok.text}" is not a time (seconds, or units like 1h30m)`);
        const v = ttlSeconds(tok.text);
        if (v > 0xffffffff) this.fail(at, `${what} ${tok.text} is above 4294967295 (2^32-1)`);
        return v;
      },
      want: (count, form) => {
        if (rd.length < count) this.fail(at, `${typeText} needs ${form}; got ${rd.length ? rd.map((r) => r.text).join(' ') : 'nothing'}`);
        if (rd.length > count) this.fail(at, `${typeText} has extra data "${rd.slice(count).map((r) => r.text).join(' ')}" (expected ${form})`);
      },
    };
  }

  /** A record without a TTL: $TTL, else the previous record's (RFC 1035, warned once), else an SOA's minimum. */
  private ttlOrDefault(given: number | undefined, type: number, data: unknown, at: Where): number {
    let ttl = given;
    if (ttl === undefined) {
      if (this.defaultTtl !== undefined) ttl = this.defaultTtl;
      else if (this.lastTtl !== undefined) {
        ttl = this.lastTtl;
        if (!this.warnedRfc1035) this.warn(at, `no $TTL: this record takes the previous record's TTL ${ttl} (RFC 1035 semantics)`);
        this.warnedRfc1035 = true;
      } else if (type === TYPES.SOA) {
        ttl = (data as SoaData).minimum;
        this.warn(at, `no TTL specified and no $TTL; using the SOA minimum ${ttl} instead`);
        this.warnedRfc1035 = true;
        this.lastTtl = ttl;
      } else this.fail(at, 'no TTL on this record and no $TTL before it: add "$TTL 3600" at the top');
    } else this.lastTtl = ttl;
    return ttl!;
  }

  private record(toks: Token[], blankOwner: boolean, at: Where): void {
    let idx = 0;
    let owner: string;
    if (blankOwner) {
      if (this.lastOwner === undefined) this.fail(at, 'record has no owner name and there is no previous record to take it from');
      owner = this.lastOwner!;
    } else {
      owner = this.absName(toks[0]!, at);
      idx = 1;
    }
    this.lastOwner = owner;
    let ttl: number | undefined;
    ({ ttl, idx } = this.ttlAndClass(toks, idx, at));
    const typeTok = toks[idx];
    if (!typeTok) this.fail(at, `record for ${owner || '.'} has no type`);
    const typeText = typeTok!.text.toUpperCase();
    const type = typeFromName(typeTok!.text);
    if (type === undefined) this.fail(at, `unknown record type "${typeTok!.text}" (known: ${Object.keys(TYPES).join(' ')}; others as TYPEnnn \\# LEN HEX)`);
    const rd = toks.slice(idx + 1);
    const data = parseRdata(type!, typeText, rd, this.rdataContext(typeText, rd, at));
    if (type === TYPES.SOA) {
      if (this.zoneOrigin === undefined) this.zoneOrigin = canonicalName(owner);
      else this.fail(at, `second SOA record (for ${owner || '.'}): a zone file holds exactly one SOA, at the origin`);
    }
    if (this.records.length === 0 && type !== TYPES.SOA) this.fail(at, `the first record must be the zone's SOA, not ${typeText}`);
    const recordTtl = this.ttlOrDefault(ttl, type!, data, at);
    if (this.zoneOrigin !== undefined && !inZone(canonicalName(owner), this.zoneOrigin)) {
      // BIND: "ignoring out-of-zone data"; one stray line should not take the whole zone down
      this.warn(at, `${owner || '.'} is outside the zone ${this.zoneOrigin || '.'}; record ignored (did you forget the final "." or a $ORIGIN?)`);
      return;
    }
    const rr: ResourceRecord = { name: owner, type: type!, class: CLASSES.IN, ttl: recordTtl, data };
    this.records.push(rr);
    this.where.set(rr, at);
  }
}

/** Identical records collapse (RFC 2181 5), keeping the first. */
function dedupe(records: ResourceRecord[]): ResourceRecord[] {
  const seen = new Set<string>();
  return records.filter((rr) => {
    const key = `${canonicalName(rr.name)}|${rr.type}|${JSON.stringify(rr.data, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v))}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** RFC 2181 5.2: all records in an RRset share one TTL; use the first, as BIND does. */
function unifyRrsetTtls(records: ResourceRecord[]): void {
  const firstTtl = new Map<string, number>();
  for (const rr of records) {
    const key = `${canonicalName(rr.name)}|${rr.type}`;
    const t = firstTtl.get(key);
    if (t === undefined) firstTtl.set(key, rr.ttl);
    else rr.ttl = t;
  }
}

function ttlSeconds(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  for (const m of text.matchAll(/(\d+)([smhdwSMHDW])/g)) total += Number(m[1]) * TTL_UNITS[m[2]!.toLowerCase()]!;
  return total;
}

/** One $GENERATE iteration of `text`: `$` -> value, `${offset[,width[,base]]}` (base d o x X n N), `$$` and `\$` -> `$`. */
function substitute(text: string, value: number, fail: (msg: string) => never): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      out += text[i + 1] === '$' ? '$' : c + text[i + 1];
      i++;
      continue;
    }
    if (c !== '$') {
      out += c;
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    let offset = 0;
    let width = 0;
    let base = 'd';
    if (text[i + 1] === '{') {
      const end = text.indexOf('}', i);
      const m = end < 0 ? null : /^(-?\d+)(?:,(\d+)(?:,([doxXnN]))?)?$/.exec(text.slice(i + 2, end));
      if (!m) fail(`bad modifier in "${text}" (want \${offset,width,base})`);
      offset = Number(m![1]);
      width = Number(m![2] ?? 0);
      base = m![3] ?? 'd';
      i = end;
    }
    const v = value + offset;
    if (v < 0) fail(`${text} gives a negative number for ${value}`);
    if (base === 'n' || base === 'N') {
      // nibbles, least significant first, dot-separated: the ip6.arpa form (width counts output characters)
      let hex = v.toString(16);
      const nibbles = Math.max(hex.length, Math.ceil(width / 2));
      hex = hex.padStart(nibbles, '0');
      let s = [...hex].reverse().join('.');
      if (width && s.length < width) s = s.padEnd(width, '.');
      out += base === 'N' ? s.toUpperCase() : s;
    } else {
      const s = v.toString(base === 'o' ? 8 : base === 'd' ? 10 : 16).padStart(width, '0');
      out += base === 'X' ? s.toUpperCase() : s;
    }
  }
  return out;
}
