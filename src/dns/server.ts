/**
 * The DNS server: one UDP socket and one TCP listener on the same address and port, wired to the
 * codec and the answer policy. Nothing protocol-specific is decided here.
 *
 * Hot path: answers are cached by the query's bytes after the ID (flags, question, EDNS), so a
 * question answered before is one Map lookup and a 2-octet ID patch — no decode, no encode.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { isIP, isIPv6 } from 'node:net';
import { asSystemError } from '../errors.js';
import { awaitListening, onceClose, type BoundAddress, type Listener } from '../listener.js';
import { bindError } from '../bind-errors.js';
import { silentLogger, type Logger } from '../log.js';
import { netEvent } from '../events.js';
import { normalizeAddress, type Endpoint } from '../socket-pair.js';
import { MAX_TIMEOUT_MS } from '../core/timers.js';
import {
  decode,
  emptyFlags,
  encodeLimited,
  OPCODES,
  RCODES,
  rcodeName,
  typeName,
  type Message,
} from './codec.js';
import { answer, axfrMessages, SERVER_UDP_PAYLOAD } from './policy.js';
import { serveTcpSession } from './tcp-session.js';
import type { Zone } from './zone.js';
import { parseAcl, LOOPBACK_ACL, type Acl } from './acl.js';
import { queryLogger, type QueryMeta } from './query-log.js';

export interface DnsServerOptions {
  zones: Zone[];
  /** Default 127.0.0.1. Both transports bind exactly this address. */
  host?: string;
  /** Default 0 (tests); the CLI's default is 5300. */
  port?: number;
  log?: Logger;
  /** Who may AXFR; default loopback only. */
  allowTransfer?: Acl;
  /** Close a TCP connection idle this long (RFC 7766 6.2.3); default 10 s. */
  tcpIdleMs?: number;
  /** Largest TCP message accepted from a client; default 16 KiB. */
  maxTcpMessage?: number;
  /** Concurrent TCP connections; default 256. */
  maxConnections?: number;
  /** Response cache entries per transport; 0 disables the cache. Default 10000. */
  cacheSize?: number;
  /** Octets of cached answers per transport; default 16 MiB. */
  cacheBytes?: number;
  /** Largest UDP answer, whatever size the client advertises (BIND's max-udp-size); default 1232. */
  maxUdpSize?: number;
  /** Handles NOTIFY (opcode 4) from primaries; a secondary provides it. */
  onNotify?: (query: Message, client: Endpoint) => Message;
  /** Origins this server should serve but holds no copy of yet: answered SERVFAIL, not REFUSED. */
  unavailable?: () => readonly string[];
  signal?: AbortSignal;
}

export interface DnsListener extends Listener {
  /** Swaps the served zones (reload, fresh transfer) and empties the response cache. */
  setZones(zones: Zone[]): void;
  zones(): Zone[];
}

/** Answers larger than this are not cached. */
const MAX_CACHED_ANSWER = 16 * 1024;

interface Cached extends QueryMeta {
  buf: Buffer;
}

/**
 * Answers by query bytes, bounded in entries and in octets: keyed by bytes, a client varying the
 * case of a name (or its ID-free bits) fills it with copies of one large answer — 10,000 copies of
 * a 61 KB TCP answer would be 600 MB kept after every connection closed. Full: start over.
 */
class ResponseCache {
  private map = new Map<string, Cached>();
  private bytes = 0;
  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}
  get(key: string): Cached | undefined {
    return this.map.get(key);
  }
  set(key: string, c: Cached): void {
    // a large answer costs more to keep than to build again (encoding is cheap next to sending it)
    if (this.maxEntries <= 0 || c.buf.length > MAX_CACHED_ANSWER) return;
    if (this.map.size >= this.maxEntries || this.bytes + c.buf.length + key.length > this.maxBytes) this.clear();
    this.map.set(key, c);
    this.bytes += c.buf.length + key.length;
  }
  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}

/** Starts serving; resolves once both sockets listen on the same port. */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsListener> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? silentLogger();
  const acl = opts.allowTransfer ?? parseAcl(LOOPBACK_ACL);
  // setTimeout cannot hold more than MAX_TIMEOUT_MS (24.8 days): a longer idle time is "forever"
  const idleMs = Math.min(opts.tcpIdleMs ?? 10_000, MAX_TIMEOUT_MS);
  const maxTcp = opts.maxTcpMessage ?? 16_384;
  const cacheSize = opts.cacheSize ?? 10_000;
  const maxUdpSize = opts.maxUdpSize ?? SERVER_UDP_PAYLOAD;
  let zones = opts.zones;
  const udpCache = new ResponseCache(cacheSize, opts.cacheBytes ?? 16 << 20);
  const tcpCache = new ResponseCache(cacheSize, opts.cacheBytes ?? 16 << 20);

  const { udp, tcp, port } = await bindBoth(host, opts.port ?? 0, opts.maxConnections ?? 256);
  const family: BoundAddress['family'] = isIPv6(host) ? 'IPv6' : 'IPv4';
  const server: Endpoint = { address: host, port };
  const sockets = new Set<net.Socket>();

  const queryLog = queryLogger(log, server);
  const logQuery = (transport: 'udp' | 'tcp', client: Endpoint, c: QueryMeta, size: number): void => queryLog(transport, client.address, client.port, c, size);

  /** Decodes and answers one message; returns the wire responses (several for AXFR). */
  const handle = (buf: Buffer, transport: 'udp' | 'tcp', client: Endpoint): Buffer[] => {
    let query: Message;
    try {
      query = decode(buf, { rejectTrailing: true });
    } catch (err) {
      log.warn({ ...netEvent('dns.query', transport, client, server), size: buf.length, err: (err as Error).message }, 'malformed message');
      // RFC 1035 4.1.1: FORMERR when the header is readable and it is a query; otherwise drop.
      if (buf.length < 12 || (buf[2]! & 0x80) !== 0) return [];
      const r = encodeLimited({ id: buf.readUInt16BE(0), flags: emptyFlags({ qr: true, opcode: (buf[2]! >> 3) & 0xf, rcode: RCODES.FORMERR }), questions: [], answers: [], authorities: [], additionals: [] }).buf;
      logQuery(transport, client, { qname: '', qtype: '', rcode: 'FORMERR', tc: false }, r.length);
      return [r];
    }
    const q = query.questions[0];
    const meta = { qname: q ? q.name || '.' : '', qtype: q ? typeName(q.type) : '' };
    if (query.flags.opcode === OPCODES.NOTIFY && opts.onNotify && !query.flags.qr) {
      const r = encodeLimited(opts.onNotify(query, client)).buf;
      log.info({ ...netEvent('dns.notify', transport, client, server), ...meta, rcode: rcodeName(r[3]! & 0xf), size: r.length }, 'notify received');
      return [r];
    }
    const a = answer(query, zones, { transport, transferAllowed: acl.allows(client.address), unavailable: opts.unavailable?.(), maxUdpSize });
    if (!a.response) return [];
    if (a.axfr) {
      const msgs = axfrMessages(query, a.axfr).map((m) => encodeLimited(m).buf);
      const total = msgs.reduce((s, m) => s + m.length, 0);
      log.info(
        { ...netEvent('dns.axfr', transport, client, server), ...meta, zone: a.axfr.origin || '.', serial: a.axfr.soa.data.serial, records: a.axfr.records.length + 1, messages: msgs.length, size: total, rcode: 'NOERROR' },
        'zone transfer served',
      );
      return msgs;
    }
    const enc = encodeLimited(a.response, transport === 'udp' ? a.udpLimit : 65535);
    const c: Cached = { buf: enc.buf, ...meta, rcode: rcodeName(a.response.flags.rcode), tc: enc.truncated || a.response.flags.tc };
    if (cacheSize > 0 && query.flags.opcode === OPCODES.QUERY && buf.length <= 512 && q && q.type !== 252 && q.type !== 251) {
      (transport === 'udp' ? udpCache : tcpCache).set(buf.toString('latin1', 2), c);
    }
    logQuery(transport, client, c, enc.buf.length);
    if (a.response.flags.rcode === RCODES.REFUSED && q && (q.type === 252 || q.type === 251)) {
      log.info({ ...netEvent('dns.axfr', transport, client, server), ...meta, rcode: 'REFUSED' }, 'zone transfer refused');
    }
    return [enc.buf];
  };

  /** Cache hit: the stored answer with this query's ID. */
  const fromCache = (buf: Buffer, cache: ResponseCache, transport: 'udp' | 'tcp', client: Endpoint): Buffer | undefined => {
    if (buf.length < 12 || buf.length > 512) return undefined;
    const hit = cache.get(buf.toString('latin1', 2));
    if (!hit) return undefined;
    const out = Buffer.allocUnsafe(hit.buf.length);
    hit.buf.copy(out);
    out[0] = buf[0]!;
    out[1] = buf[1]!;
    queryLog(transport, client.address, client.port, hit, out.length);
    return out;
  };

  // Answers go out once per event-loop turn rather than one by one: after the first send, libuv
  // queues the rest and writes them with one sendmmsg(2), saving a system call per answer.
  let outQueue: (Buffer | number | string)[] = [];
  let flushScheduled = false;
  const flushUdp = (): void => {
    flushScheduled = false;
    const q = outQueue;
    outQueue = [];
    for (let i = 0; i < q.length; i += 3) udp.send(q[i] as Buffer, q[i + 1] as number, q[i + 2] as string);
  };
  const sendUdp = (b: Buffer, port: number, address: string): void => {
    outQueue.push(b, port, address);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushUdp);
    }
  };

  udp.on('message', (buf, rinfo) => {
    const client = rinfo as unknown as Endpoint; // rinfo carries address and port already
    try {
      const hit = fromCache(buf, udpCache, 'udp', client);
      if (hit) {
        sendUdp(hit, rinfo.port, rinfo.address);
        return;
      }
      for (const r of handle(buf, 'udp', { address: rinfo.address, port: rinfo.port })) sendUdp(r, rinfo.port, rinfo.address);
    } catch (err) {
      log.error({ ...netEvent('dns.query', 'udp', client, server), err }, 'handler error; datagram dropped');
    }
  });
  udp.on('error', (err) => log.error({ err }, 'udp socket error'));

  tcp.on('connection', (sock) => {
    sockets.add(sock);
    const client = { address: normalizeAddress(sock.remoteAddress ?? '?'), port: sock.remotePort ?? 0 };
    log.info(netEvent('tcp.accept', 'tcp', client, server), 'tcp connection accepted');
    sock.once('close', () => sockets.delete(sock));
    serveTcpSession(sock, {
      log,
      server,
      client,
      idleMs,
      maxMessage: maxTcp,
      answer: (msg) => {
        const hit = fromCache(msg, tcpCache, 'tcp', client);
        return hit ? [hit] : handle(msg, 'tcp', client);
      },
    });
  });
  tcp.on('error', (err) => log.error({ err }, 'tcp listener error'));

  const closer = onceClose(async () => {
    queryLog.close();
    flushUdp();
    for (const s of sockets) s.destroy();
    await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
  }, opts.signal);

  return {
    address: { host, port, family },
    setZones(z: Zone[]) {
      zones = z;
      udpCache.clear();
      tcpCache.clear();
    },
    zones: () => zones,
    ...closer,
  };
}

async function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  // Addresses here are always literals (bind host is checked, replies go to rinfo.address): a
  // synchronous lookup skips dns.lookup's nextTick hop on every send.
  const s = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', lookup: literalLookup });
  try {
    await awaitListening(s, () => s.bind({ address: host, port }));
    return s;
  } catch (err) {
    s.close();
    throw err;
  }
}

const literalLookup = ((address: string, opts: unknown, cb: (err: Error | null, address: string, family: number) => void) => {
  const family = isIP(address);
  if (!family) cb(Object.assign(new Error(`not an IP address: ${address}`), { code: 'EINVAL' }), address, 0);
  else cb(null, address, family);
}) as unknown as dgram.SocketOptions['lookup'];

async function bindTcp(host: string, port: number): Promise<net.Server> {
  const s = net.createServer({ pauseOnConnect: false });
  await awaitListening(s, () => s.listen({ host, port, exclusive: false }));
  return s;
}

/** UDP first (port 0 picks one), then TCP on the same number; on a port-0 clash, try again. */
async function bindBoth(host: string, port: number, maxConnections: number): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  for (let attempt = 0; ; attempt++) {
    let udp: dgram.Socket;
    try {
      udp = await bindUdp(host, port);
    } catch (err) {
      throw await bindError(err, host, port, 'udp');
    }
    const p = udp.address().port;
    try {
      const tcp = await bindTcp(host, p);
      tcp.maxConnections = maxConnections;
      return { udp, tcp, port: p };
    } catch (err) {
      udp.close();
      if (port === 0 && asSystemError(err).code === 'EADDRINUSE' && attempt < 10) continue;
      throw await bindError(err, host, p, 'tcp');
    }
  }
}
