#!/usr/bin/env node
// npm run bench -- <name> [args]: runs scripts/bench/<name>.mjs; each writes results/bench-<name>.json
// and prints a table with ratios against a real peer measured in the same run.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const dir = new URL('./bench/', import.meta.url);
const available = readdirSync(dir).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4)).sort();
const [name, ...rest] = process.argv.slice(2);
const names = name ? [name] : available;
for (const n of names) {
  if (!available.includes(n)) {
    console.error(`bench: no benchmark "${n}"; available: ${available.join(', ')}`);
    process.exit(2);
  }
  const r = spawnSync(process.execPath, [new URL(`${n}.mjs`, dir).pathname, ...rest], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
