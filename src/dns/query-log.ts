/**
 * The per-query log record, built cheaply. A DNS server logs one record per query, which at tens
 * of thousands of queries a second costs more than answering them; so the record's constant parts
 * (server side, qname/qtype/rcode of a cached answer) are serialised once, and each query only
 * adds time, client endpoint and size. The line is byte-for-byte what
 *   log.info({ ...netEvent('dns.query', transport, client, server), qname, qtype, rcode, size, tc }, 'dns query')
 * writes (a unit test checks that), written to the same pino destination in batches.
 */
import { pino, type Logger } from 'pino';
import { netEvent } from '../events.js';
import { formatEndpoint, type Endpoint } from '../socket-pair.js';

/** qname/qtype/rcode/tc of one answer, pre-serialised. */
export interface QueryMeta {
  qname: string;
  qtype: string;
  rcode: string;
  tc: boolean;
  /** `,"qname":...,"qtype":...,"rcode":...` built once per distinct answer. */
  fragment?: string;
  /** The record's end from the fragment on, for answers of `tailSize` octets (the usual case). */
  tail?: string;
  tailSize?: number;
}

export interface QueryLog {
  (transport: 'udp' | 'tcp', clientAddress: string, clientPort: number, meta: QueryMeta, size: number): void;
  /** True when records are pre-serialised (a plain pino logger); false: log.info() each time. */
  fast: boolean;
  /** Hands batched records to the destination now (also runs every 200 ms and on exit). */
  flush(): void;
  /** Flushes and stops the 200 ms timer and the exit hook (the server's close calls it). */
  close(): void;
}

/** Records are batched up to this many characters before one write to the pino destination. */
const BATCH = 64 * 1024;
/**
 * Characters held while the destination is still busy with earlier writes; further records are
 * dropped and counted. A flood (a TCP client pipelining thousands of queries on many connections)
 * logs faster than a file takes it — 160,000 records, ~50 MB, piled up in one burst.
 */
export const MAX_BACKLOG = 4 * 1024 * 1024;
const pendingFlushers = new Set<() => void>();
let exitHooked = false;
function flushAtExit(fn: () => void): void {
  pendingFlushers.add(fn);
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const f of pendingFlushers) f();
  });
}

interface PinoInternals {
  /** false: the destination's own buffer is over its high-water mark; 'drain' follows. */
  write?: (s: string) => unknown;
  once?: (event: 'drain', fn: () => void) => unknown;
  flushSync?: () => void;
  /** SonicBoom in sync mode (SOCKETLAB_LOG_SYNC=1): readers expect each record at once. */
  sync?: boolean;
}

/** Returns a function logging one `dns.query` record per call. */
export function queryLogger(log: Logger, server: Endpoint): QueryLog {
  const s = formatEndpoint(server);
  const l = log as unknown as Record<symbol, unknown>;
  const stream = l[pino.symbols.streamSym] as PinoInternals | undefined;
  const timeFn = l[pino.symbols.timeSym] as (() => string) | undefined;
  const chindings = l[pino.symbols.chindingsSym] as string | undefined;
  const mixin = l[pino.symbols.mixinSym];
  const hooks = l[pino.symbols.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
  const formatters = l[pino.symbols.formattersSym] as { log?: unknown; bindings?: unknown; level?: (label: string, n: number) => object } | undefined;
  const level = formatters?.level ? JSON.stringify(formatters.level('info', 30)) : '{"level":30}';
  const fast =
    typeof stream?.write === 'function' &&
    typeof stream.once === 'function' &&
    typeof timeFn === 'function' &&
    typeof chindings === 'string' &&
    !mixin &&
    !hooks?.logMethod &&
    !hooks?.streamWrite &&
    level === '{"level":30}' &&
    (formatters?.log === undefined || (formatters.log as (o: object) => object)({ a: 1 }).hasOwnProperty('a'));

  if (!fast) {
    return Object.assign((transport: 'udp' | 'tcp', address: string, port: number, meta: QueryMeta, size: number) => {
      if (!log.isLevelEnabled('info')) return;
      log.info({ ...netEvent('dns.query', transport, { address, port }, server), qname: meta.qname, qtype: meta.qtype, rcode: meta.rcode, size, tc: meta.tc }, 'dns query');
    }, { fast: false, flush: () => {}, close: () => {} });
  }
  const heads = {
    udp: `,"event":"dns.query","transport":"udp","from":"`,
    tcp: `,"event":"dns.query","transport":"tcp","from":"`,
  };
  const toServer = `","to":${JSON.stringify(s)},"pair":"`;
  const pairTail = ` <-> ${s}"`;
  let lastMs = 0;
  let lastHead = '';
  // The client's part of the record (from, to, pair), kept for recent clients: a resolver or a
  // load generator asks from a handful of ports, and building it is a third of a record's cost.
  const clients = { udp: new Map<number, { address: string; part: string }>(), tcp: new Map<number, { address: string; part: string }>() };
  const clientPart = (transport: 'udp' | 'tcp', address: string, port: number): string => {
    const m = clients[transport];
    const e = m.get(port);
    if (e !== undefined && e.address === address) return e.part;
    const c = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    const part = `${heads[transport]}${c}${toServer}${c}${pairTail}`;
    if (m.size >= 1024) m.clear();
    m.set(port, { address, part });
    return part;
  };
  // One write per ~64 KiB instead of one per record: the destination's own buffering still runs
  // a write per 4 KiB, and each of those is a thread-pool round trip.
  let pending = '';
  const live = stream!.sync === true;
  let busy = false;
  let dropped = 0;
  const write = (): void => {
    const p = pending;
    pending = '';
    if (stream!.write!(p) === false && !busy) {
      busy = true;
      stream!.once!('drain', onDrain);
    }
  };
  const onDrain = (): void => {
    busy = false;
    if (dropped > 0) {
      const n = dropped;
      dropped = 0;
      log.warn({ event: 'dns.query.dropped', dropped: n }, `${n} query log records dropped: the log destination could not keep up`);
    }
    flush();
  };
  /** Hands the batch over unless the destination is still busy (then it waits for 'drain'). */
  const flush = (): void => {
    if (pending !== '' && !busy) write();
  };
  const timer = setInterval(flush, 200);
  timer.unref();
  const atExit = (): void => {
    if (pending !== '') write();
    try {
      stream!.flushSync?.();
    } catch {
      // destination not open or already closed: nothing more can be written
    }
  };
  flushAtExit(atExit);
  const close = (): void => {
    if (pending !== '') write();
    clearInterval(timer);
    pendingFlushers.delete(atExit);
  };
  return Object.assign((transport: 'udp' | 'tcp', address: string, port: number, meta: QueryMeta, size: number) => {
    if (!log.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastHead = `{"level":30${timeFn!()}${chindings}`;
    }
    if (busy && pending.length >= MAX_BACKLOG) {
      dropped++;
      return;
    }
    let tail = meta.tail;
    if (tail === undefined || meta.tailSize !== size) {
      const frag = (meta.fragment ??= `,"qname":${JSON.stringify(meta.qname)},"qtype":${JSON.stringify(meta.qtype)},"rcode":${JSON.stringify(meta.rcode)}`);
      tail = `${frag},"size":${size},"tc":${meta.tc},"msg":"dns query"}\n`;
      if (meta.tail === undefined) {
        meta.tail = tail;
        meta.tailSize = size;
      }
    }
    pending += `${lastHead}${clientPart(transport, address, port)}${tail}`;
    if (live || pending.length >= BATCH) flush();
  }, { fast: true, flush, close });
}
