import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLabFile } from './loader.js';
import { LabError } from '../errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sl-labschema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function write(text: string, ext = 'yaml'): string {
  const f = join(dir, `lab${n++}.${ext}`);
  writeFileSync(f, text);
  return f;
}
function errorOf(text: string): LabError {
  try {
    loadLabFile(write(text));
  } catch (err) {
    expect(err).toBeInstanceOf(LabError);
    return err as LabError;
  }
  throw new Error('expected the lab file to be rejected');
}

const GOOD = `name: 02-socket-pairs
title: Socket pairs
topic: socket pairs
vars: { port: 7007 }
hosts:
  - name: local
    kind: localhost
services:
  - name: echo
    run: echo --port \${port}
steps:
  - name: connect
    run: socketlab connect 127.0.0.1:\${port} --count 3 --hold 30
    background: true
    until: "pair"
checks:
  - kind: listening
    proto: tcp
    port: \${port}
    process: socketlab-echo
    hint: start the echo server
  - kind: log-event
    service: echo
    event: tcp.accept
    where: { transport: tcp, from: "/^127\\\\.0\\\\.0\\\\.1:/" }
    min: 3
    hint: look at the log
`;

const CAPTURE = (fields: string): string =>
  `name: 03-x\ntitle: t\ntopic: t\nroot: true\nhosts: [{ name: local, kind: localhost }]\nservices: [{ name: cap, run: "capture --port 7007" }]\nchecks:\n  - { kind: capture, service: cap, ${fields}, hint: h }\n`;

const SOCKETS = (state: string): string =>
  `name: 05-x\ntitle: t\ntopic: t\nhosts: [{ name: local, kind: localhost }]\nchecks:\n  - { kind: sockets, proto: tcp, port: 7007, state: ${state}, count: 0, hint: h }\n`;

describe('lab file schema', () => {
  it('accepts a good file and fills in single-host defaults', () => {
    const spec = loadLabFile(write(GOOD));
    expect(spec.name).toBe('02-socket-pairs');
    expect(spec.services[0]).toMatchObject({ name: 'echo', host: 'local', run: 'echo --port ${port}' });
    expect(spec.steps[0]).toMatchObject({ host: 'local', background: true });
    expect(spec.checks).toHaveLength(2);
    expect(spec.checks[0]).toMatchObject({ kind: 'listening', port: '${port}', host: 'local' });
    expect(spec.vars).toEqual({ port: '7007' });
  });

  it("reads a sockets check's state in any tool's spelling, as the socket table spells it", () => {
    // netstat's FIN_WAIT1 once became FIN-WAIT1, which no row of the table (FIN-WAIT-1) ever has
    expect(['FIN_WAIT1', 'TIME_WAIT', 'estab', 'LISTEN'].map((st) => (loadLabFile(write(SOCKETS(st))).checks[0] as { state: string }).state)).toEqual(['FIN-WAIT-1', 'TIME-WAIT', 'ESTABLISHED', 'LISTEN']);
  });

  it('accepts the same lab as JSON', () => {
    const spec = loadLabFile(write(JSON.stringify({ name: '01-x', title: 't', topic: 't', hosts: [{ name: 'a', kind: 'localhost' }], checks: [{ kind: 'command', run: 'true', hint: 'h' }] }), 'json'));
    expect(spec.checks[0]).toMatchObject({ kind: 'command', run: 'true' });
  });

  const cases: [string, string, RegExp][] = [
    ['bad host name with its line', GOOD.replace('  - name: local\n    kind: localhost', '  - name: local\n    kind: localhost\n  - name: Bad_Name\n    kind: localhost'),
      /lab\d+\.yaml: hosts\[1\]\.name: "Bad_Name" must be a short lowercase name .* \(line 8\)/],
    ['unknown field', GOOD.replace('title: Socket pairs', 'title: Socket pairs\ncolour: red'), /: colour: unknown field; expected one of name, title, .* \(line 3\)/],
    ['missing checks', GOOD.slice(0, GOOD.indexOf('checks:')), /: checks: is required \(a list\)/],
    ['unknown check kind', GOOD.replace('kind: listening', 'kind: listenin'), /checks\[0\]\.kind: must be one of listening, established-pairs.*got string "listenin" \(line 17\)/],
    ['port out of range', GOOD.replace('port: ${port}\n    process', 'port: 70000\n    process'), /checks\[0\]\.port: must be an integer from 0 to 65535 \(or a \$\{var\}\), got number 70000/],
    ['service on unknown host', GOOD.replace('run: echo --port', 'host: server\n    run: echo --port'), /services\[0\]\.host: no host named "server" \(hosts: local\)/],
    ['check naming an unknown service', GOOD.replace('service: echo', 'service: dns'), /checks\[1\]\.service: no service named "dns" \(services: echo\)/],
    ['bad regex', GOOD.replace('until: "pair"', 'until: "pair("'), /steps\[0\]\.until: is not a valid regular expression/],
    ['until without background', GOOD.replace('    background: true\n', ''), /steps\[0\]\.until: only applies to a background step/],
    ['leading socketlab in a service', GOOD.replace('run: echo --port', 'run: socketlab echo --port'), /services\[0\]\.run: is socketlab arguments without the leading "socketlab"/],
    ['bad lab name', GOOD.replace('name: 02-socket-pairs', 'name: socket pairs'), /: name: "socket pairs" must look like 02-socket-pairs .*\(line 1\)/],
    ['ephemeral range on localhost', GOOD.replace('kind: localhost', 'kind: localhost\n    ephemeral-range: [40000, 40001]'), /hosts\[0\]\.ephemeral-range: can only be set on a netns host/],
    ['mixed host kinds', GOOD.replace('    kind: localhost', '    kind: localhost\n  - name: r\n    kind: netns'), /: hosts: mixes localhost and netns hosts/],
    ['segment member with a bad address', `name: 07-x\ntitle: t\ntopic: t\nhosts:\n  - { name: a, kind: netns }\nsegments:\n  - name: lan\n    members:\n      - { host: a, address: 10.0.0.1 }\nchecks:\n  - { kind: command, run: "true", hint: h }\n`,
      /segments\[0\]\.members\[0\]\.address: "10\.0\.0\.1" must be an address with a prefix length/],
    ['a copied file with a path', GOOD.replace('vars: { port: 7007 }', 'files: [../secret]\nvars: { port: 7007 }'), /: files\[0\]: must be a file name inside the lab folder \(no path\), got string "\.\.\/secret"/],
    ['a program service without a ready pattern', GOOD.replace('run: echo --port ${port}', 'run: radvd -n\n    program: true'), /services\[0\]\.ready: is required for a program service/],
    ['established-pairs without a count', GOOD.replace('kind: listening\n    proto: tcp\n    port: ${port}\n    process: socketlab-echo', 'kind: established-pairs\n    port: 7007'), /checks\[0\]: established-pairs needs count or min/],
    // a capture check with nothing to look for passed on any capture, even an empty one
    ['a capture check with handshake: false and no sequence', CAPTURE('handshake: false'), /checks\[0\]: capture needs handshake: true or a sequence \(line 8\)/],
    ['a capture check with an empty sequence', CAPTURE('sequence: []'), /checks\[0\]\.sequence: must be a non-empty list of segment kinds/],
    ['a capture check with a misspelt segment kind', CAPTURE('sequence: [SYN, SYNACK]'), /checks\[0\]\.sequence: must be a non-empty list of segment kinds \(SYN, SYN-ACK, ACK, DATA, FIN, RST\)/],
    ['a capture check with handshake and a sequence (the sequence was ignored)', CAPTURE('handshake: true, sequence: [FIN]'), /checks\[0\]: capture takes handshake: true or a sequence, not both/],
    // a templated exit was dropped for steps (default 0 used) and never equal for command checks
    ['a step with a templated exit code', GOOD.replace('    background: true\n    until: "pair"\n', '    exit: "${port}"\n'), /steps\[0\]\.exit: must be a number from 0 to 255, got string "\$\{port\}"/],
    ['a command check with a templated exit code', CAPTURE('kind: command, run: "true", exit: "${x}"').replace('kind: capture, service: cap, kind: command', 'kind: command'), /checks\[0\]\.exit: must be a number from 0 to 255/],
    ['a sockets check with a misspelt state', SOCKETS('ESTABLISH'), /checks\[0\]\.state: unknown socket state "ESTABLISH": use one of LISTEN, SYN-SENT/],
    ['not YAML', 'name: [unclosed\n', /lab\d+\.yaml:\d+: not valid YAML/],
    ['a list at the top', '- a\n- b\n', /: \(top level\): must be a mapping/],
  ];
  it.each(cases)('rejects %s', (_what, text, re) => {
    const err = errorOf(text);
    expect(err.code).toBe('LAB_ERR_LAB_FILE');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(re);
  });

  it('reports every problem at once, one per line', () => {
    const err = errorOf(GOOD.replace('kind: localhost', 'kind: vm').replace('hint: start the echo server', 'x: 1'));
    const lines = err.message.split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.some((l) => /hosts\[0\]\.kind: must be one of localhost, netns/.test(l))).toBe(true);
    expect(lines.some((l) => /checks\[0\]\.x: unknown field/.test(l))).toBe(true);
    expect(lines.some((l) => /checks\[0\]\.hint: is required/.test(l))).toBe(true);
  });
});
