import { Option, type Command } from 'commander';
import { argParser, commandLogger } from '../cli-context.js';
import { invalidArgument } from '../errors.js';
import { parseHost } from '../core/address.js';
import { bold, dim, green, print, printJson, red, table } from '../format.js';
import { listSockets } from '../netstat/sockets.js';
import { setProcessTitle } from '../run.js';
import { describeLabel, hostEphemeralRange, IANA_DYNAMIC, parsePort } from '../ports/registry.js';
import { parseEndpoint, formatEndpoint, type Endpoint } from '../socket-pair.js';
import { connect } from '../api/clients.js';
import { labelEndpoint, verifyConversations, type ConnectReport, type LabelledEndpoint } from './report.js';

interface ConnectFlags {
  count: number;
  udp?: boolean;
  connected?: boolean;
  message: string;
  sourcePort?: number;
  hold: number;
  verify?: boolean;
  json?: boolean;
  timeout: number;
}

/** `HOST:PORT`, `[::1]:PORT`; the port is required and checked. */
export function parseTarget(text: string): Endpoint {
  const t = text.trim();
  if (!/:\d*$/.test(t) || t.endsWith(':')) throw invalidArgument(`"${text}" has no port: write HOST:PORT, e.g. 127.0.0.1:8920 or [::1]:8920`);
  const e = parseEndpoint(t);
  const port = parsePort(t.slice(t.lastIndexOf(':') + 1), 'port');
  if (!e.address) throw invalidArgument(`"${text}" has no host: write HOST:PORT, e.g. 127.0.0.1:8920`);
  if (port === 0) throw invalidArgument(`port 0 in "${text}" cannot be connected to: it means "any port" only when listening`);
  return { address: parseHost(e.address, `host in "${text}"`), port };
}

function positiveInt(what: string, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max) throw invalidArgument(`${what} "${text}" must be a whole number from 1 to ${max}`);
    return n;
  };
}

function seconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 3600) throw invalidArgument(`--hold "${text}" must be a number of seconds from 0 to 3600`);
  return n;
}

/** Registers `socketlab connect HOST:PORT ...`. */
export function registerConnect(program: Command): void {
  program
    .command('connect')
    .description('open connections from ephemeral source ports and print the socket pairs, checked against the kernel')
    .argument('<host:port>', 'server to connect to', argParser(parseTarget))
    .addOption(new Option('-c, --count <n>', 'connections (conversations) to open at once').default(1).argParser(argParser(positiveInt('--count', 1000))))
    .option('--udp', 'use UDP datagrams instead of TCP connections')
    .option('--connected', 'with --udp: connect() each UDP socket to the server first (the kernel then shows it as ESTAB, though no packet set anything up)')
    .option('-m, --message <text>', 'message to send and expect echoed', 'hello from socketlab')
    .addOption(new Option('--source-port <port>', 'bind this source port (the next conversations use +1, +2 ...) instead of an ephemeral one').argParser(argParser((t) => parsePort(t, '--source-port'))))
    .addOption(new Option('--hold <seconds>', 'keep the connections open this long, to look at them with ss -tn / netstat -tn').default(0).argParser(argParser(seconds)))
    .option('--verify', "look every pair up in the kernel's socket table (ss, else netstat); a missing pair exits 1")
    .addOption(new Option('--timeout <ms>', 'per-step timeout').default(5000).argParser(argParser(positiveInt('--timeout', 600_000))))
    .option('--json', 'print a JSON document (ConnectReport)')
    .addHelpText('after', `
Examples:
  $ socketlab connect 127.0.0.1:8920                    one connection, its socket pair
  $ socketlab connect 127.0.0.1:8920 --count 3 --verify three conversations, one listening socket
  $ socketlab connect 127.0.0.1:8920 --udp              UDP: no handshake, no connection state
  $ socketlab connect 127.0.0.1:8920 --udp --connected  a connect()ed UDP socket: ESTAB in ss, still no handshake
  $ socketlab connect 127.0.0.1:8920 --hold 30          then run "ss -tn" in another terminal`)
    .action(async (target: Endpoint, flags: ConnectFlags, cmd: Command) => {
      setProcessTitle('socketlab-connect');
      const log = commandLogger(cmd, 'socketlab-connect');
      const report = await runConnect(target, flags, log);
      if (flags.json) printJson(report);
      else print(renderConnect(report));
      if (report.verified === false) process.exitCode = 1;
      else if (report.conversations.some((c) => !c.echoed)) process.exitCode = 1;
    });
}

export async function runConnect(target: Endpoint, flags: ConnectFlags, log?: import('pino').Logger): Promise<ConnectReport> {
  if (flags.connected && !flags.udp) throw invalidArgument('--connected is for UDP sockets (add --udp): every TCP socket is connected by its handshake');
  const open = await connect({
    host: target.address,
    port: target.port,
    count: flags.count,
    transport: flags.udp ? 'udp' : 'tcp',
    connected: flags.connected,
    message: flags.message,
    sourcePort: flags.sourcePort,
    timeoutMs: flags.timeout,
    ...(log && { log }),
    keepEvents: false,
  });
  try {
    const range = hostEphemeralRange();
    const transport = open.transport;
    // the API names each end as text; the report and the kernel lookup compare addresses and ports
    const conversations = open.conversations.map((c) => ({ ...c, local: parseEndpoint(c.local), remote: parseEndpoint(c.remote) }));
    let verified: boolean | null = null;
    let listening = null;
    let views: ReturnType<typeof verifyConversations>['views'] | undefined;
    if (flags.verify) {
      // An unconnected UDP client socket has no peer port to filter on: read every UDP socket.
      const rows = await listSockets({ tcp: transport === 'tcp', udp: transport === 'udp', all: true, processes: true, ...(transport === 'tcp' ? { port: target.port } : {}) });
      ({ listening, views } = verifyConversations(transport, target, conversations, rows));
      verified = views.every((v) => v.ok);
    }
    const report: ConnectReport = {
      transport,
      ...(flags.udp && flags.connected ? { connected: true } : {}),
      server: labelEndpoint(target, range),
      ephemeralRange: { host: range ?? null, iana: IANA_DYNAMIC },
      conversations: conversations.map((c, i) => ({
        ...c,
        local: labelEndpoint(c.local, range),
        remote: labelEndpoint(c.remote, range),
        ...(views ? { kernel: views[i]! } : {}),
      })),
      listening,
      verified,
    };
    if (flags.hold > 0) {
      if (!flags.json) {
        print(renderConnect(report));
        print(dim(`holding ${report.conversations.length} ${transport === 'tcp' ? 'connection(s)' : 'socket(s)'} open for ${flags.hold} s: try "ss -tn" or "netstat -tn" now`));
      }
      await new Promise((r) => setTimeout(r, flags.hold * 1000));
    }
    return report;
  } finally {
    await open.close();
  }
}

const portText = (e: LabelledEndpoint): string => `${e.port} ${describeLabel(e)}`;
/** A listening or unconnected socket has no peer: ss prints it as `*:*`. */
const peerText = (e: Endpoint): string => (e.port === 0 ? '*:*' : formatEndpoint(e));

export function renderConnect(r: ConnectReport): string {
  const out: string[] = [];
  const n = r.conversations.length;
  const what = r.transport === 'tcp' ? `TCP connection${n === 1 ? '' : 's'}` : `UDP conversation${n === 1 ? '' : 's'}`;
  out.push(bold(`${n} ${what} to ${formatEndpoint(r.server)} (server port ${portText(r.server)})`));
  out.push(
    table(r.conversations, [
      { header: '#', get: (c) => c.index + 1, align: 'right' },
      { header: 'SOCKET PAIR (client <-> server)', get: (c) => c.pair },
      { header: 'SOURCE PORT', get: (c) => portText(c.local) },
      { header: 'HOST EPHEMERAL?', get: (c) => (c.local.inHostEphemeralRange ? 'yes' : 'no') },
      { header: 'IANA DYNAMIC?', get: (c) => (c.local.inIanaDynamicRange ? 'yes' : 'no') },
      { header: 'ECHO', get: (c) => (c.echoed ? green('ok') : red(c.error ?? 'mismatch')) },
    ]),
  );
  const h = r.ephemeralRange.host;
  out.push(dim(`Source ports come from this host's ephemeral range ${h ? `${h.first}-${h.last}` : '(unknown)'}; IANA's dynamic range is ${r.ephemeralRange.iana.first}-${r.ephemeralRange.iana.last}. Linux's default range starts lower, so a "registered" source port is normal here.`));
  if (r.transport === 'udp') {
    out.push(dim(r.connected
      ? 'UDP, connect()ed: still no handshake — connect() sent nothing, it only told the kernel the peer, so this socket now accepts datagrams from that peer only and ss shows it as ESTAB.'
      : 'UDP: no handshake and no connection. Each datagram still carries a source and a destination socket; these sockets are unconnected, so the kernel shows them as UNCONN (a UDP socket that calls connect() shows ESTAB: try --connected).'));
  }
  if (r.verified !== null) {
    out.push('');
    out.push(bold("Kernel's socket table"));
    const rows: { role: string; state: string; local: string; remote: string; proc: string }[] = [];
    const proc = (s: { process?: { name: string; pid: number }[] } | null): string => s?.process?.map((p) => `${p.name}(${p.pid})`).join(',') ?? '';
    if (r.listening) rows.push({ role: r.transport === 'tcp' ? 'listening socket' : 'server socket', state: r.listening.state, local: formatEndpoint(r.listening.local), remote: peerText(r.listening.remote), proc: proc(r.listening) });
    for (const c of r.conversations) {
      const k = c.kernel;
      if (!k) continue;
      rows.push(k.client ? { role: `#${c.index + 1} client`, state: k.client.state, local: formatEndpoint(k.client.local), remote: peerText(k.client.remote), proc: proc(k.client) } : { role: `#${c.index + 1} client`, state: red('MISSING'), local: formatEndpoint(c.local), remote: formatEndpoint(c.remote), proc: '' });
      if (r.transport === 'tcp' && r.listening) {
        rows.push(k.server ? { role: `#${c.index + 1} server`, state: k.server.state, local: formatEndpoint(k.server.local), remote: formatEndpoint(k.server.remote), proc: proc(k.server) } : { role: `#${c.index + 1} server`, state: red('MISSING'), local: formatEndpoint(c.remote), remote: formatEndpoint(c.local), proc: '' });
      }
    }
    out.push(table(rows, [
      { header: 'ROLE', get: (x) => x.role },
      { header: 'STATE', get: (x) => x.state },
      { header: 'LOCAL', get: (x) => x.local },
      { header: 'PEER', get: (x) => x.remote },
      { header: 'PROCESS', get: (x) => x.proc },
    ]));
    for (const c of r.conversations) if (c.kernel?.note && !c.kernel.ok) out.push(red(`#${c.index + 1}: ${c.kernel.note}`));
    if (r.transport === 'tcp' && r.listening && n > 1) {
      out.push(dim(`${n} conversations share one listening socket ${formatEndpoint(r.listening.local)}: ${n} ESTABLISHED pairs, told apart by the client's source port.`));
    }
    out.push(r.verified ? green(`verified: every pair is in the kernel's table`) : red('verification failed: a socket pair is missing from the kernel table'));
  }
  return out.join('\n');
}

