import { describe, expect, it } from 'vitest';
import { bigIntToIp, canonicalIp, formatIPv6, inCidr, intToIp, ipToBigInt, ipToInt, networkOf, parseCidr, parseHost } from './address.js';

describe('parseHost', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['0.0.0.0', '0.0.0.0'],
    ['localhost', '127.0.0.1'],
    ['LOCALHOST', '127.0.0.1'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
  ])('accepts %s as %s', (text, host) => expect(parseHost(text, '--host')).toBe(host));

  it.each(['', ' ', '999.1.1.1', 'example.com', '1.2.3', 'local host', '[127.0.0.1'])('rejects %j with exit 2', (text) => {
    expect(() => parseHost(text, '--host')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/--host/) }));
  });
});

describe('formatIPv6 (RFC 5952)', () => {
  const bytes = (text: string): Buffer => Buffer.from(text.split(':').flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]));
  // The old lab-export compressV6 shortened the FIRST run of zeros (1::2:0:0:0:3); RFC 5952 4.2.3
  // wants the LONGEST, the first one only on a tie.
  it.each([
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['fd00:0:0:1:0:0:0:0', 'fd00:0:0:1::'],
    ['1:0:0:2:0:0:3:0', '1::2:0:0:3:0'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8:0:0:0:0:0:ABCD', '2001:db8::abcd'],
  ])('%s -> %s', (full, text) => {
    expect(formatIPv6(bytes(full))).toBe(text);
    expect(formatIPv6(Buffer.concat([Buffer.alloc(3), bytes(full)]), 3)).toBe(text);
    expect(canonicalIp(full)).toBe(text);
  });
});

describe('IPv4 integers and CIDRs', () => {
  it('round-trips and keeps decimal parts decimal', () => {
    expect(ipToInt('10.0.1.2')).toBe(0x0a000102);
    expect(ipToInt(' 010.0.1.2 ')).toBe(0x0a000102);
    expect(intToIp(0xffffffff)).toBe('255.255.255.255');
    expect(() => ipToInt('10.0.1.256')).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => ipToInt('10.0.1')).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
  it.each([
    ['10.0.1.7/24', '10.0.1.0/24', 0xffffff00, '10.0.1.255'],
    ['0.0.0.0/0', '0.0.0.0/0', 0, '255.255.255.255'],
    ['192.168.1.1/32', '192.168.1.1/32', 0xffffffff, '192.168.1.1'],
  ])('parseCidr(%s)', (text, canon, mask, bcast) => {
    const c = parseCidr(text);
    expect(c.text).toBe(canon);
    expect(c.mask).toBe(mask);
    expect(intToIp(c.broadcast)).toBe(bcast);
    expect(inCidr(ipToInt(bcast), c)).toBe(true);
  });
  it('networkOf clears host bits in both families', () => {
    expect(networkOf('10.0.1.7/24')).toEqual({ address: '10.0.1.0', prefix: 24, family: 4, text: '10.0.1.0/24' });
    expect(networkOf('fd00:0:0:1::7/64').text).toBe('fd00:0:0:1::/64');
    expect(() => networkOf('10.0.0.0/33')).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

describe('wide integers (either family)', () => {
  it.each([
    ['10.0.7.254', 32, 0x0a0007fen],
    ['255.255.255.255', 32, 0xffffffffn],
    ['::1', 128, 1n],
    ['2001:db8:10:0:ffff:ffff:fffe:fffe', 128, 0x20010db800100000fffffffffffefffen],
  ] as const)('%s <-> %d bits %s', (text, bits, value) => {
    expect(ipToBigInt(text)).toEqual({ value, bits });
    expect(bigIntToIp({ value, bits })).toBe(text);
  });

  it('formats IPv6 per RFC 5952 (the longest zero run) and rejects non-addresses', () => {
    expect(bigIntToIp(ipToBigInt('1:0:0:2:0:0:0:3'))).toBe('1:0:0:2::3');
    expect(() => ipToBigInt('10.0.0')).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => ipToBigInt('010.0.0.1')).toThrow(/not an IP address/);
  });
});
