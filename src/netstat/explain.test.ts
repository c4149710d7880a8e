import { describe, expect, it } from 'vitest';
import { explainNetstat } from './explain.js';
import { isLabError } from '../errors.js';

const flag = (input: string, typed: string) => explainNetstat(input).flags.find((f) => f.flag === typed)!;

describe('explainNetstat', () => {
  it('netstat -ano (Windows): -o is the PID there, timers on Linux; equivalent ss -tuanp', () => {
    const e = explainNetstat('netstat -ano');
    expect(e.style).toBe('windows');
    expect(e.flags.map((f) => f.flag)).toEqual(['-a', '-n', '-o']);
    expect(flag('netstat -ano', '-o')).toMatchObject({ differs: true, linuxForWindows: ['p'] });
    expect(flag('netstat -ano', '-o').windows).toMatch(/PID/);
    expect(flag('netstat -ano', '-o').linux).toMatch(/timers/);
    expect(flag('netstat -ano', '-a').differs).toBe(false);
    expect(e.linux).toEqual({ ss: 'ss -tuanp', netstat: 'netstat -tuanp', socketlab: 'socketlab netstat -a -n -p' });
  });

  it('-p: protocol on Windows (with its argument), program on Linux', () => {
    const win = explainNetstat('netstat -an -p tcp');
    expect(win.protocol).toBe('TCP');
    expect(win.flags.map((f) => f.flag)).toEqual(['-a', '-n', '-p tcp']);
    expect(win.linux.ss).toBe('ss -tan');
    expect(win.notes.join(' ')).toMatch(/Windows -p picks a protocol, Linux -p shows the program/);
    const lin = explainNetstat('netstat -tulpn');
    expect(lin.style).toBe('linux');
    expect(lin.linux.ss).toBe('ss -tulnp');
    expect(lin.flags.find((f) => f.letter === 'p')!.linux).toMatch(/PID\/Program/);
    expect(explainNetstat('-anp udpv6').linux.ss).toBe('ss -uan6');
  });

  it('-b needs admin on Windows and is -p on Linux; -f (FQDN) is Windows only', () => {
    const b = flag('netstat -b', '-b');
    expect(b.windows).toMatch(/Administrator/);
    expect(b.linux).toMatch(/no such flag/);
    expect(explainNetstat('netstat -b').linux.ss).toBe('ss -tup');
    const f = explainNetstat('-f');
    expect(f.flags[0]!.windows).toMatch(/FQDN/);
    expect(f.flags[0]!.linux).toMatch(/no such flag/);
    expect(f.linux.ss).toBe('ss -tu');
  });

  it('-t: TCP on Linux, offload state on Windows, and never "time"', () => {
    const t = flag('netstat -t', '-t');
    expect(t.linux).toMatch(/TCP/);
    expect(t.windows).toMatch(/offload/);
    expect(explainNetstat('netstat -t').notes.join(' ')).toMatch(/call -t "time"/);
  });

  it('/a /n slash style, upper case, intervals and long options', () => {
    const e = explainNetstat('NETSTAT.EXE /A /n 5');
    expect(e.style).toBe('windows');
    expect(e.flags.map((f) => f.letter)).toEqual(['a', 'n']);
    expect(e.interval).toBe(5);
    expect(e.notes.join(' ')).toMatch(/watch -n 5 ss -tuan/);
    const long = explainNetstat('netstat --tcp --listening --numeric');
    expect(long.style).toBe('linux');
    expect(long.linux.ss).toBe('ss -tln');
  });

  it('the notes\' own flag list (-a -b -f -n -p -l -t) reads as mixed and still gives one Linux command', () => {
    const e = explainNetstat('netstat -a -b -f -n -p -l -t');
    expect(e.style).toBe('mixed');
    expect(e.flags).toHaveLength(7);
    expect(e.linux.ss).toBe('ss -tanp');
    expect(e.notes.join(' ')).toMatch(/-a already includes the listening sockets/);
  });

  it('unknown letters are explained as unknown, not dropped', () => {
    const e = explainNetstat('netstat -az');
    expect(e.flags[1]).toMatchObject({ flag: '-z', known: false });
  });

  it.each(['', 'netstat', 'ls -la', 'netstat -a foo'])('rejects %j with a usage error', (input) => {
    let err: unknown;
    try {
      explainNetstat(input);
    } catch (e) {
      err = e;
    }
    expect(isLabError(err) && err.exitCode === 2).toBe(true);
  });
});
