import { describe, it, expect } from 'vitest';
import { LeasePolicy, LeaseState, type Scope } from './policy.js';
import { BOOTREQUEST, MessageType, Opt, encode, replyTo, type DhcpMessage } from './codec.js';
import { ipToInt, parseCidr } from './ip.js';

const SERVER = '10.0.1.1';
function scope(id: number, cidr: string, first: string, last: string, router?: string): Scope {
  return { id, subnet: parseCidr(cidr), first: ipToInt(first), last: ipToInt(last), ...(router ? { router } : {}) };
}
const S1 = scope(1, '10.0.1.0/24', '10.0.1.100', '10.0.1.102', '10.0.1.1');
const S2 = scope(2, '10.0.2.0/24', '10.0.2.100', '10.0.2.199', '10.0.2.1');

function setup(extra: Partial<ConstructorParameters<typeof LeasePolicy>[0]> = {}) {
  let t = 1_800_000_000_000;
  const clock = { advance: (ms: number) => (t += ms), now: () => t };
  const p = new LeasePolicy({ scopes: [S1, S2], serverId: SERVER, dns: ['10.0.1.53'], domain: 'lab.test', leaseTime: 600, now: clock.now, ...extra });
  return { p, clock };
}

function msg(type: number, mac: string, o: Partial<DhcpMessage> = {}, options: Record<number, unknown> = {}): DhcpMessage {
  return {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: 1, secs: 0, flags: 0,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: mac,
    sname: '', file: '', ...o, options: { [Opt.MESSAGE_TYPE]: type, ...options },
  };
}
const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';
const D = '02:00:00:00:00:0d';

function dora(p: LeasePolicy, mac: string, s: Scope = S1): string {
  const offer = p.handle(msg(MessageType.DISCOVER, mac), s);
  expect(offer.reply?.type).toBe(MessageType.OFFER);
  const ack = p.handle(msg(MessageType.REQUEST, mac, {}, { [Opt.SERVER_ID]: SERVER, [Opt.REQUESTED_IP]: offer.reply!.yiaddr }), s);
  expect(ack.reply?.type).toBe(MessageType.ACK);
  return ack.reply!.yiaddr;
}

describe('LeasePolicy', () => {
  it('DORA: offer from the pool, ack with all options and T1/T2, one durable row', () => {
    const { p } = setup();
    const offer = p.handle(msg(MessageType.DISCOVER, A, {}, { [Opt.PARAM_REQUEST]: [1, 3, 6, 15, 28, 50, 250] }), S1);
    expect(offer.reply).toMatchObject({ type: MessageType.OFFER, yiaddr: '10.0.1.100' });
    expect(offer.changes).toEqual([]); // offers are not persisted
    expect(offer.reply!.options).toMatchObject({ 1: '255.255.255.0', 3: ['10.0.1.1'], 6: ['10.0.1.53'], 15: 'lab.test', 28: '10.0.1.255', 51: 600, 58: 300, 59: 525, 54: SERVER });
    expect(offer.reply!.options[50]).toBeUndefined();
    const ack = p.handle(msg(MessageType.REQUEST, A, {}, { [Opt.SERVER_ID]: SERVER, [Opt.REQUESTED_IP]: '10.0.1.100' }), S1);
    expect(ack.reply).toMatchObject({ type: MessageType.ACK, yiaddr: '10.0.1.100' });
    expect(ack.changes).toEqual([expect.objectContaining({ address: '10.0.1.100', hwaddr: A, state: LeaseState.BOUND, validLifetime: 600, expire: 1_800_000_600, subnetId: 1 })]);
  });

  it('the same client gets the same address again; two clients never share one', () => {
    const { p } = setup();
    const a = dora(p, A);
    const b = dora(p, B);
    expect(a).not.toBe(b);
    expect(p.handle(msg(MessageType.DISCOVER, A), S1).reply!.yiaddr).toBe(a);
  });

  it('an offered address is held briefly, then returns to the pool', () => {
    const { p, clock } = setup({ offerHoldMs: 5000 });
    expect(p.handle(msg(MessageType.DISCOVER, A), S1).reply!.yiaddr).toBe('10.0.1.100');
    expect(p.handle(msg(MessageType.DISCOVER, B), S1).reply!.yiaddr).toBe('10.0.1.101');
    expect(p.handle(msg(MessageType.DISCOVER, C), S1).reply!.yiaddr).toBe('10.0.1.102');
    expect(p.handle(msg(MessageType.DISCOVER, D), S1).reply).toBeUndefined();
    clock.advance(5001);
    expect(p.handle(msg(MessageType.DISCOVER, D), S1).reply!.yiaddr).toBe('10.0.1.100');
  });

  it('pool exhaustion: no offer, a warning, no spin', () => {
    const { p } = setup();
    dora(p, A);
    dora(p, B);
    dora(p, C);
    const d = p.handle(msg(MessageType.DISCOVER, D), S1);
    expect(d.reply).toBeUndefined();
    expect(d.warn).toBe(true);
    expect(d.note).toMatch(/no free address/);
  });

  it('a client that chose another server frees our offer', () => {
    const { p } = setup();
    p.handle(msg(MessageType.DISCOVER, A), S1);
    const d = p.handle(msg(MessageType.REQUEST, A, {}, { [Opt.SERVER_ID]: '10.0.1.254', [Opt.REQUESTED_IP]: '10.0.9.9' }), S1);
    expect(d.reply).toBeUndefined();
    // the 3-address pool is whole again: three other clients all get offers
    const offers = [B, C, D].map((m) => p.handle(msg(MessageType.DISCOVER, m), S1).reply?.yiaddr);
    expect(new Set(offers)).toEqual(new Set(['10.0.1.100', '10.0.1.101', '10.0.1.102']));
  });

  it('INIT-REBOOT: ack for its own address, NAK for a wrong one, NAK off-subnet, silent when unknown', () => {
    const { p } = setup();
    const a = dora(p, A);
    expect(p.handle(msg(MessageType.REQUEST, A, {}, { [Opt.REQUESTED_IP]: a }), S1).reply?.type).toBe(MessageType.ACK);
    const wrong = p.handle(msg(MessageType.REQUEST, A, {}, { [Opt.REQUESTED_IP]: '10.0.1.102' }), S1);
    expect(wrong.reply?.type).toBe(MessageType.NAK);
    expect(wrong.reply!.options[Opt.MESSAGE]).toMatch(/not this client's address/);
    expect(p.handle(msg(MessageType.REQUEST, A, {}, { [Opt.REQUESTED_IP]: '192.168.0.5' }), S1).reply?.type).toBe(MessageType.NAK);
    expect(p.handle(msg(MessageType.REQUEST, D, {}, { [Opt.REQUESTED_IP]: '10.0.1.102' }), S1).reply).toBeUndefined();
  });

  it('INIT-REBOOT from a client with no record is silent, also for an address leased to another (RFC 2131 4.3.2); wrong network is still NAKed', () => {
    const { p } = setup();
    const a = dora(p, A);
    const d = p.handle(msg(MessageType.REQUEST, D, {}, { [Opt.REQUESTED_IP]: a }), S1);
    expect(d.reply).toBeUndefined();
    expect(d.changes).toEqual([]);
    expect(d.note).toMatch(/no record of this client.*silent/);
    expect(p.handle(msg(MessageType.REQUEST, D, {}, { [Opt.REQUESTED_IP]: '10.0.2.100' }), S1).reply?.type).toBe(MessageType.NAK);
    // the lease stays A's
    expect(p.handle(msg(MessageType.REQUEST, A, {}, { [Opt.REQUESTED_IP]: a }), S1).reply?.type).toBe(MessageType.ACK);
  });

  it('a relayed NAK echoes option 82 like every other reply (RFC 3046 2.2)', () => {
    const { p } = setup();
    const opt82 = '01046574683' + '1';
    const d = p.handle(msg(MessageType.REQUEST, A, { giaddr: '10.0.2.1' }, { [Opt.REQUESTED_IP]: '10.0.9.9', [Opt.RELAY_AGENT]: opt82 }), S2);
    expect(d.reply?.type).toBe(MessageType.NAK);
    expect(d.reply!.options[Opt.RELAY_AGENT]).toBe(opt82);
    const offer = p.handle(msg(MessageType.DISCOVER, A, { giaddr: '10.0.2.1' }, { [Opt.RELAY_AGENT]: opt82 }), S2);
    expect(offer.reply!.options[Opt.RELAY_AGENT]).toBe(opt82);
  });

  it('an empty option 82 is not echoed: the ACK must still encode', () => {
    const { p } = setup();
    const empty = { [Opt.RELAY_AGENT]: '' };
    const offer = p.handle(msg(MessageType.DISCOVER, A, {}, empty), S1);
    const ack = p.handle(msg(MessageType.REQUEST, A, {}, { ...empty, [Opt.SERVER_ID]: SERVER, [Opt.REQUESTED_IP]: offer.reply!.yiaddr }), S1);
    expect(ack.changes).toHaveLength(1); // the lease is written before the ACK is built ...
    const reply = replyTo(msg(MessageType.REQUEST, A), ack.reply!.type);
    reply.yiaddr = ack.reply!.yiaddr;
    reply.options = { ...reply.options, ...ack.reply!.options };
    expect(() => encode(reply)).not.toThrow(); // ... so the ACK has to be sendable
    expect(ack.reply!.options[Opt.RELAY_AGENT]).toBeUndefined();
  });

  it('a request for an address leased to another client is NAKed', () => {
    const { p } = setup();
    const a = dora(p, A);
    const d = p.handle(msg(MessageType.REQUEST, B, {}, { [Opt.SERVER_ID]: SERVER, [Opt.REQUESTED_IP]: a }), S1);
    expect(d.reply?.type).toBe(MessageType.NAK);
    expect(d.changes).toEqual([]);
  });

  it('RENEWING extends the lease; RELEASE frees it; DECLINE quarantines', () => {
    const { p, clock } = setup();
    const a = dora(p, A);
    clock.advance(300_000);
    const renew = p.handle(msg(MessageType.REQUEST, A, { ciaddr: a }), S1);
    expect(renew.reply).toMatchObject({ type: MessageType.ACK, yiaddr: a, ciaddr: a });
    expect(renew.changes[0]!.expire).toBe(1_800_000_900);
    const rel = p.handle(msg(MessageType.RELEASE, A, { ciaddr: a }, { [Opt.SERVER_ID]: SERVER }), S1);
    expect(rel.reply).toBeUndefined();
    expect(rel.changes[0]).toMatchObject({ address: a, state: LeaseState.RELEASED });
    // someone else's RELEASE of B's address is ignored
    const b = dora(p, B);
    expect(p.handle(msg(MessageType.RELEASE, C, { ciaddr: b }), S1).changes).toEqual([]);
    // DECLINE: the address leaves the pool for a while
    const off = p.handle(msg(MessageType.DISCOVER, C), S1).reply!.yiaddr;
    const dec = p.handle(msg(MessageType.DECLINE, C, {}, { [Opt.REQUESTED_IP]: off, [Opt.SERVER_ID]: SERVER }), S1);
    expect(dec.changes[0]).toMatchObject({ address: off, state: LeaseState.DECLINED, hwaddr: '' });
    expect(p.handle(msg(MessageType.DISCOVER, D), S1).reply?.yiaddr).not.toBe(off);
  });

  it('INFORM: ACK with options but no lease time and no lease', () => {
    const { p } = setup();
    const d = p.handle(msg(MessageType.INFORM, A, { ciaddr: '10.0.1.50' }), S1);
    expect(d.reply).toMatchObject({ type: MessageType.ACK, yiaddr: '0.0.0.0', ciaddr: '10.0.1.50' });
    expect(d.reply!.options[Opt.LEASE_TIME]).toBeUndefined();
    expect(d.changes).toEqual([]);
  });

  it('reservations: the client always gets its address, nobody else does', () => {
    const { p } = setup({ reservations: new Map([[B, '10.0.1.100'], [C, '10.0.1.20']]) });
    expect(dora(p, A)).toBe('10.0.1.101');
    expect(dora(p, B)).toBe('10.0.1.100');
    expect(dora(p, C)).toBe('10.0.1.20'); // outside the pool, still honoured
    expect(p.handle(msg(MessageType.REQUEST, A, {}, { [Opt.SERVER_ID]: SERVER, [Opt.REQUESTED_IP]: '10.0.1.20' }), S1).reply?.type).toBe(MessageType.NAK);
  });

  it('scopes: relayed requests lease from the giaddr subnet', () => {
    const { p } = setup();
    expect(p.scopeFor('10.0.2.1')).toBe(S2);
    expect(p.scopeFor('10.0.9.1')).toBeUndefined();
    expect(dora(p, A, S2)).toBe('10.0.2.100');
  });

  it('leases expire on the clock and are swept; a restart (load) keeps bound leases', () => {
    const { p, clock } = setup();
    const a = dora(p, A);
    const rows = p.leases();
    const { p: p2 } = setup();
    p2.load(rows);
    expect(p2.handle(msg(MessageType.DISCOVER, B), S1).reply!.yiaddr).not.toBe(a);
    expect(p2.handle(msg(MessageType.REQUEST, A, {}, { [Opt.REQUESTED_IP]: a }), S1).reply?.type).toBe(MessageType.ACK);
    clock.advance(601_000);
    expect(p.sweep()).toEqual([expect.objectContaining({ address: a, state: LeaseState.EXPIRED })]);
    expect(p.sweep()).toEqual([]);
  });

  it('the client identifier (option 61) is echoed unaltered in OFFER, ACK, NAK and the INFORM ACK (RFC 6842 section 3)', () => {
    const { p } = setup();
    const cid = '00ff8001020304'; // type 0 with bytes > 0x7f: opaque, not text
    const o = { [Opt.CLIENT_ID]: cid };
    const offer = p.handle(msg(MessageType.DISCOVER, A, {}, o), S1).reply!;
    expect(offer.options[Opt.CLIENT_ID]).toBe(cid);
    const ack = p.handle(msg(MessageType.REQUEST, A, {}, { ...o, [Opt.SERVER_ID]: SERVER, [Opt.REQUESTED_IP]: offer.yiaddr }), S1).reply!;
    expect(ack).toMatchObject({ type: MessageType.ACK });
    expect(ack.options[Opt.CLIENT_ID]).toBe(cid);
    const nak = p.handle(msg(MessageType.REQUEST, A, {}, { ...o, [Opt.REQUESTED_IP]: '192.168.0.5' }), S1).reply!;
    expect(nak).toMatchObject({ type: MessageType.NAK });
    expect(nak.options[Opt.CLIENT_ID]).toBe(cid);
    const inform = p.handle(msg(MessageType.INFORM, A, { ciaddr: '10.0.1.7' }, o), S1).reply!;
    expect(inform.options[Opt.CLIENT_ID]).toBe(cid);
    // and on the wire, byte for byte
    const wire = replyTo(msg(MessageType.REQUEST, A), ack.type);
    wire.options = { ...wire.options, ...ack.options };
    expect(encode(wire).includes(Buffer.from([61, 7, ...Buffer.from(cid, 'hex')]))).toBe(true);
    // no option 61 in the request: none in the reply
    expect(p.handle(msg(MessageType.DISCOVER, B), S1).reply!.options[Opt.CLIENT_ID]).toBeUndefined();
  });

  it('client identifier (option 61) identifies the client across MAC changes', () => {
    const { p } = setup();
    const cid = { [Opt.CLIENT_ID]: '01aabbccddeeff' };
    const off = p.handle(msg(MessageType.DISCOVER, A, {}, cid), S1).reply!.yiaddr;
    expect(p.handle(msg(MessageType.REQUEST, B, {}, { ...cid, [Opt.SERVER_ID]: SERVER, [Opt.REQUESTED_IP]: off }), S1).reply?.type).toBe(MessageType.ACK);
  });
});
