// Robustness: thousands of random and malformed UDP datagrams and TCP byte streams against a
// running `socketlab dns serve` process; afterwards it must still answer a normal query and still
// be alive. Inputs come from fast-check with a fixed seed (reproducible), counts are bounded.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import dgram from 'node:dgram';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { decode, encode, frame, Deframer, TYPES } from '../../src/dns/codec.js';
import { buildQuery, query } from '../../src/dns/client.js';
import { BIG_TXT_OWNER, bigTxtZone, EXAMPLE_ZONE, rssMiB, startDns, tempDir } from './helpers.js';

const SEED = 20261121;
const valid = encode(buildQuery('www.example.com', TYPES.A, { id: 1, edns: 1232 }));
const header = (qd: number, an = 0, ns = 0, ar = 0, flags = 0): Buffer => {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(0xbeef, 0);
  b.writeUInt16BE(flags, 2);
  b.writeUInt16BE(qd, 4);
  b.writeUInt16BE(an, 6);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(ar, 10);
  return b;
};

/** Hand-made nasties: each names the classic parser bug it aims at. */
const crafted: Buffer[] = [
  Buffer.alloc(0),
  Buffer.alloc(1),
  Buffer.from([0xbe, 0xef, 0x01]), // short header
  header(0), // no question
  header(1), // count says 1, no bytes
  header(0xffff, 0xffff, 0xffff, 0xffff), // counts far beyond the packet
  Buffer.concat([header(1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]), // pointer to itself
  Buffer.concat([header(1), Buffer.from([1, 0x61, 0xc0, 12, 0, 1, 0, 1])]), // pointer loop via a label
  Buffer.concat([header(1), Buffer.from([0xc0, 0xff, 0, 1, 0, 1])]), // pointer past the end
  Buffer.concat([header(1), Buffer.from([0x3f]), Buffer.alloc(10, 0x61)]), // label longer than the packet
  Buffer.concat([header(1), Buffer.from([0x80, 1, 0, 0, 1, 0, 1])]), // reserved label type
  Buffer.concat([header(1), ...Array.from({ length: 130 }, () => Buffer.from([1, 0x61])), Buffer.from([0, 0, 1, 0, 1])]), // name > 255
  Buffer.concat([header(1, 1), valid.subarray(12), Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0xff, 0xff])]), // rdlength past the end
  Buffer.concat([valid.subarray(0, 2), Buffer.from([0x80, 0]), valid.subarray(4)]), // QR=1: must be ignored
  Buffer.concat([valid.subarray(0, 2), Buffer.from([0x28, 0]), valid.subarray(4)]), // opcode UPDATE
  Buffer.concat([valid.subarray(0, 2), Buffer.from([0x78, 0]), valid.subarray(4)]), // opcode 15
  Buffer.concat([header(2), valid.subarray(12, 33), valid.subarray(12, 33)]), // two questions
  Buffer.alloc(65_000, 0xff), // near-maximum datagram of junk
];

const mutated = fc.array(fc.tuple(fc.nat(valid.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }).map((edits) => {
  const b = Buffer.from(valid);
  for (const [i, v] of edits) b[i] = v;
  return b;
});
const datagrams = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u)),
  mutated,
  fc.tuple(fc.nat(valid.length), fc.uint8Array({ maxLength: 40 })).map(([cut, tail]) => Buffer.concat([valid.subarray(0, cut), Buffer.from(tail)])),
  fc.constantFrom(...crafted),
);

function sendAll(port: number, bufs: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    let replies = 0;
    sock.on('message', () => replies++);
    sock.on('error', reject);
    let i = 0;
    const batch = (): void => {
      // 100 at a time, yielding between batches: bounded, and gentle on the socket buffers
      for (const end = Math.min(i + 100, bufs.length); i < end; i++) sock.send(bufs[i]!, port, '127.0.0.1');
      if (i < bufs.length) setTimeout(batch, 5);
      else setTimeout(() => (sock.close(), resolve(replies)), 300);
    };
    batch();
  });
}

/** Opens a TCP connection, writes `chunks` with a pause between, then closes or holds it. */
function tcpStream(port: number, chunks: Buffer[], hold: boolean): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.on('connect', async () => {
      for (const c of chunks) {
        if (s.destroyed) break;
        s.write(c);
        await new Promise((r) => setImmediate(r));
      }
      if (!hold) s.end();
      resolve(s);
    });
    s.on('close', () => resolve(s));
  });
}

const streams = fc.oneof(
  fc.array(fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)), { maxLength: 4 }), // junk
  fc.constant([Buffer.from([0xff, 0xff]), Buffer.alloc(100, 1)]), // oversize length prefix, half a frame
  fc.constant([Buffer.from([0x00])]), // half a length prefix
  fc.constant([frame(valid).subarray(0, 10)]), // half-sent frame
  fc.array(datagrams, { maxLength: 4 }).map((msgs) => msgs.map((m) => frame(m.subarray(0, 4000)))), // framed malformed messages
  fc.constant([Buffer.from([0, 0])]), // zero-length message
);

describe('dns serve survives malformed input', () => {
  it('thousands of random and malformed datagrams and TCP streams, then a normal query is answered', async () => {
    using dir = tempDir();
    await using srv = await startDns(['--zone', EXAMPLE_ZONE, '--tcp-idle', '2', '--max-connections', '64'], dir.path);
    const udpInputs = [...crafted, ...fc.sample(datagrams, { numRuns: 4000, seed: SEED })];
    const replies = await sendAll(srv.port, udpInputs);
    // it answered something (FORMERR for readable headers), and it is still answering
    expect(replies).toBeGreaterThan(0);
    const r1 = await query('www.example.com', TYPES.A, { server: { address: '127.0.0.1', port: srv.port }, timeoutMs: 2000, retries: 2 });
    expect(r1.response.answers.map((a) => a.data)).toEqual([{ address: '192.0.2.80' }]);

    const tcpInputs = fc.sample(streams, { numRuns: 400, seed: SEED });
    for (let i = 0; i < tcpInputs.length; i += 20) {
      const socks = await Promise.all(tcpInputs.slice(i, i + 20).map((chunks) => tcpStream(srv.port, chunks, false)));
      for (const s of socks) s.destroy();
    }
    // connections that never send stay open while a normal TCP query is answered
    const silent = await Promise.all(Array.from({ length: 10 }, () => tcpStream(srv.port, [], true)));
    try {
      const r2 = await query('www.example.com', TYPES.AAAA, { server: { address: '127.0.0.1', port: srv.port }, tcp: true, timeoutMs: 2000 });
      expect(r2.response.answers.map((a) => a.data)).toEqual([{ address: '2001:db8::80' }]);
      // the server closes idle connections itself (bounded wait, not a timing assertion)
      await Promise.all(silent.map((s) => new Promise<void>((res) => (s.destroyed || s.readableEnded ? res() : s.once('close', () => res())))));
      expect(silent.every((s) => s.destroyed || s.readableEnded)).toBe(true);
    } finally {
      for (const s of silent) s.destroy();
    }
    expect(srv.child.exitCode).toBeNull();
    const r3 = await query('example.com', TYPES.MX, { server: { address: '127.0.0.1', port: srv.port }, timeoutMs: 2000 });
    expect(r3.response.flags.rcode).toBe(0);
    expect(await srv.stop()).toBe(0);
    const warned = srv.records().filter((r) => r.msg === 'malformed message');
    expect(warned.length).toBeGreaterThan(100);
    expect(srv.records().some((r) => r.level as number >= 50)).toBe(false); // no handler errors
  });

  it('fuzzed pipelines from clients that never read: bounded, and other clients are still served', async () => {
    using dir = tempDir();
    await using srv = await startDns(['--zone', EXAMPLE_ZONE, '--zone', bigTxtZone(dir.path), '--tcp-idle', '30'], dir.path);
    const big = [
      encode(buildQuery(BIG_TXT_OWNER, TYPES.TXT, { id: 2 })), // a 61 KB answer
      encode(buildQuery('many.example.com', TYPES.A, { id: 3 })),
      encode(buildQuery('example.com', TYPES.AXFR, { id: 4 })), // a zone transfer per query
      encode(buildQuery('example.com', TYPES.ANY, { id: 5 })),
    ];
    // each connection: one write of ~200 KB of framed messages, valid and malformed mixed, then silence
    const pipelines = fc.sample(fc.array(fc.oneof(fc.constantFrom(...big), datagrams.map((d) => d.subarray(0, 600))), { minLength: 1, maxLength: 30 }), { numRuns: 24, seed: SEED });
    const before = rssMiB(srv.child.pid!);
    const held: net.Socket[] = [];
    try {
      for (const msgs of pipelines) {
        const s = net.connect(srv.port, '127.0.0.1');
        s.pause(); // never read
        s.on('error', () => {});
        await new Promise<void>((r) => s.once('connect', () => r()));
        const one = Buffer.concat(msgs.map(frame));
        s.write(Buffer.concat(Array.from({ length: Math.ceil(200_000 / one.length) }, () => one)));
        held.push(s);
      }
      const tcp = await query('www.example.com', TYPES.A, { server: { address: '127.0.0.1', port: srv.port }, tcp: true, timeoutMs: 5000 });
      expect(tcp.response.answers.map((a) => a.data)).toEqual([{ address: '192.0.2.80' }]);
      const udp = await query('www.example.com', TYPES.AAAA, { server: { address: '127.0.0.1', port: srv.port }, timeoutMs: 2000, retries: 2 });
      expect(udp.response.answers.map((a) => a.data)).toEqual([{ address: '2001:db8::80' }]);
      // Bounded for all 24 together. Measured: about +100 MB, all of it allocator slack after a burst
      // of ~100,000 answers (live heap back to baseline after gc); answering each connection's
      // first read whole is ~1,600 answers of 61 KB per connection, gigabytes.
      expect(rssMiB(srv.child.pid!) - before).toBeLessThan(256);
    } finally {
      for (const s of held) s.destroy();
    }
    expect(srv.child.exitCode).toBeNull();
    const after = await query('example.com', TYPES.MX, { server: { address: '127.0.0.1', port: srv.port }, tcp: true, timeoutMs: 2000 });
    expect(after.response.flags.rcode).toBe(0);
    expect(await srv.stop()).toBe(0);
    expect(srv.records().some((r) => (r.level as number) >= 50)).toBe(false); // no handler errors
  });

  it('pipelined TCP queries are answered in order on one connection', async () => {
    using dir = tempDir();
    await using srv = await startDns(['--zone', EXAMPLE_ZONE], dir.path);
    const names = ['www.example.com', 'mail.example.com', 'nosuch.example.com', 'ns1.example.com', 'www.debian.org', 'sip.example.com'];
    const qs = names.map((n, i) => encode(buildQuery(n, TYPES.A, { id: 100 + i })));
    const got = await new Promise<number[]>((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1');
      const d = new Deframer();
      const ids: number[] = [];
      s.setTimeout(5000, () => (s.destroy(), reject(new Error('timeout'))));
      s.on('connect', () => s.write(Buffer.concat(qs.map(frame))));
      s.on('data', (c: Buffer) => {
        d.push(c);
        let m;
        while ((m = d.next())) ids.push(decode(Buffer.from(m)).id);
        if (ids.length === names.length) {
          s.destroy();
          resolve(ids);
        }
      });
      s.on('error', reject);
    });
    expect(got).toEqual([100, 101, 102, 103, 104, 105]);
  });

  it('a TCP client that pipelines without reading is paused, others are served, and nothing is lost', async () => {
    using dir = tempDir();
    await using srv = await startDns(['--zone', EXAMPLE_ZONE, '--tcp-idle', '30'], dir.path);
    const N = 20_000;
    const q = frame(encode(buildQuery('many.example.com', TYPES.A, { id: 7 })));
    const s = net.connect(srv.port, '127.0.0.1');
    s.pause(); // read nothing yet: answers (~13 MB) pile up at the server
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write(Buffer.concat(Array.from({ length: N }, () => q)));
    // the server stopped reading: our queries wait, unread and unchanging, in its socket's
    // receive queue (ss Recv-Q). A server that kept reading would drain it to 0.
    const recvQ = (): number => {
      const ss = execFileSync('ss', ['-tnH', 'state', 'established', `( sport = :${srv.port} and dport = :${s.localPort} )`], { encoding: 'utf8' });
      return Number(ss.trim().split(/\s+/)[0] ?? 0);
    };
    let prev = -1;
    let now = recvQ();
    for (let i = 0; i < 50 && !(now > 0 && now === prev); i++) {
      await new Promise((r) => setTimeout(r, 200));
      prev = now;
      now = recvQ();
    }
    const stable = now;
    expect(stable).toBeGreaterThan(0);
    expect(recvQ()).toBe(stable);
    const other = await query('www.example.com', TYPES.A, { server: { address: '127.0.0.1', port: srv.port }, tcp: true, timeoutMs: 2000 });
    expect(other.response.answers).toHaveLength(1);
    const got = await new Promise<number>((resolve, reject) => {
      const d = new Deframer();
      let n = 0;
      const t = setTimeout(() => (s.destroy(), reject(new Error(`only ${n} of ${N} answers`))), 30_000);
      s.on('data', (c: Buffer) => {
        d.push(c);
        while (d.next()) n++;
        if (n === N) {
          clearTimeout(t);
          s.destroy();
          resolve(n);
        }
      });
      s.resume();
    });
    expect(got).toBe(N);
  });

  it('caps concurrent TCP connections: extras are closed, queries still answered', async () => {
    using dir = tempDir();
    await using srv = await startDns(['--zone', EXAMPLE_ZONE, '--max-connections', '4', '--tcp-idle', '30'], dir.path);
    const held = await Promise.all(Array.from({ length: 4 }, () => tcpStream(srv.port, [], true)));
    try {
      // a fifth connection is accepted by the kernel, then dropped by the server
      const extra = await tcpStream(srv.port, [], true);
      await new Promise<void>((res) => (extra.destroyed ? res() : extra.once('close', () => res())));
      expect(extra.destroyed).toBe(true);
      expect(held.filter((s) => !s.destroyed)).toHaveLength(4);
    } finally {
      for (const s of held) s.destroy();
    }
    // the slots free up once those close
    let answered = false;
    for (let i = 0; i < 20 && !answered; i++) {
      try {
        const r = await query('www.example.com', TYPES.A, { server: { address: '127.0.0.1', port: srv.port }, tcp: true, timeoutMs: 1000 });
        answered = r.response.answers.length === 1;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(answered).toBe(true);
  });
});
