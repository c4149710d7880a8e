import { describe, expect, it } from 'vitest';
import { encode, MessageType, Opt } from '../dhcp/codec.js';
import { decodeFrame } from './packet.js';
import { PcapReader } from './pcap.js';
import { laneOrder, learn, placePacket, type HostTable } from './lanes.js';

const macBytes = (m: string): Buffer => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
const ipBytes = (a: string): Buffer => Buffer.from(a.split('.').map(Number));

/** An Ethernet + IPv4 + UDP frame around payload (checksums left 0: nobody checks them here). */
function udpFrame(srcMac: string, dstMac: string, src: string, dst: string, sport: number, dport: number, payload: Buffer, ttl = 64): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = ttl;
  ip[9] = 17;
  ipBytes(src).copy(ip, 12);
  ipBytes(dst).copy(ip, 16);
  return Buffer.concat([macBytes(dstMac), macBytes(srcMac), Buffer.from([0x08, 0x00]), ip, udp, payload]);
}

function dhcp(type: number, chaddr: string, giaddr = '0.0.0.0'): Buffer {
  return encode({ op: type === MessageType.DISCOVER ? 1 : 2, htype: 1, hlen: 6, hops: giaddr === '0.0.0.0' ? 0 : 1, xid: 0x1234, secs: 0, flags: 0x8000, ciaddr: '0.0.0.0', yiaddr: type === MessageType.DISCOVER ? '0.0.0.0' : '10.0.9.100', siaddr: '0.0.0.0', giaddr, chaddr, sname: '', file: '', options: { [Opt.MESSAGE_TYPE]: type } });
}

const PC = 'aa:bb:cc:00:00:01';
const RELAY_A = 'aa:bb:cc:00:00:02';
const RELAY_B = 'aa:bb:cc:00:00:03';
const SERVER = 'aa:bb:cc:00:00:04';
const BCAST = 'ff:ff:ff:ff:ff:ff';

function table(): HostTable {
  return {
    macs: new Map([[PC, 'pc'], [RELAY_A, 'router'], [RELAY_B, 'router'], [SERVER, 'server']]),
    ips: new Map([['10.0.9.1', 'router'], ['10.0.8.1', 'router'], ['10.0.8.2', 'server']]),
    segments: new Map([['lan', ['pc', 'router', 'other']], ['core', ['router', 'server']]]),
  };
}

describe('packet to lane mapping', () => {
  it('a broadcast DISCOVER reaches every other host on its segment, not the server behind the router', () => {
    const p = decodeFrame(udpFrame(PC, BCAST, '0.0.0.0', '255.255.255.255', 68, 67, dhcp(MessageType.DISCOVER, PC)), 1, 'lan');
    expect(p.summary).toBe('DHCPDISCOVER');
    expect(placePacket(p, table())).toEqual({ from: 'pc', to: ['router', 'other'], broadcast: true });
  });

  it('a relayed DISCOVER (giaddr set) is drawn from the relay to the server, whatever chaddr says', () => {
    const p = decodeFrame(udpFrame(RELAY_B, SERVER, '10.0.8.1', '10.0.8.2', 67, 67, dhcp(MessageType.DISCOVER, PC, '10.0.9.1')), 2, 'core');
    expect(p.dhcp).toMatchObject({ chaddr: PC, giaddr: '10.0.9.1', type: 'DISCOVER' });
    expect(placePacket(p, table())).toEqual({ from: 'router', to: ['server'], broadcast: false });
    // and the OFFER back goes to the relay (giaddr), unicast
    const offer = decodeFrame(udpFrame(SERVER, RELAY_B, '10.0.8.2', '10.0.9.1', 67, 67, dhcp(MessageType.OFFER, PC, '10.0.9.1')), 3, 'core');
    expect(placePacket(offer, table())).toEqual({ from: 'server', to: ['router'], broadcast: false });
  });

  it('a routed packet (no NAT) is two arrows: one per hop, same IP addresses, the MACs of each hop', () => {
    const hop1 = decodeFrame(udpFrame(PC, RELAY_A, '10.0.9.100', '10.0.8.2', 40000, 53, Buffer.alloc(4), 64), 4, 'lan');
    const hop2 = decodeFrame(udpFrame(RELAY_B, SERVER, '10.0.9.100', '10.0.8.2', 40000, 53, Buffer.alloc(4), 63), 5, 'core');
    const t = table();
    expect(placePacket(hop1, t)).toEqual({ from: 'pc', to: ['router'], broadcast: false });
    expect(placePacket(hop2, t)).toEqual({ from: 'router', to: ['server'], broadcast: false });
    expect(hop2.layers.find((l) => l.name === 'IPv4')!.fields.ttl).toBe(63);
    // the router forwarding pc's address does not make that address the router's
    learn(hop1, t);
    learn(hop2, t);
    expect(t.ips.get('10.0.9.100')).toBe('pc');
  });

  it('an unknown MAC falls back to the IP, then to the "?" lane', () => {
    const p = decodeFrame(udpFrame('02:00:00:00:00:09', '02:00:00:00:00:0a', '10.0.8.2', '192.0.2.1', 1, 2, Buffer.alloc(0)), 6, 'core');
    expect(placePacket(p, table())).toEqual({ from: 'server', to: ['?'], broadcast: false });
  });

  it('clients first, then the hosts that run services, each in the lab order', () => {
    expect(laneOrder(['server', 'pc1', 'pc2'], new Set(['server']))).toEqual(['pc1', 'pc2', 'server']);
    expect(laneOrder(['client', 'ns1', 'ns2'], new Set(['ns1', 'ns2']))).toEqual(['client', 'ns1', 'ns2']);
  });
});

describe('pcap reader', () => {
  it('reads records split across chunks, in either byte order', () => {
    const frame = udpFrame(PC, BCAST, '0.0.0.0', '255.255.255.255', 68, 67, dhcp(MessageType.DISCOVER, PC));
    for (const le of [true, false]) {
      const w32 = (b: Buffer, v: number, o: number): number => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
      const g = Buffer.alloc(24);
      w32(g, 0xa1b2c3d4, 0);
      w32(g, 1, 20);
      const rec = Buffer.alloc(16);
      w32(rec, 1700000000, 0);
      w32(rec, 250000, 4);
      w32(rec, frame.length, 8);
      w32(rec, frame.length, 12);
      const all = Buffer.concat([g, rec, frame, rec, frame]);
      const r = new PcapReader();
      const got = [...r.push(all.subarray(0, 30)), ...r.push(all.subarray(30, 100)), ...r.push(all.subarray(100))];
      expect(got).toHaveLength(2);
      expect(got[0]!.t).toBe(1700000000250);
      expect(decodeFrame(got[1]!.data, got[1]!.t, 'lan').src.mac).toBe(PC);
    }
  });
});
