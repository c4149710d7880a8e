/**
 * One DNS message in, its wire responses out, for either transport: decode, ask the policy,
 * encode, cache, log. The transports (UDP in server.ts, TCP in tcp-session.ts) only move bytes.
 */
import type { Logger } from '../log.js';
import { netEvent } from '../events.js';
import type { Endpoint } from '../socket-pair.js';
import { decode, emptyFlags, encodeLimited, OPCODES, RCODES, rcodeName, typeName, type Message } from './codec.js';
import { answer, axfrMessages } from './policy.js';
import type { Zone } from './zone.js';
import type { Acl } from './acl.js';
import type { QueryLog } from './query-log.js';
import { cachedAnswer, withQueryId, type CachedAnswer, type ResponseCache } from './response-cache.js';

export interface QueryHandlerOptions {
  log: Logger;
  server: Endpoint;
  queryLog: QueryLog;
  zones: () => Zone[];
  acl: Acl;
  maxUdpSize: number;
  caches: { udp: ResponseCache; tcp: ResponseCache };
  onNotify?: (query: Message, client: Endpoint) => Message;
  unavailable?: () => readonly string[];
}

export type Transport = 'udp' | 'tcp';

export interface QueryHandler {
  /** The cached answer (logged), or undefined: then `fresh` answers it. */
  cached(buf: Buffer, transport: Transport, client: Endpoint): Buffer | undefined;
  /** Decodes and answers one message: the wire responses (several for AXFR, none to drop it). */
  fresh(buf: Buffer, transport: Transport, client: Endpoint): Buffer[];
}

export function createQueryHandler(o: QueryHandlerOptions): QueryHandler {
  const { log, server, queryLog, acl, maxUdpSize, caches } = o;

  const fresh = (buf: Buffer, transport: Transport, client: Endpoint): Buffer[] => {
    let query: Message;
    try {
      query = decode(buf, { rejectTrailing: true });
    } catch (err) {
      log.warn({ ...netEvent('dns.query', transport, client, server), size: buf.length, err: (err as Error).message }, 'malformed message');
      // RFC 1035 4.1.1: FORMERR when the header is readable and it is a query; otherwise drop.
      if (buf.length < 12 || (buf[2]! & 0x80) !== 0) return [];
      const r = encodeLimited({ id: buf.readUInt16BE(0), flags: emptyFlags({ qr: true, opcode: (buf[2]! >> 3) & 0xf, rcode: RCODES.FORMERR }), questions: [], answers: [], authorities: [], additionals: [] }).buf;
      queryLog(transport, client.address, client.port, { qname: '', qtype: '', rcode: 'FORMERR', tc: false }, r.length);
      return [r];
    }
    const q = query.questions[0];
    const meta = { qname: q ? q.name || '.' : '', qtype: q ? typeName(q.type) : '' };
    if (query.flags.opcode === OPCODES.NOTIFY && o.onNotify && !query.flags.qr) {
      const r = encodeLimited(o.onNotify(query, client)).buf;
      log.info({ ...netEvent('dns.notify', transport, client, server), ...meta, rcode: rcodeName(r[3]! & 0xf), size: r.length }, 'notify received');
      return [r];
    }
    const a = answer(query, o.zones(), { transport, transferAllowed: acl.allows(client.address), unavailable: o.unavailable?.(), maxUdpSize });
    if (!a.response) return [];
    if (a.axfr) {
      const msgs = axfrMessages(query, a.axfr).map((m) => encodeLimited(m).buf);
      const total = msgs.reduce((s, m) => s + m.length, 0);
      log.info(
        { ...netEvent('dns.axfr', transport, client, server), ...meta, zone: a.axfr.origin || '.', serial: a.axfr.soa.data.serial, records: a.axfr.records.length + 1, messages: msgs.length, size: total, rcode: 'NOERROR' },
        'zone transfer served',
      );
      return msgs;
    }
    const enc = encodeLimited(a.response, transport === 'udp' ? a.udpLimit : 65535);
    const c: CachedAnswer = cachedAnswer(enc.buf, meta.qname, meta.qtype, rcodeName(a.response.flags.rcode), enc.truncated || a.response.flags.tc);
    // AXFR (252) and IXFR (251) answers depend on who asks (the ACL): never cached
    if (query.flags.opcode === OPCODES.QUERY && q && q.type !== 252 && q.type !== 251) caches[transport].set(buf, c);
    queryLog(transport, client.address, client.port, c, enc.buf.length);
    if (a.response.flags.rcode === RCODES.REFUSED && q && (q.type === 252 || q.type === 251)) {
      log.info({ ...netEvent('dns.axfr', transport, client, server), ...meta, rcode: 'REFUSED' }, 'zone transfer refused');
    }
    return [enc.buf];
  };

  const cached = (buf: Buffer, transport: Transport, client: Endpoint): Buffer | undefined => {
    const hit = caches[transport].get(buf);
    if (!hit) return undefined;
    const out = withQueryId(hit, buf);
    queryLog(transport, client.address, client.port, hit, out.length);
    return out;
  };
  return { cached, fresh };
}
