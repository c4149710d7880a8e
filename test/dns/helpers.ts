import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
