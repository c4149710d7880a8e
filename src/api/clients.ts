import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConversations } from '../connect/client.js';
import { query } from '../dns/client.js';
import { className, rcodeName, typeFromName, typeName, TYPES, type Message } from '../dns/codec.js';
import { recordJson } from '../dns/record-json.js';
import { parseHostPort } from '../dns/notify.js';
import { netEvent } from '../events.js';
import { DhcpClient as InProcessDhcpClient } from '../dhcp/client.js';
import { guardHostNetwork } from '../dhcp/config.js';
import { LabError, invalidArgument } from '../errors.js';
import { formatEndpoint, formatPair, type Endpoint } from '../socket-pair.js';
import { EventLog } from './events.js';
import { eventLogger } from './sink.js';
import { spawnCli, stderrTail } from './child.js';
import { checkSignal, service } from './service.js';
import type {
  Connection,
  ConnectOptions,
  DhcpClient,
  DhcpClientOptions,
  DhcpLease,
  DnsQueryOptions,
  DnsQueryResult,
} from './types.js';

/**
 * Opens `count` conversations to a server (TCP connections, or UDP request/reply), each sending
 * `message` and reading its echo; the sockets stay open until close().
 */
export async function connect(opts: ConnectOptions): Promise<Connection> {
  checkSignal(opts.signal);
  const { log, events } = eventLogger('socketlab-connect', opts.log, opts.keepEvents);
  const host = opts.host ?? '127.0.0.1';
  const c = await openConversations({ host, port: opts.port, count: opts.count, udp: opts.transport === 'udp', connected: opts.connected, message: opts.message, sourcePort: opts.sourcePort, timeoutMs: opts.timeoutMs, log });
  const first = c.conversations[0]?.local ?? { address: '0.0.0.0', port: 0 };
  const conversations = c.conversations.map((v) => ({
    index: v.index,
    local: formatEndpoint(v.local),
    remote: formatEndpoint(v.remote),
    pair: v.pair,
    sent: v.sent,
    echoed: v.echoed,
    ...(v.reply !== undefined && { reply: v.reply }),
    ...(v.error !== undefined && { error: v.error }),
  }));
  return service({ host: first.address, port: first.port, family: first.address.includes(':') ? 'IPv6' : 'IPv4' }, events, () => c.close(), opts.signal, { transport: c.transport, conversations });
}

function flagList(m: Message): string[] {
  return (['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const).filter((k) => m.flags[k]);
}

/**
 * One query as `socketlab dns query --json` sends it (UDP with retries, TCP after TC=1), to the
 * given server only. Its events are the client's side: one `dns.query` per exchange.
 */
export async function dnsQuery(name: string, type = 'A', opts: DnsQueryOptions): Promise<DnsQueryResult> {
  checkSignal(opts.signal);
  const t = typeFromName(type);
  if (t === undefined || t === TYPES.AXFR) throw invalidArgument(`dnsQuery: unknown or unsupported record type "${type}" (try A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, PTR, CAA, ANY)`);
  const server: Endpoint = typeof opts.server === 'string' ? parseHostPort(opts.server, 'dnsQuery server', 53) : { address: opts.server.host, port: opts.server.port };
  const { log, events } = eventLogger('socketlab-dns-query', opts.log, opts.keepEvents);
  const asked = query(name, t, { server, tcp: opts.tcp, timeoutMs: opts.timeoutMs, retries: opts.retries, edns: opts.edns ?? 1232 });
  const r = await (opts.signal
    ? Promise.race([
        asked,
        new Promise<never>((_, reject) => opts.signal!.addEventListener('abort', () => reject(opts.signal!.reason), { once: true })),
      ])
    : asked);
  const m = r.response;
  const q = { qname: name, qtype: typeName(t) };
  if (r.truncated) {
    const u = r.truncated;
    log.info({ ...netEvent('dns.query', 'udp', u.local, u.server, 'in'), ...q, rcode: rcodeName(u.response.flags.rcode), tc: true, size: u.size }, 'answer truncated; retrying over tcp');
  }
  log.info({ ...netEvent('dns.query', r.transport, r.local, r.server, 'in'), ...q, rcode: rcodeName(m.flags.rcode), tc: m.flags.tc, size: r.size }, 'answer received');
  events.end();
  return {
    transport: r.transport,
    server: formatEndpoint(server),
    local: formatEndpoint(r.local),
    pair: formatPair(r.local, r.server),
    retriedOverTcp: r.truncated !== undefined,
    truncatedUdp: r.truncated ? { pair: formatPair(r.truncated.local, r.truncated.server), size: r.truncated.size } : null,
    tries: r.tries,
    id: m.id,
    rcode: rcodeName(m.flags.rcode),
    flags: flagList(m),
    size: r.size,
    question: m.questions.map((x) => ({ name: x.name === '' ? '.' : `${x.name}.`, type: typeName(x.type), class: className(x.class) })),
    answer: m.answers.map(recordJson),
    authority: m.authorities.map(recordJson),
    additional: m.additionals.filter((a) => a.type !== TYPES.OPT).map(recordJson),
    events,
  };
}

const CLIENT_ADDRESS = { host: '0.0.0.0', port: 68, family: 'IPv4' } as const;

/**
 * A DHCP client for `interface`. With `host` (a topology host) each exchange runs there as
 * `socketlab dhcp client`; without it, in this process, refused in the host's own network namespace
 * unless `allowHostNetwork`. The lease is applied to the interface, as the CLI does.
 */
export async function dhcpClient(opts: DhcpClientOptions): Promise<DhcpClient> {
  checkSignal(opts.signal);
  const dir = mkdtempSync(join(tmpdir(), 'sl-api-dhcpc-'));
  const stateFile = join(dir, 'lease.json');
  if (opts.host) {
    const host = opts.host;
    const events = new EventLog();
    const running = new Set<ReturnType<typeof spawnCli>>();
    const run = async (extra: string[]): Promise<Record<string, unknown>> => {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const c = spawnCli(host, ['dhcp', 'client', '-i', opts.interface, '--json', '--state-file', stateFile, '--timeout', String(opts.timeoutMs ?? 2000), ...extra], opts.log, events);
      running.add(c);
      const code = await c.exited;
      running.delete(c);
      const last = [...c.lines].reverse().find((l) => l.startsWith('{"event":"lease"') || l.startsWith('{"event":"released"'));
      if (code !== 0 || !last) throw new LabError('LAB_ERR_DHCP', `dhcp client on ${host.name} (${opts.interface}) failed (exit ${code}): ${stderrTail(c)}`);
      return JSON.parse(last) as Record<string, unknown>;
    };
    const leaseOf = (r: Record<string, unknown>): DhcpLease => {
      const { event: _e, ...lease } = r;
      return lease as unknown as DhcpLease;
    };
    return service(CLIENT_ADDRESS, events, async () => {
      await Promise.all([...running].map((c) => c.stop(1_000)));
      rmSync(dir, { recursive: true, force: true });
    }, opts.signal, {
      obtain: async () => leaseOf(await run(['--once'])),
      renew: async () => leaseOf(await run(['--renew'])),
      release: async () => ((await run(['--release'])).lease as DhcpLease | null) ?? undefined,
    });
  }
  try {
    guardHostNetwork('a DHCP client', opts.allowHostNetwork);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { log, events } = eventLogger('socketlab-dhcp-client', opts.log, opts.keepEvents);
  const client = new InProcessDhcpClient({ interface: opts.interface, log, stateFile, ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }) });
  await client.open();
  return service(CLIENT_ADDRESS, events, async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }, opts.signal, {
    obtain: () => client.obtain(),
    renew: () => client.renew(),
    release: () => client.release(),
  });
}
