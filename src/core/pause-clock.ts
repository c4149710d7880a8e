/**
 * A wall clock that stops while the process is stopped by SIGTSTP (what `lab run --step` sends to
 * pause a lab, and what Ctrl-Z sends), for lease timers that must not run out during a pause.
 *
 * Node's timers use the monotonic clock, which keeps running while a process is stopped: after a
 * 30 s stop every timer that fell due fires at once on SIGCONT. So timers on this clock re-check
 * the clock when they fire and sleep again for what is left. The SIGTSTP handler marks the clock
 * stopped before stopping the process; on resume the timers phase runs before the SIGCONT handler,
 * so a timer that fires then sees the frozen clock, not the time spent stopped.
 */
import { MAX_TIMEOUT_MS } from './timers.js';

let pausedTotal = 0;
let stoppedAt: number | undefined;
let installed = false;

/** Installs the SIGTSTP/SIGCONT handlers (once per process). */
export function installPauseClock(): void {
  if (installed) return;
  installed = true;
  process.on('SIGTSTP', () => {
    stoppedAt ??= Date.now();
    process.kill(process.pid, 'SIGSTOP');
  });
  process.on('SIGCONT', () => {
    if (stoppedAt === undefined) return;
    pausedTotal += Date.now() - stoppedAt;
    stoppedAt = undefined;
  });
}

/** Milliseconds since the epoch, minus the time this process spent stopped. */
export function pauseNow(): number {
  return (stoppedAt ?? Date.now()) - pausedTotal;
}

/** Resolves once `ms` of pause-clock time have passed (or at once when signal aborts). */
export function pauseSleep(ms: number, signal?: AbortSignal): Promise<void> {
  const due = pauseNow() + ms;
  return new Promise((resolve) => {
    let t: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (t) clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const arm = (): void => {
      const left = due - pauseNow();
      if (left <= 0) return done();
      // a stopped clock: look again soon (SIGCONT is handled after the timers phase)
      // (and never more than setTimeout holds: a longer wait re-arms, it does not fire at once)
      t = setTimeout(arm, stoppedAt !== undefined ? 50 : Math.min(left, MAX_TIMEOUT_MS));
    };
    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', done, { once: true });
    arm();
  });
}
