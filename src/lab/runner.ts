import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import type { EphemeralRange } from '../ports/registry.js';
import { parseEndpoint } from '../socket-pair.js';
import type { BackendName, HostExecResult as ExecResult, HostProcess, HostTopology, LabHost, TopologySpec } from '../hosts/backend.js';
import { BACKENDS, type BackendChoice } from '../hosts/index.js';
import { processHost, type LocalProcess, type ProcessHost } from '../hosts/local.js';
import { hostSockets } from '../hosts/sockets.js';
import { needsRoot, type LabSpec, type ServiceSpec, type StepSpec } from './schema.js';
import { fill, type TemplateScope } from './template.js';
import { bindSpec, labVars, renderFile } from './bind.js';
import { foreground, killGroup, procStartTime, run, sleep, stopProcess } from '../core/process.js';
import { splitCommand } from './exec.js';
import { acquireStartLock, freshRunDir, readState, removeState, stateIsLive, writeState, type RunProcess, type RunState } from './state.js';
import { stepHeader } from './output.js';
import { sleepLong } from '../core/timers.js';
import { eventTime } from './event-view.js';
import { readLogFile, runCheck, type CheckContext, type CheckResult, type LogRecord } from './checks.js';

/** The contract every service honours once it is ready (see the preamble). */
export const READY_LINE = /^socketlab-\S+ listening on /m;
const READY_PARSE = /^socketlab-\S+ listening on (\S+) (\S+)/m;

export interface StepResult {
  name: string;
  host: string;
  command: string;
  show?: string;
  background: boolean;
  code: number | null;
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Where the runner tells the learner what happens; the CLI prints it, tests collect it. */
export interface RunOutput {
  line(text: string): void;
}

export interface UpOptions {
  vars?: Record<string, string>;
  out?: RunOutput;
  readyTimeoutMs?: number;
  /** called as soon as the run exists (before anything is built), so Ctrl-C during up can tear it down */
  onRun?: (run: LabRun) => void;
  /** Called once the hosts exist and before any service starts (the live view starts its captures here). */
  onHostsReady?: (run: LabRun) => Promise<void>;
  /** Where the hosts run (default auto: namespaces when the lab has any, else this machine). */
  backend?: BackendChoice;
  /** Docker: the image of the hosts (default socketlab:lab). */
  image?: string;
}

/** The backend a lab runs on: auto is today's choice, by the lab's hosts. */
export function chooseBackend(spec: LabSpec, choice: BackendChoice = 'auto'): BackendName {
  const namespaces = spec.hosts.some((h) => h.kind === 'netns');
  if (choice === 'auto') return namespaces ? 'netns' : 'local';
  if (choice === 'local' && namespaces) throw new LabError('LAB_ERR_LAB_RUN', `lab ${spec.name} has hosts in network namespaces; --backend local runs only localhost labs (use netns or docker)`);
  return choice;
}

/**
 * What the backend builds for a lab: its namespace hosts, plus (docker) one container for its
 * localhost hosts, which share that one host's loopback as they share this machine's.
 */
export function topologyFor(spec: LabSpec, backend: BackendName, id: string): { topo: TopologySpec; alias: Record<string, string> } {
  const firstLocal = spec.hosts.find((x) => x.kind !== 'netns');
  const built = spec.hosts.filter((h) => backend === 'local' || h.kind === 'netns' || (backend !== 'netns' && h === firstLocal) || (backend === 'netns' && !spec.hosts.some((x) => x.kind === 'netns') && h === firstLocal));
  const host = built.find((h) => h.kind !== 'netns');
  const alias = Object.fromEntries(spec.hosts.filter((h) => !built.includes(h) && h.kind !== 'netns' && host).map((h) => [h.name, host!.name]));
  return {
    topo: {
      id,
      hosts: built.map((h) => ({ name: h.name, ...(h.forwarding !== undefined && { forwarding: h.forwarding }), ...(h.ephemeralRange && { ephemeralRange: h.ephemeralRange }) })),
      segments: backend === 'local' ? [] : spec.segments,
      ...(backend !== 'local' && { routes: spec.routes }),
    },
    alias,
  };
}

const quiet: RunOutput = { line: () => {} };

/** A running (or attached-to) lab: its state on disk, its scope for `${...}`, and how to reach its hosts. */
export class LabRun {
  private topology?: HostTopology;
  /** Host name -> the host it runs on (a localhost host inside the docker lab's one container). */
  private alias: Record<string, string> = {};
  /** This run's service and step processes, by `kind-name` (Docker processes have no pid on this machine). */
  private readonly procs = new Map<string, HostProcess>();
  private tearingDown?: Promise<void>;
  /** aborted when teardown begins (Ctrl-C): no step, process or check starts after that */
  private readonly stopSignal = new AbortController();
  readonly steps: StepResult[] = [];

  private constructor(
    readonly spec: LabSpec,
    readonly state: RunState,
    readonly scope: TemplateScope,
    private readonly out: RunOutput,
  ) {}

  /** Builds the hosts, starts the services, waits for each ready line. Throws LAB_ERR_LAB_RUN (exit 2) after cleaning up. */
  static async up(spec: LabSpec, opts: UpOptions = {}): Promise<LabRun> {
    // from the look at the old state until the services run: one starter at a time
    const release = acquireStartLock(spec.name);
    try {
      return await LabRun.upLocked(spec, opts);
    } finally {
      release();
    }
  }

  private static async upLocked(file: LabSpec, opts: UpOptions): Promise<LabRun> {
    const vars = labVars(file, opts.vars);
    // the topology's addresses and routes as this run's vars make them (a seed's subnet)
    const spec = bindSpec(file, vars);
    const out = opts.out ?? quiet;
    const existing = readState(spec.name);
    if (existing && stateIsLive(existing)) {
      throw new LabError('LAB_ERR_LAB_RUN', `lab ${spec.name} is already up (run dir ${existing.runDir}); run "socketlab lab down ${spec.name}" first`);
    }
    if (existing) await teardownState(existing);
    const backend = chooseBackend(spec, opts.backend);
    // containers need only the engine; namespaces and captures on this machine need root
    if (backend !== 'docker' && needsRoot(spec) && process.getuid?.() !== 0) {
      throw new LabError('LAB_ERR_NEEDS_ROOT', `lab ${spec.name} ${spec.root ? 'captures packets / binds privileged ports' : 'builds network namespaces'} and needs root: run "sudo socketlab lab run ${spec.name}", or pick a localhost lab from "socketlab lab list"`);
    }
    const runDir = freshRunDir(spec.name);
    const state: RunState = { lab: spec.name, file: spec.file, runDir, startedAt: new Date().toISOString(), runnerPid: process.pid, runnerStartTime: procStartTime(process.pid), backend, ...(opts.image && { image: opts.image }), netns: {}, vars, processes: [] };
    writeState(state);
    const scope: TemplateScope = { ...vars, run_dir: runDir, lab_dir: spec.dir };
    const run = new LabRun(spec, state, scope, out);
    opts.onRun?.(run);
    try {
      for (const f of spec.files) {
        if (!existsSync(join(spec.dir, f))) throw new LabError('LAB_ERR_LAB_FILE', `${spec.file}: files: ${f} is not in ${spec.dir}`);
        renderFile(join(spec.dir, f), join(runDir, f), scope);
      }
      await run.buildTopology();
      await opts.onHostsReady?.(run);
      for (const svc of spec.services) await run.startService(svc, opts.readyTimeoutMs ?? 20_000);
    } catch (err) {
      await run.down();
      throw err;
    }
    return run;
  }

  /** Attaches to a lab brought up by another invocation (`lab up`), for `check` and `down`. */
  static attach(spec: LabSpec, opts: { out?: RunOutput; vars?: Record<string, string> } = {}): LabRun | undefined {
    const state = readState(spec.name);
    if (!state) return undefined;
    const vars = labVars({ vars: state.vars }, opts.vars);
    const scope: TemplateScope = { ...vars, run_dir: state.runDir, lab_dir: spec.dir };
    for (const p of state.processes) if (p.kind === 'service') addServiceScope(scope, p);
    // a hint's `socketlab netns exec ${ns1.netns}` from another invocation (lab hint while the lab is up)
    for (const [host, ns] of Object.entries(state.netns)) scope[`${host}.netns`] = ns;
    return new LabRun(bindSpec(spec, vars), state, scope, opts.out ?? quiet);
  }

  /** A learner's own setup: no run dir, localhost, logs only where --log SERVICE=FILE points. */
  static detached(spec: LabSpec, logs: Record<string, string>, vars: Record<string, string> = {}): LabRun {
    const state: RunState = {
      lab: spec.name, file: spec.file, runDir: '', startedAt: new Date().toISOString(), runnerPid: process.pid, netns: {}, vars,
      processes: Object.entries(logs).map(([name, logFile]) => ({ name, kind: 'service' as const, host: spec.hosts[0]?.name ?? 'local', pid: 0, stdout: '', stderr: '', logFile })),
    };
    const bound = labVars(spec, vars);
    return new LabRun(bindSpec(spec, bound), state, { ...bound, run_dir: '', lab_dir: spec.dir }, quiet);
  }

  private get backendName(): BackendName {
    return this.state.backend ?? (this.state.topologyId ? 'netns' : 'local');
  }

  private async buildTopology(): Promise<void> {
    const backend = this.backendName;
    const id = backend === 'local' ? 'local' : `l${Math.random().toString(36).slice(2, 7)}`;
    // recorded before creation: a crash half-way still leaves `lab down` the id to clean
    if (backend !== 'local') this.state.topologyId = id;
    writeState(this.state);
    const { topo, alias } = topologyFor(this.spec, backend, id);
    this.alias = alias;
    if (backend !== 'local') this.out.line(`building ${backend === 'docker' ? 'containers' : 'namespaces'} for ${topo.hosts.map((h) => h.name).join(', ')} (id ${id})`);
    this.topology = await BACKENDS[backend].build(topo, { lab: this.spec.name, mounts: [this.state.runDir], ...(this.state.image && { image: this.state.image }) });
    if (this.stopping) {
      // Ctrl-C while the hosts were being made: the teardown may have run before they existed
      await this.topology.close().catch(() => {});
      throw new LabError('LAB_ERR_LAB_RUN', `lab ${this.spec.name} is stopping: hosts removed`);
    }
    for (const [name, h] of Object.entries(this.topology.hosts)) {
      const ns = (h as ProcessHost).netns;
      if (ns) {
        this.state.netns[name] = ns;
        this.scope[`${name}.netns`] = ns;
      }
      for (const i of h.interfaces) {
        this.scope[`${name}.${i.segment}.if`] = i.ifname;
        if (i.address) this.scope[`${name}.${i.segment}.ip`] = i.address.split('/')[0]!;
      }
    }
    writeState(this.state);
  }

  /** The host NAME runs on; attaches to the running topology when another process built it (lab check). */
  async host(name: string): Promise<LabHost> {
    // a namespace host of a lab that is down (lab status after lab run) is not this machine: its
    // checks' commands would send traffic from the machine's own network
    if (this.backendName === 'local' && this.spec.hosts.some((h) => h.name === name && h.kind === 'netns')) {
      throw new LabError('LAB_ERR_LAB_RUN', `host ${name} is a network namespace and lab ${this.spec.name} is down: "sudo socketlab lab up ${this.spec.name}" first`);
    }
    if (!this.topology) {
      const backend = this.backendName;
      const { topo, alias } = topologyFor(this.spec, backend, this.state.topologyId ?? 'local');
      this.alias = alias;
      const opts = { lab: this.spec.name, ...(this.state.runDir && { mounts: [this.state.runDir] }), ...(this.state.image && { image: this.state.image }) };
      // a detached run (your own setup): this machine
      this.topology = this.state.runDir ? await BACKENDS[backend].attach(topo, opts) : await BACKENDS.local.attach({ hosts: topo.hosts, segments: [] }, opts);
    }
    const h = this.topology.hosts[this.alias[name] ?? name];
    if (h) return h;
    // a localhost host of a namespace lab: this machine
    return processHost(name, this.state.runDir ? { mounts: [this.state.runDir] } : {});
  }

  /** Runs one command line of the lab file on HOST. */
  async execLine(host: string, line: string, where: string, timeoutMs = 30_000): Promise<ExecResult> {
    return (await this.host(host)).exec(this.argvFor(line, where), { timeoutMs });
  }

  /** The namespace of a host, or undefined on localhost and in Docker. */
  netnsOf(host: string): string | undefined {
    return this.state.netns[host];
  }

  private argvFor(commandLine: string, where: string): string[] {
    const argv = splitCommand(fill(commandLine, this.scope, where));
    if (argv.length === 0) throw new LabError('LAB_ERR_LAB_FILE', `${where}: empty command`);
    return argv;
  }

  /** Spawns a long-running process with its output in the run dir; recorded in state at once. */
  private async spawnRecorded(name: string, kind: 'service' | 'step', host: string, argv: string[], logFile?: string): Promise<RunProcess> {
    // teardown has read the process list already: anything started now would outlive the lab
    if (this.stopping) throw new LabError('LAB_ERR_LAB_RUN', `lab ${this.spec.name} is stopping: ${kind} ${name} not started`);
    const stdout = join(this.state.runDir, `${kind}-${name}.out`);
    const stderr = join(this.state.runDir, `${kind}-${name}.err`);
    const hp = await (await this.host(host)).spawn(argv, { stdoutFile: stdout, stderrFile: stderr, env: { SOCKETLAB_LOG_SYNC: '1' } });
    const local = hp as Partial<LocalProcess>;
    const p: RunProcess = { name, kind, host, pid: local.pid ?? 0, ...(local.startTime !== undefined && { startTime: local.startTime }), stdout, stderr, ...(logFile && { logFile }) };
    this.procs.set(`${kind}-${name}`, hp);
    this.state.processes.push(p);
    writeState(this.state);
    if (this.stopping) {
      await hp.kill('SIGKILL').catch(() => {});
      throw new LabError('LAB_ERR_LAB_RUN', `lab ${this.spec.name} is stopping: ${kind} ${name} stopped`);
    }
    return p;
  }

  private async waitFor(p: RunProcess, re: RegExp, timeoutMs: number, what: string, alsoStderr = false): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      // programs such as radvd say they are up on stderr
      const text = alsoStderr ? `${safeRead(p.stdout)}\n${safeRead(p.stderr)}` : safeRead(p.stdout);
      if (re.test(text)) return text;
      if (this.stopping) throw new LabError('LAB_ERR_LAB_RUN', `lab ${this.spec.name} is stopping: stopped waiting for ${what}`);
      if (!(await this.procs.get(`${p.kind}-${p.name}`)?.alive())) {
        await sleep(50);
        const again = safeRead(p.stdout);
        if (re.test(again)) return again;
        throw new LabError('LAB_ERR_LAB_RUN', `${what} exited before it was ready: ${tail(safeRead(p.stderr)) || tail(again) || 'no output'}`);
      }
      if (Date.now() > until) {
        throw new LabError('LAB_ERR_LAB_RUN', `${what} not ready after ${timeoutMs} ms (waiting for /${re.source}/ on its output): ${tail(safeRead(p.stderr)) || tail(text) || 'no output'}`);
      }
      await sleep(40);
    }
  }

  private async startService(svc: ServiceSpec, timeoutMs: number): Promise<void> {
    const where = `services[${svc.name}].run`;
    const logFile = svc.program ? undefined : join(this.state.runDir, 'logs', `${svc.name}.jsonl`);
    const args = splitCommand(fill(svc.run, this.scope, where));
    const argv = svc.program ? args : ['socketlab', '--log-level', 'info', '--log-file', logFile!, ...args];
    this.out.line(`starting ${svc.name} on ${svc.host}: ${svc.program ? '' : 'socketlab '}${args.join(' ')}`);
    const p = await this.spawnRecorded(svc.name, 'service', svc.host, argv, logFile);
    const text = await this.waitFor(p, svc.ready ? new RegExp(fill(svc.ready, this.scope, `services[${svc.name}].ready`), 'm') : READY_LINE, timeoutMs, `service ${svc.name}`, svc.program === true);
    const m = READY_PARSE.exec(text);
    if (m) {
      const ep = parseEndpoint(m[2]!);
      p.listening = { transport: m[1]!, address: ep.address, port: ep.port };
      writeState(this.state);
      this.out.line(`  ${m[0]}`);
    }
    addServiceScope(this.scope, p);
  }

  /** True once teardown has begun: the run is over, whatever is still awaiting. */
  get stopping(): boolean {
    return this.stopSignal.signal.aborted;
  }

  /** Runs the lab's steps in order; background steps keep running until teardown. Stops early once teardown begins. */
  async runSteps(onStep?: (s: StepResult, index: number) => Promise<void> | void, beforeStep?: (step: StepSpec, index: number, command: string) => Promise<void>): Promise<StepResult[]> {
    for (const [i, step] of this.spec.steps.entries()) {
      if (this.stopping) break;
      await beforeStep?.(step, i, fill(step.run, this.scope, `steps[${i}].run`));
      if (this.stopping) break;
      this.out.line(stepHeader(step.name, step.host, fill(step.run, this.scope, `steps[${i}].run`), i, step.background === true));
      const r = await this.runStep(step, i);
      // a foreground step killed by the teardown is not a result
      if (this.stopping) break;
      this.steps.push(r);
      await onStep?.(r, i);
      if (step.wait) await sleepLong(step.wait * 1000, this.stopSignal.signal).catch(() => {});
    }
    return this.steps;
  }

  private async runStep(step: StepSpec, i: number): Promise<StepResult> {
    const where = `steps[${i}].run`;
    const command = fill(step.run, this.scope, where);
    const argv = this.argvFor(step.run, where);
    const base = { name: step.name, host: step.host, command, ...(step.show && { show: fill(step.show, this.scope, `steps[${i}].show`) }) };
    if (step.background) {
      const p = await this.spawnRecorded(`${i + 1}`, 'step', step.host, argv);
      let stdout = '';
      let ok = true;
      let stderr = '';
      try {
        stdout = step.until ? await this.waitFor(p, new RegExp(fill(step.until, this.scope, `steps[${i}].until`), 'm'), 30_000, `step "${step.name}"`) : safeRead(p.stdout);
      } catch (err) {
        ok = false;
        stderr = (err as Error).message;
      }
      return { ...base, background: true, code: null, ok, stdout, stderr };
    }
    const r: ExecResult = await (await this.host(step.host)).exec(argv, { timeoutMs: 60_000 });
    const ok = !r.timedOut && r.code === (step.exit ?? 0);
    return { ...base, background: false, code: r.code, ok, stdout: r.stdout, stderr: r.timedOut ? `${r.stderr}\n(timed out after 60 s)` : r.stderr };
  }

  /** Records of one service's JSON log (undefined when it has none). */
  logRecords(service: string): LogRecord[] | undefined {
    const p = this.state.processes.find((x) => x.kind === 'service' && x.name === service);
    return p?.logFile ? readLogFile(p.logFile) : undefined;
  }

  /** Every service's log records, each tagged with its service and host, in time order. */
  allEvents(): (LogRecord & { service: string; host: string })[] {
    const all: (LogRecord & { service: string; host: string })[] = [];
    for (const p of this.state.processes) {
      if (p.kind !== 'service' || !p.logFile) continue;
      // network events only: records with a direction (not "listening", start-up or errors)
      for (const r of readLogFile(p.logFile) ?? []) if (typeof r.event === 'string' && r.from && r.to) all.push({ ...r, service: p.name, host: p.host });
    }
    return all.sort((a, b) => eventTime(a) - eventTime(b));
  }

  context(): CheckContext {
    return {
      scope: this.scope,
      sockets: async (host, opts) => hostSockets(await this.host(host), opts),
      logRecords: (service) => this.logRecords(service),
      serviceOutput: (service) => {
        const p = this.state.processes.find((x) => x.kind === 'service' && x.name === service);
        return p ? safeRead(p.stdout) : undefined;
      },
      ephemeralRange: (host) => this.ephemeralRange(host),
      exec: (host, line, timeoutMs) => this.execLine(host, line, 'checks.run', timeoutMs),
    };
  }

  private async ephemeralRange(host: string): Promise<EphemeralRange | undefined> {
    const h = await this.host(host);
    const file = '/proc/sys/net/ipv4/ip_local_port_range';
    const text = await h.readFile(file).then((b) => b.toString('utf8'), () => '');
    const [a, b] = text.trim().split(/\s+/).map(Number);
    const where = (h as ProcessHost).netns ?? (this.topology?.backend === 'docker' ? `container ${h.name}` : undefined);
    return a && b ? { first: a, last: b, source: where ? `${where}:${file}` : file } : undefined;
  }

  /** Runs every check of the lab against what is running now. */
  async check(): Promise<CheckResult[]> {
    const ctx = this.context();
    const host = this.spec.hosts[0]!.name;
    const results: CheckResult[] = [];
    for (const c of this.spec.checks) {
      if (this.stopping) break;
      results.push(await runCheck(c, ctx, host));
    }
    return results;
  }

  /** Stops background steps, then services, then removes the namespaces. Safe to call twice. */
  down(): Promise<void> {
    this.stopSignal.abort();
    return (this.tearingDown ??= (async () => {
      await teardownState(this.state, this.topology, [...this.procs.values()]);
    })());
  }
}

/** `${echo.port}`, `${echo.address}`, `${echo.transport}` from a service's ready line. */
function addServiceScope(scope: TemplateScope, p: RunProcess): void {
  if (!p.listening) return;
  scope[`${p.name}.port`] = String(p.listening.port);
  scope[`${p.name}.address`] = p.listening.address;
  scope[`${p.name}.transport`] = p.listening.transport;
}

/**
 * Certain teardown from the state file alone, so it also works from another process (`lab down`)
 * or after a crash: steps first (clients), then services, then the hosts (namespaces, containers).
 */
export async function teardownState(state: RunState, topology?: HostTopology, procs: HostProcess[] = []): Promise<void> {
  const recorded = [...state.processes].reverse();
  const steps = recorded.filter((p) => p.kind === 'step');
  const services = recorded.filter((p) => p.kind === 'service');
  for (const pid of foreground) killGroup(pid, 'SIGKILL');
  await Promise.all(steps.map((p) => stopProcess(p.pid, 2_000, p.startTime)));
  await Promise.all(services.map((p) => stopProcess(p.pid, 5_000, p.startTime)));
  // processes with no pid on this machine (in containers): SIGTERM, so services finish their logs
  const remote = procs.filter((p) => !(p as Partial<LocalProcess>).pid);
  await Promise.all(remote.map(async (p) => {
    await p.kill('SIGTERM').catch(() => {});
    await Promise.race([p.exited, sleep(2_000)]);
  }));
  if (topology) {
    await topology.close().catch(() => {});
  }
  const backend = state.backend ?? (state.topologyId ? 'netns' : 'local');
  if (backend === 'docker') {
    // also the last resort when the topology object is gone (lab down in another process, kill -9)
    try {
      await BACKENDS.docker.clean(state.lab);
    } catch (err) {
      process.stderr.write(`socketlab: could not remove the containers of lab ${state.lab} (${(err as Error).message}); run "socketlab docker clean --lab ${state.lab}"\n`);
    }
  } else if (state.topologyId) {
    try {
      await BACKENDS.netns.clean(state.lab, state.topologyId);
    } catch {
      // not root, or nothing left
    }
    const left = (await run(['ip', 'netns', 'list'], { timeoutMs: 5_000 })).stdout
      .split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`sl-${state.topologyId}-`));
    if (left.length > 0) {
      process.stderr.write(`socketlab: could not remove ${left.join(', ')}; as a last resort run "sudo socketlab netns clean"\n`);
    }
  }
  if (state.runDir) removeState(state);
}

function safeRead(file: string): string {
  try {
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  } catch {
    return '';
  }
}

function tail(text: string, n = 3): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
