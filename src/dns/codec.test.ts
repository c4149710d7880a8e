import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decode,
  decodeName,
  DecodeError,
  Deframer,
  emptyFlags,
  encode,
  encodeLimited,
  frame,
  MAX_POINTER_HOPS,
  canonicalName,
  nameToLabels,
  normalizeName,
  optRecord,
  TYPES,
  type Message,
  type ResourceRecord,
} from './codec.js';

const rr = (name: string, type: number, data: ResourceRecord['data'], ttl = 300): ResourceRecord => ({ name, type, class: 1, ttl, data });

const sample: Message = {
  id: 0x1234,
  flags: emptyFlags({ qr: true, aa: true, rd: true }),
  questions: [{ name: 'example.com', type: TYPES.ANY, class: 1 }],
  answers: [
    rr('example.com', TYPES.A, { address: '192.0.2.1' }),
    rr('example.com', TYPES.AAAA, { address: '2001:db8::1' }),
    rr('www.example.com', TYPES.CNAME, { target: 'example.com' }),
    rr('example.com', TYPES.MX, { preference: 10, exchange: 'mail.example.com' }),
    rr('example.com', TYPES.TXT, { strings: [Buffer.from('v=spf1 -all'), Buffer.from('two')] }),
    rr('example.com', TYPES.NS, { target: 'ns1.example.com' }),
    rr('example.com', TYPES.SOA, { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 2026112101, refresh: 3600, retry: 900, expire: 604800, minimum: 300 }),
    rr('_sip._udp.example.com', TYPES.SRV, { priority: 10, weight: 60, port: 5060, target: 'sip.example.com' }),
    rr('1.2.0.192.in-addr.arpa', TYPES.PTR, { target: 'example.com' }),
    rr('example.com', TYPES.CAA, { flags: 0, tag: 'issue', value: Buffer.from('letsencrypt.org') }),
    rr('example.com', 99, { raw: Buffer.from([1, 2, 3]) }),
  ],
  authorities: [],
  additionals: [optRecord(1232)],
};

describe('codec', () => {
  it('round-trips every supported type: encode -> decode -> encode gives the same bytes', () => {
    const wire = encode(sample);
    const back = decode(wire);
    expect(back.answers).toEqual(sample.answers);
    expect(back.flags).toEqual(sample.flags);
    expect(encode(back).equals(wire)).toBe(true);
  });

  it('compresses repeated names (RFC 1035 4.1.4) but not SRV targets (RFC 2782)', () => {
    const wire = encode(sample);
    expect(wire.length).toBeLessThan(400);
    // "sip" + "example.com" written out in full inside the SRV rdata
    expect(wire.includes(Buffer.from('\x03sip\x07example\x03com\x00', 'latin1'))).toBe(true);
  });

  it('decodes known bytes of a dig query (www.example.com A with EDNS, captured from dig 9.18)', () => {
    // `dig @127.0.0.1 -p 5394 www.example.com A` (9.18.49), datagram as received; ends with a DNS cookie
    const hex = 'e2dc0120000100000000000103777777076578616d706c6503636f6d000001000100002904d000000000000c000a00086b959a28303428f0';
    const m = decode(Buffer.from(hex, 'hex'));
    expect(m.id).toBe(0xe2dc);
    expect(m.flags.rd).toBe(true);
    expect(m.flags.ad).toBe(true);
    expect(m.questions).toEqual([{ name: 'www.example.com', type: 1, class: 1 }]);
    expect(m.additionals[0]!.type).toBe(TYPES.OPT);
    expect(m.additionals[0]!.class).toBe(1232);
  });

  it('rejects compression pointers that loop or point forward', () => {
    const header = Buffer.from('000001000001000000000000', 'hex');
    const selfLoop = Buffer.concat([header, Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(() => decode(selfLoop)).toThrow(DecodeError);
    const forward = Buffer.concat([header, Buffer.from([0xc0, 14, 0, 1, 0, 1, 0])]);
    expect(() => decode(forward)).toThrow(/backwards/);
    // a -> b -> a through two labels
    const twoStep = Buffer.concat([header, Buffer.from([1, 0x61, 0xc0, 12, 0, 1, 0, 1])]);
    expect(() => decodeName(twoStep, 12)).toThrow(DecodeError);
    // into the header: ID 0x0161 then flags 0x00 would read as the name "a"
    const intoHeader = Buffer.from([0x01, 0x61, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 1, 0, 1]);
    expect(() => decode(intoHeader)).toThrow(/points into the header/);
  });

  it('caps the chain of backward pointers in one name (a quadratic-time stall otherwise)', () => {
    // "a" at 12, then pointers each pointing to the one before: a legal-looking chain of any length
    const chain = (hops: number): { buf: Buffer; last: number } => {
      const parts = [Buffer.alloc(12), Buffer.from([1, 0x61, 0])];
      let prev = 12;
      for (let i = 0; i < hops; i++) {
        const at = 15 + 2 * i;
        parts.push(Buffer.from([0xc0 | (prev >> 8), prev & 0xff]));
        prev = at;
      }
      return { buf: Buffer.concat(parts), last: prev };
    };
    const ok = chain(MAX_POINTER_HOPS);
    expect(decodeName(ok.buf, ok.last).name).toBe('a');
    const tooLong = chain(MAX_POINTER_HOPS + 1);
    expect(() => decodeName(tooLong.buf, tooLong.last)).toThrow(/more than 127 compression pointers/);
  });

  it('rejects counts larger than the packet, short headers and truncated records', () => {
    expect(() => decode(Buffer.alloc(5))).toThrow(/shorter than the 12-octet header/);
    const lying = Buffer.from('0000010000ff0000000000000000010001', 'hex');
    expect(() => decode(lying)).toThrow(/claim more/);
    const wire = encode(sample);
    for (const cut of [13, 40, wire.length - 1]) expect(() => decode(wire.subarray(0, cut))).toThrow(DecodeError);
  });

  it('rejects an EDNS option running past its OPT record, and (when asked) trailing octets', () => {
    const q: Message = { id: 1, flags: emptyFlags(), questions: [{ name: 'example.com', type: TYPES.A, class: 1 }], answers: [], authorities: [], additionals: [] };
    const withOptions = (options: Buffer): Buffer => encode({ ...q, additionals: [{ ...optRecord(1232), data: { options } }] });
    expect(decode(withOptions(Buffer.from([0, 10, 0, 2, 1, 2]))).additionals).toHaveLength(1); // one 2-octet option
    expect(() => decode(withOptions(Buffer.from([0, 10, 0, 8, 1, 2])))).toThrow(/EDNS option 10 of 8 octets runs past the OPT record/);
    expect(() => decode(withOptions(Buffer.from([0, 10, 0])))).toThrow(/EDNS option header runs past/);
    const trailing = Buffer.concat([encode(q), Buffer.from([1, 2, 3])]);
    expect(decode(trailing).questions).toHaveLength(1); // lenient by default (a client reading answers)
    expect(() => decode(trailing, { rejectTrailing: true })).toThrow(/3 octets after the last record/);
    expect(decode(encode(q), { rejectTrailing: true }).questions).toHaveLength(1);
  });

  it('never throws anything but DecodeError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        try {
          decode(Buffer.from(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but DecodeError on mutations of a valid message', () => {
    const wire = encode(sample);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(wire.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), (edits) => {
        const b = Buffer.from(wire);
        for (const [i, v] of edits) b[i] = v;
        try {
          decode(b);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('cuts whole records to fit a UDP limit, sets TC and keeps the OPT record', () => {
    const many: Message = {
      ...sample,
      answers: Array.from({ length: 60 }, (_, i) => rr('many.example.com', TYPES.A, { address: `192.0.2.${i}` })),
    };
    const r = encodeLimited(many, 512);
    expect(r.truncated).toBe(true);
    expect(r.buf.length).toBeLessThanOrEqual(512);
    const m = decode(r.buf);
    expect(m.flags.tc).toBe(true);
    expect(m.answers.length).toBeGreaterThan(0);
    expect(m.answers.length).toBeLessThan(60);
    expect(m.additionals.at(-1)!.type).toBe(TYPES.OPT);
    expect(encodeLimited(many, 4096).truncated).toBe(false);
  });

  it('frames and deframes TCP messages, including split and pipelined chunks', () => {
    const a = encode(sample);
    const b = encode({ ...sample, id: 7, answers: [] });
    const stream = Buffer.concat([frame(a), frame(b)]);
    const d = new Deframer();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 7) {
      d.push(stream.subarray(i, i + 7));
      let m;
      while ((m = d.next())) got.push(Buffer.from(m));
    }
    expect(got.map((g) => g.equals(a) || g.equals(b))).toEqual([true, true]);
    expect(decode(got[1]!).id).toBe(7);
    const half = new Deframer();
    half.push(stream.subarray(0, a.length + 5));
    expect(half.next()?.equals(a)).toBe(true);
    expect(half.next()).toBeNull();
    expect(half.buffered).toBe(3);
  });

  it('escapes odd label bytes in presentation form and encodes them back', () => {
    const m: Message = { ...sample, answers: [], additionals: [], questions: [{ name: 'a\\.b.x\\032y.example', type: 1, class: 1 }] };
    const back = decode(encode(m));
    expect(back.questions[0]!.name).toBe('a\\.b.x\\032y.example');
  });
});

describe('names: one canonical form for zone, wire and AXFR (RFC 1035 5.1, RFC 4343)', () => {
  it('decodes labels to the form BIND prints: specials escaped, other octets as \\DDD', () => {
    const wire = Buffer.concat([Buffer.alloc(12), Buffer.from([3, 0x41, 0x62, 0x63, 3, 0x61, 0x2e, 0x62, 4, 0x73, 0x3b, 0x28, 0x20, 7, 0x62, 0xc3, 0xbc, 0x63, 0x68, 0x65, 0x72, 0])]);
    expect(decodeName(wire, 12).name).toBe('Abc.a\\.b.s\\;\\(\\032.b\\195\\188cher');
  });

  it('normalizes every zone-file spelling to that form, keeping case', () => {
    expect(normalizeName('\\065bc.t.test.')).toBe('Abc.t.test');
    expect(normalizeName('semi\\;colon.t.test')).toBe('semi\\;colon.t.test');
    expect(normalizeName('paren\\(x.t.test')).toBe('paren\\(x.t.test');
    expect(normalizeName('bücher.t.test.')).toBe('b\\195\\188cher.t.test');
    expect(normalizeName('a\\.b.t.test')).toBe('a\\.b.t.test');
    expect(normalizeName('a\\\\.t.')).toBe('a\\\\.t');
    expect(nameToLabels('a\\\\.').map((l) => l.toString('latin1'))).toEqual(['a\\']);
  });

  it('folds ASCII case only: the key of \\065BC is abc, a UTF-8 octet stays as it is', () => {
    expect(canonicalName('\\065BC.T.test.')).toBe('abc.t.test');
    expect(canonicalName('MiXeD.t.test')).toBe('mixed.t.test');
    expect(canonicalName('B\\195\\156cher')).toBe('b\\195\\156cher'); // 0xDC is not folded to 0xFC
  });

  it('compression tells the label "a.b" from the labels "a","b" (MX target a\\.b)', () => {
    const msg: Message = {
      id: 1,
      flags: emptyFlags({ qr: true }),
      questions: [{ name: 'mx.t.test', type: TYPES.MX, class: 1 }],
      answers: [rr('mx.t.test', TYPES.MX, { preference: 10, exchange: 'a\\.b.t.test' })],
      authorities: [],
      additionals: [rr('a.b.t.test', TYPES.A, { address: '192.0.2.8' }), rr('a\\.b.t.test', TYPES.A, { address: '192.0.2.7' })],
    };
    const back = decode(encode(msg));
    expect(back.answers[0]!.data).toEqual({ preference: 10, exchange: 'a\\.b.t.test' });
    expect(back.additionals.map((r) => r.name)).toEqual(['a.b.t.test', 'a\\.b.t.test']);
  });

  it('compression keeps each name\'s own case (an owner MiXeD after a question mixed)', () => {
    const msg: Message = {
      id: 1,
      flags: emptyFlags({ qr: true }),
      questions: [{ name: 'mixed.t.test', type: TYPES.A, class: 1 }],
      answers: [rr('MiXeD.t.test', TYPES.A, { address: '192.0.2.2' })],
      authorities: [],
      additionals: [],
    };
    const buf = encode(msg);
    expect(decode(buf).answers[0]!.name).toBe('MiXeD.t.test');
    expect(buf.length).toBe(12 + 18 + (6 + 2) + 10 + 4); // MiXeD then a pointer to the question's t.test
  });
});
