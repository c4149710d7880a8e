import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LabError } from '../errors.js';
import type { Logger } from 'pino';
import { EventLog } from './events.js';
import { recordSink } from './sink.js';
import type { TopologyHost } from './types.js';

/** The ready line every socketlab server prints (the lab runner waits for the same). */
const READY = /^socketlab-\S+ listening on /;

export interface CliChild {
  child: ChildProcess;
  events: EventLog;
  /** stdout lines so far. */
  lines: string[];
  /** Resolves with the exit code (null: killed). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Follows a JSON-lines file as it grows (the child writes each record synchronously), handing
 * every whole line to `onLine`. A file and not a pipe: Node's extra stdio is a socket pair, which
 * the child cannot reopen by path (/dev/fd/3: ENXIO).
 */
function follow(file: string, onLine: (line: string) => void): { read(): void; stop(): void } {
  let fd: number | undefined;
  let rest = '';
  const buf = Buffer.alloc(64 * 1024);
  const read = (): void => {
    try {
      fd ??= openSync(file, 'r');
    } catch {
      return; // not created yet
    }
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      const lines = (rest + buf.toString('utf8', 0, n)).split('\n');
      rest = lines.pop()!;
      for (const l of lines) if (l) onLine(l);
    }
  };
  const timer = setInterval(read, 25);
  timer.unref();
  return {
    read,
    stop() {
      clearInterval(timer);
      read();
      if (fd !== undefined) closeSync(fd);
    },
  };
}

/**
 * Runs `socketlab ARGS` inside a topology host, its JSON log (written synchronously, as the lab
 * runner has it) followed into `events`; stdout stays human text. Node cannot move its own
 * sockets into another namespace, hence a process there.
 */
export function spawnCli(host: TopologyHost, args: string[], log: Logger | undefined, events = new EventLog()): CliChild {
  const dir = mkdtempSync(join(tmpdir(), 'sl-api-log-'));
  const logFile = join(dir, 'log.jsonl');
  const child = host.socketlab(['--log-level', 'info', '--log-file', logFile, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SOCKETLAB_LOG_SYNC: '1', NO_COLOR: '1' },
  });
  const lines: string[] = [];
  const tail = follow(logFile, recordSink(events, log));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    // records logged before the ready line are events by the time a caller sees it
    tail.read();
    child.emit('stdout-line', l);
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => {
    const done = (code: number | null): void => {
      tail.stop();
      rmSync(dir, { recursive: true, force: true });
      resolve(code);
    };
    child.once('close', (code) => done(code));
    child.once('error', () => done(null));
  });
  const stop = async (graceMs = 5_000): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    }
    await exited;
  };
  Object.defineProperty(child, 'stderrTail', { get: () => stderr });
  return { child, events, lines, exited, stop };
}

/** The last lines of a child's stderr, for error messages. */
export function stderrTail(c: CliChild): string {
  const s = (c.child as unknown as { stderrTail: string }).stderrTail.trim();
  return s.split('\n').slice(-3).join(' | ') || 'no output';
}

/** Waits for the ready line; rejects (and stops the child) if it exits or times out first. */
export async function waitReady(c: CliChild, what: string, timeoutMs: number): Promise<string> {
  const seen = c.lines.find((l) => READY.test(l));
  if (seen) return seen;
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError('LAB_ERR_TIMEOUT', `${what} not ready after ${timeoutMs} ms: ${stderrTail(c)}`)), timeoutMs);
      c.child.on('stdout-line', (l: string) => {
        if (!READY.test(l)) return;
        clearTimeout(timer);
        resolve(l);
      });
      void c.exited.then((code) => {
        clearTimeout(timer);
        // let the last stderr chunk arrive before it is quoted
        setImmediate(() => reject(new LabError('LAB_ERR_LAB_RUN', `${what} exited (code ${code}) before it was ready: ${stderrTail(c)}`)));
      });
    });
  } catch (err) {
    await c.stop(1_000);
    throw err;
  }
}
