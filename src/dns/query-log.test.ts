import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netEvent } from '../events.js';
import { createJsonLogger, createLogger, jsonLogSink } from '../log.js';
import { MAX_BACKLOG, queryLogger, turnClock } from './query-log.js';

/** A JSON logger as createLogger() makes it (isoTime, name, pid) writing into an array. */
function capture(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createJsonLogger('info', { name: 'socketlab-dns', pid: 123 }, stream);
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

  it('keeps today\'s line byte for byte (the format before pino\'s private symbols were dropped)', async () => {
    const { log, lines } = capture();
    const ql = queryLogger(log, { address: '127.0.0.1', port: 5300 });
    expect(ql.fast).toBe(true);
    ql('udp', '10.0.0.7', 40000, { qname: 'www.example.com', qtype: 'AAAA', rcode: 'NOERROR', tc: false }, 89);
    ql('tcp', '::1', 40001, { qname: 'we"ird.example.com', qtype: 'TXT', rcode: 'NXDOMAIN', tc: true }, 512);
    ql.close();
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.replace(/"time":"[^"]+"/, '"time":"T"'))).toEqual([
      '{"level":30,"time":"T","name":"socketlab-dns","pid":123,"event":"dns.query","transport":"udp","from":"10.0.0.7:40000","to":"127.0.0.1:5300","pair":"10.0.0.7:40000 <-> 127.0.0.1:5300","qname":"www.example.com","qtype":"AAAA","rcode":"NOERROR","size":89,"tc":false,"msg":"dns query"}',
      '{"level":30,"time":"T","name":"socketlab-dns","pid":123,"event":"dns.query","transport":"tcp","from":"[::1]:40001","to":"127.0.0.1:5300","pair":"[::1]:40001 <-> 127.0.0.1:5300","qname":"we\\"ird.example.com","qtype":"TXT","rcode":"NXDOMAIN","size":512,"tc":true,"msg":"dns query"}',
    ]);
    expect(lines[0]).toMatch(/"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/);
  });

  it('a logger made elsewhere (a child, an API user\'s pino) logs the same record through log.info', async () => {
    const { log, lines } = capture();
    const child = log.child({});
    const ql = queryLogger(child, { address: '127.0.0.1', port: 5300 });
    expect(ql.fast).toBe(false);
    const meta = { qname: 'a.example', qtype: 'A', rcode: 'NOERROR', tc: false };
    ql('udp', '127.0.0.1', 1, meta, 40);
    const fast = queryLogger(log, { address: '127.0.0.1', port: 5300 });
    fast('udp', '127.0.0.1', 1, meta, 40);
    fast.close();
    await new Promise((r) => setImmediate(r));
    const strip = (l: string) => l.replace(/"time":"[^"]+"/, '"time":"T"');
    expect(lines).toHaveLength(2);
    expect(strip(lines[0]!)).toBe(strip(lines[1]!));
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
    const log = createJsonLogger('info', { name: 'socketlab-dns', pid: 123 }, stream);
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

describe('query log to a --log-file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const logFile = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'sl-query-log-'));
    dirs.push(d);
    return join(d, 'dns.log');
  };
  /** The file's lines once pino's own (asynchronous) destination has opened the file and written too. */
  const settle = async (log: pino.Logger, file: string): Promise<string[]> => {
    const dest = jsonLogSink(log)!.destination as unknown as { fd: number; flushSync(): void; once(e: string, f: () => void): void };
    if (dest.fd < 0) await new Promise<void>((r) => dest.once('ready', r));
    dest.flushSync();
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  };
  const strip = (l: string) => l.replace(/"time":"[^"]+"/, '"time":"T"');

  it('appends the same bytes pino writes for the record (IPv6 client, escaped and non-ASCII qname, tc)', async () => {
    const file = logFile();
    const log = createLogger({ file, name: 'socketlab-dns' });
    const server = { address: '127.0.0.1', port: 5300 };
    const ql = queryLogger(log, server);
    const records = [
      { t: 'udp' as const, address: '127.0.0.1', port: 40000, meta: { qname: 'www.example.com', qtype: 'A', rcode: 'NOERROR', tc: false }, size: 60 },
      { t: 'tcp' as const, address: '::1', port: 40001, meta: { qname: 'we"ird\\\\.ex\u00e9mple.', qtype: 'TXT', rcode: 'NXDOMAIN', tc: true }, size: 65535 },
      { t: 'udp' as const, address: '127.0.0.1', port: 40000, meta: { qname: 'www.example.com', qtype: 'A', rcode: 'NOERROR', tc: false }, size: 0 },
    ];
    for (const r of records) ql(r.t, r.address, r.port, r.meta, r.size);
    ql.close();
    for (const r of records) log.info({ ...netEvent('dns.query', r.t, { address: r.address, port: r.port }, server), qname: r.meta.qname, qtype: r.meta.qtype, rcode: r.meta.rcode, size: r.size, tc: r.meta.tc }, 'dns query');
    const lines = await settle(log, file);
    expect(lines).toHaveLength(6);
    expect(lines.slice(0, 3).map(strip)).toEqual(lines.slice(3).map(strip));
    expect(lines[0]).toMatch(/^\{"level":30,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","name":"socketlab-dns","pid":\d+,"event":"dns.query"/);
  });

  it('reuses the kept pieces only for the same client address, port and transport and the same answer size', async () => {
    const file = logFile();
    const log = createLogger({ file, name: 'socketlab-dns' });
    const server = { address: '::1', port: 53 };
    const ql = queryLogger(log, server);
    const meta = { qname: 'www.example.com', qtype: 'A', rcode: 'NOERROR', tc: false };
    const calls: ['udp' | 'tcp', string, number, number][] = [
      ['udp', '127.0.0.1', 40000, 60],
      ['udp', '127.0.0.2', 40000, 60],
      ['udp', '127.0.0.1', 40001, 60],
      ['tcp', '127.0.0.1', 40000, 60],
      ['udp', '127.0.0.1', 40000, 61],
      ['udp', '127.0.0.1', 40000, 60],
    ];
    for (const [t, a, p, size] of calls) ql(t, a, p, meta, size);
    ql.close();
    for (const [t, a, p, size] of calls) log.info({ ...netEvent('dns.query', t, { address: a, port: p }, server), qname: meta.qname, qtype: 'A', rcode: 'NOERROR', size, tc: false }, 'dns query');
    const lines = await settle(log, file);
    expect(lines.slice(0, calls.length).map(strip)).toEqual(lines.slice(calls.length).map(strip));
  });

  it('reaches the file within the 200 ms flush interval, whole lines beside pino\'s own records', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const file = logFile();
    const log = createLogger({ file, name: 'socketlab-dns' });
    const ql = queryLogger(log, { address: '127.0.0.1', port: 5300 });
    // encoded straight to the file: no string through pino's destination (sonic-boom measured, encoded
    // and re-encoded each one, about 1 µs of CPU a record)
    const write = vi.spyOn(jsonLogSink(log)!.destination, 'write');
    const meta = { qname: 'www.example.com', qtype: 'A', rcode: 'NOERROR', tc: false };
    for (let i = 0; i < 3000; i++) {
      ql('udp', '127.0.0.1', 40000 + (i % 7), meta, 60);
      if (i % 100 === 0) log.info({ event: 'other', i }, 'something else');
    }
    // a full batch (64 KiB) went out at once; the rest waits for the interval
    const before = readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"dns.query"')).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(3000);
    vi.advanceTimersByTime(200);
    const lines = await settle(log, file);
    const parsed = lines.map((l) => JSON.parse(l) as { event: string });
    expect(parsed.filter((r) => r.event === 'dns.query')).toHaveLength(3000);
    expect(parsed.filter((r) => r.event === 'other')).toHaveLength(30);
    expect(write).toHaveBeenCalledTimes(30);
    ql.close();
  });

  it('writes nothing above info level, and a record after close() through pino', async () => {
    const file = logFile();
    const log = createLogger({ file, name: 'socketlab-dns', level: 'warn' });
    const meta = { qname: 'a', qtype: 'A', rcode: 'NOERROR', tc: false };
    const ql = queryLogger(log, { address: '127.0.0.1', port: 1 });
    ql('udp', '127.0.0.1', 2, meta, 1);
    log.level = 'info';
    ql('udp', '127.0.0.1', 2, meta, 1);
    ql.close();
    ql('udp', '127.0.0.1', 2, meta, 3);
    ql.flush();
    const lines = (await settle(log, file)).map((l) => JSON.parse(l) as { size: number });
    expect(lines.map((l) => l.size)).toEqual([1, 3]);
  });
});

describe('turnClock', () => {
  afterEach(() => vi.useRealTimers());
  it('reads the time once per event-loop turn: the same value within a turn, a new one after it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000);
    const clock = turnClock();
    expect(clock()).toBe(1_000);
    vi.setSystemTime(1_007);
    expect(clock()).toBe(1_000); // same turn: the time read first
    await new Promise((r) => setImmediate(r));
    expect(clock()).toBe(1_007); // next turn: read again
  });
});
