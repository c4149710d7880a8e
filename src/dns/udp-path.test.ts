import { EventEmitter } from 'node:events';
import type dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { serveUdp } from './udp-path.js';
import type { QueryHandler } from './query-handler.js';

/** A socket stand-in: 'message' in, send() recorded; send() refuses port 0 as node:dgram does. */
function fakeUdp(): { udp: dgram.Socket; sent: [number, number][] } {
  const sent: [number, number][] = [];
  const udp = Object.assign(new EventEmitter(), {
    send(buf: Buffer, port: number) {
      if (port === 0) throw Object.assign(new RangeError('Port should be > 0 and < 65536. Received 0.'), { code: 'ERR_SOCKET_BAD_PORT' });
      sent.push([buf.readUInt16BE(0), port]);
    },
  });
  return { udp: udp as unknown as dgram.Socket, sent };
}

describe('serveUdp', () => {
  it('sends the answers of one turn together at its end, in order; one that cannot be sent costs only itself', async () => {
    const { udp, sent } = fakeUdp();
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (c: Buffer, _e, cb) => (warnings.push(c.toString()), cb()) }));
    // every query answered with its own ID (what the cache and the policy do)
    const handler: QueryHandler = { cached: (buf) => Buffer.from(buf), fresh: () => [] };
    serveUdp(udp, handler, log, { address: '127.0.0.1', port: 53 });
    const query = (id: number): Buffer => Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    udp.emit('message', query(1), { address: '127.0.0.1', port: 40001 });
    udp.emit('message', query(2), { address: '127.0.0.1', port: 0 }); // a crafted datagram from port 0
    udp.emit('message', query(3), { address: '127.0.0.1', port: 40003 });
    expect(sent).toEqual([]); // nothing yet: the turn is not over
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([
      [1, 40001],
      [3, 40003],
    ]);
    expect(warnings.join('')).toMatch(/1 answer\(s\) not sent/);
  });
});
