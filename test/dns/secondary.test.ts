// Primary and secondary as two real `socketlab dns serve` processes on 127.0.0.1 (different
// ports): AXFR over TCP, NOTIFY on reload, refresh polling, and a secondary that keeps answering
// while its primary is down. Checked with dig.
import { expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithPeers } from '../helpers/peers.js';
import { dig, EXAMPLE_ZONE, startDns, tempDir } from './helpers.js';

const serialOf = async (port: number): Promise<number> => Number((await dig(port, ['+short', 'example.com', 'SOA'])).trim().split(/\s+/)[2] ?? NaN);

/** Polls until `fn` is true: at most `tries` times, `ms` apart (bounded in count and time). */
async function eventually(fn: () => Promise<boolean>, what: string, tries = 60, ms = 250): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, ms));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

function edit(file: string, serial: number, wwwAddress: string): void {
  const text = readFileSync(file, 'utf8')
    .replace(/\d{10} ; serial/, `${serial} ; serial`)
    .replace(/^www(\s+)IN(\s+)A(\s+)\S+/m, `www$1IN$2A$3${wwwAddress}`);
  writeFileSync(file, text);
}

describeWithPeers('dns primary + secondary (two processes)', ['dig'], () => {
  it('transfers, keeps answering with the primary down, and follows NOTIFY on restart and on file change', async () => {
    using dir = tempDir();
    const zone = join(dir.path, 'example.zone');
    copyFileSync(EXAMPLE_ZONE, zone);
    const primary = await startDns(['--zone', zone], dir.path, 'primary');
    await using _p = primary;
    // refresh of an hour: any update seen below came from NOTIFY, not polling
    const secondary = await startDns(['--secondary', `127.0.0.1:${primary.port}`, '--zone-name', 'example.com.', '--refresh', '3600'], dir.path, 'secondary');
    await using _s = secondary;
    expect(secondary.stdout()).toMatch(/secondary for example\.com\. serial 2026112101 \(\d+ records\) from 127\.0\.0\.1:\d+/);
    expect(secondary.port).not.toBe(primary.port);

    const www = await dig(secondary.port, ['www.example.com', 'A']);
    expect(www).toMatch(/flags: qr aa;/);
    expect(www).toMatch(/^www\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.80$/m);
    expect(await serialOf(secondary.port)).toBe(2026112101);

    // primary down: the secondary serves its last good copy
    await primary.stop();
    expect(await dig(secondary.port, ['+short', 'www.example.com'])).toBe('192.0.2.80\n');
    expect(await dig(secondary.port, ['+short', 'many.example.com']).then((o) => o.trim().split('\n').length)).toBe(40);

    // new serial while the primary is down; the restarted primary NOTIFYs the secondary
    edit(zone, 2026112102, '192.0.2.81');
    const primary2 = await startDns(['--zone', zone, '--port', String(primary.port), '--notify', `127.0.0.1:${secondary.port}`], dir.path, 'primary2');
    await using _p2 = primary2;
    await eventually(async () => (await serialOf(secondary.port)) === 2026112102, 'secondary serves serial 2026112102 after NOTIFY');
    expect(await dig(secondary.port, ['+short', 'www.example.com'])).toBe('192.0.2.81\n');

    // edit the file under the running primary: reload on change, NOTIFY, transfer
    edit(zone, 2026112103, '192.0.2.82');
    await eventually(async () => (await serialOf(secondary.port)) === 2026112103, 'secondary serves serial 2026112103 after a file change');
    expect(await dig(primary2.port, ['+short', 'www.example.com'])).toBe('192.0.2.82\n');
    expect(await dig(secondary.port, ['+short', 'www.example.com'])).toBe('192.0.2.82\n');

    await primary2.stop();
    await secondary.stop();

    // Both ends log the transfer with the same socket pair: secondary's ephemeral port <-> primary.
    const pulled = secondary.records().filter((r) => r.event === 'dns.axfr');
    expect(pulled.map((r) => r.serial)).toEqual([2026112101, 2026112102, 2026112103]);
    expect(pulled.map((r) => r.reason)).toEqual(['startup', 'notify', 'notify']);
    const servedFirst = primary.records().filter((r) => r.event === 'dns.axfr');
    const servedLater = primary2.records().filter((r) => r.event === 'dns.axfr');
    expect(servedFirst).toHaveLength(1);
    expect(servedLater).toHaveLength(2);
    for (const [pull, serve] of [[pulled[0]!, servedFirst[0]!], [pulled[1]!, servedLater[0]!], [pulled[2]!, servedLater[1]!]] as const) {
      expect(serve.pair).toBe(pull.pair);
      expect(serve.pair).toMatch(new RegExp(`^127\\.0\\.0\\.1:(\\d+) <-> 127\\.0\\.0\\.1:${primary.port}$`));
      expect(serve.transport).toBe('tcp');
    }
    const ephemeral = pulled.map((r) => Number(/^127\.0\.0\.1:(\d+)/.exec(String(r.pair))![1]));
    expect(ephemeral.every((p) => p !== primary.port && p !== secondary.port)).toBe(true);
    // the primary's NOTIFYs were acknowledged, and the secondary logged receiving them
    expect(primary2.records().filter((r) => r.event === 'dns.notify' && r.rcode === 'NOERROR').length).toBeGreaterThanOrEqual(2);
    expect(secondary.records().filter((r) => r.event === 'dns.notify').length).toBeGreaterThanOrEqual(2);
    expect(primary2.records().some((r) => r.msg === 'zone reloaded' && r.serial === 2026112103)).toBe(true);
  });

  it('without NOTIFY, the secondary sees a new serial at its next refresh', async () => {
    using dir = tempDir();
    const zone = join(dir.path, 'example.zone');
    copyFileSync(EXAMPLE_ZONE, zone);
    await using primary = await startDns(['--zone', zone], dir.path, 'primary');
    await using secondary = await startDns(['--secondary', `127.0.0.1:${primary.port}`, '--zone-name', 'example.com', '--refresh', '1'], dir.path, 'secondary');
    expect(await serialOf(secondary.port)).toBe(2026112101);
    edit(zone, 2026112109, '192.0.2.89');
    await eventually(async () => (await serialOf(secondary.port)) === 2026112109, 'secondary picks up serial 2026112109 by refresh');
    expect(await dig(secondary.port, ['+short', 'www.example.com'])).toBe('192.0.2.89\n');
    await secondary.stop();
    await primary.stop();
    // SOA checks and both transfers went over one reused TCP connection (RFC 7766 6.2.1)
    const accepted = primary.records().filter((r) => r.event === 'tcp.accept');
    expect(accepted).toHaveLength(1);
    const checks = secondary.records().filter((r) => r.msg === 'primary serial checked');
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(new Set([...checks, ...secondary.records().filter((r) => r.event === 'dns.axfr')].map((r) => r.pair))).toEqual(new Set([accepted[0]!.pair]));
  });

  it('follows SOA retry and expire: retries, then stops answering once expire passes without the primary', async () => {
    using dir = tempDir();
    const zone = join(dir.path, 'short.zone');
    // refresh 1 s, retry 1 s, expire 3 s
    writeFileSync(zone, '$ORIGIN short.test.\n$TTL 60\n@ SOA ns h 5 1 1 3 60\n@ NS ns\nns A 192.0.2.53\nwww A 192.0.2.80\n');
    const primary = await startDns(['--zone', zone], dir.path, 'primary');
    await using _p = primary;
    await using secondary = await startDns(['--secondary', `127.0.0.1:${primary.port}`, '--zone-name', 'short.test.'], dir.path, 'secondary', { SOCKETLAB_LOG_SYNC: '1' });
    expect(await dig(secondary.port, ['+short', 'www.short.test'])).toBe('192.0.2.80\n');
    await primary.stop();
    await eventually(async () => secondary.records().some((r) => r.msg === 'cannot reach primary; keeping the last good copy'), 'a failed refresh');
    await eventually(async () => /status: SERVFAIL/.test(await dig(secondary.port, ['www.short.test'])), 'zone expired', 40, 250);
    const expired = secondary.records().find((r) => typeof r.msg === 'string' && r.msg.startsWith('zone expired'));
    expect(expired).toMatchObject({ zone: 'short.test', expire: 3 });
  });

  it('a secondary refused by its primary starts, says why, and answers nothing it does not hold', async () => {
    using dir = tempDir();
    // a primary that rejects transfers to us: nothing is served
    await using primary = await startDns(['--zone', EXAMPLE_ZONE, '--allow-transfer', '192.0.2.0/24'], dir.path, 'primary');
    await using secondary = await startDns(['--secondary', `127.0.0.1:${primary.port}`, '--zone-name', 'example.com.', '--refresh', '60'], dir.path, 'secondary');
    expect(secondary.stdout()).toMatch(/no copy yet from 127\.0\.0\.1:\d+ \(zone transfer of example\.com from 127\.0\.0\.1:\d+ answered REFUSED\); retrying/);
    expect(await dig(secondary.port, ['www.example.com'])).toMatch(/status: SERVFAIL/);
    expect(await dig(secondary.port, ['www.debian.org'])).toMatch(/status: REFUSED/);
  });
});

describeWithPeers('dns secondary timers past 24.8 days', ['dig'], () => {
  it('a SOA refresh of 30 days waits (chained timer), not ~680 SOA queries a second from a 1 ms overflow', async () => {
    using dir = tempDir();
    const zone = join(dir.path, 'long.zone');
    // refresh 30 days, retry 30 days, expire 46 days: all above setTimeout's 2^31-1 ms
    writeFileSync(zone, '$ORIGIN long.test.\n$TTL 60\n@ SOA ns h 7 2592000 2592000 4000000 60\n@ NS ns\nns A 192.0.2.53\nwww A 192.0.2.80\n');
    await using primary = await startDns(['--zone', zone], dir.path, 'primary', { SOCKETLAB_LOG_SYNC: '1' });
    await using secondary = await startDns(['--secondary', `127.0.0.1:${primary.port}`, '--zone-name', 'long.test.'], dir.path, 'secondary');
    expect(await dig(secondary.port, ['+short', 'www.long.test'])).toBe('192.0.2.80\n');
    await new Promise((r) => setTimeout(r, 1500)); // a bounded window to count in, not a timing assertion
    const soaChecks = primary.records().filter((r) => r.event === 'dns.query' && r.qtype === 'SOA');
    expect(soaChecks.length).toBe(0); // the next check is due in 30 days
    expect(secondary.stderr()).not.toMatch(/TimeoutOverflowWarning/);
    expect(await dig(secondary.port, ['+short', 'www.long.test'])).toBe('192.0.2.80\n'); // still served: expire is 46 days away
  });
});
