import { createInterface } from 'node:readline/promises';
import { bold, cyan, dim } from '../format.js';
import type { LabRun, RunOutput } from './runner.js';
import { eventFields, eventLabel } from './event-view.js';
import { segmentKind } from './checks.js';

const seen = new WeakMap<LabRun, { events: number; capture: Map<string, number> }>();

/**
 * Shows the network events that happened since the last call, one at a time: type, socket pair and
 * the fields that matter. On a terminal it waits for Enter at each; otherwise it does not wait.
 */
export async function stepThrough(run: LabRun, out: RunOutput, input: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const mark = seen.get(run) ?? { events: 0, capture: new Map<string, number>() };
  seen.set(run, mark);
  const lines: string[] = [];
  const events = run.allEvents();
  for (const r of events.slice(mark.events)) {
    lines.push(`${cyan(eventLabel(r))}  ${r.from ?? '?'} -> ${r.to ?? '?'}  ${dim(`[${r.service} on ${r.host}]`)}${eventFields(r) ? `\n      ${eventFields(r)}` : ''}`);
  }
  mark.events = events.length;
  // a capture service's own lines: each TCP segment the kernel really sent
  for (const p of run.state.processes.filter((x) => x.kind === 'service' && /^capture/.test(x.name) && !x.logFile)) {
    const text = run.context().serviceOutput(p.name) ?? '';
    const all = text.split('\n').filter((l) => segmentKind(l) !== undefined);
    for (const l of all.slice(mark.capture.get(p.name) ?? 0)) lines.push(`${cyan(segmentKind(l)!)}  ${l.trim()}  ${dim(`[${p.name}]`)}`);
    mark.capture.set(p.name, all.length);
  }
  const tty = (input as NodeJS.ReadStream).isTTY === true;
  // the prompt goes to stderr: with --json, stdout is the JSON document (often redirected to a file)
  const rl = tty ? createInterface({ input, output: process.stderr }) : undefined;
  try {
    for (const [i, l] of lines.entries()) {
      out.line(`  ${bold(`event ${i + 1}/${lines.length}`)} ${l}`);
      if (rl) await rl.question(dim('  (Enter: next event) '));
    }
  } finally {
    rl?.close();
  }
  if (lines.length === 0) out.line(dim('  (no network events in the logs for this step)'));
  return lines.length;
}
