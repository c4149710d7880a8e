/**
 * Timers that can wait longer than Node's setTimeout can hold.
 *
 * setTimeout stores its delay in a signed 32-bit int: anything above 2^31-1 ms (24.8 days) is
 * replaced by 1 ms with a TimeoutOverflowWarning, so a DNS refresh of 30 days or a DHCP T1 of
 * 50 days fired at once, and again, forever. A long wait is chained from steps that fit.
 */

/** The largest delay setTimeout honours, in milliseconds (2^31-1, about 24.8 days). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface LongTimer {
  /** Stops the timer; safe to call twice. */
  clear(): void;
  /** Lets the process exit while only this timer is pending (like Timeout.unref). */
  unref(): LongTimer;
}

/** setTimeout for any finite non-negative delay; chained through steps of at most MAX_TIMEOUT_MS. */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`timer delay must be a finite number of ms >= 0, got ${ms}`);
  const due = Date.now() + ms;
  let handle: NodeJS.Timeout | undefined;
  let unrefd = false;
  let cleared = false;
  const arm = (left: number): void => {
    handle = setTimeout(() => {
      const rest = due - Date.now();
      if (rest > 0) arm(rest);
      else fn();
    }, Math.min(Math.max(0, left), MAX_TIMEOUT_MS));
    if (unrefd) handle.unref();
  };
  arm(ms);
  const timer: LongTimer = {
    clear() {
      cleared = true;
      if (handle) clearTimeout(handle);
    },
    unref() {
      unrefd = true;
      if (!cleared && handle) handle.unref();
      return timer;
    },
  };
  return timer;
}

/** A promise that resolves after ms (any length); rejects with the signal's reason when aborted. */
export function sleepLong(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setLongTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      t.clear();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
