import { createInterface, type Interface } from 'node:readline';
import { bold, cyan, dim } from '../format.js';
import type { EventLog, LabEvent } from '../observe/events.js';
import type { RunOutput } from './runner.js';
import { foreground, killGroup } from '../core/process.js';

const laneName = (key: string): string => key.replace(/^svc:/, '');

/** How long the wire must stay quiet after a packet before a step's packet group counts as done. */
export const GROUP_QUIET_MS = 300;

/**
 * `--step` and the page's pause/next buttons: pauses before each step and, inside a step, after
 * each group of packets. Pausing really stops the lab: every service and step process group gets
 * SIGTSTP (socketlab's DHCP server and client stop their lease clock, then stop; anything else just
 * stops) and SIGCONT when the learner goes on, so a minute spent on one packet costs no lease time.
 */
export class StepControl {
  stepping: boolean;
  private paused = false;
  private release?: () => void;
  private waiting?: Promise<void>;
  private inStep = false;
  private quiet?: NodeJS.Timeout;
  private rl?: Interface;
  private readonly unsub: () => void;

  constructor(
    private readonly log: EventLog,
    private readonly opts: {
      step: boolean;
      /** process groups of the lab (services, background steps) */
      pids: () => number[];
      onPaused?: (paused: boolean) => void;
      out: RunOutput;
      /** a learner who can answer: a TTY, or the live page */
      interactive: boolean;
      input?: NodeJS.ReadableStream;
    },
  ) {
    this.stepping = opts.step;
    this.unsub = log.subscribe((e) => this.onEvent(e), false);
    const input = opts.input ?? process.stdin;
    if (opts.step && (input as NodeJS.ReadStream).isTTY) {
      // the prompt goes to stderr: with --json, stdout is the JSON document
      this.rl = createInterface({ input, output: process.stderr });
      this.rl.on('line', (l) => this.control(l.trim() === 'c' ? 'resume' : 'next'));
    }
  }

  /** pause | next | resume, from the page or the terminal. */
  control(action: string): void {
    if (action === 'pause') {
      this.stepping = true;
      this.pauseNow('paused from the page');
    } else if (action === 'next') {
      this.go();
    } else if (action === 'resume') {
      this.stepping = false;
      this.go();
    }
  }

  /** Before step i: waits while stepping (and someone can say "next"). */
  async beforeStep(index: number, name: string): Promise<void> {
    this.inStep = false;
    if (this.quiet) clearTimeout(this.quiet);
    // a pause after the previous step's last packets ends first: then this step's own pause (one
    // Enter answered both, and "paused before step N" was never shown)
    await this.waiting;
    if (this.stepping && this.opts.interactive) this.pauseNow(`before step ${index + 1}: ${name}`);
    await this.waiting;
    this.inStep = true;
  }

  afterStep(): void {
    this.inStep = false;
  }

  /** Waits until an ongoing pause ends (before the checks run). */
  async settled(): Promise<void> {
    this.inStep = false;
    await this.waiting;
  }

  close(): void {
    this.unsub();
    if (this.quiet) clearTimeout(this.quiet);
    this.rl?.close();
    if (this.paused) this.go();
  }

  private onEvent(e: LabEvent): void {
    if (e.kind === 'packet' && this.stepping) {
      // a localhost service's lane key is svc:NAME; the learner knows it by NAME
      const to = e.to.map(laneName).join(', ');
      this.opts.out.line(`  ${cyan(e.summary)}  ${laneName(e.from)} -> ${e.broadcast ? `all (${to})` : to}  ${dim(`${e.src} -> ${e.dst}`)}`);
    }
    if (e.kind !== 'packet' || !this.inStep || !this.stepping || !this.opts.interactive) return;
    if (this.quiet) clearTimeout(this.quiet);
    this.quiet = setTimeout(() => {
      if (this.inStep && this.stepping && !this.paused) this.pauseNow('after a group of packets');
    }, GROUP_QUIET_MS);
  }

  private pauseNow(reason: string): void {
    if (this.paused) return;
    this.paused = true;
    for (const pid of this.groups()) killGroup(pid, 'SIGTSTP');
    this.opts.onPaused?.(true);
    this.log.emit({ kind: 'pause', t: Date.now(), paused: true, reason });
    this.opts.out.line(bold(`  paused ${reason}`) + dim(this.rl ? '  (Enter: next, c + Enter: run to the end)' : '  (the page: Next step / Run to the end)'));
    this.waiting = new Promise<void>((r) => (this.release = r));
  }

  private go(): void {
    if (!this.paused) return;
    this.paused = false;
    const groups = this.groups();
    for (const pid of groups) killGroup(pid, 'SIGCONT');
    // once more: a process that handled SIGTSTP only after the first SIGCONT stopped itself then
    setTimeout(() => groups.forEach((pid) => killGroup(pid, 'SIGCONT')), 200).unref();
    this.opts.onPaused?.(false);
    this.log.emit({ kind: 'pause', t: Date.now(), paused: false, reason: '' });
    const r = this.release;
    this.release = undefined;
    this.waiting = undefined;
    r?.();
  }

  private groups(): number[] {
    return [...new Set([...this.opts.pids(), ...foreground])].filter((p) => p > 0);
  }
}
