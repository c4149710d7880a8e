import { isIP } from 'node:net';
import { invalidArgument } from '../errors.js';

/**
 * A host given on the command line: an IP literal (`127.0.0.1`, `::1`, `[::1]`) or `localhost`
 * (as 127.0.0.1). Nothing else: a name would go to the system resolver (and "" to every
 * interface), so a typo like 999.1.1.1 becomes a DNS query or a wildcard bind instead of an error.
 */
export function parseHost(text: string, what: string): string {
  const t = text.trim();
  const bare = /^\[.*\]$/.test(t) ? t.slice(1, -1) : t;
  if (bare.toLowerCase() === 'localhost') return '127.0.0.1';
  // isIP also takes a link-local literal with its zone (fe80::1%eth0)
  if (isIP(bare) !== 0) return bare;
  if (t === '') throw invalidArgument(`${what} is empty: give an IP address such as 127.0.0.1 or ::1 (0.0.0.0 / :: for every interface, on purpose)`);
  throw invalidArgument(`${what} "${text}" is not an IP address: give one such as 127.0.0.1, ::1 or 10.0.0.1 (names other than localhost are not looked up)`);
}
