import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import { isIPv4 } from 'node:net';
import os from 'node:os';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { netEvent } from '../events.js';
import { LabError } from '../errors.js';
import { awaitListening, onceClose, type Listener, type BoundAddress } from '../listener.js';
import { bindError } from '../bind-errors.js';
import { MAX_TIMEOUT_MS } from '../core/timers.js';
import type { Endpoint } from '../socket-pair.js';
import {
  BOOTREQUEST,
  BROADCAST_FLAG,
  CLIENT_PORT,
  MessageType,
  SERVER_PORT,
  circuitIdOf,
  decode,
  encode,
  messageType,
  messageTypeName,
  replyTo,
  type DhcpMessage,
} from './codec.js';
import { leaseStateName, type LeasePolicy, type LeaseRecord, type Scope } from './policy.js';
import type { LeaseStore } from './lease-store.js';

/**
 * Receive (and send) buffer asked for each socket. The kernel caps it at net.core.rmem_max and
 * doubles it for its own bookkeeping; a queued datagram costs its whole buffer (truesize, ~1-2 KB
 * for a 300-octet DHCP message), so 1 MiB held only ~40 ms of a 12,000/s DORA load (24,000
 * datagrams/s): measured with perfdhcp, a group commit's slow fsync or a GC pause then overflowed
 * it (RcvbufErrors, 344 requests lost at 12,000/s); at 4 MiB none were lost up to 18,000/s.
 */
const RECV_BUFFER = 4 * 1024 * 1024;

export interface DhcpServerOptions {
  /** The interface whose subnet direct (non-relayed) requests belong to, e.g. `eth0`. */
  interface: string;
  /** Its IPv4 address; default: read from the interface. */
  interfaceAddress?: string;
  policy: LeasePolicy;
  /** Durable lease file; without it leases live only in memory. */
  store?: LeaseStore;
  log?: Logger;
  /** Default 67 (and replies to 68); tests may use others. */
  port?: number;
  clientPort?: number;
  /** How often expired leases are swept (ms). Default 1000. */
  sweepMs?: number;
  signal?: AbortSignal;
}

export interface DhcpServer extends Listener<BoundAddress> {
  readonly interfaceAddress: string;
}

/** First IPv4 address of an interface, or a LabError saying what exists. */
export function interfaceAddress(name: string): string {
  const all = os.networkInterfaces();
  const v4 = (all[name] ?? []).find((a) => a.family === 'IPv4');
  if (!v4) {
    const names = Object.keys(all).join(', ') || 'none';
    throw new LabError('LAB_ERR_DHCP', `interface ${name} has no IPv4 address here (interfaces: ${names}); give it one with "ip addr add" or pick another with --interface`);
  }
  return v4.address;
}

function fields(m: DhcpMessage): Record<string, unknown> {
  return { type: messageTypeName(messageType(m)), xid: m.xid, chaddr: m.chaddr, ciaddr: m.ciaddr, yiaddr: m.yiaddr, giaddr: m.giaddr };
}

/**
 * A DHCP server: one socket on 0.0.0.0:67 receives broadcasts, one on the interface's address:67
 * receives unicasts (renewals, relays) and sends every reply, so that 255.255.255.255 leaves through
 * that interface (the kernel picks the device from the source address). Codec and lease decisions
 * live in codec.ts and policy.ts; this file only moves datagrams and orders "durable, then ACK".
 */
export async function startDhcpServer(opts: DhcpServerOptions): Promise<DhcpServer> {
  const log = opts.log ?? silentLogger();
  const port = opts.port ?? SERVER_PORT;
  const clientPort = opts.clientPort ?? CLIENT_PORT;
  const sweepMs = opts.sweepMs ?? 1000;
  if (!Number.isFinite(sweepMs) || sweepMs < 1 || sweepMs > MAX_TIMEOUT_MS) throw new LabError('LAB_ERR_INVALID_ARGUMENT', `sweepMs must be 1..${MAX_TIMEOUT_MS} ms (what setInterval can hold), got ${sweepMs}`);
  const ifaddr = opts.interfaceAddress ?? interfaceAddress(opts.interface);
  const local: Endpoint = { address: ifaddr, port };
  const directScope = opts.policy.scopeFor(ifaddr);
  if (!directScope) log.warn({ interface: opts.interface, address: ifaddr }, 'no --subnet contains the interface address; only relayed requests will be served');

  // Large receive buffers: bursts (many clients booting at once, perfdhcp) otherwise overflow the
  // default ~200 KB and the kernel drops requests (RcvbufErrors) while the event loop is busy.
  const { rx, tx } = await bindBroadcastPair(port, ifaddr, RECV_BUFFER);

  const send = (reply: DhcpMessage, to: Endpoint, client: Endpoint): void => {
    let buf: Buffer;
    try {
      buf = encode(reply);
    } catch (err) {
      log.error({ err: (err as Error).message, ...fields(reply) }, 'reply could not be encoded; dropped');
      return;
    }
    tx.send(buf, to.port, to.address, (err) => {
      if (err) log.warn({ ...netEvent('dhcp.out', 'udp', client, local, 'out'), to: `${to.address}:${to.port}`, err: err.message }, 'send failed');
    });
    // The record objects cost more than the send itself: build them only when they are written.
    if (log.isLevelEnabled('info')) log.info({ ...netEvent('dhcp.out', 'udp', to, local, 'out'), ...fields(reply) }, `${messageTypeName(messageType(reply))} sent`);
  };

  const onMessage = (buf: Buffer, rinfo: dgram.RemoteInfo): void => {
    const peer: Endpoint = { address: rinfo.address, port: rinfo.port };
    let msg: DhcpMessage;
    try {
      msg = decode(buf);
    } catch (err) {
      log.warn({ ...netEvent('udp.datagram', 'udp', peer, local, 'in'), size: buf.length, err: (err as Error).message }, 'malformed datagram dropped');
      return;
    }
    if (msg.op !== BOOTREQUEST || messageType(msg) === undefined) {
      log.debug({ ...netEvent('dhcp.in', 'udp', peer, local, 'in'), ...fields(msg) }, 'not a DHCP request; dropped');
      return;
    }
    if (log.isLevelEnabled('info')) {
      const circuit = circuitIdOf(msg.options[82]);
      log.info({ ...netEvent('dhcp.in', 'udp', peer, local, 'in'), ...fields(msg), ...(circuit ? { circuitId: circuit } : {}) }, `${messageTypeName(messageType(msg))} received`);
    }
    // RFC 2131 4.3.1/4.3.2: a relayed request belongs to giaddr's subnet; a client that already has
    // an address (RENEWING, INFORM: ciaddr set, maybe from beyond a router) to ciaddr's; the rest to
    // the subnet of the interface the broadcast came in on.
    const scope: Scope | undefined =
      msg.giaddr !== '0.0.0.0' ? opts.policy.scopeFor(msg.giaddr) : msg.ciaddr !== '0.0.0.0' ? (opts.policy.scopeFor(msg.ciaddr) ?? directScope) : directScope;
    if (!scope) {
      log.warn({ xid: msg.xid, chaddr: msg.chaddr, giaddr: msg.giaddr }, 'no scope for this request (giaddr/interface subnet); dropped');
      return;
    }
    let d;
    try {
      d = opts.policy.handle(msg, scope);
    } catch (err) {
      log.error({ xid: msg.xid, err: (err as Error).message }, 'request could not be handled; dropped');
      return;
    }
    if (d.warn) log.warn({ xid: msg.xid, chaddr: msg.chaddr, scope: scope.subnet.text }, d.note);
    else if (log.isLevelEnabled('debug')) log.debug({ xid: msg.xid, chaddr: msg.chaddr, scope: scope.subnet.text }, d.note);
    const respond = (): void => {
      try {
        if (log.isLevelEnabled('info')) for (const c of d.changes) logLease(log, c);
        if (!d.reply) return;
        const reply = replyTo(msg, d.reply.type);
        reply.yiaddr = d.reply.yiaddr;
        if (d.reply.ciaddr) reply.ciaddr = d.reply.ciaddr;
        Object.assign(reply.options, d.reply.options);
        send(reply, destination(msg, reply, port, clientPort), peer);
      } catch (err) {
        // e.g. the socket closed while the lease was being written: never an unhandled rejection
        log.warn({ xid: msg.xid, err: (err as Error).message }, 'reply not sent');
      }
    };
    if (d.changes.length === 0 || !opts.store) return respond();
    // Durable first: the ACK leaves only after its lease row is fsync'ed (grouped with others).
    opts.store.append(d.changes).then(respond, (err: Error) => {
      log.error({ xid: msg.xid, err: err.message, file: opts.store!.file }, 'lease not written; no reply sent');
    });
  };

  opts.store?.setSnapshotSource(() => opts.policy.snapshot());
  rx.on('message', onMessage);
  tx.on('message', onMessage);
  const onError = (err: Error): void => log.warn({ err: err.message }, 'socket error');
  rx.on('error', onError);
  tx.on('error', onError);

  const sweeper = setInterval(() => {
    const expired = opts.policy.sweep();
    if (expired.length === 0) return;
    const done = (): void => expired.forEach((c) => logLease(log, c));
    if (opts.store) opts.store.append(expired).then(done, (err: Error) => log.error({ err: err.message }, 'expired leases not written'));
    else done();
  }, sweepMs);
  sweeper.unref();

  const closers = onceClose(async () => {
    clearInterval(sweeper);
    await Promise.all([rx, tx].map((s) => new Promise<void>((r) => s.close(() => r()))));
    await opts.store?.close();
  }, opts.signal);
  return { address: { host: '0.0.0.0', port, family: 'IPv4' }, interfaceAddress: ifaddr, ...closers };
}

/**
 * RFC 2131 section 4.1, where a reply goes: giaddr set -> the relay's port 67; NAK -> broadcast;
 * ciaddr set -> unicast to ciaddr:68; otherwise broadcast. (A user-space server cannot unicast to a
 * client that has no address yet: that needs an ARP entry only raw sockets can add, and the RFC
 * allows broadcasting instead.)
 */
export function destination(req: DhcpMessage, reply: DhcpMessage, serverPort = SERVER_PORT, clientPort = CLIENT_PORT): Endpoint {
  const nak = messageType(reply) === MessageType.NAK;
  if (req.giaddr !== '0.0.0.0') {
    if (nak) reply.flags |= BROADCAST_FLAG;
    return { address: req.giaddr, port: serverPort };
  }
  if (nak) return { address: '255.255.255.255', port: clientPort };
  if (req.ciaddr !== '0.0.0.0') return { address: req.ciaddr, port: clientPort };
  return { address: '255.255.255.255', port: clientPort };
}

function logLease(log: Logger, c: LeaseRecord): void {
  log.info(
    { event: 'dhcp.lease', address: c.address, hwaddr: c.hwaddr, clientId: c.clientId || undefined, state: leaseStateName[c.state], expire: c.expire, subnetId: c.subnetId, hostname: c.hostname || undefined },
    `lease ${c.address} ${leaseStateName[c.state]}`,
  );
}

/**
 * The two sockets a DHCP server or relay needs on one port: `rx` on 0.0.0.0 receives broadcasts,
 * `tx` on the interface address receives unicasts and sends every reply (a 0.0.0.0-bound socket
 * cannot send to 255.255.255.255: "network unreachable").
 */
export async function bindBroadcastPair(port: number, ifaddr: string, bufferSize?: number): Promise<{ rx: dgram.Socket; tx: dgram.Socket }> {
  await assertUdpPortFree(port);
  const sizes = bufferSize ? { recvBufferSize: bufferSize, sendBufferSize: bufferSize } : {};
  const rx = dgram.createSocket({ type: 'udp4', reuseAddr: true, lookup: literalLookup, ...sizes });
  const tx = dgram.createSocket({ type: 'udp4', reuseAddr: true, lookup: literalLookup, ...sizes });
  await bindUdp(rx, port, '0.0.0.0');
  try {
    await bindUdp(tx, port, ifaddr);
  } catch (err) {
    rx.close();
    throw err;
  }
  rx.setBroadcast(true);
  tx.setBroadcast(true);
  return { rx, tx };
}

/**
 * Every address a DHCP server or relay sends to is an IPv4 literal (giaddr, ciaddr, broadcast):
 * answer at once instead of through dns.lookup, which defers each send by a tick.
 */
function literalLookup(address: string, family: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  if (isIPv4(address)) return cb(null, address, 4);
  dns.lookup(address, 4, cb);
}

/**
 * Refuses a port some socket in this network namespace already holds. The pair above needs
 * SO_REUSEADDR, with which the kernel lets a second server bind the same port without an error:
 * two servers with separate lease state would answer the same broadcasts (one address, two
 * clients), and the second one's start-up compaction would replace the first one's lease file
 * under its open descriptor (its later ACKed leases lost at restart). /proc/net/udp{,6} list
 * this namespace's sockets only.
 */
export async function assertUdpPortFree(port: number): Promise<void> {
  if (port === 0) return;
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6, or no /proc: the bind itself still reports what it can
    }
    if (text.split('\n').slice(1).some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex))) {
      const err = Object.assign(new Error(`udp port ${port} is already bound in this network namespace`), { code: 'EADDRINUSE' });
      throw await bindError(err, '0.0.0.0', port, 'udp');
    }
  }
}

/** Binds a UDP socket; a failure becomes the shared LabError (port in use and by whom, privileged port, bad address). */
export async function bindUdp(sock: dgram.Socket, port: number, address: string): Promise<void> {
  try {
    await awaitListening(sock, () => sock.bind(port, address));
  } catch (err) {
    throw await bindError(err, address, port, 'udp');
  }
}
