import { afterAll, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describeRoot } from '../helpers/root.js';
import { itWithPeers } from '../helpers/peers.js';
import { createTopology, type NetnsHost } from '../../src/netns/index.js';
import { randomId } from '../../src/netns/names.js';
import { deleteNamespaceSync } from '../../src/netns/ip.js';

const BRNF = '/proc/sys/net/bridge/bridge-nf-call-iptables';
const id = `d${randomId()}`.slice(0, 6);
const hostBridge = `sl-${id}-hbr`;

/** `-P FORWARD X` of this family in the machine's own namespace. */
const forwardPolicy = (family: string): string => /^-P FORWARD (\w+)/m.exec(execFileSync(family, ['-w', '-S', 'FORWARD'], { encoding: 'utf8' }))?.[1] ?? 'ACCEPT';
const sysctl = (key: string, value: string): void => void execFileSync('sysctl', ['-q', '-w', `${key}=${value}`]);

/**
 * What dockerd with its default rules leaves on a machine, made here and always restored: the
 * FORWARD policy DROP and br_netfilter handing bridged frames to iptables. Namespace labs must not
 * notice: their segments' bridges sit in the lab's own switch namespace (sl-<id>-sw), whose
 * netfilter is its own and empty, never in the machine's namespace.
 */
function asOnADockerHost<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { v4: forwardPolicy('iptables'), v6: forwardPolicy('ip6tables'), brnf: readFileSync(BRNF, 'utf8').trim(), brnf6: readFileSync(BRNF.replace('iptables', 'ip6tables'), 'utf8').trim() };
  // loaded by this file: its default (1) would send every bridged frame of this machine through iptables
  // after the test; 0 is how the machine behaved without the module
  if (!loadedBefore) saved.brnf = saved.brnf6 = '0';
  const restore = (): void => {
    execFileSync('iptables', ['-w', '-P', 'FORWARD', saved.v4]);
    execFileSync('ip6tables', ['-w', '-P', 'FORWARD', saved.v6]);
    sysctl('net.bridge.bridge-nf-call-iptables', saved.brnf);
    sysctl('net.bridge.bridge-nf-call-ip6tables', saved.brnf6);
  };
  try {
    execFileSync('iptables', ['-w', '-P', 'FORWARD', 'DROP']);
    execFileSync('ip6tables', ['-w', '-P', 'FORWARD', 'DROP']);
    sysctl('net.bridge.bridge-nf-call-iptables', '1');
    sysctl('net.bridge.bridge-nf-call-ip6tables', '1');
  } catch (err) {
    restore();
    throw err;
  }
  return fn().finally(restore);
}

/** Whether a DHCP DISCOVER udhcpc sends from CLIENT (no address, 0.0.0.0:68) on IFNAME reaches SERVER's IFNAME. */
async function discoverArrives(server: NetnsHost, client: NetnsHost, ifname: string): Promise<boolean> {
  const dump = spawn('ip', ['netns', 'exec', server.netns, 'timeout', '15', 'tcpdump', '-i', ifname, '-n', '-l', '-c', '1', 'udp and dst port 67'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  dump.stdout.on('data', (d: Buffer) => (out += d.toString()));
  dump.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise((r) => dump.on('close', r));
  for (let i = 0; i < 100 && !/listening on/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
  expect(err).toMatch(/listening on/);
  // no server answers: udhcpc gives up after its DISCOVERs; what counts is whether one arrived
  await client.exec('udhcpc', ['-i', ifname, '-n', '-q', '-t', '3', '-T', '1', '-s', '/bin/true'], { timeoutMs: 20_000 });
  dump.kill('SIGINT');
  await done;
  return /0\.0\.0\.0\.68 > 255\.255\.255\.255\.67/.test(out);
}

// br_netfilter is what dockerd loads; without it (no module in this kernel) bridged frames never meet iptables
const loadedBefore = existsSync(BRNF);
const brnf = loadedBefore || (spawnSync('modprobe', ['br_netfilter']).status === 0 && existsSync(BRNF));

describeRoot('netns labs on a machine where dockerd runs with its iptables rules', () => {
  afterAll(() => {
    spawnSync('ip', ['link', 'del', hostBridge], { stdio: 'ignore' });
    for (const h of ['a', 'b', 'c', 'sw']) deleteNamespaceSync(`sl-${id}-${h}`);
  });

  const name = "FORWARD policy DROP + bridge-nf-call-iptables=1: a segment still carries ping and a DHCP DISCOVER from 0.0.0.0 (a bridge in the machine's own namespace does not)";
  if (!brnf) {
    console.warn(`skipping "${name}": no br_netfilter in this kernel (modprobe br_netfilter failed), so bridged frames never meet iptables here`);
    it.skip(name, () => {});
    return;
  }
  itWithPeers(name, ['ping', 'tcpdump', 'udhcpc', 'iptables'], async () => {
    await asOnADockerHost(async () => {
      await using topo = await createTopology({
        id,
        hosts: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
        segments: [{ name: 'lan', members: [{ host: 'a', address: '10.77.9.1/24' }, { host: 'b', address: '10.77.9.2/24' }, { host: 'c' }] }],
      });
      const { a, b, c } = topo.hosts;
      const ping = await b!.exec('ping', ['-c', '1', '-W', '5', '10.77.9.1']);
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      expect(await discoverArrives(a!, c!, 'eth0')).toBe(true);

      // control: the same two hosts joined by a bridge in the machine's namespace, where dockerd's
      // FORWARD policy sees every bridged frame: the DISCOVER is dropped, so the condition is real
      execFileSync('ip', ['link', 'add', hostBridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
      execFileSync('ip', ['link', 'set', hostBridge, 'up']);
      for (const h of [a!, c!]) {
        const port = `sl-${id}-${h.name}9`;
        execFileSync('ip', ['link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth9', 'netns', h.netns]);
        execFileSync('ip', ['link', 'set', port, 'master', hostBridge, 'up']);
        execFileSync('ip', ['-n', h.netns, 'link', 'set', 'eth9', 'up']);
      }
      expect(await discoverArrives(a!, c!, 'eth9')).toBe(false);
      execFileSync('ip', ['link', 'del', hostBridge]);
    });
  }, 120_000);
});
