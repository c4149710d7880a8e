import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { runCli, startCli } from '../helpers/cli.js';
import { itWithPeers } from '../helpers/peers.js';
import { expectShape, type Shape } from '../helpers/shape.js';

const endpoint: Shape = { address: 'string', port: 'number', category: 'string', 'service?': 'string', inHostEphemeralRange: 'boolean', inIanaDynamicRange: 'boolean' };
const socketRecord: Shape = { proto: 'string', state: 'string', local: { address: 'string', port: 'number' }, remote: { address: 'string', port: 'number' }, 'process?': [{ name: 'string', pid: 'number' }] };
/** The documented ConnectReport (src/connect/report.ts). */
const connectReport: Shape = {
  transport: 'string',
  server: endpoint,
  ephemeralRange: { host: 'object|null', iana: { first: 'number', last: 'number', source: 'string' } },
  conversations: [{ index: 'number', local: endpoint, remote: endpoint, pair: 'string', sent: 'number', echoed: 'boolean', 'kernel?': { client: 'object|null', server: 'object|null', ok: 'boolean' } }],
  listening: 'object|null',
  verified: 'boolean|null',
};

async function startEchoProcess(extra: string[] = []) {
  const srv = await startCli(['echo', '--port', '0', ...extra], { ready: /socketlab-echo listening on \S+ 127\.0\.0\.1:(\d+)/ });
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(srv.stdout())![1]);
  return { srv, port };
}

describe('socketlab connect (separate processes, real ss)', () => {
  it('--verify finds each TCP pair twice in the kernel table: the client row and the server row', async () => {
    const { srv, port } = await startEchoProcess();
    await using _ = srv;
    const r = await runCli(['connect', `127.0.0.1:${port}`, '--count', '3', '--verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expectShape(report, connectReport);
    expect(report.transport).toBe('tcp');
    expect(report.verified).toBe(true);
    expect(report.conversations).toHaveLength(3);
    // one listening socket held by the echo server, N established pairs on its port
    expect(report.listening.state).toBe('LISTEN');
    expect(report.listening.local.port).toBe(port);
    expect(report.listening.process?.[0]?.name).toBe('socketlab-echo');
    const sources = new Set<number>();
    for (const c of report.conversations) {
      expect(c.echoed).toBe(true);
      expect(c.pair).toBe(`127.0.0.1:${c.local.port} <-> 127.0.0.1:${port}`);
      expect(c.kernel.client).toMatchObject({ state: 'ESTABLISHED', local: { port: c.local.port }, remote: { port } });
      expect(c.kernel.server).toMatchObject({ state: 'ESTABLISHED', local: { port }, remote: { port: c.local.port } });
      expect(c.kernel.server.process[0].name).toBe('socketlab-echo');
      sources.add(c.local.port);
    }
    expect(sources.size).toBe(3); // the source port tells the conversations apart
    const range = report.ephemeralRange.host;
    for (const c of report.conversations) expect(c.local.inHostEphemeralRange).toBe(c.local.port >= range.first && c.local.port <= range.last);
  });

  it('prints the pairs in the course notes form and labels every port', async () => {
    const { srv, port } = await startEchoProcess();
    await using _ = srv;
    const r = await runCli(['connect', `127.0.0.1:${port}`, '--count', '2', '--verify']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:\\d+ <-> 127\\.0\\.0\\.1:${port}`));
    expect(r.stdout).toMatch(/LISTEN/);
    expect(r.stdout).toMatch(/2 conversations share one listening socket/);
    expect(r.stdout).toMatch(/verified: every pair is in the kernel's table/);
  });

  it('UDP: no handshake and no ESTABLISHED state, yet each datagram has both sockets', async () => {
    const { srv, port } = await startEchoProcess(['--udp']);
    await using _ = srv;
    const r = await runCli(['connect', `127.0.0.1:${port}`, '--udp', '--count', '2', '--verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expectShape(report, connectReport);
    expect(report.transport).toBe('udp');
    expect(report.verified).toBe(true);
    expect(report.listening).toMatchObject({ state: 'UNCONN', local: { port } });
    for (const c of report.conversations) {
      expect(c.echoed).toBe(true);
      expect(c.kernel.client.state).toBe('UNCONN');
      expect(c.kernel.client.remote.port).toBe(0); // no peer: *:*
    }
  });

  it('UDP --connected: the kernel shows a connect()ed UDP socket as ESTABLISHED, with its peer, though no handshake took place', async () => {
    const { srv, port } = await startEchoProcess(['--udp']);
    await using _ = srv;
    const r = await runCli(['connect', `127.0.0.1:${port}`, '--udp', '--connected', '--verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ transport: 'udp', connected: true, verified: true });
    expect(report.listening).toMatchObject({ state: 'UNCONN', local: { port } });
    const c = report.conversations[0];
    expect(c.echoed).toBe(true);
    expect(c.kernel.client.state).toBe('ESTABLISHED');
    expect(c.kernel.client.remote.port).toBe(port);
    const text = await runCli(['connect', `127.0.0.1:${port}`, '--udp', '--connected']);
    expect(text.stdout).toMatch(/connect\(\) sent nothing/);
    const tcp = await runCli(['connect', `127.0.0.1:${port}`, '--connected']);
    expect(tcp.code).toBe(2);
    expect(tcp.stderr).toMatch(/--connected is for UDP/);
  });

  it('--source-port binds the given source port', async () => {
    const { srv, port } = await startEchoProcess(['--tcp']);
    await using _ = srv;
    // a port the kernel just handed out and released is free right now
    const probe = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const source = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const r = await runCli(['connect', `127.0.0.1:${port}`, '--source-port', String(source), '--verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).conversations[0].local.port).toBe(source);
  });

  itWithPeers('--hold keeps the pairs open for ss in another terminal', ['ss'], async () => {
    const { srv, port } = await startEchoProcess(['--tcp']);
    await using _ = srv;
    const held = await startCli(['connect', `127.0.0.1:${port}`, '--count', '2', '--hold', '20'], { ready: /holding 2 connection/ });
    await using __ = held;
    const pairs = [...held.stdout().matchAll(/127\.0\.0\.1:(\d+) <-> 127\.0\.0\.1:\d+/g)].map((m) => Number(m[1]));
    expect(pairs).toHaveLength(2);
    const ss = execFileSync('ss', ['-H', '-tn', 'state', 'established'], { encoding: 'utf8' });
    for (const p of pairs) expect(ss).toMatch(new RegExp(`127\\.0\\.0\\.1:${p}\\s+127\\.0\\.0\\.1:${port}`));
  });
});
