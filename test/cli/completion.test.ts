import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';
import { describeWithPeers } from '../helpers/peers.js';
import { listLabFiles } from '../../src/lab/loader.js';
import { buildProgram } from '../../src/program.js';

/** `socketlab completion bash|zsh|fish`, loaded into the real shells. */
const work = mkdtempSync(join(tmpdir(), 'sl-completion-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// the scripts run `socketlab lab list` for lab names: put the built CLI on PATH as `socketlab`
const bin = join(work, 'bin');
mkdirSync(bin);
symlinkSync(CLI, join(bin, 'socketlab'));
const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` };
const labs = listLabFiles().map((l) => l.name);
// the program's own (visible) commands: a new command must appear in completion without a test edit
const program = await buildProgram();
const visible = (cmds: readonly { name(): string; _hidden?: boolean }[]): string[] => cmds.filter((c) => !c._hidden).map((c) => c.name());
const topCommands = visible(program.commands as never);
const labCommands = visible(program.commands.find((c) => c.name() === 'lab')!.commands as never);

function sh(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

async function script(shell: string): Promise<string> {
  const r = await runCli(['completion', shell]);
  expect(r.code, r.stderr).toBe(0);
  const file = join(work, `socketlab.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

describe('bash completion', () => {
  /** The candidates bash offers for `line` (the cursor at its end), as the completion function sets COMPREPLY. */
  async function complete(line: string): Promise<string[]> {
    const file = await script('bash');
    const words = line.split(' ');
    const r = await sh('bash', ['-c', `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _socketlab; printf '%s\\n' "\${COMPREPLY[@]}"`, '_', file, ...words]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('socketlab la<TAB> -> lab', async () => {
    expect(await complete('socketlab la')).toEqual(['lab']);
  });

  it('socketlab lab run <TAB> -> the lab names, from lab list', async () => {
    expect(labs.length).toBeGreaterThan(0);
    expect(await complete('socketlab lab run ')).toEqual(labs);
    expect(await complete('socketlab --log-level warn lab show 0')).toEqual(labs.filter((l) => l.startsWith('0')));
  });

  it('flags, choices and subcommands come from the program', async () => {
    expect(await complete('socketlab lab ')).toEqual(labCommands);
    expect(labCommands).toEqual(expect.arrayContaining(['list', 'show', 'run', 'up', 'check', 'down', 'export']));
    expect(await complete('socketlab dns serve --zo')).toEqual(['--zone', '--zone-name']);
    expect(await complete('socketlab lab run 01-ports --log-level w')).toEqual(['warn']);
    expect(await complete('socketlab --no')).toEqual(['--no-color']);
    expect(await complete('socketlab completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(await complete('socketlab dhcp s')).toEqual(['selfcheck', 'serve']);
  });
});

describeWithPeers('zsh completion', ['zsh'], () => {
  it('loads in zsh and completes commands and lab names', async () => {
    const file = await script('zsh');
    // compadd is only defined inside completion widgets: stand in for it to see the candidates
    const r = await sh('zsh', ['-fc', `compadd() { shift; print -rl -- "$@"; }; _files() {}; source "$1"; words=(socketlab la); CURRENT=2; _socketlab; words=(socketlab lab run ''); CURRENT=4; _socketlab`, '_', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([...topCommands, ...labs]);
    expect(topCommands).toEqual(expect.arrayContaining(['tour', 'ports', 'echo', 'connect', 'netstat', 'capture', 'dns', 'dhcp', 'netns', 'lab', 'completion']));
  });
});

describeWithPeers('fish completion', ['fish'], () => {
  it('loads in fish and completes commands and lab names', async () => {
    const file = await script('fish');
    const r = await sh('fish', ['-c', `source $argv[1]; complete -C 'socketlab la'; complete -C 'socketlab lab run '`, file]);
    expect(r.code, r.stderr).toBe(0);
    const got = r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
    expect(got).toEqual(['lab', ...labs]);
  });
});
