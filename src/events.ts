import { formatEndpoint, formatPair, type Endpoint } from './socket-pair.js';

/**
 * The fields every network-event log record carries. Lab checks and HTML reports are built from
 * these records, so every server logs through `netEvent()`:
 *   log.info(netEvent('dns.query', 'udp', client, server, 'in'), 'query answered')
 * `event` names the kind (`tcp.accept`, `tcp.close`, `udp.datagram`, `dns.query`, `dns.axfr`,
 * `dhcp.in`, `dhcp.out`, ...); `from`/`to` give the direction of this message; `pair` is always
 * written client first, in the course notes' form `client:port <-> server:port`.
 */
export interface NetEventFields {
  event: string;
  transport: 'tcp' | 'udp';
  from: string;
  to: string;
  pair: string;
}

export function netEvent(
  event: string,
  transport: 'tcp' | 'udp',
  client: Endpoint,
  server: Endpoint,
  direction: 'in' | 'out' = 'in',
): NetEventFields {
  const c = formatEndpoint(client);
  const s = formatEndpoint(server);
  return {
    event,
    transport,
    from: direction === 'in' ? c : s,
    to: direction === 'in' ? s : c,
    pair: formatPair(client, server),
  };
}
