import type { LogRecord } from './checks.js';

/** Protocol fields worth showing next to an event, in the order a learner reads them. */
export const KEY_FIELDS = ['flags', 'seq', 'ack', 'len', 'type', 'qname', 'qtype', 'rcode', 'tc', 'size', 'xid', 'chaddr', 'ciaddr', 'yiaddr', 'giaddr', 'bytes', 'state', 'serial', 'records'] as const;

/** The kind of packet an event record stands for, as Packet Tracer's simulation mode would name it. */
export function eventLabel(r: LogRecord): string {
  const t = (r.transport ?? '').toUpperCase();
  const type = typeof r.type === 'string' ? r.type.toUpperCase() : undefined;
  switch (r.event) {
    case 'tcp.accept':
      return 'TCP connect (SYN, SYN-ACK, ACK)';
    case 'tcp.close':
      return 'TCP close (FIN)';
    case 'tcp.segment': {
      const f = String(r.flags ?? '');
      const kind = f.includes('R') ? 'RST' : f.includes('S') ? (f.includes('.') ? 'SYN-ACK' : 'SYN') : f.includes('F') ? 'FIN' : f.includes('P') ? 'DATA' : 'ACK';
      const note = typeof r.annotation === 'string' ? r.annotation : '';
      return note.startsWith(kind) ? `TCP ${note}` : `TCP ${kind}${note ? ` (${note})` : ''}`;
    }
    case 'udp.datagram':
      return 'UDP datagram';
    case 'dns.query':
      return `DNS query and answer over ${t}${r.tc === true ? ' (answer truncated, TC=1)' : ''}`;
    case 'dns.axfr':
      return `AXFR zone transfer over ${t}`;
    case 'dns.notify':
      return 'DNS NOTIFY';
    case 'dhcp.in':
    case 'dhcp.out':
      return type ? (type.startsWith('DHCP') ? type : `DHCP${type}`) : `DHCP ${r.event === 'dhcp.in' ? 'in' : 'out'}`;
    case 'dhcp.lease':
      return `DHCP lease${r.state ? ` ${String(r.state)}` : ''}`;
    case 'dhcp.relay':
      return `DHCP relay${type ? ` ${type}` : ''}`;
    default:
      return `${r.event ?? 'event'}${t ? ` (${t})` : ''}`;
  }
}

/** When the event happened: a captured packet's own timestamp, else the log record's time. */
export function eventTime(r: LogRecord): number {
  return typeof r.captured === 'number' ? r.captured * 1000 : Date.parse(String(r.time ?? ''));
}

/** `qname=www.example.test qtype=A rcode=NOERROR` */
export function eventFields(r: LogRecord): string {
  // an unset BOOTP address field (0.0.0.0) says nothing; leave it out
  return KEY_FIELDS.filter((k) => r[k] !== undefined && r[k] !== null && r[k] !== '' && r[k] !== '0.0.0.0')
    .map((k) => `${k}=${k === 'xid' && typeof r[k] === 'number' ? `0x${r[k].toString(16).padStart(8, '0')}` : typeof r[k] === 'object' ? JSON.stringify(r[k]) : String(r[k])}`)
    .join(' ');
}
