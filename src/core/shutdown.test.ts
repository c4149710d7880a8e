import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Each test gets a fresh coordinator (module state: registrations, "already stopping").
let sd: typeof import('./shutdown.js');
let exit: ReturnType<typeof vi.spyOn>;
const base = { SIGINT: 0, SIGTERM: 0 };
let before: Record<'SIGINT' | 'SIGTERM', Function[]>;
const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

beforeEach(async () => {
  vi.resetModules();
  sd = await import('./shutdown.js');
  exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
  base.SIGINT = process.listenerCount('SIGINT');
  base.SIGTERM = process.listenerCount('SIGTERM');
  before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
});
afterEach(() => {
  exit.mockRestore();
  for (const s of ['SIGINT', 'SIGTERM'] as const) for (const l of process.listeners(s)) if (!before[s].includes(l)) process.off(s, l as () => void);
});

describe('shutdown coordinator', () => {
  it('runs every cleanup, then exits with 128 + signal when nobody holds', async () => {
    const ran: string[] = [];
    const offA = sd.onShutdown(async () => void ran.push('a'));
    const offB = sd.onShutdown((sig) => void ran.push(`b:${sig}`));
    expect(process.listenerCount('SIGTERM')).toBe(base.SIGTERM + 1);
    process.emit('SIGTERM');
    await flush();
    expect(ran.sort()).toEqual(['a', 'b:SIGTERM']);
    expect(exit).toHaveBeenCalledWith(143);
    offA();
    offB();
    expect(process.listenerCount('SIGTERM')).toBe(base.SIGTERM);
  });

  it('leaves the exit to a holder, and a second signal exits at once with 130', async () => {
    const closed = vi.fn();
    sd.onShutdown(closed);
    const sig = sd.untilShutdown(async () => undefined);
    process.emit('SIGINT');
    await expect(sig).resolves.toBe('SIGINT');
    await flush();
    expect(closed).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    process.emit('SIGINT');
    expect(exit).toHaveBeenCalledWith(130);
    expect(closed).toHaveBeenCalledTimes(1);
  });

  it('unregistering the last cleanup removes the signal handlers (default Ctrl-C again)', () => {
    const off = sd.onShutdown(() => undefined);
    expect(process.listenerCount('SIGINT')).toBe(base.SIGINT + 1);
    off();
    expect(process.listenerCount('SIGINT')).toBe(base.SIGINT);
  });
});
