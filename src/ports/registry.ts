import { readFileSync } from 'node:fs';
import { invalidArgument } from '../errors.js';

/** IANA's three port groups (RFC 6335 section 6). */
export type PortCategory = 'well-known' | 'registered' | 'dynamic';
export type Transport = 'tcp' | 'udp';

export const PORT_RANGES = [
  { category: 'well-known', first: 0, last: 1023, also: 'system ports', use: 'server services; binding needs root or CAP_NET_BIND_SERVICE on Linux' },
  { category: 'registered', first: 1024, last: 49151, also: 'user ports', use: 'applications registered with IANA (e.g. 1433 MS SQL, 3306 MySQL)' },
  { category: 'dynamic', first: 49152, last: 65535, also: 'private / ephemeral ports', use: 'client source ports, picked by the OS for one conversation' },
] as const satisfies readonly { category: PortCategory; first: number; last: number; also: string; use: string }[];

export interface ServiceEntry {
  port: number;
  protocols: Transport[];
  name: string;
  description: string;
  /** Listed in the course notes' port table. */
  course: boolean;
  /** Where the course notes say something else about this port, and what really holds. */
  notesDiffer?: string;
}

/** Every port the course notes name, with the protocol IANA assigns it. */
const COURSE_TABLE: readonly ServiceEntry[] = [
  { port: 20, protocols: ['tcp'], name: 'ftp-data', description: 'File Transfer Protocol (FTP) - data', course: true },
  { port: 21, protocols: ['tcp'], name: 'ftp', description: 'File Transfer Protocol (FTP) - control', course: true },
  { port: 22, protocols: ['tcp'], name: 'ssh', description: 'Secure Shell (SSH), also SCP and SFTP', course: true },
  { port: 23, protocols: ['tcp'], name: 'telnet', description: 'Telnet', course: true },
  { port: 25, protocols: ['tcp'], name: 'smtp', description: 'Simple Mail Transfer Protocol (SMTP)', course: true },
  { port: 53, protocols: ['tcp', 'udp'], name: 'domain', description: 'Domain Name System (DNS): queries over UDP, TCP after TC=1 and for zone transfers', course: true, notesDiffer: 'the notes: "communication between two DNS servers always uses TCP". Server-to-server queries and NOTIFY are UDP too; TCP carries zone transfers (RFC 5936) and any query whose UDP answer was truncated, and every DNS server must support it (RFC 7766). DNS over TLS is TCP 853.' },
  { port: 67, protocols: ['udp'], name: 'bootps', description: 'DHCP server (BOOTP server)', course: true, notesDiffer: 'the notes list DHCP 67/68 as TCP: DHCP is UDP only (RFC 2131 4.1): a client without an address cannot open a TCP connection, it broadcasts datagrams.' },
  { port: 68, protocols: ['udp'], name: 'bootpc', description: 'DHCP client (BOOTP client)', course: true, notesDiffer: 'the notes list DHCP 67/68 as TCP: DHCP is UDP only; the client listens on udp/68, a fixed well-known port, not an ephemeral one.' },
  { port: 69, protocols: ['udp'], name: 'tftp', description: 'Trivial File Transfer Protocol (TFTP)', course: true, notesDiffer: 'the notes list TFTP 69 as TCP: TFTP is UDP only (RFC 1350); only the first request goes to 69, the transfer moves to ports both sides pick.' },
  { port: 80, protocols: ['tcp'], name: 'http', description: 'HyperText Transfer Protocol (HTTP)', course: true },
  { port: 110, protocols: ['tcp'], name: 'pop3', description: 'Post Office Protocol version 3 (POP3)', course: true },
  { port: 143, protocols: ['tcp'], name: 'imap', description: 'Internet Message Access Protocol (IMAP)', course: true },
  { port: 161, protocols: ['udp'], name: 'snmp', description: 'Simple Network Management Protocol (SNMP)', course: true },
  { port: 389, protocols: ['tcp', 'udp'], name: 'ldap', description: 'Lightweight Directory Access Protocol (LDAP)', course: true },
  { port: 443, protocols: ['tcp', 'udp'], name: 'https', description: 'HTTP over TLS (HTTPS); UDP for HTTP/3', course: true },
  { port: 445, protocols: ['tcp'], name: 'microsoft-ds', description: 'Server Message Block (SMB) over TCP', course: true },
  { port: 1102, protocols: ['tcp', 'udp'], name: 'adobeserver-1', description: 'Adobe Server 1', course: true },
  { port: 1433, protocols: ['tcp', 'udp'], name: 'ms-sql-s', description: 'Microsoft SQL Server', course: true },
  { port: 3306, protocols: ['tcp', 'udp'], name: 'mysql', description: 'MySQL', course: true },
  { port: 3389, protocols: ['tcp', 'udp'], name: 'ms-wbt-server', description: 'Remote Desktop Protocol (RDP)', course: true },
  { port: 5060, protocols: ['tcp', 'udp'], name: 'sip', description: 'Session Initiation Protocol (SIP)', course: true },
  { port: 5061, protocols: ['tcp', 'udp'], name: 'sips', description: 'SIP over TLS', course: true },
];

/** Common aliases a learner types; /etc/services spells them differently. */
const ALIASES: Record<string, string> = {
  dns: 'domain', dhcp: 'bootps', 'dhcp-server': 'bootps', 'dhcp-client': 'bootpc', smb: 'microsoft-ds',
  rdp: 'ms-wbt-server', mssql: 'ms-sql-s', 'sql-server': 'ms-sql-s', www: 'http', 'pop': 'pop3', scp: 'ssh',
  sftp: 'ssh', 'adobe': 'adobeserver-1', echo: 'echo',
};

export function classifyPort(port: number): PortCategory {
  if (port <= 1023) return 'well-known';
  if (port <= 49151) return 'registered';
  return 'dynamic';
}

export function isValidPort(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 65535;
}

/** Strict port parser for flags and arguments: whole number 0-65535, with a reason otherwise. */
export function parsePort(text: string, what = 'port'): number {
  const t = String(text).trim();
  if (!/^-?\d+(\.\d+)?$/.test(t)) throw invalidArgument(`${what} "${text}" is not a number: a port is a whole number from 0 to 65535`);
  const n = Number(t);
  if (!Number.isInteger(n)) throw invalidArgument(`${what} ${text} is not a whole number: ports are 16-bit integers (0-65535)`);
  if (n < 0) throw invalidArgument(`${what} ${text} is negative: ports run from 0 to 65535`);
  if (n > 65535) throw invalidArgument(`${what} ${text} is out of range: a port is 16 bits, so the largest is 65535`);
  return n;
}

let merged: ServiceEntry[] | undefined;

/** The course table merged with /etc/services (course entries win; /etc/services fills the rest). */
export function serviceTable(etcServices = '/etc/services'): ServiceEntry[] {
  if (merged && etcServices === '/etc/services') return merged;
  const byKey = new Map<string, ServiceEntry>();
  for (const e of COURSE_TABLE) byKey.set(String(e.port), { ...e, protocols: [...e.protocols] });
  let text = '';
  try {
    text = readFileSync(etcServices, 'utf8');
  } catch {
    // no /etc/services (minimal containers): the built-in table still covers the course
  }
  for (const row of parseEtcServices(text)) {
    const key = String(row.port);
    // The course entries stay as IANA assigns them (21/udp in /etc/services is fsp, not FTP).
    if (!byKey.has(key)) byKey.set(key, row);
  }
  const table = [...byKey.values()].sort((a, b) => a.port - b.port);
  if (etcServices === '/etc/services') merged = table;
  return table;
}

/** `name port/proto [aliases...] # comment` lines, merged per port. */
export function parseEtcServices(text: string): ServiceEntry[] {
  const byPort = new Map<number, ServiceEntry>();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const comment = hash >= 0 ? raw.slice(hash + 1).trim() : '';
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (!line) continue;
    const [name, spec] = line.split(/\s+/);
    const m = /^(\d+)\/(tcp|udp|sctp|ddp)$/i.exec(spec ?? '');
    if (!name || !m) continue;
    const proto = m[2]!.toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp') continue;
    const port = Number(m[1]);
    const have = byPort.get(port);
    if (have) {
      if (!have.protocols.includes(proto)) have.protocols.push(proto);
    } else {
      byPort.set(port, { port, protocols: [proto], name, description: comment || name, course: false });
    }
  }
  return [...byPort.values()];
}

export function lookupPort(port: number): ServiceEntry | undefined {
  return serviceTable().find((e) => e.port === port);
}

export function lookupService(name: string): ServiceEntry | undefined {
  const n = name.trim().toLowerCase();
  const want = ALIASES[n] ?? n;
  return serviceTable().find((e) => e.name === want) ?? serviceTable().find((e) => e.name === n);
}

/** Short service name for a port, or undefined; used when labelling socket pairs. */
export function serviceName(port: number): string | undefined {
  return lookupPort(port)?.name;
}

export function courseTable(): ServiceEntry[] {
  return COURSE_TABLE.map((e) => ({ ...e, protocols: [...e.protocols] }));
}

export interface EphemeralRange {
  first: number;
  last: number;
  source: string;
}

export const IANA_DYNAMIC: EphemeralRange = { first: 49152, last: 65535, source: 'IANA (RFC 6335)' };

/** The range this kernel picks client source ports from, read where Linux keeps it. */
export function hostEphemeralRange(path = '/proc/sys/net/ipv4/ip_local_port_range'): EphemeralRange | undefined {
  try {
    const [a, b] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    if (a === undefined || b === undefined || !isValidPort(a) || !isValidPort(b)) return undefined;
    return { first: a, last: b, source: path };
  } catch {
    return undefined;
  }
}

export function inRange(port: number, r: EphemeralRange | undefined): boolean {
  return r !== undefined && port >= r.first && port <= r.last;
}

/** Why the host's range differs from IANA's, in one paragraph a learner can read. */
export const EPHEMERAL_EXPLANATION =
  "IANA reserves 49152-65535 for dynamic (ephemeral) ports, but each operating system picks its own " +
  'range for client source ports. Linux defaults to 32768-60999 (net.ipv4.ip_local_port_range), so ' +
  'its clients often use ports IANA calls "registered"; Windows since Vista follows IANA. Neither is an ' +
  'error: the source port only has to be free and unique for the socket pair.';

/** A port as a learner reads it: number, category and service name. */
export interface PortLabel {
  port: number;
  category: PortCategory;
  service?: string;
}

export function labelPort(port: number): PortLabel {
  const service = serviceName(port);
  return service ? { port, category: classifyPort(port), service } : { port, category: classifyPort(port) };
}

export function describeLabel(l: PortLabel): string {
  return l.service ? `${l.category}, ${l.service}` : l.category;
}
