import net from 'node:net';
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { silentLogger } from '../log.js';
import { awaitListening, onceClose, type Listener, type BoundAddress } from '../listener.js';
import { netEvent } from '../events.js';
import { labelPort } from '../ports/registry.js';
import { normalizeAddress, type Endpoint } from '../socket-pair.js';
import { bindError } from '../bind-errors.js';
import { invalidArgument } from '../errors.js';
import { parseHost } from '../core/address.js';
import { MAX_TIMEOUT_MS } from '../core/timers.js';

/**
 * Default echo port: 8920 is unassigned in IANA's registry and sits in the registered range
 * (1024-49151), below Linux's ephemeral range (32768-60999), so no client source port collides
 * with it and no root is needed. (RFC 862's own port, 7, is well-known and needs root.)
 */
export const DEFAULT_ECHO_PORT = 8920;

export interface EchoOptions {
  host?: string;
  /** 0 picks a free port (tests); default DEFAULT_ECHO_PORT via the CLI. */
  port?: number;
  tcp?: boolean;
  udp?: boolean;
  log?: Logger;
  /** Close a TCP connection after this long without traffic (ms); 0 disables. Default 60 s. */
  idleTimeoutMs?: number;
  /** Concurrent TCP connections accepted; over it the kernel's connection is closed at once. */
  maxConnections?: number;
  /** Grace for open connections on close() before they are destroyed (ms). */
  closeGraceMs?: number;
  /**
   * After a client's FIN, wait this long (ms) before sending our own (default 0: at once, so the
   * server's ACK rides on its FIN and a close takes 3 segments). Longer shows the 4-segment close,
   * with the client in FIN-WAIT-2 and this side in CLOSE-WAIT meanwhile.
   */
  closeDelayMs?: number;
  signal?: AbortSignal;
}

export interface EchoListener extends Listener {
  /** Open TCP connections right now, with their buffered-but-unsent bytes. */
  connections(): { remote: Endpoint; bytesRead: number; bytesWritten: number; writableLength: number }[];
}

/**
 * RFC 862 echo over TCP and/or UDP on one address and port. Resolves once every requested
 * transport is listening; rejects with a LabError that says why when it cannot bind.
 */
export async function startEcho(opts: EchoOptions = {}): Promise<EchoListener> {
  // an IP literal only: '' would bind every interface, a name would go to the resolver
  const host = parseHost(opts.host ?? '127.0.0.1', 'host');
  const wantTcp = opts.tcp ?? true;
  const wantUdp = opts.udp ?? true;
  const log = opts.log ?? silentLogger();
  const idle = opts.idleTimeoutMs ?? 60_000;
  if (!(idle >= 0 && idle <= MAX_TIMEOUT_MS)) throw invalidArgument(`idle timeout ${idle} ms is out of range: 0 (never) to ${MAX_TIMEOUT_MS} ms`);
  const sockets = new Set<net.Socket>();

  let tcp: net.Server | undefined;
  let udp: dgram.Socket | undefined;
  // Port 0 with both transports: take TCP's port for UDP too; retry if UDP's is taken.
  for (let attempt = 0; ; attempt++) {
    try {
      let port = opts.port ?? DEFAULT_ECHO_PORT;
      if (wantTcp) {
        tcp = createTcp(log, sockets, idle, opts.maxConnections, opts.closeDelayMs ?? 0);
        port = await listenTcp(tcp, host, port);
      }
      if (wantUdp) {
        udp = createUdp(host, log);
        await bindUdp(udp, host, port);
      }
      break;
    } catch (err) {
      tcp?.close();
      udp?.close();
      tcp = udp = undefined;
      const retry = opts.port === 0 && wantTcp && wantUdp && attempt < 10 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!retry) throw await bindError(err, host, opts.port ?? DEFAULT_ECHO_PORT, wantTcp ? 'tcp' : 'udp');
    }
  }

  // Start-up errors were surfaced above; from here on a socket error is logged, never fatal.
  tcp?.on('error', (err) => log.warn({ err: err.message }, 'tcp server error'));
  udp?.on('error', (err) => log.warn({ err: err.message }, 'udp socket error'));
  const a = (tcp?.address() ?? udp!.address()) as net.AddressInfo;
  const address: BoundAddress = { host: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
  log.info({ event: 'listen', transports: [wantTcp && 'tcp', wantUdp && 'udp'].filter(Boolean), local: `${a.address}:${a.port}`, port: labelPort(a.port) }, 'echo listening');

  const grace = opts.closeGraceMs ?? 1_000;
  const closer = onceClose(async () => {
    const waits: Promise<unknown>[] = [];
    if (tcp) waits.push(new Promise((r) => tcp!.close(r)));
    if (udp) waits.push(new Promise<void>((r) => udp!.close(() => r())));
    // Graceful: half-close each connection so the client reads its last echo, then destroy stragglers.
    for (const s of sockets) s.end();
    const timer = setTimeout(() => {
      for (const s of sockets) s.destroy();
    }, grace);
    await Promise.all(waits);
    clearTimeout(timer);
    log.info({ event: 'close' }, 'echo closed');
  }, opts.signal);

  return {
    address,
    ...closer,
    connections: () =>
      [...sockets].map((s) => ({
        remote: { address: normalizeAddress(s.remoteAddress ?? ''), port: s.remotePort ?? 0 },
        bytesRead: s.bytesRead,
        bytesWritten: s.bytesWritten,
        writableLength: s.writableLength,
      })),
  };
}

function createTcp(log: Logger, sockets: Set<net.Socket>, idleMs: number, maxConnections: number | undefined, closeDelayMs: number): net.Server {
  const idle = idleMs > 0 ? idleSweeper(idleMs) : undefined;
  // allowHalfOpen: with a close delay the kernel must not answer the client's FIN with ours at once.
  const server = net.createServer({ noDelay: true, allowHalfOpen: closeDelayMs > 0 }, (socket) => {
    const client = { address: normalizeAddress(socket.remoteAddress ?? '?'), port: socket.remotePort ?? 0 };
    const local = { address: normalizeAddress(socket.localAddress ?? '?'), port: socket.localPort ?? 0 };
    const ev = netEvent('tcp.accept', 'tcp', client, local);
    const clog = log.child({ pair: ev.pair });
    clog.info({ ...ev, clientPort: labelPort(client.port), serverPort: labelPort(local.port) }, 'connection accepted');
    sockets.add(socket);
    // pipe() is the backpressure: it stops reading from a client that does not read its echo.
    if (closeDelayMs > 0) {
      socket.pipe(socket, { end: false });
      socket.once('end', () => {
        clog.info({ ...netEvent('tcp.half-close', 'tcp', client, local, 'in'), closeDelayMs }, 'client sent FIN; our FIN follows after the delay (CLOSE-WAIT meanwhile)');
        const t = setTimeout(() => socket.end(), closeDelayMs);
        socket.once('close', () => clearTimeout(t));
      });
    } else {
      socket.pipe(socket);
    }
    if (idleMs > 0) {
      idle!.watch(socket, () => {
        clog.info({ ...netEvent('tcp.idle', 'tcp', client, local), idleMs }, 'idle timeout, closing');
        socket.destroy();
      });
    }
    socket.on('error', (err) => clog.warn({ err: err.message, code: (err as NodeJS.ErrnoException).code }, 'connection error'));
    socket.on('close', () => {
      sockets.delete(socket);
      clog.info({ ...netEvent('tcp.close', 'tcp', client, local, 'in'), bytesRead: socket.bytesRead, bytesWritten: socket.bytesWritten }, 'connection closed');
    });
  });
  server.once('close', () => idle?.stop());
  if (maxConnections !== undefined) server.maxConnections = maxConnections;
  server.on('drop', (d) => {
    if (!d) return;
    const client = { address: normalizeAddress(d.remoteAddress ?? '?'), port: d.remotePort ?? 0 };
    const local = { address: normalizeAddress(d.localAddress ?? '?'), port: d.localPort ?? 0 };
    log.warn({ ...netEvent('tcp.drop', 'tcp', client, local), maxConnections }, 'connection cap reached, connection dropped');
  });
  return server;
}

/**
 * Closes connections without traffic either way for `idleMs`. One sweep for all connections, every
 * quarter of the idle time (at most 1 s), comparing byte counters: socket.setTimeout re-arms a
 * timer on every read and every write, a cost on each echoed chunk, and holds a timer per socket.
 * A connection is closed between idleMs and idleMs + one sweep after its last byte.
 */
function idleSweeper(idleMs: number): { watch(s: net.Socket, onIdle: () => void): void; stop(): void } {
  const step = Math.max(10, Math.min(1000, Math.floor(idleMs / 4)));
  const watched = new Map<net.Socket, { bytes: number; since: number; onIdle: () => void }>();
  let timer: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    const now = performance.now();
    for (const [s, w] of watched) {
      const bytes = s.bytesRead + s.bytesWritten;
      if (bytes !== w.bytes) {
        w.bytes = bytes;
        w.since = now;
      } else if (now - w.since >= idleMs) {
        watched.delete(s);
        w.onIdle();
      }
    }
    if (watched.size === 0) stop();
  };
  const stop = (): void => {
    clearInterval(timer);
    timer = undefined;
  };
  return {
    watch(s, onIdle) {
      watched.set(s, { bytes: s.bytesRead + s.bytesWritten, since: performance.now(), onIdle });
      s.once('close', () => watched.delete(s));
      if (!timer) {
        timer = setInterval(sweep, step);
        timer.unref();
      }
    },
    stop,
  };
}

function createUdp(host: string, log: Logger): dgram.Socket {
  const sock = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
  // the bound address, read once: socket.address() is a system call (getsockname) per datagram
  let bound: Endpoint | undefined;
  sock.on('message', (msg, rinfo) => {
    const local = (bound ??= (({ address, port }) => ({ address, port }))(sock.address()));
    const client = { address: normalizeAddress(rinfo.address), port: rinfo.port };
    log.info({ ...netEvent('udp.datagram', 'udp', client, local), bytes: msg.length, clientPort: labelPort(client.port) }, 'datagram echoed');
    sock.send(msg, rinfo.port, rinfo.address, (err) => {
      if (err) log.warn({ err: err.message, pair: netEvent('udp.datagram', 'udp', client, local).pair }, 'echo send failed');
    });
  });
  return sock;
}

async function listenTcp(server: net.Server, host: string, port: number): Promise<number> {
  await awaitListening(server, () => server.listen({ host, port, exclusive: true }));
  return (server.address() as net.AddressInfo).port;
}

function bindUdp(sock: dgram.Socket, host: string, port: number): Promise<void> {
  return awaitListening(sock, () => sock.bind({ address: host, port, exclusive: true }));
}
