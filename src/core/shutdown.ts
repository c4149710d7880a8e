/**
 * The one place that listens for SIGINT/SIGTERM. Commands and resources register a cleanup here
 * instead of adding their own process.on('SIGINT'): on the first signal every cleanup starts at
 * once (newest first) and they settle side by side; then, unless a registration `holds`
 * (a foreground command that returns on its own once its cleanup is done), the process exits with
 * 128 + the signal number. A second signal while cleaning up exits at once (130), as a learner
 * pressing Ctrl-C twice expects.
 */

type Cleanup = (signal: NodeJS.Signals) => unknown;
interface Entry {
  cleanup: Cleanup;
  hold: boolean;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15 };
const entries = new Set<Entry>();
let stopping = false;

const handlers = Object.fromEntries(SIGNALS.map((s) => [s, () => onSignal(s)])) as Record<(typeof SIGNALS)[number], () => void>;

function onSignal(sig: (typeof SIGNALS)[number]): void {
  if (stopping) {
    process.exit(130);
    return;
  }
  stopping = true;
  const now = [...entries].reverse();
  const held = now.some((e) => e.hold);
  void Promise.allSettled(now.map(async (e) => e.cleanup(sig))).then(() => {
    if (!held) process.exit(128 + SIGNAL_NUMBERS[sig]);
  });
}

/**
 * Runs `cleanup` on the first SIGINT/SIGTERM. `hold`: the caller exits by itself after its cleanup
 * (a server loop that returns); without it, the coordinator exits once every cleanup has settled.
 * Returns the unregistration (the signal handlers go when nothing is registered).
 */
export function onShutdown(cleanup: Cleanup, opts: { hold?: boolean } = {}): () => void {
  const entry: Entry = { cleanup, hold: opts.hold ?? false };
  if (entries.size === 0) for (const s of SIGNALS) process.on(s, handlers[s]);
  entries.add(entry);
  return () => {
    if (!entries.delete(entry) || entries.size > 0) return;
    for (const s of SIGNALS) process.off(s, handlers[s]);
  };
}

/** Resolves on the first SIGINT/SIGTERM once `cleanup` has settled; the caller then returns normally. */
export function untilShutdown(cleanup: Cleanup = () => undefined): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    onShutdown(async (sig) => {
      try {
        await cleanup(sig);
      } finally {
        resolve(sig);
      }
    }, { hold: true });
  });
}

/** Runs `fn` on SIGHUP (reload, re-check) instead of the default, which terminates; returns the unregistration. */
export function onHangup(fn: () => void): () => void {
  process.on('SIGHUP', fn);
  return () => process.off('SIGHUP', fn);
}
