import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram, commandWord } from './program.js';

const argv = (...words: string[]): string[] => ['node', 'socketlab', ...words];
const names = (p: Command): string[] => p.commands.map((c) => c.name());

describe('the command word', () => {
  it('is the first word after the global options and their values', () => {
    expect(commandWord(argv('echo', '--port', '0'))).toBe('echo');
    expect(commandWord(argv('--log-file', 'x.log', '--log-level', 'warn', '--no-color', 'dns', 'serve'))).toBe('dns');
    expect(commandWord(argv('--log-level=debug', 'echo'))).toBe('echo');
  });

  it('is none for the bare program and for the program help before a command', () => {
    expect(commandWord(argv())).toBeUndefined();
    expect(commandWord(argv('--help', 'echo'))).toBeUndefined();
    expect(commandWord(argv('-V'))).toBeUndefined();
  });
});

describe('buildProgram', () => {
  it('registers only the named command: a server does not carry every module (its heap sets the cost of each full GC)', async () => {
    expect(names(await buildProgram(argv('echo', '--tcp')))).toEqual(['echo']);
    expect(names(await buildProgram(argv('--log-file', 'x.log', 'dns', 'serve')))).toEqual(['dns']);
    expect(names(await buildProgram(argv('docker', 'clean')))).toEqual(['image', 'docker']);
  });

  it('registers every command, in help order, without a command, for completion and for an unknown name', async () => {
    const all = names(await buildProgram());
    expect(all).toEqual(['tour', 'ports', 'echo', 'connect', 'netstat', 'capture', 'dns', 'dhcp', 'netns', 'lab', 'completion', 'image', 'docker']);
    for (const words of [[], ['--help', 'echo'], ['completion', 'bash'], ['help', 'echo'], ['ecko']]) expect(names(await buildProgram(argv(...words)))).toEqual(all);
  });

  it('registers under each name of the table exactly the commands that name loads', async () => {
    // a command added to a register function but not to the table would be missing when named
    const all = await buildProgram();
    for (const name of names(all)) {
      if (name === 'completion') continue;
      expect(names(await buildProgram(argv(name)))).toContain(name);
    }
  });
});
