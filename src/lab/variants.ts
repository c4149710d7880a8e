/**
 * Per-student variants: a seed (`--seed N`, or `--student ID` hashed to one) picks the values of
 * the variables the lab file declares under `variants:` (a port from a range, a name from a list,
 * a MAC), deterministically. Everything that uses `${var}` — services, steps, checks, question
 * answers — follows, so two students' right answers differ. Without a seed the lab's own `vars`
 * stay as they are.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { describeValue, dictionary, mapping, text } from './fields.js';
import { invalidArgument } from '../errors.js';

const RANGE = 'must be [first, last] integers with first <= last, e.g. [9000, 9999]';
const int = z.number({ error: RANGE }).int({ error: RANGE });

const variant = z.union([
  mapping({ range: z.tuple([int, int], { error: RANGE }).refine(([a, b]) => a <= b, { error: RANGE }).describe('an integer from first to last (a port, a host number)') }),
  mapping({ choose: z.array(z.union([z.string(), z.number()]).transform(String)).min(1, { error: 'must list at least one value' }).describe('one of these values (zone names, words)') }),
  mapping({ mac: text({ re: /^([0-9a-f]{2}:){0,5}[0-9a-f]{2}$/, why: 'must be the first octets of a MAC in lowercase hex, e.g. 02:42' }).describe('a MAC starting with these octets (02: locally administered)') }),
], { error: (iss) => `must be one of { range: [first, last] }, { choose: [...] }, { mac: "02:42" }, got ${describeValue(iss.input)}` });

/** `variants:` of the lab file: variable name -> how its value varies with the seed. */
export const variantsField = () =>
  dictionary(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), variant, 'variable names are letters, digits and _')
    .describe('variables whose values follow --seed / --student (each also needs a default under vars)')
    .default({});

export type VariantSpec = z.output<typeof variant>;

/** What picked this run's variant: the seed, and the student it was hashed from. */
export interface Variant {
  seed: number;
  student?: string;
}

/** A student id as a seed: the first 32 bits of its SHA-256 (stable across machines and runs). */
export function seedOfStudent(student: string): number {
  const id = student.trim();
  if (!id) throw invalidArgument('--student: expected a non-empty student id, e.g. --student alice');
  return createHash('sha256').update(id).digest().readUInt32BE(0);
}

/** `--seed N`: a non-negative integer below 2^32. */
export function parseSeed(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n > 0xffffffff) throw invalidArgument(`--seed ${text}: expected an integer from 0 to 4294967295`);
  return n;
}

/** The variant from --seed / --student (both: the seed wins, the student is recorded); none: undefined. */
export function variantOf(opts: { seed?: string | number; student?: string }): Variant | undefined {
  if (opts.seed === undefined && opts.student === undefined) return undefined;
  const seed = opts.seed !== undefined ? (typeof opts.seed === 'number' ? opts.seed : parseSeed(opts.seed)) : seedOfStudent(opts.student!);
  return { seed, ...(opts.student !== undefined && { student: opts.student.trim() }) };
}

function bytesFor(seed: number, name: string): Buffer {
  return createHash('sha256').update(`socketlab-variant/${seed}/${name}`).digest();
}

/** The values of the declared variants for a seed; each variable is drawn independently of the others. */
export function variantVars(variants: Record<string, VariantSpec>, seed: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(variants)) {
    const b = bytesFor(seed, name);
    const n = b.readUIntBE(0, 6);
    if ('range' in v) out[name] = String(v.range[0] + (n % (v.range[1] - v.range[0] + 1)));
    else if ('choose' in v) out[name] = v.choose[n % v.choose.length]!;
    else {
      const head = v.mac.split(':');
      const tail = [...b.subarray(6, 6 + 6 - head.length)].map((x) => x.toString(16).padStart(2, '0'));
      out[name] = [...head, ...tail].join(':');
    }
  }
  return out;
}
