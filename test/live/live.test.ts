import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CLI } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers } from '../helpers/peers.js';

/**
 * `lab run NAME --live`: the page draws the packets while the lab runs (server-sent events), one
 * lane per lab host, one arrow per frame tcpdump captured; the --report file is the same page frozen.
 */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'sl-live-'));
const env = { ...process.env, SOCKETLAB_RUN_DIR: join(work, 'run'), NO_COLOR: '1' };
let context: BrowserContext;
let profile: string | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync('/usr/bin/chromium')) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'sl-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
  await context?.close();
  rmSync(work, { recursive: true, force: true });
  if (profile) rmSync(profile, { recursive: true, force: true });
});

interface LiveRun {
  child: ChildProcess;
  url: string;
  done: Promise<number | null>;
  out: () => string;
  stdout: () => string;
}

/** Starts `lab run LAB --live --no-hold ...` and resolves with the page's URL once printed. */
async function startLive(lab: string, extra: string[] = []): Promise<LiveRun> {
  const child = spawn(process.execPath, [CLI, 'lab', 'run', lab, '--live', '--no-hold', ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => ((out += d.toString()), (stdout += d.toString())));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30_000);
    const look = (): void => {
      const m = /live view: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    // with --json the human lines (and the URL) go to stderr
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
  });
  return { child, url, done, out: () => out, stdout: () => stdout };
}

interface Drawn {
  lanes: string[];
  packets: { id: string; from: string; to: string; src: string; dst: string; label: string }[];
  verdict: string;
}

const drawn = (page: Page): Promise<Drawn> =>
  page.evaluate(() => ({
    lanes: [...document.querySelectorAll('#ladder .lane .lane-title')].map((t) => t.textContent!),
    packets: [...document.querySelectorAll('#ladder g.packet')].map((g) => ({ id: g.getAttribute('data-id')!, from: g.getAttribute('data-from')!, to: g.getAttribute('data-to')!, src: g.getAttribute('data-src')!, dst: g.getAttribute('data-dst')!, label: g.querySelector('text.label')!.textContent! })),
    verdict: document.querySelector('#verdict')!.textContent!,
  }));

/** Frames tcpdump itself reads back from the segment captures the run kept in its run dir. */
function capturedFrames(lab: string): number {
  const dir = join(work, 'run', lab);
  return readdirSync(dir).filter((f) => f.endsWith('.pcap')).reduce((n, f) => n + execFileSync('tcpdump', ['-r', join(dir, f), '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean).length, 0);
}

/** The details panel after clicking the first arrow whose label matches. */
async function clickPacket(page: Page, label: RegExp): Promise<Record<string, Record<string, string>>> {
  const ids = await page.evaluate((src) => [...document.querySelectorAll('#ladder g.packet')].filter((g) => new RegExp(src).test(g.querySelector('text.label')!.textContent!)).map((g) => g.getAttribute('data-id')!), label.source);
  expect(ids.length).toBeGreaterThan(0);
  await page.click(`#ladder g.packet[data-id="${ids[0]}"] text.label`);
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#details section.layer')].map((s) => [s.getAttribute('data-layer')!, Object.fromEntries([...s.querySelectorAll('tr')].map((tr) => [tr.querySelector('th')!.textContent!, tr.querySelector('td')!.textContent!]))])));
}

describeWithPeers('live view in headless chromium', ['chromium', 'tcpdump'], () => describeRoot('namespace and captured labs (root)', () => {
  it('07-dhcp: DORA draws itself as it happens, pc1 and pc2 in their own lanes, every frame once', async () => {
    const report = join(work, '07.html');
    const run = await startLive('07-dhcp', ['--report', report]);
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(run.url);
    // arrows appear while the lab still runs (its steps take well over 10 s)
    await page.waitForFunction(() => document.querySelectorAll('#ladder g.packet').length >= 4, undefined, { timeout: 60_000 });
    expect(run.child.exitCode).toBeNull();
    const during = await drawn(page);
    expect(during.lanes).toEqual(['pc1', 'pc2', 'server']);
    await page.screenshot({ path: join(ARTIFACTS, 'live-07-dhcp-running.png'), fullPage: true });
    expect(await run.done).toBe(0);
    await page.waitForFunction(() => document.querySelector('#verdict')!.textContent !== 'running');
    const end = await drawn(page);
    expect(end.verdict).toBe('all 9 checks passed');
    // one arrow per captured frame, none twice
    expect(end.packets).toHaveLength(capturedFrames('07-dhcp'));
    expect(new Set(end.packets.map((p) => p.id)).size).toBe(end.packets.length);
    const dora = end.packets.filter((p) => /^DHCP(DISCOVER|OFFER|REQUEST|ACK)/.test(p.label)).slice(0, 4);
    expect(dora.map((p) => [p.label.split(' ')[0], p.from, p.to])).toEqual([
      ['DHCPDISCOVER', 'pc1', 'pc2 server'],
      ['DHCPOFFER', 'server', 'pc1 pc2'],
      ['DHCPREQUEST', 'pc1', 'pc2 server'],
      ['DHCPACK', 'server', 'pc1 pc2'],
    ]);
    // the OFFER went to ff:ff:ff:ff:ff:ff / 255.255.255.255:68
    const offer = await clickPacket(page, /^DHCPOFFER/);
    expect(offer.Ethernet).toMatchObject({ dst: 'ff:ff:ff:ff:ff:ff' });
    expect(offer.IPv4).toMatchObject({ src: '10.0.7.1', dst: '255.255.255.255' });
    expect(offer.UDP).toMatchObject({ srcPort: '67', dstPort: '68' });
    expect(offer.DHCP).toMatchObject({ type: 'OFFER', chaddr: 'aa:bb:cc:00:07:01' });
    await page.screenshot({ path: join(ARTIFACTS, 'live-07-dhcp-offer.png'), fullPage: true });
    expect(requests.every((u) => u.startsWith(run.url))).toBe(true);
    // the report: the same page, frozen, with the same arrows
    const frozen = await context.newPage();
    const fr: string[] = [];
    frozen.on('request', (r) => fr.push(r.url()));
    await frozen.goto(pathToFileURL(report).href);
    const rep = await drawn(frozen);
    expect(rep.lanes).toEqual(end.lanes);
    expect(rep.packets.map((p) => p.label)).toEqual(end.packets.map((p) => p.label));
    expect(fr).toHaveLength(1);
    await frozen.screenshot({ path: join(ARTIFACTS, 'report-07-dhcp.png'), fullPage: true });
    await frozen.close();
    await page.close();
  }, 240_000);

  it('03-handshake: the captured segments are the arrows, the servers\' accept/close annotate them', async () => {
    const run = await startLive('03-handshake', ['--var', 'port=0']);
    const page = await context.newPage();
    await page.goto(run.url);
    await page.waitForFunction(() => document.querySelectorAll('#ladder g.packet').length >= 3, undefined, { timeout: 60_000 });
    expect(run.child.exitCode).toBeNull();
    expect(await run.done).toBe(0);
    await page.waitForFunction(() => document.querySelector('#verdict')!.textContent !== 'running');
    const end = await drawn(page);
    for (const l of end.lanes) expect(l).toBe('local');
    // tcpdump's own lines in the two capture services' output = the arrows
    const dir = join(work, 'run', '03-handshake');
    const seen = ['service-capture.out', 'service-capture2.out'].map((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => /^\s*\+\d/.test(l)).length).reduce((a, b) => a + b, 0);
    expect(end.packets).toHaveLength(seen);
    const keys = end.packets.map((p) => `${p.src} ${p.dst} ${p.label}`);
    expect(end.packets.filter((p) => /^TCP SYN$/.test(p.label))).toHaveLength(2);
    expect(keys.length).toBe(new Set(end.packets.map((p) => p.id)).size);
    const syn = await clickPacket(page, /^TCP SYN$/);
    expect(syn.captured).toMatchObject({ from: expect.stringMatching(/^127\.0\.0\.1:\d+$/), to: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    await page.screenshot({ path: join(ARTIFACTS, 'live-03-handshake.png'), fullPage: true });
    await page.close();
  }, 240_000);

  it('07-dhcp --step: paused longer than the 15 s lease (lease clocks stopped), every check still passes', async () => {
    const run = await startLive('07-dhcp', ['--step', '--json']);
    const page = await context.newPage();
    await page.goto(run.url);
    const paused = (): Promise<void> => page.waitForFunction(() => /^paused/.test(document.querySelector('#status')!.textContent!), undefined, { timeout: 60_000 }).then(() => undefined);
    // next through the steps until pc1 holds its lease, then stay paused 20 s
    for (let i = 0; i < 40; i++) {
      await paused();
      const n = await page.evaluate(() => [...document.querySelectorAll('#ladder g.packet')].filter((g) => /^DHCPACK/.test(g.querySelector('text.label')!.textContent!)).length);
      if (n >= 1) break;
      await page.click('#next');
      await page.waitForFunction(() => !/^paused/.test(document.querySelector('#status')!.textContent!) || document.querySelector('#next')!.hasAttribute('disabled'), undefined, { timeout: 10_000 }).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 20_000));
    await page.screenshot({ path: join(ARTIFACTS, 'live-07-dhcp-paused.png'), fullPage: true });
    await page.click('#resume');
    expect(await run.done).toBe(0);
    const json = JSON.parse(run.stdout().slice(run.stdout().indexOf('{\n'))) as { checks: { passed: boolean }[] };
    expect(json.checks.every((c) => c.passed)).toBe(true);
    await page.close();
  }, 300_000);
}));
