import { Option, type Command } from 'commander';
import { installPauseClock, pauseNow } from '../core/pause-clock.js';
import { argParser, collect, commandLogger } from '../cli-context.js';
import { invalidArgument } from '../errors.js';
import { print, printJson, table } from '../format.js';
import { serveUntilSignal, setProcessTitle } from '../run.js';
import { onShutdown } from '../core/shutdown.js';
import { intToIp, ipToInt } from './ip.js';
import { leaseStateName, type LeaseRecord } from './policy.js';
import { readLeaseFile } from './lease-store.js';
import { startDhcpRelay, startDhcpServer } from '../api/servers.js';
import { DhcpClient, type ClientEvent, type ClientLease } from './client.js';
import { buildReservations, buildScopes, checkReplyOptions, defaultLeaseFile, guardHostNetwork, scaledLeaseTime } from './config.js';
import { addCodecSelfcheck } from './codec-selfcheck.js';

interface ServeOpts {
  interface: string;
  subnet: string[];
  range: string[];
  router?: string[];
  dns?: string;
  domain?: string;
  leaseTime: number;
  reserve?: string[];
  leases?: string;
  timeScale: number;
  allowHostNetwork?: boolean;
}

function positive(what: string, integer = true) {
  return (t: string): number => {
    const n = Number(t);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw invalidArgument(`${what} "${t}" must be a ${integer ? 'whole ' : ''}number above 0`);
    return n;
  };
}

/** RFC 2132 9.2: option 51 is an unsigned 32-bit count of seconds; a larger value cannot be encoded. */
function leaseSeconds(t: string): number {
  const n = positive('--lease-time')(t);
  if (n > 0xffffffff) throw invalidArgument(`--lease-time "${t}" must be at most 4294967295 s (option 51 is 32 bits, RFC 2132 9.2)`);
  return n;
}

/** `--leases ''` would compact into `.compact-PID` in the current directory and fail the rename. */
function leaseFileArg(t: string): string {
  if (t.trim() === '') throw invalidArgument('--leases needs a file path (leave the flag out for the default file)');
  return t;
}

/** Retry timeout: RFC 2131 4.1 backs off from about 4 s to 64 s; allow up to 10 min. */
function timeoutMs(t: string): number {
  const n = positive('--timeout')(t);
  if (n > 600_000) throw invalidArgument(`--timeout "${t}" must be at most 600000 ms (10 min)`);
  return n;
}

function ipList(t: string): string[] {
  return t.split(',').filter(Boolean).map((x) => intToIp(ipToInt(x)));
}

/** Registers `socketlab dhcp serve|leases|relay|client`. */
export function registerDhcp(program: Command): void {
  const dhcp = program.command('dhcp').description('DHCP server, relay agent and client on UDP 67/68, inside lab network namespaces');
  addCodecSelfcheck(dhcp);

  dhcp
    .command('serve')
    .description('DHCP server (RFC 2131): scopes, leases, reservations; answers on udp 67, replies to 68')
    .requiredOption('-i, --interface <if>', 'interface whose subnet direct (non-relayed) requests belong to')
    .option('--subnet <cidr>', 'a scope\'s subnet (repeat for relayed scopes)', collect, [])
    .option('--range <first-last>', 'address pool of a subnet (repeatable)', collect, [])
    .option('--router <ip>', 'default gateway of the subnet containing it (repeatable)', collect, [])
    .option('--dns <ip,...>', 'DNS servers (option 6)')
    .option('--domain <name>', 'domain name (option 15)')
    .addOption(new Option('--lease-time <s>', 'lease time in seconds').default(3600).argParser(argParser(leaseSeconds)))
    .option('--reserve <mac=ip>', 'reservation (aa:bb:cc:dd:ee:ff, AA-BB-.. or aabb.ccdd.eeff); repeatable', collect, [])
    .addOption(new Option('--leases <file>', 'lease file (Kea memfile CSV); default: one per namespace under /var/lib/socketlab').argParser(argParser(leaseFileArg)))
    .addOption(new Option('--time-scale <n>', 'run the lease clock N times faster (watch T1/T2/expiry in seconds)').default(1).argParser(argParser(positive('--time-scale', false))))
    .option('--allow-host-network', 'allow running in the host\'s own network namespace (dangerous on a real LAN)')
    .addHelpText('after', `
Examples (inside a lab host):
  $ socketlab dhcp serve -i eth0 --subnet 10.0.1.0/24 --range 10.0.1.100-10.0.1.199 --router 10.0.1.1 --dns 10.0.1.1
  $ socketlab dhcp serve -i eth0 --subnet 10.0.1.0/24 --range 10.0.1.100-10.0.1.199 \\
        --subnet 10.0.2.0/24 --range 10.0.2.100-10.0.2.199 --router 10.0.2.1    second scope, via a relay
  $ socketlab dhcp serve ... --lease-time 120 --time-scale 4    a 30 s lease: T1 at 15 s, T2 at 26 s`)
    .action(async (o: ServeOpts, cmd: Command) => {
      guardHostNetwork('a DHCP server', o.allowHostNetwork);
      setProcessTitle('socketlab-dhcp');
      const log = commandLogger(cmd, 'socketlab-dhcp');
      const scopes = buildScopes(o);
      buildReservations(o.reserve ?? [], scopes);
      const file = o.leases ?? defaultLeaseFile();
      const leaseTime = scaledLeaseTime(o.leaseTime, o.timeScale);
      const dns = o.dns ? ipList(o.dns) : [];
      // Options that cannot be encoded would make the server drop every reply: refuse them now.
      checkReplyOptions({ dns, domain: o.domain, leaseTime, timeScale: o.timeScale, leaseFlag: o.leaseTime });
      // the lease clock stops while the lab is paused (lab run --step sends SIGTSTP)
      installPauseClock();
      const server = await startDhcpServer({
        interface: o.interface,
        // the flags as checked scopes: each range and router already sits in its subnet
        scopes: scopes.map((s) => ({ subnet: s.subnet.text, range: `${intToIp(s.first)}-${intToIp(s.last)}`, ...(s.router !== undefined && { router: s.router }) })),
        reservations: Object.fromEntries((o.reserve ?? []).map((r) => [r.slice(0, r.indexOf('=')), r.slice(r.indexOf('=') + 1)])),
        dns,
        ...(o.domain !== undefined && { domain: o.domain }),
        leaseTime: o.leaseTime,
        timeScale: o.timeScale,
        leaseFile: file,
        now: pauseNow,
        allowHostNetwork: o.allowHostNetwork,
        log,
        keepEvents: false,
      });
      print(`socketlab-dhcp listening on udp 0.0.0.0:67 (${o.interface})`);
      for (const s of scopes) print(`  scope ${s.id}: ${s.subnet.text} pool ${intToIp(s.first)}-${intToIp(s.last)}${s.router ? ` router ${s.router}` : ''}`);
      print(`  server id ${server.interfaceAddress}, lease ${server.leaseTime} s${o.timeScale !== 1 ? ` (${o.leaseTime} s at --time-scale ${o.timeScale})` : ''}, ${server.leasesLoaded} lease(s) loaded from ${file}`);
      await serveUntilSignal([server]);
    });

  dhcp
    .command('leases')
    .description('the lease file as a table: address, client, state and time left')
    .addOption(new Option('--leases <file>', 'lease file; default: this namespace\'s file under /var/lib/socketlab').argParser(argParser(leaseFileArg)))
    .option('--json', 'JSON instead of a table')
    .action((o: { leases?: string; json?: boolean }) => {
      const file = o.leases ?? defaultLeaseFile();
      const now = Math.floor(Date.now() / 1000);
      // A file named with --leases must exist (a typo is not "no leases"); the default one appears
      // once a server has run in this namespace.
      const warn = (w: string): boolean => process.stderr.write(`socketlab: warning: ${w}\n`);
      const rows = readLeaseFile(file, warn, o.leases !== undefined).map((r: LeaseRecord) => ({
        ...r,
        stateName: r.state === 0 && r.expire <= now ? 'expired' : leaseStateName[r.state]!,
        secondsLeft: Math.max(0, r.expire - now),
      }));
      rows.sort((a, b) => ipToInt(a.address) - ipToInt(b.address));
      if (o.json) return printJson({ file, leases: rows });
      if (rows.length === 0) return print(`no leases in ${file}`);
      print(
        table(rows, [
          { header: 'ADDRESS', get: (r) => r.address },
          { header: 'HWADDR', get: (r) => r.hwaddr },
          { header: 'CLIENT-ID', get: (r) => r.clientId },
          { header: 'HOSTNAME', get: (r) => r.hostname },
          { header: 'STATE', get: (r) => r.stateName },
          { header: 'SUBNET', get: (r) => r.subnetId, align: 'right' },
          { header: 'EXPIRES', get: (r) => new Date(r.expire * 1000).toISOString().replace('.000', '') },
          { header: 'LEFT', get: (r) => (r.stateName === 'bound' || r.stateName === 'declined' ? `${r.secondsLeft} s` : '-'), align: 'right' },
        ]),
      );
    });

  dhcp
    .command('relay')
    .description('DHCP relay agent: client broadcasts on IF go to the server with giaddr and option 82')
    .requiredOption('-i, --interface <if>', 'client-side interface (giaddr = its address, circuit id = its name)')
    .requiredOption('--server <ip>', 'DHCP server address')
    .option('--allow-host-network', 'allow running in the host\'s own network namespace')
    .addHelpText('after', `
Run it on the router between the client subnet (--interface) and the server's subnet. Node cannot
tell which interface a broadcast arrived on, so the relay's host should have DHCP clients only on
--interface (as in lab topologies, where the other side holds the server).

Example (router with eth0 towards the server, eth1 towards the clients):
  $ socketlab dhcp relay -i eth1 --server 10.0.1.2`)
    .action(async (o: { interface: string; server: string; allowHostNetwork?: boolean }, cmd: Command) => {
      guardHostNetwork('a DHCP relay', o.allowHostNetwork);
      const serverIp = intToIp(ipToInt(o.server));
      setProcessTitle('socketlab-dhcp-relay');
      const log = commandLogger(cmd, 'socketlab-dhcp-relay');
      const relay = await startDhcpRelay({ interface: o.interface, server: serverIp, allowHostNetwork: o.allowHostNetwork, log, keepEvents: false });
      print(`socketlab-dhcp-relay listening on udp ${relay.interfaceAddress}:67 (${o.interface})`);
      print(`  forwarding to ${serverIp}:67 with giaddr ${relay.interfaceAddress}, option 82 circuit-id "${o.interface}"`);
      await serveUntilSignal([relay]);
    });

  dhcp
    .command('client')
    .description('DHCP client: DORA from port 68, lease applied with ip addr/route; --release and --renew like ipconfig')
    .requiredOption('-i, --interface <if>', 'interface to configure')
    .option('--release', 'send RELEASE and remove the address (ipconfig /release)')
    .option('--renew', 'unicast REQUEST to the leasing server (ipconfig /renew)')
    .option('--once', 'exit once the lease is applied (default: keep it, renewing at T1, rebinding at T2)')
    .option('--json', 'one JSON object per line for each message and the lease')
    .option('--state-file <file>', 'where the lease is remembered for --release/--renew')
    .addOption(new Option('--timeout <ms>', 'first retry timeout per message').default(2000).argParser(argParser(timeoutMs)))
    .option('--allow-host-network', 'allow running in the host\'s own network namespace')
    .addHelpText('after', `
Examples (inside a lab host):
  $ socketlab dhcp client -i eth0 --once      DORA, apply the lease, exit
  $ socketlab dhcp client -i eth0             keep the lease: renew at T1, rebind at T2
  $ socketlab dhcp client -i eth0 --renew     ipconfig /renew: unicast REQUEST to the leasing server
  $ socketlab dhcp client -i eth0 --release   ipconfig /release: RELEASE, address removed`)
    .action(async (o: { interface: string; release?: boolean; renew?: boolean; once?: boolean; json?: boolean; stateFile?: string; timeout: number; allowHostNetwork?: boolean }, cmd: Command) => {
      guardHostNetwork('a DHCP client', o.allowHostNetwork);
      if (o.release && o.renew) throw invalidArgument('--release and --renew exclude each other');
      setProcessTitle('socketlab-dhcp-client');
      const log = commandLogger(cmd, 'socketlab-dhcp-client');
      const onEvent = (e: ClientEvent): void => {
        if (o.json) return print(JSON.stringify({ event: 'message', ...e }));
        const detail = [e.yiaddr && `yiaddr=${e.yiaddr}`, e.ciaddr && `ciaddr=${e.ciaddr}`, e.server && `server=${e.server}`, e.message && `"${e.message}"`].filter(Boolean).join(' ');
        print(`${e.dir === 'send' ? '->' : '<-'} ${e.type.padEnd(8)} ${e.from} -> ${e.to}  xid=0x${e.xid.toString(16).padStart(8, '0')}${detail ? '  ' + detail : ''}`);
      };
      const showLease = (l: ClientLease): void => {
        if (o.json) return print(JSON.stringify({ event: 'lease', ...l }));
        print(`lease ${l.address}/${l.prefix} on ${l.interface} from ${l.server}${l.router ? `, router ${l.router}` : ''}${l.dns ? `, dns ${l.dns.join(',')}` : ''}, ${l.leaseTime} s (T1 ${l.t1} s, T2 ${l.t2} s)`);
      };
      const client = new DhcpClient({ interface: o.interface, log, onEvent, stateFile: o.stateFile, timeoutMs: o.timeout });
      await client.open();
      try {
        if (o.release) {
          const l = await client.release();
          if (o.json) print(JSON.stringify({ event: 'released', lease: l ?? null }));
          else print(l ? `released ${l.address} on ${l.interface} (address removed)` : `no lease on ${o.interface} to release`);
          return;
        }
        const lease = o.renew ? await client.renew() : await client.obtain();
        showLease(lease);
        if (o.renew || o.once) return;
        const ac = new AbortController();
        const off = onShutdown(() => ac.abort(), { hold: true });
        await client.hold(lease, ac.signal, showLease).finally(off);
      } finally {
        await client.close();
      }
    });
}
