import { describe, expect, it } from 'vitest';
import { acceptSpec, parseUserRules, splitRule } from './firewall.js';

describe('DOCKER-USER rules', () => {
  it('finds socketlab rules in iptables -S output, by lab and bridge, and leaves the others', () => {
    const text = [
      '-N DOCKER-USER',
      `-A DOCKER-USER ${acceptSpec('slb-l1abc-0', '07-dhcp').join(' ')}`,
      '-A DOCKER-USER -i eth0 -m comment --comment "my own rule" -j DROP',
      '-A DOCKER-USER -i slb-l2-1 -o slb-l2-1 -m comment --comment "socketlab.lab=x y" -j ACCEPT',
      '-A DOCKER-USER -j RETURN',
    ].join('\n');
    const rules = parseUserRules('iptables', text);
    expect(rules.map((r) => [r.lab, r.bridge])).toEqual([['07-dhcp', 'slb-l1abc-0'], ['x y', 'slb-l2-1']]);
    // what -D needs: the rule exactly as -I made it
    expect(rules[0]!.spec).toEqual(acceptSpec('slb-l1abc-0', '07-dhcp'));
  });

  it('splits quoted words', () => {
    expect(splitRule('-A X --comment "a \\"b\\" c" -j ACCEPT')).toEqual(['-A', 'X', '--comment', 'a "b" c', '-j', 'ACCEPT']);
  });
});
