import { describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { netEvent } from '../events.js';
import { MAX_BACKLOG, queryLogger } from './query-log.js';

/** A pino logger shaped like createLogger()'s (isoTime, name, pid) writing into an array. */
function capture(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const log = pino({ level: 'info', base: { name: 'socketlab-dns', pid: 123 }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  return { log, lines };
}

describe('query log record', () => {
  it('is the same record log.info(netEvent(...)) writes, field for field and in order', async () => {
    const server = { address: '127.0.0.1', port: 5300 };
    const { log, lines } = capture();
    const ql = queryLogger(log, server);
    expect(ql.fast).toBe(true);
    const meta = { qname: 'we"ird.example.com', qtype: 'A', rcode: 'NOERROR', tc: false };
    ql('udp', '127.0.0.1', 40000, meta, 60);
    ql('tcp', '::1', 40001, { ...meta, tc: true }, 61);
    ql.flush();
    log.info({ ...netEvent('dns.query', 'udp', { address: '127.0.0.1', port: 40000 }, server), qname: meta.qname, qtype: 'A', rcode: 'NOERROR', size: 60, tc: false }, 'dns query');
    log.info({ ...netEvent('dns.query', 'tcp', { address: '::1', port: 40001 }, server), qname: meta.qname, qtype: 'A', rcode: 'NOERROR', size: 61, tc: true }, 'dns query');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(4);
    const strip = (l: string) => l.replace(/"time":"[^"]+"/, '"time":"T"');
    expect(strip(lines[0]!)).toBe(strip(lines[2]!));
    expect(strip(lines[1]!)).toBe(strip(lines[3]!));
    expect(JSON.parse(lines[1]!)).toMatchObject({ event: 'dns.query', transport: 'tcp', from: '[::1]:40001', pair: '[::1]:40001 <-> 127.0.0.1:5300', tc: true });
  });

  it('reuses a client\'s and an answer\'s pieces only for that client and that answer size', async () => {
    const server = { address: '127.0.0.1', port: 5300 };
    const { log, lines } = capture();
    const ql = queryLogger(log, server);
    const meta = { qname: 'www.example.com', qtype: 'A', rcode: 'NOERROR', tc: false };
    const other = { qname: 'example.com', qtype: 'MX', rcode: 'NOERROR', tc: true };
    // the same port from another address, the same client over TCP, the same answer at another size
    const calls: [transport: 'udp' | 'tcp', address: string, port: number, meta: typeof meta, size: number][] = [
      ['udp', '127.0.0.1', 40000, meta, 60],
      ['udp', '127.0.0.2', 40000, meta, 60],
      ['tcp', '127.0.0.1', 40000, meta, 60],
      ['udp', '127.0.0.1', 40000, meta, 512],
      ['udp', '::1', 40000, other, 60],
      ['udp', '127.0.0.1', 40000, meta, 60],
    ];
    for (const c of calls) ql(...c);
    ql.flush();
    for (const [transport, address, port, m, size] of calls) {
      log.info({ ...netEvent('dns.query', transport, { address, port }, server), qname: m.qname, qtype: m.qtype, rcode: m.rcode, size, tc: m.tc }, 'dns query');
    }
    await new Promise((r) => setImmediate(r));
    const strip = (l: string) => l.replace(/"time":"[^"]+"/, '"time":"T"');
    expect(lines).toHaveLength(2 * calls.length);
    for (let i = 0; i < calls.length; i++) expect(strip(lines[i]!)).toBe(strip(lines[calls.length + i]!));
  });

  it('close() flushes and stops its batching timer (a closed server leaves no 200 ms interval behind)', () => {
    const set = vi.spyOn(globalThis, 'setInterval');
    const clear = vi.spyOn(globalThis, 'clearInterval');
    try {
      const { log, lines } = capture();
      const ql = queryLogger(log, { address: '127.0.0.1', port: 1 });
      expect(set).toHaveBeenCalledTimes(1);
      const timer = set.mock.results[0]!.value as NodeJS.Timeout;
      ql('udp', '127.0.0.1', 2, { qname: 'a', qtype: 'A', rcode: 'NOERROR', tc: false }, 1);
      ql.close();
      expect(clear).toHaveBeenCalledWith(timer);
      expect(lines).toHaveLength(1);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it('writes nothing above info level', () => {
    const { log, lines } = capture();
    log.level = 'warn';
    queryLogger(log, { address: '127.0.0.1', port: 1 })('udp', '127.0.0.1', 2, { qname: 'a', qtype: 'A', rcode: 'NOERROR', tc: false }, 1);
    expect(lines).toHaveLength(0);
  });

  it('holds at most MAX_BACKLOG while the destination is busy, then drops and counts (a flood must not pile up in memory)', async () => {
    const lines: string[] = [];
    let release: (() => void) | undefined;
    const stream = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        release = cb; // a slow disk: the first write never completes until we say so
      },
    });
    const log = pino({ level: 'info', base: { name: 'socketlab-dns', pid: 123 }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
    const ql = queryLogger(log, { address: '127.0.0.1', port: 5300 });
    const meta = { qname: 'www.example.com', qtype: 'A', rcode: 'NOERROR', tc: false };
    const N = 60_000; // ~15 MB of records
    for (let i = 0; i < N; i++) ql('tcp', '127.0.0.1', 40000, meta, 60);
    ql.flush();
    // the destination catches up: what was held is written, and the loss is said in one record
    for (let i = 0; i < 10_000 && release; i++) {
      const r = release;
      release = undefined;
      r();
      await new Promise((res) => setImmediate(res));
    }
    ql.close();
    await new Promise((res) => setImmediate(res));
    const dropped = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.event === 'dns.query.dropped');
    const written = lines.length - dropped.length;
    expect(written).toBeLessThan(N);
    expect(written * 200).toBeLessThan(MAX_BACKLOG + 256 * 1024); // held: about MAX_BACKLOG of text
    expect(dropped.reduce((n, r) => n + (r.dropped as number), 0)).toBe(N - written);
  });
});
