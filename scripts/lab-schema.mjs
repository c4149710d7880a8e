// Writes labs/lab.schema.json from the zod schema in src/lab/schema.ts (run after tsc: npm run build).
// Lab files point at it (# yaml-language-server: $schema=../lab.schema.json) so editors complete them.
import { readFileSync, writeFileSync } from 'node:fs';
import { labJsonSchemaText } from '../dist/lab/schema.js';

const file = new URL('../labs/lab.schema.json', import.meta.url);
const text = labJsonSchemaText();
let old = '';
try {
  old = readFileSync(file, 'utf8');
} catch {
  // first build
}
if (old !== text) writeFileSync(file, text);
