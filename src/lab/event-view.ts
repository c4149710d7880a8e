import type { LogRecord } from './checks.js';

import { recordFields, recordTime } from '../observe/annotate.js';

export { KEY_FIELDS } from '../observe/annotate.js';

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

/** When an event happened: the capture timestamp for a captured packet, else the log record's time. */
export const eventTime = (r: LogRecord): number => recordTime(r);

/** `qname=www.example.test qtype=A rcode=NOERROR` */
export const eventFields = (r: LogRecord): string => recordFields(r);
