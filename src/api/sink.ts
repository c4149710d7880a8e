import { pino, type Logger } from 'pino';
import { silentLogger } from '../log.js';
import { EventLog } from './events.js';
import type { NetEvent } from './types.js';

const LABELS = pino.levels.labels as Record<number, string>;

/**
 * A sink for pino JSON lines (in-process loggers and child processes' logs alike): each record
 * with an `event` goes to the EventLog, and every record at the caller's level to the caller's logger.
 */
export function recordSink(events: EventLog, user: Logger | undefined): (line: string) => void {
  return (line: string) => {
    if (!line.startsWith('{')) return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof rec.event === 'string') events.push(rec as NetEvent);
    const level = typeof rec.level === 'number' ? rec.level : 30;
    if (user && level >= user.levelVal) {
      const { level: _l, time: _t, msg, pid: _p, hostname: _h, ...rest } = rec;
      const method = LABELS[level] as 'info' | undefined;
      if (method && typeof user[method] === 'function') user[method](rest, typeof msg === 'string' ? msg : '');
    }
  };
}

/**
 * A logger for an in-process server: what it logs becomes events (and reaches the caller's logger).
 * With `keep` false the caller's logger itself (silent without one), unchanged, and no events: a
 * long-running server (the CLI's) keeps no growing list, and its records keep their own format.
 */
export function eventLogger(name: string, user: Logger | undefined, keep = true): { log: Logger; events: EventLog } {
  const events = new EventLog();
  if (!keep) {
    events.end();
    return { log: user ?? silentLogger(), events };
  }
  const sink = recordSink(events, user);
  // info at least, since network events are info records; more when the caller wants debug
  const level = user && user.levelVal < 30 ? user.level : 'info';
  // `sync: true` tells the DNS server's batched query log to hand over each record at once
  const stream = { sync: true, write: (s: string) => s.split('\n').forEach((l) => l && sink(l)) };
  const log = pino({ level, base: { name }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  return { log, events };
}
