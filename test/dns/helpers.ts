import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCli, type RunningCli } from '../helpers/cli.js';

export const EXAMPLE_ZONE = fileURLToPath(new URL('../../examples/zones/example.zone', import.meta.url));
export const REVERSE_ZONE = fileURLToPath(new URL('../../examples/zones/reverse.zone', import.meta.url));

export interface DnsProcess extends RunningCli {
  port: number;
  logFile: string;
  /** Log records written so far (complete after stop(): the logger flushes on exit). */
  records(): Record<string, unknown>[];
}

/** A fresh temp dir removed on dispose. */
export function tempDir(): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), 'socketlab-dns-test-'));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/** Starts `socketlab dns serve ARGS --port 0` (unless a port is given) and reads the bound port from the ready line. */
export async function startDns(args: string[], logDir: string, name = 'dns', env?: NodeJS.ProcessEnv): Promise<DnsProcess> {
  const logFile = join(logDir, `${name}.log`);
  const withPort = args.includes('--port') ? args : [...args, '--port', '0'];
  const cli = await startCli(['--log-file', logFile, 'dns', 'serve', ...withPort], { ready: /^socketlab-dns listening on udp\+tcp \S+:\d+$/m, timeoutMs: 30_000, env });
  const m = /^socketlab-dns listening on udp\+tcp (\S+):(\d+)$/m.exec(cli.stdout())!;
  return Object.assign(cli, {
    port: Number(m[2]),
    logFile,
    records(): Record<string, unknown>[] {
      let text = '';
      try {
        text = readFileSync(logFile, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  });
}

/** Runs the system dig against 127.0.0.1:PORT, bounded: one try, 2 s. */
export function dig(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', '+norecurse', ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      // dig exits 9 on no reply; a transfer that fails still prints why
      if (err && !stdout) reject(new Error(`dig ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Owner of the ~61 KB TXT RRset in bigTxtZone() (the size from issue 8's memory report). */
export const BIG_TXT_OWNER = 'bigtxtrecordset.big.test';

/** Writes zone big.test. with a TXT RRset of about 61 KB on the wire at BIG_TXT_OWNER; returns its path. */
export function bigTxtZone(dir: string): string {
  const f = join(dir, 'big.zone');
  const txt = Array.from({ length: 235 }, (_, i) => `${BIG_TXT_OWNER}. TXT "${String(i).padStart(3, '0')}${'x'.repeat(252)}"`);
  writeFileSync(f, ['$ORIGIN big.test.', '$TTL 300', '@ SOA ns hostmaster 1 3600 600 86400 300', '@ NS ns', 'ns A 127.0.0.1', ...txt, ''].join('\n'));
  return f;
}

/** Resident set of process `pid` in MiB, from /proc/PID/status. */
export function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}
