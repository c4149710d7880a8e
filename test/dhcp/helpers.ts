import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { createTopology, type NetnsHost, type Topology, type TopologySpec } from '../../src/netns/index.js';
import { readLeaseFile } from '../../src/dhcp/lease-store.js';
import type { LeaseRecord } from '../../src/dhcp/policy.js';
import { randomId } from '../../src/netns/names.js';

export { readLeaseFile };
export type { LeaseRecord, NetnsHost, Topology };

export const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));

/**
 * A temp dir's path, created by `make()` (call it in beforeAll: describe bodies also run for
 * suites a -t filter skips, whose afterAll would never remove it) and removed by dispose.
 */
export function tempDir(): { dir: string; make(): void; [Symbol.dispose](): void } {
  const dir = path.join(os.tmpdir(), `sl-dhcp-${process.pid}-${randomId()}`);
  return {
    dir,
    make: () => fs.mkdirSync(dir, { recursive: true, mode: 0o700 }),
    [Symbol.dispose]: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A topology with a fresh short id (namespaces `sl-<id>-<host>`), removed with `await using`. */
export function lab(spec: Omit<TopologySpec, 'id'>): Promise<Topology> {
  return createTopology({ id: `d${randomId()}`.slice(0, 6), ...spec });
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM (or the given signal) and wait for exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a long-running process in a host and resolves once its stdout (or stderr) matches `ready`. */
export function startIn(host: NetnsHost, cmd: string | null, args: string[], ready: RegExp, timeoutMs = 15_000, env: NodeJS.ProcessEnv = {}, readyOnStderr = false): Promise<Running> {
  const child = cmd === null ? host.socketlab(args, { env: { ...process.env, SOCKETLAB_LOG_LEVEL: 'info', SOCKETLAB_LOG_SYNC: '1', ...env } }) : host.spawn(cmd, args);
  let out = '';
  let err = '';
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const running: Running = {
    child,
    stdout: () => out,
    stderr: () => err,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    [Symbol.asyncDispose]: () => running.stop(),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready after ${timeoutMs} ms: ${cmd ?? 'socketlab'} ${args.join(' ')}\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(running);
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (readyOnStderr && ready.test(err)) {
        clearTimeout(timer);
        resolve(running);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ready: ${cmd ?? 'socketlab'} ${args.join(' ')}\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

/** Starts `socketlab dhcp serve` in a host; waits for the ready line. */
export function startServer(host: NetnsHost, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  return startIn(host, null, ['dhcp', 'serve', ...args], /^socketlab-dhcp listening on /m, 15_000, env);
}

/** Runs test/dhcp/probe.mjs inside a host; returns its JSON lines. */
export async function probe(host: NetnsHost, args: string[], timeoutMs = 60_000): Promise<Record<string, unknown>[]> {
  const r = await host.exec(process.execPath, [PROBE, ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`probe ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Lets a client without an address send to 255.255.255.255 (what the probe needs). */
export async function broadcastRoute(host: NetnsHost, dev = 'eth0'): Promise<void> {
  const r = await host.exec('ip', ['route', 'replace', '255.255.255.255', 'dev', dev]);
  if (r.code !== 0) throw new Error(`ip route in ${host.netns}: ${r.stderr}`);
}

/** JSON log records from a --log-file (pino writes them asynchronously: poll for a condition). */
export function logRecords(file: string): Record<string, unknown>[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls `fn` until it returns a truthy value; bounded. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Address(es) on an interface of a host, e.g. ['10.0.1.100/24']. */
export async function addresses(host: NetnsHost, dev = 'eth0'): Promise<string[]> {
  const r = await host.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', dev]);
  return [...r.stdout.matchAll(/inet (\S+)/g)].map((m) => m[1]!);
}
