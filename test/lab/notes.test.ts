import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('lab run ends with the notes corrections box', () => {
  it('prints where the notes differ, and --json carries the same items', async () => {
    const text = await runCli(['lab', 'run', '04-udp-vs-tcp', '--var', 'port=0'], { timeoutMs: 90_000 });
    expect(text.code, text.stderr).toBe(0);
    const box = text.stdout.slice(text.stdout.indexOf('The notes say / What really happens'));
    expect(box).toMatch(/notes: +UDP is "connectionless" and "faster than TCP"/);
    expect(box).toMatch(/really: +a UDP socket on which the program called connect\(\) shows ESTAB/);
    const json = await runCli(['lab', 'run', '04-udp-vs-tcp', '--var', 'port=0', '--json'], { timeoutMs: 90_000 });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.notesDiffer.length).toBeGreaterThanOrEqual(2);
    expect(report.notesDiffer[1].really).toMatch(/ESTAB/);
  });
});
