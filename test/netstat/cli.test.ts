import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { runCli } from '../helpers/cli.js';
import { describeWithPeers } from '../helpers/peers.js';
import { SOCKET_STATES } from '../../src/netstat/states.js';
import type { NetstatJson } from '../../src/netstat/command.js';
import type { SocketRecord } from '../../src/netstat/types.js';

const N = 3;

/** Checks a `socketlab netstat --json` document against the shape documented on NetstatJson. */
function assertNetstatJson(doc: unknown, tool: string): asserts doc is NetstatJson {
  const d = doc as Record<string, unknown>;
  expect(Object.keys(d).sort()).toEqual(['command', 'sockets', 'tool']);
  expect(d.tool).toBe(tool);
  expect(Array.isArray(d.command) && (d.command as unknown[]).every((a) => typeof a === 'string')).toBe(true);
  expect((d.command as string[])[0]).toBe(tool);
  expect(Array.isArray(d.sockets)).toBe(true);
  const allowed = new Set(['proto', 'state', 'local', 'remote', 'recvQ', 'sendQ', 'process', 'family', 'device', 'rawState', 'line']);
  for (const s of d.sockets as Record<string, unknown>[]) {
    for (const k of Object.keys(s)) expect(allowed.has(k), `unexpected field ${k}`).toBe(true);
    expect(['tcp', 'udp']).toContain(s.proto);
    expect(SOCKET_STATES as readonly string[]).toContain(s.state);
    for (const end of [s.local, s.remote] as Record<string, unknown>[]) {
      expect(Object.keys(end).sort()).toEqual(['address', 'port']);
      expect(typeof end.address).toBe('string');
      expect(Number.isInteger(end.port) && (end.port as number) >= 0 && (end.port as number) <= 65535).toBe(true);
    }
    for (const q of ['recvQ', 'sendQ']) expect(Number.isInteger(s[q])).toBe(true);
    if (s.family !== undefined) expect(['ipv4', 'ipv6']).toContain(s.family);
    expect(typeof s.rawState).toBe('string');
    expect(typeof s.line).toBe('string');
    if (s.process !== undefined) {
      for (const p of s.process as Record<string, unknown>[]) {
        expect(typeof p.name).toBe('string');
        expect(Number.isInteger(p.pid)).toBe(true);
        if (p.fd !== undefined) expect(Number.isInteger(p.fd)).toBe(true);
      }
    }
  }
}

const pairKey = (a: { address: string; port: number }, b: { address: string; port: number }): string => `${a.address}:${a.port}>${b.address}:${b.port}`;

describe('socketlab netstat against real sockets', () => {
  let server: net.Server;
  let port = 0;
  const clients: net.Socket[] = [];
  const accepted: net.Socket[] = [];
  let udp: dgram.Socket;
  let udpPort = 0;

  beforeAll(async () => {
    server = net.createServer((s) => accepted.push(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
    for (let i = 0; i < N; i++) {
      const c = net.connect(port, '127.0.0.1');
      clients.push(c);
      await once(c, 'connect');
    }
    while (accepted.length < N) await once(server, 'connection');
    udp = dgram.createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    udpPort = udp.address().port;
  });
  afterAll(async () => {
    for (const s of [...clients, ...accepted]) s.destroy();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    udp?.close();
  });

  for (const tool of ['ss', 'netstat'] as const) {
    describeWithPeers(`--tool ${tool}`, [tool], () => {
      it(`--json: one LISTEN and ${N} ESTABLISHED pairs in both directions, owned by this test process`, async () => {
        const r = await runCli(['netstat', '-a', '-p', '--tcp', '--port', String(port), '--tool', tool, '--json']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const doc: unknown = JSON.parse(r.stdout);
        assertNetstatJson(doc, tool);
        const rows: SocketRecord[] = doc.sockets;
        expect(rows.filter((s) => s.state === 'LISTEN').map((s) => s.local)).toEqual([{ address: '127.0.0.1', port }]);
        const est = new Set(rows.filter((s) => s.state === 'ESTABLISHED').map((s) => pairKey(s.local, s.remote)));
        expect(est.size).toBe(2 * N);
        for (const c of clients) {
          const me = { address: '127.0.0.1', port: c.localPort! };
          const srv = { address: '127.0.0.1', port };
          expect(est.has(pairKey(me, srv)), `client row ${me.port}`).toBe(true);
          expect(est.has(pairKey(srv, me)), `server row for ${me.port}`).toBe(true);
        }
        // -p: the CLI is another process, but these sockets belong to the test process itself
        for (const s of rows) expect(s.process?.map((p) => p.pid), s.line).toContain(process.pid);
      });

      it('a bound UDP socket shows UNCONN with no remote end', async () => {
        const r = await runCli(['netstat', '-l', '-u', '--port', String(udpPort), '--tool', tool, '--json']);
        const doc: unknown = JSON.parse(r.stdout);
        assertNetstatJson(doc, tool);
        expect(doc.sockets).toEqual([expect.objectContaining({ proto: 'udp', state: 'UNCONN', local: { address: '127.0.0.1', port: udpPort }, remote: { address: '0.0.0.0', port: 0 } })]);
      });
    });
  }

  it('human table: connected pairs by default, port labels, state footer; -n drops the labels', async () => {
    const r = await runCli(['netstat', '--port', String(port)]);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('tcp '));
    expect(rows).toHaveLength(2 * N);
    expect(rows.every((l) => /ESTABLISHED/.test(l))).toBe(true);
    expect(r.stdout).toContain(`127.0.0.1:${port} (registered)`);
    expect(r.stdout).toMatch(/^Proto +Local Address +Foreign Address +State$/m);
    expect(r.stdout).toMatch(/States:\n +ESTABLISHED/);
    expect(r.stdout).toMatch(/read with: ss -H -n -a -t -u/);
    const n = await runCli(['netstat', '-n', '-l', '-p', '--port', String(port)]);
    const listen = n.stdout.split('\n').filter((l) => l.startsWith('tcp '));
    expect(listen).toHaveLength(1);
    expect(listen[0]).toMatch(new RegExp(`^tcp +127\\.0\\.0\\.1:${port} +0\\.0\\.0\\.0:\\* +LISTEN +\\S+/${process.pid}$`));
    expect(n.stdout).not.toContain('(registered)');
  });

  it('--state filters in any spelling', async () => {
    const r = await runCli(['netstat', '--state', 'listen', '--port', String(port), '--json']);
    const doc = JSON.parse(r.stdout) as NetstatJson;
    expect(doc.sockets.map((s) => s.state)).toEqual(['LISTEN']);
  });
});

describe('socketlab netstat --explain / --states', () => {
  it('--explain "netstat -ano": -o differs, Linux equivalent ss -tuanp', async () => {
    const r = await runCli(['netstat', '--explain', 'netstat -ano']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/-o +DIFFERS +-> on Linux use -p/);
    expect(r.stdout).toContain('ss -tuanp');
    expect(r.stdout).toContain('socketlab netstat -a -n -p');
    const j = await runCli(['netstat', '--explain', '/a /b', '--json']);
    const doc = JSON.parse(j.stdout) as { style: string; flags: { flag: string }[]; linux: { ss: string } };
    expect(doc.style).toBe('windows');
    expect(doc.flags.map((f) => f.flag)).toEqual(['/a', '/b']);
    expect(doc.linux.ss).toBe('ss -tuap');
  });
  it('--states explains TIME-WAIT (2*MSL, 60 s) and UDP UNCONN', async () => {
    const r = await runCli(['netstat', '--states']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/TIME-WAIT[\s\S]*2\*MSL[\s\S]*60 s/);
    expect(r.stdout).toMatch(/UNCONN[\s\S]*UDP has no connection/);
  });
});

describe('socketlab netstat bad input', () => {
  it.each([
    [['--port', '70000'], /--port 70000 is out of range/],
    [['--port', 'abc'], /--port "abc" is not a number/],
    [['--state', 'NOPE'], /unknown socket state "NOPE"/],
    [['--tool', 'foo'], /unknown tool "foo": use ss/],
    [['--netns', 'bad name'], /bad network namespace name/],
    [['--explain', 'ls -l'], /"ls" is not a netstat flag/],
  ])('%j -> exit 2 with a one-line message', async (args, message) => {
    const r = await runCli(['netstat', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(message);
    expect(lines.filter((l) => !/--help/.test(l))).toHaveLength(1);
  });
});
