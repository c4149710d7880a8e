import { describe, expect, it } from 'vitest';
import { splitCommand, resolveArgv, inHost } from './exec.js';
import { CLI_PATH } from '../core/process.js';
import { clientPort, fieldMatches, flagsKind, normState, segmentKind } from './checks.js';
import { fill, fillInt } from './template.js';
import { toJunit, type LabReport } from './output.js';
import { servicePorts } from './docker.js';
import { eventFields, eventLabel } from './event-view.js';
import { renderReport } from './report.js';
import type { LabSpec } from './schema.js';
import { LabError } from '../errors.js';

describe('splitCommand', () => {
  it.each([
    ['ss -tn state established', ['ss', '-tn', 'state', 'established']],
    [`sh -c "grep -E ':7007\\b' || true"`, ['sh', '-c', `grep -E ':7007\\b' || true`]],
    [`echo 'a "b"' c\\ d`, ['echo', 'a "b"', 'c d']],
    ['  spaced   out  ', ['spaced', 'out']],
    [`x ""`, ['x', '']],
  ])('%s', (line, argv) => expect(splitCommand(line)).toEqual(argv));
  it('refuses an unterminated quote', () => expect(() => splitCommand('sh -c "oops')).toThrow(/unterminated " quote/));
  it('runs socketlab as this build, in a namespace when asked', () => {
    expect(resolveArgv(['socketlab', 'ports'])).toEqual([process.execPath, CLI_PATH, 'ports']);
    expect(inHost('sl-x-a', ['ss', '-tn'])).toEqual(['ip', 'netns', 'exec', 'sl-x-a', 'ss', '-tn']);
    expect(inHost(undefined, ['ss'])).toEqual(['ss']);
  });
});

describe('templates', () => {
  it('fills known names and says which are known otherwise', () => {
    expect(fill('127.0.0.1:${echo.port}', { 'echo.port': '7007' }, 'x')).toBe('127.0.0.1:7007');
    expect(() => fill('${nope}', { a: '1' }, 'steps[0].run')).toThrow(LabError);
    expect(() => fill('${nope}', { a: '1' }, 'steps[0].run')).toThrow(/steps\[0\]\.run: variable "nope" is not defined \(known: a\)/);
    expect(fillInt('${n}', { n: '3' }, 'count')).toBe(3);
    expect(() => fillInt('${n}', { n: 'x' }, 'count')).toThrow(/not an integer/);
  });
});

describe('check helpers', () => {
  it('reads segment kinds from tcpdump flags and capture lines', () => {
    expect(['S', 'S.', '.', 'P.', 'F.', 'R', 'R.', 'none'].map(flagsKind)).toEqual(['SYN', 'SYN-ACK', 'ACK', 'DATA', 'FIN', 'RST', 'RST', undefined]);
    expect(segmentKind('IP 127.0.0.1.5 > 127.0.0.1.7: Flags [S.], seq 1, ack 2')).toBe('SYN-ACK');
    expect(segmentKind('  +0.000  tcp  127.0.0.1:1 -> 127.0.0.1:2   [F.]   FIN  seq 16')).toBe('FIN');
    expect(segmentKind('socketlab-capture listening on lo, port 7 (tcpdump)')).toBeUndefined();
  });
  it('matches where-values literally or as /regex/', () => {
    expect(fieldMatches('10.0.2.1', '10.0.2.1')).toBe(true);
    expect(fieldMatches('10.0.2.10', '10.0.2.1')).toBe(false);
    expect(fieldMatches(true, true)).toBe(true);
    expect(fieldMatches(2026112102, 2026112102)).toBe(true);
    expect(fieldMatches('DHCPDISCOVER', '/DISCOVER/')).toBe(true);
    expect(fieldMatches(undefined, 'x')).toBe(false);
  });
  it('takes the client port from the pair, IPv6 too', () => {
    expect(clientPort({ pair: '127.0.0.1:41822 <-> 127.0.0.1:7007' })).toBe(41822);
    expect(clientPort({ pair: '[::1]:41822 <-> [::1]:7007' })).toBe(41822);
    expect(clientPort({})).toBeUndefined();
  });
  it('spells states one way', () => {
    expect(['ESTAB', 'TIME_WAIT', 'time-wait', 'UNCONN', 'LISTEN'].map(normState)).toEqual(['ESTABLISHED', 'TIME-WAIT', 'TIME-WAIT', 'UNCONN', 'LISTEN']);
  });
});

describe('event view', () => {
  it('names DHCP, DNS and TCP events as a learner reads them', () => {
    expect(eventLabel({ event: 'dhcp.in', type: 'DISCOVER' })).toBe('DHCPDISCOVER');
    expect(eventLabel({ event: 'dns.query', transport: 'udp', tc: true })).toBe('DNS query and answer over UDP (answer truncated, TC=1)');
    expect(eventLabel({ event: 'tcp.segment', flags: 'S.', annotation: 'SYN-ACK' })).toBe('TCP SYN-ACK');
    expect(eventLabel({ event: 'tcp.segment', flags: '.', annotation: 'ACK (handshake done)' })).toBe('TCP ACK (handshake done)');
    expect(eventFields({ type: 'OFFER', xid: 255, yiaddr: '10.0.7.100', ciaddr: '0.0.0.0' })).toBe('type=OFFER xid=0x000000ff yiaddr=10.0.7.100');
  });
});

describe('JUnit XML', () => {
  it('escapes markup and drops characters XML cannot hold', () => {
    const r: LabReport = {
      lab: '01-x', title: 't', topic: 't', exitCode: 1, passed: false, startedAt: '2026-11-21T06:00:00.000Z', durationMs: 1500,
      steps: [],
      checks: [
        { kind: 'command', name: 'a <b> & "c"', passed: false, detail: 'saw \u001b[31mred\u001b[0m', hint: "it's <fine>" },
        { kind: 'listening', name: 'ok', passed: true, detail: 'd', hint: 'h' },
      ],
    };
    const xml = toJunit([r]);
    expect(xml).toContain('<testsuite name="01-x" tests="2" failures="1" errors="0" time="1.500"');
    expect(xml).toContain('name="a &lt;b&gt; &amp; &quot;c&quot;"');
    expect(xml).toContain('hint: it&apos;s &lt;fine&gt;');
    expect(xml).not.toMatch(/\u001b/);
    // U+FFFE and U+FFFF are valid UTF-8 but not XML 1.0 characters: a parser rejects the whole file
    expect(toJunit([{ ...r, checks: [{ ...r.checks[0]!, detail: 'odd \ufffe\uffff bytes' }] }])).toContain('odd  bytes');
    expect(xml.match(/<testcase /g)).toHaveLength(2);
  });
});

describe('service ports for the Docker export', () => {
  it.each([
    [['echo', '--port', '7007'], ['7007/tcp', '7007/udp']],
    [['echo', '--port', '7007', '--tcp'], ['7007/tcp']],
    [['dns', 'serve', '--port', '53', '--host', '10.0.6.53'], ['53/udp', '53/tcp']],
    [['dhcp', 'relay', '-i', 'eth1', '--server', '10.0.1.2'], ['67/udp']],
    [['capture', '--port', '7007'], []],
  ])('%j', (args, ports) => expect(servicePorts(args).ports.map((p) => `${p.port}/${p.proto}`)).toEqual(ports));
});

describe('splitCommand keeps backslashes as sh does inside double quotes', () => {
  it.each([
    [`a "x\\"y"`, ['a', 'x"y']],
    [`a "\\\\b"`, ['a', '\\b']],
    [`a "\\$HOME"`, ['a', '$HOME']],
  ])('%s', (line, argv) => expect(splitCommand(line)).toEqual(argv));
});

describe('HTML report', () => {
  it('escapes every log field it puts in the page, the transport in a class attribute too', () => {
    const spec: LabSpec = { name: '01-x', title: 't', topic: 't', files: [], vars: {}, hosts: [{ name: 'local', kind: 'localhost' }], segments: [], routes: [], services: [], steps: [], checks: [], file: 'lab.yaml', dir: '.' };
    const report: LabReport = { lab: '01-x', title: 't', topic: 't', exitCode: 0, passed: true, startedAt: '2026-11-21T06:00:00.000Z', durationMs: 1, steps: [], checks: [] };
    const evil = '"></script><script>alert(1)</script>';
    const html = renderReport({ ...spec, title: `t${evil}` }, report, [{ kind: 'packet', seq: 0, t: 0, id: 1, segment: 'lo', from: 'a', to: ['b'], broadcast: false, transport: `tcp${evil}`, summary: evil, src: '127.0.0.1:1', dst: '127.0.0.1:2', layers: [{ name: 'DNS', fields: { question: evil } }], notes: [], source: 'log' }]);
    // the page's own two script elements, and none from the data (embedded as JSON with < escaped)
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toContain('alert(1)</script>');
    expect(html).toContain('<title>01-x: t&quot;&gt;&lt;/script&gt;');
  });
});
