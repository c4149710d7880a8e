import { describe, expect, it, vi } from 'vitest';
import net from 'node:net';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { startEcho } from '../../src/echo/server.js';

function roundTrip(port: number, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (got.length >= message.length) s.end();
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.write(message);
  });
}

describe('echo server', () => {
  it('echoes over TCP and UDP on the same port', async () => {
    await using srv = await startEcho({ port: 0 });
    expect(srv.address.port).toBeGreaterThan(0);
    expect(await roundTrip(srv.address.port, 'hello tcp')).toBe('hello tcp');

    const u = dgram.createSocket('udp4');
    try {
      u.send('hello udp', srv.address.port, '127.0.0.1');
      const [msg, rinfo] = (await once(u, 'message')) as [Buffer, dgram.RemoteInfo];
      expect(msg.toString()).toBe('hello udp');
      expect(rinfo.port).toBe(srv.address.port);
    } finally {
      u.close();
    }
  });

  it('serves many concurrent connections, each echoing its own bytes', async () => {
    await using srv = await startEcho({ port: 0, udp: false });
    const n = 200;
    const replies = await Promise.all(Array.from({ length: n }, (_, i) => roundTrip(srv.address.port, `message-${i}-`.repeat(10))));
    replies.forEach((r, i) => expect(r).toBe(`message-${i}-`.repeat(10)));
  });

  it('stops reading from a client that does not read its echo (backpressure)', async () => {
    await using srv = await startEcho({ port: 0, udp: false, closeGraceMs: 10 });
    const client = net.connect({ host: '127.0.0.1', port: srv.address.port });
    await once(client, 'connect');
    client.pause(); // never read the echo
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const total = 64 * 1024 * 1024;
    let written = 0;
    // Write until our own buffer refuses more: the server stopped reading, the kernel buffers filled.
    for (let i = 0; written < total && i < 2_000; i++) {
      written += chunk.length;
      if (!client.write(chunk)) {
        const drained = await Promise.race([once(client, 'drain').then(() => true), new Promise((r) => setTimeout(() => r(false), 500))]);
        if (!drained) break;
      }
    }
    const [conn] = srv.connections();
    expect(conn).toBeDefined();
    // The server read far less than the client tried to send, and holds little in memory for it.
    expect(conn!.bytesRead).toBeLessThan(total / 4);
    expect(conn!.writableLength).toBeLessThan(4 * 1024 * 1024);
    client.destroy();
  });

  it('closes idle connections after the idle timeout', async () => {
    await using srv = await startEcho({ port: 0, udp: false, idleTimeoutMs: 200 });
    const client = net.connect({ host: '127.0.0.1', port: srv.address.port });
    await once(client, 'connect');
    client.resume();
    await once(client, 'close');
    await vi.waitFor(() => expect(srv.connections()).toHaveLength(0));
  });

  it('keeps a connection with traffic open past the idle timeout, then closes it once quiet', async () => {
    await using srv = await startEcho({ port: 0, udp: false, idleTimeoutMs: 200 });
    const client = net.connect({ host: '127.0.0.1', port: srv.address.port });
    await once(client, 'connect');
    let echoed = 0;
    client.on('data', (d) => (echoed += d.length));
    let closed = false;
    client.on('close', () => (closed = true));
    // a byte every 50 ms for 1 s: five idle timeouts' worth, never 200 ms quiet
    for (let i = 0; i < 20; i++) {
      client.write('x');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(closed).toBe(false);
    await once(client, 'close');
    expect(echoed).toBe(20);
  });

  it('drops connections over the cap and keeps serving the others', async () => {
    await using srv = await startEcho({ port: 0, udp: false, maxConnections: 2 });
    const keep = await Promise.all([0, 1].map(async () => {
      const s = net.connect({ host: '127.0.0.1', port: srv.address.port });
      await once(s, 'connect');
      return s;
    }));
    await new Promise((r) => setTimeout(r, 50));
    const extra = net.connect({ host: '127.0.0.1', port: srv.address.port });
    extra.on('error', () => undefined);
    await once(extra, 'close');
    expect(srv.connections()).toHaveLength(2);
    keep.forEach((s) => s.destroy());
  });

  it('reports a port in use with a clear error', async () => {
    await using a = await startEcho({ port: 0, udp: false });
    await expect(startEcho({ port: a.address.port, udp: false })).rejects.toMatchObject({
      code: 'LAB_ERR_PORT_IN_USE',
      message: expect.stringContaining('already in use'),
    });
  });

  it('reports a host that is not this machine', async () => {
    await expect(startEcho({ host: '192.0.2.1', port: 0 })).rejects.toMatchObject({ code: 'LAB_ERR_BAD_HOST' });
  });

  it('close() is safe to call twice and frees the port', async () => {
    const srv = await startEcho({ port: 0 });
    const port = srv.address.port;
    await Promise.all([srv.close(), srv.close()]);
    await using again = await startEcho({ port });
    expect(again.address.port).toBe(port);
  });
});
