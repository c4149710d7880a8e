import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMEOUT_MS, setLongTimeout, sleepLong } from './timers.js';

describe('setLongTimeout', () => {
  afterEach(() => vi.useRealTimers());

  it('waits past the 24.8-day setTimeout limit instead of firing at once', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const fortyNineDays = 49.7 * 24 * 3600 * 1000;
    setLongTimeout(fn, fortyNineDays);
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMEOUT_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(fortyNineDays - MAX_TIMEOUT_MS - 1000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('clear() stops a chained timer', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = setLongTimeout(fn, MAX_TIMEOUT_MS * 3);
    vi.advanceTimersByTime(MAX_TIMEOUT_MS + 10);
    t.clear();
    t.clear();
    vi.advanceTimersByTime(MAX_TIMEOUT_MS * 3);
    expect(fn).not.toHaveBeenCalled();
  });

  it('rejects a delay it cannot honour', () => {
    expect(() => setLongTimeout(() => {}, Number.POSITIVE_INFINITY)).toThrow(/finite/);
    expect(() => setLongTimeout(() => {}, -1)).toThrow(/>= 0/);
  });

  it('sleepLong resolves, and rejects on abort', async () => {
    await expect(sleepLong(1)).resolves.toBeUndefined();
    const ac = new AbortController();
    const p = sleepLong(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});
