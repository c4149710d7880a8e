#!/usr/bin/env node
// npm run bench -- <name> [args]: runs scripts/bench/<name>.mjs; each writes results/bench-<name>.json,
// appends its summary to results/history.jsonl, and prints ratios against a real peer measured in the
// same run (pinned: server on core 0, load on core 1; --unpinned to compare).
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const dir = new URL('./bench/', import.meta.url);
// Benchmarks are the files named like a benchmark; echo-load.mjs and lib.mjs are their helpers.
const available = readdirSync(dir).filter((f) => /^[a-z]+\.mjs$/.test(f) && f !== 'lib.mjs').map((f) => f.slice(0, -4)).sort();
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
