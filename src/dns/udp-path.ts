/** DNS over UDP: each datagram is one query, answered from the cache or afresh. */
import type dgram from 'node:dgram';
import type { Logger } from '../log.js';
import { netEvent } from '../events.js';
import type { Endpoint } from '../socket-pair.js';
import type { QueryHandler } from './query-handler.js';

/**
 * Answers every datagram `udp` receives. Each answer is sent at once: node tries a send
 * synchronously (uv_udp_try_send, one sendmsg), so queueing answers to the end of the loop turn
 * saved no system call and cost a queue and an Immediate per turn.
 */
export function serveUdp(udp: dgram.Socket, handler: QueryHandler, log: Logger, server: Endpoint): void {
  udp.on('message', (buf, rinfo) => {
    const client = rinfo as unknown as Endpoint; // rinfo carries address and port already
    try {
      if (handler.sendCached(udp, buf, client)) return;
      for (const r of handler.fresh(buf, 'udp', { address: rinfo.address, port: rinfo.port })) udp.send(r, rinfo.port, rinfo.address);
    } catch (err) {
      log.error({ ...netEvent('dns.query', 'udp', client, server), err }, 'handler error; datagram dropped');
    }
  });
  udp.on('error', (err) => log.error({ err }, 'udp socket error'));
}
