/**
 * NOTIFY (RFC 1996): a primary tells its secondaries "the zone changed, check my SOA now".
 * Sent over UDP with the new SOA in the answer section, retried until acknowledged (3.6).
 */
import { netEvent } from '../events.js';
import { LabError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { parseEndpoint, type Endpoint } from '../socket-pair.js';
import { invalidArgument } from '../errors.js';
import { CLASSES, emptyFlags, OPCODES, rcodeName, TYPES, type Message } from './codec.js';
import { udpExchange } from './client.js';
import type { Zone } from './zone.js';
import { isIP } from 'node:net';

/** Parses `HOST:PORT[,HOST:PORT...]` (e.g. `127.0.0.1:5301,[::1]:5302`). */
export function parseTargets(text: string, what = '--notify'): Endpoint[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => parseHostPort(s, what));
}

/** `HOST:PORT` with a literal IP address (no name lookups: nothing leaves for a resolver). */
export function parseHostPort(text: string, what: string, defaultPort?: number): Endpoint {
  const hasPort = /^\[.*\]:\d+$/.test(text) || (/^[^:]*:\d+$/.test(text));
  const e = hasPort ? parseEndpoint(text) : { address: text.replace(/^\[|\]$/g, ''), port: defaultPort ?? -1 };
  if (!isIP(e.address)) throw invalidArgument(`${what}: "${text}" needs an IP address (like 127.0.0.1:5300); names are not looked up`);
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) throw invalidArgument(`${what}: "${text}" needs a port from 1 to 65535 (HOST:PORT)`);
  return e;
}

export function notifyMessage(zone: Zone): Message {
  return {
    id: Math.floor(Math.random() * 65536),
    flags: emptyFlags({ opcode: OPCODES.NOTIFY, aa: true }),
    questions: [{ name: zone.origin, type: TYPES.SOA, class: CLASSES.IN }],
    answers: [zone.soa],
    authorities: [],
    additionals: [],
  };
}

/** Notifies every target; resolves when each has answered or given up (never rejects). */
export async function sendNotifies(zone: Zone, targets: Endpoint[], log: Logger = silentLogger(), tries = 3, timeoutMs = 1000): Promise<boolean[]> {
  return Promise.all(
    targets.map(async (target) => {
      const msg = notifyMessage(zone);
      for (let i = 1; i <= tries; i++) {
        try {
          const r = await udpExchange(msg, target, timeoutMs);
          log.info(
            { ...netEvent('dns.notify', 'udp', r.local, target, 'in'), qname: zone.origin || '.', qtype: 'SOA', serial: zone.soa.data.serial, rcode: rcodeName(r.response.flags.rcode), size: r.size },
            'notify acknowledged',
          );
          return r.response.flags.rcode === 0;
        } catch (err) {
          if (!(err instanceof LabError) || err.code !== 'LAB_ERR_TIMEOUT' || i === tries) {
            log.warn({ zone: zone.origin || '.', target: `${target.address}:${target.port}`, err: (err as Error).message }, 'notify not acknowledged');
            return false;
          }
        }
      }
      return false;
    }),
  );
}
