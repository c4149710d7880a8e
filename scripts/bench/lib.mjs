// Shared pieces of the benchmarks: CPU pinning, round statistics, and the results history.
// On a 2-core machine an unpinned server and load generator fight over cores and the scheduler
// decides the result, so each server runs on one core and its load generator on the other, and the
// servers under comparison take turns round by round (the same background load hits both).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';

/** Core numbers: the server under test on one, its load generator on the other. */
export const CORES = { server: 0, load: 1 };

const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset']).status === 0;

/**
 * Whether runs are pinned: --unpinned turns it off (to compare), and so does a machine with one
 * core or without taskset (util-linux), which is said once on stderr.
 */
export function pinningFrom(args) {
  if (args.includes('--unpinned')) return false;
  if (!hasTaskset) {
    console.error('bench: taskset (util-linux) is missing: running unpinned');
    return false;
  }
  if (cpus().length < 2) {
    console.error('bench: one core only: running unpinned');
    return false;
  }
  return true;
}

/** [command, args] that run `cmd args` on `core` when pinning, else as they are. */
export function onCore(pin, core, cmd, args) {
  return pin ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

/** Median (upper median for even counts), min and max of a list of numbers, and the list itself. */
export function stats(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, runs: [] };
  const s = [...v].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1], runs: v };
}

/** Per-round ratios a[i]/b[i] (same round = same machine conditions), summarised like stats(). */
export function ratioStats(a, b) {
  const r = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (b[i] > 0 && Number.isFinite(a[i])) r.push(a[i] / b[i]);
  const s = stats(r);
  const round = (x) => (Number.isFinite(x) ? Number(x.toFixed(3)) : null);
  return { median: round(s.median), min: round(s.min), max: round(s.max), runs: s.runs.map(round) };
}

/** "0.97x (0.93-1.01)" */
export function fmtRatio(r) {
  if (!r || r.median === null || r.median === undefined) return 'n/a';
  return `${r.median.toFixed(2)}x (${r.min.toFixed(2)}-${r.max.toFixed(2)})`;
}

/** Resident set size of a process in KiB (VmRSS), or null when it is gone. */
export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function git(root, args) {
  const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Appends one JSON line to results/history.jsonl: the benchmark's summary with the commit it ran
 * on (and whether the tree had changes), so a regression shows up run after run.
 */
export function appendHistory(root, record) {
  const line = {
    date: new Date().toISOString(),
    commit: git(root, ['rev-parse', 'HEAD']),
    // changes to the code measured; results/ is what the benches write (in `npm run bench`, the
    // benchmarks before this one have already appended their lines)
    dirty: (git(root, ['status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)results']) ?? '') !== '',
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? null, kernel: release(), node: process.version },
    ...record,
  };
  mkdirSync(join(root, 'results'), { recursive: true });
  appendFileSync(join(root, 'results/history.jsonl'), JSON.stringify(line) + '\n');
  return line;
}
