import dgram from 'node:dgram';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { netEvent } from '../events.js';
import { onceClose, type Listener, type BoundAddress } from '../listener.js';
import type { Endpoint } from '../socket-pair.js';
import { BOOTREPLY, BOOTREQUEST, BROADCAST_FLAG, CLIENT_PORT, SERVER_PORT, decode, messageType, messageTypeName, relayForward, relayReply, type DhcpMessage } from './codec.js';
import { bindBroadcastPair, interfaceAddress } from './server.js';

export interface DhcpRelayOptions {
  /** Client-side interface: giaddr is its address and option 82's circuit id is its name. */
  interface: string;
  interfaceAddress?: string;
  /** The DHCP server's address (unicast, port 67). */
  server: string;
  log?: Logger;
  port?: number;
  serverPort?: number;
  clientPort?: number;
  signal?: AbortSignal;
}

function fields(m: DhcpMessage): Record<string, unknown> {
  return { type: messageTypeName(messageType(m)), xid: m.xid, chaddr: m.chaddr, ciaddr: m.ciaddr, yiaddr: m.yiaddr, giaddr: m.giaddr };
}

/**
 * A DHCP relay agent (RFC 1542 section 4, RFC 3046): client broadcasts heard on port 67 go to the
 * server with giaddr = our address on the client side and option 82; the server's replies to
 * giaddr:67 go back to the client subnet without option 82.
 * Node cannot tell which interface a broadcast came in on, so the relay's host should have DHCP
 * clients only on --interface (true in lab topologies: the other side holds the server).
 */
export async function startDhcpRelay(opts: DhcpRelayOptions): Promise<Listener<BoundAddress> & { interfaceAddress: string }> {
  const log = opts.log ?? silentLogger();
  const port = opts.port ?? SERVER_PORT;
  const serverPort = opts.serverPort ?? SERVER_PORT;
  const clientPort = opts.clientPort ?? CLIENT_PORT;
  const ifaddr = opts.interfaceAddress ?? interfaceAddress(opts.interface);
  const local: Endpoint = { address: ifaddr, port };
  const server: Endpoint = { address: opts.server, port: serverPort };
  const { rx, tx } = await bindBroadcastPair(port, ifaddr);

  const onMessage = (buf: Buffer, rinfo: dgram.RemoteInfo): void => {
    const peer: Endpoint = { address: rinfo.address, port: rinfo.port };
    const op = buf[0];
    if (op === BOOTREQUEST) {
      const out = relayForward(buf, ifaddr, opts.interface);
      if (!out) {
        log.warn({ ...netEvent('udp.datagram', 'udp', peer, local, 'in'), size: buf.length }, 'request not relayed (malformed, too many hops or untrusted option 82)');
        return;
      }
      const msg = decode(out);
      tx.send(out, server.port, server.address, (err) => err && log.warn({ err: err.message, to: opts.server }, 'forward failed'));
      log.info({ ...netEvent('dhcp.relay', 'udp', peer, server, 'in'), ...fields(msg), circuitId: opts.interface }, `${messageTypeName(messageType(msg))} relayed to server`);
    } else if (op === BOOTREPLY) {
      const r = relayReply(buf);
      if (!r || r.msg.giaddr !== ifaddr) {
        log.warn({ ...netEvent('udp.datagram', 'udp', peer, local, 'in'), size: buf.length }, 'reply not relayed (malformed or not for our giaddr)');
        return;
      }
      // RFC 1542 4.1.2: ciaddr -> unicast; else broadcast (unicast to yiaddr needs an ARP entry).
      const to: Endpoint =
        r.msg.ciaddr !== '0.0.0.0' && !(r.msg.flags & BROADCAST_FLAG) ? { address: r.msg.ciaddr, port: clientPort } : { address: '255.255.255.255', port: clientPort };
      tx.send(r.buf, to.port, to.address, (err) => err && log.warn({ err: err.message, to: to.address }, 'reply forward failed'));
      log.info({ ...netEvent('dhcp.relay', 'udp', to, peer, 'out'), ...fields(r.msg) }, `${messageTypeName(messageType(r.msg))} relayed to client`);
    } else {
      log.warn({ ...netEvent('udp.datagram', 'udp', peer, local, 'in'), size: buf.length }, 'not BOOTP; dropped');
    }
  };
  const safe = (buf: Buffer, rinfo: dgram.RemoteInfo): void => {
    try {
      onMessage(buf, rinfo);
    } catch (err) {
      log.warn({ err: (err as Error).message, from: rinfo.address }, 'datagram dropped');
    }
  };
  rx.on('message', safe);
  tx.on('message', safe);
  rx.on('error', (err) => log.warn({ err: err.message }, 'socket error'));
  tx.on('error', (err) => log.warn({ err: err.message }, 'socket error'));
  const closers = onceClose(async () => {
    await Promise.all([rx, tx].map((s) => new Promise<void>((r) => s.close(() => r()))));
  }, opts.signal);
  return { address: { host: ifaddr, port, family: 'IPv4' }, interfaceAddress: ifaddr, ...closers };
}
