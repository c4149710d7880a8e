// The real peer: ISC dig (Debian bind9-dnsutils) against `socketlab dns serve` run as a separate
// process on 127.0.0.1, over UDP and TCP.
import { afterAll, beforeAll, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithPeers } from '../helpers/peers.js';
import { decode, encode, RCODES, TYPES } from '../../src/dns/codec.js';
import { buildQuery } from '../../src/dns/client.js';
import { dig, EXAMPLE_ZONE, REVERSE_ZONE, startDns, tempDir, type DnsProcess } from './helpers.js';

const CASES: [string, string, RegExp][] = [
  ['www.example.com', 'A', /^www\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.80$/m],
  ['www.example.com', 'AAAA', /^www\.example\.com\.\s+3600\s+IN\s+AAAA\s+2001:db8::80$/m],
  ['web.example.com', 'CNAME', /^web\.example\.com\.\s+3600\s+IN\s+CNAME\s+www\.example\.com\.$/m],
  ['example.com', 'MX', /^example\.com\.\s+3600\s+IN\s+MX\s+10 mail\.example\.com\.$/m],
  ['info.example.com', 'TXT', /^info\.example\.com\.\s+3600\s+IN\s+TXT\s+"a record split over" " several lines"$/m],
  ['example.com', 'NS', /^example\.com\.\s+3600\s+IN\s+NS\s+ns1\.example\.com\.$/m],
  ['example.com', 'SOA', /^example\.com\.\s+3600\s+IN\s+SOA\s+ns1\.example\.com\. hostmaster\.example\.com\. 2026112101 3600 900 604800 300$/m],
  ['_sip._udp.example.com', 'SRV', /^_sip\._udp\.example\.com\.\s+3600\s+IN\s+SRV\s+10 60 5060 sip\.example\.com\.$/m],
  ['80.addr.example.com', 'PTR', /^80\.addr\.example\.com\.\s+3600\s+IN\s+PTR\s+www\.example\.com\.$/m],
  ['example.com', 'CAA', /^example\.com\.\s+3600\s+IN\s+CAA\s+0 issue "letsencrypt\.org"$/m],
];

describeWithPeers('dns serve answers dig', ['dig'], () => {
  const dir = tempDir();
  let srv: DnsProcess;
  beforeAll(async () => {
    srv = await startDns(['--zone', EXAMPLE_ZONE, '--zone', REVERSE_ZONE], dir.path);
  });
  afterAll(async () => {
    await srv?.stop();
    dir[Symbol.dispose]();
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it.each(CASES)(`%s %s over ${transport}`, async (name, type, line) => {
      const out = await dig(srv.port, [...(transport === 'tcp' ? ['+tcp'] : []), name, type]);
      expect(out).toMatch(/status: NOERROR/);
      expect(out).toMatch(/flags: qr aa;/);
      expect(out).toMatch(line);
      expect(out).toContain(`(${transport.toUpperCase()})`);
    });
  }

  it('follows an in-zone CNAME chain and answers reverse lookups (dig -x)', async () => {
    const out = await dig(srv.port, ['ftp.example.com', 'A']);
    expect(out).toMatch(/ANSWER: 3,/);
    expect(out).toMatch(/^www\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.80$/m);
    expect(await dig(srv.port, ['+short', '-x', '192.0.2.80'])).toBe('www.example.com.\n');
  });

  it('NXDOMAIN carries the SOA in authority', async () => {
    const out = await dig(srv.port, ['nosuchname.example.com', 'A']);
    expect(out).toMatch(/status: NXDOMAIN/);
    expect(out).toMatch(/ANSWER: 0, AUTHORITY: 1/);
    expect(out).toMatch(/AUTHORITY SECTION:\nexample\.com\.\s+300\s+IN\s+SOA\s+ns1\.example\.com\./);
  });

  it('NODATA (name exists, type does not) is NOERROR with the SOA in authority', async () => {
    const out = await dig(srv.port, ['www.example.com', 'MX']);
    expect(out).toMatch(/status: NOERROR/);
    expect(out).toMatch(/ANSWER: 0, AUTHORITY: 1/);
    expect(out).toMatch(/AUTHORITY SECTION:\nexample\.com\.\s+300\s+IN\s+SOA/);
  });

  it('REFUSED for names outside its zones, even with recursion desired: not an open resolver', async () => {
    const out = await dig(srv.port, ['+recurse', 'www.debian.org', 'A']);
    expect(out).toMatch(/status: REFUSED/);
    expect(out).toMatch(/ANSWER: 0,/);
    expect(out).not.toMatch(/flags:[^;]*\bra\b/);
  });

  it('EDNS: answers with its own OPT record and payload size', async () => {
    const out = await dig(srv.port, ['+edns=0', '+bufsize=4096', 'www.example.com']);
    expect(out).toMatch(/EDNS: version: 0, flags:; udp: 1232/);
  });

  it('AXFR from loopback: the whole zone over TCP, SOA first and last', async () => {
    const out = await dig(srv.port, ['example.com', 'AXFR']);
    const lines = out.split('\n').filter((l) => /^\S+\.\s+\d+\s+IN\s+/.test(l));
    expect(lines[0]).toMatch(/\sSOA\s/);
    expect(lines.at(-1)).toMatch(/\sSOA\s/);
    expect(lines.filter((l) => /\sSOA\s/.test(l))).toHaveLength(2);
    expect(out).toMatch(/XFR size: \d+ records/);
    expect(lines.some((l) => /^many\.example\.com\..*192\.0\.2\.140$/.test(l))).toBe(true);
  });

  it('AXFR over UDP is refused', async () => {
    const sock = dgram.createSocket('udp4');
    try {
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no reply')), 5000);
        sock.on('message', (b) => {
          clearTimeout(t);
          resolve(b);
        });
        sock.send(encode(buildQuery('example.com', TYPES.AXFR, { id: 9 })), srv.port, '127.0.0.1');
      });
      const m = decode(reply);
      expect(m.id).toBe(9);
      expect(m.flags.rcode).toBe(RCODES.REFUSED);
      expect(m.answers).toHaveLength(0);
    } finally {
      sock.close();
    }
  });
});

describeWithPeers('dns serve: truncation and transfer policy seen in the log', ['dig'], () => {
  it('+noedns on a large RRset: TC=1 over UDP, then the same question over TCP from another port', async () => {
    using dir = tempDir();
    const srv = await startDns(['--zone', EXAMPLE_ZONE], dir.path);
    let out: string;
    try {
      out = await dig(srv.port, ['+noedns', 'many.example.com', 'A']);
    } finally {
      await srv.stop();
    }
    expect(out).toContain(';; Truncated, retrying in TCP mode.');
    expect(out).toMatch(/ANSWER: 40,/);
    expect(out).toContain('(TCP)');
    const q = srv.records().filter((r) => r.event === 'dns.query' && r.qname === 'many.example.com');
    expect(q.map((r) => [r.transport, r.tc])).toEqual([
      ['udp', true],
      ['tcp', false],
    ]);
    expect(q[0]!.size as number).toBeLessThanOrEqual(512);
    expect(q[1]!.size as number).toBeGreaterThan(512);
    const port = (r: Record<string, unknown>) => Number(String(r.from).split(':').at(-1));
    expect(port(q[0]!)).not.toBe(port(q[1]!));
    expect(q[0]!.pair).toMatch(/^127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+$/);
    expect(q.every((r) => r.qtype === 'A' && r.rcode === 'NOERROR')).toBe(true);
  });

  it('AXFR allowed is logged as dns.axfr; a client outside --allow-transfer gets REFUSED', async () => {
    using dir = tempDir();
    const open = await startDns(['--zone', EXAMPLE_ZONE], dir.path, 'open');
    const closed = await startDns(['--zone', EXAMPLE_ZONE, '--allow-transfer', '10.0.0.0/8,192.0.2.0/24'], dir.path, 'closed');
    let ok: string;
    let refused: string;
    try {
      ok = await dig(open.port, ['example.com', 'AXFR']);
      refused = await dig(closed.port, ['example.com', 'AXFR']);
      // the refusing server still answers ordinary queries
      expect(await dig(closed.port, ['+short', 'www.example.com'])).toBe('192.0.2.80\n');
    } finally {
      await open.stop();
      await closed.stop();
    }
    expect(ok).toMatch(/XFR size: \d+ records/);
    expect(refused).toMatch(/Transfer failed\.|REFUSED/);
    expect(refused).not.toMatch(/XFR size/);
    const served = open.records().find((r) => r.event === 'dns.axfr')!;
    expect(served).toMatchObject({ transport: 'tcp', rcode: 'NOERROR', zone: 'example.com', serial: 2026112101 });
    const denied = closed.records().find((r) => r.event === 'dns.axfr')!;
    expect(denied).toMatchObject({ transport: 'tcp', rcode: 'REFUSED' });
    expect(denied.pair).toMatch(/^127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+$/);
  });
});

describeWithPeers('dns serve: UDP answers are capped at the server\'s size, not the client\'s (amplification)', ['dig'], () => {
  /** A zone with a ~15 KB TXT RRset: far above 1232 octets. */
  function bigTxtZone(dir: string): string {
    const f = join(dir, 'big.zone');
    const txt = Array.from({ length: 60 }, (_, i) => `big TXT "${String(i).padStart(3, '0')}${'x'.repeat(240)}"`);
    writeFileSync(f, ['$ORIGIN big.test.', '$TTL 300', '@ SOA ns h 1 3600 600 86400 300', '@ NS ns', 'ns A 127.0.0.1', ...txt, ''].join('\n'));
    return f;
  }
  const size = (out: string): number => Number(/MSG SIZE\s+rcvd: (\d+)/.exec(out)![1]);

  it('dig +bufsize=32767 +ignore: TC set and at most 1232 octets (the default --max-udp-size); a raw 65535 advertisement too', async () => {
    using dir = tempDir();
    await using srv = await startDns(['--zone', bigTxtZone(dir.path)], dir.path);
    // dig 9.18 sends its default 1232 for +bufsize above 32767, so 32767 is the largest it really asks for
    const out = await dig(srv.port, ['+bufsize=32767', '+ignore', 'big.big.test', 'TXT']);
    expect(out).toMatch(/; EDNS: version: 0, flags:; udp: 1232/);
    expect(out).toMatch(/;; flags: qr aa tc;/);
    expect(size(out)).toBeLessThanOrEqual(1232);
    const sock = dgram.createSocket('udp4');
    try {
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no reply')), 5000);
        sock.once('message', (b) => (clearTimeout(t), resolve(b)));
        sock.send(encode(buildQuery('big.big.test', TYPES.TXT, { id: 5, edns: 65535 })), srv.port, '127.0.0.1');
      });
      expect(reply.length).toBeLessThanOrEqual(1232);
      expect(decode(reply).flags.tc).toBe(true);
    } finally {
      sock.close();
    }
    // the whole RRset is still there over TCP
    expect(await dig(srv.port, ['+tcp', '+short', 'big.big.test', 'TXT']).then((o) => o.trim().split('\n').length)).toBe(60);
  });

  it('--max-udp-size 4096 raises the cap (BIND\'s max-udp-size)', async () => {
    using dir = tempDir();
    await using srv = await startDns(['--zone', bigTxtZone(dir.path), '--max-udp-size', '4096'], dir.path);
    const out = await dig(srv.port, ['+bufsize=32767', '+ignore', 'big.big.test', 'TXT']);
    expect(out).toMatch(/;; flags: qr aa tc;/);
    expect(size(out)).toBeGreaterThan(1232);
    expect(size(out)).toBeLessThanOrEqual(4096);
  });
});
