/**
 * The per-query log record, built cheaply. A DNS server logs one record per query, which at tens
 * of thousands of queries a second costs more than answering them; so the record's constant parts
 * (server side, qname/qtype/rcode of a cached answer) are serialised once, and each query only
 * adds time, client endpoint and size. The line is byte-for-byte what
 *   log.info({ ...netEvent('dns.query', transport, client, server), qname, qtype, rcode, size, tc }, 'dns query')
 * writes (a unit test checks that), written to the same pino destination in batches.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { flushOnExit, jsonLogSink, type Logger } from '../log.js';
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
/**
 * The record's line as the fast path writes it: `time` and `bindings` are the logger's, the rest
 * this record's. Checked once per logger against pino's own output (selfCheck).
 */
function line(time: string, bindings: string, transport: 'udp' | 'tcp', client: string, server: string, frag: string, size: number, tc: boolean): string {
  return `{"level":30${time}${bindings},"event":"dns.query","transport":"${transport}","from":"${client}","to":${JSON.stringify(server)},"pair":"${client} <-> ${server}"${frag},"size":${size},"tc":${tc},"msg":"dns query"}\n`;
}
const fragment = (m: QueryMeta): string => `,"qname":${JSON.stringify(m.qname)},"qtype":${JSON.stringify(m.qtype)},"rcode":${JSON.stringify(m.rcode)}`;

/**
 * Whether `line()` is what pino itself writes for the sink's options: a pino logger with the same
 * base and a fixed time logs a sample record into memory, through pino's public API only. Anything
 * different (a pino upgrade that reorders or escapes otherwise) turns the fast path off.
 */
function selfCheck(base: Record<string, unknown>, bindings: string, server: Endpoint): boolean {
  let out = '';
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { out += chunk.toString(); cb(); } });
  const time = ',"time":"1970-01-01T00:00:00.000Z"';
  const probe = pino({ level: 'info', base, timestamp: () => time }, sink);
  const meta: QueryMeta = { qname: 'we"ird\\.ex\u00e9mple.', qtype: 'A', rcode: 'NOERROR', tc: true };
  const client = { address: '::1', port: 53001 };
  probe.info({ ...netEvent('dns.query', 'tcp', client, server), qname: meta.qname, qtype: meta.qtype, rcode: meta.rcode, size: 61, tc: meta.tc }, 'dns query');
  return out === line(time, bindings, 'tcp', '[::1]:53001', formatEndpoint(server), fragment(meta), 61, true);
}

/** Returns a function logging one `dns.query` record per call. */
export function queryLogger(log: Logger, server: Endpoint): QueryLog {
  const s = formatEndpoint(server);
  const sink = jsonLogSink(log);
  // the bindings as pino serialises them (its `base`, in order), e.g. ,"name":"socketlab-dns","pid":7
  const chindings = sink && Object.entries(sink.base).map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`).join('');
  const fast = sink !== undefined && selfCheck(sink.base, chindings!, server);

  if (!fast) {
    return Object.assign((transport: 'udp' | 'tcp', address: string, port: number, meta: QueryMeta, size: number) => {
      if (!log.isLevelEnabled('info')) return;
      log.info({ ...netEvent('dns.query', transport, { address, port }, server), qname: meta.qname, qtype: meta.qtype, rcode: meta.rcode, size, tc: meta.tc }, 'dns query');
    }, { fast: false, flush: () => {}, close: () => {} });
  }
  const stream = sink.destination;
  const timeFn = sink.time;
  let lastMs = 0;
  let lastTime = '';
  // One write per ~64 KiB instead of one per record: the destination's own buffering still runs
  // a write per 4 KiB, and each of those is a thread-pool round trip.
  let pending = '';
  const live = stream.sync === true;
  let busy = false;
  let dropped = 0;
  const write = (): void => {
    const p = pending;
    pending = '';
    if (stream.write(p) === false && !busy) {
      busy = true;
      stream.once('drain', onDrain);
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
      stream.flushSync?.();
    } catch {
      // destination not open or already closed: nothing more can be written
    }
  };
  const offExit = flushOnExit(atExit);
  const close = (): void => {
    if (pending !== '') write();
    clearInterval(timer);
    offExit();
  };
  return Object.assign((transport: 'udp' | 'tcp', address: string, port: number, meta: QueryMeta, size: number) => {
    if (!log.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastTime = timeFn();
    }
    if (busy && pending.length >= MAX_BACKLOG) {
      dropped++;
      return;
    }
    const frag = (meta.fragment ??= fragment(meta));
    const c = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    pending += line(lastTime, chindings!, transport, c, s, frag, size, meta.tc);
    if (live || pending.length >= BATCH) flush();
  }, { fast: true, flush, close });
}
