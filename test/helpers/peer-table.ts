import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Every program the tests drive besides Node, and the Debian package that provides it.
 * scripts/peers.sh installs exactly these packages (a test checks that the two agree).
 * No vitest import here: the summary reporter (main process) reads this table too.
 */
export const PEERS = {
  ip: 'iproute2',
  ss: 'iproute2',
  netstat: 'net-tools',
  ping: 'iputils-ping',
  tcpdump: 'tcpdump',
  iptables: 'iptables',
  dig: 'bind9-dnsutils',
  dhclient: 'isc-dhcp-client',
  udhcpc: 'udhcpc',
  socat: 'socat',
  dnsperf: 'dnsperf',
  dnsmasq: 'dnsmasq-base',
  'kea-dhcp4': 'kea-dhcp4-server',
  perfdhcp: 'kea-admin',
  radvd: 'radvd',
  chromium: 'chromium',
  script: 'bsdutils',
  python3: 'python3',
  curl: 'curl',
  openssl: 'openssl',
  zsh: 'zsh',
  fish: 'fish',
} as const;

export type Peer = keyof typeof PEERS;

/** The one command that installs every peer (README, CI and the end-of-run summary name it). */
export const INSTALL_PEERS = 'sudo npm run peers';

export function isPeer(tool: string): tool is Peer {
  return Object.hasOwn(PEERS, tool);
}

/** True when `tool` is an executable file in one of PATH's directories (what a shell would run). */
export function hasPeer(tool: string, path = process.env.PATH ?? ''): boolean {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** `dig (Debian package bind9-dnsutils), ping (Debian package iputils-ping)`. */
export function describePeers(peers: readonly Peer[]): string {
  return peers.map((p) => `${p} (Debian package ${PEERS[p]})`).join(', ');
}
