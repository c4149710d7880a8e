import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { runCli } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { describeWithPeers, itWithPeers } from '../helpers/peers.js';
import { labPeers } from '../helpers/lab-peers.js';

/**
 * `lab run NAME --report FILE.html` opened in headless Debian chromium: what the page shows (the
 * ladder diagram, the socket pairs, the checks with hints), with a screenshot kept under
 * test-artifacts/. The JUnit XML of the same runs is parsed by the browser's own XML parser.
 */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'sl-report-'));
const env = { SOCKETLAB_RUN_DIR: join(work, 'run') };
let context: BrowserContext;
let profile: string | undefined;
const haveChromium = existsSync('/usr/bin/chromium');

beforeAll(async () => {
  if (!haveChromium) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'sl-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  rmSync(work, { recursive: true, force: true });
  // the browser profile too: each run left a few MB under /tmp
  if (profile) rmSync(profile, { recursive: true, force: true });
});

interface Shown {
  title: string;
  verdict: string;
  verdictClass: string;
  lanes: string[];
  subtitles: string[];
  events: { label: string; from: string; to: string; src: string; dst: string }[];
  pairs: string[][];
  checks: { verdict: string; name: string; hint: string }[];
}

/** Runs a lab with --report and --junit, opens the page, and reads what a learner sees. */
async function runAndOpen(lab: string, extra: string[] = [], expectCode = 0): Promise<{ page: Page; shown: Shown; junit: string; requests: string[] }> {
  const html = join(work, `${lab.replace(/\W+/g, '_')}.html`);
  const junit = join(work, `${lab.replace(/\W+/g, '_')}.xml`);
  const r = await runCli(['lab', 'run', lab, '--report', html, '--junit', junit, ...extra], { env, timeoutMs: 150_000 });
  expect({ code: r.code, out: r.code === expectCode ? '' : r.stdout.slice(-2000) + r.stderr }).toEqual({ code: expectCode, out: '' });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (req) => requests.push(req.url()));
  await page.goto(pathToFileURL(html).href);
  const shown = await page.evaluate(() => ({
    title: document.querySelector('#lab-title')!.textContent!,
    verdict: document.querySelector('#verdict')!.textContent!,
    verdictClass: document.querySelector('#verdict')!.className,
    lanes: [...document.querySelectorAll('#ladder .lane .lane-title')].map((t) => t.textContent!),
    subtitles: [...document.querySelectorAll('#ladder .lane .lane-sub')].map((t) => t.textContent!),
    events: [...document.querySelectorAll('#ladder g.packet')].map((g) => ({ label: g.getAttribute('data-summary')!, from: g.getAttribute('data-from')!, to: g.getAttribute('data-to')!, src: g.getAttribute('data-src')!, dst: g.getAttribute('data-dst')! })),
    pairs: [...document.querySelectorAll('#pairs tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!)),
    checks: [...document.querySelectorAll('#checks tbody tr')].map((tr) => {
      const td = [...tr.querySelectorAll('td')];
      return { verdict: td[0]!.textContent!, name: td[1]!.textContent!, hint: td[3]!.textContent! };
    }),
  }));
  return { page, shown, junit: readFileSync(junit, 'utf8'), requests };
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = join(ARTIFACTS, `report-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
  await page.close();
}

/** The browser's XML parser: a parsererror element means the JUnit file is not well-formed. */
async function parseJunit(xml: string): Promise<{ error: string | null; suites: { name: string; tests: string; failures: string }[]; cases: number; failures: string[] }> {
  const page = await context.newPage();
  try {
    return await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      const err = doc.querySelector('parsererror');
      return {
        error: err ? err.textContent : null,
        suites: [...doc.querySelectorAll('testsuite')].map((s) => ({ name: s.getAttribute('name')!, tests: s.getAttribute('tests')!, failures: s.getAttribute('failures')! })),
        cases: doc.querySelectorAll('testcase').length,
        failures: [...doc.querySelectorAll('failure')].map((f) => f.textContent!),
      };
    }, xml);
  } finally {
    await page.close();
  }
}

describeWithPeers('HTML report in headless chromium (localhost labs)', ['chromium'], () => {
  itWithPeers('02-socket-pairs: three TCP connections into one server lane, pairs and checks', labPeers('02-socket-pairs'), async () => {
    const { page, shown, junit, requests } = await runAndOpen('02-socket-pairs', ['--var', 'port=0']);
    expect(shown.title).toBe('02-socket-pairs: Socket pairs and netstat');
    expect(shown.verdict).toBe('all 6 checks passed');
    expect(shown.verdictClass).toContain('pass');
    // one host: its name on every lane, one lane per socket, the server's last
    expect(shown.lanes).toEqual(['local', 'local', 'local', 'local']);
    expect(shown.subtitles.filter((l) => l.startsWith('client '))).toHaveLength(3);
    expect(shown.subtitles.at(-1)).toMatch(/^echo :\d+$/);
    expect(shown.events).toHaveLength(3);
    for (const e of shown.events) {
      expect(e.label).toBe('TCP connect (SYN, SYN-ACK, ACK)');
      expect(e.src).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    expect(new Set(shown.events.map((e) => e.to)).size).toBe(1);
    expect(shown.pairs).toHaveLength(3);
    for (const p of shown.pairs) expect(p[1]).toMatch(/^127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+$/);
    expect(shown.checks.map((c) => c.verdict)).toEqual(['PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS']);
    // self-contained: the page loads nothing but itself
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    expect(requests).toHaveLength(1);
    await page.waitForSelector('#verdict.pass');
    await screenshot(page, '02-socket-pairs');
    const x = await parseJunit(junit);
    expect(x).toEqual({ error: null, suites: [{ name: '02-socket-pairs', tests: '11', failures: '0' }], cases: 11, failures: [] }); // 6 checks, 1 task and 4 questions (skipped: not done yet)
  }, 180_000);

  it('a failed check is shown as FAIL with its hint, and as a JUnit <failure>', async () => {
    const f = join(work, 'failing.yaml');
    writeFileSync(f, `name: 97-failing
title: a lab with a wrong expectation & <markup>
topic: reports
hosts: [{ name: local, kind: localhost }]
services: [{ name: echo, run: "echo --port 0 --tcp" }]
steps: [{ name: one client, run: "socketlab connect 127.0.0.1:\${echo.port}" }]
checks:
  - { kind: log-event, service: echo, event: tcp.accept, count: 1, hint: "fine" }
  - { kind: log-event, service: echo, event: tcp.accept, count: 2, hint: "two <clients> were expected & one came" }
`);
    const { page, shown, junit } = await runAndOpen(f, ['--yes'], 1);
    expect(shown.title).toBe('97-failing: a lab with a wrong expectation & <markup>');
    expect(shown.verdict).toBe('1 of 2 checks failed');
    expect(shown.verdictClass).toContain('fail');
    expect(shown.checks).toEqual([
      { verdict: 'PASS', name: 'echo logged exactly 1 tcp.accept', hint: '' },
      { verdict: 'FAIL', name: 'echo logged exactly 2 tcp.accept', hint: 'two <clients> were expected & one came' },
    ]);
    await screenshot(page, 'failing-check');
    // a lab that could not run still leaves a page saying why
    const broken = join(work, 'broken.yaml');
    writeFileSync(broken, `name: 96-broken\ntitle: broken\ntopic: reports\nhosts: [{ name: local, kind: localhost }]\nservices: [{ name: echo, run: "echo --port 1.5" }]\nchecks: [{ kind: listening, proto: tcp, port: 1, hint: h }]\n`);
    const b = await runAndOpen(broken, ['--yes'], 2);
    expect(b.shown.verdict).toMatch(/^could not run: service echo exited before it was ready/);
    expect(b.shown.verdictClass).toContain('fail');
    await b.page.close();
    const x = await parseJunit(junit);
    expect(x.error).toBeNull();
    expect(x.suites).toEqual([{ name: '97-failing', tests: '2', failures: '1' }]);
    expect(x.failures).toHaveLength(1);
    expect(x.failures[0]).toContain('hint: two <clients> were expected & one came');
  }, 180_000);
});

describeWithPeers('HTML report of the captured handshake (tcpdump)', ['tcpdump', 'chromium'], () => {
  describeRoot('03-handshake report', () => {
    itWithPeers('draws SYN, SYN-ACK, ACK between the client socket and the server', labPeers('03-handshake'), async () => {
      const { page, shown } = await runAndOpen('03-handshake', ['--var', 'port=0']);
      const segs = shown.events.map((e) => e.label.split(' ')[1]);
      expect(segs.slice(0, 3)).toEqual(['SYN', 'SYN-ACK', 'ACK']);
      expect(segs).toContain('FIN');
      // the echo server's tcp.accept annotates the SYN instead of adding a second "connect" arrow
      expect(shown.events.filter((e) => e.label.startsWith('TCP connect'))).toEqual([]);
      await screenshot(page, '03-handshake');
    }, 180_000);
  });
});

describeWithPeers('HTML report of namespace labs', ['chromium'], () => describeRoot('in namespaces (root)', () => {
  itWithPeers('07-dhcp: DORA from the clients\' lanes to every host on the segment', labPeers('07-dhcp'), async () => {
    const { page, shown } = await runAndOpen('07-dhcp');
    expect(shown.lanes).toEqual(['pc1', 'pc2', 'server']);
    const dora = shown.events.filter((e) => e.label.startsWith('DHCP')).slice(0, 4);
    expect(dora.map((e) => e.label.split(' ')[0])).toEqual(['DHCPDISCOVER', 'DHCPOFFER', 'DHCPREQUEST', 'DHCPACK']);
    expect(dora[0]).toMatchObject({ from: 'pc1', to: 'pc2 server', src: '0.0.0.0:68', dst: '255.255.255.255:67' });
    expect(dora[1]).toMatchObject({ from: 'server', dst: '255.255.255.255:68' });
    expect(shown.checks.every((c) => c.verdict === 'PASS')).toBe(true);
    await screenshot(page, '07-dhcp');
  }, 180_000);

  itWithPeers('06-dns: the truncated UDP answer, the TCP retry and the AXFR', labPeers('06-dns'), async () => {
    const { page, shown } = await runAndOpen('06-dns');
    const labels = shown.events.map((e) => e.label);
    const tc = labels.findIndex((l) => /^DNS response NOERROR TC=1/.test(l));
    expect(tc).toBeGreaterThanOrEqual(0);
    expect(labels.slice(tc).some((l) => /^DNS query A many\.example\.com.*\(TCP\)$/.test(l))).toBe(true);
    expect(labels.some((l) => /^DNS AXFR/.test(l))).toBe(true);
    // the lab's order, clients first: lanes do not cross
    expect(shown.lanes).toEqual(['client', 'ns1', 'ns2']);
    await screenshot(page, '06-dns');
  }, 180_000);
}));
