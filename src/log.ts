import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';
import { colourEnabled } from './colour.js';

export type { Logger };

export interface LogOptions {
  /** pino level; default `info` (env SOCKETLAB_LOG_LEVEL). */
  level?: LevelWithSilent;
  /** Append JSON lines here instead of writing them to stderr. */
  file?: string;
  /** Human-readable lines; default: when stderr is a TTY and no file is given. */
  pretty?: boolean;
  /** Process/service name stamped on every record (`socketlab-echo`, ...). */
  name?: string;
}

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * One logger per process. Records are JSON lines: every network event is one record carrying its
 * socket pair (`pair`, `local`, `remote`), which lab reports are later built from.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? (process.env.SOCKETLAB_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  const base = { name: opts.name ?? 'socketlab', pid: process.pid };
  if (opts.file) {
    // SOCKETLAB_LOG_SYNC=1 (set by the lab runner): every record reaches the file at once, so checks and
    // --step can read the events while the service runs. Otherwise asynchronous, see liveDestination.
    const live = process.env.SOCKETLAB_LOG_SYNC === '1';
    const dest = live ? pino.destination({ dest: opts.file, append: true, mkdir: true, sync: true }) : liveDestination(opts.file);
    return createJsonLogger(level, base, dest, opts.file);
  }
  const wantPretty = opts.pretty ?? (process.stderr.isTTY === true && process.env.CI !== 'true');
  if (wantPretty) {
    const stream = pretty({ destination: 2, colorize: colourEnabled(process.stderr), sync: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' });
    return pino({ level, base }, stream);
  }
  return createJsonLogger(level, base, liveDestination(2));
}

/** Where and how a JSON logger made here writes: what a fast path needs to write the same lines (dns/query-log.ts). */
export interface JsonLogSink {
  /** The documented pino destination (SonicBoom from pino.destination(), or any Writable). */
  destination: { write(line: string): unknown; once(event: 'drain', fn: () => void): unknown; flushSync?: () => void; sync?: boolean };
  /** The timestamp option: returns `,"time":...`. */
  time: () => string;
  /** The base bindings, in order. */
  base: Record<string, unknown>;
  /** The file the destination appends to (--log-file), if any: a fast path may append whole lines to it too. */
  file?: string;
}
const sinks = new WeakMap<Logger, JsonLogSink>();

/** A JSON-lines logger on `destination` (ISO time, `base` on every record); its sink is known to jsonLogSink(). */
export function createJsonLogger(level: LevelWithSilent, base: Record<string, unknown>, destination: JsonLogSink['destination'], file?: string): Logger {
  const time = pino.stdTimeFunctions.isoTime;
  const log = pino({ level, base, timestamp: time }, destination);
  sinks.set(log, { destination, time, base, ...(file !== undefined && { file }) });
  return log;
}

/** The sink of a logger made by createJsonLogger (not of its children, nor of a logger made elsewhere). */
export function jsonLogSink(log: Logger): JsonLogSink | undefined {
  return sinks.get(log);
}

/**
 * An asynchronous destination without a minimum write size: a record is handed to the kernel at
 * once (a write in the thread pool), and records logged while that write runs go out together in
 * the next one, so a busy server still batches. A 4 KiB minLength held a quiet server's first
 * records back until 4 KiB more came or the process exited: nothing in `| tee`, a supervisor or
 * `docker logs` for minutes. Flushed synchronously on exit.
 */
function liveDestination(dest: string | number): ReturnType<typeof pino.destination> {
  const d = pino.destination(typeof dest === 'number' ? { dest, sync: false, minLength: 0 } : { dest, append: true, mkdir: true, sync: false, minLength: 0 });
  flushOnExit(() => d.flushSync());
  return d;
}

/** A logger that drops everything: the default for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const flushers = new Set<() => void>();
let hooked = false;
/** Runs `fn` at process exit (in registration order, each on its own); returns the unregistration. */
export function flushOnExit(fn: () => void): () => void {
  flushers.add(fn);
  const off = (): void => void flushers.delete(fn);
  if (hooked) return off;
  hooked = true;
  process.on('exit', () => {
    for (const f of flushers) {
      try {
        f();
      } catch {
        // the stream may not be open yet: nothing was written to it
      }
    }
  });
  return off;
}
