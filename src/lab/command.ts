import { writeFileSync, mkdirSync, existsSync, openSync, closeSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { LabError, isLabError, invalidArgument } from '../errors.js';
import { bold, dim, print, printJson, table } from '../format.js';
import { checkLabFile, labFileIn, listLabFiles, loadLabFile, resolveLab, shown } from './loader.js';
import { describeCheck } from './checks.js';
import { needsRoot, type LabSpec } from './schema.js';
import { chooseBackend, LabRun, teardownState, type RunOutput } from './runner.js';
import { parseBackend, BACKENDS, type BackendChoice } from '../hosts/index.js';
import { checkDockerReady } from '../hosts/docker/topology.js';
import { readState, runRoot, startLockHolder, stateIsLive } from './state.js';
import { CLI_PATH, foreground, isSameProcess, killGroup, sleep } from '../core/process.js';
import { exitCodeOf, formatChecks, formatStep, toJunit, type LabReport } from './output.js';
import { labNotesCorrections, formatNotesCorrections } from './notes.js';
import { onOutputClosed } from '../core/output-closed.js';
import { onHangup, onShutdown, untilShutdown } from '../core/shutdown.js';
import { renderReport, verdictOf, writeReport } from './report.js';
import { LabSession } from './live-session.js';
import { exportDocker, staticScope } from './docker.js';
import { confirmLab } from './confirm.js';
import { addStudentOptions, detachedRun, registerStudentCommands } from './student-command.js';
import { addStudentWork, afterUp, recordQuestions, runLabTasks, studentArgs, studentVars, type StudentFlags } from './student.js';
import { parseSeed } from './variants.js';
import { bindSpec, labVars } from './bind.js';
import { fillSoft } from './template.js';

function collectVar(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^([a-zA-Z][a-zA-Z0-9_.-]*)=(.*)$/.exec(value);
  if (!m) throw invalidArgument(`--var ${value}: expected NAME=VALUE, e.g. --var port=7007`);
  return { ...previous, [m[1]!]: m[2]! };
}

function collectLog(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^([a-z][a-z0-9-]*)=(.+)$/.exec(value);
  if (!m) throw invalidArgument(`--log ${value}: expected SERVICE=FILE, e.g. --log echo=/tmp/echo.jsonl`);
  return { ...previous, [m[1]!]: m[2]! };
}

function livePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw invalidArgument(`--port ${value}: expected a port number 0-65535`);
  return n;
}

const human = (json: boolean): RunOutput => ({ line: (t) => (json ? process.stderr.write(`${t}\n`) : print(t)) });

interface BackendFlags {
  backend?: BackendChoice;
  image?: string;
}

/** --backend and --image, the same on up, run, check and down. */
function addBackendOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--backend <name>', 'where the hosts run: local, netns, docker, or auto (namespaces if the lab has any, else this machine)').argParser(parseBackend).default('auto'))
    .option('--image <name>', 'with --backend docker: the image every host runs (default socketlab:lab, from socketlab image build)');
}

/**
 * Fails early, in one line (exit 2), when the chosen backend cannot run SPEC: a local run of a
 * namespace lab, no Docker engine, no image.
 */
async function preflight(spec: LabSpec, flags: BackendFlags): Promise<void> {
  if (flags.image !== undefined && flags.backend !== 'docker') throw invalidArgument('--image is for --backend docker');
  if (chooseBackend(spec, flags.backend) === 'docker') await checkDockerReady(flags.image);
}

interface RunFlags extends StudentFlags, BackendFlags {
  var?: Record<string, string>;
  json?: boolean;
  junit?: string;
  step?: boolean;
  report?: string;
  live?: boolean;
  port?: number;
  hold?: boolean;
}

/** Writes --junit and --json and sets the exit code from a finished report. */
function finish(report: LabReport, flags: RunFlags): void {
  if (flags.junit) {
    mkdirSync(dirname(flags.junit), { recursive: true });
    writeFileSync(flags.junit, toJunit([report]));
  }
  if (flags.json) printJson(report);
  process.exitCode = report.exitCode;
}

/** Set by a signal (or crash) handler: the teardown runs and exits; the run must not go on. */
let signalled = false;

/**
 * Tears the lab down on Ctrl-C / SIGTERM (through the shutdown coordinator, which exits 130 / 143
 * once every cleanup has settled), on SIGHUP, on a crash and when stdout's reader goes away; returns
 * the remover.
 */
function teardownOnSignal(name: string, getRun: () => LabRun | undefined): () => void {
  let teardown: Promise<void> | undefined;
  const down = (): Promise<void> => {
    if (teardown) return teardown;
    signalled = true;
    process.stderr.write(`\nstopping lab ${name} ...\n`);
    const run = getRun();
    const st = readState(name);
    teardown = run ? run.down() : st ? teardownState(st) : Promise.resolve();
    return teardown;
  };
  /** The paths the coordinator does not own: tear down, then exit with `code` (at once when asked twice). */
  const stop = (code: number) => () => {
    if (teardown) process.exit(code);
    void down().finally(() => process.exit(code));
  };
  const offShutdown = onShutdown(() => down());
  const onHup = stop(143);
  // a crash tears down too: nothing the lab started may outlive it
  const onCrash = (err: unknown): void => {
    process.stderr.write(`socketlab: lab ${name} crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    stop(2)();
  };
  // output piped into `head` that went away: nobody is watching, so tear the lab down and exit
  const offOutput = onOutputClosed(() => stop(typeof process.exitCode === 'number' ? process.exitCode : 0)());
  const offHup = onHangup(onHup);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  return () => {
    offShutdown();
    offHup();
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    offOutput();
  };
}

/** Ctrl-C / SIGTERM began the teardown: no more output or results; its handler exits (130 / 143) when done. */
function interrupted(): Promise<never> {
  return new Promise<never>(() => {});
}

async function runLab(spec: LabSpec, flags: RunFlags): Promise<LabReport> {
  const out = human(Boolean(flags.json));
  const started = Date.now();
  const report: LabReport = { lab: spec.name, title: spec.title, topic: spec.topic, exitCode: 2, passed: false, steps: [], checks: [], startedAt: new Date(started).toISOString(), durationMs: 0 };
  let run: LabRun | undefined;
  // the event stream (captured packets, TCP states, steps, checks) behind --live, --step, --report, --json
  const session = flags.live || flags.step || flags.report || flags.json ? new LabSession(spec, { live: flags.live, port: flags.port, step: flags.step, out }) : undefined;
  const unhook = teardownOnSignal(spec.name, () => run);
  try {
    out.line(bold(`lab ${spec.name}: ${spec.title}`));
    out.line(dim(`topic: ${spec.topic}`));
    await session?.open();
    run = await LabRun.up(spec, { vars: studentVars(spec, flags).vars, out, onRun: (r) => (run = r), ...(flags.backend && { backend: flags.backend }), ...(flags.image && { image: flags.image }), ...(session && { onHostsReady: (r: LabRun) => session.attach(r) }) });
    await afterUp(run, flags, out);
    out.line('');
    const steps = await run.runSteps(
      (s, i) => {
        session?.afterStep(s, i);
        out.line(formatStep(s, i));
        out.line('');
      },
      session && ((step, i, command) => session.beforeStep(i, step.name, step.host, command, step.show)),
    );
    if (signalled) await interrupted();
    await session?.control.settled();
    const checks = await run.check();
    if (signalled) await interrupted();
    session?.checks(checks);
    report.steps = steps.map(({ stdout: _o, stderr: _e, ...rest }) => rest);
    report.checks = checks;
    report.exitCode = exitCodeOf(checks, steps);
    report.passed = report.exitCode === 0;
    if (session) {
      const v = verdictOf(report);
      await session.finish(v.verdict, v.passed);
      if (flags.json) report.events = session.jsonEvents();
    }
    out.line(bold('checks'));
    out.line(formatChecks(checks));
    await addStudentWork(run, report, { out, tasksCount: false, expected: await recordQuestions(run) });
    const corrections = labNotesCorrections(spec.dir);
    if (corrections.length > 0) {
      report.notesDiffer = corrections;
      out.line('');
      out.line(formatNotesCorrections(corrections));
    }
    if (!flags.json) {
      const readme = join(spec.dir, 'README.md');
      out.line(dim(`\nnext: ${existsSync(readme) ? `the questions in ${readme}; ` : ''}socketlab lab run ${spec.name} --step (event by event) or --report run.html; socketlab lab list`));
    }
    if (flags.report) {
      report.durationMs = Date.now() - started;
      writeReport(flags.report, spec, report, session?.log.events);
      out.line(dim(`report written to ${flags.report}`));
    }
  } catch (err) {
    if (signalled) await interrupted();
    if (!isLabError(err)) throw err;
    report.error = err.message;
    report.exitCode = err.exitCode === 1 ? 1 : 2;
    out.line(`socketlab: lab ${spec.name} could not run: ${err.message}`);
    if (flags.report) {
      // a page that says why, so a CI artifact is never missing
      report.durationMs = Date.now() - started;
      mkdirSync(dirname(flags.report), { recursive: true });
      writeFileSync(flags.report, renderReport(spec, report, session?.log.events));
    }
  } finally {
    // tcpdump and the pollers stop before the namespaces go
    await session?.observer?.stop();
    await run?.down();
    unhook();
    report.durationMs = Date.now() - started;
  }
  if (session?.server) {
    if (report.error) session.log.emit({ kind: 'run', phase: 'end', t: Date.now(), ...verdictOf(report) });
    if (flags.hold !== false) {
      out.line(`the run is over; the page stays at ${session.server.url} until Ctrl-C`);
      await untilShutdown();
    }
    await session.close();
  }
  return report;
}

/** Registers `socketlab lab list|show|validate|up|run|check|down|export`. */
export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('labs: a topology, services, steps and checks that make one course topic happen on real sockets')
    .addHelpText('after', `
Examples:
  $ socketlab lab list
  $ socketlab lab run 02-socket-pairs           up, steps, checks, down
  $ socketlab lab run 03 --step --report /tmp/handshake.html
  $ socketlab lab up 05-sessions && socketlab lab check 05-sessions --junit grades.xml && socketlab lab down 05-sessions`);

  lab
    .command('list')
    .description('the labs, their topics, and whether they need root')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const rows = listLabFiles().map((l) => {
        try {
          const s = loadLabFile(l.file);
          return { name: s.name, title: s.title, topic: s.topic, needsRoot: needsRoot(s), where: s.hosts.some((h) => h.kind === 'netns') ? 'namespaces (root)' : s.root ? 'localhost (root)' : 'localhost', file: l.file };
        } catch (err) {
          return { name: l.name, title: `(invalid: ${(err as Error).message.split('\n')[0]})`, topic: '', needsRoot: false, where: '?', file: l.file };
        }
      });
      if (opts.json) return printJson(rows);
      print(table(rows, [
        { header: 'LAB', get: (r) => r.name },
        { header: 'WHERE', get: (r) => r.where },
        { header: 'TITLE', get: (r) => r.title },
      ]));
      print(dim('\nrun one: socketlab lab run NAME   (NAME may be its number: socketlab lab run 2)'));
    });

  lab
    .command('show')
    .description('what a lab does: hosts, services, steps and checks')
    .argument('<name>', 'lab name, number or path to a lab.yaml')
    .option('--json', 'print the parsed lab file as JSON')
    .addOption(new Option('--seed <n>', "show this variant's values (addresses, names, ports)").argParser((v) => (parseSeed(v), v)))
    .option('--student <id>', "show this student's variant")
    .action((name: string, opts: { json?: boolean; seed?: string; student?: string }) => {
      const file = resolveLab(name);
      if (opts.json) return printJson(file);
      // the values the lab would run with, known without running it (vars, service ports from their flags)
      const { vars, variant } = studentVars(file, opts);
      const scope = staticScope(file, vars);
      const spec = bindSpec(file, labVars(file, vars));
      // the run dir exists only once the lab runs: shown as <run_dir>
      const { run_dir: _r, lab_dir: _l, ...known } = scope;
      const t = (text: string): string => fillSoft(text, known);
      if (variant) print(dim(`variant: seed ${variant.seed}${variant.student ? ` (student ${variant.student})` : ''}`));
      print(bold(`${spec.name}: ${spec.title}`));
      print(`topic: ${spec.topic}`);
      if (spec.summary) print(`\n${t(spec.summary.trim())}`);
      print(`\nhosts: ${spec.hosts.map((h) => `${h.name} (${h.kind === 'netns' ? 'namespace' : 'this machine'}${h.ephemeralRange ? `, ephemeral ${h.ephemeralRange.join('-')}` : ''})`).join(', ')}`);
      for (const s of spec.segments) print(`segment ${s.name}: ${s.members.map((m) => `${m.host}${m.address ? ` ${m.address}` : ' (DHCP)'}${m.mac ? ` ${m.mac}` : ''}`).join(', ')}`);
      print('\nservices:');
      for (const s of spec.services) print(`  ${s.name} on ${s.host}: ${s.program ? '' : 'socketlab '}${t(s.run)}`);
      print('\nsteps:');
      spec.steps.forEach((s, i) => print(`  ${i + 1}. ${t(s.name)}: ${t(s.run)}${s.background ? '  [keeps running]' : ''}`));
      print('\nchecks:');
      for (const c of spec.checks) {
        let text: string;
        try {
          text = describeCheck(c, scope);
        } catch {
          text = `${c.kind} (${JSON.stringify(c)})`;
        }
        print(`  - ${text}`);
      }
      const readme = join(spec.dir, 'README.md');
      if (existsSync(readme)) print(dim(`\nread ${readme} for the goal and the questions`));
    });

  lab
    .command('validate')
    .description('check lab files without running them: one line per problem (file, field, line); exit 2 if any')
    .argument('<file...>', 'lab.yaml / lab.json files or lab directories')
    .option('--json', 'print each file\'s problems as JSON')
    .action((paths: string[], opts: { json?: boolean }) => {
      const results = paths.map((p) => ({ file: shown(labFileIn(p)), problems: checkLabFile(labFileIn(p)).problems }));
      if (opts.json) printJson(results.map((r) => ({ file: r.file, valid: r.problems.length === 0, problems: r.problems })));
      else for (const r of results) print(r.problems.length ? r.problems.map((p) => p.text).join('\n') : `${r.file}: valid`);
      if (results.some((r) => r.problems.length > 0)) process.exitCode = 2;
    });

  registerStudentCommands(lab);

  addStudentOptions(addBackendOptions(lab
    .command('run')
    .description('up, steps, checks, down: the whole lab in one command')
    .argument('<name>', 'lab name, number or path to a lab.yaml')
    .addOption(new Option('--var <name=value>', 'override a lab variable (repeatable)').argParser(collectVar))
    .option('--step', 'pause before each step and after each group of packets (lease clocks stop meanwhile)')
    .option('--live', 'serve a page on 127.0.0.1 that draws every packet as it happens (URL printed)')
    .addOption(new Option('--port <n>', 'port of the --live page (default: any free port)').argParser(livePort))
    .option('--no-hold', 'with --live: exit when the run ends instead of keeping the page up until Ctrl-C (CI)')
    .option('--report <file.html>', 'write a self-contained HTML report (ladder diagram, socket pairs, checks)')
    .option('--junit <file>', 'write the checks as JUnit XML')
    .option('--json', 'print the result as JSON')
    .option('--yes', 'run a lab file from outside the installed labs without asking (it runs its commands, as root for namespace labs)')))
    .action(async (name: string, flags: RunFlags & { yes?: boolean }) => {
      const spec = resolveLab(name);
      await preflight(spec, flags);
      await confirmLab(spec, flags.yes, 'run');
      finish(await runLab(spec, flags), flags);
    });

  addStudentOptions(addBackendOptions(lab
    .command('up')
    .description('start a lab and leave it running (then: lab check, lab down)')
    .argument('<name>', 'lab name, number or path to a lab.yaml')
    .addOption(new Option('--var <name=value>', 'override a lab variable (repeatable)').argParser(collectVar))
    .option('--no-steps', 'only start the hosts and services')
    .option('--yes', 'start a lab file from outside the installed labs without asking')))
    .action(async (name: string, flags: StudentFlags & BackendFlags & { steps: boolean; yes?: boolean }) => {
      const spec = resolveLab(name);
      await preflight(spec, flags);
      await confirmLab(spec, flags.yes, 'up');
      studentVars(spec, flags); // a bad --break or --seed is an error here, not in the background
      const existing = readState(spec.name);
      if (existing && stateIsLive(existing)) {
        throw new LabError('LAB_ERR_LAB_RUN', `lab ${spec.name} is already up (run dir ${existing.runDir}); run "socketlab lab down ${spec.name}" first`);
      }
      const starter = startLockHolder(spec.name);
      if (starter) throw new LabError('LAB_ERR_LAB_RUN', `lab ${spec.name} is already starting (pid ${starter}); wait for it, or stop it with "socketlab lab down ${spec.name}"`);
      // A supervisor process holds the lab (and its namespaces, which die with their creator) until `lab down`.
      mkdirSync(runRoot(), { recursive: true });
      // this invocation's own log until the lab is up: a second "lab up" must not truncate the first's
      const logFile = join(runRoot(), `${spec.name}.up-${process.pid}.log`);
      const fd = openSync(logFile, 'w');
      const args = [CLI_PATH, 'lab', 'hold', spec.file, ...Object.entries(flags.var ?? {}).flatMap(([k, v]) => ['--var', `${k}=${v}`]), ...(flags.steps ? [] : ['--no-steps']), ...studentArgs(flags), '--backend', flags.backend ?? 'auto', ...(flags.image ? ['--image', flags.image] : [])];
      const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, NO_COLOR: '1' } });
      closeSync(fd);
      child.unref();
      let exited: number | null | undefined;
      child.on('exit', (code) => (exited = code));
      const until = Date.now() + 180_000;
      let text = '';
      for (;;) {
        text = readFileSync(logFile, 'utf8');
        if (/^lab \S+ is up/m.test(text)) break;
        if (exited !== undefined || Date.now() > until) {
          if (exited === undefined) killGroup(child.pid, 'SIGTERM');
          // the supervisor's own error ("already starting" ...) is the answer
          const why = /^socketlab: (.*)$/m.exec(text.split('\n').reverse().join('\n'))?.[1];
          if (exited === 2 && why && /already (starting|up)/.test(why)) {
            rmSync(logFile, { force: true });
            throw new LabError('LAB_ERR_LAB_RUN', why);
          }
          process.stdout.write(text);
          throw new LabError('LAB_ERR_LAB_RUN', `lab ${spec.name} did not come up${exited !== undefined ? ` (exit ${exited})` : ' within 180 s'}; see ${logFile}`);
        }
        await sleep(100);
      }
      renameSync(logFile, join(runRoot(), `${spec.name}.up.log`));
      process.stdout.write(text);
      print(`next: socketlab lab check ${spec.name}    then: socketlab lab down ${spec.name}`);
    });

  addStudentOptions(addBackendOptions(lab
    .command('hold', { hidden: true })
    .description('(internal) bring a lab up and hold it until SIGTERM; what "lab up" runs in the background')
    .argument('<name>')
    .addOption(new Option('--var <name=value>').argParser(collectVar))
    .option('--no-steps')))
    .action(async (name: string, flags: StudentFlags & BackendFlags & { steps: boolean }) => {
      const spec = resolveLab(name);
      const out = human(false);
      let run: LabRun | undefined;
      teardownOnSignal(spec.name, () => run);
      try {
        run = await LabRun.up(spec, { vars: studentVars(spec, flags).vars, out, onRun: (r) => (run = r), ...(flags.backend && { backend: flags.backend }), ...(flags.image && { image: flags.image }) });
        await afterUp(run, flags, out);
        if (flags.steps) await run.runSteps((s, i) => out.line(formatStep(s, i)));
        if (signalled) await interrupted();
        await recordQuestions(run);
      } catch (err) {
        if (signalled) await interrupted();
        await run?.down();
        throw err;
      }
      print(`\nlab ${spec.name} is up (state in ${run.state.runDir}, held by pid ${process.pid}).`);
      // stay alive until lab down sends SIGTERM (teardownOnSignal tears down, then exits)
      setInterval(() => {}, 1 << 30);
      await new Promise<void>(() => {});
    });

  addBackendOptions(lab
    .command('check')
    .description("run a lab's checks against what is running now (a lab that is up, or your own setup)")
    .argument('<name>', 'lab name, number or path to a lab.yaml')
    .addOption(new Option('--var <name=value>', 'a value for a lab variable (repeatable)').argParser(collectVar))
    .addOption(new Option('--log <service=file>', "your own service's JSON log, for log checks (repeatable)").argParser(collectLog))
    .option('--junit <file>', 'write the checks as JUnit XML')
    .option('--json', 'print the result as JSON'))
    .action(async (name: string, flags: RunFlags & { log?: Record<string, string> }) => {
      const spec = resolveLab(name);
      const started = Date.now();
      if (flags.backend !== undefined && flags.backend !== 'auto') {
        const st = readState(spec.name);
        const was = st?.backend ?? (st?.topologyId ? 'netns' : 'local');
        if (st && was !== flags.backend) throw invalidArgument(`lab ${spec.name} is up on --backend ${was}, not ${flags.backend}`);
        if (!st && flags.backend === 'docker') throw new LabError('LAB_ERR_LAB_RUN', `lab ${spec.name} is not up: start it with "socketlab lab up ${spec.name} --backend docker" first`);
      }
      const attached = LabRun.attach(spec, { vars: flags.var });
      if (!attached && spec.hosts.some((h) => h.kind === 'netns')) {
        // detached checks would look at (and send traffic from) this machine's own network namespace
        throw new LabError('LAB_ERR_LAB_RUN', `lab ${spec.name} is not up: its hosts are network namespaces, made by "sudo socketlab lab up ${spec.name}"; run that first`);
      }
      const run = attached ?? detachedRun(spec, flags.log ?? {}, flags.var);
      // a check's command runs in its own process group (no terminal SIGINT): stop it with us, leave the lab up
      onShutdown(() => {
        for (const pid of foreground) killGroup(pid, 'SIGKILL');
      });
      // tasks first: a fixed lab's task checks make the traffic (a DHCP exchange) the lab's checks look for
      const tasks = await runLabTasks(run);
      const checks = await run.check();
      const report: LabReport = { lab: spec.name, title: spec.title, topic: spec.topic, exitCode: exitCodeOf(checks, []), passed: false, steps: [], checks, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started };
      if (!flags.json) print(formatChecks(checks));
      await addStudentWork(run, report, { tasksCount: true, tasks, ...(!flags.json && { out: human(false) }) });
      report.passed = report.exitCode === 0;
      finish(report, flags);
    });

  addBackendOptions(lab
    .command('down')
    .description('stop a lab started with "lab up": its processes, then its namespaces or containers')
    .argument('<name>', 'lab name, number or path to a lab.yaml'))
    .action(async (name: string, flags: BackendFlags) => {
      const spec = resolveLab(name);
      const state = readState(spec.name);
      if (!state && flags.backend === 'docker') {
        // no state (removed, another machine's run dir): what the engine has labelled is the truth
        const removed = await BACKENDS.docker.clean(spec.name);
        print(removed.length ? `lab ${spec.name} is down (${removed.join(', ')} removed)` : `lab ${spec.name} has nothing in Docker; nothing to stop`);
        return;
      }
      if (!state) {
        print(`lab ${spec.name} is not up (no state in its run directory); nothing to stop`);
        return;
      }
      const runnerUp = (): boolean => state.runnerPid !== process.pid && isSameProcess(state.runnerPid, state.runnerStartTime);
      if (runnerUp()) {
        // the runner (lab up's supervisor, or a lab run in another terminal) tears down itself
        killGroup(state.runnerPid, 'SIGTERM');
        const until = Date.now() + 30_000;
        while (runnerUp() && Date.now() < until) await sleep(100);
      }
      // whatever is left (a crashed runner): processes from the state file, then the namespaces
      await teardownState(state);
      rmSync(join(runRoot(), `${spec.name}.up.log`), { force: true });
      const hosts = state.backend === 'docker' ? `, containers and networks labelled socketlab.lab=${spec.name} removed` : state.topologyId ? `, namespaces sl-${state.topologyId}-* removed` : '';
      print(`lab ${spec.name} is down (${state.processes.length} processes stopped${hosts})`);
    });

  lab
    .command('export')
    .description('write a Docker compose file and Dockerfile that run the same lab as containers')
    .argument('<name>', 'lab name, number or path to a lab.yaml')
    .requiredOption('--docker <dir>', 'directory to write compose.yaml and Dockerfile into')
    .option('--force', "overwrite files in DIR that are not this lab's own earlier export")
    .option('--image <name>', 'use this image (e.g. socketlab:lab from socketlab image build): no build section, no Dockerfile')
    .action((name: string, flags: { docker: string; force?: boolean; image?: string }) => {
      const spec = resolveLab(name);
      const files = exportDocker(spec, flags.docker, { force: flags.force, ...(flags.image === undefined ? {} : { image: flags.image }) });
      for (const f of files) print(`wrote ${f}`);
    });
}

