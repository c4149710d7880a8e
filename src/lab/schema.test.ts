import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { labsDir, listLabFiles, loadLabFile } from './loader.js';
import { labJsonSchema, labJsonSchemaText } from './schema.js';
import { CHECK_KINDS } from './checks/index.js';
import { LabError } from '../errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sl-labschema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function write(text: string, ext = 'yaml'): string {
  const f = join(dir, `lab${n++}.${ext}`);
  writeFileSync(f, text);
  return f;
}
function rejected(text: string): { err: LabError; file: string } {
  const file = write(text);
  try {
    loadLabFile(file);
  } catch (err) {
    expect(err).toBeInstanceOf(LabError);
    return { err: err as LabError, file };
  }
  throw new Error('expected the lab file to be rejected');
}
const errorOf = (text: string): LabError => rejected(text).err;

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

  // Today's messages, word for word: the file, the field path, what is wrong and the line. Extra lines
  // that only follow from another problem (a service whose host is unknown is then unknown too) are
  // not pinned: `also` allows them.
  const S = '(ss and netstat spellings like ESTAB or TIME_WAIT work too)';
  const cases: [string, string, string[], 'also'?][] = [
    ['bad host name with its line', GOOD.replace('  - name: local\n    kind: localhost', '  - name: local\n    kind: localhost\n  - name: Bad_Name\n    kind: localhost'),
      ['FILE: hosts[1].name: "Bad_Name" must be a short lowercase name ([a-z][a-z0-9-], at most 15 characters) (line 8)']],
    ['unknown field', GOOD.replace('title: Socket pairs', 'title: Socket pairs\ncolour: red'),
      ['FILE: colour: unknown field; expected one of name, title, topic, summary, root, files, vars, hosts, segments, routes, services, steps, checks, tasks, questions, variants (line 3)']],
    ['unknown field in a check (the fields of its kind)', GOOD.replace('process: socketlab-echo', 'process: socketlab-echo\n    proces: x'),
      ['FILE: checks[0].proces: unknown field; expected one of kind, name, hint, host, points, proto, port, process, absent (line 21)']],
    ['a list where a string goes', GOOD.replace('title: Socket pairs', 'title: [a, b]'), ['FILE: title: must be a non-empty string, got a list (line 2)']],
    ['an empty title', GOOD.replace('title: Socket pairs', 'title:'), ['FILE: title: is required (line 2)']],
    ['a string where true/false goes', GOOD.replace('title: Socket pairs', 'title: Socket pairs\nroot: "yes"'), ['FILE: root: must be true or false, got string "yes" (line 3)']],
    ['a string where a port goes', GOOD.replace('port: ${port}\n    process', 'port: seven\n    process'),
      ['FILE: checks[0].port: must be an integer from 0 to 65535 (or a ${var}), got string "seven" (line 19)']],
    ['a list in where', GOOD.replace('where: { transport: tcp, from: "/^127\\\\.0\\\\.0\\\\.1:/" }', 'where: { transport: [tcp] }'),
      ['FILE: checks[1].where.transport: must be a value or a /regex/, got a list (line 25)']],
    ['hosts as a string', GOOD.replace('hosts:\n  - name: local\n    kind: localhost', 'hosts: local'), ['FILE: hosts: must be a list, got string "local" (line 5)'], 'also'],
    ['vars as a list', GOOD.replace('vars: { port: 7007 }', 'vars: [port]'), ['FILE: vars: must be a mapping (key: value), got a list (line 4)']],
    ['a bad variable name', GOOD.replace('vars: { port: 7007 }', 'vars: { 1port: 7007 }'), ['FILE: vars.1port: variable names are letters, digits and _ (line 4)']],
    ['a list as a variable value', GOOD.replace('vars: { port: 7007 }', 'vars: { port: [1] }'), ['FILE: vars.port: must be a string or number, got a list (line 4)']],
    ['a check that is not a mapping', GOOD.slice(0, GOOD.indexOf('checks:')) + 'checks: [3]\n', ['FILE: checks[0]: must be a mapping (key: value), got number 3 (line 16)']],
    ['an empty check name', GOOD.replace('hint: start the echo server', 'hint: start the echo server\n    name: ""'), ['FILE: checks[0].name: must be a non-empty string, got string "" (line 22)']],
    ['a negative count', GOOD.replace('min: 3', 'min: -1'), ['FILE: checks[1].min: must be an integer from 0 to 100000 (or a ${var}), got number -1 (line 26)']],
    ['a fractional count', GOOD.replace('min: 3', 'min: 1.5'), ['FILE: checks[1].min: must be an integer from 0 to 100000 (or a ${var}), got number 1.5 (line 26)']],
    ['an unknown proto', GOOD.replace('proto: tcp', 'proto: sctp'), ['FILE: checks[0].proto: must be one of tcp, udp, got string "sctp" (line 18)']],
    ['a run list holding a list', GOOD.replace('run: echo --port ${port}', 'run: [echo, [1]]'), ['FILE: services[0].run: must be a non-empty string, got a list (line 10)'], 'also'],
    ['a wait too long', GOOD.replace('    background: true\n    until: "pair"\n', '    wait: 500\n'), ['FILE: steps[0].wait: must be seconds from 0 to 120 (line 14)']],
    ['missing checks', GOOD.slice(0, GOOD.indexOf('checks:')), ['FILE: checks: is required (a list) (line 1)']],
    ['no checks', GOOD.slice(0, GOOD.indexOf('checks:')) + 'checks: []\n', ['FILE: checks: a lab needs at least one check (line 16)']],
    ['missing title', GOOD.replace('title: Socket pairs\n', ''), ['FILE: title: is required (line 1)']],
    ['missing host kind', GOOD.replace('    kind: localhost\n', ''), ['FILE: hosts[0].kind: is required; one of localhost, netns (line 6)'], 'also'],
    ['missing check kind', GOOD.replace('  - kind: listening\n    proto', '  - proto'),
      ['FILE: checks[0].kind: is required; one of listening, established-pairs, sockets, ephemeral-source, log-event, command, capture (line 17)']],
    ['missing hint', GOOD.replace('    hint: start the echo server\n', ''), ['FILE: checks[0].hint: is required (line 17)']],
    ['missing proto', GOOD.replace('    proto: tcp\n', ''), ['FILE: checks[0].proto: is required; one of tcp, udp (line 17)']],
    ['missing port', GOOD.replace('    port: ${port}\n    process', '    process'), ['FILE: checks[0].port: is required (line 17)']],
    ['missing step run', GOOD.replace('    run: socketlab connect 127.0.0.1:${port} --count 3 --hold 30\n', ''), ['FILE: steps[0].run: is required (line 12)']],
    ['missing service of a check', GOOD.replace('    service: echo\n', ''), ['FILE: checks[1].service: is required (line 22)']],
    ['missing event of a log-event check', GOOD.replace('    event: tcp.accept\n', ''), ['FILE: checks[1].event: is required (line 22)']],
    ['missing route via', 'name: 07-x\ntitle: t\ntopic: t\nhosts:\n  - { name: a, kind: netns }\nroutes:\n  - { host: a, to: default }\nchecks:\n  - { kind: command, run: "true", hint: h }\n',
      ['FILE: routes[0].via: is required (line 7)']],
    ['unknown check kind', GOOD.replace('kind: listening', 'kind: listenin'),
      ['FILE: checks[0].kind: must be one of listening, established-pairs, sockets, ephemeral-source, log-event, command, capture, got string "listenin" (line 17)']],
    ['port out of range', GOOD.replace('port: ${port}\n    process', 'port: 70000\n    process'), ['FILE: checks[0].port: must be an integer from 0 to 65535 (or a ${var}), got number 70000 (line 19)']],
    ['service on unknown host', GOOD.replace('run: echo --port', 'host: server\n    run: echo --port'), ['FILE: services[0].host: no host named "server" (hosts: local) (line 10)'], 'also'],
    ['check naming an unknown service', GOOD.replace('service: echo', 'service: dns'), ['FILE: checks[1].service: no service named "dns" (services: echo) (line 23)']],
    ['check naming an unknown client host', GOOD.replace('kind: log-event', 'kind: ephemeral-source\n    client: zz').replace('    where: { transport: tcp, from: "/^127\\\\.0\\\\.0\\\\.1:/" }\n', ''),
      ['FILE: checks[1].client: no host named "zz" (hosts: local) (line 23)']],
    ['bad regex', GOOD.replace('until: "pair"', 'until: "pair("'), ['FILE: steps[0].until: is not a valid regular expression: Invalid regular expression: /pair(/m: Unterminated group (line 15)']],
    ['bad where regex', GOOD.replace('from: "/^127', 'from: "/(^127'), ['FILE: checks[1].where.from: is not a valid regular expression: Invalid regular expression: /(^127\\.0\\.0\\.1:/: Unterminated group (line 25)']],
    ['until without background', GOOD.replace('    background: true\n', ''), ['FILE: steps[0].until: only applies to a background step (line 14)']],
    ['leading socketlab in a service', GOOD.replace('run: echo --port', 'run: socketlab echo --port'), ['FILE: services[0].run: is socketlab arguments without the leading "socketlab" (e.g. "echo --port 7007") (line 10)']],
    ['bad lab name', GOOD.replace('name: 02-socket-pairs', 'name: socket pairs'), ['FILE: name: "socket pairs" must look like 02-socket-pairs (two digits, dash, lowercase words) (line 1)']],
    ['ephemeral range on localhost', GOOD.replace('kind: localhost', 'kind: localhost\n    ephemeral-range: [40000, 40001]'), ["FILE: hosts[0].ephemeral-range: can only be set on a netns host (it would change this machine's own range) (line 8)"]],
    ['an ephemeral range backwards', 'name: 07-x\ntitle: t\ntopic: t\nhosts:\n  - { name: a, kind: netns, ephemeral-range: [5, 1] }\nchecks:\n  - { kind: command, run: "true", hint: h }\n',
      ['FILE: hosts[0].ephemeral-range: must be [first, last] ports with first <= last, e.g. [40000, 40009] (line 5)']],
    ['mixed host kinds', GOOD.replace('    kind: localhost', '    kind: localhost\n  - name: r\n    kind: netns'),
      ['FILE: hosts: mixes localhost and netns hosts; a lab runs either on this machine or in namespaces (line 6)', 'FILE: hosts: a localhost lab has exactly one host (this machine) (line 6)'], 'also'],
    ['a host name used twice', GOOD.replace('  - name: local\n    kind: localhost', '  - name: local\n    kind: localhost\n  - name: local\n    kind: localhost'),
      ['FILE: hosts[1].name: "local" is already used by another host (line 8)', 'FILE: hosts: a localhost lab has exactly one host (this machine) (line 6)'], 'also'],
    ['a service name used twice', GOOD.replace('steps:', '  - name: echo\n    run: echo\nsteps:'), ['FILE: services[1].name: "echo" is already used by another service (line 11)']],
    ['segments on a localhost lab', GOOD.replace('services:', 'segments:\n  - name: lan\n    members: [{ host: local }]\nservices:'), ['FILE: segments: only netns labs have segments (line 9)']],
    ['segment member with a bad address', 'name: 07-x\ntitle: t\ntopic: t\nhosts:\n  - { name: a, kind: netns }\nsegments:\n  - name: lan\n    members:\n      - { host: a, address: 10.0.0.1 }\nchecks:\n  - { kind: command, run: "true", hint: h }\n',
      ['FILE: segments[0].members[0].address: "10.0.0.1" must be an address with a prefix length, e.g. 10.0.1.1/24 or ${lan.1}/24 (line 9)']],
    ['a segment address naming a var that does not exist', 'name: 07-x\ntitle: t\ntopic: t\nhosts:\n  - { name: a, kind: netns }\nsegments:\n  - name: lan\n    members:\n      - { host: a, address: "${lan.1}/24" }\nchecks:\n  - { kind: command, run: "true", hint: h }\n',
      ['FILE: segments: segments[0].members[0].address: variable "lan.1" is not defined (known: none) (line 7)']],
    ['segment member with a multicast MAC', 'name: 07-x\ntitle: t\ntopic: t\nhosts:\n  - { name: a, kind: netns }\nsegments:\n  - name: lan\n    members:\n      - { host: a, address: 10.0.0.1/24, mac: "01:00:5e:00:00:01" }\nchecks:\n  - { kind: command, run: "true", hint: h }\n',
      ['FILE: segments[0].members[0].mac: "01:00:5e:00:00:01" must be a unicast MAC, six hex pairs with an even first byte, e.g. 02:00:00:00:01:0a (line 9)']],
    ['a copied file with a path', GOOD.replace('vars: { port: 7007 }', 'files: [../secret]\nvars: { port: 7007 }'), ['FILE: files[0]: must be a file name inside the lab folder (no path), got string "../secret" (line 4)']],
    ['a program service without a ready pattern', GOOD.replace('run: echo --port ${port}', 'run: radvd -n\n    program: true'), ['FILE: services[0].ready: is required for a program service (a regex on its output that says it is up) (line 9)']],
    ['established-pairs without a count', GOOD.replace('kind: listening\n    proto: tcp\n    port: ${port}\n    process: socketlab-echo', 'kind: established-pairs\n    port: 7007'), ['FILE: checks[0]: established-pairs needs count or min (line 17)']],
    // a capture check with nothing to look for passed on any capture, even an empty one
    ['a capture check with handshake: false and no sequence', CAPTURE('handshake: false'), ['FILE: checks[0]: capture needs handshake: true or a sequence (line 8)']],
    ['a capture check with an empty sequence', CAPTURE('sequence: []'), ['FILE: checks[0].sequence: must be a non-empty list of segment kinds (SYN, SYN-ACK, ACK, DATA, FIN, RST), e.g. [SYN, SYN-ACK, ACK] (line 8)']],
    ['a capture check with a misspelt segment kind', CAPTURE('sequence: [SYN, SYNACK]'), ['FILE: checks[0].sequence: must be a non-empty list of segment kinds (SYN, SYN-ACK, ACK, DATA, FIN, RST), e.g. [SYN, SYN-ACK, ACK] (line 8)']],
    ['a capture check with handshake and a sequence (the sequence was ignored)', CAPTURE('handshake: true, sequence: [FIN]'), ['FILE: checks[0]: capture takes handshake: true or a sequence, not both (add SYN, SYN-ACK, ACK to the sequence) (line 8)']],
    // a templated exit was dropped for steps (default 0 used) and never equal for command checks
    ['a step with a templated exit code', GOOD.replace('    background: true\n    until: "pair"\n', '    exit: "${port}"\n'), ['FILE: steps[0].exit: must be a number from 0 to 255, got string "${port}" (${var} is not supported here) (line 14)']],
    ['a command check with a templated exit code', CAPTURE('kind: command, run: "true", exit: "${x}"').replace('kind: capture, service: cap, kind: command', 'kind: command'),
      ['FILE: checks[0].exit: must be a number from 0 to 255, got string "${x}" (${var} is not supported here) (line 8)']],
    ['a sockets check with a misspelt state', SOCKETS('ESTABLISH'),
      [`FILE: checks[0].state: unknown socket state "ESTABLISH": use one of LISTEN, SYN-SENT, SYN-RECV, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, CLOSE-WAIT, LAST-ACK, CLOSING, CLOSED, UNCONN ${S} (line 6)`]],
    ['not YAML', 'name: [unclosed\n', ['FILE:2: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
    ['a list at the top', '- a\n- b\n', ['FILE: (top level): must be a mapping (key: value), got a list (line 1)']],
    // an exit code out of range was told it could be a ${var}, which exit codes cannot be
    ['an exit code above 255', GOOD.replace('    background: true\n    until: "pair"\n', '    exit: 300\n'), ['FILE: steps[0].exit: must be a number from 0 to 255, got number 300 (line 14)']],
    // a service or step without a host in a lab of several hosts was dropped without a word
    ['a service without a host when there are several', 'name: 07-x\ntitle: t\ntopic: t\nhosts:\n  - { name: a, kind: netns }\n  - { name: b, kind: netns }\nservices:\n  - { name: echo, run: echo }\nchecks:\n  - { kind: command, host: a, run: "true", hint: h }\n',
      ['FILE: services[0].host: is required when the lab has more than one host (hosts: a, b) (line 8)']],
    ['no hosts', GOOD.replace('hosts:\n  - name: local\n    kind: localhost', 'hosts: []'), ['FILE: hosts: a lab needs at least one host (line 5)']],
  ];
  it.each(cases)('rejects %s', (_what, text, want, also) => {
    const { err, file } = rejected(text);
    expect(err.code).toBe('LAB_ERR_LAB_FILE');
    expect(err.exitCode).toBe(2);
    const lines = err.message.split('\n').map((l) => l.split(file).join('FILE'));
    if (also) expect(lines).toEqual(expect.arrayContaining(want));
    else expect(lines.sort()).toEqual([...want].sort());
  });

  it('reports every problem at once, one per line', () => {
    const { err, file } = rejected(GOOD.replace('kind: localhost', 'kind: vm').replace('hint: start the echo server', 'x: 1'));
    const lines = err.message.split('\n').map((l) => l.split(file).join('FILE'));
    expect(lines).toEqual(expect.arrayContaining([
      'FILE: hosts[0].kind: must be one of localhost, netns, got string "vm" (line 7)',
      'FILE: checks[0].x: unknown field; expected one of kind, name, hint, host, points, proto, port, process, absent (line 21)',
      'FILE: checks[0].hint: is required (line 17)',
    ]));
  });
});

const schemaFile = fileURLToPath(new URL('../../labs/lab.schema.json', import.meta.url));

describe('labs/lab.schema.json', () => {
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
  const labs = listLabFiles(labsDir());

  it('is what the build generates from the zod schema now (npm run build rewrites it)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(labJsonSchemaText());
  });

  it.each(labs.map((l) => [l.name, l.file]))('%s points editors at it and validates against it, as an editor would', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../lab.schema.json');
    const ok = validate(parse(text));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('rejects what the loader rejects for its shape: an unknown field, a wrong kind, a wrong type', () => {
    const good = parse(GOOD) as Record<string, unknown>;
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, colour: 'red' })).toBe(false);
    expect(validate({ ...good, checks: [{ kind: 'listenin', proto: 'tcp', port: 1, hint: 'h' }] })).toBe(false);
    expect(validate({ ...good, checks: [{ kind: 'listening', proto: 'tcp', port: 'seven', hint: 'h' }] })).toBe(false);
    expect(validate({ ...good, hosts: 'local' })).toBe(false);
  });

  it('offers every check kind, each with its own fields', () => {
    const items = ((labJsonSchema().properties as Record<string, { items: { oneOf: { properties: { kind: { const: string } } }[] } }>).checks.items.oneOf);
    expect(items.map((o) => o.properties.kind.const)).toEqual(CHECK_KINDS.map((k) => k.schema.shape.kind.value));
  });
});
