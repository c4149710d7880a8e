import { describe, expect, it } from 'vitest';
import { planDocker, segmentIpam, setupScript, subnetOf } from './plan.js';

describe('docker plan', () => {
  it('Docker gateway: the last usable address the lab does not use', () => {
    expect(segmentIpam(['10.0.7.1/24'], false)).toEqual({ subnet: '10.0.7.0/24', gateway: '10.0.7.254' });
    expect(segmentIpam(['10.0.7.1/24', '10.0.7.254/24'], true)).toEqual({ subnet: '10.0.7.0/24', gateway: '10.0.7.253', ipRange: '10.0.7.248/29' });
    // IPv6: ::1 is the lab router in 10-slaac, Docker's default gateway would take it
    expect(segmentIpam(['2001:db8:10::1/64'], true)).toEqual({ subnet: '2001:db8:10::/64', gateway: '2001:db8:10:0:ffff:ffff:fffe:fffe', ipRange: '2001:db8:10:0:ffff:ffff:fffe:0/112' });
    expect(() => segmentIpam(['10.0.0.1/30'], false)).toThrow(/too small/);
  });

  it('subnets from host addresses', () => {
    expect(subnetOf('192.0.2.77/26').text).toBe('192.0.2.64/26');
    expect(subnetOf('fd00:1:2:3::9/48').text).toBe('fd00:1:2::/48');
  });

  it('plans names, interface order and explicit forwarding sysctls', () => {
    const plan = planDocker({
      id: 'ab1',
      hosts: [{ name: 'r', forwarding: true }, { name: 'pc', ephemeralRange: [40000, 40009] }],
      segments: [
        { name: 'core', members: [{ host: 'r', address: '10.0.1.1/24' }] },
        { name: 'edge', members: [{ host: 'r', address: '10.0.2.1/24' }, { host: 'pc' }] },
      ],
    });
    expect(plan.networks.map((n) => [n.name, n.bridge, n.ipv4?.gateway, n.ipv4?.ipRange])).toEqual([
      ['sl-ab1-core', 'slb-ab1-0', '10.0.1.254', undefined],
      ['sl-ab1-edge', 'slb-ab1-1', '10.0.2.254', '10.0.2.248/29'],
    ]);
    const [r, pc] = plan.hosts;
    expect(r!.interfaces.map((i) => i.ifname)).toEqual(['eth0', 'eth1']);
    expect(r!.sysctls['net.ipv4.ip_forward']).toBe('1');
    expect(pc!.sysctls).toMatchObject({ 'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': '0', 'net.ipv4.ip_local_port_range': '40000 40009' });
    expect(pc!.interfaces).toEqual([{ segment: 'edge', ifname: 'eth0' }]);
  });

  it('setup script renames through temporary names and flushes what the lab does not give', () => {
    const s = setupScript([{ mac: '02:42:0a:00:02:01', ifname: 'eth0', address: '10.0.2.1/24' }, { mac: '02:42:0a:00:01:01', ifname: 'eth1' }], [{ to: 'default', via: '10.0.2.254' }]);
    expect(s.indexOf('name sltmp1')).toBeLessThan(s.indexOf('sltmp0 name eth0'));
    expect(s).toContain('ip -6 addr flush dev eth0 scope global');
    expect(s).toContain('ip -4 addr flush dev eth1');
    expect(s).not.toContain('ip -4 addr flush dev eth0');
    expect(s).toContain('ip -4 route replace default via 10.0.2.254');
  });

  it("a lab's fixed MAC: planned per interface, set by the setup script while the link is down", () => {
    const plan = planDocker({ id: 'ab2', hosts: [{ name: 'pc' }], segments: [{ name: 'lan', members: [{ host: 'pc', address: '10.0.1.10/24', mac: '02:00:00:00:01:0a' }] }] });
    expect(plan.hosts[0]!.interfaces).toEqual([{ segment: 'lan', ifname: 'eth0', address: '10.0.1.10/24', mac: '02:00:00:00:01:0a' }]);
    const s = setupScript([{ mac: '02:42:0a:00:01:0a', ifname: 'eth0', address: '10.0.1.10/24', setMac: '02:00:00:00:01:0a' }], []);
    const set = s.indexOf('ip link set dev eth0 address 02:00:00:00:01:0a');
    expect(set).toBeGreaterThan(s.indexOf('sltmp0 name eth0'));
    expect(set).toBeLessThan(s.indexOf('ip link set dev eth0 up'));
    expect(setupScript([{ mac: '02:42:0a:00:01:0a', ifname: 'eth0' }], [])).not.toContain(' address ');
  });
});
