import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireStartLock, startLockHolder } from './state.js';
import { procStartTime } from '../core/process.js';

const dir = mkdtempSync(join(tmpdir(), 'sl-lock-'));
const lock = join(dir, 'x.lock');
const saved = process.env.SOCKETLAB_RUN_DIR;
beforeAll(() => {
  process.env.SOCKETLAB_RUN_DIR = dir;
});
afterAll(() => {
  if (saved === undefined) delete process.env.SOCKETLAB_RUN_DIR;
  else process.env.SOCKETLAB_RUN_DIR = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('the lab start lock', () => {
  it('is held until released: a second taker is told "already starting" (exit 2)', () => {
    const release = acquireStartLock('x');
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid} ${procStartTime(process.pid)}\n`);
    expect(startLockHolder('x')).toBe(process.pid);
    expect(() => acquireStartLock('x')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/lab x is already starting \(pid \d+\)/) }));
    release();
    expect(existsSync(lock)).toBe(false);
    acquireStartLock('x')();
  });

  it('cannot be left stuck by a killed owner: a dead pid, or a live pid with another start time (reused)', () => {
    const dead = spawnSync('true').pid!;
    for (const text of [`${dead} 12345\n`, `${process.pid} 1\n`]) {
      writeFileSync(lock, text);
      expect(startLockHolder('x')).toBeUndefined();
      const release = acquireStartLock('x');
      expect(readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
      release();
    }
    expect(existsSync(lock)).toBe(false);
  });

  it('release leaves a lock that is not ours', () => {
    const release = acquireStartLock('x');
    writeFileSync(lock, '1 1\n');
    release();
    expect(readFileSync(lock, 'utf8')).toBe('1 1\n');
    rmSync(lock);
  });
});
