import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { bridgeName, switchNamespace } from '../netns/names.js';
import { captureSegment, type SegmentCapture } from './capture.js';
import { EventLog, type LabEvent } from './events.js';
import { placePacket, learn, laneOrder, UNKNOWN_LANE, type HostTable } from './lanes.js';
import { BROADCAST_MAC, type Layer, type Packet } from './packet.js';
import { Annotator, endpointOf as ep, matchableOf, noteOf, recordFields, recordTime, type LogRecord, type Matchable } from './annotate.js';
import { pollTcpStates } from './tcp-state.js';

/** tcpdump on PATH (Debian package tcpdump): captures are an extra, never a reason a lab cannot run. */
function hasTcpdump(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v tcpdump'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What the observer needs to know of a lab: plain data, no lab/ types (observe sits below lab). */
export interface ObservedLab {
  hosts: string[];
  segments: { name: string; members: { host: string; address?: string }[] }[];
  /** host -> namespace; empty on localhost */
  netns: Record<string, string>;
  topologyId?: string;
  runDir: string;
  /** the lab's services, in the lab's order; logFile for socketlab services, port from the ready line; watch: the port a capture service captures */
  services: () => { name: string; host: string; logFile?: string; port?: number; capture?: boolean; watch?: number }[];
}

type PacketEvent = Extract<LabEvent, { kind: 'packet' }>;

/**
 * Turns a running lab into events on `log`: in namespace labs every frame on every segment (one
 * tcpdump per bridge) placed on the lanes of the hosts that own its MACs; in localhost labs the
 * services' network-event records, one arrow per packet. Log records annotate, `ss` polls give
 * TCP states, DHCP ACKs give T1/T2/expiry marks on the lease clock (which stops while paused).
 */
export class Observer {
  private captures: SegmentCapture[] = [];
  private poller?: { stop(): Promise<void>; polls(): number };
  private timer?: NodeJS.Timeout;
  private watcher?: FSWatcher;
  private kicked = false;
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();
  /** localhost: records read but not yet an arrow or a note */
  private pending: { r: LogRecord; service: string; seen: number }[] = [];
  private readonly byId = new Map<number, { ev: PacketEvent; m: Matchable }>();
  private readonly annotator = new Annotator((id, text) => {
    const c = this.byId.get(id);
    if (c) this.note(c.ev, text);
  });
  private nextId = 1;
  private readonly lanes = new Set<string>();
  private readonly capturedPairs = new Set<string>();
  private readonly table: HostTable = { macs: new Map(), ips: new Map(), segments: new Map() };
  private pausedTotal = 0;
  private pausedAt?: number;
  private readonly leaseMarks = new Map<string, { lane: string; label: string; due: number }[]>();
  readonly mode: 'packets' | 'logs';

  constructor(
    private readonly lab: ObservedLab,
    readonly log: EventLog,
  ) {
    // packets need tcpdump on the segments; without it (not installed) the services' logs still tell the story
    this.mode = lab.topologyId && Object.keys(lab.netns).length > 0 && hasTcpdump() ? 'packets' : 'logs';
  }

  /** Starts the captures (resolves once every tcpdump listens) and the pollers. Call before the services start. */
  async start(): Promise<void> {
    if (this.mode === 'packets') {
      const servers = new Set(this.lab.services().map((s) => s.host));
      const order = laneOrder(this.lab.hosts, servers);
      for (const s of this.lab.segments) {
        // a broadcast's receivers in lane order
        this.table.segments.set(s.name, order.filter((h) => s.members.some((m) => m.host === h)));
        for (const m of s.members) if (m.address) this.table.ips.set(m.address.split('/')[0]!, m.host);
      }
      this.refreshMacs();
      order.forEach((h, i) => this.addLane(h, h, this.lab.netns[h] ?? '', i));
      const sw = switchNamespace(this.lab.topologyId!);
      for (const s of this.lab.segments) {
        this.captures.push(await captureSegment({ netns: sw, bridge: bridgeName(s.name), segment: s.name, pcapFile: join(this.lab.runDir, `capture-${s.name}.pcap`), onPacket: (p) => this.onPacket(p) }));
      }
      this.poller = pollTcpStates({
        hosts: this.lab.hosts.map((h) => ({ host: h, netns: this.lab.netns[h] })),
        onChange: (c) => this.log.emit({ kind: 'state', t: Date.now(), lane: c.host, host: c.host, local: c.local, remote: c.remote, state: c.state }),
      });
    } else {
      const ports = (): Set<number> => new Set(this.lab.services().filter((s) => !s.capture && s.port).map((s) => s.port!));
      const host = this.lab.hosts[0] ?? 'local';
      this.poller = pollTcpStates({
        hosts: [{ host }],
        keep: (l, r) => [l, r].some((e) => ports().has(Number(/:(\d+)$/.exec(e)?.[1]))),
        onChange: (c) => this.log.emit({ kind: 'state', t: Date.now(), lane: this.localLane(c.local), host, local: c.local, remote: c.remote, state: c.state }),
      });
    }
    this.timer = setInterval(() => this.tick(), 200);
    // a record is shown as soon as it is written (inotify), not at the next tick
    try {
      this.watcher = watch(join(this.lab.runDir, 'logs'), () => this.kick());
      this.watcher.on('error', () => undefined);
    } catch {
      // no logs folder (no socketlab service) or no inotify: the tick reads them
    }
  }

  /** Reads the services' logs now: what they wrote so far is on the stream when this returns (step boundaries call it). */
  sync(): void {
    if (!this.timer) return;
    this.readLogs(false);
    this.matchPending(false);
  }

  private kick(): void {
    if (this.kicked) return;
    this.kicked = true;
    // a burst of writes (a DNS flood) is read once per 20 ms, not once per write
    setTimeout(() => {
      this.kicked = false;
      this.sync();
    }, 20).unref();
  }

  /** The lab's lease clocks stop while paused: lease marks move by the paused time. */
  setPaused(paused: boolean): void {
    if (paused && this.pausedAt === undefined) this.pausedAt = Date.now();
    if (!paused && this.pausedAt !== undefined) {
      this.pausedTotal += Date.now() - this.pausedAt;
      this.pausedAt = undefined;
    }
  }

  /** How many frames each segment's tcpdump delivered. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.captures.map((c) => [c.segment, c.count()]));
  }

  /** PIDs of the tcpdump processes (for measuring their cost). */
  capturePids(): number[] {
    return this.captures.map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  /** Reads what is left, stops tcpdump (after it flushed) and the pollers. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    // frames still in flight between the kernel and tcpdump
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all(this.captures.map((c) => c.stop()));
    this.captures = this.captures.filter(() => false);
    await this.poller?.stop();
    this.poller = undefined;
    this.readLogs(true);
    this.matchPending(true);
  }

  private addLane(key: string, title: string, subtitle: string, order: number): void {
    if (this.lanes.has(key)) return;
    this.lanes.add(key);
    this.log.emit({ kind: 'lane', t: Date.now(), lane: { key, title, subtitle, order } });
  }

  /** MACs of every host's interfaces; read again when a frame comes from a MAC nobody owns (a step changed it). */
  private refreshMacs(): void {
    for (const h of this.lab.hosts) {
      const ns = this.lab.netns[h];
      if (!ns) continue;
      try {
        const links = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show'], { encoding: 'utf8', timeout: 3_000 })) as { ifname: string; address?: string }[];
        for (const l of links) if (l.address && l.ifname !== 'lo' && l.address !== '00:00:00:00:00:00') this.table.macs.set(l.address, h);
      } catch {
        // the namespace is already gone (teardown): keep what we know
      }
    }
  }

  private onPacket(p: Packet): void {
    if (!this.table.macs.has(p.src.mac) && p.src.mac !== BROADCAST_MAC) this.refreshMacs();
    learn(p, this.table);
    const place = placePacket(p, this.table);
    if ([place.from, ...place.to].includes(UNKNOWN_LANE)) this.addLane(UNKNOWN_LANE, 'not a lab host', '', 999);
    const ev = this.log.emit({
      kind: 'packet', t: p.t, id: this.nextId++, segment: p.segment, from: place.from, to: place.to, broadcast: place.broadcast,
      transport: p.transport, ...(p.app && { app: p.app }), summary: p.summary, src: ep(p.src.ip, p.src.port) || p.src.mac, dst: ep(p.dst.ip, p.dst.port) || p.dst.mac,
      layers: p.layers, notes: [], source: 'capture',
    }) as PacketEvent;
    this.byId.set(ev.id, { ev, m: matchableOf(p) });
    this.leaseClock(p, place.to);
    this.matchPending(false);
  }

  /** T1, T2 and expiry of each lease an ACK grants, on the lane of the host that holds chaddr. */
  private leaseClock(p: Packet, to: string[]): void {
    if (!p.dhcp) return;
    const lane = this.table.macs.get(p.dhcp.chaddr) ?? (to.length === 1 ? to[0]! : undefined);
    if (!lane) return;
    // a renewal at T1 arrives the moment T1 falls due: marks about due go out first
    this.emitMarks(this.labTime(Date.now()) + 1_000, p.dhcp.chaddr);
    if (p.dhcp.type === 'RELEASE') {
      this.leaseMarks.delete(p.dhcp.chaddr);
      return;
    }
    if (p.dhcp.type !== 'ACK' || p.dhcp.lease === undefined) return;
    const start = this.labTime(p.t);
    this.leaseMarks.set(p.dhcp.chaddr, [
      { lane, label: `T1 (renew) ${p.dhcp.yiaddr}`, due: start + (p.dhcp.t1 ?? 0) * 1000 },
      { lane, label: `T2 (rebind) ${p.dhcp.yiaddr}`, due: start + (p.dhcp.t2 ?? 0) * 1000 },
      { lane, label: `lease of ${p.dhcp.yiaddr} expires`, due: start + p.dhcp.lease * 1000 },
    ]);
  }

  private labTime(wall: number): number {
    return wall - this.pausedTotal - (this.pausedAt !== undefined ? wall - this.pausedAt : 0);
  }

  private tick(): void {
    this.readLogs(false);
    this.matchPending(false);
    this.emitMarks(this.labTime(Date.now()));
  }

  /** Lease marks due by lab time `until`, placed at the wall time they fell due. */
  private emitMarks(until: number, only?: string): void {
    const shift = Date.now() - this.labTime(Date.now());
    for (const [mac, marks] of this.leaseMarks) {
      if (only && mac !== only) continue;
      for (const m of marks.filter((x) => x.due <= until)) this.log.emit({ kind: 'mark', t: Math.min(Date.now(), m.due + shift), lane: m.lane, label: m.label });
      const left = marks.filter((m) => m.due > until);
      if (left.length) this.leaseMarks.set(mac, left);
      else this.leaseMarks.delete(mac);
    }
  }

  /** New whole lines of each service's JSON log since the last read. */
  private readLogs(final: boolean): void {
    const fresh: { r: LogRecord; service: string }[] = [];
    for (const s of this.lab.services()) {
      if (!s.logFile) continue;
      let size: number;
      try {
        size = statSync(s.logFile).size;
      } catch {
        continue;
      }
      const off = this.offsets.get(s.logFile) ?? 0;
      if (size <= off) continue;
      const buf = Buffer.alloc(size - off);
      const fd = openSync(s.logFile, 'r');
      try {
        readSync(fd, buf, 0, buf.length, off);
      } finally {
        closeSync(fd);
      }
      this.offsets.set(s.logFile, size);
      const text = (this.partial.get(s.logFile) ?? '') + buf.toString('utf8');
      const lines = text.split('\n');
      this.partial.set(s.logFile, lines.pop() ?? '');
      for (const line of lines) {
        try {
          const r = JSON.parse(line) as LogRecord;
          // network events only: records with a direction (not "listening", start-up or errors)
          if (typeof r.event === 'string' && r.from && r.to) fresh.push({ r, service: s.name });
        } catch {
          // a line that is not JSON (a crash trace): not an event
        }
      }
    }
    const now = Date.now();
    if (this.mode === 'logs') {
      for (const f of fresh) this.pending.push({ ...f, seen: now });
      this.logArrows(final);
    } else for (const f of fresh) this.annotator.add(f.r, f.service, now);
  }

  /** The records read so far annotate the packets they logged (annotate.ts); packet mode only. */
  private matchPending(final: boolean): void {
    if (this.mode === 'packets') this.annotator.run(this.targets(), final);
  }

  private targets(keep: (c: { ev: PacketEvent }) => boolean = () => true): { id: number; m: Matchable }[] {
    return [...this.byId.values()].filter(keep).map((c) => ({ id: c.ev.id, m: c.m }));
  }

  private note(ev: PacketEvent, text: string): void {
    ev.notes.push(text);
    this.log.emit({ kind: 'note', t: Date.now(), packet: ev.id, text });
  }

  /** Localhost lanes: one per socket, named after the service that listens on its port. */
  private localLane(endpoint: string): string {
    const port = Number(/:(\d+)$/.exec(endpoint)?.[1]);
    const host = this.lab.hosts[0] ?? 'local';
    const svc = this.lab.services().find((s) => !s.capture && s.port === port);
    if (svc) {
      this.addLane(`svc:${svc.name}`, host, `${svc.name} :${port}`, 1000 + this.lab.services().findIndex((x) => x.name === svc.name));
      return `svc:${svc.name}`;
    }
    this.addLane(endpoint, host, `client ${endpoint}`, this.lanes.size);
    return endpoint;
  }

  /**
   * Localhost labs have no frames of their own: the capture services' tcp.segment records are the
   * packets; any other record of a pair a capture service watches annotates its captured packet
   * (it waits for it, up to 5 s); the rest become arrows at once, a message logged by both ends
   * within a second drawn once.
   */
  private logArrows(final: boolean): void {
    const now = Date.now();
    const services = this.lab.services();
    const isCaptureSvc = (name: string): boolean => services.some((s) => s.name === name && s.capture);
    const captured = (r: LogRecord): boolean => r.event === 'tcp.segment' || (r.event === 'udp.datagram' && services.some((s) => s.capture && s.logFile));
    const watched = new Set(services.filter((s) => s.capture && s.watch).map((s) => String(s.watch)));
    const ready = this.pending.sort((a, b) => recordTime(a.r) - recordTime(b.r));
    this.pending = [];
    // the pairs capture services watch: by their --port, and by what they captured so far
    for (const p of ready) if (isCaptureSvc(p.service) && captured(p.r)) this.capturedPairs.add(pairKey(String(p.r.from), String(p.r.to)));
    const covered = (from: string, to: string): boolean => this.capturedPairs.has(pairKey(from, to)) || [from, to].some((e) => watched.has(/:(\d+)$/.exec(e)?.[1] ?? ''));
    for (const p of ready) {
      const r = p.r;
      const from = String(r.from);
      const to = String(r.to);
      const t = recordTime(r);
      if (isCaptureSvc(p.service) && captured(r)) {
        this.logArrow(r, p.service, t, true);
        continue;
      }
      if (covered(from, to)) {
        const targets = this.targets((c) => c.ev.layers.some((l) => l.name === 'captured'));
        if (!this.annotator.annotate(r, p.service, targets) && !final && now - p.seen < 5_000) this.pending.push(p);
        continue;
      }
      let dup: PacketEvent | undefined;
      for (const c of this.byId.values()) {
        if (c.m.src === from && c.m.dst === to && c.m.transport === r.transport && c.ev.summary === labelOf(r) && Math.abs(c.m.t - t) < 1_000 && !this.annotator.taken(c.ev.id, p.service, r, 'all')) dup = c.ev;
      }
      if (dup) this.annotator.claim(dup.id, p.service, r, 'all');
      else this.logArrow(r, p.service, t, false);
    }
  }

  private logArrow(r: LogRecord, service: string, t: number, captured: boolean): void {
    const from = String(r.from);
    const to = String(r.to);
    const layers: Layer[] = [{ name: captured ? 'captured' : 'log record', fields: { service, event: String(r.event), from, to, transport: String(r.transport ?? '') } }];
    const f = recordFields(r);
    if (f) layers.push({ name: String(r.transport ?? '').toUpperCase() || 'fields', fields: Object.fromEntries(f.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) });
    const id = this.nextId++;
    const ev = this.log.emit({
      kind: 'packet', t, id, segment: 'lo', from: this.localLane(from), to: [this.localLane(to)], broadcast: false,
      transport: String(r.transport ?? ''), summary: labelOf(r), src: from, dst: to, layers, notes: captured ? [] : [noteOf(r, service)], source: 'log',
    }) as PacketEvent;
    const flags = typeof r.flags === 'string' ? r.flags : undefined;
    this.byId.set(ev.id, { ev, m: { t, transport: String(r.transport ?? ''), src: from, dst: to, ...(flags && { tcpFlags: flags }) } });
    // the record drawn as the arrow is also its note (a second logger's copy of it notes it too)
    if (!captured) this.annotator.claim(id, service, r, 'all', true);
  }
}

const pairKey = (a: string, b: string): string => [a, b].sort().join(' ');

/** A log record's arrow label: the captured segment's kind, or the event's. */
export function labelOf(r: LogRecord): string {
  if (r.event === 'tcp.segment') {
    const f = String(r.flags ?? '');
    const kind = f.includes('R') ? 'RST' : f.includes('S') ? (f.includes('.') ? 'SYN-ACK' : 'SYN') : f.includes('F') ? 'FIN' : Number(r.len) > 0 ? 'DATA' : 'ACK';
    return `TCP ${kind}${Number(r.len) > 0 ? ` ${String(r.len)} B` : ''}`;
  }
  if (String(r.event).startsWith('dhcp.') && typeof r.type === 'string') return `DHCP${r.type}`;
  const named: Record<string, string> = { 'tcp.accept': 'TCP connect (SYN, SYN-ACK, ACK)', 'tcp.close': 'TCP close (FIN)', 'tcp.half-close': 'TCP half-close (FIN)', 'udp.datagram': 'UDP datagram', 'dns.query': 'DNS query', 'dns.axfr': 'DNS AXFR', 'dns.notify': 'DNS NOTIFY' };
  if (named[String(r.event)]) return `${named[String(r.event)]}${typeof r.qname === 'string' ? ` ${r.qname}` : ''}`;
  const ev = String(r.event);
  const extra = typeof r.qname === 'string' ? ` ${r.qname}` : '';
  return `${ev}${extra}`;
}
