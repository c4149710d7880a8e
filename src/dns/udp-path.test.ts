import { EventEmitter } from 'node:events';
import type dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { MAX_HELD_TURNS, READS_PER_TURN, serveUdp } from './udp-path.js';
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

  it('holds the answers of full turns (more datagrams waiting) until a turn reads fewer, or for MAX_HELD_TURNS turns', async () => {
    const { udp, sent } = fakeUdp();
    const handler: QueryHandler = { cached: (buf) => Buffer.from(buf), fresh: () => [] };
    serveUdp(udp, handler, pino({ level: 'silent' }), { address: '127.0.0.1', port: 53 });
    let id = 0;
    const turn = async (datagrams: number): Promise<void> => {
      for (let i = 0; i < datagrams; i++, id++) udp.emit('message', Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), { address: '127.0.0.1', port: 40000 + (id % 100) });
      await new Promise((r) => setImmediate(r));
    };
    const ids = (): number[] => sent.map(([i]) => i);
    const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

    // a full turn: its answers wait; the next turn reads fewer (the queue is drained): all go, in order
    await turn(READS_PER_TURN);
    expect(sent).toEqual([]);
    await turn(5);
    expect(ids()).toEqual(upTo(READS_PER_TURN + 5));

    // full turn after full turn: held no longer than MAX_HELD_TURNS turns
    sent.length = 0;
    id = 0;
    for (let t = 1; t < MAX_HELD_TURNS; t++) {
      await turn(READS_PER_TURN);
      expect(sent).toEqual([]);
    }
    await turn(READS_PER_TURN);
    expect(ids()).toEqual(upTo(MAX_HELD_TURNS * READS_PER_TURN));

    // a full turn with nothing after it: out at the end of the next (empty) turn
    sent.length = 0;
    id = 0;
    await turn(READS_PER_TURN);
    await turn(0);
    expect(ids()).toEqual(upTo(READS_PER_TURN));
  });
});
