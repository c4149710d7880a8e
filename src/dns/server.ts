/**
 * The DNS server: one UDP socket and one TCP listener on the same address and port, wired to the
 * codec and the answer policy. Nothing protocol-specific is decided here: the query handler
 * (query-handler.ts) answers, the response cache (response-cache.ts) remembers, and the UDP path
 * (udp-path.ts) and the TCP session (tcp-session.ts) move the bytes.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { isIP, isIPv6 } from 'node:net';
import { bindSamePort } from '../core/bind.js';
import { onceClose, type BoundAddress, type Listener } from '../listener.js';
import { silentLogger, type Logger } from '../log.js';
import type { Endpoint } from '../socket-pair.js';
import { MAX_TIMEOUT_MS } from '../core/timers.js';
import type { Message } from './codec.js';
import { SERVER_UDP_PAYLOAD } from './policy.js';
import { serveTcp } from './tcp-session.js';
import type { Zone } from './zone.js';
import { parseAcl, LOOPBACK_ACL, type Acl } from './acl.js';
import { queryLogger } from './query-log.js';
import { ResponseCache } from './response-cache.js';
import { createQueryHandler } from './query-handler.js';
import { serveUdp } from './udp-path.js';

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
  const handler = createQueryHandler({
    log,
    server,
    queryLog,
    zones: () => zones,
    acl,
    maxUdpSize,
    caches: { udp: udpCache, tcp: tcpCache },
    onNotify: opts.onNotify,
    unavailable: opts.unavailable,
  });
  serveUdp(udp, handler, log, server);
  serveTcp(tcp, { log, server, idleMs, maxMessage: maxTcp, handler, sockets });

  const closer = onceClose(async () => {
    queryLog.close();
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

/**
 * A lookup for literals only (a name is an error, never a resolver query). The last address checked
 * is remembered: answers go to rinfo.address, mostly the same few clients, and isIP (a regular
 * expression) on every answer was a per-query cost.
 */
export function literalLookup(): dgram.SocketOptions['lookup'] {
  let last: string | undefined;
  let lastFamily = 0;
  return ((address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void) => {
    if (address !== last) {
      const family = isIP(address);
      if (!family) return cb(Object.assign(new Error(`not an IP address: ${address}`), { code: 'EINVAL' }), address, 0);
      last = address;
      lastFamily = family;
    }
    cb(null, address, lastFamily);
  }) as unknown as dgram.SocketOptions['lookup'];
}

/** UDP first (port 0 picks one), then TCP on the same number, through the shared binder. */
async function bindBoth(host: string, port: number, maxConnections: number): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  // Addresses here are always literals (bind host is checked, replies go to rinfo.address): a
  // synchronous lookup skips dns.lookup's nextTick hop on every send.
  const b = await bindSamePort({
    host,
    port,
    first: 'udp',
    udp: { create: () => dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', lookup: literalLookup() }) },
    tcp: { create: () => net.createServer({ pauseOnConnect: false }) },
  });
  b.tcp!.maxConnections = maxConnections;
  return { udp: b.udp!, tcp: b.tcp!, port: b.port };
}
