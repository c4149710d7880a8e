// Memory a TCP client can make `dns serve` hold (issue 8, item 1). The server runs as its own
// process so its resident set can be read from /proc/PID/status. Loopback only; every attack is
// bounded in count and time, and every socket is destroyed afterwards.
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { Deframer, encode, frame, TYPES, type Message } from '../../src/dns/codec.js';
import { buildQuery } from '../../src/dns/client.js';
import { BIG_TXT_OWNER, bigTxtZone, rssMiB, startDns, tempDir } from './helpers.js';

const OWNER = BIG_TXT_OWNER;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The owner name with the letters' case set from the bits of i: same answer, different cache key. */
function caseVariant(i: number): string {
  let bit = 0;
  return OWNER.replace(/[a-z]/g, (c) => ((i >> bit++) & 1 ? c.toUpperCase() : c));
}

/** buildQuery lowercases the name; this keeps the variant's case on the wire. */
function variantQuery(i: number): Message {
  const m = buildQuery(OWNER, TYPES.TXT, { id: i & 0xffff });
  m.questions[0]!.name = caseVariant(i);
  return m;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('dns serve: memory a TCP client can pin', () => {
  it('pipelining thousands of queries for a 61 KB RRset without reading: RSS stays bounded, also after close', async () => {
    using dir = tempDir();
    await using srv = await startDns(['--zone', bigTxtZone(dir.path), '--tcp-idle', '60'], dir.path);
    const pid = srv.child.pid!;
    const q = encode(buildQuery(OWNER, TYPES.TXT, { id: 1 }));
    expect(q.length).toBeLessThan(60);
    const before = rssMiB(pid);

    // 8 connections, each 3000 queries in one write (~170 MB of answers each if all were built)
    const socks: net.Socket[] = [];
    try {
      for (let c = 0; c < 8; c++) {
        const s = await connect(srv.port);
        s.pause(); // never read
        s.on('error', () => {});
        s.write(Buffer.concat(Array.from({ length: 3000 }, () => frame(q))));
        socks.push(s);
      }
      let peak = 0;
      for (let i = 0; i < 15; i++) {
        await sleep(200);
        peak = Math.max(peak, rssMiB(pid));
      }
      // measured: +3 MB with the bound; 4 such connections took it from 75 to 776 MB without
      expect(peak - before).toBeLessThan(64);

      // another client is still served meanwhile
      const other = await connect(srv.port);
      const answered = await new Promise<boolean>((resolve) => {
        const d = new Deframer();
        const t = setTimeout(() => resolve(false), 5000);
        other.on('data', (chunk: Buffer) => {
          d.push(chunk);
          if (d.next()) {
            clearTimeout(t);
            resolve(true);
          }
        });
        other.write(frame(q));
      });
      other.destroy();
      expect(answered).toBe(true);
    } finally {
      for (const s of socks) s.destroy();
    }
    await sleep(500);
    expect(rssMiB(pid) - before).toBeLessThan(64);
    expect(srv.child.exitCode).toBeNull();
  });

  it('a reading client asking with 6000 case variants of the name: the response cache stays bounded after it closes', async () => {
    using dir = tempDir();
    await using srv = await startDns(['--zone', bigTxtZone(dir.path)], dir.path);
    const pid = srv.child.pid!;
    const before = rssMiB(pid);
    const s = await connect(srv.port);
    try {
      const d = new Deframer();
      let got = 0;
      const N = 6000;
      const all = new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`only ${got} of ${N} answers`)), 60_000);
        s.on('data', (chunk: Buffer) => {
          d.push(chunk);
          while (d.next()) got++;
          if (got === N) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      // each answer is ~61 KB; cached by query bytes, 6000 of them would be ~370 MB kept for good
      for (let i = 0; i < N; i += 100) {
        s.write(Buffer.concat(Array.from({ length: 100 }, (_, j) => frame(encode(variantQuery(i + j))))));
        while (got < i) await sleep(5);
      }
      await all;
    } finally {
      s.destroy();
    }
    await sleep(500);
    // measured: +320 MB for 4000 variants without a byte bound; with it, allocator slack only
    expect(rssMiB(pid) - before).toBeLessThan(128);
    expect(srv.child.exitCode).toBeNull();
  });
});
