import { expect, it } from 'vitest';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers } from '../helpers/peers.js';
import { AS_NOBODY, CLI, runCli, startCli } from '../helpers/cli.js';
import { startCapture } from '../../src/capture/capture.js';
import type { CaptureRecord } from '../../src/capture/tcpdump-parse.js';
import { createTopology } from '../../src/netns/index.js';
import { randomId } from '../../src/netns/names.js';

/** A node:net server on 127.0.0.1:0 that closes each connection once the client has. */
async function tcpServer(host = '127.0.0.1'): Promise<Server & AsyncDisposable> {
  const srv = createServer((c) => {
    c.on('data', () => undefined);
    c.on('end', () => c.end());
  });
  srv.listen(0, host);
  await once(srv, 'listening');
  return Object.assign(srv, { [Symbol.asyncDispose]: () => new Promise<void>((r) => srv.close(() => r())) });
}

/** Opens one connection, sends a few bytes, closes it; resolves with the client's source port. */
async function oneConnection(port: number, host = '127.0.0.1'): Promise<number> {
  const c: Socket = connect(port, host);
  await once(c, 'connect');
  const local = c.localPort!;
  c.end('hello');
  await once(c, 'close');
  return local;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Direct children of `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const teardownDone = (rs: CaptureRecord[]): boolean => rs.some((r) => r.annotation === 'ACK (teardown done)');

describeRoot('socketlab capture (tcpdump)', () => {
  describeWithPeers('with tcpdump', ['tcpdump'], () => {
    it('sees the handshake and the teardown of one connection on lo, with the right ports', async () => {
      await using srv = await tcpServer();
      const serverPort = (srv.address() as AddressInfo).port;
      await using cap = startCapture({ port: serverPort });
      await cap.ready;
      const clientPort = await oneConnection(serverPort);
      const recs = await cap.waitFor(teardownDone);

      const seg = (annotation: string) => recs.filter((r) => r.annotation === annotation);
      const [syn] = seg('SYN');
      expect(syn).toMatchObject({ proto: 'tcp', flags: 'S', srcPort: clientPort, dstPort: serverPort, src: `127.0.0.1:${clientPort}`, dst: `127.0.0.1:${serverPort}` });
      const [synAck] = seg('SYN-ACK');
      expect(synAck).toMatchObject({ flags: 'S.', srcPort: serverPort, dstPort: clientPort, ack: syn!.seq! + 1 });
      expect(seg('ACK (handshake done)')[0]).toMatchObject({ flags: '.', srcPort: clientPort, dstPort: serverPort });
      expect(seg('DATA')[0]).toMatchObject({ srcPort: clientPort, len: 5 });
      const fins = seg('FIN');
      expect(fins.map((f) => f.srcPort).sort()).toEqual([clientPort, serverPort].sort());
      // The client closed first here (end() before the server's), so its FIN comes first.
      expect(fins[0]!.srcPort).toBe(clientPort);
      expect(seg('ACK (teardown done)')[0]!.srcPort).toBe(clientPort);
      const order = recs.map((r) => r.annotation).filter((a) => ['SYN', 'SYN-ACK', 'ACK (handshake done)', 'FIN', 'ACK (teardown done)'].includes(a));
      expect(order).toEqual(['SYN', 'SYN-ACK', 'ACK (handshake done)', 'FIN', 'FIN', 'ACK (teardown done)']);
      expect(recs.every((r) => r.srcPort === serverPort || r.dstPort === serverPort)).toBe(true);

      const pid = cap.pid!;
      expect(alive(pid)).toBe(true);
      await cap.close();
      expect(alive(pid)).toBe(false);
      expect((await cap.done).records).toBe(recs.length);
    });

    it('kills tcpdump when the test body throws', async () => {
      let pid = 0;
      await expect(
        (async () => {
          await using cap = startCapture({ port: 1 });
          await cap.ready;
          pid = cap.pid!;
          throw new Error('deliberate');
        })(),
      ).rejects.toThrow('deliberate');
      expect(pid).toBeGreaterThan(0);
      expect(alive(pid)).toBe(false);
    });

    it('the CLI prints a ready line and one annotated line per segment, IPv6 too', async () => {
      await using srv = await tcpServer('::1');
      const port = (srv.address() as AddressInfo).port;
      await using cli = await startCli(['capture', '--port', String(port)], { ready: /^socketlab-capture listening on lo, port \d+/m });
      const clientPort = await oneConnection(port, '::1');
      for (let i = 0; i < 200 && !/ACK \(teardown done\)/.test(cli.stdout()); i++) await new Promise((r) => setTimeout(r, 25));
      expect(await cli.stop()).toBe(0);
      const lines = cli.stdout().split('\n');
      const find = (word: string) => lines.find((l) => new RegExp(`\\]\\s+${word.replace(/[()]/g, '\\$&')}\\s`).test(l));
      expect(find('SYN')).toContain(`[::1]:${clientPort} -> [::1]:${port}`);
      expect(find('SYN-ACK')).toContain(`[::1]:${port} -> [::1]:${clientPort}`);
      expect(find('ACK (handshake done)')).toContain(`[::1]:${clientPort} -> [::1]:${port}`);
      expect(find('FIN')).toBeDefined();
      expect(find('ACK (teardown done)')).toBeDefined();
      expect(cli.stdout()).toMatch(/^\d+ packets shown$/m);
    });

    it('--count and --json: stops by itself after N packets, one JSON record per line', async () => {
      await using srv = await tcpServer();
      const port = (srv.address() as AddressInfo).port;
      const child = spawn(process.execPath, [CLI, 'capture', '--port', String(port), '--count', '3', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        // the ready line goes to stderr in --json mode, keeping stdout pure JSON lines
        for (let i = 0; i < 400 && !/listening on/.test(err); i++) await new Promise((r) => setTimeout(r, 25));
        expect(err).toMatch(/^socketlab-capture listening on lo, port \d+ \(tcpdump\)$/m);
        const clientPort = await oneConnection(port);
        const [code] = (await once(child, 'close')) as [number];
        expect(code, err).toBe(0);
        const recs = out.trim().split('\n').map((l) => JSON.parse(l) as CaptureRecord);
        expect(recs.map((r) => r.annotation)).toEqual(['SYN', 'SYN-ACK', 'ACK (handshake done)']);
        expect(recs[0]).toMatchObject({ proto: 'tcp', srcPort: clientPort, dstPort: port, flags: 'S', len: 0 });
        expect(typeof recs[0]!.time).toBe('number');
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('tcpdump dies with a capture process that is killed outright (SIGKILL)', async () => {
      await using cli = await startCli(['capture', '--port', '9'], { ready: /listening on/ });
      const tcpdump = childrenOf(cli.child.pid!).find((p) => /tcpdump/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8')));
      expect(tcpdump).toBeDefined();
      await cli.stop('SIGKILL');
      for (let i = 0; i < 100 && alive(tcpdump!); i++) await new Promise((r) => setTimeout(r, 20));
      expect(alive(tcpdump!)).toBe(false);
    });

    it('captures inside a lab namespace (--netns) between two hosts', async () => {
      await using topo = await createTopology({
        id: `k${randomId()}`.slice(0, 6),
        hosts: [{ name: 'client' }, { name: 'server' }],
        segments: [{ name: 'lan', members: [{ host: 'client', address: '10.79.1.2/24' }, { host: 'server', address: '10.79.1.1/24' }] }],
      });
      const server = topo.hosts.server!.spawn(process.execPath, [
        '-e',
        "const s=require('net').createServer(c=>{c.resume();c.on('end',()=>c.end())}).listen(8080,'10.79.1.1',()=>console.log('up'))",
      ]);
      await once(server.stdout!, 'data');
      await using cap = startCapture({ port: 8080, netns: topo.hosts.server!.netns, interface: 'eth0' });
      await cap.ready;
      const res = await topo.hosts.client!.exec(process.execPath, [
        '-e',
        "const c=require('net').connect(8080,'10.79.1.1',()=>{console.log(c.localPort);c.end('x')});c.on('close',()=>{})",
      ]);
      expect(res.code, res.stderr).toBe(0);
      const clientPort = Number(res.stdout.trim());
      const recs = await cap.waitFor(teardownDone);
      expect(recs[0]).toMatchObject({ annotation: 'SYN', src: `10.79.1.2:${clientPort}`, dst: '10.79.1.1:8080' });
      expect(recs.map((r) => r.annotation)).toEqual(expect.arrayContaining(['SYN-ACK', 'ACK (handshake done)', 'FIN', 'ACK (teardown done)']));
    });

    it('a UDP datagram is one record: no handshake, no teardown', async () => {
      const { createSocket } = await import('node:dgram');
      await using rx = Object.assign(createSocket('udp4'), { [Symbol.asyncDispose]: async () => rx.close() });
      rx.bind(0, '127.0.0.1');
      await once(rx, 'listening');
      const port = rx.address().port;
      await using cap = startCapture({ port });
      await cap.ready;
      const tx = createSocket('udp4');
      tx.send('ping', port, '127.0.0.1');
      await once(rx, 'message');
      const recs = await cap.waitFor((rs) => rs.length >= 1);
      tx.close();
      expect(recs).toHaveLength(1);
      expect(recs[0]).toMatchObject({ proto: 'udp', annotation: 'DATAGRAM', dstPort: port, len: 4 });
      expect(recs[0]!.flags).toBeUndefined();
    });

    it('without root it says capturing needs root and what to do instead', async () => {
      const res = await runCli(['capture', '--port', '9', '--duration', '5'], { wrap: AS_NOBODY });
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toMatch(/capturing packets needs root \(CAP_NET_RAW\)/);
      expect(res.stderr).toMatch(/sudo socketlab capture --port 9/);
    });

    it('a missing interface is a clear usage error', async () => {
      const r = await runCli(['capture', '--port', '7', '--interface', 'nosuchif0', '--duration', '5']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--interface nosuchif0: tcpdump found no such interface/);
    });
  });
});
