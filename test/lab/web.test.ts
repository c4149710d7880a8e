import { afterAll, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { runCli } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { itWithPeers } from '../helpers/peers.js';
import { labPeers } from '../helpers/lab-peers.js';

/**
 * Lab 12-web on setups that are wrong in known ways: every check of the lab fails when what it
 * looks at is broken (and only then), and its task is done by a plain Python server, not before.
 * labs.test.ts runs the lab whole and sees it pass.
 */
const LAB = '12-web';
const work = mkdtempSync(join(tmpdir(), 'sl-web-'));
const runDir = join(work, 'run');
const env = { SOCKETLAB_RUN_DIR: runDir };
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Report { exitCode: number; checks: { name: string; passed: boolean; detail: string }[]; tasks: { id: string; done: boolean }[] }
interface State { netns: Record<string, string>; processes: { name: string; pid: number }[] }

const check = async (): Promise<Report> => JSON.parse((await runCli(['lab', 'check', LAB, '--json'], { env, timeoutMs: 120_000 })).stdout) as Report;
const failing = (r: Report): string[] => r.checks.filter((c) => !c.passed).map((c) => c.name);
const inNs = (ns: string, ...argv: string[]): string => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: 20_000 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(f: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await f()) return;
    await sleep(200);
  }
  throw new Error(`not seen within 10 s: ${what}`);
}
const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

// the lab's checks, by what they look at
const DNS_UDP = /^udp\/53 is bound/;
const HTTP_LISTEN = /listens on tcp\/80/;
const HTTPS_LISTEN = /listens on tcp\/443/;
const DNS_ANSWER = /^the DNS server answers www\.lab\.example/;
const CAPTURE = /^the capture: a DNS query over UDP/;
const HTTPS_CERT = /^curl over HTTPS trusts the web server/;
const names = (r: Report, ...res: RegExp[]): string[] => res.map((re) => r.checks.find((c) => re.test(c.name))!.name);

describeRoot('lab 12-web: each check fails on a broken setup', () => {
  itWithPeers('no traffic, another certificate, a wrong A record, servers stopped: the matching checks fail; a Python server does the task', labPeers(LAB), async () => {
    const up = await runCli(['lab', 'up', LAB, '--no-steps'], { env, timeoutMs: 120_000 });
    expect(up.code, up.stderr + up.stdout).toBe(0);
    const state = JSON.parse(readFileSync(join(runDir, LAB, 'state.json'), 'utf8')) as State;
    const pid = (service: string): number => state.processes.find((p) => p.name === service)!.pid;
    const own: ChildProcess[] = [];
    try {
      // servers up, nobody browsed (no steps): only the capture lacks its DNS query and SYNs
      const idle = await check();
      expect(idle.checks).toHaveLength(6);
      expect(failing(idle)).toEqual(names(idle, CAPTURE));
      expect(idle.tasks.find((t) => t.id === 'own-web')!.done).toBe(false);

      // the task: any program that answers HTTP on 8080 of the web host, here Python's own server
      const py = spawn('ip', ['netns', 'exec', state.netns.web!, 'python3', '-m', 'http.server', '8080', '--bind', '10.0.12.80'], { stdio: 'ignore' });
      own.push(py);
      await until(() => inNs(state.netns.web!, 'ss', '-Hltn', 'sport = :8080').trim() !== '', 'python3 listening on 8080');
      expect((await check()).tasks.find((t) => t.id === 'own-web')!.done).toBe(true);
      py.kill('SIGTERM');
      await until(() => py.exitCode !== null || py.signalCode !== null, 'the Python server stopped');
      expect((await check()).tasks.find((t) => t.id === 'own-web')!.done).toBe(false);

      // break three things: the certificate curl trusts is not the server's any more, the zone
      // points www at another address, the HTTP server is gone
      const dir = join(runDir, LAB);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'other.key'), '-out', join(dir, 'web.crt'), '-days', '1', '-subj', '/CN=www.lab.example', '-addext', 'subjectAltName=DNS:www.lab.example'], { stdio: 'ignore' });
      const zone = readFileSync(join(dir, 'lab.zone'), 'utf8');
      writeFileSync(join(dir, 'lab.zone'), zone.replace('2026112901', '2026112902').replace(/^(www\s+IN\s+A\s+)10\.0\.12\.80$/m, (_, rr: string) => `${rr}10.0.12.99`));
      await until(() => inNs(state.netns.client!, 'dig', '@10.0.12.53', 'www.lab.example', 'A', '+short').trim() === '10.0.12.99', 'the DNS server reloaded the zone');
      process.kill(pid('http'), 'SIGTERM');
      await until(() => gone(pid('http')), 'the HTTP server stopped');
      const broken = await check();
      expect(failing(broken).sort()).toEqual(names(broken, HTTP_LISTEN, DNS_ANSWER, CAPTURE, HTTPS_CERT).sort());
      expect(broken.checks.find((c) => HTTPS_CERT.test(c.name))!.detail).toMatch(/exited 60\b/); // CURLE_PEER_FAILED_VERIFICATION
      expect(broken.checks.find((c) => DNS_ANSWER.test(c.name))!.detail).toMatch(/10\.0\.12\.99/);

      // the TLS server and the DNS server stopped: their listening checks fail too
      process.kill(pid('https'), 'SIGTERM');
      process.kill(pid('dns'), 'SIGTERM');
      await until(() => gone(pid('https')) && gone(pid('dns')), 'the TLS and DNS servers stopped');
      const stopped = await check();
      expect(failing(stopped).sort()).toEqual(names(stopped, DNS_UDP, HTTP_LISTEN, HTTPS_LISTEN, DNS_ANSWER, CAPTURE, HTTPS_CERT).sort());
      expect(stopped.exitCode).toBe(1);
    } finally {
      for (const p of own) p.kill('SIGKILL');
      await runCli(['lab', 'down', LAB], { env, timeoutMs: 60_000 });
    }
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const ns of Object.values(state.netns)) expect(left).not.toContain(ns);
  }, 300_000);
});
