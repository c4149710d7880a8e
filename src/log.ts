import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

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
    // Async buffered writes keep logging off the hot path; flushed on exit.
    // SOCKETLAB_LOG_SYNC=1 (set by the lab runner): every record reaches the file at once, so checks and
    // --step can read the events while the service runs.
    const live = process.env.SOCKETLAB_LOG_SYNC === '1';
    const dest = pino.destination({ dest: opts.file, append: true, mkdir: true, sync: live, minLength: live ? 0 : 4096 });
    const logger = pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, dest);
    flushOnExit(() => dest.flushSync());
    return logger;
  }
  const wantPretty = opts.pretty ?? (process.stderr.isTTY === true && process.env.CI !== 'true');
  if (wantPretty) {
    const stream = pretty({ destination: 2, colorize: true, sync: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' });
    return pino({ level, base }, stream);
  }
  const dest = pino.destination({ dest: 2, sync: false, minLength: 4096 });
  flushOnExit(() => dest.flushSync());
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** A logger that drops everything: the default for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const flushers = new Set<() => void>();
let hooked = false;
function flushOnExit(fn: () => void): void {
  flushers.add(fn);
  if (hooked) return;
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
}
