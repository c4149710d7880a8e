import { Command, Option } from 'commander';
import { isIP } from 'node:net';
import { argParser, collect, commandLogger } from '../cli-context.js';
import { invalidArgument } from '../errors.js';
import { parsePort } from '../ports/registry.js';
import { serveUntilSignal, setProcessTitle } from '../run.js';
import { formatEndpoint, formatPair } from '../socket-pair.js';
import { print, printJson, table } from '../format.js';
import { LOOPBACK_ACL, parseAcl } from './acl.js';
import { MAX_TIMEOUT_MS } from '../core/timers.js';
import { canonicalName, nameToLabels, typeFromName, TYPES } from './codec.js';
import { axfr } from './client.js';
import { dnsQuery } from '../api/clients.js';
import { recordJson } from './record-json.js';
import { parseHostPort, parseTargets } from './notify.js';
import { startDnsServer } from '../api/servers.js';
import { SERVER_UDP_PAYLOAD } from './policy.js';
import { checkZoneFile } from './zone-files.js';
import { onHangup } from '../core/shutdown.js';
import type { Endpoint } from '../socket-pair.js';

/** The unprivileged default: port 53 needs root, so on localhost socketlab dns uses 5300. */
export const DEFAULT_DNS_PORT = 5300;

interface ServeOptions {
  zone?: string[];
  host: string;
  port: number;
  allowTransfer: string;
  notify?: Endpoint[];
  secondary?: Endpoint;
  zoneName?: string;
  refresh?: number;
  tcpIdle: number;
  maxConnections: number;
  maxUdpSize: number;
  cache: boolean;
}

/** A whole number in [min, max]; `unit` names it in the message (`seconds`). */
const intRange = (what: string, min: number, max: number, unit = '') =>
  argParser((t: string) => {
    if (!/^\d+$/.test(t) || Number(t) < min || Number(t) > max) {
      throw invalidArgument(`${what} "${t}" must be a whole number from ${min} to ${max}${unit ? ` ${unit}` : ''}`);
    }
    return Number(t);
  });
const positiveInt = (what: string) => intRange(what, 1, Number.MAX_SAFE_INTEGER);
/** Longest wait a socket timer holds (setTimeout's 2^31-1 ms, 24.8 days), in whole seconds. */
const MAX_TIMER_S = Math.floor(MAX_TIMEOUT_MS / 1000);

/** A domain name from the command line, checked here so a bad one is a usage error (exit 2). */
export function parseDomainName(text: string, what: string): string {
  try {
    nameToLabels(text);
  } catch (err) {
    throw invalidArgument(`${what} "${text}" is not a valid domain name: ${(err as Error).message.replace(/ in name ".*"$/, '')}`);
  }
  return text;
}

/** Registers `socketlab dns serve` and `socketlab dns query`. */
export function registerDns(program: Command): void {
  const dns = program.command('dns').description('authoritative DNS over UDP and TCP: serve zone files (primary or secondary), query a server');

  dns
    .command('serve')
    .description('serve zone files over UDP and TCP on one address and port (default 127.0.0.1:5300; use --port 53 as root, e.g. in a lab namespace)')
    .addOption(new Option('-z, --zone <file>', 'zone file in RFC 1035 master-file format (repeatable)').argParser(collect))
    .addOption(new Option('-H, --host <address>', 'address to bind, UDP and TCP alike').default('127.0.0.1'))
    .addOption(
      new Option('-p, --port <n>', `port for UDP and TCP (53 needs root; ${DEFAULT_DNS_PORT} is the unprivileged localhost default)`)
        .default(DEFAULT_DNS_PORT)
        .env('SOCKETLAB_DNS_PORT')
        .argParser(argParser((t) => parsePort(t, '--port'))),
    )
    // checked here (a usage error), handed to the API as text
    .addOption(new Option('--allow-transfer <cidrs>', 'clients allowed to AXFR, comma-separated CIDRs').default(LOOPBACK_ACL).argParser(argParser((t) => (parseAcl(t), t))))
    .addOption(new Option('--notify <targets>', 'secondaries to NOTIFY when a zone changes: HOST:PORT[,HOST:PORT...]').argParser(argParser((t) => parseTargets(t))))
    .addOption(new Option('--secondary <primary>', 'run as a secondary: pull the zone by AXFR from PRIMARY:PORT').argParser(argParser((t) => parseHostPort(t, '--secondary', 53))))
    .addOption(new Option('--zone-name <origin>', 'with --secondary: the zone to pull (e.g. example.com.)').argParser(argParser((t) => parseDomainName(t, '--zone-name'))))
    // SOA REFRESH is a 32-bit count of seconds (RFC 1035 3.3.13); longer waits are chained timers
    .addOption(new Option('--refresh <seconds>', 'with --secondary: check the primary\'s serial this often (default: the SOA refresh)').argParser(intRange('--refresh', 1, 2 ** 32 - 1, 'seconds')))
    .addOption(new Option('--tcp-idle <seconds>', 'close idle TCP connections after this long').default(10).argParser(intRange('--tcp-idle', 1, MAX_TIMER_S, 'seconds')))
    .addOption(
      new Option('--max-udp-size <octets>', 'largest UDP answer, whatever EDNS size a client advertises (larger: TC=1, client retries over TCP)')
        .default(SERVER_UDP_PAYLOAD)
        .argParser(intRange('--max-udp-size', 512, 4096, 'octets')),
    )
    .addOption(new Option('--max-connections <n>', 'cap on concurrent TCP connections').default(256).argParser(positiveInt('--max-connections')))
    .option('--no-cache', 'answer every query from the zone (no response cache)')
    .addHelpText(
      'after',
      `
Default address: 127.0.0.1:${DEFAULT_DNS_PORT} (udp and tcp). Port 53 is a well-known port: binding it needs root,
so the localhost default is ${DEFAULT_DNS_PORT}; inside a lab namespace run --host 10.0.0.53 --port 53.
Reloads zone files on SIGHUP and when a file changes; a broken edit is logged and the old zone kept
(a secondary checks its primary's serial on SIGHUP).
A secondary keeps one TCP connection to its primary for SOA checks and transfers; the primary closes
it after --tcp-idle seconds (give the primary --tcp-idle 600 to watch it in ss -tn / netstat -tn).

Examples:
  $ socketlab dns serve --zone examples/zones/example.zone
  $ dig @127.0.0.1 -p ${DEFAULT_DNS_PORT} www.example.com A
  $ dig @127.0.0.1 -p ${DEFAULT_DNS_PORT} +noedns many.example.com A      (TC=1, then dig retries over TCP)
  $ socketlab dns query many.example.com --noedns --server 127.0.0.1:${DEFAULT_DNS_PORT}
  $ socketlab dns serve --zone example.zone --notify 127.0.0.1:5301
  $ socketlab dns serve --port 5301 --secondary 127.0.0.1:${DEFAULT_DNS_PORT} --zone-name example.com.`,
    )
    .action(async (opts: ServeOptions, cmd: Command) => {
      await serve(opts, cmd);
    });

  dns
    .command('query')
    .description('send one query to a given server; show the socket pair, transport, TCP retry and answer')
    .argument('<name>', 'domain name to ask about')
    .argument('[type]', 'record type (A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, PTR, CAA, ANY, AXFR)', 'A')
    .addOption(new Option('-s, --server <host:port>', `server to ask (never any other resolver)`).default(parseHostPort(`127.0.0.1:${DEFAULT_DNS_PORT}`, '--server'), `127.0.0.1:${DEFAULT_DNS_PORT}`).argParser(argParser((t) => parseHostPort(t, '--server', 53))))
    .option('--tcp', 'query over TCP only')
    .option('--noedns', 'send no EDNS OPT record (512-octet UDP limit, as dig +noedns)')
    .addOption(new Option('--timeout <ms>', 'per-try timeout').default(2000).argParser(intRange('--timeout', 1, MAX_TIMEOUT_MS, 'ms')))
    .addOption(new Option('--retries <n>', 'extra UDP tries after a timeout').default(2).argParser(argParser((t) => {
      if (!/^\d+$/.test(t) || Number(t) > 10) throw invalidArgument(`--retries "${t}" must be 0-10`);
      return Number(t);
    })))
    .option('--json', 'print the result as JSON')
    .action(async (name: string, type: string, opts: { server: Endpoint; tcp?: boolean; noedns?: boolean; timeout: number; retries: number; json?: boolean }) => {
      await runQuery(name, type, opts);
    });
}

async function serve(opts: ServeOptions, cmd: Command): Promise<void> {
  const log = commandLogger(cmd, 'socketlab-dns');
  setProcessTitle('socketlab-dns');
  const files = opts.zone ?? [];
  if (opts.secondary && files.length) throw invalidArgument('--secondary pulls its zone from the primary: do not give --zone as well');
  if (opts.secondary && !opts.zoneName) throw invalidArgument('--secondary needs --zone-name ORIGIN (the zone to pull, e.g. example.com.)');
  if (!opts.secondary && (opts.zoneName || opts.refresh)) throw invalidArgument('--zone-name and --refresh only apply with --secondary PRIMARY:PORT');
  if (!opts.secondary && files.length === 0) throw invalidArgument('dns serve needs --zone FILE (or --secondary PRIMARY:PORT --zone-name ORIGIN)');
  if (!isIP(opts.host)) throw invalidArgument(`--host "${opts.host}" must be an IP address (like 127.0.0.1 or 10.0.0.53): the server binds exactly that address`);

  // unreadable files are usage errors naming --zone (exit 2); the API then parses them before it binds
  for (const f of files) checkZoneFile(f);

  const server = await startDnsServer({
    ...(opts.secondary
      ? { secondary: { primary: { host: opts.secondary.address, port: opts.secondary.port }, zone: opts.zoneName!, ...(opts.refresh !== undefined && { refreshS: opts.refresh }) } }
      : { zones: files.map((file) => ({ file })), watch: true, ...(opts.notify && { notify: opts.notify.map((e) => ({ host: e.address, port: e.port })) }) }),
    host: opts.host,
    port: opts.port,
    log,
    keepEvents: false,
    allowTransfer: opts.allowTransfer,
    tcpIdleMs: opts.tcpIdle * 1000,
    maxConnections: opts.maxConnections,
    maxUdpSize: opts.maxUdpSize,
    cache: opts.cache,
  });
  // SIGHUP (instead of the default: terminate): a primary re-reads its files, a secondary checks its primary now
  const offHup = onHangup(() => void server.refresh('SIGHUP'));
  const bound = formatEndpoint({ address: server.address.host, port: server.address.port });

  if (opts.secondary) {
    const [z] = server.zones();
    print(
      z
        ? `secondary for ${z.origin} serial ${z.serial} (${z.records} records) from ${formatEndpoint(opts.secondary)}`
        : `secondary for ${canonicalName(opts.zoneName!)}.: no copy yet from ${formatEndpoint(opts.secondary)} (${server.transferError() ?? 'unknown error'}); retrying`,
    );
  } else {
    for (const z of server.zones()) print(`zone ${z.origin} serial ${z.serial} (${z.records} records) from ${z.file}`);
  }

  print(`socketlab-dns listening on udp+tcp ${bound}`);
  await serveUntilSignal([server], offHup);
}

function recordRows(records: ReturnType<typeof recordJson>[]): string {
  return table(records, [
    { header: 'name', get: (r) => r.name },
    { header: 'ttl', get: (r) => r.ttl, align: 'right' },
    { header: 'class', get: (r) => r.class },
    { header: 'type', get: (r) => r.type },
    { header: 'data', get: (r) => r.data },
  ]);
}

async function runQuery(name: string, typeText: string, opts: { server: Endpoint; tcp?: boolean; noedns?: boolean; timeout: number; retries: number; json?: boolean }): Promise<void> {
  parseDomainName(name, 'name');
  const type = typeFromName(typeText);
  if (type === undefined) throw invalidArgument(`unknown record type "${typeText}" (try A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, PTR, CAA, ANY)`);
  if (type === TYPES.AXFR) {
    // AXFR exists only over TCP (RFC 5936 4.2) and comes back as a stream of messages
    const t = await axfr(name, opts.server, Math.max(opts.timeout, 2000));
    if (opts.json) {
      printJson({ server: formatEndpoint(opts.server), transport: 'tcp', pair: formatPair(t.local, opts.server), local: formatEndpoint(t.local), zone: canonicalName(name) + '.', messages: t.messages, size: t.size, records: [...t.records, t.records[0]!].map(recordJson) });
    } else {
      print(`tcp  ${formatPair(t.local, opts.server)}  zone transfer: ${t.records.length + 1} records in ${t.messages} message(s), ${t.size} octets`);
      print('');
      print(recordRows([...t.records, t.records[0]!].map(recordJson)));
    }
    return;
  }
  const r = await dnsQuery(name, typeText, { server: { host: opts.server.address, port: opts.server.port }, tcp: opts.tcp, timeoutMs: opts.timeout, retries: opts.retries, edns: opts.noedns ? 0 : 1232, keepEvents: false });
  if (opts.json) {
    const { server, transport, pair, local, retriedOverTcp, truncatedUdp, tries, id, rcode, flags, size, question, answer, authority, additional } = r;
    printJson({ server, transport, pair, local, retriedOverTcp, truncatedUdp, tries, id, rcode, flags, size, question, answer, authority, additional });
  } else {
    if (r.truncatedUdp) print(`udp  ${r.truncatedUdp.pair}  answer truncated (TC=1, ${r.truncatedUdp.size} octets): retrying over TCP`);
    print(`${r.transport}  ${r.pair}  ${r.size} octets${r.tries > 1 ? ` after ${r.tries} tries` : ''}`);
    print(`status: ${r.rcode}  flags: ${r.flags.join(' ')}  id: ${r.id}`);
    const sections = { answer: r.answer, authority: r.authority, additional: r.additional };
    for (const [label, list] of Object.entries(sections)) {
      if (!list.length) continue;
      print(`\n${label.toUpperCase()} SECTION`);
      print(recordRows(list));
    }
  }
}
