/**
 * Answers cached by the query's bytes after the ID (flags, question, EDNS): a question answered
 * before is one Map lookup and a copy with the query's ID — no decode, no encode.
 */
import type { QueryMeta } from './query-log.js';

/** Answers larger than this are not cached: a large answer costs more to keep than to build again. */
export const MAX_CACHED_ANSWER = 16 * 1024;
/** Longer queries are not cached (nor looked up): an ordinary query fits in 512 octets. */
const MAX_CACHED_QUERY = 512;

/** One cached answer with what its log record says about it. */
export interface CachedAnswer extends QueryMeta {
  buf: Buffer;
}

/**
 * A CachedAnswer with every field present from the start: the query log fills in `fragment`,
 * `tail` and `tailSize` later, and an object that grew them one by one would have a different
 * hidden class than one that did not yet, making each property load on the hot path polymorphic.
 */
export function cachedAnswer(buf: Buffer, qname: string, qtype: string, rcode: string, tc: boolean): CachedAnswer {
  return { buf, qname, qtype, rcode, tc, fragment: undefined, tail: undefined, tailSize: undefined };
}

/**
 * Bounded in entries and in octets: keyed by bytes, a client varying the case of a name (or its
 * ID-free bits) fills it with copies of one large answer — 10,000 copies of a 61 KB TCP answer
 * would be 600 MB kept after every connection closed. Full: start over.
 */
export class ResponseCache {
  private map = new Map<string, CachedAnswer>();
  private bytes = 0;
  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  /** The answer cached for `query` (whatever its ID), or undefined. */
  get(query: Buffer): CachedAnswer | undefined {
    if (query.length < 12 || query.length > MAX_CACHED_QUERY || this.map.size === 0) return undefined;
    return this.map.get(query.toString('latin1', 2));
  }

  /**
   * Keeps `c` as the answer to `query` (whose ID is ignored). The cache keeps its own copy of the
   * bytes: the caller's buffer is about to be sent (and may wait for the end of the turn), and
   * nothing done to it afterwards may reach the answer later queries get.
   */
  set(query: Buffer, c: CachedAnswer): void {
    if (this.maxEntries <= 0 || c.buf.length > MAX_CACHED_ANSWER || query.length > MAX_CACHED_QUERY) return;
    const key = query.toString('latin1', 2);
    const cost = c.buf.length + key.length + logPieces(c);
    if (this.map.size >= this.maxEntries || this.bytes + cost > this.maxBytes) this.clear();
    this.map.set(key, cachedAnswer(Buffer.from(c.buf), c.qname, c.qtype, c.rcode, c.tc));
    this.bytes += cost;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}

/**
 * Octets the query log keeps with an entry once it is logged (query-log.ts: the record's fragment
 * as a string and its encoded tail), an upper estimate: qname, qtype and rcode JSON-escaped, at
 * most twice their length, plus the fixed keys.
 */
function logPieces(c: CachedAnswer): number {
  return 2 * (2 * (c.qname.length + c.qtype.length + c.rcode.length) + 80);
}

/** A copy of a cached answer with `query`'s ID: the cached bytes are never changed in place. */
export function withQueryId(hit: CachedAnswer, query: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(hit.buf.length);
  hit.buf.copy(buf);
  buf[0] = query[0]!;
  buf[1] = query[1]!;
  return buf;
}
