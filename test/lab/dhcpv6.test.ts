import { afterAll, expect } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { itWithPeers } from '../helpers/peers.js';
import { labPeers } from '../helpers/lab-peers.js';
import { labsDir } from '../../src/lab/loader.js';

/**
 * Lab 11's checks each fail on a broken setup (labs.test.ts shows they pass on the right one):
 * a copy of the lab with the RA's flags off, and one without the DHCPv6 server. And its task,
 * release then renew, turns lab check from TODO to DONE with the real dhclient.
 */
const LAB = '11-dhcpv6';
const work = mkdtempSync(join(tmpdir(), 'sl-dhcpv6-'));
const runDir = join(work, 'run');
const env = { SOCKETLAB_RUN_DIR: runDir };
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Report { exitCode: number; error?: string; checks: { name: string; passed: boolean; detail: string }[]; tasks?: { id: string; done: boolean }[] }

const CHECKS = {
  flags: 'the RA carried the M and O flags (and the A flag on the prefix)',
  slaac: 'the client formed a SLAAC address in 2001:db8:11::/64',
  leased: 'the client holds a DHCPv6 address from the range 2001:db8:11::100-1ff (a /128)',
  server: 'udp/547 is bound (UNCONN), held by dnsmasq',
  client: 'udp/546 is bound (UNCONN), held by dhclient',
  leaseFile: "the lease is in the server's lease file",
  solicit: 'the SOLICIT went from fe80::...:546 to ff02::1:2:547',
  exchange: 'the capture shows SOLICIT, ADVERTISE, REQUEST, REPLY in order',
};

/** A copy of labs/11-dhcpv6 under its own folder, with `edit` applied to a file of it. */
function brokenCopy(variant: string, edits: Record<string, (text: string) => string>): string {
  const dir = join(work, variant, LAB);
  cpSync(join(labsDir(), LAB), dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const before = readFileSync(join(dir, file), 'utf8');
    const after = edit(before);
    if (after === before) throw new Error(`${variant}: the edit of ${file} changed nothing`);
    writeFileSync(join(dir, file), after);
  }
  return join(dir, 'lab.yaml');
}

async function run(file: string): Promise<Report & { code: number | null }> {
  const r = await runCli(['lab', 'run', file, '--yes', '--json'], { env, timeoutMs: 150_000 });
  try {
    return { ...(JSON.parse(r.stdout) as Report), code: r.code };
  } catch {
    throw new Error(`no JSON from lab run (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

const verdicts = (r: Report): Record<string, boolean> => Object.fromEntries(r.checks.map((c) => [c.name, c.passed]));

describeRoot('lab 11-dhcpv6 on a broken setup', () => {
  const peers = labPeers(LAB);

  itWithPeers('an RA without M, O and A: no SLAAC address, no dhclient, no DHCPv6 exchange', peers, async () => {
    const file = brokenCopy('flags-off', {
      'radvd.conf': (t) => t.replace('AdvManagedFlag on', 'AdvManagedFlag off').replace('AdvOtherConfigFlag on', 'AdvOtherConfigFlag off').replace('AdvAutonomous on', 'AdvAutonomous off'),
    });
    const r = await run(file);
    expect(r.error).toBeUndefined();
    expect(r.code).toBe(1);
    expect(verdicts(r)).toEqual({
      [CHECKS.flags]: false, [CHECKS.slaac]: false, [CHECKS.leased]: false, [CHECKS.server]: true,
      [CHECKS.client]: false, [CHECKS.leaseFile]: false, [CHECKS.solicit]: false, [CHECKS.exchange]: false,
    });
  }, 180_000);

  itWithPeers('no DHCPv6 server: SLAAC still works, the client only SOLICITs', peers, async () => {
    const file = brokenCopy('no-server', {
      // the dnsmasq service goes; dhclient no longer waits for a lease that cannot come
      'lab.yaml': (t) => t.replace(/\n {2}# dnsmasq as a DHCPv6 server only[\s\S]*?ready: "DHCPv6, IP range"/, '').replace('    until: "Bound to lease"\n', ''),
    });
    const r = await run(file);
    expect(r.error).toBeUndefined();
    expect(r.code).toBe(1);
    expect(verdicts(r)).toEqual({
      [CHECKS.flags]: true, [CHECKS.slaac]: true, [CHECKS.leased]: false, [CHECKS.server]: false,
      [CHECKS.client]: true, [CHECKS.leaseFile]: false, [CHECKS.solicit]: true, [CHECKS.exchange]: false,
    });
  }, 180_000);

  itWithPeers('the release-renew task: TODO until the student releases and renews with dhclient -6', peers, async () => {
    const up = await runCli(['lab', 'up', LAB], { env, timeoutMs: 120_000 });
    expect(up.code, up.stderr + up.stdout).toBe(0);
    try {
      const before = JSON.parse((await runCli(['lab', 'check', LAB, '--json'], { env, timeoutMs: 90_000 })).stdout) as Report;
      expect(before.checks.filter((c) => !c.passed)).toEqual([]);
      expect(before.tasks).toEqual([expect.objectContaining({ id: 'release-renew', done: false })]);

      const dir = join(runDir, LAB);
      const ns = (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { netns: Record<string, string> }).netns.client!;
      const files = ['-cf', `${dir}/dhclient6.conf`, '-lf', `${dir}/dhclient6.leases`, '-pf', `${dir}/dhclient6.pid`, '-sf', `${dir}/dhclient6-script`];
      const release = await runCli(['netns', 'exec', ns, '--', 'dhclient', '-6', '-r', ...files, 'eth0'], { env, timeoutMs: 30_000 });
      expect(release.code, release.stderr).toBe(0);
      const released = JSON.parse((await runCli(['lab', 'check', LAB, '--json'], { env, timeoutMs: 90_000 })).stdout) as Report;
      // the /128 and the lease are gone, the SLAAC address stays; the task is not done yet
      expect(verdicts(released)).toMatchObject({ [CHECKS.leased]: false, [CHECKS.leaseFile]: false, [CHECKS.slaac]: true });
      expect(released.tasks![0]!.done).toBe(false);

      // dhclient -6 without -d forks once it is bound; lab down removes the namespace and it with it
      const renew = await runCli(['netns', 'exec', ns, '--', 'dhclient', '-6', ...files, 'eth0'], { env, timeoutMs: 60_000 });
      expect(renew.code, renew.stderr).toBe(0);
      const after = await runCli(['lab', 'check', LAB, '--json'], { env, timeoutMs: 90_000 });
      const a = JSON.parse(after.stdout) as Report;
      expect(a.tasks![0]!.done).toBe(true);
      expect(a.checks.filter((c) => !c.passed)).toEqual([]);
      expect(after.code).toBe(0);
    } finally {
      await runCli(['lab', 'down', LAB], { env, timeoutMs: 60_000 });
    }
  }, 300_000);
});
