// Zone reloads on a running primary: SIGHUP, a file change, and a broken edit that must not
// replace the zone being served.
import { expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithPeers } from '../helpers/peers.js';
import { dig, EXAMPLE_ZONE, startDns, tempDir } from './helpers.js';

async function eventually(fn: () => Promise<boolean>, what: string, tries = 60, ms = 250): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, ms));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

describeWithPeers('dns serve reloads zones', ['dig'], () => {
  it('reloads on SIGHUP; a broken edit is logged with file:line and the old zone keeps answering', async () => {
    using dir = tempDir();
    const zone = join(dir.path, 'example.zone');
    copyFileSync(EXAMPLE_ZONE, zone);
    // SOCKETLAB_LOG_SYNC=1: records reach the file at once, so the test can wait on them
    await using srv = await startDns(['--zone', zone], dir.path, 'dns', { SOCKETLAB_LOG_SYNC: '1' });
    srv.child.kill('SIGHUP');
    await eventually(async () => srv.records().some((r) => r.reason === 'SIGHUP'), 'SIGHUP reload logged');
    // break the file: line 90 gets a bad address
    const lines = readFileSync(zone, 'utf8').split('\n');
    lines[89] = 'broken          IN  A       192.0.2.999';
    writeFileSync(zone, lines.join('\n'));
    await eventually(async () => srv.records().some((r) => r.msg === 'zone reload failed; still serving the previous version'), 'broken edit logged');
    expect(await dig(srv.port, ['+short', 'www.example.com'])).toBe('192.0.2.80\n');
    lines[89] = 'fixed           IN  A       192.0.2.98';
    writeFileSync(zone, lines.join('\n').replace('2026112101 ; serial', '2026112102 ; serial'));
    await eventually(async () => (await dig(srv.port, ['+short', 'fixed.example.com'])) === '192.0.2.98\n', 'fixed record served');
    expect(await srv.stop()).toBe(0);
    const recs = srv.records();
    const hup = recs.find((r) => r.msg === 'zone reloaded' && r.reason === 'SIGHUP');
    expect(hup).toMatchObject({ serial: 2026112101, previousSerial: 2026112101 });
    expect(recs.some((r) => r.msg === 'zone reloaded with the same serial: secondaries will not transfer it; increase the SOA serial')).toBe(true);
    const failed = recs.find((r) => r.msg === 'zone reload failed; still serving the previous version');
    expect(failed?.err).toBe(`${zone}:90: "192.0.2.999" is not an IPv4 address`);
    expect(recs.some((r) => r.msg === 'zone reloaded' && r.serial === 2026112102 && r.reason === 'file changed')).toBe(true);
  });
});
