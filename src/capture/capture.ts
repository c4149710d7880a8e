import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LabError, invalidArgument } from '../errors.js';
import { netEvent } from '../events.js';
import { onceClose, type Listener } from '../listener.js';
import { silentLogger, type Logger } from '../log.js';
import { isSocketlabName } from '../netns/names.js';
import { HandshakeAnnotator } from './annotate.js';
import { parseTcpdumpLine, type CaptureRecord } from './tcpdump-parse.js';

export interface CaptureOptions {
  port: number;
  /** Interface to capture on; default `lo`, or `any` inside a namespace (where lab traffic is on eth0...). */
  interface?: string;
  /** Capture inside this socketlab namespace (`ip netns exec NAME tcpdump ...`). */
  netns?: string;
  /** Stop after this many packets. */
  count?: number;
  /** Stop after this long. */
  durationMs?: number;
  /** Called for each packet, annotated, as it arrives. */
  onRecord?: (r: CaptureRecord) => void;
  /** Each packet is logged as a netEvent record (`tcp.segment` / `udp.datagram`) at this level; default debug. */
  log?: Logger;
  logLevel?: 'info' | 'debug';
  /** The tcpdump binary; default `tcpdump` on PATH. */
  tcpdump?: string;
  signal?: AbortSignal;
}

export interface CaptureStats {
  records: number;
  /** tcpdump's own closing counts ("N packets captured", "N packets dropped by kernel"). */
  captured?: number;
  droppedByKernel?: number;
  exitCode: number | null;
}

/** A running tcpdump, Listener-like: `ready` once tcpdump captures, `close()` kills it. */
export interface Capture extends Listener<{ interface: string; port: number; netns?: string }> {
  /** The tcpdump process id (undefined if it could not be started). */
  readonly pid: number | undefined;
  /** Resolves once tcpdump prints "listening on"; rejects (LabError) if it cannot capture. */
  readonly ready: Promise<void>;
  /** Resolves when tcpdump has exited: count or duration reached, close(), or a failure. */
  readonly done: Promise<CaptureStats>;
  /** The packets seen so far, annotated, in order. */
  records(): CaptureRecord[];
  /** Waits until `until(records)` holds; rejects with LAB_ERR_TIMEOUT after timeoutMs (default 10 s). */
  waitFor(until: (records: CaptureRecord[]) => boolean, timeoutMs?: number): Promise<CaptureRecord[]>;
}

/** The tcpdump command line: line-buffered, numeric, epoch timestamps, delivered at once. */
export function tcpdumpArgs(opts: { port: number; interface: string; count?: number }): string[] {
  // --immediate-mode: with TPACKET_V3 libpcap otherwise holds packets for up to a buffer timeout.
  const count = opts.count !== undefined ? ['-c', String(opts.count)] : [];
  return ['-l', '-n', '-tt', '--immediate-mode', ...count, '-i', opts.interface, `port ${opts.port}`];
}

/**
 * Runs `"$@"` (tcpdump) in place of a shell that first starts a watchdog: if this Node process dies
 * without closing the capture (SIGKILL: no exit hook runs), the watchdog stops tcpdump within half a
 * second. (prctl PR_SET_PDEATHSIG is not an option: tcpdump drops privileges, which clears it.)
 * The watchdog's stdio is detached so that the pipes close when tcpdump exits.
 */
export const WATCHDOG_SH =
  'p=$PPID; me=$$; ' +
  '( while kill -0 "$p" 2>/dev/null && kill -0 "$me" 2>/dev/null; do sleep 0.5; done; kill -TERM "$me" 2>/dev/null ) </dev/null >/dev/null 2>&1 & ' +
  'exec "$@"';

// tcpdump processes still running, killed if this process exits without closing them.
const running = new Set<ChildProcess>();
const killAll = (): void => {
  for (const c of running) c.kill('SIGKILL');
};

/** Why tcpdump could not start, in words a learner can act on. */
export function explainTcpdumpFailure(stderr: string, iface: string, exitCode: number | null, bin = 'tcpdump'): LabError {
  const text = stderr.trim();
  if (exitCode === 127) {
    return new LabError('LAB_ERR_TOOL_MISSING', `${bin} not found: install it with apt-get install tcpdump (${text.split('\n').pop()})`);
  }
  if (/permission|Operation not permitted/i.test(text)) {
    return new LabError(
      'LAB_ERR_NEEDS_ROOT',
      `capturing packets needs root (CAP_NET_RAW): tcpdump said "${text.split('\n').find((l) => /permission|not permitted/i.test(l)) ?? text}".\n` +
        `  Run it as root:   sudo socketlab ${process.argv.slice(2).join(' ') || 'capture --port P'}\n` +
        `  Or instead:       watch the socket table with socketlab netstat, which needs no root`,
    );
  }
  if (/No such device|doesn't exist|not found/i.test(text)) {
    return invalidArgument(`--interface ${iface}: tcpdump found no such interface (${text.split('\n').pop()}); list them with: ip -br link`);
  }
  return new LabError('LAB_ERR_INTERNAL', `tcpdump exited before capturing: ${text || 'no message'}`);
}

/**
 * Runs tcpdump on `port` and turns each line into an annotated CaptureRecord (handshake, data,
 * teardown). tcpdump is always killed: on close(), count/duration, abort, and process exit.
 */
export function startCapture(opts: CaptureOptions): Capture {
  const iface = opts.interface ?? (opts.netns ? 'any' : 'lo');
  if (!/^[^\s/]{1,15}$/.test(iface)) throw invalidArgument(`--interface "${iface}" is not an interface name (at most 15 characters, no spaces or '/')`);
  if (opts.netns !== undefined && !isSocketlabName(opts.netns)) {
    throw invalidArgument(`--netns "${opts.netns}" is not a socketlab namespace (names start with sl-; see socketlab netns list)`);
  }
  const log = opts.log ?? silentLogger();
  const level = opts.logLevel ?? 'debug';
  const bin = opts.tcpdump ?? 'tcpdump';
  const args = tcpdumpArgs({ port: opts.port, interface: iface, count: opts.count });
  const cmd = ['sh', '-c', WATCHDOG_SH, 'socketlab-capture', bin, ...args];
  const argv = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...cmd] : cmd;
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  if (running.size === 0) process.on('exit', killAll);
  running.add(child);

  const records: CaptureRecord[] = [];
  const waiters = new Set<() => void>();
  const annotator = new HandshakeAnnotator();
  let stderr = '';
  let isReady = false;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => undefined); // callers that never await ready must not crash on a rejection

  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!isReady && /listening on /.test(stderr)) {
      isReady = true;
      resolveReady();
    }
  });

  let timer: NodeJS.Timeout | undefined;
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    const parsed = parseTcpdumpLine(line);
    // tcpdump may print a few more lines between our SIGTERM and its exit: --count is exact.
    if (!parsed || (opts.count !== undefined && records.length >= opts.count)) return;
    const rec = annotator.annotate(parsed);
    records.push(rec);
    logRecord(log, level, rec, opts.port);
    try {
      opts.onRecord?.(rec);
    } finally {
      for (const w of waiters) w();
      if (opts.count !== undefined && records.length >= opts.count) void handle.close();
    }
  });

  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      const e =
        err.code === 'ENOENT'
          ? new LabError('LAB_ERR_TOOL_MISSING', `${opts.netns ? 'ip or ' : ''}${bin} not found: install it with apt-get install ${opts.netns ? 'iproute2 ' : ''}tcpdump`)
          : new LabError('LAB_ERR_INTERNAL', `could not start ${bin}: ${err.message}`);
      rejectReady(e);
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  const done: Promise<CaptureStats> = exited.then((code) => {
    running.delete(child);
    if (running.size === 0) process.off('exit', killAll);
    if (timer) clearTimeout(timer);
    if (!isReady) rejectReady(explainTcpdumpFailure(stderr, iface, code, bin));
    for (const w of waiters) w();
    const captured = /(\d+) packets? captured/.exec(stderr);
    const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
    return {
      records: records.length,
      exitCode: code,
      ...(captured ? { captured: Number(captured[1]) } : {}),
      ...(dropped ? { droppedByKernel: Number(dropped[1]) } : {}),
    };
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM lets tcpdump flush its last lines and print its counts; SIGKILL if it hangs.
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await done;
      clearTimeout(hard);
    } else await done;
  };

  const handle: Capture = {
    address: { interface: iface, port: opts.port, ...(opts.netns ? { netns: opts.netns } : {}) },
    pid: child.pid,
    ready,
    done,
    records: () => [...records],
    waitFor(until, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (until(records)) {
            finish();
            resolve([...records]);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            finish();
            reject(new LabError('LAB_ERR_TIMEOUT', `tcpdump stopped before the expected packets were seen (${records.length} captured)`));
          }
        };
        const t = setTimeout(() => {
          finish();
          reject(new LabError('LAB_ERR_TIMEOUT', `the expected packets were not seen within ${timeoutMs} ms (${records.length} captured)`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(t);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    ...onceClose(stop, opts.signal),
  };
  if (opts.durationMs !== undefined) timer = setTimeout(() => void handle.close(), opts.durationMs);
  return handle;
}

/** Each packet as a network-event log record, so lab reports can draw it in the ladder diagram. */
function logRecord(log: Logger, level: 'info' | 'debug', r: CaptureRecord, port: number): void {
  if (!log.isLevelEnabled(level) || r.srcPort === undefined || r.dstPort === undefined || (r.proto !== 'tcp' && r.proto !== 'udp')) return;
  const src = { address: r.srcAddress, port: r.srcPort };
  const dst = { address: r.dstAddress, port: r.dstPort };
  // The client is the side that did not use the captured port (the server's), as in a socket pair.
  const fromClient = r.dstPort === port || r.srcPort !== port;
  const ev = netEvent(r.proto === 'tcp' ? 'tcp.segment' : 'udp.datagram', r.proto, fromClient ? src : dst, fromClient ? dst : src, fromClient ? 'in' : 'out');
  log[level](
    { ...ev, annotation: r.annotation, flags: r.flags, seq: r.seq, ack: r.ack, len: r.len, captured: r.time, ...(r.interface ? { interface: r.interface } : {}) },
    'segment captured',
  );
}
