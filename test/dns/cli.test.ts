// `socketlab dns query` and `socketlab dns serve` as a user runs them: output, JSON shape, the
// TC -> TCP retry, clean timeouts, and the error table for bad flags and broken zone files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { EXAMPLE_ZONE, startDns, tempDir, type DnsProcess } from './helpers.js';

describe('socketlab dns query', () => {
  const dir = tempDir();
  let srv: DnsProcess;
  beforeAll(async () => {
    srv = await startDns(['--zone', EXAMPLE_ZONE], dir.path);
  });
  afterAll(async () => {
    await srv?.stop();
    dir[Symbol.dispose]();
  });

  it('prints the socket pair, transport, status, flags and answer', async () => {
    const r = await runCli(['dns', 'query', 'www.example.com', 'A', '--server', `127.0.0.1:${srv.port}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^udp  127\\.0\\.0\\.1:\\d+ <-> 127\\.0\\.0\\.1:${srv.port}  \\d+ octets$`, 'm'));
    expect(r.stdout).toMatch(/^status: NOERROR  flags: qr aa  id: \d+$/m);
    expect(r.stdout).toMatch(/^www\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.80$/m);
  });

  it('--json: the documented shape', async () => {
    const r = await runCli(['dns', 'query', 'example.com', 'MX', '--server', `127.0.0.1:${srv.port}`, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j).toMatchObject({
      server: `127.0.0.1:${srv.port}`,
      transport: 'udp',
      retriedOverTcp: false,
      truncatedUdp: null,
      rcode: 'NOERROR',
      flags: ['qr', 'aa'],
      question: [{ name: 'example.com.', type: 'MX', class: 'IN' }],
    });
    expect(j.pair).toMatch(new RegExp(`^127\\.0\\.0\\.1:\\d+ <-> 127\\.0\\.0\\.1:${srv.port}$`));
    expect(j.answer).toEqual([
      { name: 'example.com.', ttl: 3600, class: 'IN', type: 'MX', data: '10 mail.example.com.' },
      { name: 'example.com.', ttl: 3600, class: 'IN', type: 'MX', data: '20 mail2.example.com.' },
    ]);
    expect((j.additional as { name: string }[]).map((a) => a.name)).toContain('mail.example.com.');
  });

  it('--noedns on a large RRset: TC=1 over UDP, retried over TCP from a new port', async () => {
    const r = await runCli(['dns', 'query', 'many.example.com', '--noedns', '--server', `127.0.0.1:${srv.port}`, '--json']);
    const j = JSON.parse(r.stdout) as { transport: string; retriedOverTcp: boolean; truncatedUdp: { pair: string }; pair: string; answer: unknown[] };
    expect(j.transport).toBe('tcp');
    expect(j.retriedOverTcp).toBe(true);
    expect(j.answer).toHaveLength(40);
    expect(j.truncatedUdp.pair).not.toBe(j.pair);
    const human = await runCli(['dns', 'query', 'many.example.com', '--noedns', '--server', `127.0.0.1:${srv.port}`]);
    expect(human.stdout).toMatch(/^udp  .* answer truncated \(TC=1, \d+ octets\): retrying over TCP$/m);
    expect(human.stdout).toMatch(/^tcp  127\.0\.0\.1:\d+ <-> /m);
  });

  it('--tcp, NXDOMAIN with the SOA in authority, and REFUSED out of zone', async () => {
    const nx = await runCli(['dns', 'query', 'nope.example.com', '--tcp', '--server', `127.0.0.1:${srv.port}`]);
    expect(nx.stdout).toMatch(/^tcp  /m);
    expect(nx.stdout).toMatch(/status: NXDOMAIN/);
    expect(nx.stdout).toMatch(/AUTHORITY SECTION\n[\s\S]*example\.com\.\s+300\s+IN\s+SOA/);
    const refused = await runCli(['dns', 'query', 'www.debian.org', '--server', `127.0.0.1:${srv.port}`]);
    expect(refused.stdout).toMatch(/status: REFUSED/);
  });

  it('AXFR: the whole zone over TCP, SOA first and last', async () => {
    const r = await runCli(['dns', 'query', 'example.com', 'AXFR', '--server', `127.0.0.1:${srv.port}`, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { transport: string; records: { type: string }[]; messages: number };
    expect(j.transport).toBe('tcp');
    expect(j.records[0]!.type).toBe('SOA');
    expect(j.records.at(-1)!.type).toBe('SOA');
    expect(j.records.length).toBeGreaterThan(60);
  });

  it('times out cleanly with retries against a server that never answers', async () => {
    const mute = dgram.createSocket('udp4');
    await new Promise<void>((r) => mute.bind(0, '127.0.0.1', () => r()));
    let got = 0;
    mute.on('message', () => got++);
    try {
      const port = mute.address().port;
      const r = await runCli(['dns', 'query', 'www.example.com', '--server', `127.0.0.1:${port}`, '--timeout', '300', '--retries', '2']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`socketlab: no answer from 127.0.0.1:${port} over udp after 3 tries of 300 ms: is a DNS server listening there?\n`);
      expect(got).toBe(3);
    } finally {
      mute.close();
    }
  });
});

describe('socketlab dns: bad input says what and where', () => {
  it.each([
    [['dns', 'query', 'x', '--server', 'dns.google'], 2, /--server: "dns\.google" needs an IP address/],
    [['dns', 'query', 'x', 'BOGUS', '--server', '127.0.0.1:5300'], 2, /unknown record type "BOGUS"/],
    [['dns', 'query', 'x', '--server', '127.0.0.1:99999'], 2, /needs a port from 1 to 65535/],
    [['dns', 'serve'], 2, /dns serve needs --zone FILE/],
    [['dns', 'serve', '--secondary', '127.0.0.1:5300'], 2, /--secondary needs --zone-name/],
    [['dns', 'serve', '--zone', 'x', '--allow-transfer', '10.0.0.0/33'], 2, /prefix "\/33" in "10\.0\.0\.0\/33" must be 0-32/],
    [['dns', 'serve', '--zone', 'x', '--notify', 'localhost'], 2, /--notify: "localhost" needs an IP address/],
    [['dns', 'serve', '--zone', 'x', '--port', '70000'], 2, /out of range/],
    [['dns', 'serve', '--zone', EXAMPLE_ZONE, '--host', 'localhost'], 2, /--host "localhost" must be an IP address/],
    [['dns', 'serve', '--zone', '/nonexistent.zone'], 2, /^socketlab: --zone \/nonexistent\.zone: cannot read zone file: no such file \(ENOENT\)$/m],
    [['dns', 'serve', '--zone', '/tmp'], 2, /^socketlab: --zone \/tmp: cannot read zone file: it is a directory \(EISDIR\)$/m],
    [['dns', 'query', 'a..b', '--server', '127.0.0.1:5300'], 2, /^socketlab: name "a\.\.b" is not a valid domain name: empty label$/m],
    [['dns', 'query', `${'x'.repeat(64)}.example.com`, '--server', '127.0.0.1:5300'], 2, /is not a valid domain name: label longer than 63 octets$/m],
    [['dns', 'serve', '--secondary', '127.0.0.1:5300', '--zone-name', 'a..b'], 2, /--zone-name "a\.\.b" is not a valid domain name: empty label/],
    [['dns', 'serve', '--zone', EXAMPLE_ZONE, '--tcp-idle', '2147484'], 2, /--tcp-idle "2147484" must be a whole number from 1 to 2147483 seconds/],
    [['dns', 'serve', '--secondary', '127.0.0.1:5300', '--zone-name', 'x.', '--refresh', '4294967296'], 2, /--refresh "4294967296" must be a whole number from 1 to 4294967295 seconds/],
    [['dns', 'serve', '--zone', EXAMPLE_ZONE, '--max-udp-size', '65535'], 2, /--max-udp-size "65535" must be a whole number from 512 to 4096 octets/],
    [['dns', 'query', 'x', '--timeout', '2147483648'], 2, /--timeout "2147483648" must be a whole number from 1 to 2147483647 ms/],
  ])('%j -> exit %i', async (args, code, message) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
    expect(r.stderr).not.toMatch(/unexpected error|Warning/);
  });

  it('a broken zone file stops the start with file:line: what is wrong', async () => {
    using dir = tempDir();
    const f = join(dir.path, 'broken.zone');
    writeFileSync(f, '$ORIGIN example.com.\n$TTL 60\n@ SOA ns h 1 1 1 1 1\n\nwww A 192.0.2.1\nmail MX ten mail\n');
    const r = await runCli(['dns', 'serve', '--zone', f, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`socketlab: ${f}:6: MX preference "ten" is not a number from 0 to 65535\n`);
    expect(r.stdout).not.toMatch(/listening/);
  });

  it('a port already in use is named, not a stack trace', async () => {
    using dir = tempDir();
    await using srv = await startDns(['--zone', EXAMPLE_ZONE], dir.path);
    const r = await runCli(['dns', 'serve', '--zone', EXAMPLE_ZONE, '--port', String(srv.port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`udp/${srv.port} on 127\\.0\\.0\\.1: the port is already in use by socketlab-dns \\(pid \\d+\\)`));
  });
});
