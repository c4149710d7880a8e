/**
 * The field types a lab file is made of, as zod schemas that carry the course's error messages
 * ("must be an integer from 0 to 65535 (or a ${var}), got string "seven""). schema.ts and every
 * check kind (checks/<kind>.ts) build their fields from these, so one kind of value reads the same
 * everywhere and the messages stay as learners already know them.
 */
import * as z from 'zod';

/** How a value is named in a message: `string "x"`, `number 3`, `a list`, `a mapping`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A key with no value (`title:`) reads as a missing one in messages. */
const missing = (v: unknown): boolean => v === undefined || v === null;

const TEMPLATE_RE = /\$\{[a-zA-Z0-9_.-]+\}/;
export const NAME_RE = /^[a-z][a-z0-9-]{0,14}$/;

/** A non-empty string, optionally matching `re` (then the message is `"value" why`). */
export function text(opts: { re?: RegExp; why?: string } = {}) {
  const type = (iss: { input?: unknown }) => (missing(iss.input) ? 'is required' : `must be a non-empty string, got ${describeValue(iss.input)}`);
  const s = z.string({ error: type }).regex(/\S/, { error: type, abort: true });
  return opts.re ? s.regex(opts.re, { error: (iss) => `${JSON.stringify(iss.input)} ${opts.why ?? `must match ${opts.re}`}` }) : s;
}

/** A short lowercase name (host, service, segment); the hint says what a name looks like. */
export const shortName = (why = 'must be a short lowercase name') => text({ re: NAME_RE, why });

/** A command line: a string, or a list of words joined by spaces (YAML flow lists, folded commands). */
export function commandLine() {
  const msg = (iss: { input?: unknown }) => (missing(iss.input) ? 'is required' : `must be a non-empty string, got ${describeValue(iss.input)}`);
  return z
    .union([text(), z.number({ error: msg }), z.array(z.union([z.string(), z.number()], { error: msg }), { error: msg }).min(1, { error: msg })], { error: msg })
    .transform((v) => (Array.isArray(v) ? v.map(String).join(' ') : String(v)));
}

/** An integer in [min, max], or a string holding a `${var}` filled in when the lab runs. */
export function templatedInt(min: number, max: number) {
  const msg = (iss: { input?: unknown }) => (missing(iss.input) ? 'is required' : `must be an integer from ${min} to ${max} (or a \${var}), got ${describeValue(iss.input)}`);
  return z.union([z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, { error: msg }), z.string({ error: msg }).regex(TEMPLATE_RE, { error: msg })], { error: msg });
}

/** A count of things seen (sockets, log records). */
export const count = () => templatedInt(0, 100_000).optional();

/** A TCP/UDP port, or a `${var}`. */
export const port = () => templatedInt(0, 65535).describe('a port number, or a ${var} such as ${port} or ${echo.port}');

/** An expected exit code: a plain number (the runner compares it as is; a `${var}` here was dropped or never matched). */
export function exitCode() {
  const msg = (iss: { input?: unknown }) =>
    `must be a number from 0 to 255, got ${describeValue(iss.input)}${typeof iss.input === 'string' && TEMPLATE_RE.test(iss.input) ? ' (${var} is not supported here)' : ''}`;
  return z.number({ error: msg }).int({ error: msg }).min(0, { error: msg }).max(255, { error: msg });
}

export const bool = () => z.boolean({ error: (iss) => `must be true or false, got ${describeValue(iss.input)}` });

/** One of a few words; a missing one says which words there are. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (iss) => (iss.input === undefined ? `is required; one of ${values.join(', ')}` : `must be one of ${values.join(', ')}, got ${describeValue(iss.input)}`) });
}

/** A regular expression (tried with the m flag, as the runner uses it). */
export function regex() {
  return text().superRefine((s, ctx) => {
    try {
      new RegExp(s, 'm');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not a valid regular expression: ${(err as Error).message}`, input: s });
    }
  });
}

/** A list; `required` lists say so when missing. */
export function list<T extends z.ZodType>(item: T, opts: { required?: boolean } = {}) {
  return z.array(item, { error: (iss) => (missing(iss.input) && opts.required ? 'is required (a list)' : `must be a list, got ${describeValue(iss.input)}`) });
}

const mappingMessage = (iss: { input?: unknown }): string => (missing(iss.input) ? 'is required' : `must be a mapping (key: value), got ${describeValue(iss.input)}`);

/**
 * A mapping with known fields. An unknown field is reported at its own path with the fields there
 * are (fieldIssues expands zod's one unrecognized_keys issue into one per key).
 */
export function mapping<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown field; expected one of ${known}` : mappingMessage(iss)) });
}

/** A mapping from names the author chooses to values (vars, a log check's `where`). */
export function dictionary<V extends z.ZodType>(key: z.ZodType<string, string>, value: V, keyMessage?: string) {
  return z.record(key, value, { error: (iss) => (iss.code === 'invalid_key' && keyMessage ? keyMessage : mappingMessage(iss)) });
}

/** `${name}` values: name -> string or number (read as text). */
export function varDictionary() {
  const value = z.union([z.string(), z.number()], { error: (iss) => `must be a string or number, got ${describeValue(iss.input)}` }).transform(String);
  return dictionary(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), value, 'variable names are letters, digits and _');
}

/** One validation problem: a field path and what is wrong with it. */
export interface SchemaIssue {
  path: (string | number)[];
  message: string;
}

/** zod's issues as the lab file's: one per unknown key, naming the fields the mapping has. */
export function fieldIssues(error: z.ZodError): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  for (const iss of error.issues) {
    const path = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys) out.push({ path: [...path, k], message: iss.message });
    } else {
      out.push({ path, message: iss.message });
    }
  }
  return out;
}

/** `hosts[1].name` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}

/** Fields that name another part of the lab; schema.ts checks that the named host or service exists. */
export const labRefs = z.registry<{ ref: 'host' | 'service' }>();

/** The name of one of the lab's hosts. */
export const hostRef = (description: string) => text().describe(description).register(labRefs, { ref: 'host' });

/** The name of one of the lab's services. */
export const serviceRef = (description: string) => text().describe(description).register(labRefs, { ref: 'service' });
