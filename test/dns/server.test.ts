// startDnsServer in-process on real sockets (127.0.0.1, port 0): the listener contract and the
// failure paths that need a hook into the handler.
import { describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { decode, encode, frame, OPCODES, RCODES, TYPES } from '../../src/dns/codec.js';
import { buildQuery, query, udpExchange } from '../../src/dns/client.js';
import { startDnsServer } from '../../src/dns/server.js';
import { loadZoneFile } from '../../src/dns/zone-parser.js';
import { EXAMPLE_ZONE } from './helpers.js';

function memoryLogger(): { log: pino.Logger; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const zones = [loadZoneFile(EXAMPLE_ZONE)];

describe('startDnsServer', () => {
  it('binds UDP and TCP on the same port, resolves with the address, closes twice safely', async () => {
    const srv = await startDnsServer({ zones });
    expect(srv.address).toMatchObject({ host: '127.0.0.1', family: 'IPv4' });
    expect(srv.address.port).toBeGreaterThan(0);
    const server = { address: '127.0.0.1', port: srv.address.port };
    expect((await query('www.example.com', TYPES.A, { server })).transport).toBe('udp');
    expect((await query('www.example.com', TYPES.A, { server, tcp: true })).transport).toBe('tcp');
    await srv.close();
    await srv.close();
    await expect(query('www.example.com', TYPES.A, { server, tcp: true, timeoutMs: 500 })).rejects.toThrow(/refused/);
  });

  it('a handler that throws is caught and logged; the server keeps answering', async () => {
    const { log, records } = memoryLogger();
    await using srv = await startDnsServer({
      zones,
      log,
      onNotify: () => {
        throw new Error('boom');
      },
    });
    const server = { address: '127.0.0.1', port: srv.address.port };
    const notify = buildQuery('example.com', TYPES.SOA, { opcode: OPCODES.NOTIFY });
    await expect(udpExchange(notify, server, 300)).rejects.toThrow(/no answer/);
    // over TCP the connection is dropped
    await new Promise<void>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => s.write(frame(encode(notify))));
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
    const r = await query('www.example.com', TYPES.A, { server });
    expect(r.response.answers).toHaveLength(1);
    const errors = records().filter((x) => x.level === 50);
    expect(errors.map((x) => x.msg)).toEqual(['handler error; datagram dropped', 'handler error; connection closed']);
    expect((errors[0]!.err as { message: string }).message).toBe('boom');
  });

  it('closes a TCP connection whose length prefix exceeds the maximum message size', async () => {
    const { log, records } = memoryLogger();
    await using srv = await startDnsServer({ zones, log, maxTcpMessage: 4096 });
    const closedByServer = await new Promise<boolean>((resolve) => {
      const s = net.connect(srv.address.port, '127.0.0.1', () => s.write(Buffer.from([0xff, 0xff, 1, 2, 3])));
      s.on('error', () => {});
      s.on('close', () => resolve(true));
      setTimeout(() => (s.destroy(), resolve(false)), 5000);
    });
    expect(closedByServer).toBe(true);
    expect(records().some((x) => x.msg === 'tcp message of 65535 octets exceeds 4096; connection closed')).toBe(true);
  });

  it('a frame trickled one octet at a time is closed: bytes do not keep a started message alive', async () => {
    const { log, records } = memoryLogger();
    await using srv = await startDnsServer({ zones, log, tcpIdleMs: 400 });
    // announce a 200-octet message, then send one octet every 100 ms (each would restart an idle timer)
    const closedByServer = await new Promise<boolean>((resolve) => {
      let sent = 0;
      let tick: NodeJS.Timeout | undefined;
      const s = net.connect(srv.address.port, '127.0.0.1', () => {
        s.write(Buffer.from([0, 200]));
        tick = setInterval(() => {
          if (++sent > 60) return clearInterval(tick), s.destroy(), resolve(false);
          s.write(Buffer.from([0]));
        }, 100);
      });
      s.on('error', () => {});
      s.on('close', () => (clearInterval(tick), resolve(sent <= 60)));
    });
    expect(closedByServer).toBe(true);
    expect(records().some((x) => x.reason === 'partial message')).toBe(true);
    // and the server still answers
    expect((await query('www.example.com', TYPES.A, { server: { address: '127.0.0.1', port: srv.address.port }, tcp: true })).response.answers).toHaveLength(1);
  });

  it('a question name pointing into the header (so depending on the ID) is FORMERR, never a cached answer for another ID', async () => {
    await using srv = await startDnsServer({ zones });
    const sock = dgram.createSocket('udp4');
    try {
      const ask = (b: Buffer): Promise<Buffer> =>
        new Promise((resolve) => {
          sock.once('message', (m) => resolve(m));
          sock.send(b, srv.address.port, '127.0.0.1');
        });
      // ID 0x01 0x61 / 0x01 0x62 followed by flags 0x00 read as the names "a" / "b"; the rest is byte-equal
      const q = (ch: number): Buffer => Buffer.from([0x01, ch, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 1, 0, 1]);
      await ask(q(0x61));
      const second = decode(await ask(q(0x62)));
      expect(second.id).toBe(0x0162);
      expect(second.questions).toEqual([]);
      expect(second.flags.rcode).toBe(RCODES.FORMERR);
    } finally {
      sock.close();
    }
  });

  it('a burst of the same cached question: every answer carries its own query ID, none lost or repeated', async () => {
    // the answers of one event-loop turn are sent together at its end: an answer patched in the
    // cache's bytes would carry the last query's ID in every answer of the turn
    await using srv = await startDnsServer({ zones });
    const sock = dgram.createSocket('udp4');
    try {
      const ids = Array.from({ length: 200 }, (_, i) => 0x1000 + i);
      const q = (id: number): Buffer => encode(buildQuery('www.example.com', TYPES.A, { id }));
      await udpExchange(buildQuery('www.example.com', TYPES.A, { id: 0x0fff }), { address: '127.0.0.1', port: srv.address.port }, 2000); // fills the cache
      const got: number[] = [];
      const all = new Promise<void>((resolve) => {
        sock.on('message', (m) => {
          got.push(decode(m).id);
          if (got.length === ids.length) resolve();
        });
      });
      for (const id of ids) sock.send(q(id), srv.address.port, '127.0.0.1');
      await all;
      expect([...got].sort((a, b) => a - b)).toEqual(ids);
    } finally {
      sock.close();
    }
  });

  it('refuses to start on a port already bound, with a LabError naming it', async () => {
    await using a = await startDnsServer({ zones });
    await expect(startDnsServer({ zones, port: a.address.port })).rejects.toMatchObject({ code: 'LAB_ERR_PORT_IN_USE' });
  });
});

describe('startDnsServer: malformed EDNS and queries get FORMERR, as BIND 9.18 does for the EDNS cases', () => {
  const name = (n: string): Buffer => Buffer.concat([...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const header = (qd: number, an: number, ns: number, ar: number): Buffer => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(0x4242, 0);
    [qd, an, ns, ar].forEach((v, i) => b.writeUInt16BE(v, 4 + i * 2));
    return b;
  };
  const question = (type = TYPES.A): Buffer => Buffer.concat([name('www.example.com'), Buffer.from([type >> 8, type & 0xff, 0, 1])]);
  const opt = (owner: string | null, rdata = Buffer.alloc(0)): Buffer => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(TYPES.OPT, 0);
    fixed.writeUInt16BE(1232, 2);
    fixed.writeUInt16BE(rdata.length, 8);
    return Buffer.concat([owner === null ? Buffer.from([0]) : name(owner), fixed, rdata]);
  };
  const cases: [string, Buffer, number][] = [
    ['a well-formed query (control)', Buffer.concat([header(1, 0, 0, 1), question(), opt(null)]), RCODES.NOERROR],
    ['a well-formed EDNS option (control)', Buffer.concat([header(1, 0, 0, 1), question(), opt(null, Buffer.from([0, 10, 0, 2, 1, 2]))]), RCODES.NOERROR],
    ['OPT with a non-root owner', Buffer.concat([header(1, 0, 0, 1), question(), opt('x.example')]), RCODES.FORMERR],
    ['OPT in the answer section', Buffer.concat([header(1, 1, 0, 0), question(), opt(null)]), RCODES.FORMERR],
    ['OPT in the authority section', Buffer.concat([header(1, 0, 1, 0), question(), opt(null)]), RCODES.FORMERR],
    ['an EDNS option longer than its record', Buffer.concat([header(1, 0, 0, 1), question(), opt(null, Buffer.from([0, 10, 0, 8, 1, 2]))]), RCODES.FORMERR],
    ['trailing octets after the question', Buffer.concat([header(1, 0, 0, 0), question(), Buffer.from([1, 2, 3])]), RCODES.FORMERR],
    ['qtype 0', Buffer.concat([header(1, 0, 0, 1), question(0), opt(null)]), RCODES.FORMERR],
    ['qtype 41 (OPT)', Buffer.concat([header(1, 0, 0, 1), question(TYPES.OPT), opt(null)]), RCODES.FORMERR],
  ];
  it.each(cases)('%s', async (_what, wire, rcode) => {
    await using srv = await startDnsServer({ zones });
    const sock = dgram.createSocket('udp4');
    try {
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no reply')), 5000);
        sock.once('message', (b) => (clearTimeout(t), resolve(b)));
        sock.send(wire, srv.address.port, '127.0.0.1');
      });
      const m = decode(reply);
      expect(m.id).toBe(0x4242);
      expect(m.flags.rcode).toBe(rcode);
      if (rcode === RCODES.FORMERR) expect(m.answers).toEqual([]);
    } finally {
      sock.close();
    }
  });
});
