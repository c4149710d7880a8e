/** DNS over UDP: each datagram is one query, answered from the cache or afresh. */
import type dgram from 'node:dgram';
import type { Logger } from '../log.js';
import { netEvent } from '../events.js';
import type { Endpoint } from '../socket-pair.js';
import type { QueryHandler } from './query-handler.js';

/** Answers every datagram `udp` receives; returns a flush for answers still queued (on close). */
export function serveUdp(udp: dgram.Socket, handler: QueryHandler, log: Logger, server: Endpoint): () => void {
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
      const hit = handler.cached(buf, 'udp', client);
      if (hit) {
        sendUdp(hit, rinfo.port, rinfo.address);
        return;
      }
      for (const r of handler.fresh(buf, 'udp', { address: rinfo.address, port: rinfo.port })) sendUdp(r, rinfo.port, rinfo.address);
    } catch (err) {
      log.error({ ...netEvent('dns.query', 'udp', client, server), err }, 'handler error; datagram dropped');
    }
  });
  udp.on('error', (err) => log.error({ err }, 'udp socket error'));
  return flushUdp;
}
