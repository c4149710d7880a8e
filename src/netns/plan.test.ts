import { describe, expect, it } from 'vitest';
import { planTopology } from './topology.js';

describe('planTopology', () => {
  it('numbers each host interface eth0, eth1, ... in segment order', () => {
    const plan = planTopology({
      id: 'ab12',
      hosts: [{ name: 'client' }, { name: 'router', forwarding: true }, { name: 'server' }],
      segments: [
        { name: 'lan1', members: [{ host: 'client' }, { host: 'router', address: '10.0.1.1/24' }] },
        { name: 'lan2', members: [{ host: 'router', address: '10.0.2.1/24' }, { host: 'server', address: '10.0.2.2/24' }] },
      ],
    });
    expect(plan.id).toBe('ab12');
    expect(plan.interfaces.map((i) => [i.host, i.segment, i.ifname, i.switchPort, i.bridge])).toEqual([
      ['client', 'lan1', 'eth0', 'client-eth0', 'br-lan1'],
      ['router', 'lan1', 'eth0', 'router-eth0', 'br-lan1'],
      ['router', 'lan2', 'eth1', 'router-eth1', 'br-lan2'],
      ['server', 'lan2', 'eth0', 'server-eth0', 'br-lan2'],
    ]);
    expect(plan.interfaces[0]!.address).toBeUndefined();
  });

  it('rejects specs that cannot be built, naming the part at fault', () => {
    const hosts = [{ name: 'a' }, { name: 'b' }];
    expect(() => planTopology({ hosts: [] , segments: [] })).toThrow(/at least one host/);
    expect(() => planTopology({ hosts: [{ name: 'a' }, { name: 'a' }], segments: [] })).toThrow(/"a" is listed twice/);
    expect(() => planTopology({ hosts, segments: [{ name: 'lan', members: [{ host: 'c' }] }] })).toThrow(/names host "c", which is not in hosts/);
    expect(() => planTopology({ hosts, segments: [{ name: 'lan', members: [{ host: 'a' }, { host: 'a' }] }] })).toThrow(/twice/);
    expect(() => planTopology({ hosts, segments: [{ name: 'lan', members: [{ host: 'a', address: '10.0.0.1' }] }] })).toThrow(/segment "lan", host "a"/);
    expect(() => planTopology({ hosts: [{ name: 'a', ephemeralRange: [5000, 4000] }], segments: [] })).toThrow(/ephemeralRange/);
    expect(() => planTopology({ hosts, segments: [], routes: [{ host: 'a', to: 'default', via: 'router' }] })).toThrow(/not an IP address/);
    expect(() => planTopology({ hosts, segments: [], routes: [{ host: 'z', to: 'default', via: '10.0.0.1' }] })).toThrow(/"z"/);
    expect(() => planTopology({ id: 'Bad', hosts, segments: [] })).toThrow(/topology id/);
    const many = Array.from({ length: 11 }, (_, i) => ({ name: `s${i}`, members: [{ host: 'a' }] }));
    expect(() => planTopology({ hosts, segments: many })).toThrow(/more than 10 segments/);
  });

  it("keeps a member's fixed MAC (lowercased) and rejects a malformed, group or repeated one", () => {
    const hosts = [{ name: 'a' }, { name: 'b' }];
    const plan = planTopology({ hosts, segments: [{ name: 'lan', members: [{ host: 'a', mac: '02:00:00:00:01:0A' }, { host: 'b' }] }] });
    expect(plan.interfaces.map((i) => i.mac)).toEqual(['02:00:00:00:01:0a', undefined]);
    const one = (mac: string) => () => planTopology({ hosts, segments: [{ name: 'lan', members: [{ host: 'a', mac }] }] });
    expect(one('02:00:00:00:01')).toThrow(/segment "lan", host "a": MAC "02:00:00:00:01" must be six hex pairs/);
    expect(one('02-00-00-00-01-0a')).toThrow(/six hex pairs/);
    expect(one('01:00:5e:00:00:01')).toThrow(/group \(multicast\)/);
    expect(one('ff:ff:ff:ff:ff:ff')).toThrow(/group/);
    expect(one('00:00:00:00:00:00')).toThrow(/all zeros/);
    const twice = { hosts, segments: [{ name: 'lan', members: [{ host: 'a', mac: '02:00:00:00:00:01' }] }, { name: 'wan', members: [{ host: 'b', mac: '02:00:00:00:00:01' }] }] };
    expect(() => planTopology(twice)).toThrow(/segment "wan", host "b": MAC 02:00:00:00:00:01 is already a on lan's/);
  });
});
