import { afterAll, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describeRoot } from '../helpers/root.js';
import { itWithPeers } from '../helpers/peers.js';
import { AS_NOBODY, CLI, runCli } from '../helpers/cli.js';
import { randomId } from '../../src/netns/names.js';
import { deleteNamespaceSync } from '../../src/netns/ip.js';

const namespaces = (): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);

/** Running (a zombie no one reaps, e.g. orphaned under a container's pid 1, counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const id = `c${randomId()}`.slice(0, 6);
const other = `other-test-${randomId()}`;

describeRoot('socketlab netns clean / list / exec', () => {
  afterAll(() => {
    // deleteNamespaceSync kills what still runs inside first (the detached sleeper, when a check
    // failed before `netns clean` ran): `ip netns del` alone leaves it running.
    for (const ns of namespaces().filter((n) => n === other || n.startsWith(`sl-${id}-`))) deleteNamespaceSync(ns);
  });

  itWithPeers('after a crash, clean removes the leaked topology and its processes, and leaves other namespaces alone', ['ping'], async () => {
    execFileSync('ip', ['netns', 'add', other]);
    // A process that builds a topology, starts a server inside and then dies by SIGKILL: nothing
    // of its own can clean up, which is what `netns clean` is for.
    const modUrl = new URL('../../dist/netns/index.js', import.meta.url).href;
    const script = `
      const { createTopology } = await import(${JSON.stringify(modUrl)});
      const topo = await createTopology({ id: ${JSON.stringify(id)}, hosts: [{ name: 'a' }, { name: 'b' }],
        segments: [{ name: 'lan', members: [{ host: 'a', address: '10.78.1.1/24' }, { host: 'b', address: '10.78.1.2/24' }] }] });
      const child = topo.hosts.a.spawn('sleep', ['600'], { stdio: 'ignore', detached: true });
      console.log(child.pid);
      setInterval(() => {}, 1000);
    `;
    const crasher = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let sleeper = 0;
    try {
      const [line] = (await once(crasher.stdout, 'data')) as [Buffer];
      sleeper = Number(line.toString().trim());
    } finally {
      crasher.kill('SIGKILL');
      await once(crasher, 'close');
    }
    expect(alive(sleeper)).toBe(true);
    expect(namespaces().filter((n) => n.startsWith(`sl-${id}-`)).sort()).toEqual([`sl-${id}-a`, `sl-${id}-b`, `sl-${id}-sw`]);

    const listed = await runCli(['netns', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { name: string; pids: number[]; links: { ifname: string; addresses: string[] }[] }[];
    const a = rows.find((r) => r.name === `sl-${id}-a`);
    expect(a?.pids).toContain(sleeper);
    expect(a?.links.find((l) => l.ifname === 'eth0')?.addresses).toEqual(expect.arrayContaining(['10.78.1.1/24']));
    expect(rows.some((r) => r.name === other)).toBe(false);
    const human = await runCli(['netns', 'list']);
    expect(human.stdout).toMatch(new RegExp(`^sl-${id}-a\\s+1\\s+lo\\s`, 'm'));
    expect(human.stdout).toMatch(/eth0\s+veth\s+UP\s+10\.78\.1\.1\/24/);

    const ex = await runCli(['netns', 'exec', `sl-${id}-b`, '--', 'ping', '-c', '1', '-W', '5', '10.78.1.1']);
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout).toMatch(/1 received/);
    const exitCode = await runCli(['netns', 'exec', `sl-${id}-b`, '--', 'sh', '-c', 'exit 7']);
    expect(exitCode.code).toBe(7);
    const refused = await runCli(['netns', 'exec', other, '--', 'true']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not a socketlab namespace/);

    // --id keeps this test from touching other topologies that may be running on this machine.
    const cleaned = await runCli(['netns', 'clean', '--id', id, '--json']);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    const report = JSON.parse(cleaned.stdout) as { namespaces: { name: string; killed: { pid: number; command: string }[] }[]; interfaces: string[] };
    expect(report.namespaces.map((n) => n.name).sort()).toEqual([`sl-${id}-a`, `sl-${id}-b`, `sl-${id}-sw`]);
    expect(report.namespaces.find((n) => n.name === `sl-${id}-a`)?.killed).toEqual([{ pid: sleeper, command: 'sleep' }]);
    expect(namespaces().filter((n) => n.startsWith(`sl-${id}-`))).toEqual([]);
    expect(namespaces()).toContain(other);
    // give the kernel a moment to reap; the process is gone once its namespace is
    for (let i = 0; i < 50 && alive(sleeper); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(sleeper)).toBe(false);

    const again = await runCli(['netns', 'clean', '--id', id]);
    expect(again.stdout).toMatch(/nothing to clean/);
  });

  it('a full clean (no --id) removes every sl- namespace and sl- interface and nothing else', async () => {
    // Run in private mount + network namespaces: the "host" there is a fresh network namespace and
    // /run/netns a private tmpfs, so a full clean cannot touch topologies other tests on this
    // machine are using, and everything vanishes with the unshared namespaces even on failure.
    const r = randomId();
    const script = [
      'set -e',
      'mount -t tmpfs tmpfs /run/netns',
      `ip netns add sl-${r}-a`,
      `ip netns add sl-${r}-sw`,
      `ip netns add other-test-${r}`,
      `ip link add sl-${r}-leak type bridge`,
      `ip link add keep${r} type bridge`,
      `ip netns exec sl-${r}-a sleep 600 & SLEEPER=$!`,
      'sleep 0.2',
      `"${process.execPath}" "${CLI}" netns clean`,
      'echo ---',
      'ip netns list',
      'echo ---',
      'ip -br link',
      'kill -0 $SLEEPER 2>/dev/null && echo "sleeper alive" || echo "sleeper gone"',
      'kill -9 $SLEEPER 2>/dev/null || true',
    ].join('\n');
    const out = execFileSync('unshare', ['--mount', '--net', '--propagation', 'private', 'sh', '-c', script], {
      encoding: 'utf8',
      env: { ...process.env, SOCKETLAB_LOG_LEVEL: 'warn' },
      timeout: 30_000,
    });
    const [report, nsAfter, linksAfter] = out.split('---\n');
    expect(report).toMatch(new RegExp(`^removed namespace sl-${r}-a \\(killed \\d+ sleep\\)$`, 'm'));
    expect(report).toMatch(new RegExp(`^removed namespace sl-${r}-sw$`, 'm'));
    expect(report).toMatch(new RegExp(`^removed interface sl-${r}-leak from the host namespace$`, 'm'));
    expect(report).not.toMatch(/other-test|keep/);
    expect(nsAfter!.trim()).toBe(`other-test-${r}`);
    expect(linksAfter).toMatch(new RegExp(`^keep${r}\\s`, 'm'));
    expect(linksAfter).not.toMatch(/^sl-/m);
    expect(linksAfter).toMatch(/sleeper gone/);
  });

  it('without root it says so, names the capabilities and what to run instead', async () => {
    const res = await runCli(['netns', 'clean'], { wrap: AS_NOBODY });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/socketlab netns clean needs root/);
    expect(res.stderr).toMatch(/CAP_SYS_ADMIN and CAP_NET_ADMIN/);
    expect(res.stderr).toMatch(/sudo socketlab netns clean/);
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
