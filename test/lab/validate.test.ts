import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { listLabFiles, shown } from '../../src/lab/loader.js';

/** `socketlab lab validate`: lab files checked without running anything. */
const dir = mkdtempSync(join(tmpdir(), 'sl-labvalidate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BROKEN = `name: 01-x
title: t
topic: t
hosts: [{ name: a, kind: vm }]
checks:
  - { kind: sockets, proto: tcp, port: 7007, state: ESTABLISH, hint: h }
`;

describe('lab validate', () => {
  it('passes every shipped lab, exit 0', async () => {
    const labs = listLabFiles();
    const r = await runCli(['lab', 'validate', ...labs.map((l) => l.file)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(labs.map((l) => `${shown(l.file)}: valid`));
  });

  it('prints one line per problem with the file, the field and the line, exit 2', async () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, BROKEN);
    const notYaml = join(dir, 'not-yaml.yaml');
    writeFileSync(notYaml, 'name: [unclosed\n');
    const good = listLabFiles()[0]!;
    const r = await runCli(['lab', 'validate', broken, good.dir, notYaml, join(dir, 'missing.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stdout.trim().split('\n')).toEqual([
      `${broken}: hosts[0].kind: must be one of localhost, netns, got string "vm" (line 4)`,
      `${broken}: checks[0].state: unknown socket state "ESTABLISH": use one of LISTEN, SYN-SENT, SYN-RECV, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, CLOSE-WAIT, LAST-ACK, CLOSING, CLOSED, UNCONN (ss and netstat spellings like ESTAB or TIME_WAIT work too) (line 6)`,
      `${shown(good.file)}: valid`,
      `${notYaml}:2: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      `${join(dir, 'missing.yaml')}: cannot read the lab file: ENOENT: no such file or directory, open '${join(dir, 'missing.yaml')}'`,
    ]);
  });

  it('--json gives each problem its line and field path', async () => {
    const broken = join(dir, 'broken-json.yaml');
    writeFileSync(broken, BROKEN);
    const r = await runCli(['lab', 'validate', '--json', broken]);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as { file: string; valid: boolean; problems: { line?: number; path?: string; message: string }[] }[];
    expect(out).toMatchObject([{ file: broken, valid: false, problems: [{ line: 4, path: 'hosts[0].kind' }, { line: 6, path: 'checks[0].state' }] }]);
  });
});
