/** One endpoint: IP address + port = socket (the course notes' definition). */
export interface Endpoint {
  address: string;
  port: number;
}

/** `127.0.0.1:7007`, `[::1]:7007` — brackets keep IPv6 readable next to the port. */
export function formatEndpoint(e: Endpoint): string {
  const host = e.address.includes(':') ? `[${e.address}]` : e.address;
  return `${host}:${e.port}`;
}

/** The course notes' socket pair form: `192.168.1.5:1099 <-> 192.168.1.7:80`. */
export function formatPair(local: Endpoint, remote: Endpoint): string {
  return `${formatEndpoint(local)} <-> ${formatEndpoint(remote)}`;
}

/** Parses `1.2.3.4:80`, `[::1]:80`, `*:80`, `::1:80` style endpoints as ss/netstat print them. */
export function parseEndpoint(text: string): Endpoint {
  const t = text.trim();
  const bracket = /^\[([^\]]*)\](?::(\d+|\*))?$/.exec(t);
  if (bracket) return { address: stripZone(bracket[1]!), port: portOf(bracket[2]) };
  const i = t.lastIndexOf(':');
  if (i < 0) return { address: t, port: 0 };
  return { address: stripZone(t.slice(0, i)), port: portOf(t.slice(i + 1)) };
}

function stripZone(address: string): string {
  // ss prints `fe80::1%eth0` and `127.0.0.1%lo`; the zone is not part of the socket's address.
  const pct = address.indexOf('%');
  return pct >= 0 ? address.slice(0, pct) : address;
}

function portOf(p: string | undefined): number {
  if (!p || p === '*') return 0;
  const n = Number(p);
  return Number.isInteger(n) ? n : 0;
}

/** IPv4-mapped IPv6 (`::ffff:127.0.0.1`) as the plain IPv4 address, as a learner expects to read it. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
