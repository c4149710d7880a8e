import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEERS, hasPeer } from './peers.js';
import { labPeers } from './lab-peers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url));
const empty = mkdtempSync(join(tmpdir(), 'sl-nopeers-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

/** vitest on the fixture, with a PATH holding nothing (so no dig); collects the output. */
function nestedVitest(env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
    const child = spawn(process.execPath, [vitest, 'run', '--root', fixtures], {
      env: { ...process.env, CI: 'true', SOCKETLAB_REQUIRE_PEERS: '', ...env, PATH: empty },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

describe('the peer skip helper', () => {
  it('a missing peer skips with its Debian package, and the run ends with what to install', async () => {
    const r = await nestedVitest({});
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('skipping "asks dig": needs dig (Debian package bind9-dnsutils); install all peers with: sudo npm run peers');
    expect(r.out).toMatch(/socketlab: peers missing: dig \(bind9-dnsutils, 1 tests\)\n/);
    expect(r.out).toMatch(/socketlab: install them all with: sudo npm run peers {3}\(apt-get install bind9-dnsutils\)\n/);
    expect(r.out.trimEnd().split('\n').at(-1)).toBe('socketlab: 0 passed, 0 failed, 1 skipped');
  }, 60_000);

  it('with SOCKETLAB_REQUIRE_PEERS=1 a missing peer fails the run instead of skipping', async () => {
    const r = await nestedVitest({ SOCKETLAB_REQUIRE_PEERS: '1' });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('SOCKETLAB_REQUIRE_PEERS=1 but "asks dig" needs dig (Debian package bind9-dnsutils)');
    expect(r.out.trimEnd().split('\n').at(-1)).toBe('socketlab: 0 passed, 1 failed, 0 skipped');
  }, 60_000);

  it('hasPeer looks the program up on PATH', () => {
    expect(hasPeer('sh')).toBe(true);
    expect(hasPeer('dig', empty)).toBe(false);
  });
});

describe('one list of peers', () => {
  it('scripts/peers.sh installs the Debian package of every peer, and CI runs it with SOCKETLAB_REQUIRE_PEERS=1', () => {
    const script = readFileSync(join(root, 'scripts', 'peers.sh'), 'utf8');
    const installed = script.slice(script.indexOf('apt-get install')).split(/[\s\\]+/);
    for (const [tool, pkg] of Object.entries(PEERS)) expect(installed, `${tool}: ${pkg}`).toContain(pkg);
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^sh scripts\/peers\.sh$/m);
    expect(ci).not.toMatch(/apt-get install/);
    expect(ci).toMatch(/^export SOCKETLAB_REQUIRE_PEERS=1$/m);
    expect(ci).toMatch(/^export SOCKETLAB_REQUIRE_ROOT=1$/m);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.peers).toBe('sh scripts/peers.sh');
  });

  it("a lab's peers are read from its commands", () => {
    expect(labPeers('10-slaac')).toEqual(expect.arrayContaining(['ip', 'ping', 'radvd', 'tcpdump']));
    expect(labPeers('11-dhcpv6')).toEqual(['dhclient', 'dnsmasq', 'ip', 'radvd', 'ss', 'tcpdump']);
    expect(labPeers('06-dns')).toEqual(expect.arrayContaining(['dig', 'ip']));
    expect(labPeers('03-handshake')).toContain('tcpdump');
    expect(labPeers('12-web')).toEqual(expect.arrayContaining(['curl', 'dig', 'ip', 'openssl', 'python3', 'ss', 'tcpdump']));
    expect(labPeers('01-ports')).toEqual([]);
  });

  it("the README starts with the two commands, then the optional peers line", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = readme.slice(readme.indexOf('```sh') + 6, readme.indexOf('```', readme.indexOf('```sh') + 6)).trim().split('\n');
    expect(block[0]).toMatch(/^npm install && npm start\b/);
    expect(block[1]).toMatch(/^npm test\b/);
    expect(block[2]).toMatch(/^sudo npm run peers\b.*optional/);
  });
});
