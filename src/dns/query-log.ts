/**
 * The per-query log record, built cheaply. A DNS server logs one record per query, which at tens
 * of thousands of queries a second costs more than answering them; so the record's constant parts
 * (server side, qname/qtype/rcode of a cached answer) are serialised once, and each query only
 * adds time, client endpoint and size. The line is byte-for-byte what
 *   log.info({ ...netEvent('dns.query', transport, client, server), qname, qtype, rcode, size, tc }, 'dns query')
 * writes (a unit test checks that), in batches: appended to the --log-file directly as bytes
 * (appendingLog), or written to the same pino destination as strings (stderr, a pipe, any Writable).
 */
import { Writable } from 'node:stream';
import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
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
  /** The record's end from the fragment on (`...,"size":N,"tc":...}\n`, UTF-8) for answers of `tailSize` octets. */
  tail?: Buffer;
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

type RecordFn = (transport: 'udp' | 'tcp', address: string, port: number, meta: QueryMeta, size: number) => void;

/**
 * Date.now() read once per event-loop turn instead of once per record: a busy server answers a
 * batch of datagrams per turn (libuv reads up to 32 per socket), and Date.now() cost ~90 ns of the
 * ~1 µs a logged UDP query added (perf, pinned). A record's millisecond is then that of the first
 * record of its turn, at most one turn's work (~0.3 ms at full load) earlier; pino stamps a
 * record when it is written, which is no closer to the datagram's arrival either.
 */
export function turnClock(): () => number {
  let now = -1;
  const reset = (): void => {
    now = -1;
  };
  return () => {
    if (now < 0) {
      now = Date.now();
      setImmediate(reset);
    }
    return now;
  };
}

/** The record through log.info: for any logger, and what the fast paths must write byte for byte. */
const viaPino = (log: Logger, server: Endpoint): RecordFn => (transport, address, port, meta, size) => {
  if (!log.isLevelEnabled('info')) return;
  log.info({ ...netEvent('dns.query', transport, { address, port }, server), qname: meta.qname, qtype: meta.qtype, rcode: meta.rcode, size, tc: meta.tc }, 'dns query');
};

/** Returns a function logging one `dns.query` record per call. */
export function queryLogger(log: Logger, server: Endpoint): QueryLog {
  const s = formatEndpoint(server);
  const sink = jsonLogSink(log);
  // the bindings as pino serialises them (its `base`, in order), e.g. ,"name":"socketlab-dns","pid":7
  const chindings = sink && Object.entries(sink.base).map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`).join('');
  const fast = sink !== undefined && selfCheck(sink.base, chindings!, server);

  const fd = fast && sink.file !== undefined ? openAppend(sink.file) : undefined;
  if (fd !== undefined) return appendingLog(log, fd, sink!.time, chindings!, server, sink!.destination.sync === true);
  if (!fast) return Object.assign(viaPino(log, server), { fast: false, flush: () => {}, close: () => {} });
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
  const clock = turnClock();
  return Object.assign((transport: 'udp' | 'tcp', address: string, port: number, meta: QueryMeta, size: number) => {
    if (!log.isLevelEnabled('info')) return;
    const now = clock();
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

/** `file` opened for appending, or undefined when it cannot be or is not a regular file (a FIFO, /dev/stderr). */
function openAppend(file: string): number | undefined {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const fd = openSync(file, 'a');
    if (fstatSync(fd).isFile()) return fd;
    closeSync(fd);
  } catch {
    // the logger's own destination reports it
  }
  return undefined;
}

/** Distinct client endpoints whose encoded record parts are kept; then the table starts over. */
const MAX_CLIENTS = 4096;

/**
 * The query log for a --log-file: records are encoded straight into a byte batch, from parts kept
 * encoded (the time once per millisecond, each client's endpoints, each answer's fragment), and the
 * batch is appended to the file with its own descriptor, synchronously, every BATCH bytes and every
 * 200 ms. Through pino's destination each record was a string that sonic-boom measured, encoded
 * and, once written, encoded again: about 1.2 µs of CPU a record, a sixth of a UDP query's cost.
 * The file is opened O_APPEND and is a regular file: every write(2) lands whole after the previous,
 * so whole-line batches never interleave with pino's own writes to the same file. A batch written
 * at once blocks only as long as the page cache takes it, and leaves nothing in flight at exit.
 */
function appendingLog(log: Logger, fd: number, timeFn: () => string, chindings: string, serverEndpoint: Endpoint, live: boolean): QueryLog {
  const server = formatEndpoint(serverEndpoint);
  // after close (a datagram answered while the sockets close): through pino, not lost
  const afterClose = viaPino(log, serverEndpoint);
  const enc = (text: string): Buffer => Buffer.from(text, 'utf8');
  const to = `","to":${JSON.stringify(server)},"pair":"`;
  const pairEnd = ` <-> ${server}"`;
  let lastMs = -1;
  let time = '';
  // `{"level":30,"time":...,<bindings>,"event":"dns.query","transport":"udp","from":"` for this millisecond
  const heads: Record<'udp' | 'tcp', { ms: number; bytes: Buffer }> = { udp: { ms: -1, bytes: Buffer.alloc(0) }, tcp: { ms: -1, bytes: Buffer.alloc(0) } };
  const head = (transport: 'udp' | 'tcp', now: number): Buffer => {
    if (now !== lastMs) {
      lastMs = now;
      time = timeFn();
    }
    const h = heads[transport];
    if (h.ms !== now) {
      h.ms = now;
      h.bytes = enc(`{"level":30${time}${chindings},"event":"dns.query","transport":"${transport}","from":"`);
    }
    return h.bytes;
  };
  // `<client>","to":"<server>","pair":"<client> <-> <server>"` per client address and port
  const clients = new Map<string, Map<number, Buffer>>();
  let clientCount = 0;
  // The last client address and its ports: each datagram's address is a new string, and a Map
  // lookup by it hashes it first; comparing it with the last one is cheaper, and consecutive
  // queries mostly come from one host (a resolver, a load generator, the lab's clients).
  let lastAddress = '';
  let lastByPort: Map<number, Buffer> | undefined;
  const clientPart = (address: string, port: number): Buffer => {
    let byPort = address === lastAddress ? lastByPort : (lastByPort = clients.get((lastAddress = address)));
    const hit = byPort?.get(port);
    if (hit !== undefined) return hit;
    if (clientCount >= MAX_CLIENTS) {
      clients.clear();
      clientCount = 0;
      byPort = lastByPort = undefined;
    }
    if (byPort === undefined) clients.set(address, (byPort = lastByPort = new Map()));
    const c = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    const bytes = enc(`${c}${to}${c}${pairEnd}`);
    byPort.set(port, bytes);
    clientCount++;
    return bytes;
  };

  const clock = turnClock();
  let buf = Buffer.allocUnsafeSlow(BATCH);
  let off = 0;
  let lines = 0;
  let dropped = 0;
  let closed = false;
  /** Appends the batch; a failed write (disk full) loses it, and the loss is said once a write works again. */
  const flush = (): void => {
    if (off === 0) return;
    try {
      for (let at = 0; at < off; ) at += writeSync(fd, buf, at, off - at);
    } catch {
      dropped += lines;
      off = lines = 0;
      return;
    }
    off = lines = 0;
    if (dropped > 0) {
      const n = dropped;
      dropped = 0;
      log.warn({ event: 'dns.query.dropped', dropped: n }, `${n} query log records dropped: the log file could not be written`);
    }
  };
  const timer = setInterval(flush, 200);
  timer.unref();
  const offExit = flushOnExit(flush);
  const close = (): void => {
    if (closed) return;
    flush();
    closed = true;
    clearInterval(timer);
    offExit();
    try {
      closeSync(fd);
    } catch {
      // already gone: nothing more to write
    }
  };
  return Object.assign((transport: 'udp' | 'tcp', address: string, port: number, meta: QueryMeta, size: number) => {
    if (closed) return afterClose(transport, address, port, meta, size);
    if (!log.isLevelEnabled('info')) return;
    const h = head(transport, clock());
    const c = clientPart(address, port);
    // a cached answer has one size: its tail is encoded once
    let t = meta.tail;
    if (t === undefined || meta.tailSize !== size) {
      t = enc(`${(meta.fragment ??= fragment(meta))},"size":${size},"tc":${meta.tc},"msg":"dns query"}\n`);
      if (meta.tail === undefined) {
        meta.tail = t;
        meta.tailSize = size;
      }
    }
    const n = h.length + c.length + t.length;
    if (off + n > buf.length) {
      flush();
      if (n > buf.length) buf = Buffer.allocUnsafeSlow(n);
    }
    buf.set(h, off);
    off += h.length;
    buf.set(c, off);
    off += c.length;
    buf.set(t, off);
    off += t.length;
    lines++;
    if (live) flush();
  }, { fast: true, flush, close });
}
