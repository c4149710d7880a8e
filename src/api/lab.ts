/** socketlab/lab: load and run the shipped labs (or your own lab.yaml) from a test. */
import { LabRun } from '../lab/runner.js';
import { listLabFiles, loadLabFile, resolveLab } from '../lab/loader.js';
import { exitCodeOf } from '../lab/output.js';
import { needsRoot } from '../lab/schema.js';
import { variantVars } from '../lab/variants.js';
import { isLabError, invalidArgument } from '../errors.js';
import type { LabBackend, LabInfo, LabResult, RunLabOptions } from './types.js';

export type { LabBackend, LabCheck, LabInfo, LabResult, LabStep, NetEvent, RunLabOptions } from './types.js';

const BACKENDS: readonly LabBackend[] = ['auto', 'local', 'netns'];

/** The shipped labs, with whether each needs root. */
export function listLabs(): LabInfo[] {
  return listLabFiles().map((l) => {
    const s = loadLabFile(l.file);
    return { name: s.name, title: s.title, topic: s.topic, needsRoot: needsRoot(s), file: l.file };
  });
}

/**
 * Up, steps, checks, down: what `socketlab lab run NAME --json` does, returned instead of printed.
 * `nameOrPath` is a shipped lab's name or number, or a path to a lab.yaml (or its directory).
 * Rejects only for bad input (unknown lab, invalid file, unknown backend); a lab that could not
 * run resolves with `exitCode: 2` and `error`, as the CLI reports it.
 */
export async function runLab(nameOrPath: string, opts: RunLabOptions = {}): Promise<LabResult> {
  const backend = opts.backend ?? 'auto';
  if (!BACKENDS.includes(backend)) throw invalidArgument(`runLab: backend "${String(backend)}" is not one of ${BACKENDS.join(', ')} (docker hosts are not available in this version)`);
  if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed)) throw invalidArgument(`runLab: seed ${String(opts.seed)} must be an integer`);
  opts.signal?.throwIfAborted();
  const spec = resolveLab(nameOrPath);
  if (backend !== 'auto') {
    const want = backend === 'local' ? 'localhost' : 'netns';
    const other = spec.hosts.filter((h) => h.kind !== want);
    if (other.length > 0) {
      throw invalidArgument(`runLab: lab ${spec.name} has ${other.map((h) => `${h.name} (${h.kind})`).join(', ')}, not ${backend} hosts; use backend 'auto' or a lab made for ${backend}`);
    }
  }
  // a seed picks the lab's variants (as --seed does); vars given by name win over them
  const vars = { ...(opts.seed !== undefined && variantVars(spec.variants, opts.seed, spec.vars)), ...Object.fromEntries(Object.entries(opts.vars ?? {}).map(([k, v]) => [k, String(v)])) };
  const started = Date.now();
  const result: LabResult = { lab: spec.name, title: spec.title, topic: spec.topic, exitCode: 2, passed: false, steps: [], checks: [], startedAt: new Date(started).toISOString(), durationMs: 0, ...(opts.seed !== undefined && { seed: opts.seed }), events: [] };
  let run: LabRun | undefined;
  const onAbort = (): void => void run?.down();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    run = await LabRun.up(spec, { vars, ...(opts.readyTimeoutMs !== undefined && { readyTimeoutMs: opts.readyTimeoutMs }) });
    opts.signal?.throwIfAborted();
    const steps = await run.runSteps();
    opts.signal?.throwIfAborted();
    const checks = await run.check();
    result.steps = steps.map(({ stdout: _o, stderr: _e, ...rest }) => rest);
    result.checks = checks;
    result.exitCode = exitCodeOf(checks, steps);
    result.passed = result.exitCode === 0;
    result.events = run.allEvents() as LabResult['events'];
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (!isLabError(err)) throw err;
    result.error = err.message;
    result.exitCode = err.exitCode === 1 ? 1 : 2;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await run?.down();
    result.durationMs = Date.now() - started;
  }
  return result;
}
