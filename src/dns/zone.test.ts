import { describe, expect, it } from 'vitest';
import { inZone, serialGreater } from './zone.js';

describe('serialGreater (RFC 1982 serial number arithmetic, SERIAL_BITS = 32)', () => {
  it('orders serials across the 2^32 wrap, as a secondary must when the primary wraps', () => {
    expect(serialGreater(2026112102, 2026112101)).toBe(true);
    expect(serialGreater(2026112101, 2026112102)).toBe(false);
    expect(serialGreater(5, 5)).toBe(false);
    // wrapped: 1 comes after 0xffffffff, and 0xffffffff is older than 1
    expect(serialGreater(1, 0xffffffff)).toBe(true);
    expect(serialGreater(0xffffffff, 1)).toBe(false);
    expect(serialGreater(0, 0xffffffff)).toBe(true);
    // largest step forward is 2^31 - 1
    expect(serialGreater(0x7fffffff, 0)).toBe(true);
    // exactly 2^31 apart is undefined (RFC 1982 3.2): neither is greater, so no transfer either way
    expect(serialGreater(0x80000000, 0)).toBe(false);
    expect(serialGreater(0, 0x80000000)).toBe(false);
  });
});

describe('inZone', () => {
  it('matches at label boundaries only, honouring escaped dots', () => {
    expect(inZone('example.com', 'example.com')).toBe(true);
    expect(inZone('www.example.com', 'example.com')).toBe(true);
    expect(inZone('wwwexample.com', 'example.com')).toBe(false);
    expect(inZone('a\\.example.com', 'example.com')).toBe(false);
    expect(inZone('a\\\\.example.com', 'example.com')).toBe(true);
    expect(inZone('anything', '')).toBe(true);
  });
});
