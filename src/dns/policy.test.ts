import { describe, expect, it } from 'vitest';
import { emptyFlags, OPCODES, optRecord, RCODES, TYPES, type Message } from './codec.js';
import { answer, axfrMessages, SERVER_UDP_PAYLOAD } from './policy.js';
import { parseZone, parseZoneText } from './zone-parser.js';

const zone = parseZone(`$ORIGIN example.com.
$TTL 3600
@ SOA ns1 hostmaster 7 3600 900 604800 300
@ NS ns1
@ NS ns.other.net.
@ MX 10 mail
ns1 A 192.0.2.53
mail A 192.0.2.25
mail AAAA 2001:db8::25
www A 192.0.2.80
web CNAME www
ftp CNAME web
out CNAME www.example.org.
dangling CNAME nothere
loop1 CNAME loop2
loop2 CNAME loop1
*.wild A 192.0.2.99
a.b.deep A 192.0.2.77
sub NS ns.sub
ns.sub A 192.0.2.100
_sip._udp SRV 10 60 5060 mail
`);
const zones = [zone];
const udp = { transport: 'udp' as const, transferAllowed: true };
const tcp = { transport: 'tcp' as const, transferAllowed: true };

function q(name: string, type: number, over: Partial<Message> = {}): Message {
  return { id: 42, flags: emptyFlags({ rd: true }), questions: [{ name, type, class: 1 }], answers: [], authorities: [], additionals: [], ...over };
}
const ask = (name: string, type: number, ctx = udp, over: Partial<Message> = {}) => answer(q(name, type, over), zones, ctx).response!;

describe('answer policy', () => {
  it('answers authoritatively with AA, echoing ID, question and RD, without RA', () => {
    const r = ask('WWW.Example.COM', TYPES.A);
    expect(r.id).toBe(42);
    expect(r.flags).toMatchObject({ qr: true, aa: true, rd: true, ra: false, rcode: RCODES.NOERROR });
    expect(r.answers.map((a) => a.data)).toEqual([{ address: '192.0.2.80' }]);
  });

  it('follows CNAME chains inside the zone, and stops at out-of-zone targets and loops', () => {
    expect(ask('ftp.example.com', TYPES.A).answers.map((a) => a.type)).toEqual([TYPES.CNAME, TYPES.CNAME, TYPES.A]);
    const out = ask('out.example.com', TYPES.A);
    expect(out.answers.map((a) => a.type)).toEqual([TYPES.CNAME]);
    expect(out.flags.rcode).toBe(RCODES.NOERROR);
    const loop = ask('loop1.example.com', TYPES.A);
    expect(loop.answers).toHaveLength(2);
    const dangling = ask('dangling.example.com', TYPES.A);
    expect(dangling.flags.rcode).toBe(RCODES.NXDOMAIN); // RFC 6604: rcode of the last name
    expect(dangling.authorities[0]!.type).toBe(TYPES.SOA);
    expect(ask('web.example.com', TYPES.CNAME).answers).toHaveLength(1);
  });

  it('NXDOMAIN and NODATA carry the SOA in authority with the negative TTL (RFC 2308)', () => {
    const nx = ask('nope.example.com', TYPES.A);
    expect(nx.flags.rcode).toBe(RCODES.NXDOMAIN);
    expect(nx.answers).toHaveLength(0);
    expect(nx.authorities.map((a) => [a.type, a.ttl])).toEqual([[TYPES.SOA, 300]]);
    const nodata = ask('www.example.com', TYPES.MX);
    expect(nodata.flags.rcode).toBe(RCODES.NOERROR);
    expect(nodata.answers).toHaveLength(0);
    expect(nodata.authorities[0]!.type).toBe(TYPES.SOA);
    // empty non-terminal: NOERROR, not NXDOMAIN (RFC 8020)
    expect(ask('b.deep.example.com', TYPES.A).flags.rcode).toBe(RCODES.NOERROR);
  });

  it('synthesises wildcard answers under the query name (RFC 4592)', () => {
    const r = ask('anything.wild.example.com', TYPES.A);
    expect(r.answers.map((a) => [a.name, a.data])).toEqual([['anything.wild.example.com', { address: '192.0.2.99' }]]);
    expect(ask('anything.wild.example.com', TYPES.MX).answers).toHaveLength(0);
  });

  it('puts in-zone addresses of NS, MX and SRV targets in additional', () => {
    const mx = ask('example.com', TYPES.MX);
    expect(mx.additionals.map((a) => a.name)).toEqual(['mail.example.com', 'mail.example.com']);
    const ns = ask('example.com', TYPES.NS);
    expect(ns.additionals.map((a) => a.name)).toEqual(['ns1.example.com']);
    expect(ask('_sip._udp.example.com', TYPES.SRV).additionals).toHaveLength(2);
  });

  it('refers delegated names to the child zone with glue, without AA', () => {
    const r = ask('host.sub.example.com', TYPES.A);
    expect(r.flags.aa).toBe(false);
    expect(r.answers).toHaveLength(0);
    expect(r.authorities.map((a) => a.type)).toEqual([TYPES.NS]);
    expect(r.additionals.map((a) => a.data)).toEqual([{ address: '192.0.2.100' }]);
  });

  it('refuses names outside its zones (never recursion) and non-IN classes', () => {
    expect(ask('www.google.com', TYPES.A).flags.rcode).toBe(RCODES.REFUSED);
    expect(ask('example.com.evil', TYPES.A).flags.rcode).toBe(RCODES.REFUSED);
    // one label "a.example" under com (an escaped dot): not ours, even though the text ends in ".example.com"
    expect(ask('a\\.example.com', TYPES.A).flags).toMatchObject({ rcode: RCODES.REFUSED, aa: false });
    // an escaped backslash before a real dot still ends the label: a\\ is a label inside example.com
    expect(ask('a\\\\.example.com', TYPES.A).flags).toMatchObject({ rcode: RCODES.NXDOMAIN, aa: true });
    expect(answer({ ...q('www.example.com', TYPES.A), questions: [{ name: 'www.example.com', type: 1, class: 3 }] }, zones, udp).response!.flags.rcode).toBe(RCODES.REFUSED);
  });

  it('SERVFAIL for a zone it should serve but holds no copy of (a secondary without data)', () => {
    const r = answer(q('www.example.net', TYPES.A), zones, { ...udp, unavailable: ['example.net'] }).response!;
    expect(r.flags.rcode).toBe(RCODES.SERVFAIL);
    expect(answer(q('www.example.org', TYPES.A), zones, { ...udp, unavailable: ['example.net'] }).response!.flags.rcode).toBe(RCODES.REFUSED);
  });

  it('FORMERR without exactly one question, NOTIMP for other opcodes, silence for responses', () => {
    expect(answer(q('x', 1, { questions: [] }), zones, udp).response!.flags.rcode).toBe(RCODES.FORMERR);
    expect(answer({ ...q('www.example.com', 1), flags: emptyFlags({ opcode: OPCODES.UPDATE }) }, zones, udp).response!.flags.rcode).toBe(RCODES.NOTIMP);
    expect(answer({ ...q('www.example.com', 1), flags: emptyFlags({ opcode: OPCODES.STATUS }) }, zones, udp).response!.flags.rcode).toBe(RCODES.NOTIMP);
    expect(answer({ ...q('www.example.com', 1), flags: emptyFlags({ qr: true }) }, zones, udp).response).toBeNull();
  });

  it('EDNS: answers with its own OPT and takes the client limit; BADVERS for version 1', () => {
    const a = answer(q('www.example.com', 1, { additionals: [optRecord(4096)] }), zones, { ...udp, maxUdpSize: 4096 });
    expect(a.udpLimit).toBe(4096);
    expect(a.response!.additionals.at(-1)).toMatchObject({ type: TYPES.OPT, class: SERVER_UDP_PAYLOAD, ttl: 0 });
    // RFC 3225 3: DO copied from the query (dig +dnssec)
    const dnssecOk = answer(q('www.example.com', 1, { additionals: [{ ...optRecord(1232), ttl: 0x8000 }] }), zones, udp).response!;
    expect(dnssecOk.additionals.at(-1)).toMatchObject({ type: TYPES.OPT, ttl: 0x8000 });
    expect(answer(q('www.example.com', 1), zones, udp).udpLimit).toBe(512);
    expect(answer(q('www.example.com', 1, { additionals: [optRecord(100)] }), zones, udp).udpLimit).toBe(512);
    // RFC 6891 6.1.1: two OPT records -> FORMERR
    const twoOpt = answer(q('www.example.com', 1, { additionals: [optRecord(1232), optRecord(4096)] }), zones, udp).response!;
    expect(twoOpt.flags.rcode).toBe(RCODES.FORMERR);
    expect(twoOpt.answers).toEqual([]);
    const v1 = answer(q('www.example.com', 1, { additionals: [{ ...optRecord(1232), ttl: 1 << 16 }] }), zones, udp).response!;
    expect(v1.additionals[0]!.ttl >>> 24).toBe(1); // extended rcode 16 = BADVERS
  });

  it('UDP answers are capped at the server\'s own limit, not the client\'s advertisement (amplification)', () => {
    expect(answer(q('www.example.com', 1, { additionals: [optRecord(65535)] }), zones, udp).udpLimit).toBe(SERVER_UDP_PAYLOAD);
    expect(answer(q('www.example.com', 1, { additionals: [optRecord(65535)] }), zones, { ...udp, maxUdpSize: 4096 }).udpLimit).toBe(4096);
    expect(answer(q('www.example.com', 1, { additionals: [optRecord(800)] }), zones, udp).udpLimit).toBe(800);
  });

  it('malformed EDNS and meaningless qtypes get FORMERR (RFC 6891 6.1.1, as BIND)', () => {
    const formerr = (m: Message): void => expect(answer(m, zones, udp).response!.flags.rcode).toBe(RCODES.FORMERR);
    formerr(q('www.example.com', 1, { additionals: [{ ...optRecord(1232), name: 'x.example.com' }] }));
    formerr(q('www.example.com', 1, { answers: [optRecord(1232)] }));
    formerr(q('www.example.com', 1, { authorities: [optRecord(1232)] }));
    formerr(q('www.example.com', 0));
    formerr(q('www.example.com', TYPES.OPT, { additionals: [optRecord(1232)] }));
    const badOpt = answer(q('www.example.com', 1, { additionals: [{ ...optRecord(1232), name: 'x' }] }), zones, udp).response!;
    expect(badOpt.answers).toEqual([]);
    expect(badOpt.additionals).toEqual([]); // no OPT in answer to a broken OPT, as BIND
  });

  it('AXFR: TCP and allowed only; streamed as SOA ... SOA', () => {
    expect(answer(q('example.com', TYPES.AXFR), zones, udp).response!.flags.rcode).toBe(RCODES.REFUSED);
    expect(answer(q('example.com', TYPES.AXFR), zones, { transport: 'tcp', transferAllowed: false }).response!.flags.rcode).toBe(RCODES.REFUSED);
    expect(answer(q('www.example.com', TYPES.AXFR), zones, tcp).response!.flags.rcode).toBe(RCODES.NOTAUTH);
    const a = answer(q('example.com', TYPES.AXFR), zones, tcp);
    expect(a.axfr).toBe(zone);
    const msgs = axfrMessages(q('example.com', TYPES.AXFR), zone, 200);
    expect(msgs.length).toBeGreaterThan(1);
    const all = msgs.flatMap((m) => m.answers);
    expect(all[0]!.type).toBe(TYPES.SOA);
    expect(all.at(-1)!.type).toBe(TYPES.SOA);
    expect(all).toHaveLength(zone.records.length + 1);
    expect(msgs[0]!.questions).toHaveLength(1);
    expect(msgs[1]!.questions).toHaveLength(0);
  });
});

describe('answer policy: names as BIND users write them', () => {
  const t = parseZoneText(
    `$ORIGIN t.test.
$TTL 300
@ SOA ns h 1 3600 900 604800 60
@ NS ns
ns A 192.0.2.1
MiXeD A 192.0.2.2
\\065bc A 192.0.2.3
semi\\;colon A 192.0.2.4
paren\\(x A 192.0.2.5
bücher A 192.0.2.6
a\\.b A 192.0.2.7
a.b A 192.0.2.8
mx MX 10 a\\.b
gen TYPE65534 \\# 4 01020304
old DNAME new.t.test.
x.new A 192.0.2.11
far DNAME example.net.
sub NS ns.sub
sub DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE7E9A7F5D0A1A3C2B4F1E2D3C
ns.sub A 192.0.2.10
`,
    { file: 't.zone' },
  ).zone;
  const at = (name: string, type: number, ctx = udp) => answer(q(name, type), [t], ctx).response!;

  // names as they arrive from the wire (decodeName's form)
  it.each([
    ['Abc.t.test', 'Abc.t.test'],
    ['ABC.t.test', 'Abc.t.test'],
    ['semi\\;colon.t.test', 'semi\\;colon.t.test'],
    ['paren\\(x.t.test', 'paren\\(x.t.test'],
    ['b\\195\\188cher.t.test', 'b\\195\\188cher.t.test'],
    ['mixed.t.test', 'MiXeD.t.test'],
  ])('finds %s and answers with the zone\'s owner %s', (qname, owner) => {
    const r = at(qname, TYPES.A);
    expect(r.flags.rcode).toBe(RCODES.NOERROR);
    expect(r.answers.map((a) => a.name)).toEqual([owner]);
  });

  it('does not fold non-ASCII case: B\\195\\156cher (Ü) is not bücher', () => {
    expect(at('b\\195\\156cher.t.test', TYPES.A).flags.rcode).toBe(RCODES.NXDOMAIN);
  });

  it('MX a\\.b gets the additional A of the one-label a\\.b, not of a.b', () => {
    const r = at('mx.t.test', TYPES.MX);
    expect(r.additionals.filter((a) => a.type === TYPES.A).map((a) => [a.name, (a.data as { address: string }).address])).toEqual([['a\\.b.t.test', '192.0.2.7']]);
  });

  it('serves any type from RFC 3597 generic data', () => {
    expect(at('gen.t.test', 65534).answers[0]!.data).toEqual({ raw: Buffer.from([1, 2, 3, 4]) });
  });

  it('DNAME: the DNAME, a synthesised CNAME with the query\'s case, then the in-zone target (RFC 6672 3.2)', () => {
    const r = at('X.old.t.test', TYPES.A);
    expect(r.flags.aa).toBe(true);
    expect(r.answers.map((a) => [a.name, a.type, a.data])).toEqual([
      ['old.t.test', TYPES.DNAME, { target: 'new.t.test' }],
      ['X.old.t.test', TYPES.CNAME, { target: 'X.new.t.test' }],
      ['x.new.t.test', TYPES.A, { address: '192.0.2.11' }],
    ]);
    expect(at('y.old.t.test', TYPES.A).flags.rcode).toBe(RCODES.NXDOMAIN); // as BIND: the chased target is absent
    expect(at('a.b.far.t.test', TYPES.A).answers.map((a) => a.data)).toEqual([{ target: 'example.net' }, { target: 'a.b.example.net' }]);
    // the DNAME owner itself is not redirected
    expect(at('old.t.test', TYPES.DNAME).answers).toHaveLength(1);
    expect(at('old.t.test', TYPES.A).answers).toEqual([]);
  });

  it('DNAME whose result exceeds 255 octets is YXDOMAIN (RFC 6672 2.2)', () => {
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(40)}.old.t.test`;
    const z = parseZone(`$ORIGIN t.test.\n$TTL 1\n@ SOA ns h 1 1 1 1 1\nold DNAME ${'e'.repeat(60)}.t.test.\n`);
    const r = answer(q(long, TYPES.A), [z], udp).response!;
    expect(r.flags.rcode).toBe(RCODES.YXDOMAIN);
    expect(r.answers.map((a) => a.type)).toEqual([TYPES.DNAME]);
  });

  it('DS is answered from the parent side of a delegation; other types get the referral (RFC 4035 3.1.4.1)', () => {
    const ds = at('sub.t.test', TYPES.DS);
    expect(ds.flags.aa).toBe(true);
    expect(ds.answers.map((a) => a.type)).toEqual([TYPES.DS]);
    const a = at('sub.t.test', TYPES.A);
    expect(a.flags.aa).toBe(false);
    expect(a.authorities.map((r) => r.type)).toEqual([TYPES.NS]);
    expect(at('host.sub.t.test', TYPES.DS).authorities.map((r) => r.type)).toEqual([TYPES.NS]);
  });

  it('AXFR carries the owners with the zone\'s case and spelling', () => {
    const names = axfrMessages(q('t.test', TYPES.AXFR), t).flatMap((m) => m.answers.map((a) => a.name));
    expect(names).toEqual(expect.arrayContaining(['MiXeD.t.test', 'Abc.t.test', 'b\\195\\188cher.t.test', 'semi\\;colon.t.test', 'a\\.b.t.test']));
  });
});
