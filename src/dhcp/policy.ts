import { intToIp, ipToInt, inCidr, type Cidr } from './ip.js';
import { MessageType, Opt, messageType, optIp, optString, paramRequestList, type DhcpMessage } from './codec.js';
import { AddressPool, ExpiryQueue } from './pool.js';
import type { LeaseSnapshot } from './lease-store.js';

// Lease decisions for one DHCP server, pure: no sockets, no files, time from an injected clock.
// The server asks `handle()` what to do with a request, makes the returned lease changes durable,
// and only then sends the returned reply (RFC 2131 section 4.3).

/** Kea memfile lease states (0 default, 1 declined, 2 expired-reclaimed, 3 released). */
export const LeaseState = { BOUND: 0, DECLINED: 1, EXPIRED: 2, RELEASED: 3 } as const;
export type LeaseStateCode = (typeof LeaseState)[keyof typeof LeaseState];
export const leaseStateName: Record<number, string> = { 0: 'bound', 1: 'declined', 2: 'expired', 3: 'released' };

/** One lease as the lease file stores it (Kea memfile columns). */
export interface LeaseRecord {
  address: string;
  hwaddr: string;
  /** Client identifier (option 61) as colon hex, or ''. */
  clientId: string;
  /** Seconds. */
  validLifetime: number;
  /** Unix time in seconds when the lease ends. */
  expire: number;
  subnetId: number;
  hostname: string;
  state: LeaseStateCode;
}

/** An address pool on one subnet (a "scope" in the course notes). */
export interface Scope {
  /** Kea's subnet_id: 1, 2, ... in the order given. */
  id: number;
  subnet: Cidr;
  first: number;
  last: number;
  router?: string;
}

export interface PolicyConfig {
  scopes: Scope[];
  /** Our address, sent as the server identifier (option 54). */
  serverId: string;
  dns?: string[];
  domain?: string;
  /** Lease time in seconds as sent to clients (already divided by --time-scale). */
  leaseTime: number;
  /** MAC (aa:bb:..) -> reserved address. */
  reservations?: Map<string, string>;
  /** How long an offered address stays held for its client (ms). Default 10 s. */
  offerHoldMs?: number;
  /** How long a declined address stays out of the pool (ms). Default: one lease time. */
  declineHoldMs?: number;
  /** Milliseconds since the epoch; tests inject a fake clock. */
  now?: () => number;
}

/** What the server should do with one request. */
export interface Decision {
  /** Reply to send after `changes` are durable; absent: stay silent. */
  reply?: { type: number; yiaddr: string; ciaddr?: string; options: Record<number, unknown> };
  /** Lease rows to persist (in order) before the reply leaves. */
  changes: LeaseRecord[];
  /** Short reason, logged with the message. */
  note: string;
  /** A condition an operator should see (pool exhausted, ...). */
  warn?: boolean;
}

/** An entry of the due queue: the holding it was queued for, and the time it was queued with. */
interface Due {
  addr: number;
  h: Holding;
  until: number;
}

type HoldState = 'offered' | 'bound' | 'declined' | 'released' | 'expired';
interface Holding {
  key: string;
  hwaddr: string;
  clientId: string;
  state: HoldState;
  /** ms since the epoch. */
  until: number;
  scopeId: number;
  hostname: string;
  validLifetime: number;
}

const STATE_OF: Record<number, HoldState> = { 0: 'bound', 1: 'declined', 2: 'expired', 3: 'released' };

/** Lease logic for a set of scopes (RFC 2131 sections 3 and 4.3). */
export class LeasePolicy {
  readonly scopes: Scope[];
  private readonly cfg: Required<Omit<PolicyConfig, 'router' | 'domain'>> & { domain?: string };
  private readonly byAddr = new Map<number, Holding>();
  private readonly byKey = new Map<string, number>();
  private readonly reservedAddr = new Map<number, string>();
  private readonly cursor = new Map<number, number>();
  private readonly serverInt: number;
  /** Per scope id: the addresses no one holds (or whose lease was released or expired). */
  private readonly pools = new Map<number, AddressPool>();
  /** When offers, leases and quarantines run out; entries of replaced holdings are skipped. */
  private readonly due = new ExpiryQueue<Due>();
  /** Leases the allocator found expired between sweeps; the next sweep() returns their rows. */
  private expiredEarly: Due[] = [];

  constructor(cfg: PolicyConfig) {
    this.scopes = cfg.scopes;
    this.cfg = {
      scopes: cfg.scopes,
      serverId: cfg.serverId,
      dns: cfg.dns ?? [],
      domain: cfg.domain,
      leaseTime: Math.max(1, Math.round(cfg.leaseTime)),
      reservations: cfg.reservations ?? new Map(),
      offerHoldMs: cfg.offerHoldMs ?? 10_000,
      declineHoldMs: cfg.declineHoldMs ?? Math.max(1, Math.round(cfg.leaseTime)) * 1000,
      now: cfg.now ?? Date.now,
    };
    this.serverInt = ipToInt(cfg.serverId);
    for (const [mac, ip] of this.cfg.reservations) this.reservedAddr.set(ipToInt(ip), mac);
    for (const s of this.scopes) {
      this.cursor.set(s.id, s.first);
      const pool = new AddressPool(s.first, s.last);
      for (let a = s.first; a <= s.last; a++) if (this.poolable(a)) pool.add(a);
      this.pools.set(s.id, pool);
    }
  }

  /** The scope for a relayed request (giaddr) or a direct one (the receiving interface's address). */
  scopeFor(address: string): Scope | undefined {
    if (address === '0.0.0.0') return undefined;
    const a = ipToInt(address);
    return this.scopes.find((s) => inCidr(a, s.subnet));
  }

  /** Restores leases read from the lease file (last row per address wins; the store compacts). */
  load(records: Iterable<LeaseRecord>): void {
    for (const r of records) {
      const addr = ipToInt(r.address);
      const old = this.byAddr.get(addr);
      if (old && this.byKey.get(old.key) === addr) this.byKey.delete(old.key);
      const key = keyOf(r.hwaddr, r.clientId);
      const h: Holding = {
        key,
        hwaddr: r.hwaddr,
        clientId: r.clientId,
        state: STATE_OF[r.state] ?? 'expired',
        until: r.expire * 1000,
        scopeId: r.subnetId,
        hostname: r.hostname,
        validLifetime: r.validLifetime,
      };
      this.put(addr, h);
      if (h.state === 'bound' || h.state === 'released' || h.state === 'expired') this.byKey.set(key, addr);
    }
  }

  /** Every lease with its current state (expired bound leases show as expired). */
  leases(): LeaseRecord[] {
    const now = this.cfg.now();
    const out: LeaseRecord[] = [];
    for (const [addr, h] of this.byAddr) {
      if (h.state === 'offered') continue;
      out.push(this.record(addr, h.state === 'bound' && h.until <= now ? { ...h, state: 'expired' } : h));
    }
    return out.sort((a, b) => ipToInt(a.address) - ipToInt(b.address));
  }

  /** The leases now (offers left out), for a background compaction of the lease file; rows are formatted later, in slices. */
  snapshot(): LeaseSnapshot {
    const addrs: number[] = [];
    const held: Holding[] = [];
    for (const [addr, h] of this.byAddr) {
      if (h.state === 'offered') continue;
      addrs.push(addr);
      held.push(h);
    }
    // Holdings are replaced, not edited, except release and expiry, whose rows are appended
    // after the snapshot anyway: a row formatted later shows that state or a later one.
    return { size: addrs.length, row: (i) => this.record(addrs[i]!, held[i]!) };
  }

  /** Marks bound leases whose time is up as expired; returns the rows to persist/log. */
  sweep(): LeaseRecord[] {
    this.reclaim(this.cfg.now());
    const out: LeaseRecord[] = [];
    // Rows only for leases still expired and not handed to someone else meanwhile.
    for (const d of this.expiredEarly) if (this.byAddr.get(d.addr) === d.h && d.h.state === 'expired') out.push(this.record(d.addr, d.h));
    this.expiredEarly = [];
    return out;
  }

  /**
   * Processes every offer, lease and quarantine whose time is up: offers are dropped, leases
   * become expired (their rows wait for the next sweep), and the addresses return to the pool.
   * Only due entries are touched, not every lease.
   */
  private reclaim(now: number): void {
    for (let d = this.due.popDue(now); d !== undefined; d = this.due.popDue(now)) {
      const h = d.h;
      if (this.byAddr.get(d.addr) !== h || h.until !== d.until) continue; // replaced or renewed since
      if (h.state === 'bound') {
        h.state = 'expired';
        this.expiredEarly.push(d);
        this.markFree(d.addr);
      } else if (h.state === 'offered') {
        this.free(d.addr, h);
      } else if (h.state === 'declined') {
        this.markFree(d.addr);
      }
    }
    // Renewals leave their old entries behind: rebuild once stale ones outnumber live leases.
    if (this.due.size > 2 * this.byAddr.size + 1024) this.due.filter((d) => this.byAddr.get(d.addr) === d.h && d.h.until === d.until);
  }

  /** Decides what to do with one request that arrived on (or was relayed from) `scope`. */
  handle(msg: DhcpMessage, scope: Scope): Decision {
    switch (messageType(msg)) {
      case MessageType.DISCOVER:
        return this.discover(msg, scope);
      case MessageType.REQUEST:
        return this.request(msg, scope);
      case MessageType.RELEASE:
        return this.release(msg);
      case MessageType.DECLINE:
        return this.decline(msg);
      case MessageType.INFORM:
        return { reply: { type: MessageType.ACK, yiaddr: '0.0.0.0', ciaddr: msg.ciaddr, options: this.options(msg, scope, false) }, changes: [], note: 'inform: options only, no lease' };
      default:
        return { changes: [], note: 'not a client message type; ignored' };
    }
  }

  private discover(msg: DhcpMessage, scope: Scope): Decision {
    const key = clientKey(msg);
    const now = this.cfg.now();
    let addr: number | undefined;
    let why = '';
    const reserved = this.cfg.reservations.get(msg.chaddr);
    if (reserved !== undefined) {
      const r = ipToInt(reserved);
      if (inCidr(r, scope.subnet) && this.availableTo(r, key, now)) [addr, why] = [r, 'reservation'];
    }
    if (addr === undefined) {
      const prev = this.byKey.get(key);
      if (prev !== undefined && this.inPool(prev, scope) && this.availableTo(prev, key, now) && !this.reservedForOther(prev, msg.chaddr))
        [addr, why] = [prev, 'previous address'];
    }
    if (addr === undefined) {
      const wish = optIp(msg, Opt.REQUESTED_IP);
      if (wish) {
        const w = safeIp(wish);
        if (w !== undefined && this.inPool(w, scope) && this.availableTo(w, key, now) && !this.reservedForOther(w, msg.chaddr))
          [addr, why] = [w, 'requested address'];
      }
    }
    if (addr === undefined) {
      addr = this.allocate(scope, key, msg.chaddr, now);
      why = 'free address from the pool';
    }
    if (addr === undefined) {
      return { changes: [], note: `pool ${intToIp(scope.first)}-${intToIp(scope.last)} has no free address; no offer`, warn: true };
    }
    const h = this.byAddr.get(addr);
    if (!(h && h.key === key && h.state === 'bound' && h.until > now)) {
      this.take(addr, key, msg, scope, 'offered', now + this.cfg.offerHoldMs);
    }
    return { reply: { type: MessageType.OFFER, yiaddr: intToIp(addr), options: this.options(msg, scope, true) }, changes: [], note: `offer: ${why}` };
  }

  private request(msg: DhcpMessage, scope: Scope): Decision {
    const key = clientKey(msg);
    const now = this.cfg.now();
    const serverId = optIp(msg, Opt.SERVER_ID);
    const wish = optIp(msg, Opt.REQUESTED_IP);
    // RFC 2131 4.3.2: which state the client is in follows from server id / requested ip / ciaddr.
    let phase: 'selecting' | 'init-reboot' | 'renewing';
    let text: string | undefined;
    if (serverId) {
      if (serverId !== this.cfg.serverId) {
        const prev = this.byKey.get(key);
        const h = prev === undefined ? undefined : this.byAddr.get(prev);
        if (prev !== undefined && h?.state === 'offered') this.free(prev, h);
        return { changes: [], note: `client chose server ${serverId}; our offer withdrawn` };
      }
      phase = 'selecting';
      text = wish;
    } else if (wish) {
      phase = 'init-reboot';
      text = wish;
    } else if (msg.ciaddr !== '0.0.0.0') {
      phase = 'renewing';
      text = msg.ciaddr;
    } else {
      return this.nak(msg, scope, 'request names no address (no option 50, no ciaddr)');
    }
    const addr = safeIp(text ?? '');
    if (addr === undefined) return this.nak(msg, scope, `requested address "${text}" is not an IPv4 address`);
    if (!inCidr(addr, scope.subnet)) return this.nak(msg, scope, `${text} is not on subnet ${scope.subnet.text}`);
    const h = this.byAddr.get(addr);
    const mine = h !== undefined && h.key === key && h.state !== 'declined';
    if (!mine) {
      const prev = this.byKey.get(key);
      const prevH = prev === undefined ? undefined : this.byAddr.get(prev);
      const known = prevH !== undefined && prevH.key === key && prevH.state === 'bound' && prevH.until > now;
      // RFC 2131 4.3.2 INIT-REBOOT: "If the DHCP server has no record of this client, then it MUST
      // remain silent" -- also when the address is another client's (a NAK there would be a guess).
      if (phase === 'init-reboot' && !known) return { changes: [], note: `init-reboot: no record of this client for ${text}; silent (RFC 2131 4.3.2)` };
      if (h && !isFree(h, now)) return this.nak(msg, scope, `${text} is leased to another client`);
      if (this.reservedForOther(addr, msg.chaddr)) return this.nak(msg, scope, `${text} is reserved for another client`);
      if (phase !== 'selecting') {
        if (known) return this.nak(msg, scope, `${text} is not this client's address (it holds ${intToIp(prev!)})`);
        // RFC 2131 4.3.2: no record of this client -> remain silent
        return { changes: [], note: `${phase}: no record of this client for ${text}; silent (RFC 2131 4.3.2)` };
      }
      if (!this.inPool(addr, scope) && this.cfg.reservations.get(msg.chaddr) !== text) return this.nak(msg, scope, `${text} is outside the pool`);
    }
    const changes: LeaseRecord[] = [];
    const prev = this.byKey.get(key);
    if (prev !== undefined && prev !== addr) {
      const ph = this.byAddr.get(prev);
      if (ph && ph.key === key) {
        if (ph.state === 'bound') changes.push(this.record(prev, { ...ph, state: 'expired', until: now }));
        this.free(prev, ph);
      }
    }
    const lease = this.take(addr, key, msg, scope, 'bound', now + this.cfg.leaseTime * 1000);
    changes.push(this.record(addr, lease));
    return {
      reply: { type: MessageType.ACK, yiaddr: intToIp(addr), ciaddr: msg.ciaddr, options: this.options(msg, scope, true) },
      changes,
      note: `ack (${phase})`,
    };
  }

  private release(msg: DhcpMessage): Decision {
    const serverId = optIp(msg, Opt.SERVER_ID);
    if (serverId && serverId !== this.cfg.serverId) return { changes: [], note: `release for server ${serverId}; ignored` };
    const addr = safeIp(msg.ciaddr);
    const h = addr === undefined ? undefined : this.byAddr.get(addr);
    if (addr === undefined || !h || h.key !== clientKey(msg) || h.state !== 'bound') return { changes: [], note: `release of ${msg.ciaddr}: not this client's lease; ignored` };
    h.state = 'released';
    h.until = this.cfg.now();
    this.markFree(addr);
    return { changes: [this.record(addr, h)], note: `released ${msg.ciaddr}` };
  }

  private decline(msg: DhcpMessage): Decision {
    const text = optIp(msg, Opt.REQUESTED_IP);
    const addr = text === undefined ? undefined : safeIp(text);
    const key = clientKey(msg);
    const h = addr === undefined ? undefined : this.byAddr.get(addr);
    if (addr === undefined || !h || h.key !== key) return { changes: [], note: `decline of ${text ?? '(no address)'}: not offered to this client; ignored` };
    if (this.byKey.get(key) === addr) this.byKey.delete(key);
    // RFC 2131 4.3.3: the address is in use by someone else; keep it out of the pool for a while.
    const held: Holding = { ...h, key: '', hwaddr: '', clientId: '', state: 'declined', until: this.cfg.now() + this.cfg.declineHoldMs };
    this.put(addr, held);
    return { changes: [this.record(addr, held)], note: `declined ${text}: quarantined` };
  }

  private nak(msg: DhcpMessage, scope: Scope, why: string): Decision {
    void scope;
    const options: Record<number, unknown> = { [Opt.SERVER_ID]: this.cfg.serverId, [Opt.MESSAGE]: why };
    // RFC 3046 2.2: the relay agent information option is echoed in all replies, NAKs included.
    if (optString(msg, Opt.RELAY_AGENT)) options[Opt.RELAY_AGENT] = msg.options[Opt.RELAY_AGENT];
    // RFC 6842 section 3: the client identifier is returned unaltered, in NAKs too.
    if (optString(msg, Opt.CLIENT_ID)) options[Opt.CLIENT_ID] = msg.options[Opt.CLIENT_ID];
    return { reply: { type: MessageType.NAK, yiaddr: '0.0.0.0', options }, changes: [], note: `nak: ${why}` };
  }

  /** Options for an OFFER/ACK: the scope's settings, plus what option 55 asks for that we have. */
  private options(msg: DhcpMessage, scope: Scope, withLease: boolean): Record<number, unknown> {
    const o: Record<number, unknown> = {};
    o[Opt.SUBNET_MASK] = intToIp(scope.subnet.mask);
    if (scope.router) o[Opt.ROUTER] = [scope.router];
    if (this.cfg.dns.length) o[Opt.DNS] = this.cfg.dns;
    if (this.cfg.domain) o[Opt.DOMAIN] = this.cfg.domain;
    if (paramRequestList(msg).includes(Opt.BROADCAST)) o[Opt.BROADCAST] = intToIp(scope.subnet.broadcast);
    if (withLease) {
      // RFC 2131 4.4.5 defaults: T1 = 0.5 * lease, T2 = 0.875 * lease
      const t = this.cfg.leaseTime;
      o[Opt.LEASE_TIME] = t;
      o[Opt.T1] = Math.max(1, Math.floor(t * 0.5));
      o[Opt.T2] = Math.max(1, Math.floor(t * 0.875));
    }
    o[Opt.SERVER_ID] = this.cfg.serverId;
    // RFC 3046 2.2: echo the relay agent information option (an empty one cannot be encoded: the
    // whole reply would be dropped, after the lease was already written).
    if (optString(msg, Opt.RELAY_AGENT)) o[Opt.RELAY_AGENT] = msg.options[Opt.RELAY_AGENT];
    // RFC 6842 section 3: "the server MUST return the 'client identifier' option, unaltered".
    if (optString(msg, Opt.CLIENT_ID)) o[Opt.CLIENT_ID] = msg.options[Opt.CLIENT_ID];
    return o;
  }

  /** The options an OFFER in `scope` carries when the client asks for everything we have (start-up checks). */
  offerOptions(scope: Scope): Record<number, unknown> {
    const sample: DhcpMessage = {
      op: 1, htype: 1, hlen: 6, hops: 0, xid: 0, secs: 0, flags: 0, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
      chaddr: '00:00:00:00:00:00', sname: '', file: '', options: { [Opt.PARAM_REQUEST]: [Opt.BROADCAST] },
    };
    return this.options(sample, scope, true);
  }

  private inPool(addr: number, scope: Scope): boolean {
    return addr >= scope.first && addr <= scope.last && addr !== this.serverInt;
  }

  private reservedForOther(addr: number, mac: string): boolean {
    const owner = this.reservedAddr.get(addr);
    return owner !== undefined && owner !== mac;
  }

  private availableTo(addr: number, key: string, now: number): boolean {
    const h = this.byAddr.get(addr);
    if (!h) return true;
    if (h.state === 'declined') return h.until <= now;
    return h.key === key || isFree(h, now);
  }

  /** Next free pool address at or after the scope's cursor, from the free-address index. */
  private allocate(scope: Scope, key: string, mac: string, now: number): number | undefined {
    const pool = this.pools.get(scope.id);
    if (!pool) return undefined;
    this.reclaim(now);
    let from = this.cursor.get(scope.id) ?? scope.first;
    // Members are available by construction; the check only guards the invariant (bounded: a
    // member that fails it is dropped from the index, so no address is tried twice).
    for (let a = pool.nextWrapping(from); a !== undefined; a = pool.nextWrapping(from)) {
      if (a !== this.serverInt && !this.reservedForOther(a, mac) && this.availableTo(a, key, now)) {
        this.cursor.set(scope.id, a >= scope.last ? scope.first : a + 1);
        return a;
      }
      pool.delete(a);
      from = a >= scope.last ? scope.first : a + 1;
    }
    return undefined;
  }

  /** Whether an address may ever be handed out from its pool (not ours, not reserved). */
  private poolable(addr: number): boolean {
    return addr !== this.serverInt && !this.reservedAddr.has(addr);
  }

  private poolOf(addr: number): AddressPool | undefined {
    for (const p of this.pools.values()) if (p.contains(addr)) return p;
    return undefined;
  }

  private markFree(addr: number): void {
    if (this.poolable(addr)) this.poolOf(addr)?.add(addr);
  }

  /** Sets the holding of an address, keeping the free-address index and the due queue in step. */
  private put(addr: number, h: Holding): void {
    this.byAddr.set(addr, h);
    if (h.state === 'released' || h.state === 'expired') this.markFree(addr);
    else {
      this.poolOf(addr)?.delete(addr);
      this.due.push(h.until, { addr, h, until: h.until });
    }
  }

  private take(addr: number, key: string, msg: DhcpMessage, scope: Scope, state: HoldState, until: number): Holding {
    const old = this.byAddr.get(addr);
    if (old && old.key !== key && this.byKey.get(old.key) === addr) this.byKey.delete(old.key);
    const h: Holding = {
      key,
      hwaddr: msg.chaddr,
      clientId: clientIdOf(msg),
      state,
      until,
      scopeId: scope.id,
      hostname: optString(msg, Opt.HOSTNAME) ?? (old?.key === key ? old.hostname : ''),
      validLifetime: this.cfg.leaseTime,
    };
    this.put(addr, h);
    this.byKey.set(key, addr);
    return h;
  }

  private free(addr: number, h: Holding): void {
    this.byAddr.delete(addr);
    if (this.byKey.get(h.key) === addr) this.byKey.delete(h.key);
    this.markFree(addr);
  }

  private record(addr: number, h: Holding): LeaseRecord {
    const state = h.state === 'bound' ? 0 : h.state === 'declined' ? 1 : h.state === 'released' ? 3 : 2;
    return {
      address: intToIp(addr),
      hwaddr: h.hwaddr,
      clientId: h.clientId,
      validLifetime: state === 0 || state === 1 ? h.validLifetime : 0,
      expire: Math.floor(h.until / 1000),
      subnetId: h.scopeId,
      hostname: h.hostname,
      state,
    };
  }
}

function isFree(h: Holding, now: number): boolean {
  return h.state === 'released' || h.state === 'expired' || h.until <= now;
}

function safeIp(text: string): number | undefined {
  try {
    return ipToInt(text);
  } catch {
    return undefined;
  }
}

/** Client identifier (option 61) as colon hex, or ''. */
export function clientIdOf(msg: DhcpMessage): string {
  const v = msg.options[Opt.CLIENT_ID];
  if (typeof v !== 'string' || v.length < 2) return '';
  let out = v.slice(0, 2); // pairs joined by ':' (an odd last digit is dropped, as before)
  for (let i = 2; i + 2 <= v.length; i += 2) out += ':' + v.slice(i, i + 2);
  return out;
}

/** RFC 2131 4.2: a client is identified by option 61 if present, else by chaddr. */
export function clientKey(msg: DhcpMessage): string {
  return keyOf(msg.chaddr, clientIdOf(msg));
}

function keyOf(hwaddr: string, clientId: string): string {
  return clientId ? `id:${clientId}` : `hw:${hwaddr}`;
}
