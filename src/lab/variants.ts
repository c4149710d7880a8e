/**
 * Per-student variants: a seed (`--seed N`, or `--student ID` hashed to one) picks the values of
 * the variables the lab file declares under `variants:` (a port from a range, a subnet inside a
 * range, a host address inside a subnet, a zone name, a MAC), deterministically. Everything that
 * uses `${var}` — segments, routes, services, steps, checks, question answers, the lab's files —
 * follows, so two students' right answers differ. Without a seed the lab's own `vars` stay as they are.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { describeValue, dictionary, mapping, text } from './fields.js';
import { LabError, invalidArgument } from '../errors.js';
import { intToIp, parseCidr, type Cidr } from '../core/address.js';
import { bindVars, fill } from './template.js';

const RANGE = 'must be [first, last] integers with first <= last, e.g. [9000, 9999]';
const int = z.number({ error: RANGE }).int({ error: RANGE });
const range = () => z.tuple([int, int], { error: RANGE }).refine(([a, b]) => a <= b, { error: RANGE });
const CIDR_RE = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;
const cidr = (why: string) => text({ re: CIDR_RE, why });

const variant = z.union([
  mapping({ range: range().describe('an integer from first to last (a port, a host number)') }),
  mapping({ choose: z.array(z.union([z.string(), z.number()]).transform(String)).min(1, { error: 'must list at least one value' }).describe('one of these values (zone names, words)') }),
  mapping({ mac: text({ re: /^([0-9a-f]{2}:){0,5}[0-9a-f]{2}$/, why: 'must be the first octets of a MAC in lowercase hex, e.g. 02:42' }).describe('a MAC starting with these octets (02: locally administered)') }),
  mapping({
    subnet: mapping({
      in: cidr('must be an IPv4 subnet, e.g. 10.0.0.0/16').describe('the range the subnet is taken from'),
      prefix: z.number({ error: 'must be a prefix length from 8 to 30' }).int().min(8).max(30).describe('its prefix length, e.g. 24'),
    }).refine((s) => s.prefix >= Number(s.in.split('/')[1]), { error: 'prefix must be at least the prefix of in' }).describe('a subnet inside a range (10.0.37.0/24 of 10.0.0.0/16), distinct from the lab\'s other subnets; ${name.1}, ${name.re} ... derive from it'),
  }),
  mapping({
    address: mapping({
      in: text().describe('the subnet: a CIDR (10.0.6.0/24) or a subnet variable (${lan})'),
      hosts: range().describe('host numbers to draw from, e.g. [10, 250]; default: every host of the subnet').optional(),
    }).describe('a host address inside a subnet, distinct from the other variables\' addresses'),
  }),
  mapping({ name: mapping({ under: text({ re: /^[a-z0-9-]+(\.[a-z0-9-]+)*$/, why: 'must be a domain such as example or example.com' }).describe('the parent domain (RFC 2606: example, test)') }).describe('a DNS name: a pronounceable label under a parent, e.g. bakimo.example') }),
], { error: (iss) => `must be one of { range: [first, last] }, { choose: [...] }, { mac: "02:42" }, { subnet: { in, prefix } }, { address: { in, hosts } }, { name: { under } }, got ${describeValue(iss.input)}` });

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

/** The bytes of one draw; a later attempt (after a collision) hashes its number in. */
function bytesFor(seed: number, name: string, attempt: number): Buffer {
  return createHash('sha256').update(attempt === 0 ? `socketlab-variant/${seed}/${name}` : `socketlab-variant/${seed}/${name}/${attempt}`).digest();
}

const SYLLABLES = { c: 'bdfgkmnprstvz', v: 'aeiou' };

function draw(v: VariantSpec, b: Buffer, scope: Record<string, string>, name: string): string {
  const n = b.readUIntBE(0, 6);
  if ('range' in v) return String(v.range[0] + (n % (v.range[1] - v.range[0] + 1)));
  if ('choose' in v) return v.choose[n % v.choose.length]!;
  if ('mac' in v) {
    const head = v.mac.split(':');
    const tail = [...b.subarray(6, 6 + 6 - head.length)].map((x) => x.toString(16).padStart(2, '0'));
    return [...head, ...tail].join(':');
  }
  if ('subnet' in v) {
    const outer = parseCidr(v.subnet.in);
    const count = 2 ** (v.subnet.prefix - outer.prefix);
    const size = 2 ** (32 - v.subnet.prefix);
    return `${intToIp(outer.network + (n % count) * size)}/${v.subnet.prefix}`;
  }
  if ('address' in v) {
    const c = subnetOf(v.address.in, scope, name);
    const [lo, hi] = v.address.hosts ?? [1, c.broadcast - c.network - 1];
    return intToIp(c.network + lo + (n % (hi - lo + 1)));
  }
  // three consonant-vowel syllables: easy to read aloud and to type, 2197 * 125 of them
  const label = [0, 1, 2].map((i) => SYLLABLES.c[b[6 + 2 * i]! % SYLLABLES.c.length]! + SYLLABLES.v[b[7 + 2 * i]! % SYLLABLES.v.length]!).join('');
  return `${label}.${v.name.under}`;
}

function subnetOf(text: string, scope: Record<string, string>, name: string): Cidr {
  const s = fill(text, scope, `variants.${name}.address.in`);
  if (!CIDR_RE.test(s)) throw new LabError('LAB_ERR_LAB_FILE', `variants.${name}.address.in: "${s}" is not a subnet such as 10.0.6.0/24`);
  return parseCidr(s);
}

/** Whether a drawn value collides with one already taken: the same value, or an overlapping subnet. */
function collides(value: string, taken: string[]): boolean {
  if (!CIDR_RE.test(value)) return taken.includes(value);
  const a = parseCidr(value);
  return taken.some((t) => {
    if (CIDR_RE.test(t)) {
      const b = parseCidr(t);
      return a.network <= b.broadcast && b.network <= a.broadcast;
    }
    return false;
  });
}

/**
 * The values of the declared variants for a seed. Subnets are drawn first (addresses and the
 * other vars may refer to them), then the rest in the file's order. No two variables get the same
 * value (nor overlapping subnets), and none takes the value of a var that does not vary (a
 * gateway `${lan.1}`): a collision draws again, deterministically. `defaults` are the lab's vars.
 */
export function variantVars(variants: Record<string, VariantSpec>, seed: number, defaults: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Object.entries(variants);
  const fixedNames = Object.keys(defaults).filter((k) => !(k in variants));
  const pick = (name: string, v: VariantSpec, taken: string[]): void => {
    const scope = bindVars({ ...defaults, ...out });
    for (let attempt = 0; attempt <= 200; attempt++) {
      const value = draw(v, bytesFor(seed, name, attempt), scope, name);
      if (!collides(value, taken)) {
        out[name] = value;
        return;
      }
    }
    throw new LabError('LAB_ERR_LAB_FILE', `variants.${name}: no value left that differs from the other variables' (widen its range)`);
  };
  // subnets first, apart from each other and from the subnets that do not vary
  const fixedSubnets = fixedNames.map((k) => defaults[k]!).filter((x) => CIDR_RE.test(x));
  for (const [name, v] of entries) if ('subnet' in v) pick(name, v, [...Object.values(out), ...fixedSubnets]);
  // then the rest, apart from each other and from the vars that do not vary, as the subnets made them
  const bound = bindVars({ ...defaults, ...out });
  const fixed = fixedNames.map((k) => bound[k]!).filter((x) => !x.includes('${'));
  for (const [name, v] of entries) if (!('subnet' in v)) pick(name, v, [...Object.values(out), ...fixed]);
  return out;
}
