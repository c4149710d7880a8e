import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseTcpdumpLine, splitAddressPort } from './tcpdump-parse.js';
import { HandshakeAnnotator } from './annotate.js';
import { formatRecord } from './format.js';

const fixture = (name: string): string[] => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').split('\n');

describe('parseTcpdumpLine on recorded tcpdump 4.99 output', () => {
  it('parses an IPv4 SYN with every field', () => {
    const r = parseTcpdumpLine(
      '1795240305.371378 IP 127.0.0.1.54018 > 127.0.0.1.7999: Flags [S], seq 2486681758, win 65495, options [mss 65495,sackOK,TS val 2805190488 ecr 0,nop,wscale 10], length 0',
    );
    expect(r).toMatchObject({
      time: 1795240305.371378,
      family: 4,
      proto: 'tcp',
      src: '127.0.0.1:54018',
      dst: '127.0.0.1:7999',
      srcAddress: '127.0.0.1',
      srcPort: 54018,
      dstPort: 7999,
      flags: 'S',
      flagNames: ['SYN'],
      seq: 2486681758,
      win: 65495,
      len: 0,
    });
    // "sackOK" in the options must not be read as an ack number
    expect(r!.ack).toBeUndefined();
    expect(r!.interface).toBeUndefined();
  });

  it('parses SYN-ACK, data ranges and FIN', () => {
    const synAck = parseTcpdumpLine(
      '1795240305.371388 IP 127.0.0.1.7999 > 127.0.0.1.54018: Flags [S.], seq 3877989441, ack 2486681759, win 65483, options [mss 65495,sackOK,TS val 3666898799 ecr 2805190488,nop,wscale 10], length 0',
    )!;
    expect([synAck.flags, synAck.flagNames, synAck.seq, synAck.ack]).toEqual(['S.', ['SYN', 'ACK'], 3877989441, 2486681759]);
    const data = parseTcpdumpLine(
      '1795240305.372497 IP 127.0.0.1.54018 > 127.0.0.1.7999: Flags [P.], seq 1:6, ack 1, win 64, options [nop,nop,TS val 2805190489 ecr 3666898799], length 5',
    )!;
    expect([data.flagNames, data.seq, data.seqEnd, data.ack, data.len]).toEqual([['PSH', 'ACK'], 1, 6, 1, 5]);
    const fin = parseTcpdumpLine('1795240305.373344 IP 127.0.0.1.7999 > 127.0.0.1.54018: Flags [F.], seq 6, ack 6, win 64, options [nop,nop,TS val 3666898801 ecr 2805190490], length 0')!;
    expect([fin.flagNames, fin.seq, fin.ack]).toEqual([['FIN', 'ACK'], 6, 6]);
  });

  it('parses IPv6 endpoints and brackets them like socketlab does', () => {
    const r = parseTcpdumpLine(
      '1795240305.380291 IP6 ::1.7999 > ::1.59802: Flags [S.], seq 262036018, ack 1857193472, win 65464, options [mss 65476,sackOK,TS val 559230237 ecr 2795047670,nop,wscale 10], length 0',
    )!;
    expect(r).toMatchObject({ family: 6, src: '[::1]:7999', dst: '[::1]:59802', srcAddress: '::1', srcPort: 7999, flags: 'S.' });
  });

  it('parses UDP datagrams, plain and decoded by tcpdump (DNS)', () => {
    expect(parseTcpdumpLine('1795240305.382281 IP 127.0.0.1.37443 > 127.0.0.1.7998: UDP, length 4')).toMatchObject({
      proto: 'udp', src: '127.0.0.1:37443', dst: '127.0.0.1:7998', len: 4,
    });
    expect(parseTcpdumpLine('1795240305.382633 IP6 ::1.36694 > ::1.7998: UDP, length 5')).toMatchObject({ proto: 'udp', family: 6, dst: '[::1]:7998', len: 5 });
    const dns = parseTcpdumpLine('1795240375.404000 IP 127.0.0.1.43169 > 127.0.0.1.53: 40043+ [1au] A? example.com. (52)')!;
    expect(dns).toMatchObject({ proto: 'udp', dstPort: 53, len: 52, info: '40043+ [1au] A? example.com. (52)' });
  });

  it('parses DNS over TCP: the decode after length goes to info', () => {
    const r = parseTcpdumpLine(
      '1795240375.432296 IP 127.0.0.1.46525 > 127.0.0.1.53: Flags [P.], seq 1:55, ack 1, win 64, options [nop,nop,TS val 2633374766 ecr 231250828], length 54 38352+ [1au] A? example.com. (52)',
    )!;
    expect(r).toMatchObject({ proto: 'tcp', seq: 1, seqEnd: 55, len: 54, info: '38352+ [1au] A? example.com. (52)' });
  });

  it('parses the -i any prefix (interface and direction) and RST', () => {
    const r = parseTcpdumpLine('1795240364.401169 lo    In  IP6 ::1.7997 > ::1.56048: Flags [R.], seq 0, ack 1297354249, win 0, length 0')!;
    expect(r).toMatchObject({ interface: 'lo', direction: 'In', family: 6, flags: 'R.', flagNames: ['RST', 'ACK'], seq: 0, ack: 1297354249, win: 0 });
  });

  it('parses ICMP and leaves non-IP lines and banners out', () => {
    const [v4, v6] = fixture('tcpdump-lo-icmp.txt').map(parseTcpdumpLine);
    expect(v4).toMatchObject({ proto: 'icmp', family: 4, src: '127.0.0.1', dst: '127.0.0.1', len: 37, info: 'ICMP 127.0.0.1 udp port 7993 unreachable, length 37' });
    expect(v4!.srcPort).toBeUndefined();
    expect(v6).toMatchObject({ proto: 'icmp', family: 6, src: '::1', len: 57 });
    expect(parseTcpdumpLine('1795240400.000001 ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28')).toBeUndefined();
    expect(parseTcpdumpLine('listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes')).toBeUndefined();
    expect(parseTcpdumpLine('')).toBeUndefined();
    expect(parseTcpdumpLine('garbage > more garbage')).toBeUndefined();
  });

  it('splits address and port only where a valid address precedes the port', () => {
    expect(splitAddressPort('10.0.0.1.53', 4)).toEqual({ address: '10.0.0.1', port: 53 });
    expect(splitAddressPort('10.0.0.1', 4)).toEqual({ address: '10.0.0.1' });
    expect(splitAddressPort('fe80::1.546', 6)).toEqual({ address: 'fe80::1', port: 546 });
    expect(splitAddressPort('::ffff:10.0.0.1', 6)).toEqual({ address: '::ffff:10.0.0.1' });
    expect(splitAddressPort('::ffff:10.0.0.1.80', 6)).toEqual({ address: '::ffff:10.0.0.1', port: 80 });
  });

  it('parses every packet line of the recorded captures', () => {
    for (const name of ['tcpdump-lo-ipv4-ipv6.txt', 'tcpdump-any-rst.txt', 'tcpdump-lo-rst-dns.txt', 'tcpdump-lo-icmp.txt']) {
      const lines = fixture(name).filter((l) => l.trim());
      const recs = lines.map(parseTcpdumpLine);
      expect(recs.every((r) => r !== undefined && r.proto !== 'other'), name).toBe(true);
    }
  });
});

describe('HandshakeAnnotator', () => {
  const annotateAll = (lines: string[]) => {
    const a = new HandshakeAnnotator();
    return lines.map(parseTcpdumpLine).filter((r) => r !== undefined).map((r) => a.annotate(r!));
  };

  it('annotates the handshake, data and teardown of an IPv4 and an IPv6 connection', () => {
    const recs = annotateAll(fixture('tcpdump-lo-ipv4-ipv6.txt'));
    const conn = (fam: 4 | 6) => recs.filter((r) => r.family === fam && r.proto === 'tcp').map((r) => r.annotation);
    const expected = ['SYN', 'SYN-ACK', 'ACK (handshake done)', 'DATA', 'ACK', 'DATA', 'ACK', 'FIN', 'FIN', 'ACK (teardown done)'];
    expect(conn(4)).toEqual(expected);
    expect(conn(6)).toEqual(expected);
    expect(recs.filter((r) => r.proto === 'udp').map((r) => r.annotation)).toEqual(['DATAGRAM', 'DATAGRAM']);
    expect(recs[0]!.note).toMatch(/open/);
    expect(recs[3]!.note).toBe('5 bytes of payload');
  });

  it('annotates resets: refused connections and aborted ones', () => {
    const recs = annotateAll(fixture('tcpdump-lo-rst-dns.txt'));
    expect(recs.slice(0, 6).map((r) => r.annotation)).toEqual(['SYN', 'SYN-ACK', 'ACK (handshake done)', 'DATA', 'ACK', 'RST']);
    const any = annotateAll(fixture('tcpdump-any-rst.txt'));
    expect(any.filter((r) => r.family === 6).map((r) => r.annotation)).toEqual(['SYN', 'RST']);
  });

  it('tells a half-close ACK from the teardown ACK when the FINs are acknowledged separately', () => {
    const a = new HandshakeAnnotator();
    const seg = (src: string, dst: string, flags: string, len = 0) =>
      a.annotate(parseTcpdumpLine(`1.000000 IP ${src} > ${dst}: Flags [${flags}], seq 1, ack 1, win 64, length ${len}`)!).annotation;
    const c = '10.0.0.2.40000';
    const s = '10.0.0.1.80';
    expect([seg(c, s, 'S'), seg(s, c, 'S.'), seg(c, s, '.'), seg(c, s, 'F.'), seg(s, c, '.'), seg(s, c, 'P.', 10), seg(c, s, '.'), seg(s, c, 'F.'), seg(c, s, '.')]).toEqual([
      'SYN', 'SYN-ACK', 'ACK (handshake done)', 'FIN', 'ACK (half-closed)', 'DATA', 'ACK', 'FIN', 'ACK (teardown done)',
    ]);
    // a conversation seen from the middle: no handshake to complete
    expect(seg('10.0.0.3.1234', s, '.')).toBe('ACK');
  });

  it('formats lines whose annotation word a lab check can read', () => {
    const recs = annotateAll(fixture('tcpdump-lo-ipv4-ipv6.txt'));
    const lines = recs.map((r) => formatRecord(r, recs[0]!.time));
    expect(lines[0]).toMatch(/^\s*\+0\.000000\s+tcp\s+127\.0\.0\.1:54018 -> 127\.0\.0\.1:7999\s+\[S\]\s+SYN\s+seq 2486681758 len 0\s+client asks/);
    expect(lines[1]).toMatch(/\[S\.\]\s+SYN-ACK\s+seq 3877989441 ack 2486681759 len 0/);
    expect(lines[2]).toMatch(/\[\.\]\s+ACK \(handshake done\)/);
    expect(lines[3]).toMatch(/\[P\.\]\s+DATA\s+seq 1:6 ack 1 len 5/);
    expect(lines[20]).toMatch(/udp\s+127\.0\.0\.1:37443 -> 127\.0\.0\.1:7998\s+DATAGRAM\s+len 4/);
    const any = annotateAll(fixture('tcpdump-any-rst.txt'));
    expect(formatRecord(any[0]!, any[0]!.time)).toMatch(/^\s*\+0\.000000 lo in\s+tcp\s+127\.0\.0\.1:38118 -> 127\.0\.0\.1:7996\s+\[S\]\s+SYN\s/);
    // Only the annotation names a segment kind: no SYN/FIN/RST words elsewhere on a line.
    for (const [i, l] of lines.entries()) {
      const words = l.match(/\b(SYN|FIN|RST)\b/g) ?? [];
      expect(words.every((w) => recs[i]!.annotation.includes(w)), l).toBe(true);
    }
  });
});
