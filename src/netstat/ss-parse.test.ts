import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseSs, parseSsEndpoint, parseSsUsers } from './ss-parse.js';
import type { SocketRecord } from './types.js';

// Real output recorded on this machine by test/netstat/record-fixtures.mjs; meta.json says which port is which.
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const meta = JSON.parse(fixture('meta.json')) as {
  pid: number; pythonPid: number; comm: string;
  tcp: { listen4: number; listen6: number; listenMapped: number; listenHalfOpen: number; listenLoDevice: number; listenFullBacklog: number;
    est4ClientPorts: number[]; est6ClientPort: number; estMappedClientPort: number; timeWaitClientPort: number; finWait2ClientPort: number };
  udp: { unconn4: number; unconn6: number; connected4: number; lo4: number; lo6: number };
};
const byLocal = (rows: SocketRecord[], proto: string, port: number, remotePort?: number): SocketRecord[] =>
  rows.filter((r) => r.proto === proto && r.local.port === port && (remotePort === undefined || r.remote.port === remotePort));
const one = (rows: SocketRecord[], proto: string, port: number, remotePort?: number): SocketRecord => {
  const found = byLocal(rows, proto, port, remotePort);
  expect(found, `${proto} ${port}->${remotePort}`).toHaveLength(1);
  return found[0]!;
};

describe('parseSsEndpoint', () => {
  it.each([
    ['127.0.0.1:7007', { address: '127.0.0.1', port: 7007, family: 'ipv4' }],
    ['[::1]:7007', { address: '::1', port: 7007, family: 'ipv6' }],
    ['[::ffff:127.0.0.1]:41301', { address: '::ffff:127.0.0.1', port: 41301, family: 'ipv6' }],
    ['0.0.0.0:*', { address: '0.0.0.0', port: 0, family: 'ipv4' }],
    ['[::]:*', { address: '::', port: 0, family: 'ipv6' }],
    ['*:*', { address: '::', port: 0, family: 'ipv6' }],
    ['*:7007', { address: '::', port: 7007, family: 'ipv6' }],
    ['0.0.0.0%lo:53', { address: '0.0.0.0', port: 53, device: 'lo', family: 'ipv4' }],
    ['127.0.0.53%lo:53', { address: '127.0.0.53', port: 53, device: 'lo', family: 'ipv4' }],
    ['[::]%lo:45730', { address: '::', port: 45730, device: 'lo', family: 'ipv6' }],
    ['[fe80::1]%eth0:123', { address: 'fe80::1', port: 123, device: 'eth0', family: 'ipv6' }],
    [':::22', { address: '::', port: 22, family: 'ipv6' }],
    ['::1:7007', { address: '::1', port: 7007, family: 'ipv6' }],
  ])('%s', (text, want) => {
    expect(parseSsEndpoint(text)).toEqual(want);
  });
  it.each(['LISTEN', '127.0.0.1', '1.2.3.4:70000', 'users:(("a",pid=1,fd=2))'])('rejects %s', (text) => {
    expect(parseSsEndpoint(text)).toBeUndefined();
  });
});

describe('parseSsUsers', () => {
  it('reads every process sharing a socket', () => {
    expect(parseSsUsers('users:(("python3",pid=9332,fd=3),("python3",pid=9291,fd=3))')).toEqual([
      { name: 'python3', pid: 9332, fd: 3 },
      { name: 'python3', pid: 9291, fd: 3 },
    ]);
  });
  it('keeps names with spaces and commas, and reads the old pid-less form', () => {
    expect(parseSsUsers('users:(("Web Content, 2",pid=12,fd=40))')).toEqual([{ name: 'Web Content, 2', pid: 12, fd: 40 }]);
    expect(parseSsUsers('users:(("sshd",812,3))')).toEqual([{ name: 'sshd', pid: 812, fd: 3 }]);
  });
  it('is empty without a users: column', () => {
    expect(parseSsUsers('')).toEqual([]);
  });
});

describe('parseSs on real samples', () => {
  for (const file of ['ss-a-tu.txt', 'ss-a-tu-p.txt', 'ss-a-tu-header.txt']) {
    describe(file, () => {
      const text = fixture(file);
      const { records, skipped } = parseSs(text);
      const withP = file.includes('-p');

      it('reads every line (header skipped, nothing left over)', () => {
        expect(skipped).toEqual([]);
        const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('Netid'));
        expect(records).toHaveLength(lines.length);
        expect(records.every((r) => r.proto === 'tcp' || r.proto === 'udp')).toBe(true);
      });

      it('IPv4 listener and its two ESTABLISHED pairs, both directions', () => {
        expect(one(records, 'tcp', meta.tcp.listen4, 0)).toMatchObject({ state: 'LISTEN', rawState: 'LISTEN', remote: { address: '0.0.0.0', port: 0 }, family: 'ipv4' });
        for (const c of meta.tcp.est4ClientPorts) {
          expect(one(records, 'tcp', c, meta.tcp.listen4)).toMatchObject({ state: 'ESTABLISHED', rawState: 'ESTAB', local: { address: '127.0.0.1' }, remote: { address: '127.0.0.1' } });
          expect(one(records, 'tcp', meta.tcp.listen4, c).state).toBe('ESTABLISHED');
        }
      });

      it('IPv6 [::1] and IPv4-mapped [::ffff:127.0.0.1] sockets', () => {
        expect(one(records, 'tcp', meta.tcp.listen6, 0)).toMatchObject({ state: 'LISTEN', local: { address: '::1' }, remote: { address: '::', port: 0 }, family: 'ipv6' });
        expect(one(records, 'tcp', meta.tcp.est6ClientPort, meta.tcp.listen6)).toMatchObject({ state: 'ESTABLISHED', local: { address: '::1' }, remote: { address: '::1' } });
        expect(one(records, 'tcp', meta.tcp.listenMapped, 0)).toMatchObject({ state: 'LISTEN', local: { address: '::ffff:127.0.0.1' }, remote: { address: '::' } });
        expect(one(records, 'tcp', meta.tcp.estMappedClientPort, meta.tcp.listenMapped).remote.address).toBe('::ffff:127.0.0.1');
      });

      it('closing states: TIME-WAIT (active closer), FIN-WAIT-2 / CLOSE-WAIT (half-closed)', () => {
        expect(one(records, 'tcp', meta.tcp.timeWaitClientPort, meta.tcp.listen4)).toMatchObject({ state: 'TIME-WAIT' });
        expect(one(records, 'tcp', meta.tcp.timeWaitClientPort, meta.tcp.listen4).process).toBeUndefined();
        expect(one(records, 'tcp', meta.tcp.finWait2ClientPort, meta.tcp.listenHalfOpen).state).toBe('FIN-WAIT-2');
        expect(one(records, 'tcp', meta.tcp.listenHalfOpen, meta.tcp.finWait2ClientPort).state).toBe('CLOSE-WAIT');
      });

      it('SYN-SENT against a listener whose accept queue is full', () => {
        const syn = records.filter((r) => r.remote.port === meta.tcp.listenFullBacklog && r.state === 'SYN-SENT');
        expect(syn.length).toBeGreaterThanOrEqual(1);
        expect(syn.every((r) => r.sendQ === 1)).toBe(true); // the unanswered SYN
        expect(one(records, 'tcp', meta.tcp.listenFullBacklog, 0).recvQ).toBe(1); // one connection waiting in the accept queue
      });

      it('UDP: UNCONN v4/v6, connected UDP as ESTABLISHED, device-bound wildcards', () => {
        expect(one(records, 'udp', meta.udp.unconn4)).toMatchObject({ state: 'UNCONN', local: { address: '127.0.0.1' }, remote: { address: '0.0.0.0', port: 0 } });
        expect(one(records, 'udp', meta.udp.unconn6)).toMatchObject({ state: 'UNCONN', local: { address: '::1' }, family: 'ipv6' });
        expect(one(records, 'udp', meta.udp.connected4)).toMatchObject({ state: 'ESTABLISHED', remote: { address: '127.0.0.1', port: meta.udp.unconn4 } });
        expect(one(records, 'udp', meta.udp.lo4)).toMatchObject({ local: { address: '0.0.0.0' }, device: 'lo', state: 'UNCONN' });
        expect(one(records, 'udp', meta.udp.lo6)).toMatchObject({ local: { address: '::' }, device: 'lo', family: 'ipv6' });
        expect(one(records, 'tcp', meta.tcp.listenLoDevice)).toMatchObject({ device: 'lo', state: 'LISTEN' });
      });

      it(withP ? 'the owning processes from users:(...)' : 'no process without -p', () => {
        const listener = one(records, 'tcp', meta.tcp.listen4, 0);
        if (!withP) {
          expect(records.every((r) => r.process === undefined)).toBe(true);
          return;
        }
        expect(listener.process).toEqual([{ name: meta.comm, pid: meta.pid, fd: expect.any(Number) }]);
        // a socket created before fork() belongs to both processes
        const shared = one(records, 'udp', meta.udp.lo4).process!;
        expect(shared).toHaveLength(2);
        expect(shared.map((p) => p.pid)).toContain(meta.pythonPid);
        expect(shared.every((p) => p.name === 'python3')).toBe(true);
      });
    });
  }

  it('ss -t alone has no Netid column: the protocol comes from the caller', () => {
    const { records, skipped } = parseSs(fixture('ss-a-t-p.txt'), { defaultProto: 'tcp' });
    expect(skipped).toEqual([]);
    expect(records.length).toBeGreaterThan(10);
    expect(records.every((r) => r.proto === 'tcp')).toBe(true);
    expect(one(records, 'tcp', meta.tcp.listen4, 0).process?.[0]?.pid).toBe(meta.pid);
  });
});

describe('parseSs on hand-made lines', () => {
  it('maps every ss state word', () => {
    const states = ['ESTAB', 'LISTEN', 'TIME-WAIT', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSING'];
    const text = states.map((s, i) => `tcp ${s} 0 0 127.0.0.1:${1000 + i} 127.0.0.1:80`).join('\n');
    expect(parseSs(text).records.map((r) => r.state)).toEqual([
      'ESTABLISHED', 'LISTEN', 'TIME-WAIT', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSING',
    ]);
  });
  it('UNCONN is UDP\'s no-state but a TCP socket in CLOSE', () => {
    const { records } = parseSs('udp UNCONN 0 0 0.0.0.0:68 0.0.0.0:*\ntcp UNCONN 0 0 0.0.0.0:5000 0.0.0.0:*');
    expect(records.map((r) => r.state)).toEqual(['UNCONN', 'CLOSED']);
  });
  it('reports lines it cannot read with their line number, and skips -e continuation lines', () => {
    const { records, skipped } = parseSs('tcp ESTAB 0 0 127.0.0.1:1 127.0.0.1:2\ngarbage here\n\t cubic wscale:7,7\ntcp LISTEN x 0 a b');
    expect(records).toHaveLength(1);
    expect(skipped.map((s) => s.lineNo)).toEqual([2, 3, 4]);
  });
});

describe('parseSsEndpoint properties', () => {
  it('reads back every endpoint formatEndpoint writes (IPv4 and IPv6, any port, with or without a device)', async () => {
    const fc = (await import('fast-check')).default;
    const { formatEndpoint } = await import('../socket-pair.js');
    const v6 = fc.ipV6().filter((a) => !a.includes('.'));
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), v6), fc.integer({ min: 1, max: 65535 }), fc.option(fc.constantFrom('lo', 'eth0', 'veth-sl1')), (address, port, dev) => {
        const text = formatEndpoint({ address, port });
        const withDev = dev ? text.replace(/:(\d+)$/, `%${dev}:$1`) : text;
        const got = parseSsEndpoint(withDev);
        expect(got?.address).toBe(address);
        expect(got?.port).toBe(port);
        expect(got?.device).toBe(dev ?? undefined);
      }),
      { numRuns: 500 },
    );
  });
});
