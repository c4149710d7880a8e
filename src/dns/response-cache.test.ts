import { describe, expect, it } from 'vitest';
import { ResponseCache, withQueryId } from './response-cache.js';

const query = (id: number) => Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1]);
const answerBytes = () => Buffer.from([0, 0, 0x85, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1]);
const meta = { qname: 'a', qtype: 'A', rcode: 'NOERROR', tc: false };

describe('response cache', () => {
  it('keeps its own copy: the answer handed in (about to be sent) is never patched later', () => {
    const cache = new ResponseCache(10, 1 << 20);
    const first = answerBytes();
    cache.set(query(1), { buf: first, ...meta });
    withQueryId(cache.get(query(0xabcd))!, query(0xabcd));
    expect(first.readUInt16BE(0)).toBe(0);
  });

  it('finds an answer whatever the query ID, and hands out a copy with that ID', () => {
    const cache = new ResponseCache(10, 1 << 20);
    cache.set(query(1), { buf: answerBytes(), ...meta });
    // answers of one event-loop turn wait together (udp-path.ts): each must keep its own ID
    const sent = [0x1234, 0x5678].map((id) => withQueryId(cache.get(query(id))!, query(id)));
    expect(sent.map((b) => b.readUInt16BE(0))).toEqual([0x1234, 0x5678]);
    expect(sent[0]).not.toBe(sent[1]);
    expect(cache.get(query(9))!.buf.readUInt16BE(0)).toBe(0); // the cached bytes are untouched
  });

  it('charges an entry for the log record pieces kept with it: long names fill the octet cap sooner', () => {
    const q = (letter: number) => Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, letter, 0, 0, 1, 0, 1]);
    const long = { ...meta, qname: 'x'.repeat(250) }; // about 1.2 KB of record pieces once logged
    const cache = new ResponseCache(1000, 4096);
    for (let i = 0; i < 4; i++) cache.set(q(0x61 + i), { buf: answerBytes(), ...long });
    // three fit in 4 KiB; the fourth started the cache over
    expect(cache.get(q(0x61))).toBeUndefined();
    expect(cache.get(q(0x64))).toBeDefined();
    const short = new ResponseCache(1000, 4096);
    for (let i = 0; i < 4; i++) short.set(q(0x61 + i), { buf: answerBytes(), ...meta });
    expect(short.get(q(0x61))).toBeDefined();
  });
});
