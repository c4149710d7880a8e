import dgram from 'node:dgram';
import { pauseNow, pauseSleep } from '../core/pause-clock.js';
import fs from 'node:fs';
import path from 'node:path';
import { run as runProcess } from '../core/process.js';
import { randomBytes } from 'node:crypto';
import { LabError } from '../errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { netEvent } from '../events.js';
import { formatEndpoint, type Endpoint } from '../socket-pair.js';
import {
  BOOTREQUEST,
  BROADCAST_FLAG,
  CLIENT_PORT,
  MessageType,
  Opt,
  SERVER_PORT,
  decode,
  encode,
  messageType,
  messageTypeName,
  optIp,
  parseMac,
  type DhcpMessage,
} from './codec.js';
import { ipToInt } from './ip.js';
import { bindUdp } from './server.js';
import { netnsId } from './config.js';
import { setLongTimeout } from '../core/timers.js';

/** A lease as the client holds it (and keeps in its state file for --release/--renew). */
export interface ClientLease {
  interface: string;
  address: string;
  prefix: number;
  router?: string;
  dns?: string[];
  domain?: string;
  server: string;
  leaseTime: number;
  t1: number;
  t2: number;
  /** ms since the epoch. */
  obtainedAt: number;
}

/** One message the client sent or received, with its socket pair. */
export interface ClientEvent {
  dir: 'send' | 'recv';
  type: string;
  from: string;
  to: string;
  xid: number;
  yiaddr?: string;
  ciaddr?: string;
  server?: string;
  message?: string;
}

export interface DhcpClientOptions {
  interface: string;
  log?: Logger;
  /** Each message sent/received, as it happens (the CLI prints these). */
  onEvent?: (e: ClientEvent) => void;
  /** Where the lease is remembered between runs; default /run/socketlab/dhcp-client-<netns>-<if>.json. */
  stateFile?: string;
  /** Per-try timeout (ms) and tries for each exchange. Defaults 2000 ms, 4 tries. */
  timeoutMs?: number;
  tries?: number;
  /** Skip `ip addr/route` (tests of the exchange only). */
  noApply?: boolean;
  port?: number;
  serverPort?: number;
}

const PRL = [Opt.SUBNET_MASK, Opt.ROUTER, Opt.DNS, Opt.DOMAIN, Opt.LEASE_TIME, Opt.SERVER_ID, Opt.T1, Opt.T2];

async function run(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const r = await runProcess([cmd, ...args], { timeoutMs: 10_000, killSignal: 'SIGTERM', group: false });
  return { code: r.code === 0 && !r.error ? 0 : (r.code ?? 1), stderr: r.stderr };
}

/** The interface's hardware address from sysfs (also for interfaces without an IP address). */
export function interfaceMac(ifname: string): string {
  try {
    return parseMac(fs.readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim());
  } catch {
    throw new LabError('LAB_ERR_DHCP', `no interface ${ifname} here (see "ip link"); pick one with --interface`);
  }
}

/**
 * A DHCP client in the style of `ipconfig /renew` and `/release`: DORA from port 68, the lease
 * applied with `ip addr`/`ip route`, renewal at T1 (unicast) and rebinding at T2 (broadcast)
 * while `hold()` runs (RFC 2131 section 4.4).
 */
export class DhcpClient {
  readonly ifname: string;
  readonly mac: string;
  readonly stateFile: string;
  private sock?: dgram.Socket;
  private waiting?: { xid: number; types: number[]; resolve: (m: { msg: DhcpMessage; from: Endpoint }) => void };
  private addedBroadcastRoute = false;
  private readonly log: Logger;
  private readonly port: number;
  private readonly serverPort: number;

  constructor(private readonly opts: DhcpClientOptions) {
    this.ifname = opts.interface;
    this.mac = interfaceMac(opts.interface);
    this.log = opts.log ?? silentLogger();
    this.port = opts.port ?? CLIENT_PORT;
    this.serverPort = opts.serverPort ?? SERVER_PORT;
    this.stateFile = opts.stateFile ?? `/run/socketlab/dhcp-client-${netnsId()}-${opts.interface}.json`;
  }

  /** Binds 0.0.0.0:68 with SO_BROADCAST. */
  async open(): Promise<void> {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await bindUdp(s, this.port, '0.0.0.0');
    s.setBroadcast(true);
    s.on('message', (buf, rinfo) => this.onMessage(buf, rinfo));
    s.on('error', (err) => this.log.warn({ err: err.message }, 'socket error'));
    this.sock = s;
  }

  async close(): Promise<void> {
    if (this.addedBroadcastRoute) {
      await run('ip', ['route', 'del', '255.255.255.255', 'dev', this.ifname]);
      this.addedBroadcastRoute = false;
    }
    const s = this.sock;
    this.sock = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private onMessage(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    let msg: DhcpMessage;
    try {
      msg = decode(buf);
    } catch {
      return;
    }
    const w = this.waiting;
    if (!w || msg.op !== 2 || msg.xid !== w.xid || msg.chaddr !== this.mac) return;
    const t = messageType(msg);
    if (t === undefined || !w.types.includes(t)) return;
    this.waiting = undefined;
    w.resolve({ msg, from: { address: rinfo.address, port: rinfo.port } });
  }

  private request(type: number, extra: Partial<DhcpMessage> & { options?: Record<number, unknown> }, xid: number, broadcast: boolean): DhcpMessage {
    return {
      op: BOOTREQUEST,
      htype: 1,
      hlen: 6,
      hops: 0,
      xid,
      secs: 0,
      flags: broadcast ? BROADCAST_FLAG : 0,
      ciaddr: '0.0.0.0',
      yiaddr: '0.0.0.0',
      siaddr: '0.0.0.0',
      giaddr: '0.0.0.0',
      chaddr: this.mac,
      sname: '',
      file: '',
      ...extra,
      options: { [Opt.MESSAGE_TYPE]: type, [Opt.CLIENT_ID]: '01' + this.mac.replaceAll(':', ''), ...(extra.options ?? {}) },
    };
  }

  private emit(dir: 'send' | 'recv', msg: DhcpMessage, from: Endpoint, to: Endpoint): void {
    const e: ClientEvent = { dir, type: messageTypeName(messageType(msg)), from: formatEndpoint(from), to: formatEndpoint(to), xid: msg.xid };
    if (msg.yiaddr !== '0.0.0.0') e.yiaddr = msg.yiaddr;
    if (msg.ciaddr !== '0.0.0.0') e.ciaddr = msg.ciaddr;
    const sid = optIp(msg, Opt.SERVER_ID);
    if (sid) e.server = sid;
    if (typeof msg.options[Opt.MESSAGE] === 'string') e.message = msg.options[Opt.MESSAGE] as string;
    const client = dir === 'send' ? from : to;
    const server = dir === 'send' ? to : from;
    this.log.info({ ...netEvent(dir === 'send' ? 'dhcp.out' : 'dhcp.in', 'udp', client, server, dir === 'send' ? 'in' : 'out'), type: e.type, xid: msg.xid, chaddr: msg.chaddr, ciaddr: msg.ciaddr, yiaddr: msg.yiaddr, giaddr: msg.giaddr }, `${e.type} ${dir === 'send' ? 'sent' : 'received'}`);
    this.opts.onEvent?.(e);
  }

  /** Sends `msg` and waits for a reply of one of `types`, retrying with backoff (RFC 2131 4.1). */
  private async exchange(msg: DhcpMessage, to: Endpoint, types: number[], from: Endpoint): Promise<{ msg: DhcpMessage; from: Endpoint } | undefined> {
    const sock = this.sock;
    if (!sock) throw new LabError('LAB_ERR_INTERNAL', 'client socket not open');
    const tries = this.opts.tries ?? 4;
    let timeout = this.opts.timeoutMs ?? 2000;
    for (let i = 0; i < tries; i++) {
      const got = new Promise<{ msg: DhcpMessage; from: Endpoint } | undefined>((resolve) => {
        const t = setLongTimeout(() => {
          if (this.waiting?.xid === msg.xid) this.waiting = undefined;
          resolve(undefined);
        }, timeout);
        this.waiting = {
          xid: msg.xid,
          types,
          resolve: (m) => {
            t.clear();
            resolve(m);
          },
        };
      });
      try {
        await new Promise<void>((resolve, reject) => sock.send(encode(msg), to.port, to.address, (err) => (err ? reject(err) : resolve())));
      } catch (err) {
        this.waiting = undefined;
        throw new LabError('LAB_ERR_DHCP', `cannot send ${messageTypeName(messageType(msg))} to ${formatEndpoint(to)} on ${this.ifname}: ${(err as Error).message}`);
      }
      this.emit('send', msg, from, to);
      const r = await got;
      if (r) {
        const mine = msg.ciaddr !== '0.0.0.0' && !(msg.flags & BROADCAST_FLAG) ? msg.ciaddr : '255.255.255.255';
        this.emit('recv', r.msg, r.from, { address: mine, port: this.port });
        return r;
      }
      timeout *= 2;
    }
    return undefined;
  }

  /** Makes 255.255.255.255 routable out of our interface while it has no address (like dhclient's raw socket would). */
  private async ensureBroadcastRoute(): Promise<void> {
    const r = await run('ip', ['route', 'add', '255.255.255.255', 'dev', this.ifname]);
    if (r.code === 0) this.addedBroadcastRoute = true;
  }

  /** DISCOVER -> OFFER -> REQUEST -> ACK; applies the lease unless noApply. */
  async obtain(): Promise<ClientLease> {
    await this.ensureBroadcastRoute();
    const any: Endpoint = { address: '0.0.0.0', port: this.port };
    const bcast: Endpoint = { address: '255.255.255.255', port: this.serverPort };
    for (let attempt = 0; attempt < 3; attempt++) {
      const xid = randomBytes(4).readUInt32BE(0);
      const offer = await this.exchange(this.request(MessageType.DISCOVER, { options: { [Opt.PARAM_REQUEST]: PRL } }, xid, true), bcast, [MessageType.OFFER], any);
      if (!offer) throw new LabError('LAB_ERR_TIMEOUT', `no DHCP server answered on ${this.ifname} (DISCOVER sent ${this.opts.tries ?? 4} times to 255.255.255.255:67)`);
      const server = optIp(offer.msg, Opt.SERVER_ID) ?? offer.from.address;
      const req = this.request(MessageType.REQUEST, { options: { [Opt.REQUESTED_IP]: offer.msg.yiaddr, [Opt.SERVER_ID]: server, [Opt.PARAM_REQUEST]: PRL } }, xid, true);
      const ack = await this.exchange(req, bcast, [MessageType.ACK, MessageType.NAK], any);
      if (!ack) throw new LabError('LAB_ERR_TIMEOUT', `server ${server} offered ${offer.msg.yiaddr} but did not answer the REQUEST`);
      if (messageType(ack.msg) === MessageType.NAK) continue; // RFC 2131 4.4.1: back to INIT
      return this.bind(ack.msg, server);
    }
    throw new LabError('LAB_ERR_DHCP', `the server refused (NAK) every request on ${this.ifname}`);
  }

  /** `ipconfig /renew`: unicast REQUEST (ciaddr) to the server that leased the address; DORA if none. */
  async renew(rebind = false): Promise<ClientLease> {
    const lease = this.readState();
    if (!lease) return this.obtain();
    const xid = randomBytes(4).readUInt32BE(0);
    const req = this.request(MessageType.REQUEST, { ciaddr: lease.address, options: { [Opt.PARAM_REQUEST]: PRL } }, xid, false);
    const from: Endpoint = { address: lease.address, port: this.port };
    const to: Endpoint = rebind ? { address: '255.255.255.255', port: this.serverPort } : { address: lease.server, port: this.serverPort };
    const ack = await this.exchange(req, to, [MessageType.ACK, MessageType.NAK], from);
    if (!ack) throw new LabError('LAB_ERR_TIMEOUT', `server ${lease.server} did not answer the renewal of ${lease.address}`);
    if (messageType(ack.msg) === MessageType.NAK) {
      await this.unapply(lease);
      this.clearState();
      return this.obtain();
    }
    return this.bind(ack.msg, optIp(ack.msg, Opt.SERVER_ID) ?? lease.server);
  }

  /** `ipconfig /release`: RELEASE to the server, address and route removed. */
  async release(): Promise<ClientLease | undefined> {
    const lease = this.readState();
    if (!lease) return undefined;
    const msg = this.request(MessageType.RELEASE, { ciaddr: lease.address, options: { [Opt.SERVER_ID]: lease.server } }, randomBytes(4).readUInt32BE(0), false);
    const to: Endpoint = { address: lease.server, port: this.serverPort };
    await new Promise<void>((resolve, reject) => this.sock!.send(encode(msg), to.port, to.address, (err) => (err ? reject(err) : resolve()))).catch((err: Error) => {
      throw new LabError('LAB_ERR_DHCP', `cannot send RELEASE to ${formatEndpoint(to)}: ${err.message}`);
    });
    this.emit('send', msg, { address: lease.address, port: this.port }, to);
    await this.unapply(lease);
    this.clearState();
    return lease;
  }

  /** Keeps the lease: renew at T1, rebind at T2, start over at expiry, until `signal` aborts. */
  async hold(lease: ClientLease, signal: AbortSignal, onLease: (l: ClientLease) => void): Promise<void> {
    let current = lease;
    // lease time runs on the pause clock (a lab paused with --step does not lose its lease); waits
    // past setTimeout's 2^31-1 ms (T1 of a lease >= 49.7 days) are re-armed in steps that fit
    const sleep = (ms: number): Promise<void> => pauseSleep(Math.max(0, ms), signal);
    while (!signal.aborted) {
      const start = current.obtainedAt;
      await sleep(start + current.t1 * 1000 - pauseNow());
      if (signal.aborted) return;
      try {
        current = await this.renew(false);
        onLease(current);
        continue;
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'renewal failed; will rebind at T2');
      }
      await sleep(start + current.t2 * 1000 - pauseNow());
      if (signal.aborted) return;
      try {
        current = await this.renew(true);
        onLease(current);
        continue;
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'rebinding failed; lease will expire');
      }
      await sleep(start + current.leaseTime * 1000 - pauseNow());
      if (signal.aborted) return;
      await this.unapply(current);
      this.clearState();
      current = await this.obtain();
      onLease(current);
    }
  }

  private async bind(ack: DhcpMessage, server: string): Promise<ClientLease> {
    const mask = optIp(ack, Opt.SUBNET_MASK) ?? '255.255.255.0';
    const prefix = maskToPrefix(mask);
    const routers = ack.options[Opt.ROUTER];
    const leaseTime = typeof ack.options[Opt.LEASE_TIME] === 'number' ? (ack.options[Opt.LEASE_TIME] as number) : 3600;
    const lease: ClientLease = {
      interface: this.ifname,
      address: ack.yiaddr,
      prefix,
      server,
      leaseTime,
      t1: typeof ack.options[Opt.T1] === 'number' ? (ack.options[Opt.T1] as number) : Math.floor(leaseTime / 2),
      t2: typeof ack.options[Opt.T2] === 'number' ? (ack.options[Opt.T2] as number) : Math.floor(leaseTime * 0.875),
      obtainedAt: pauseNow(),
    };
    if (Array.isArray(routers) && typeof routers[0] === 'string') lease.router = routers[0];
    if (Array.isArray(ack.options[Opt.DNS])) lease.dns = ack.options[Opt.DNS] as string[];
    if (typeof ack.options[Opt.DOMAIN] === 'string') lease.domain = ack.options[Opt.DOMAIN] as string;
    const old = this.readState();
    if (old && old.address !== lease.address) await this.unapply(old);
    await this.apply(lease);
    this.writeState(lease);
    return lease;
  }

  private async apply(l: ClientLease): Promise<void> {
    if (this.opts.noApply) return;
    const a = await run('ip', ['addr', 'replace', `${l.address}/${l.prefix}`, 'dev', this.ifname, 'valid_lft', String(l.leaseTime), 'preferred_lft', String(l.leaseTime)]);
    if (a.code !== 0) throw new LabError('LAB_ERR_DHCP', `ip addr replace ${l.address}/${l.prefix} dev ${this.ifname} failed: ${a.stderr.trim()}`);
    if (l.router) {
      const r = await run('ip', ['route', 'replace', 'default', 'via', l.router, 'dev', this.ifname]);
      if (r.code !== 0) this.log.warn({ router: l.router, err: r.stderr.trim() }, 'default route not set');
    }
  }

  private async unapply(l: ClientLease): Promise<void> {
    if (this.opts.noApply) return;
    if (l.router) await run('ip', ['route', 'del', 'default', 'via', l.router, 'dev', this.ifname]);
    await run('ip', ['addr', 'del', `${l.address}/${l.prefix}`, 'dev', this.ifname]);
  }

  readState(): ClientLease | undefined {
    try {
      const l = JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as ClientLease;
      return l.interface === this.ifname ? l : undefined;
    } catch {
      return undefined;
    }
  }

  private writeState(l: ClientLease): void {
    fs.mkdirSync(path.dirname(this.stateFile), { recursive: true });
    fs.writeFileSync(this.stateFile, JSON.stringify(l, null, 2) + '\n');
  }

  private clearState(): void {
    fs.rmSync(this.stateFile, { force: true });
  }
}

/** 255.255.255.0 -> 24. */
export function maskToPrefix(mask: string): number {
  const n = ipToInt(mask);
  let p = 0;
  while (p < 32 && n & (0x80000000 >>> p)) p++;
  return p;
}
