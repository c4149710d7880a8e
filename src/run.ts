import { untilShutdown } from './core/shutdown.js';
import type { Listener } from './listener.js';

/**
 * Keeps a server in the foreground until SIGINT/SIGTERM (through the shutdown coordinator), then
 * closes it cleanly. A second signal exits at once, as a learner pressing Ctrl-C twice expects.
 */
export async function serveUntilSignal(listeners: Listener<unknown>[], onClose?: () => void): Promise<void> {
  await untilShutdown(async () => {
    await Promise.allSettled(listeners.map((l) => l.close()));
    onClose?.();
  });
}

/** Names the process so `ss -p` and `netstat -p` show what each socket belongs to. */
export function setProcessTitle(title: string): void {
  try {
    process.title = title;
  } catch {
    // some platforms refuse; the socket table then shows `node`
  }
}
