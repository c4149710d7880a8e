/** What every socketlab server's `start()` resolves with once it is listening. */
export interface Listener<A = BoundAddress> {
  readonly address: A;
  /** Awaitable, safe to call twice; destroys tracked connections. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface BoundAddress {
  host: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** Builds the close()/asyncDispose pair once, so a second close() waits for the first. */
export function onceClose(fn: () => Promise<void>, signal?: AbortSignal): Pick<Listener, 'close' | typeof Symbol.asyncDispose> {
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= fn());
  if (signal) {
    if (signal.aborted) void close();
    else signal.addEventListener('abort', () => void close(), { once: true });
  }
  return { close, [Symbol.asyncDispose]: close };
}

/**
 * Starts a server or socket and resolves on 'listening', rejects on 'error'; removes both
 * listeners either way (fastify's listenPromise), so later errors go to the caller's handlers.
 */
export function awaitListening(emitter: NodeJS.EventEmitter, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      emitter.removeListener('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      emitter.removeListener('error', onError);
      resolve();
    };
    emitter.once('error', onError);
    emitter.once('listening', onListening);
    start();
  });
}
