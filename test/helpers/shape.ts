import { expect } from 'vitest';

/**
 * A documented JSON shape: a typeof name ('string', 'number', 'boolean'), 'null', a union like
 * 'number|null', an object of shapes, or a one-element array (every item has that shape).
 */
export type Shape = string | { [key: string]: Shape } | [Shape];

/** Asserts that `value` has `shape`, naming the path of the first mismatch. */
export function expectShape(value: unknown, shape: Shape, path = '$'): void {
  if (typeof shape === 'string') {
    const kinds = shape.split('|');
    const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    expect(kinds, `${path}: expected ${shape}, got ${kind}`).toContain(kind);
    return;
  }
  if (Array.isArray(shape)) {
    expect(Array.isArray(value), `${path}: expected an array`).toBe(true);
    (value as unknown[]).forEach((v, i) => expectShape(v, shape[0], `${path}[${i}]`));
    return;
  }
  expect(typeof value === 'object' && value !== null && !Array.isArray(value), `${path}: expected an object`).toBe(true);
  for (const [key, sub] of Object.entries(shape)) {
    const optional = key.endsWith('?');
    const k = optional ? key.slice(0, -1) : key;
    const v = (value as Record<string, unknown>)[k];
    if (optional && v === undefined) continue;
    expect(k in (value as object), `${path}.${k}: missing`).toBe(true);
    expectShape(v, sub, `${path}.${k}`);
  }
}
