import { describe, it, expect } from 'vitest';
import { buildReservations, buildScopes } from './config.js';
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
