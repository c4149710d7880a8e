import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEcho as startEchoServer } from '../echo/server.js';
import { startDnsServer as startDns, type DnsListener } from '../dns/server.js';
import { startSecondary, type Secondary } from '../dns/secondary.js';
import { parseZone } from '../dns/zone-parser.js';
import { loadLogged, watchZoneFiles } from '../dns/zone-files.js';
import type { Zone } from '../dns/zone.js';
import { canonicalName } from '../dns/codec.js';
import { parseAcl, LOOPBACK_ACL } from '../dns/acl.js';
import { parseHostPort } from '../dns/notify.js';
import { startDhcpServer as startDhcp, interfaceAddress as ifaceAddress, assertUdpPortFree } from '../dhcp/server.js';
import { startDhcpRelay as startRelay } from '../dhcp/relay.js';
import { LeasePolicy } from '../dhcp/policy.js';
import { buildReservations, buildScopes, checkRepliesEncode, guardHostNetwork, leaseStoreKnobs, scaledLeaseTime } from '../dhcp/config.js';
import { LeaseStore } from '../dhcp/lease-store.js';
import { LabError, invalidArgument } from '../errors.js';
import type { Endpoint } from '../socket-pair.js';
import type { Logger } from '../log.js';
import { eventLogger } from './sink.js';
import { spawnCli, waitReady } from './child.js';
import { checkSignal, service } from './service.js';
import type {
  DhcpRelay,
  DhcpRelayOptions,
  DhcpServer,
  DhcpServerOptions,
  DnsServer,
  DnsServerOptions,
  EchoOptions,
  EchoServer,
  ZoneInfo,
  ZoneSource,
} from './types.js';

/** RFC 862 echo over TCP and UDP; port 0 (the default here) picks a free port for both. */
export async function startEcho(opts: EchoOptions = {}): Promise<EchoServer> {
  checkSignal(opts.signal);
  const { log, events } = eventLogger('socketlab-echo', opts.log, opts.keepEvents);
  const l = await startEchoServer({ host: opts.host, port: opts.port ?? 0, tcp: opts.tcp, udp: opts.udp, idleTimeoutMs: opts.idleTimeoutMs, maxConnections: opts.maxConnections, closeDelayMs: opts.closeDelayMs, log });
  return service(l.address, events, () => l.close(), opts.signal, {});
}

/** Zones by source: files (by path, their BIND-style warnings logged) and texts; one source per origin. */
function loadZones(sources: ZoneSource[], log: Logger): { byFile: Map<string, Zone>; texts: Zone[] } {
  const byFile = new Map<string, Zone>();
  const texts: Zone[] = [];
  for (const [i, s] of sources.entries()) {
    const z = 'file' in s ? loadLogged(s.file, log) : parseZone(s.text, { file: `zones[${i}]`, ...(s.origin !== undefined && { origin: s.origin }) });
    const dup = [...byFile.values(), ...texts].find((o) => o.origin === z.origin);
    if (dup) throw new LabError('LAB_ERR_ZONE_FILE', `${z.source}: zone ${z.origin}. is already loaded from ${dup.source}`);
    if ('file' in s) byFile.set(s.file, z);
    else texts.push(z);
  }
  return { byFile, texts };
}

function endpointOf(e: string | { host: string; port: number }, what: string): Endpoint {
  return typeof e === 'string' ? parseHostPort(e, what, 53) : { address: e.host, port: e.port };
}

/**
 * An authoritative DNS server on UDP and TCP (one port): a primary for `zones` (files or text), or
 * a secondary that transfers its zone from `secondary.primary` before it resolves.
 */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  checkSignal(opts.signal);
  if (opts.secondary && opts.zones?.length) throw invalidArgument('startDnsServer: a secondary transfers its zone from the primary; give zones or secondary, not both');
  if (!opts.secondary && !opts.zones?.length) throw invalidArgument('startDnsServer: give zones (files or text) or secondary { primary, zone }');
  const { log, events } = eventLogger('socketlab-dns', opts.log, opts.keepEvents);
  // every zone loaded before anything binds: a broken file stops the start with file:line
  let loaded = loadZones(opts.zones ?? [], log);
  const notify = opts.notify?.map((t, i) => endpointOf(t, `notify[${i}]`));
  let secondary: Secondary | undefined;
  const origin = opts.secondary ? canonicalName(opts.secondary.zone) : '';
  const server: DnsListener = await startDns({
    zones: [...loaded.byFile.values(), ...loaded.texts],
    host: opts.host,
    port: opts.port ?? 0,
    log,
    allowTransfer: parseAcl(opts.allowTransfer ?? LOOPBACK_ACL),
    ...(opts.tcpIdleMs !== undefined && { tcpIdleMs: opts.tcpIdleMs }),
    ...(opts.maxConnections !== undefined && { maxConnections: opts.maxConnections }),
    ...(opts.maxUdpSize !== undefined && { maxUdpSize: opts.maxUdpSize }),
    cacheSize: opts.cache === false ? 0 : 10_000,
    ...(opts.secondary && {
      onNotify: (q, c) => secondary!.notify(q, c),
      unavailable: () => (secondary?.zone() ? [] : [origin]),
    }),
  });
  // a primary's files: reloaded on refresh() (and on change with `watch`), NOTIFY to `notify`
  const maintain = (): ReturnType<typeof watchZoneFiles> | undefined => {
    if (opts.secondary) return undefined;
    const { byFile, texts } = loaded;
    return watchZoneFiles({ files: [...byFile.keys()], zonesByFile: byFile, log, setZones: (z) => server.setZones([...z, ...texts]), watch: opts.watch ?? false, ...(notify && { notify }) });
  };
  let files = maintain();
  if (opts.secondary) {
    secondary = startSecondary({
      primary: endpointOf(opts.secondary.primary, 'secondary.primary'),
      origin,
      ...(opts.secondary.refreshS !== undefined && { refreshS: opts.secondary.refreshS }),
      log,
      onZone: (z) => server.setZones(z ? [z] : []),
    });
    await secondary.ready;
  }
  log.info({ event: 'dns.listen', host: server.address.host, port: server.address.port, zones: server.zones().map((z) => z.origin) }, 'dns server listening');
  const info = (): ZoneInfo[] => {
    const fileOf = new Map([...loaded.byFile].map(([f, z]) => [z, f]));
    return server.zones().map((z) => ({ origin: `${z.origin}.`.replace(/^\.$/, '.'), serial: z.soa.data.serial, records: z.records.length, ...(fileOf.has(z) && { file: fileOf.get(z)! }) }));
  };
  return service(
    server.address,
    events,
    async () => {
      files?.close();
      secondary?.close();
      await server.close();
    },
    opts.signal,
    {
      zones: info,
      setZones(z: ZoneSource[]) {
        if (secondary) throw invalidArgument('setZones: a secondary takes its zone from the primary (use refresh())');
        const next = loadZones(z, log);
        files?.close();
        loaded = next;
        server.setZones([...next.byFile.values(), ...next.texts]);
        files = maintain();
      },
      async refresh(reason = 'api') {
        if (secondary) await secondary.check(reason);
        else files!.reload(reason);
      },
      transferError: () => secondary?.lastError(),
    },
  );
}

function scopeFlags(opts: DhcpServerOptions): { subnet: string[]; range: string[]; router: string[]; reserve: string[] } {
  if (!opts.scopes?.length) throw invalidArgument('startDhcpServer: scopes must hold at least one { subnet, range }');
  return {
    subnet: opts.scopes.map((s) => s.subnet),
    range: opts.scopes.map((s) => s.range),
    router: opts.scopes.flatMap((s) => (s.router ? [s.router] : [])),
    reserve: Object.entries(opts.reservations ?? {}).map(([mac, ip]) => `${mac}=${ip}`),
  };
}

/**
 * A DHCP server. With `host` (a topology host) it runs there, as `socketlab dhcp serve` in that
 * namespace; without it, in this process, which must not be the host's own network namespace
 * unless `allowHostNetwork` (the CLI's guard: on a real LAN it would lease other people's addresses).
 */
export async function startDhcpServer(opts: DhcpServerOptions): Promise<DhcpServer> {
  checkSignal(opts.signal);
  const f = scopeFlags(opts);
  // validated here, in the caller's process, so a mistake is an exception and not a child's exit code
  const scopes = buildScopes(f);
  const reservations = buildReservations(f.reserve, scopes);
  const timeScale = opts.timeScale ?? 1;
  if (!Number.isFinite(timeScale) || timeScale <= 0) throw invalidArgument(`startDhcpServer: timeScale ${timeScale} must be a number above 0`);
  const flagLease = opts.leaseTime ?? 3600;
  if (!Number.isInteger(flagLease) || flagLease < 1 || flagLease > 0xffffffff) throw invalidArgument(`startDhcpServer: leaseTime ${flagLease} must be a whole number of seconds, 1 to 4294967295`);
  // option 51 is 32 bits (RFC 2132 9.2), also after the time scale
  const leaseTime = scaledLeaseTime(flagLease, timeScale);
  if (leaseTime > 0xffffffff) throw invalidArgument(`startDhcpServer: leaseTime ${flagLease} at timeScale ${timeScale} is ${leaseTime} s, more than option 51 holds (4294967295)`);
  if (opts.host) {
    const dir = mkdtempSync(join(tmpdir(), 'sl-api-dhcp-'));
    const args = ['dhcp', 'serve', '-i', opts.interface, '--leases', opts.leaseFile ?? join(dir, 'leases.csv'), '--lease-time', String(flagLease)];
    if (timeScale !== 1) args.push('--time-scale', String(timeScale));
    for (const k of ['subnet', 'range', 'router', 'reserve'] as const) for (const v of f[k]) args.push(`--${k}`, v);
    if (opts.dns?.length) args.push('--dns', opts.dns.join(','));
    if (opts.domain) args.push('--domain', opts.domain);
    const c = spawnCli(opts.host, args, opts.log);
    try {
      await waitReady(c, `dhcp server on ${opts.host.name}`, opts.readyTimeoutMs ?? 20_000);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const ifaddr = opts.host.interfaces.find((i) => i.ifname === opts.interface)?.address?.split('/')[0] ?? '0.0.0.0';
    return service({ host: '0.0.0.0', port: 67, family: 'IPv4' }, c.events, async () => {
      await c.stop();
      rmSync(dir, { recursive: true, force: true });
    }, opts.signal, { interfaceAddress: ifaddr, leaseTime });
  }
  guardHostNetwork('a DHCP server', opts.allowHostNetwork);
  const { log, events } = eventLogger('socketlab-dhcp', opts.log, opts.keepEvents);
  const ifaddr = ifaceAddress(opts.interface);
  const policy = new LeasePolicy({ scopes, serverId: ifaddr, dns: opts.dns ?? [], domain: opts.domain, leaseTime, reservations, offerHoldMs: Math.max(1000, 10_000 / timeScale), ...(opts.now && { now: opts.now }) });
  // options that cannot be encoded would make the server drop every reply: refuse them now
  checkRepliesEncode(scopes, (s) => policy.offerOptions(s));
  // before the lease file is opened: its compaction would replace a running server's file
  await assertUdpPortFree(67);
  const file = opts.leaseFile;
  const store = file === undefined ? undefined : LeaseStore.open(file, { ...leaseStoreKnobs(), onWarning: (w) => log.warn({ file }, w) });
  let s;
  try {
    if (store) policy.load(store.initial);
    s = await startDhcp({ interface: opts.interface, interfaceAddress: ifaddr, policy, ...(store && { store }), log });
  } catch (err) {
    await store?.close();
    throw err;
  }
  return service(s.address, events, () => s.close(), opts.signal, { interfaceAddress: ifaddr, leaseTime, leasesLoaded: store?.initial.length ?? 0 });
}

/** A DHCP relay agent (RFC 1542, option 82), placed like startDhcpServer. */
export async function startDhcpRelay(opts: DhcpRelayOptions): Promise<DhcpRelay> {
  checkSignal(opts.signal);
  if (opts.host) {
    const c = spawnCli(opts.host, ['dhcp', 'relay', '-i', opts.interface, '--server', opts.server], opts.log);
    await waitReady(c, `dhcp relay on ${opts.host.name}`, opts.readyTimeoutMs ?? 20_000);
    const ifaddr = opts.host.interfaces.find((i) => i.ifname === opts.interface)?.address?.split('/')[0] ?? '0.0.0.0';
    return service({ host: ifaddr, port: 67, family: 'IPv4' }, c.events, () => c.stop(), opts.signal, { interfaceAddress: ifaddr });
  }
  guardHostNetwork('a DHCP relay', opts.allowHostNetwork);
  const { log, events } = eventLogger('socketlab-dhcp-relay', opts.log, opts.keepEvents);
  const r = await startRelay({ interface: opts.interface, server: opts.server, log });
  return service(r.address, events, () => r.close(), opts.signal, { interfaceAddress: r.interfaceAddress });
}
