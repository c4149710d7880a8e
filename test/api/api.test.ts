/** The library API from inside the repo (dist/, as the package ships it): disposal, signals, guards. */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startEcho, startDnsServer, startDhcpServer, dhcpClient, connect, dnsQuery } from '../../dist/api/index.js';
import { runLab } from '../../dist/api/lab.js';

const ZONE = '$ORIGIN t.test.\n$TTL 60\n@ IN SOA ns hm 1 60 60 60 60\n@ IN NS ns\nns IN A 192.0.2.1\nwww IN A 192.0.2.2\n';
const listening = (port: number): string => execFileSync('ss', ['-H', '-tuan', `sport = :${port}`], { encoding: 'utf8' }).trim();

describe('socketlab API', () => {
  it('an AbortSignal closes a server: its port is free in ss and its event log ends', async () => {
    const ac = new AbortController();
    const echo = await startEcho({ signal: ac.signal });
    expect(listening(echo.address.port)).not.toBe('');
    const seen: string[] = [];
    const iterating = (async () => {
      for await (const e of echo.events) seen.push(e.event);
    })();
    ac.abort();
    await echo.close();
    await iterating;
    expect(listening(echo.address.port)).toBe('');
    expect(seen).toContain('listen');
  });

  it('events arrive as the CLI logs them, and a caller\'s pino logger gets the same records', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    await using dns = await startDnsServer({ zones: [{ text: ZONE }], log });
    const r = await dnsQuery('www.t.test', 'A', { server: { host: '127.0.0.1', port: dns.address.port } });
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.2']);
    const e = await dns.events.waitFor({ event: 'dns.query', qname: 'www.t.test' });
    expect(e).toMatchObject({ transport: 'udp', from: r.local, to: `127.0.0.1:${dns.address.port}`, rcode: 'NOERROR' });
    expect(lines.some((l) => l.includes('"event":"dns.query"') && l.includes(r.local))).toBe(true);
    await using echo = await startEcho({ udp: false });
    await using c = await connect({ port: echo.address.port });
    expect(c.conversations[0]!.echoed).toBe(true);
  });

  it('a secondary transfers its zone from a primary started through the API', async () => {
    await using primary = await startDnsServer({ zones: [{ text: ZONE }] });
    await using secondary = await startDnsServer({ secondary: { primary: `127.0.0.1:${primary.address.port}`, zone: 't.test' } });
    expect(secondary.zones()).toEqual([{ origin: 't.test.', serial: 1, records: 4 }]);
    expect(primary.events.find({ event: 'dns.axfr', rcode: 'NOERROR' })).toBeDefined();
  });

  // what `socketlab dns serve` relies on, now that it runs on this API
  it('a primary from a zone file: zones() names it, refresh() re-reads it, keepEvents: false logs to the caller as is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-api-zone-'));
    const file = join(dir, 't.zone');
    writeFileSync(file, ZONE);
    const lines: string[] = [];
    const log = pino({ level: 'info', base: { name: 'mine' } }, { write: (s: string) => void lines.push(s) });
    try {
      await using dns = await startDnsServer({ zones: [{ file }], log, keepEvents: false });
      expect(dns.zones()).toEqual([{ origin: 't.test.', serial: 1, records: 4, file }]);
      writeFileSync(file, ZONE.replace('hm 1 ', 'hm 2 ').replace('192.0.2.2', '192.0.2.3'));
      await dns.refresh('test');
      expect(dns.zones()[0]!.serial).toBe(2);
      const r = await dnsQuery('www.t.test', 'A', { server: { host: '127.0.0.1', port: dns.address.port } });
      expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.3']);
      expect(dns.events.records).toEqual([]);
      // the caller's own logger, not a copy re-logged under the server's name
      expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'zone reloaded')).toMatchObject({ name: 'mine', reason: 'test', serial: 2, previousSerial: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('DHCP without a topology host refuses this (the host\'s) network namespace, as the CLI does', async () => {
    await expect(startDhcpServer({ interface: 'lo', scopes: [{ subnet: '10.9.0.0/24', range: '10.9.0.10-10.9.0.20' }] })).rejects.toMatchObject({ code: 'LAB_ERR_HOST_NETWORK' });
    await expect(dhcpClient({ interface: 'lo' })).rejects.toMatchObject({ code: 'LAB_ERR_HOST_NETWORK' });
  });

  it('runLab rejects an unknown backend, and a backend the lab\'s hosts do not fit, before running anything', async () => {
    await expect(runLab('01-ports', { backend: 'docker' as 'local' })).rejects.toThrow(/backend "docker" is not one of auto, local, netns/);
    await expect(runLab('07-dhcp', { backend: 'local' })).rejects.toThrow(/not local hosts/);
    await expect(runLab('01-ports', { backend: 'netns' })).rejects.toThrow(/not netns hosts/);
  });
});

