/**
 * DNS client exchanges over real sockets: one query over UDP (with retries and TCP fallback on
 * TC=1), one over TCP, and a zone transfer (AXFR, RFC 5936). Only ever talks to the server it is
 * given — there is no default resolver anywhere in this file.
 */
import dgram from 'node:dgram';
import net, { isIPv6 } from 'node:net';
import { LabError } from '../errors.js';
import { formatEndpoint, normalizeAddress, type Endpoint } from '../socket-pair.js';
import {
  canonicalName,
  CLASSES,
  decode,
  Deframer,
  emptyFlags,
  frame,
  OPCODES,
  optRecord,
  rcodeName,
  TYPES,
  type Message,
  type ResourceRecord,
} from './codec.js';
import { encodeQuery, queryId } from './dns2-wire.js';

export interface ExchangeResult {
  response: Message;
  transport: 'udp' | 'tcp';
  local: Endpoint;
  server: Endpoint;
  size: number;
}

export interface QueryOptions {
  server: Endpoint;
  /** TCP only (no UDP first). */
  tcp?: boolean;
  /** Per-try timeout; default 2000 ms. */
  timeoutMs?: number;
  /** Extra UDP tries after a timeout; default 2. */
  retries?: number;
  /** EDNS UDP payload size to advertise; 0 sends no OPT record (512-octet limit). Default 1232. */
  edns?: number;
  /** Recursion desired: off by default (socketlab servers are authoritative). */
  rd?: boolean;
  opcode?: number;
  /** Retry over TCP when a UDP answer comes back with TC=1 (default true). */
  tcpFallback?: boolean;
}

export interface QueryResult extends ExchangeResult {
  /** The UDP exchange whose TC=1 made us retry over TCP. */
  truncated?: ExchangeResult;
  /** UDP tries sent before an answer arrived. */
  tries: number;
}

/** Builds a query message; its ID comes from a CSPRNG (RFC 5452 4.3) unless given. */
export function buildQuery(name: string, type: number, opts: { id?: number; rd?: boolean; edns?: number; opcode?: number } = {}): Message {
  return {
    id: opts.id ?? queryId(),
    flags: emptyFlags({ rd: opts.rd ?? false, opcode: opts.opcode ?? OPCODES.QUERY }),
    questions: [{ name: canonicalName(name), type, class: CLASSES.IN }],
    answers: [],
    authorities: [],
    additionals: opts.edns ? [optRecord(opts.edns)] : [],
  };
}

function timeoutError(server: Endpoint, transport: string, ms: number, tries = 1): LabError {
  return new LabError('LAB_ERR_TIMEOUT', `no answer from ${formatEndpoint(server)} over ${transport} after ${tries} ${tries === 1 ? 'try' : 'tries'} of ${ms} ms: is a DNS server listening there?`, {
    server: formatEndpoint(server),
  });
}

/** Does `res` answer `q` (same ID, same question when one is echoed)? RFC 5452 9.1 style checks. */
function matches(q: Message, res: Message): boolean {
  if (res.id !== q.id || !res.flags.qr) return false;
  const a = q.questions[0];
  const b = res.questions[0];
  if (!a || !b) return true;
  return canonicalName(a.name) === canonicalName(b.name) && a.type === b.type;
}

/** One UDP try: sends `query`, waits for a matching answer from exactly that server. */
export function udpExchange(query: Message, server: Endpoint, timeoutMs: number): Promise<ExchangeResult> {
  const wire = encodeQuery(query);
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(isIPv6(server.address) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err: Error | null, res?: ExchangeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => finish(timeoutError(server, 'udp', timeoutMs)), timeoutMs);
    sock.on('error', (err) => finish(new LabError('LAB_ERR_CONNECT', `udp to ${formatEndpoint(server)}: ${err.message}`)));
    sock.on('message', (buf, rinfo) => {
      // ignore datagrams from anyone but the server we asked (RFC 5452 9.1)
      if (normalizeAddress(rinfo.address) !== normalizeAddress(server.address) || rinfo.port !== server.port) return;
      let res: Message;
      try {
        res = decode(buf);
      } catch {
        return;
      }
      if (!matches(query, res)) return;
      const a = sock.address();
      finish(null, { response: res, transport: 'udp', local: { address: normalizeAddress(a.address), port: a.port }, server, size: buf.length });
    });
    sock.connect(server.port, server.address, () => {
      sock.send(wire);
    });
  });
}

/**
 * Opens a TCP connection, sends `messages`, and passes each answer to `onMessage` until it
 * returns true (done). Bounded by `timeoutMs` of silence.
 */
export function tcpConversation(
  messages: Buffer[],
  server: Endpoint,
  timeoutMs: number,
  onMessage: (msg: Buffer, local: Endpoint) => boolean,
  onConnect?: (local: Endpoint) => void,
): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: server.address, port: server.port });
    let local: Endpoint = { address: '?', port: 0 };
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      sock.destroy();
      if (err) reject(err);
      else resolve(local);
    };
    sock.setTimeout(timeoutMs, () => finish(timeoutError(server, 'tcp', timeoutMs)));
    const deframer = new Deframer();
    sock.on('connect', () => {
      local = { address: normalizeAddress(sock.localAddress ?? '?'), port: sock.localPort ?? 0 };
      onConnect?.(local);
      sock.write(Buffer.concat(messages.map(frame)));
    });
    sock.on('data', (chunk: Buffer) => {
      deframer.push(chunk);
      let m: Buffer | null;
      try {
        while (!done && (m = deframer.next())) if (onMessage(Buffer.from(m), local)) finish(null);
      } catch (err) {
        finish(err as Error);
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ECONNREFUSED' ? 'connection refused: nothing listens on that TCP port' : err.message;
      finish(new LabError('LAB_ERR_CONNECT', `tcp to ${formatEndpoint(server)}: ${why}`, { server: formatEndpoint(server) }));
    });
    sock.on('close', () => finish(new LabError('LAB_ERR_CONNECT', `tcp to ${formatEndpoint(server)}: the server closed the connection before answering`)));
  });
}

/** One query over TCP. */
export async function tcpExchange(query: Message, server: Endpoint, timeoutMs: number): Promise<ExchangeResult> {
  let result: ExchangeResult | undefined;
  await tcpConversation([encodeQuery(query)], server, timeoutMs, (buf, local) => {
    let res: Message;
    try {
      res = decode(buf);
    } catch (err) {
      throw new LabError('LAB_ERR_DNS', `undecodable answer from ${formatEndpoint(server)}: ${(err as Error).message}`);
    }
    if (!matches(query, res)) return false;
    result = { response: res, transport: 'tcp', local, server, size: buf.length };
    return true;
  });
  return result!;
}

/** A query as dig does it: UDP with retries, then TCP if the answer was truncated. */
export async function query(name: string, type: number, opts: QueryOptions): Promise<QueryResult> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const msg = buildQuery(name, type, { rd: opts.rd, edns: opts.edns ?? 1232, opcode: opts.opcode });
  if (opts.tcp) return { ...(await tcpExchange(msg, opts.server, timeoutMs)), tries: 0 };
  const tries = 1 + (opts.retries ?? 2);
  let udp: ExchangeResult | undefined;
  for (let i = 1; i <= tries; i++) {
    try {
      udp = await udpExchange(msg, opts.server, timeoutMs);
    } catch (err) {
      if (err instanceof LabError && err.code === 'LAB_ERR_TIMEOUT') {
        if (i === tries) throw timeoutError(opts.server, 'udp', timeoutMs, tries);
        continue;
      }
      throw err;
    }
    if (!udp.response.flags.tc || opts.tcpFallback === false) return { ...udp, tries: i };
    // RFC 7766 5: truncated over UDP -> ask again over TCP
    const tcp = await tcpExchange(msg, opts.server, timeoutMs);
    return { ...tcp, truncated: udp, tries: i };
  }
  throw timeoutError(opts.server, 'udp', timeoutMs, tries);
}

export interface TransferResult {
  records: ResourceRecord[];
  local: Endpoint;
  messages: number;
  size: number;
}

/** Pulls a whole zone by AXFR over TCP (RFC 5936): SOA, records, SOA. */
export async function axfr(origin: string, server: Endpoint, timeoutMs = 10_000, onConnect?: (local: Endpoint) => void): Promise<TransferResult> {
  const q = buildQuery(origin, TYPES.AXFR);
  const records: ResourceRecord[] = [];
  let messages = 0;
  let size = 0;
  const local = await tcpConversation(
    [encodeQuery(q)],
    server,
    timeoutMs,
    (buf) => {
      const res = decode(buf);
      if (res.id !== q.id || !res.flags.qr) return false;
      messages++;
      size += buf.length;
      if (res.flags.rcode !== 0) throw new LabError('LAB_ERR_DNS', `zone transfer of ${origin || '.'} from ${formatEndpoint(server)} answered ${rcodeName(res.flags.rcode)}`, { rcode: rcodeName(res.flags.rcode) });
      for (const rr of res.answers) {
        if (records.length === 0 && rr.type !== TYPES.SOA) throw new LabError('LAB_ERR_DNS', `zone transfer from ${formatEndpoint(server)} did not start with a SOA record`);
        records.push(rr);
        if (records.length > 1 && rr.type === TYPES.SOA) return true;
      }
      if (records.length > 1_000_000) throw new LabError('LAB_ERR_DNS', 'zone transfer exceeds 1,000,000 records; giving up');
      return false;
    },
    onConnect,
  );
  return { records: records.slice(0, -1), local, messages, size };
}

/**
 * One TCP connection to a server, reused for many exchanges (RFC 7766 6.2.1) until the server
 * closes it. A secondary keeps one to its primary, so the server-to-server connection is there to
 * see in `netstat` / `ss` while clients query over UDP.
 */
export class TcpSession {
  private sock: net.Socket | undefined;
  private deframer = new Deframer();
  private waiters = new Map<number, { onMessage: (res: Message, size: number) => boolean; done: (err?: Error) => void; touch: () => void }>();
  /** Local end of the current connection (the ephemeral port). */
  local: Endpoint | undefined;

  constructor(
    readonly server: Endpoint,
    private readonly onOpen?: (local: Endpoint) => void,
  ) {}

  /** Is a connection open right now? */
  get open(): boolean {
    return this.sock !== undefined && !this.sock.destroyed;
  }

  private connect(timeoutMs: number): Promise<net.Socket> {
    if (this.sock && !this.sock.destroyed && !this.sock.connecting) return Promise.resolve(this.sock);
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: this.server.address, port: this.server.port });
      const deframer = new Deframer();
      this.deframer = deframer;
      const t = setTimeout(() => {
        sock.destroy();
        reject(timeoutError(this.server, 'tcp', timeoutMs));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(t);
        this.sock = sock;
        this.local = { address: normalizeAddress(sock.localAddress ?? '?'), port: sock.localPort ?? 0 };
        this.onOpen?.(this.local);
        resolve(sock);
      });
      sock.on('data', (chunk: Buffer) => {
        deframer.push(chunk);
        let m: Buffer | null;
        while ((m = deframer.next())) {
          let res: Message;
          try {
            res = decode(Buffer.from(m));
          } catch {
            continue;
          }
          const w = this.waiters.get(res.id);
          if (!w || !res.flags.qr) continue;
          w.touch();
          let finished: boolean;
          try {
            finished = w.onMessage(res, m.length);
          } catch (err) {
            this.waiters.delete(res.id);
            w.done(err as Error);
            continue;
          }
          if (finished) {
            this.waiters.delete(res.id);
            w.done();
          }
        }
      });
      const fail = (why: string): void => {
        clearTimeout(t);
        if (this.sock === sock) this.sock = undefined;
        const err = new LabError('LAB_ERR_CONNECT', `tcp to ${formatEndpoint(this.server)}: ${why}`, { server: formatEndpoint(this.server) });
        reject(err);
        for (const [id, w] of this.waiters) {
          this.waiters.delete(id);
          w.done(err);
        }
      };
      sock.on('error', (err: NodeJS.ErrnoException) => fail(err.code === 'ECONNREFUSED' ? 'connection refused: nothing listens on that TCP port' : err.message));
      sock.on('close', () => fail('the server closed the connection'));
    });
  }

  /** Sends `query` and feeds each answer with its ID to `onMessage` until it returns true. */
  async request(query: Message, onMessage: (res: Message, size: number) => boolean, timeoutMs: number): Promise<void> {
    const sock = await this.connect(timeoutMs);
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const touch = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          this.waiters.delete(query.id);
          sock.destroy(); // the stream's state is unknown now
          reject(timeoutError(this.server, 'tcp', timeoutMs));
        }, timeoutMs);
      };
      touch();
      this.waiters.set(query.id, {
        onMessage,
        touch,
        done: (err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        },
      });
      sock.write(frame(encodeQuery(query)));
    });
  }

  close(): void {
    this.sock?.destroy();
    this.sock = undefined;
  }
}

/** AXFR over a session: collects SOA, records, SOA (RFC 5936 2.2). */
export async function sessionAxfr(session: TcpSession, origin: string, timeoutMs = 10_000): Promise<TransferResult> {
  const q = buildQuery(origin, TYPES.AXFR);
  const records: ResourceRecord[] = [];
  let messages = 0;
  let size = 0;
  await session.request(
    q,
    (res, n) => {
      messages++;
      size += n;
      if (res.flags.rcode !== 0) throw new LabError('LAB_ERR_DNS', `zone transfer of ${origin || '.'} from ${formatEndpoint(session.server)} answered ${rcodeName(res.flags.rcode)}`, { rcode: rcodeName(res.flags.rcode) });
      for (const rr of res.answers) {
        if (records.length === 0 && rr.type !== TYPES.SOA) throw new LabError('LAB_ERR_DNS', `zone transfer from ${formatEndpoint(session.server)} did not start with a SOA record`);
        records.push(rr);
        if (records.length > 1 && rr.type === TYPES.SOA) return true;
      }
      if (records.length > 1_000_000) throw new LabError('LAB_ERR_DNS', 'zone transfer exceeds 1,000,000 records; giving up');
      return false;
    },
    timeoutMs,
  );
  return { records: records.slice(0, -1), local: session.local!, messages, size };
}

/** One query over a session. */
export async function sessionQuery(session: TcpSession, name: string, type: number, timeoutMs = 2000): Promise<ExchangeResult> {
  const q = buildQuery(name, type, { edns: 1232 });
  let result: ExchangeResult | undefined;
  await session.request(
    q,
    (res, size) => {
      if (!matches(q, res)) return false;
      result = { response: res, transport: 'tcp', local: session.local!, server: session.server, size };
      return true;
    },
    timeoutMs,
  );
  return result!;
}
