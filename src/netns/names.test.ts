import { describe, expect, it } from 'vitest';
import {
  IFNAME_MAX,
  belongsToTopology,
  bridgeName,
  checkIfname,
  hostIfname,
  isSocketlabName,
  namespaceName,
  parseCidr,
  parseNamespaceName,
  randomId,
  switchNamespace,
  switchPortName,
  validateHostName,
  validateId,
  validateSegmentName,
} from './names.js';

describe('netns names', () => {
  it('builds sl-<id>-<host> namespaces and the sl-<id>-sw switch', () => {
    expect(namespaceName('ab12', 'client')).toBe('sl-ab12-client');
    expect(switchNamespace('ab12')).toBe('sl-ab12-sw');
    expect(parseNamespaceName('sl-ab12-dhcp-srv')).toEqual({ id: 'ab12', host: 'dhcp-srv' });
    expect(parseNamespaceName('other-ns')).toBeUndefined();
  });

  it('names interfaces eth<n>, switch ports <host>-eth<n>, bridges br-<segment>', () => {
    expect(hostIfname(0)).toBe('eth0');
    expect(switchPortName('router', 1)).toBe('router-eth1');
    expect(bridgeName('lan1')).toBe('br-lan1');
  });

  it('keeps every interface name within 15 characters, the kernel limit', () => {
    const host = validateHostName('a'.repeat(10));
    const seg = validateSegmentName('s'.repeat(12));
    expect(switchPortName(host, 9)).toHaveLength(IFNAME_MAX);
    expect(bridgeName(seg)).toHaveLength(IFNAME_MAX);
    expect(() => switchPortName(host, 10)).toThrow(/at most 15 characters/);
    expect(() => checkIfname('x'.repeat(16))).toThrow(/at most 15/);
    expect(() => checkIfname('a/b')).toThrow(/invalid/);
    expect(() => checkIfname('')).toThrow(/invalid/);
  });

  it('rejects host and segment names that would overflow or break the naming scheme', () => {
    expect(() => validateHostName('a'.repeat(11))).toThrow(/1-10 characters/);
    expect(() => validateHostName('Client')).toThrow(/invalid/);
    expect(() => validateHostName('1host')).toThrow(/invalid/);
    expect(() => validateHostName('bad_name')).toThrow(/invalid/);
    expect(() => validateHostName('trailing-')).toThrow(/invalid/);
    expect(() => validateHostName('sw')).toThrow(/reserved/);
    expect(validateHostName('dhcp-srv')).toBe('dhcp-srv');
    expect(() => validateSegmentName('s'.repeat(13))).toThrow(/br-/);
  });

  it('validates topology ids: short, [a-z0-9]', () => {
    expect(validateId('ab12')).toBe('ab12');
    expect(() => validateId('AB12')).toThrow(/a-z, 0-9/);
    expect(() => validateId('a-b')).toThrow(/a-z, 0-9/);
    expect(() => validateId('123456789')).toThrow(/1-8/);
    for (let i = 0; i < 50; i++) expect(validateId(randomId())).toMatch(/^[a-z0-9]{4}$/);
  });

  it('recognises socketlab names and nothing else', () => {
    expect(isSocketlabName('sl-ab12-client')).toBe(true);
    expect(isSocketlabName('sl-')).toBe(false);
    expect(isSocketlabName('slow-ns')).toBe(false);
    expect(isSocketlabName('other-test-1')).toBe(false);
    expect(belongsToTopology('sl-ab12-sw', 'ab12')).toBe(true);
    expect(belongsToTopology('sl-ab123-sw', 'ab12')).toBe(false);
  });

  it('parses CIDR addresses, IPv4 and IPv6, and says what is wrong', () => {
    expect(parseCidr('10.0.1.1/24', 'x')).toEqual({ address: '10.0.1.1', prefix: 24, family: 4 });
    expect(parseCidr('fd00:1::1/64', 'x')).toEqual({ address: 'fd00:1::1', prefix: 64, family: 6 });
    expect(() => parseCidr('10.0.1.1', 'segment "lan"')).toThrow(/segment "lan": "10.0.1.1" is not an address with prefix/);
    expect(() => parseCidr('10.0.1.1/33', 'x')).toThrow(/prefix/);
    expect(() => parseCidr('10.0.1/24', 'x')).toThrow(/prefix/);
  });
});
