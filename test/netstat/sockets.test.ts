import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { findPair, listSockets, readSocketTable } from '../../src/netstat/sockets.js';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers } from '../helpers/peers.js';
import { findExecutable } from '../../src/netstat/sockets.js';
import { runCli } from '../helpers/cli.js';

const N = 3;

/** A real node:net server on 127.0.0.1:0 with N real clients, plus one UDP socket; all closed in afterAll. */
function realSockets() {
  const ctx = {
    server: undefined as unknown as net.Server,
    port: 0,
    clients: [] as net.Socket[],
    accepted: [] as net.Socket[],
    udp: undefined as unknown as dgram.Socket,
    udpPort: 0,
  };
  beforeAll(async () => {
    ctx.server = net.createServer((s) => ctx.accepted.push(s));
    ctx.server.listen(0, '127.0.0.1');
    await once(ctx.server, 'listening');
    ctx.port = (ctx.server.address() as net.AddressInfo).port;
    for (let i = 0; i < N; i++) {
      const c = net.connect(ctx.port, '127.0.0.1');
      ctx.clients.push(c);
      await once(c, 'connect');
    }
    while (ctx.accepted.length < N) await once(ctx.server, 'connection');
    ctx.udp = dgram.createSocket('udp4');
    ctx.udp.bind(0, '127.0.0.1');
    await once(ctx.udp, 'listening');
    ctx.udpPort = ctx.udp.address().port;
  });
  afterAll(async () => {
    for (const s of [...ctx.clients, ...ctx.accepted]) s.destroy();
    await new Promise<void>((r) => (ctx.server ? ctx.server.close(() => r()) : r()));
    ctx.udp?.close();
  });
  return ctx;
}

for (const tool of ['ss', 'netstat'] as const) {
  describeWithPeers(`listSockets with ${tool}`, [tool], () => {
    const ctx = realSockets();

    it(`shows one LISTEN and ${N} ESTABLISHED pairs in both directions`, async () => {
      const table = await readSocketTable({ tool, all: true, tcp: true, port: ctx.port });
      expect(table.tool).toBe(tool);
      const rows = table.sockets;
      expect(rows.filter((r) => r.state === 'LISTEN')).toEqual([expect.objectContaining({ local: { address: '127.0.0.1', port: ctx.port } })]);
      for (const c of ctx.clients) {
        const client = { address: c.localAddress!, port: c.localPort! };
        const server = { address: '127.0.0.1', port: ctx.port };
        expect(findPair(rows, client, server, 'tcp')?.state, `client row ${client.port}`).toBe('ESTABLISHED');
        expect(findPair(rows, server, client, 'tcp')?.state, `server row for ${client.port}`).toBe('ESTABLISHED');
      }
      expect(rows.filter((r) => r.state === 'ESTABLISHED')).toHaveLength(2 * N);
    });

    it('default view = connected sockets only; -l = the listener only', async () => {
      const def = await listSockets({ tool, tcp: true, port: ctx.port });
      expect(def).toHaveLength(2 * N);
      const l = await listSockets({ tool, tcp: true, listening: true, port: ctx.port });
      expect(l.map((r) => r.state)).toEqual(['LISTEN']);
    });

    it('-p names this test process as the owner of its sockets', async () => {
      const rows = await listSockets({ tool, all: true, processes: true, port: ctx.port });
      expect(rows).toHaveLength(2 * N + 1);
      for (const r of rows) expect(r.process?.map((p) => p.pid), r.line).toContain(process.pid);
    });

    it('a bound UDP socket is UNCONN, with no remote end', async () => {
      const rows = await listSockets({ tool, udp: true, listening: true, port: ctx.udpPort });
      expect(rows).toEqual([expect.objectContaining({ proto: 'udp', state: 'UNCONN', local: { address: '127.0.0.1', port: ctx.udpPort }, remote: { address: '0.0.0.0', port: 0 } })]);
      expect(await listSockets({ tool, udp: true, port: ctx.udpPort })).toEqual([]);
    });
  });
}

describeWithPeers('fallback to netstat', ['netstat'], () => {
  const ctx = realSockets();
  it('uses netstat when ss is not on the path, with the same records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-onlynetstat-'));
    try {
      symlinkSync(findExecutable('netstat')!, join(dir, 'netstat'));
      const t = await readSocketTable({ searchPath: dir, all: true, tcp: true, port: ctx.port });
      expect(t.tool).toBe('netstat');
      expect(t.command.slice(0, 2)).toEqual(['netstat', '-n']);
      expect(t.sockets.filter((r) => r.state === 'ESTABLISHED')).toHaveLength(2 * N);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses netstat when ss is there but fails (no sock_diag netlink), unless ss was asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-brokenss-'));
    try {
      symlinkSync(findExecutable('netstat')!, join(dir, 'netstat'));
      writeFileSync(join(dir, 'ss'), '#!/bin/sh\necho "Cannot open netlink socket: Protocol not supported" >&2\nexit 1\n');
      chmodSync(join(dir, 'ss'), 0o755);
      const t = await readSocketTable({ searchPath: dir, all: true, tcp: true, port: ctx.port });
      expect(t.tool).toBe('netstat');
      expect(t.sockets.filter((r) => r.state === 'LISTEN')).toHaveLength(1);
      await expect(readSocketTable({ searchPath: dir, tool: 'ss' })).rejects.toThrow(/"ss -H -n -a -t -u" failed \(exit 1\): Cannot open netlink socket/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithPeers('listSockets inside a network namespace', ['ip', 'ss'], () => {
  it('a namespace that does not exist: a clear error naming it', async () => {
    await expect(listSockets({ netns: 'sl-does-not-exist' })).rejects.toThrow(/sl-does-not-exist/);
  });
});

describeRoot('listSockets --netns sees the namespace, not the host', () => {
  const ns = `sl-nst${randomBytes(3).toString('hex')}`;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // ip netns exec execs node itself, so child.pid is the listener's pid.
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', "require('net').createServer().listen(7007, '127.0.0.1', () => console.log('ready'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout!, 'data');
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'close');
    }
    execFileSync('ip', ['netns', 'del', ns]);
  });

  for (const tool of ['ss', 'netstat'] as const) {
    it(`finds the listener inside ${ns} with ${tool}, and not on the host`, async () => {
      const inside = await listSockets({ netns: ns, tool, listening: true, tcp: true, port: 7007, processes: true });
      expect(inside).toEqual([expect.objectContaining({ state: 'LISTEN', local: { address: '127.0.0.1', port: 7007 } })]);
      expect(inside[0]!.process?.[0]?.pid).toBe(child!.pid);
      const host = await listSockets({ tool, listening: true, tcp: true, port: 7007, processes: true });
      expect(host.some((r) => r.process?.some((p) => p.pid === child!.pid))).toBe(false);
    });
  }

  it('socketlab netstat --netns NAME --json', async () => {
    const r = await runCli(['netstat', '--netns', ns, '-l', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { command: string[]; sockets: { local: { port: number } }[] };
    expect(doc.command.slice(0, 4)).toEqual(['ip', 'netns', 'exec', ns]);
    expect(doc.sockets.map((s) => s.local.port)).toEqual([7007]);
  });
});

describe('listSockets prefers ss', () => {
  it('reports which tool read the table', async () => {
    const t = await readSocketTable({ all: true });
    expect(['ss', 'netstat']).toContain(t.tool);
    expect(t.skipped).toEqual([]);
  });
});
