import { EventEmitter } from 'node:events';
import { LabError } from '../errors.js';
import type { EventMatch, NetEvent } from './types.js';

function matches(e: NetEvent, m: EventMatch): boolean {
  if (typeof m === 'function') return m(e);
  return Object.entries(m).every(([k, v]) => e[k] === v);
}

/**
 * The network events of one server or client, as the CLI logs them. Kept in `records` for
 * assertions, emitted as `'event'`, and iterable (`for await`) until the server closes.
 */
export class EventLog extends EventEmitter<{ event: [NetEvent]; end: [] }> implements AsyncIterable<NetEvent> {
  readonly records: NetEvent[] = [];
  #ended = false;

  /** The first event matching `m` so far. */
  find(m: EventMatch): NetEvent | undefined {
    return this.records.find((e) => matches(e, m));
  }

  filter(m: EventMatch): NetEvent[] {
    return this.records.filter((e) => matches(e, m));
  }

  /** The first event matching `m`, already seen or still to come; rejects after timeoutMs (default 10 s). */
  waitFor(m: EventMatch, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<NetEvent> {
    const seen = this.find(m);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('end', onEnd);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onEvent = (e: NetEvent): void => {
        if (!matches(e, m)) return;
        done();
        resolve(e);
      };
      const onEnd = (): void => {
        done();
        reject(new LabError('LAB_ERR_TIMEOUT', `no matching event before the server closed (${describe(m)})`));
      };
      const onAbort = (): void => {
        done();
        reject(opts.signal!.reason);
      };
      const ms = opts.timeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        done();
        reject(new LabError('LAB_ERR_TIMEOUT', `no matching event within ${ms} ms (${describe(m)}); seen: ${this.records.map((e) => e.event).join(', ') || 'none'}`));
      }, ms);
      this.on('event', onEvent);
      if (this.#ended) return onEnd();
      this.once('end', onEnd);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Past events first, then new ones as they happen, until the server or client is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<NetEvent> {
    let i = 0;
    for (;;) {
      while (i < this.records.length) yield this.records[i++]!;
      if (this.#ended) return;
      await new Promise<void>((r) => {
        const wake = (): void => {
          this.off('event', wake);
          this.off('end', wake);
          r();
        };
        this.on('event', wake);
        this.on('end', wake);
      });
    }
  }

  /** @internal */
  push(e: NetEvent): void {
    if (this.#ended) return;
    this.records.push(e);
    this.emit('event', e);
  }

  /** @internal no more events: iterators finish, waitFor rejects. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.emit('end');
  }
}

function describe(m: EventMatch): string {
  return typeof m === 'function' ? 'predicate' : JSON.stringify(m);
}
