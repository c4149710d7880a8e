/**
 * A secondary's zone maintenance (RFC 1034 4.3.5, RFC 1996): pull the zone by AXFR, check the
 * primary's SOA serial every refresh interval, transfer again when it grew, keep serving the last
 * good copy while the primary is unreachable, stop serving after SOA expire. NOTIFY from the
 * primary triggers an immediate check.
 */
import { netEvent } from '../events.js';
import { silentLogger, type Logger } from '../log.js';
import { formatEndpoint, normalizeAddress, type Endpoint } from '../socket-pair.js';
import { canonicalName, emptyFlags, OPCODES, RCODES, TYPES, type Message, type SoaData } from './codec.js';
import { LabError } from '../errors.js';
import { setLongTimeout, type LongTimer } from '../core/timers.js';
import { sessionAxfr, sessionQuery, TcpSession } from './client.js';
import { buildZone, serialGreater, type Zone } from './zone.js';

export interface SecondaryOptions {
  primary: Endpoint;
  origin: string;
  /** Override the SOA refresh interval (seconds). */
  refreshS?: number;
  log?: Logger;
  /** Called with each new zone, or undefined when the copy expired. */
  onZone: (zone: Zone | undefined) => void;
  /** Injected clock (ms) for expiry decisions. */
  now?: () => number;
  timeoutMs?: number;
}

export interface Secondary {
  /** First transfer attempt (success or not); resolves either way. */
  ready: Promise<void>;
  zone(): Zone | undefined;
  /** Why the last check failed (undefined after a success). */
  lastError(): string | undefined;
  /** Builds the NOTIFY response and schedules a check when it came from the primary. */
  notify(query: Message, client: Endpoint): Message;
  /** Check the primary now (coalesced with a check already running). */
  check(reason: string): Promise<void>;
  close(): void;
}

export function startSecondary(opts: SecondaryOptions): Secondary {
  const log = opts.log ?? silentLogger();
  const now = opts.now ?? Date.now;
  const origin = canonicalName(opts.origin);
  const timeoutMs = opts.timeoutMs ?? 2000;
  const primaryText = formatEndpoint(opts.primary);
  let zone: Zone | undefined;
  let lastOk = 0;
  let timer: LongTimer | undefined;
  let expireTimer: LongTimer | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let lastError: string | undefined;

  const soa = (): SoaData | undefined => zone?.soa.data;
  // SOA REFRESH/RETRY/EXPIRE are 32-bit seconds (up to 136 years); setTimeout holds 24.8 days and
  // fires a longer delay after 1 ms — a 30-day refresh became ~680 SOA queries a second, forever.
  const schedule = (seconds: number): void => {
    if (closed) return;
    timer?.clear();
    timer = setLongTimeout(() => void check('refresh'), Math.max(1, seconds) * 1000);
  };
  const expireZone = (): void => {
    if (!zone) return;
    log.error({ zone: origin || '.', expire: zone.soa.data.expire }, 'zone expired: no contact with the primary for SOA expire seconds; no longer serving it');
    zone = undefined;
    opts.onZone(undefined);
  };
  /** (Re)arms the expire timer after contact with the primary (RFC 1035 3.3.13 EXPIRE). */
  const touchExpire = (): void => {
    expireTimer?.clear();
    if (closed || !zone) return;
    expireTimer = setLongTimeout(expireZone, zone.soa.data.expire * 1000);
  };

  // One TCP connection to the primary, reused for SOA checks and transfers until the primary
  // closes it (its idle timeout): the server-to-server connection a learner finds in netstat.
  const session = new TcpSession(opts.primary, (local) =>
    log.info({ ...netEvent('tcp.connect', 'tcp', local, opts.primary), zone: origin || '.' }, 'connected to primary'),
  );
  /** Runs `fn` on the session; a connection the primary closed meanwhile is reopened once. */
  const onSession = async <T>(fn: () => Promise<T>): Promise<T> => {
    const reused = session.open;
    try {
      return await fn();
    } catch (err) {
      if (!reused || !(err instanceof LabError) || err.code !== 'LAB_ERR_CONNECT') throw err;
      session.close();
      return fn();
    }
  };

  const transfer = async (reason: string): Promise<void> => {
    const t = await onSession(() => sessionAxfr(session, origin, Math.max(timeoutMs, 10_000)));
    const local = t.local;
    const z = buildZone(origin, t.records, `axfr from ${primaryText}`);
    const old = zone?.soa.data.serial;
    zone = z;
    lastOk = now();
    touchExpire();
    opts.onZone(z);
    log.info(
      { ...netEvent('dns.axfr', 'tcp', local, opts.primary, 'out'), zone: origin || '.', serial: z.soa.data.serial, previousSerial: old ?? null, records: t.records.length, messages: t.messages, size: t.size, reason, rcode: 'NOERROR' },
      'zone transferred from primary',
    );
  };

  const doCheck = async (reason: string): Promise<void> => {
    try {
      if (!zone) {
        await transfer(reason);
      } else {
        const r = await onSession(() => sessionQuery(session, origin, TYPES.SOA, timeoutMs));
        const remote = r.response.answers.find((a) => a.type === TYPES.SOA)?.data as SoaData | undefined;
        if (!remote) throw new Error(`primary ${primaryText} answered the SOA query without a SOA (rcode ${r.response.flags.rcode})`);
        const local = zone.soa.data.serial;
        log.info({ ...netEvent('dns.query', r.transport, r.local, opts.primary, 'in'), qname: origin || '.', qtype: 'SOA', rcode: 'NOERROR', size: r.size, tc: false, serial: remote.serial, localSerial: local, reason }, 'primary serial checked');
        if (serialGreater(remote.serial, local)) await transfer(reason);
        else {
          lastOk = now();
          touchExpire();
        }
      }
      lastError = undefined;
      schedule(opts.refreshS ?? soa()!.refresh);
    } catch (err) {
      lastError = (err as Error).message;
      const s = soa();
      const retry = s ? s.retry : (opts.refreshS ?? 5);
      log.warn({ zone: origin || '.', primary: primaryText, err: (err as Error).message, retryInS: retry }, 'cannot reach primary; keeping the last good copy');
      if (s && zone && now() - lastOk > s.expire * 1000) expireZone();
      schedule(Math.min(retry, opts.refreshS ?? retry));
    }
  };

  async function check(reason: string): Promise<void> {
    if (closed) return;
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await doCheck(reason);
      } while (again && !closed);
    })().finally(() => (running = undefined));
    return running;
  }

  const ready = check('startup');

  return {
    ready,
    zone: () => zone,
    lastError: () => lastError,
    check,
    notify(q: Message, client: Endpoint): Message {
      const qn = q.questions[0] ? canonicalName(q.questions[0].name) : undefined;
      const fromPrimary = normalizeAddress(client.address) === normalizeAddress(opts.primary.address);
      // RFC 1996 3.10: only act on NOTIFY from a known master, for our zone
      const ok = fromPrimary && qn === origin;
      if (ok) setImmediate(() => void check('notify'));
      return {
        id: q.id,
        flags: emptyFlags({ qr: true, aa: ok, opcode: OPCODES.NOTIFY, rcode: ok ? RCODES.NOERROR : qn === origin ? RCODES.REFUSED : RCODES.NOTAUTH }),
        questions: q.questions.slice(0, 1),
        answers: [],
        authorities: [],
        additionals: [],
      };
    },
    close() {
      closed = true;
      timer?.clear();
      expireTimer?.clear();
      session.close();
    },
  };
}
