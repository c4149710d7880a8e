/**
 * What to do when stdout's reader goes away (`socketlab lab run 2 | head -1`). By default the
 * process exits quietly (exitWhenOutputCloses); a command with something to undo first (a lab's
 * namespaces and processes) registers here, and then owns the exit.
 */
const handlers = new Set<() => void>();
let fired = false;

/** Registers `fn` to run once when stdout closes; returns the unregister function. */
export function onOutputClosed(fn: () => void): () => void {
  handlers.add(fn);
  return () => handlers.delete(fn);
}

/** Called on EPIPE: true when a registered handler took over (it exits when done). */
export function outputClosed(): boolean {
  if (fired) return true;
  if (handlers.size === 0) return false;
  fired = true;
  for (const fn of [...handlers]) fn();
  return true;
}
