import { describe, it, expect, vi } from 'vitest';
import fc from 'fast-check';
import {
  BOOTREQUEST,
  MessageType,
  Opt,
  circuitIdOf,
  decode,
  decodeWithNodeDhcp,
  encode,
  encodeWithNodeDhcp,
  messageType,
  parseMac,
  relayForward,
  relayReply,
  replyTo,
  type DhcpMessage,
} from './codec.js';
import { fastDecode, fastEncode } from './codec-fast.js';

/** A raw BOOTREQUEST: 236 fixed bytes, magic cookie, then the given option bytes verbatim. */
function raw(options: number[], mac = [0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc]): Buffer {
  const b = Buffer.alloc(240);
  b[0] = 1; // op
  b[1] = 1; // htype ethernet
  b[2] = 6; // hlen
  b.writeUInt32BE(0x12345678, 4);
  Buffer.from(mac).copy(b, 28);
  b.writeUInt32BE(0x63825363, 236);
  return Buffer.concat([b, Buffer.from(options)]);
}

function discover(extra: Record<number, unknown> = {}): DhcpMessage {
  return {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: 0xdeadbeef, secs: 0, flags: 0x8000,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: '02:00:00:aa:bb:cc',
    sname: '', file: '', options: { [Opt.MESSAGE_TYPE]: MessageType.DISCOVER, ...extra },
  };
}

describe('codec round trip', () => {
  it('encode -> decode -> encode is stable and pads to 300 bytes', () => {
    const m = discover({ [Opt.PARAM_REQUEST]: [1, 3, 6], [Opt.HOSTNAME]: 'pc1', [Opt.REQUESTED_IP]: '10.0.1.7' });
    const a = encode(m);
    expect(a.length).toBe(300);
    const d = decode(a);
    expect(d.chaddr).toBe('02:00:00:aa:bb:cc');
    expect(d.options[Opt.PARAM_REQUEST]).toEqual([1, 3, 6]);
    expect(d.options[Opt.HOSTNAME]).toBe('pc1');
    expect(messageType(d)).toBe(MessageType.DISCOVER);
    expect(encode(d).equals(a)).toBe(true);
  });

  it('reply copies xid, flags, giaddr and chaddr (RFC 2131 table 3)', () => {
    const r = replyTo({ ...discover(), giaddr: '10.0.2.1' }, MessageType.OFFER);
    expect(r).toMatchObject({ op: 2, xid: 0xdeadbeef, flags: 0x8000, giaddr: '10.0.2.1', chaddr: '02:00:00:aa:bb:cc' });
  });

  it('decodes known bytes of a dhclient-style DISCOVER', () => {
    // 53=1, 55=[1,28,2,3,15,6,119,12,44,47,26,121,42], 255
    const d = decode(raw([53, 1, 1, 55, 13, 1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42, 255]));
    expect(d.xid).toBe(0x12345678);
    expect(d.options[55]).toEqual([1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]);
  });
});

// One regression test per fix in patches/dhcp+0.2.20.patch.
describe('node-dhcp codec patches', () => {
  it('a pad byte (option 0) is one byte, not two', () => {
    const d = decode(raw([0, 53, 1, 3, 0, 0, 50, 4, 10, 0, 1, 9, 255]));
    expect(d.options[53]).toBe(3);
    expect(d.options[50]).toBe('10.0.1.9');
  });

  it('option 61 (client identifier) keeps bytes 0x00 and > 0x7f', () => {
    const d = decode(raw([53, 1, 1, 61, 7, 0x01, 0x00, 0xff, 0x80, 0x7f, 0x10, 0x00, 255]));
    expect(d.options[61]).toBe('0100ff807f1000');
    const again = decode(encode(d));
    expect(again.options[61]).toBe('0100ff807f1000');
  });

  it('a packet shorter than 240 bytes or without the magic cookie is a clear error', () => {
    expect(() => decode(Buffer.alloc(235))).toThrow(/too short \(235 bytes/);
    const b = raw([53, 1, 1, 255]);
    b.writeUInt32BE(0, 236);
    expect(() => decode(b)).toThrow(/magic cookie/);
  });

  it('an option running past the end is a clear error, not a RangeError', () => {
    expect(() => decode(raw([53, 1, 1, 12, 50, 0x41]))).toThrow(/Truncated option 12/);
    expect(() => decode(raw([53, 1, 1, 12]))).toThrow(/Truncated option 12/);
  });

  it('a wrong option length does not shift the options after it', () => {
    // option 50 (an IP) with length 5: the decoder must resync on the declared length
    const d = decode(raw([50, 5, 10, 0, 1, 9, 99, 53, 1, 3, 255]));
    expect(d.options[53]).toBe(3);
  });

  it('unknown options are skipped without console noise', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const d = decode(raw([200, 2, 1, 2, 53, 1, 1, 255]));
    expect(d.options[53]).toBe(1);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('option 82 (relay agent information) decodes and encodes as raw bytes', () => {
    const d = decode(raw([53, 1, 1, 82, 6, 1, 4, 0x65, 0x74, 0x68, 0x30, 255]));
    expect(d.options[82]).toBe('01046574683' + '0');
    expect(circuitIdOf(d.options[82])).toBe('eth0');
    expect(decode(encode(d)).options[82]).toBe(d.options[82]);
  });

  it('an option 55 that lists 50 (or anything) decodes as plain numbers', () => {
    const d = decode(raw([53, 1, 1, 55, 4, 50, 0, 255, 82, 255]));
    expect(d.options[55]).toEqual([50, 0, 255, 82]);
  });
});

describe('robustness: arbitrary bytes never escape as anything but an Error', () => {
  it('random datagrams', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => {
        try {
          decode(Buffer.from(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('valid header + random option bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }), (opts) => {
        try {
          const d = decode(raw(opts));
          expect(typeof d.xid).toBe('number');
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          expect((err as Error).message).toMatch(/malformed DHCP message/);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseMac', () => {
  it.each(['aa:bb:cc:dd:ee:ff', 'AA-BB-CC-DD-EE-FF', 'aabb.ccdd.eeff', 'AABBCCDDEEFF'])('%s', (t) => {
    expect(parseMac(t)).toBe('aa:bb:cc:dd:ee:ff');
  });
  it('rejects junk with a message naming the forms', () => {
    expect(() => parseMac('aa:bb:cc')).toThrow(/aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or aabb.ccdd.eeff/);
  });
});

describe('relay byte helpers', () => {
  it('forward sets giaddr, counts the hop and appends option 82 before END', () => {
    const out = relayForward(encode(discover()), '10.0.2.1', 'eth0')!;
    const d = decode(out);
    expect(d.giaddr).toBe('10.0.2.1');
    expect(d.hops).toBe(1);
    expect(circuitIdOf(d.options[82])).toBe('eth0');
    expect(messageType(d)).toBe(MessageType.DISCOVER);
  });

  it('forward keeps an existing giaddr and refuses 16 hops or garbage', () => {
    const m = { ...discover(), giaddr: '10.9.9.1', hops: 2 };
    expect(decode(relayForward(encode(m), '10.0.2.1', 'eth0')!).giaddr).toBe('10.9.9.1');
    expect(relayForward(encode({ ...m, hops: 16 }), '10.0.2.1', 'eth0')).toBeNull();
    expect(relayForward(Buffer.from('hello'), '10.0.2.1', 'eth0')).toBeNull();
  });

  it('reply strips option 82', () => {
    const req = decode(relayForward(encode(discover()), '10.0.2.1', 'eth0')!);
    const offer = replyTo(req, MessageType.OFFER);
    offer.yiaddr = '10.0.2.100';
    offer.options[82] = req.options[82];
    const r = relayReply(encode(offer))!;
    expect(r.msg.yiaddr).toBe('10.0.2.100');
    expect(decode(r.buf).options[82]).toBeUndefined();
  });
});

describe('fast paths: the same values and bytes as node-dhcp (the codec of record)', () => {
  const octet = fc.integer({ min: 0, max: 255 });
  const goodIp = fc.tuple(octet, octet, octet, octet).map((p) => p.join('.'));
  const oddIp = fc.constantFrom('1.2.3', '01.2.3.4', '256.1.1.1', '1.2.3.4.5', ' 1.2.3.4', '1..2.3', '1.2.3.4x', '');
  const ipText = fc.oneof({ weight: 5, arbitrary: goodIp }, { weight: 1, arbitrary: oddIp });
  const value = fc.oneof(
    fc.integer({ min: -2, max: 300 }),
    fc.integer({ min: 0, max: 0xffffffff }),
    ipText,
    fc.array(ipText, { maxLength: 4 }),
    fc.array(fc.integer({ min: -1, max: 256 }), { maxLength: 6 }),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('hex')),
    fc.constant(null),
    fc.constant(1.5),
  );
  const hot = [1, 3, 6, 12, 15, 28, 50, 51, 53, 54, 55, 56, 57, 58, 59, 60, 61, 82];
  const code = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...hot) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) });
  const mac = fc.oneof(
    fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')),
    fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')),
    fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join('-')),
    fc.constantFrom('02:00:00:aa:bb', '0200.00aa.bbcc', 'zz:00:00:00:00:00'),
  );
  const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 });
  const hex = fc.uint8Array({ minLength: 1, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex'));
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  // Well-typed values for the options a server sends, so most cases exercise the fast path itself.
  const typed = fc.record(
    { 1: goodIp, 3: fc.array(goodIp, { maxLength: 3 }), 6: fc.array(goodIp, { maxLength: 3 }), 12: ascii, 15: ascii, 28: goodIp, 51: u32, 53: fc.integer({ min: 1, max: 8 }), 54: goodIp, 55: fc.array(octet, { maxLength: 8 }), 56: ascii, 58: u32, 59: u32, 61: hex, 82: hex },
    { requiredKeys: [] },
  ).map((o) => ({ ...o }));
  const message = fc.record({
    op: fc.constantFrom(1, 2),
    htype: fc.constantFrom(1, 1, 1, 6),
    hlen: fc.constantFrom(6, 6, 6, 16),
    hops: fc.integer({ min: 0, max: 255 }),
    xid: fc.integer({ min: 0, max: 0xffffffff }),
    secs: fc.integer({ min: 0, max: 0xffff }),
    flags: fc.constantFrom(0, 0x8000),
    ciaddr: fc.oneof({ weight: 4, arbitrary: goodIp }, { weight: 1, arbitrary: oddIp }),
    yiaddr: fc.oneof({ weight: 4, arbitrary: goodIp }, { weight: 1, arbitrary: oddIp }),
    siaddr: goodIp,
    giaddr: goodIp,
    chaddr: mac,
    sname: fc.constantFrom('', '', '', 'boot'),
    file: fc.constantFrom('', '', '', 'pxelinux.0'),
    options: fc.oneof(
      { weight: 3, arbitrary: typed },
      { weight: 1, arbitrary: fc.dictionary(code.map(String), value, { maxKeys: 10 }).map((d) => ({ ...d })) }, // a plain object, as node-dhcp expects
    ),
  });
  const outcome = <T>(f: () => T): T | 'throws' => {
    try {
      return f();
    } catch {
      return 'throws';
    }
  };

  it('encode: where the fast path answers, node-dhcp gives the same bytes (and does not throw)', () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      fc.assert(
        fc.property(message, (m) => {
          const fast = fastEncode(m as DhcpMessage);
          const ref = outcome(() => encodeWithNodeDhcp(m as DhcpMessage));
          if (fast === undefined) return;
          expect(ref).not.toBe('throws');
          expect(fast.toString('hex')).toBe((ref as Buffer).toString('hex'));
          expect(encode(m as DhcpMessage).equals(fast)).toBe(true);
        }),
        { numRuns: 3000 },
      );
    } finally {
      quiet.mockRestore();
    }
  });

  it('decode: where the fast path answers, node-dhcp gives the same message; where node-dhcp throws, the fast path declines', () => {
    const header = fc.record({ htype: fc.constantFrom(1, 1, 1, 6), hlen: fc.constantFrom(6, 6, 6, 8), sname: fc.constantFrom(0, 0, 0x41), cookie: fc.constantFrom(0x63825363, 0x63825363, 0x63825364), rest: fc.uint8Array({ minLength: 236, maxLength: 236 }) });
    const optionBytes = fc.array(
      fc.oneof(
        fc.tuple(code, fc.uint8Array({ maxLength: 12 })).map(([c, d]) => [c, d.length, ...d]),
        fc.tuple(code, fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 6 })).map(([c, l, d]) => [c, l, ...d]), // length that lies
        fc.constantFrom([0], [255], [53, 1, 3], [55, 3, 1, 3, 6], [50, 4, 10, 0, 0, 7], [61, 7, 1, 2, 0, 0, 0, 0, 9]),
      ),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(header, optionBytes, fc.integer({ min: 0, max: 60 }), (h, opts, pad) => {
        const b = Buffer.from(h.rest.buffer.slice(0), 0, 236);
        b[1] = h.htype;
        b[2] = h.hlen;
        b[44] = h.sname;
        b[108] = 0;
        const cookie = Buffer.alloc(4);
        cookie.writeUInt32BE(h.cookie);
        const buf = Buffer.concat([b, cookie, Buffer.from(opts.flat()), Buffer.alloc(pad)]);
        const fast = fastDecode(buf);
        const ref = outcome(() => decodeWithNodeDhcp(buf));
        if (fast === undefined) return;
        expect(ref).not.toBe('throws');
        expect(fast).toStrictEqual(ref);
        expect(decode(buf)).toStrictEqual(ref);
      }),
      { numRuns: 3000 },
    );
  });

  it('the hot messages take the fast path: a perfdhcp-style DISCOVER/REQUEST in, an OFFER/ACK with every option we send out', () => {
    const req = raw([53, 1, 3, 50, 4, 10, 50, 1, 7, 54, 4, 10, 50, 0, 1, 55, 4, 1, 3, 6, 28, 61, 7, 1, 2, 0, 0, 0xaa, 0xbb, 0xcc, 12, 3, 0x70, 0x63, 0x31, 255]);
    expect(fastDecode(req)).toStrictEqual(decodeWithNodeDhcp(req));
    const ack = { ...replyTo(decode(req), MessageType.ACK), yiaddr: '10.50.1.7', giaddr: '10.50.0.2' };
    ack.options = { ...ack.options, 1: '255.255.0.0', 3: ['10.50.0.1'], 6: ['10.50.0.53', '10.50.0.54'], 15: 'lab.test', 28: '10.50.255.255', 51: 3600, 58: 1800, 59: 3150, 54: '10.50.0.1', 61: '01020000aabbcc', 82: '0103657468' };
    const fast = fastEncode(ack);
    expect(fast).toBeDefined();
    expect(fast!.equals(encodeWithNodeDhcp(ack))).toBe(true);
  });
});
