#!/usr/bin/env node
// Test helper run INSIDE a client namespace (ip netns exec): speaks DHCP from 0.0.0.0:68 with many
// made-up MACs and prints one JSON line per outcome on stdout (flushed line by line, so a test
// that kills the server mid-burst sees every ACK that reached the client). Every loop is bounded
// in count and time.
//   probe.mjs dora    --count N [--prefix 02:10] [--concurrency K] [--timeout MS] [--deadline MS] [--retries R] [--max-misses M]
//   probe.mjs request --mac M --requested IP [--server-id IP] [--ciaddr IP] [--to IP] [--client-id HEX]
//   probe.mjs discover --mac M [--client-id HEX]
//   probe.mjs release|decline --mac M [--requested IP] [--ciaddr IP] [--server-id IP] [--to IP]   (no reply)
//   probe.mjs reboot  --pairs FILE [--retries R]   (lines "mac address": INIT-REBOOT each)
//   probe.mjs fuzz    --count N --to IP [--seed S]
import dgram from 'node:dgram';
import { decode, encode, messageType, MessageType, Opt } from '../../dist/dhcp/codec.js';

const argv = process.argv.slice(2);
const mode = argv[0];
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
await new Promise((r) => sock.bind(68, '0.0.0.0', r));
sock.setBroadcast(true);
const waiting = new Map(); // xid -> { types, resolve }
sock.on('message', (buf) => {
  let m;
  try {
    m = decode(buf);
  } catch {
    return;
  }
  const w = waiting.get(m.xid);
  if (w && m.op === 2 && w.types.includes(messageType(m))) {
    waiting.delete(m.xid);
    w.resolve(m);
  }
});

function base(mac, xid, type, options = {}, extra = {}) {
  return {
    op: 1, htype: 1, hlen: 6, hops: 0, xid, secs: 0, flags: 0x8000,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: mac, sname: '', file: '',
    ...extra, options: { [Opt.MESSAGE_TYPE]: type, ...options },
  };
}

function exchange(msg, to, types, timeoutMs) {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      waiting.delete(msg.xid);
      resolve(undefined);
    }, timeoutMs);
    waiting.set(msg.xid, { types, resolve: (m) => (clearTimeout(t), resolve(m)) });
    sock.send(encode(msg), 67, to, (err) => err && (clearTimeout(t), waiting.delete(msg.xid), resolve(undefined)));
  });
}

const typeName = (m) => Object.entries(MessageType).find(([, v]) => v === messageType(m))?.[0];
const macOf = (prefix, i) => `${prefix}:${((i >> 24) & 255).toString(16).padStart(2, '0')}:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`.split(':').slice(-6).join(':');
let xidSeq = (Math.random() * 0x7fffffff) >>> 0;

if (mode === 'dora') {
  const count = Number(arg('count', '10'));
  const prefix = arg('prefix', '02:10');
  const conc = Number(arg('concurrency', '16'));
  const timeout = Number(arg('timeout', '1000'));
  const deadline = Date.now() + Number(arg('deadline', '20000'));
  const to = arg('to', '255.255.255.255');
  let next = 0;
  let misses = 0;
  const maxMisses = Number(arg('max-misses', String(count)));
  const retries = Number(arg('retries', '0'));
  const worker = async () => {
    while (next < count && Date.now() < deadline && misses < maxMisses) {
      const i = next++;
      const mac = macOf(prefix, i);
      let xid;
      let offer;
      // --retries: a lost datagram on a busy machine is not what the caller is testing
      for (let t = 0; t <= retries && !offer; t++) {
        xid = (xidSeq = (xidSeq + 1) >>> 0);
        offer = await exchange(base(mac, xid, MessageType.DISCOVER, { [Opt.PARAM_REQUEST]: [1, 3, 6, 51, 54] }), to, [MessageType.OFFER], timeout);
      }
      if (!offer) {
        misses++;
        out({ mac, result: 'no-offer' });
        continue;
      }
      const sid = offer.options[Opt.SERVER_ID];
      let ack;
      for (let t = 0; t <= retries && !ack; t++) {
        ack = await exchange(base(mac, xid, MessageType.REQUEST, { [Opt.REQUESTED_IP]: offer.yiaddr, [Opt.SERVER_ID]: sid }), to, [MessageType.ACK, MessageType.NAK], timeout);
      }
      if (!ack) {
        misses++;
        out({ mac, offered: offer.yiaddr, result: 'no-ack' });
        continue;
      }
      out({ mac, result: typeName(ack), address: ack.yiaddr, server: sid });
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
} else if (mode === 'reboot') {
  // INIT-REBOOT (REQUEST with option 50, no server id) for each "mac address" line of --pairs FILE
  const { readFileSync } = await import('node:fs');
  const pairs = readFileSync(arg('pairs'), 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
  const conc = Number(arg('concurrency', '16'));
  const deadline = Date.now() + Number(arg('deadline', '20000'));
  let next = 0;
  const worker = async () => {
    while (next < pairs.length && Date.now() < deadline) {
      const [mac, want] = pairs[next++];
      let r;
      for (let t = 0; t <= Number(arg('retries', '2')) && !r; t++) {
        const xid = (xidSeq = (xidSeq + 1) >>> 0);
        r = await exchange(base(mac, xid, MessageType.REQUEST, { [Opt.REQUESTED_IP]: want }), '255.255.255.255', [MessageType.ACK, MessageType.NAK], Number(arg('timeout', '1000')));
      }
      out(r ? { mac, want, result: typeName(r), address: r.yiaddr } : { mac, want, result: 'timeout' });
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
} else if (mode === 'request' || mode === 'discover' || mode === 'release' || mode === 'decline') {
  const mac = arg('mac');
  const xid = (xidSeq = (xidSeq + 1) >>> 0);
  const options = {};
  if (arg('requested')) options[Opt.REQUESTED_IP] = arg('requested');
  if (arg('server-id')) options[Opt.SERVER_ID] = arg('server-id');
  if (arg('client-id')) options[Opt.CLIENT_ID] = arg('client-id');
  const ciaddr = arg('ciaddr', '0.0.0.0');
  const type = { request: MessageType.REQUEST, discover: MessageType.DISCOVER, release: MessageType.RELEASE, decline: MessageType.DECLINE }[mode];
  const msg = base(mac, xid, type, options, { ciaddr, flags: ciaddr === '0.0.0.0' ? 0x8000 : 0 });
  if (mode === 'release' || mode === 'decline') {
    await new Promise((r) => sock.send(encode(msg), 67, arg('to', '255.255.255.255'), r));
    out({ mac, result: 'sent' });
  } else {
    const r = await exchange(msg, arg('to', '255.255.255.255'), mode === 'request' ? [MessageType.ACK, MessageType.NAK] : [MessageType.OFFER], Number(arg('timeout', '2000')));
    out(r ? { mac, result: typeName(r), address: r.yiaddr, message: r.options[Opt.MESSAGE], clientId: r.options[Opt.CLIENT_ID] } : { mac, result: 'timeout' });
  }
} else if (mode === 'fuzz') {
  // Deterministic PRNG so a failure can be replayed with the same --seed.
  let s = Number(arg('seed', '1')) >>> 0;
  const rnd = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  const count = Number(arg('count', '1000'));
  const to = arg('to', '255.255.255.255');
  const deadline = Date.now() + Number(arg('deadline', '20000'));
  const good = encode(base('02:ff:00:00:00:01', 7, MessageType.DISCOVER, { [Opt.PARAM_REQUEST]: [1, 3] }));
  const kinds = {
    random: () => Buffer.from(Array.from({ length: Math.floor(rnd() * 600) }, () => Math.floor(rnd() * 256))),
    short: () => good.subarray(0, Math.floor(rnd() * 240)),
    mutated: () => {
      const b = Buffer.from(good);
      for (let k = 0; k < 1 + rnd() * 20; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      return b;
    },
    prl: () => encode(base('02:ff:00:00:00:02', Math.floor(rnd() * 2 ** 32), MessageType.DISCOVER, { [Opt.PARAM_REQUEST]: Array.from({ length: 1 + Math.floor(rnd() * 60) }, () => Math.floor(rnd() * 256)) })),
    unknownOpts: () => {
      const head = good.subarray(0, 240);
      const opts = [53, 1, 1];
      for (let k = 0; k < 10; k++) {
        const len = Math.floor(rnd() * 20);
        opts.push(100 + Math.floor(rnd() * 150), len, ...Array.from({ length: len }, () => Math.floor(rnd() * 256)));
      }
      return Buffer.concat([head, Buffer.from([...opts, 255])]);
    },
    truncatedOpt: () => Buffer.concat([good.subarray(0, 240), Buffer.from([53, 1, 1, 12, 200, 65, 66])]),
    xidFlood: () => encode(base(macOf('02:fe', Math.floor(rnd() * 2 ** 24)), Math.floor(rnd() * 2 ** 32), 1 + Math.floor(rnd() * 8), { [Opt.REQUESTED_IP]: `10.${Math.floor(rnd() * 256)}.1.${Math.floor(rnd() * 256)}`, [Opt.SERVER_ID]: '10.0.1.1' }, { ciaddr: rnd() < 0.3 ? '10.0.1.150' : '0.0.0.0' })),
  };
  const names = Object.keys(kinds);
  const sent = Object.fromEntries(names.map((n) => [n, 0]));
  let i = 0;
  for (; i < count && Date.now() < deadline; i++) {
    const k = names[i % names.length];
    sent[k]++;
    await new Promise((r) => sock.send(kinds[k](), 67, to, () => r()));
    if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5)); // let the receiver breathe
  }
  out({ result: 'fuzzed', sent: i, kinds: sent });
}
sock.close();
