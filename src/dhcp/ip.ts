import { invalidArgument } from '../errors.js';

/** Dotted quad -> unsigned 32-bit integer; throws LabError on anything else. */
export function ipToInt(ip: string): number {
  // Hot path (several calls per request): plain a.b.c.d without the regex and arrays; anything
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
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
  if (!m) throw invalidArgument(`"${ip}" is not an IPv4 address (expected a.b.c.d)`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw invalidArgument(`"${ip}" is not an IPv4 address (each part is 0..255)`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
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
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (ipToInt(m[1]!) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  return { network, prefix, mask, broadcast, text: `${intToIp(network)}/${prefix}` };
}

export function inCidr(ip: number, c: Cidr): boolean {
  return ((ip & c.mask) >>> 0) === c.network;
}
