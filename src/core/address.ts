import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
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

// ---------------------------------------------------------------------------------------------
// Address math, on ipaddr.js (one place instead of one hand-rolled copy per protocol)

/** Dotted quad -> unsigned 32-bit integer; throws LabError on anything else. */
export function ipToInt(ip: string): number {
  // Hot path (several calls per DHCP request): plain a.b.c.d without the regex and arrays; anything
  // else (spaces, errors) goes through the checked parser below, which gives the same value.
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + c - 48;
      digits++;
    } else if (c === 46 && digits > 0 && dots < 3 && part <= 255) {
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return ipToIntChecked(ip);
  }
  if (dots !== 3 || digits === 0 || part > 255) return ipToIntChecked(ip);
  return n * 256 + part;
}

function ipToIntChecked(ip: string): number {
  // decimal parts only: ipaddr.js (like inet_aton) would read 010 as octal 8, a learner means 10
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
  if (!m) throw invalidArgument(`"${ip}" is not an IPv4 address (expected a.b.c.d)`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw invalidArgument(`"${ip}" is not an IPv4 address (each part is 0..255)`);
  return ipaddr.IPv4.parse(parts.join('.')).toByteArray().reduce((a, o) => a * 256 + o, 0);
}

/** Unsigned 32-bit integer -> dotted quad. */
export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** An IPv4 subnet: network, prefix length, mask and broadcast as integers. */
export interface Cidr {
  network: number;
  prefix: number;
  mask: number;
  broadcast: number;
  text: string;
}

/** Parses `10.0.1.0/24` (host bits are cleared: `10.0.1.1/24` names the same subnet). */
export function parseCidr(text: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m || Number(m[2]) > 32) throw invalidArgument(`"${text}" is not a subnet (expected CIDR like 10.0.1.0/24)`);
  const prefix = Number(m[2]);
  const mask = ipToInt(ipaddr.IPv4.subnetMaskFromPrefixLength(prefix).toString());
  const network = (ipToInt(m[1]!) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  return { network, prefix, mask, broadcast, text: `${intToIp(network)}/${prefix}` };
}

export function inCidr(ip: number, c: Cidr): boolean {
  return ((ip & c.mask) >>> 0) === c.network;
}

/**
 * 16 octets (at `offset` of `bytes`) as IPv6 text in RFC 5952 form: lowercase, no leading zeros,
 * and `::` for the longest run of two or more zero groups, the first such run on a tie (4.2.3).
 */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  return ipaddr.fromByteArray([...bytes.subarray(offset, offset + 16)]).toString();
}

/** Any IP text to its canonical form (IPv6 per RFC 5952); throws LabError when it is not an address. */
export function canonicalIp(text: string): string {
  if (isIP(text) === 0) throw invalidArgument(`"${text}" is not an IP address`);
  return ipaddr.parse(text).toString();
}

/** A CIDR's network address and prefix, as canonical text (`10.0.1.7/24` -> `10.0.1.0/24`, `fd00::1/64` -> `fd00::/64`). */
export function networkOf(cidr: string): { address: string; prefix: number; family: 4 | 6; text: string } {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(cidr.trim());
  } catch {
    throw invalidArgument(`"${cidr}" is not a subnet (expected CIDR like 10.0.1.0/24 or fd00::/64)`);
  }
  const [addr, prefix] = parsed;
  const family = addr.kind() === 'ipv4' ? 4 : 6;
  const address = (family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(cidr.trim()) : ipaddr.IPv6.networkAddressFromCIDR(cidr.trim())).toString();
  return { address, prefix, family, text: `${address}/${prefix}` };
}

/** An address as an unsigned integer as wide as its family (32 or 128 bits), for subnet arithmetic in either family. */
export interface WideAddress {
  value: bigint;
  bits: 32 | 128;
}

/** IPv4 or IPv6 text -> its integer value and width; throws LabError when it is not an address. */
export function ipToBigInt(text: string): WideAddress {
  if (isIP(text) === 0) throw invalidArgument(`"${text}" is not an IP address`);
  const bytes = ipaddr.parse(text).toByteArray();
  return { value: bytes.reduce((a, o) => (a << 8n) | BigInt(o), 0n), bits: bytes.length === 4 ? 32 : 128 };
}

/** The inverse of ipToBigInt (IPv6 in RFC 5952 form); the value is taken modulo 2^bits. */
export function bigIntToIp({ value, bits }: WideAddress): string {
  const bytes = Array.from({ length: bits / 8 }, (_, i) => Number((value >> BigInt(bits - 8 - i * 8)) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}
