import { describe, expect, it } from 'vitest';
import { literalLookup } from './server.js';

type Cb = (err: (Error & { code?: string }) | null, address: string, family: number) => void;
const ask = (lookup: ReturnType<typeof literalLookup>, address: string): { err?: string; family: number } => {
  let out: { err?: string; family: number } = { family: -1 };
  (lookup as unknown as (a: string, o: unknown, cb: Cb) => void)(address, {}, (err, _a, family) => (out = { ...(err && { err: err.code }), family }));
  return out;
};

describe('the UDP socket lookup', () => {
  it('answers literals with their family, remembering the last, and refuses names every time', () => {
    const lookup = literalLookup();
    expect(ask(lookup, '127.0.0.1')).toEqual({ family: 4 });
    expect(ask(lookup, '127.0.0.1')).toEqual({ family: 4 });
    expect(ask(lookup, 'localhost')).toEqual({ err: 'EINVAL', family: 0 });
    expect(ask(lookup, 'localhost')).toEqual({ err: 'EINVAL', family: 0 });
    expect(ask(lookup, '::1')).toEqual({ family: 6 });
    expect(ask(lookup, '127.0.0.1')).toEqual({ family: 4 });
    expect(ask(lookup, '')).toEqual({ err: 'EINVAL', family: 0 });
    expect(ask(literalLookup(), '')).toEqual({ err: 'EINVAL', family: 0 });
  });
});
