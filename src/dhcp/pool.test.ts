import { describe, it, expect, vi } from 'vitest';
import { AddressPool, ExpiryQueue } from './pool.js';
import { LeasePolicy } from './policy.js';
import { BOOTREQUEST, MessageType, Opt, type DhcpMessage } from './codec.js';
import { intToIp, ipToInt, parseCidr } from './ip.js';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('AddressPool (free-address index)', () => {
  it('agrees with a plain set on add/delete/has/nextFrom, for pool sizes across word and level edges', () => {
    for (const size of [1, 31, 32, 33, 1024, 1025, 40_000]) {
      const r = rng(size);
      const first = 0x0a000000 + 7;
      const pool = new AddressPool(first, first + size - 1);
      const ref = new Set<number>();
      const naiveNext = (a: number): number | undefined => {
        for (let x = Math.max(a, first); x < first + size; x++) if (ref.has(x)) return x;
        return undefined;
      };
      for (let step = 0; step < 3000; step++) {
        const a = first + Math.floor(r() * (size + 2)) - 1; // also just outside the pool
        const op = r();
        if (op < 0.45) {
          pool.add(a);
          if (a >= first && a < first + size) ref.add(a);
        } else if (op < 0.8) {
          pool.delete(a);
          ref.delete(a);
        } else {
          expect(pool.nextFrom(a), `size ${size} step ${step} next from ${a - first}`).toBe(naiveNext(a));
        }
        expect(pool.has(a)).toBe(ref.has(a));
        expect(pool.size).toBe(ref.size);
      }
    }
  });

  it('wraps round to the first member', () => {
    const pool = new AddressPool(100, 199);
    pool.add(120);
    expect(pool.nextWrapping(150)).toBe(120);
    pool.delete(120);
    expect(pool.nextWrapping(150)).toBeUndefined();
  });
});

describe('ExpiryQueue', () => {
  it('pops due items in time order, and only due ones', () => {
    const r = rng(3);
    const q = new ExpiryQueue<number>();
    const times = Array.from({ length: 500 }, () => Math.floor(r() * 1000));
    times.forEach((t, i) => q.push(t, i));
    const popped: number[] = [];
    for (let x = q.popDue(499); x !== undefined; x = q.popDue(499)) popped.push(times[x]!);
    expect(popped).toEqual(times.filter((t) => t <= 499).sort((a, b) => a - b));
    q.filter((i) => i % 2 === 0);
    const rest: number[] = [];
    for (let x = q.popDue(Infinity); x !== undefined; x = q.popDue(Infinity)) rest.push(times[x]!);
    expect(rest).toEqual(times.filter((t, i) => t > 499 && i % 2 === 0).sort((a, b) => a - b));
  });
});

describe('LeasePolicy on a full /16', () => {
  const SERVER = '10.9.0.1';
  const scope = { id: 1, subnet: parseCidr('10.9.0.0/16'), first: ipToInt('10.9.0.10'), last: ipToInt('10.9.255.250') };
  const discover = (mac: string): DhcpMessage => ({
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: 1, secs: 0, flags: 0, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: mac, sname: '', file: '', options: { [Opt.MESSAGE_TYPE]: MessageType.DISCOVER },
  });
  const mac = (i: number): string => `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

  it('a DISCOVER from a new client looks at a handful of addresses, not the whole pool (exhausted or with one address left)', () => {
    const now = 1_800_000_000_000;
    const p = new LeasePolicy({ scopes: [scope], serverId: SERVER, leaseTime: 3600, now: () => now });
    const size = scope.last - scope.first + 1;
    // every address bound except one near the end of the pool (the cursor starts at the beginning)
    const hole = scope.last - 5;
    const rows = [];
    for (let a = scope.first; a <= scope.last; a++) {
      if (a !== hole) rows.push({ address: intToIp(a), hwaddr: mac(a - scope.first), clientId: '', validLifetime: 3600, expire: now / 1000 + 3600, subnetId: 1, hostname: '', state: 0 as const });
    }
    p.load(rows);
    const checks = vi.spyOn(p as unknown as { availableTo: () => boolean }, 'availableTo');
    // the old allocator walked ~65k addresses from its cursor to reach the hole
    const first = p.handle(discover(mac(size + 1)), scope);
    expect(first.reply?.yiaddr).toBe(intToIp(hole));
    expect(checks.mock.calls.length).toBeLessThan(10);
    checks.mockClear();
    const none = p.handle(discover(mac(size + 2)), scope);
    expect(none.reply).toBeUndefined();
    expect(none.note).toMatch(/no free address/);
    expect(checks.mock.calls.length).toBeLessThan(10);
  });

  it('sweep() touches only due leases, and their addresses return to the pool', () => {
    let now = 1_800_000_000_000;
    const p = new LeasePolicy({ scopes: [scope], serverId: SERVER, leaseTime: 3600, now: () => now });
    const rows = [];
    for (let i = 0; i < 50_000; i++) rows.push({ address: intToIp(scope.first + i), hwaddr: mac(i), clientId: '', validLifetime: 3600, expire: now / 1000 + 3600 + (i < 3 ? -7200 : 0), subnetId: 1, hostname: '', state: 0 as const });
    p.load(rows);
    // walking every lease (the old sweep) would go through this iterator
    (p as unknown as { byAddr: Map<number, unknown> }).byAddr[Symbol.iterator] = () => {
      throw new Error('sweep walked every lease');
    };
    expect(p.sweep().map((r) => r.address)).toEqual([0, 1, 2].map((i) => intToIp(scope.first + i)));
    expect(p.sweep()).toEqual([]);
    now += 1000;
    // an expired lease's address is free for a new client (the cursor starts at the pool's first address)
    expect(p.handle(discover(mac(99_999)), scope).reply?.yiaddr).toBe(intToIp(scope.first));
  });
});

describe('ipToInt fast path', () => {
  it('agrees with the checked parser on dotted quads, leading zeros, and junk', () => {
    const checked = (ip: string): number | string => {
      const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
      if (!m) return 'error';
      const p = m.slice(1).map(Number);
      if (p.some((x) => x > 255)) return 'error';
      return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
    };
    const r = rng(9);
    const cases = ['0.0.0.0', '255.255.255.255', '10.0.1.7', '010.001.0.7', ' 10.0.0.1', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.256', '1..2.3', '1.2.3.', '.1.2.3', '', '1234.1.1.1', '1.2.3.4x'];
    for (let i = 0; i < 2000; i++) cases.push(Array.from({ length: 3 + Math.floor(r() * 3) }, () => String(Math.floor(r() * 300))).join('.'));
    for (const c of cases) {
      let got: number | string;
      try {
        got = ipToInt(c);
      } catch {
        got = 'error';
      }
      expect(got, c).toBe(checked(c));
    }
  });
});
