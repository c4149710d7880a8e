import type { EventLog } from './events.js';
import type { Address, Service } from './types.js';

/** close() once, on abort too, and the event log ends after it. */
export function service<T extends object>(address: Address, events: EventLog, closeFn: () => Promise<void>, signal: AbortSignal | undefined, extra: T): Service & NoInfer<T> {
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= closeFn().finally(() => events.end()));
  if (signal) {
    if (signal.aborted) void close();
    else signal.addEventListener('abort', () => void close(), { once: true });
  }
  return { ...extra, address, events, close, [Symbol.asyncDispose]: close };
}

export function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
}

