import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseNetstat } from './netstat-parse.js';
import { parseSs } from './ss-parse.js';
import type { SocketRecord } from './types.js';
import { normalizeAddress } from '../socket-pair.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const meta = JSON.parse(fixture('meta.json')) as {
  pid: number; pythonPid: number; comm: string;
  tcp: Record<string, number> & { est4ClientPorts: number[] };
  udp: Record<string, number>;
};
const one = (rows: SocketRecord[], proto: string, port: number, remotePort?: number): SocketRecord => {
  const found = rows.filter((r) => r.proto === proto && r.local.port === port && (remotePort === undefined || r.remote.port === remotePort));
  expect(found, `${proto} ${port}->${remotePort}`).toHaveLength(1);
  return found[0]!;
};

describe('parseNetstat on real samples', () => {
  for (const file of ['netstat-a-tu.txt', 'netstat-a-tu-p.txt', 'netstat-a-tu-wide-p.txt']) {
    describe(file, () => {
      const text = fixture(file);
      const { records, skipped } = parseNetstat(text);
      const withP = file.includes('-p');

      it('reads every socket row, skipping the two header lines', () => {
        expect(skipped).toEqual([]);
        expect(records).toHaveLength(text.split('\n').filter((l) => /^(tcp|udp)/.test(l)).length);
      });

      it('tcp and tcp6 rows: LISTEN, ESTABLISHED both ways, IPv6 ::1 and :::*', () => {
        expect(one(records, 'tcp', meta.tcp.listen4!, 0)).toMatchObject({ state: 'LISTEN', rawState: 'LISTEN', family: 'ipv4', remote: { address: '0.0.0.0', port: 0 } });
        for (const c of meta.tcp.est4ClientPorts) {
          expect(one(records, 'tcp', c, meta.tcp.listen4).state).toBe('ESTABLISHED');
          expect(one(records, 'tcp', meta.tcp.listen4!, c).state).toBe('ESTABLISHED');
        }
        expect(one(records, 'tcp', meta.tcp.listen6!, 0)).toMatchObject({ state: 'LISTEN', family: 'ipv6', local: { address: '::1' }, remote: { address: '::', port: 0 } });
        expect(one(records, 'tcp', meta.tcp.est6ClientPort!, meta.tcp.listen6).state).toBe('ESTABLISHED');
        // netstat prints IPv4-mapped addresses of tcp6 sockets as plain IPv4
        expect(one(records, 'tcp', meta.tcp.listenMapped!, 0)).toMatchObject({ family: 'ipv6', local: { address: '127.0.0.1' } });
      });

      it('closing and opening states in netstat spelling', () => {
        expect(one(records, 'tcp', meta.tcp.timeWaitClientPort!, meta.tcp.listen4)).toMatchObject({ state: 'TIME-WAIT', rawState: 'TIME_WAIT' });
        expect(one(records, 'tcp', meta.tcp.finWait2ClientPort!, meta.tcp.listenHalfOpen)).toMatchObject({ state: 'FIN-WAIT-2', rawState: 'FIN_WAIT2' });
        expect(one(records, 'tcp', meta.tcp.listenHalfOpen!, meta.tcp.finWait2ClientPort).state).toBe('CLOSE-WAIT');
        expect(records.some((r) => r.remote.port === meta.tcp.listenFullBacklog && r.state === 'SYN-SENT' && r.rawState === 'SYN_SENT')).toBe(true);
      });

      it('udp rows: empty State is UNCONN, connected UDP is ESTABLISHED, udp6 :::port', () => {
        expect(one(records, 'udp', meta.udp.unconn4!)).toMatchObject({ state: 'UNCONN', rawState: '' });
        expect(one(records, 'udp', meta.udp.connected4!)).toMatchObject({ state: 'ESTABLISHED', remote: { port: meta.udp.unconn4 } });
        expect(one(records, 'udp', meta.udp.unconn6!)).toMatchObject({ state: 'UNCONN', family: 'ipv6', local: { address: '::1' } });
        expect(one(records, 'udp', meta.udp.lo6!)).toMatchObject({ local: { address: '::' }, remote: { address: '::', port: 0 } });
      });

      it(withP ? 'PID/Program name, and "-" as no process' : 'no process column without -p', () => {
        const listener = one(records, 'tcp', meta.tcp.listen4!, 0);
        if (!withP) {
          expect(records.every((r) => r.process === undefined)).toBe(true);
          return;
        }
        expect(listener.process).toEqual([{ name: meta.comm, pid: meta.pid }]);
        expect(one(records, 'udp', meta.udp.unconn4!).process).toEqual([{ name: meta.comm, pid: meta.pid }]);
        expect(one(records, 'tcp', meta.tcp.timeWaitClientPort!, meta.tcp.listen4).process).toBeUndefined();
      });
    });
  }

  it('ss and netstat agree on every recorded socket once IPv4-mapped addresses are normalised', () => {
    const key = (r: SocketRecord): string =>
      [r.proto, r.state, normalizeAddress(r.local.address), r.local.port, normalizeAddress(r.remote.address), r.remote.port].join(' ');
    const ss = parseSs(fixture('ss-a-tu-p.txt')).records.filter((r) => r.process?.some((p) => p.pid === meta.pid)).map(key).sort();
    const ns = parseNetstat(fixture('netstat-a-tu-p.txt')).records.filter((r) => r.process?.some((p) => p.pid === meta.pid)).map(key).sort();
    // the [::ffff:...] listener's peer is `*:*` in ss and `:::*` in netstat: both parse to ::
    expect(ns).toEqual(ss);
    expect(ss.length).toBeGreaterThan(15);
  });
});

describe('parseNetstat on hand-made lines', () => {
  it('maps net-tools state words', () => {
    const words = ['SYN_RECV', 'FIN_WAIT1', 'LAST_ACK', 'CLOSING', 'CLOSE'];
    const text = words.map((w, i) => `tcp        0      0 127.0.0.1:${2000 + i}          127.0.0.1:80            ${w}`).join('\n');
    expect(parseNetstat(text).records.map((r) => r.state)).toEqual(['SYN-RECV', 'FIN-WAIT-1', 'LAST-ACK', 'CLOSING', 'CLOSED']);
  });
  it('tcp6 :::22 with a program name containing a space; unix rows are skipped with a reason', () => {
    const { records, skipped } = parseNetstat('tcp6       0      0 :::22                   :::*                    LISTEN      812/sshd: /usr/sbin\nunix  2      [ ACC ]     STREAM     LISTENING     20412    /run/x.sock');
    expect(records).toEqual([expect.objectContaining({ proto: 'tcp', family: 'ipv6', state: 'LISTEN', local: { address: '::', port: 22 }, process: [{ name: 'sshd: /usr/sbin', pid: 812 }] })]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.reason).toMatch(/unix/);
  });
});
