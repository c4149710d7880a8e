import { BlockList, isIP } from 'node:net';
import { invalidArgument } from '../errors.js';
import { normalizeAddress } from '../socket-pair.js';

/** An address list from `10.0.0.0/24,127.0.0.1,::1` (a bare address is a /32 or /128). */
export interface Acl {
  readonly text: string;
  allows(address: string): boolean;
}

/** Parses a comma-separated CIDR list; throws an invalidArgument naming the bad entry. */
export function parseAcl(text: string, what = '--allow-transfer'): Acl {
  const list = new BlockList();
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw invalidArgument(`${what}: empty list (expected CIDRs like 127.0.0.0/8,10.0.0.0/24)`);
  for (const item of items) {
    const [addr, bits, extra] = item.split('/');
    const family = isIP(addr ?? '');
    if (!family || extra !== undefined) throw invalidArgument(`${what}: "${item}" is not an address or CIDR (like 10.0.0.0/24 or ::1/128)`);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!/^\d+$/.test(bits ?? String(max)) || prefix > max) throw invalidArgument(`${what}: prefix "/${bits}" in "${item}" must be 0-${max}`);
    list.addSubnet(addr!, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    text: items.join(','),
    allows(address: string): boolean {
      const a = normalizeAddress(address);
      const family = isIP(a);
      if (!family) return false;
      return list.check(a, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** The default transfer ACL: loopback only. */
export const LOOPBACK_ACL = '127.0.0.0/8,::1/128';
