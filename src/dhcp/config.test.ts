import { describe, it, expect } from 'vitest';
import { buildReservations, buildScopes, checkRepliesEncode, checkReplyOptions, inHostNetns } from './config.js';
import { intToIp } from './ip.js';

describe('dhcp serve flags', () => {
  it('ranges and routers attach to the subnet containing them', () => {
    const s = buildScopes({ subnet: ['10.0.1.0/24', '10.0.2.0/24'], range: ['10.0.2.100-10.0.2.150', '10.0.1.100-10.0.1.199'], router: ['10.0.2.1'] });
    expect(s.map((x) => [x.id, x.subnet.text, intToIp(x.first), intToIp(x.last), x.router])).toEqual([
      [1, '10.0.1.0/24', '10.0.1.100', '10.0.1.199', undefined],
      [2, '10.0.2.0/24', '10.0.2.100', '10.0.2.150', '10.0.2.1'],
    ]);
  });

  it.each([
    [{ subnet: ['10.0.1.0/24'], range: ['10.0.2.1-10.0.2.9'] }, /not inside any --subnet/],
    [{ subnet: ['10.0.1.0/24'], range: ['10.0.1.9-10.0.1.1'] }, /above the last/],
    [{ subnet: ['10.0.1.0/24'], range: [] }, /has no --range/],
    [{ subnet: ['10.0.1.0/24'], range: ['10.0.1.0-10.0.1.9'] }, /network or broadcast/],
    [{ subnet: ['10.0.1/24'], range: [] }, /not an IPv4 address|not a subnet/],
  ])('rejects %j', (flags, re) => {
    expect(() => buildScopes(flags)).toThrow(re);
  });

  it('reservations accept the three MAC forms and refuse double-booking', () => {
    const scopes = buildScopes({ subnet: ['10.0.1.0/24'], range: ['10.0.1.100-10.0.1.199'] });
    const r = buildReservations(['AA-BB-CC-DD-EE-01=10.0.1.50', 'aabb.ccdd.ee02=10.0.1.51', 'aa:bb:cc:dd:ee:03=10.0.1.52'], scopes);
    expect([...r]).toEqual([['aa:bb:cc:dd:ee:01', '10.0.1.50'], ['aa:bb:cc:dd:ee:02', '10.0.1.51'], ['aa:bb:cc:dd:ee:03', '10.0.1.52']]);
    expect(() => buildReservations(['aa:bb:cc:dd:ee:01=10.0.1.50', 'aa:bb:cc:dd:ee:02=10.0.1.50'], scopes)).toThrow(/already reserved/);
    expect(() => buildReservations(['aa:bb:cc:dd:ee:01'], scopes)).toThrow(/must be MAC=IP/);
  });
});

describe('dhcp serve: reply options that cannot be encoded are refused at start', () => {
  const base = { dns: [] as string[], leaseTime: 3600, timeScale: 1, leaseFlag: 3600 };
  it('names the option and why', () => {
    const dns = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`);
    expect(() => checkReplyOptions({ ...base, dns: dns(63) })).not.toThrow();
    expect(() => checkReplyOptions({ ...base, dns: dns(64) })).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/--dns: 64 servers take 256 bytes.*option 6/) }));
    expect(() => checkReplyOptions({ ...base, domain: 'a'.repeat(256) })).toThrow(/--domain: option 15 .* has 256/);
    expect(() => checkReplyOptions({ ...base, leaseTime: 2 ** 33, leaseFlag: 2 ** 32, timeScale: 0.5 })).toThrow(/option 51/);
  });
  it('a sample OFFER per scope is encoded with the options the policy will send', () => {
    const scopes = buildScopes({ subnet: ['10.0.1.0/24'], range: ['10.0.1.100-10.0.1.199'] });
    expect(() => checkRepliesEncode(scopes, () => ({ 51: 3600, 6: ['10.0.1.1'] }))).not.toThrow();
    expect(() => checkRepliesEncode(scopes, () => ({ 51: 3600, 6: Array.from({ length: 70 }, () => '10.0.1.1') }))).toThrow(/option 6 for subnet 10\.0\.1\.0\/24 cannot be encoded/);
  });
});

describe('inHostNetns in a socketlab Docker lab host', () => {
  it('SOCKETLAB_LAB_HOST (set by the docker backend on every container) counts as a lab host, not the host network', () => {
    const before = process.env.SOCKETLAB_LAB_HOST;
    try {
      delete process.env.SOCKETLAB_LAB_HOST;
      // vitest runs in this machine's own namespace
      expect(inHostNetns()).toBe(true);
      process.env.SOCKETLAB_LAB_HOST = 'pc1';
      expect(inHostNetns()).toBe(false);
    } finally {
      if (before === undefined) delete process.env.SOCKETLAB_LAB_HOST;
      else process.env.SOCKETLAB_LAB_HOST = before;
    }
  });
});
