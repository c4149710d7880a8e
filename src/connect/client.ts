import net from 'node:net';
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { silentLogger } from '../log.js';
import { LabError } from '../errors.js';
import { netEvent } from '../events.js';
import { formatPair, normalizeAddress, type Endpoint } from '../socket-pair.js';

export interface ConnectOptions {
  host: string;
  port: number;
  count?: number;
  udp?: boolean;
  /** UDP only: connect() each socket to the server, so the kernel fixes its peer (ss shows ESTAB). */
  connected?: boolean;
  message?: string;
  /** Bind the first conversation's source port to this; the next ones to +1, +2 ... */
  sourcePort?: number;
  /** Per-step timeout (connect, echo), ms. */
  timeoutMs?: number;
  log?: Logger;
}

/** One conversation: a TCP connection, or a UDP socket's request/reply. */
export interface Conversation {
  index: number;
  local: Endpoint;
  remote: Endpoint;
  pair: string;
  sent: number;
  echoed: boolean;
  reply?: string;
  error?: string;
}

export interface OpenConversations {
  transport: 'tcp' | 'udp';
  conversations: Conversation[];
  /** Closes every socket the client opened (TCP: FIN, so the client side enters TIME-WAIT). */
  close(): Promise<void>;
}

/**
 * Opens `count` conversations to one server, all at once, so their socket pairs coexist in the
 * kernel's table; each sends the message and waits for its echo. Sockets stay open until close().
 */
export async function openConversations(opts: ConnectOptions): Promise<OpenConversations> {
  const count = opts.count ?? 1;
  const log = opts.log ?? silentLogger();
  const message = opts.message ?? 'hello from socketlab';
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const sourcePort = opts.sourcePort === undefined ? undefined : opts.sourcePort + i;
      return opts.udp
        ? udpConversation(i, opts.host, opts.port, message, sourcePort, timeoutMs, log, opts.connected ?? false)
        : tcpConversation(i, opts.host, opts.port, message, sourcePort, timeoutMs, log);
    }),
  );
  return {
    transport: opts.udp ? 'udp' : 'tcp',
    conversations: results.map((r) => r.conversation),
    close: async () => {
      await Promise.all(results.map((r) => r.close()));
    },
  };
}

interface Opened {
  conversation: Conversation;
  close(): Promise<void>;
}

function conversation(index: number, local: Endpoint, remote: Endpoint, message: string, echoed: boolean, reply: string, error?: string): Conversation {
  const c: Conversation = { index, local, remote, pair: formatPair(local, remote), sent: Buffer.byteLength(message), echoed, reply };
  if (error) c.error = error;
  return c;
}

function tcpConversation(index: number, host: string, port: number, message: string, localPort: number | undefined, timeoutMs: number, log: Logger): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, localPort, noDelay: true });
    const remote = { address: host, port };
    let local: Endpoint = { address: '?', port: 0 };
    let reply = '';
    let settled = false;
    const close = (): Promise<void> =>
      new Promise((r) => {
        if (socket.destroyed) return r();
        socket.once('close', () => r());
        socket.end();
        setTimeout(() => socket.destroy(), 1_000).unref();
      });
    const finish = (echoed: boolean, error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ conversation: conversation(index, local, remote, message, echoed, reply, error), close });
    };
    const timer = setTimeout(() => finish(false, `no echo within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => {
      local = { address: normalizeAddress(socket.localAddress ?? '?'), port: socket.localPort ?? 0 };
      Object.assign(remote, { address: normalizeAddress(socket.remoteAddress ?? host) });
      log.info({ ...netEvent('tcp.connect', 'tcp', local, remote, 'out'), index }, 'connected');
      socket.write(message);
    });
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (Buffer.byteLength(reply) >= Buffer.byteLength(message)) finish(reply === message);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!settled && local.port === 0) {
        clearTimeout(timer);
        settled = true;
        reject(connectError(err, host, port, localPort));
        return;
      }
      finish(false, err.message);
    });
  });
}

function udpConversation(index: number, host: string, port: number, message: string, localPort: number | undefined, timeoutMs: number, log: Logger, connected: boolean): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const remote = { address: host, port };
    let local: Endpoint = { address: '?', port: 0 };
    let settled = false;
    const close = (): Promise<void> => new Promise((r) => socket.close(() => r()));
    const finish = (echoed: boolean, reply: string, error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ conversation: conversation(index, local, remote, message, echoed, reply, error), close });
    };
    const timer = setTimeout(() => finish(false, '', `no reply within ${timeoutMs} ms (UDP has no connection: a lost datagram is simply gone)`), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (local.port === 0 && !settled) {
        settled = true;
        clearTimeout(timer);
        socket.close();
        reject(connectError(err, host, port, localPort));
        return;
      }
      finish(false, '', err.message);
    });
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== port) return;
      finish(msg.toString() === message, msg.toString());
    });
    // Bind explicitly so the source port is known before the datagram leaves (no handshake to wait for).
    // Unconnected by default, as servers and most clients use UDP. With `connected`, connect() only
    // records the peer in the kernel (no packet is sent): ss then shows the socket as ESTAB.
    socket.bind({ port: localPort ?? 0, address: udpBindAddress(host) }, () => {
      const a = socket.address();
      local = { address: a.address, port: a.port };
      const send = (): void => {
        log.info({ ...netEvent('udp.send', 'udp', local, remote, 'out'), index, connected }, 'datagram sent');
        if (connected) socket.send(message);
        else socket.send(message, port, host);
      };
      if (connected) socket.connect(port, host, send);
      else send();
    });
  });
}

/** Loopback traffic leaves from 127.0.0.1 / ::1; bind there so the socket shows its real address. */
function udpBindAddress(host: string): string {
  if (host.startsWith('127.')) return '127.0.0.1';
  if (host === '::1') return '::1';
  return net.isIPv6(host) ? '::' : '0.0.0.0';
}

function connectError(err: NodeJS.ErrnoException, host: string, port: number, localPort?: number): LabError {
  const target = `${host}:${port}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return new LabError('LAB_ERR_CONNECT', `connection to ${target} refused: nothing is listening there. Start a server first, e.g. "socketlab echo --port ${port}".`, { host, port });
    case 'EADDRINUSE':
      return new LabError('LAB_ERR_CONNECT', `source port ${localPort} is already in use: a socket pair must be unique, pick another --source-port or let the kernel choose.`, { host, port, localPort });
    case 'EADDRNOTAVAIL':
      return new LabError('LAB_ERR_CONNECT', `cannot connect to ${target}: no free source port or address (EADDRNOTAVAIL) — the ephemeral range is exhausted or the address is not reachable.`, { host, port });
    case 'EACCES':
      return new LabError('LAB_ERR_CONNECT', `source port ${localPort} is a well-known port: binding it needs root or CAP_NET_BIND_SERVICE.`, { host, port, localPort });
    default:
      return new LabError('LAB_ERR_CONNECT', `cannot connect to ${target}: ${err.message}`, { host, port });
  }
}
