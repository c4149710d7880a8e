import { join } from 'node:path';
import { EventLog, type LabEvent } from '../observe/events.js';
import { Observer } from '../observe/observer.js';
import { startLiveServer, type LiveServer } from '../view/live/server.js';
import type { CheckResult } from './checks.js';
import type { LabSpec } from './schema.js';
import type { LabRun, RunOutput, StepResult } from './runner.js';
import { StepControl } from './step-mode.js';
import { fill, type TemplateScope } from './template.js';

/** The port a `capture --port P` service watches (its records of that port are the packets), once P is known. */
function capturePort(run: string, scope: TemplateScope): number | undefined {
  try {
    const m = /--port\s+(\d+)/.exec(fill(run, scope, 'capture'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One lab run's event stream and the views on it: the observer feeds it (packets, TCP states,
 * lease marks), the runner adds steps and checks, the live page and --step read it, and the report
 * and --json are written from it. Created before the lab is up, so the page is there from the start.
 */
export class LabSession {
  readonly log = new EventLog();
  observer?: Observer;
  server?: LiveServer;
  readonly control: StepControl;
  private run?: LabRun;

  constructor(
    private readonly spec: LabSpec,
    private readonly opts: { live?: boolean; port?: number; step?: boolean; out: RunOutput },
  ) {
    this.control = new StepControl(this.log, {
      step: opts.step === true,
      pids: () => this.run?.state.processes.map((p) => p.pid) ?? [],
      onPaused: (p) => this.observer?.setPaused(p),
      out: opts.out,
      interactive: opts.live === true || (process.stdin as NodeJS.ReadStream).isTTY === true,
    });
    this.log.emit({ kind: 'run', phase: 'start', t: Date.now(), lab: spec.name, title: spec.title, topic: spec.topic, capture: spec.hosts.some((h) => h.kind === 'netns') ? 'packets' : 'logs' });
  }

  /** Starts the page server (when --live) and prints its URL. */
  async open(): Promise<void> {
    if (!this.opts.live) return;
    this.server = await startLiveServer({ log: this.log, title: `${this.spec.name}: ${this.spec.title}`, ...(this.opts.port !== undefined && { port: this.opts.port }), onControl: (a) => this.control.control(a) });
    this.opts.out.line(`live view: ${this.server.url}`);
  }

  /** The runner's onHostsReady: captures and pollers start before the first service. */
  async attach(run: LabRun): Promise<void> {
    this.run = run;
    const st = run.state;
    this.observer = new Observer(
      {
        hosts: this.spec.hosts.map((h) => h.name),
        // the run's own addresses (a seed's subnet), not the lab file's placeholders
        segments: run.spec.segments,
        netns: st.netns,
        ...(st.topologyId && { topologyId: st.topologyId }),
        runDir: st.runDir,
        services: () =>
          this.spec.services.map((s) => {
            const p = st.processes.find((x) => x.kind === 'service' && x.name === s.name);
            const capture = /^capture\b/.test(s.run);
            const watch = capture ? capturePort(s.run, run.scope) : undefined;
            return { name: s.name, host: s.host, ...(!s.program && { logFile: join(st.runDir, 'logs', `${s.name}.jsonl`) }), ...(p?.listening && p.listening.port > 0 && { port: p.listening.port }), capture, ...(watch && { watch }) };
          }),
      },
      this.log,
    );
    await this.observer.start();
  }

  async beforeStep(index: number, name: string, host: string, command: string, show?: string): Promise<void> {
    this.observer?.sync();
    await this.control.beforeStep(index, name);
    this.log.emit({ kind: 'step', t: Date.now(), index, phase: 'start', name, host, command, ...(show && { show }) });
  }

  afterStep(r: StepResult, index: number): void {
    // what the services logged during the step is shown with the step, before its end and the next step
    this.observer?.sync();
    this.control.afterStep();
    this.log.emit({ kind: 'step', t: Date.now(), index, phase: 'end', name: r.name, host: r.host, command: r.command, ...(r.show && { show: r.show }), ok: r.ok, code: r.code });
  }

  checks(results: CheckResult[]): void {
    for (const c of results) this.log.emit({ kind: 'check', t: Date.now(), name: c.name, passed: c.passed, detail: c.detail, hint: c.hint });
  }

  /** Stops observing (before teardown) and closes the stream with the verdict. */
  async finish(verdict: string, passed: boolean): Promise<void> {
    // the observer's last read first: the packets it still finds are shown, then stepping ends
    await this.observer?.stop();
    this.control.close();
    this.log.emit({ kind: 'run', phase: 'end', t: Date.now(), verdict, passed });
  }

  /** What --json prints of the stream: packets with their layers and notes, TCP states, lease marks. */
  jsonEvents(): LabEvent[] {
    return this.log.events.filter((e) => e.kind === 'packet' || e.kind === 'state' || e.kind === 'mark' || e.kind === 'lane');
  }

  async close(): Promise<void> {
    this.control.close();
    await this.observer?.stop();
    await this.server?.close();
  }
}
