/**
 * The check kinds. A new kind is one file beside these (schema + describe + evaluate) and one entry here.
 */
import type * as z from 'zod';
import { listening } from './listening.js';
import { establishedPairs } from './established-pairs.js';
import { sockets } from './sockets.js';
import { ephemeralSource } from './ephemeral-source.js';
import { logEvent } from './log-event.js';
import { command } from './command.js';
import { capture } from './capture.js';

export const CHECK_KINDS = [listening, establishedPairs, sockets, ephemeralSource, logEvent, command, capture] as const;

// a mapped type keeps a tuple a tuple only through a type parameter
type SchemasOf<T extends readonly unknown[]> = { -readonly [I in keyof T]: T[I] extends { schema: infer S } ? S : never };
type Schemas = SchemasOf<typeof CHECK_KINDS>;
/** Each kind's schema, in the order above (what the lab file's check union is made of). */
export const CHECK_SCHEMAS = CHECK_KINDS.map((k) => k.schema) as unknown as Schemas;

/** One check of a lab file, tagged by `kind`. */
export type CheckSpec = z.output<Schemas[number]>;
export type CheckKindName = CheckSpec['kind'];
