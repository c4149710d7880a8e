import { canonicalName, TYPES, type ResourceRecord, type SoaData } from './codec.js';

/** One authoritative zone: its origin, SOA and every record, indexed by owner name and type. */
export interface Zone {
  /** Canonical origin (lowercase, no trailing dot; `''` for the root). */
  origin: string;
  soa: ResourceRecord & { data: SoaData };
  /** All records in file order (SOA first). */
  records: ResourceRecord[];
  /** canonical owner -> type -> RRset */
  nodes: Map<string, Map<number, ResourceRecord[]>>;
  /** Names that exist only because something below them exists (RFC 8020 empty non-terminals). */
  ents: Set<string>;
  /** Where the zone came from, for logs (`file` or `axfr from HOST:PORT`). */
  source: string;
}

/** Is `name` at or below `origin`? Both canonical. */
export function inZone(name: string, origin: string): boolean {
  if (origin === '') return true;
  if (name === origin) return true;
  if (!name.endsWith('.' + origin)) return false;
  // that dot must end a label, not be an escaped `\.` inside one (`a\.example.com` is under com)
  let slashes = 0;
  for (let i = name.length - origin.length - 2; i >= 0 && name[i] === '\\'; i--) slashes++;
  return slashes % 2 === 0;
}

/** Parent of a canonical name (`a.b.c` -> `b.c`), honouring escaped dots. */
export function parentName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '\\') i++;
    else if (name[i] === '.') return name.slice(i + 1);
  }
  return '';
}

/**
 * Builds the lookup index from a list of records whose first SOA is the apex. Throws an Error
 * naming the first problem (the zone parser adds file:line).
 */
export function buildZone(origin: string, records: ResourceRecord[], source: string): Zone {
  const o = canonicalName(origin);
  const nodes = new Map<string, Map<number, ResourceRecord[]>>();
  for (const rr of records) {
    const key = canonicalName(rr.name);
    let types = nodes.get(key);
    if (!types) nodes.set(key, (types = new Map()));
    let set = types.get(rr.type);
    if (!set) types.set(rr.type, (set = []));
    set.push(rr);
  }
  const apex = nodes.get(o)?.get(TYPES.SOA);
  if (!apex || apex.length === 0) throw new Error(`zone ${o || '.'} has no SOA record at its origin`);
  if (apex.length > 1) throw new Error(`zone ${o || '.'} has ${apex.length} SOA records; exactly one is allowed`);
  const ents = new Set<string>();
  for (const key of nodes.keys()) {
    let p = key;
    while (p !== o && p !== '') {
      p = parentName(p);
      if (!nodes.has(p)) ents.add(p);
    }
  }
  return { origin: o, soa: apex[0] as Zone['soa'], records, nodes, ents, source };
}

/** The zone serving `name`: the one with the longest matching origin. */
export function findZone(zones: Iterable<Zone>, name: string): Zone | undefined {
  let best: Zone | undefined;
  for (const z of zones) {
    if (inZone(name, z.origin) && (!best || z.origin.length > best.origin.length)) best = z;
  }
  return best;
}

/** RFC 1982 serial number arithmetic: is `a` newer than `b`? */
export function serialGreater(a: number, b: number): boolean {
  return a !== b && ((a > b && a - b < 0x80000000) || (a < b && b - a > 0x80000000));
}
