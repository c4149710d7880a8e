/**
 * The lab file: what a lab is made of (hosts, services, steps, checks), and a hand-written
 * validator whose errors name the file, the field path and the line (`lab.yaml: hosts[1].name: ...`).
 */
import { parseStateArg } from '../netstat/states.js';

/** A value that may still hold `${var}` placeholders, resolved when the lab runs. */
export type Templated<T> = T | string;

export interface HostSpec {
  name: string;
  /** `localhost`: this machine, no root. `netns`: a network namespace (root). */
  kind: 'localhost' | 'netns';
  forwarding?: boolean;
  ephemeralRange?: [number, number];
}

export interface SegmentSpec {
  name: string;
  members: { host: string; address?: string }[];
}

export interface RouteSpec {
  host: string;
  to: string;
  via: string;
}

/** A long-running socketlab command; the runner waits for its `socketlab-x listening on` line. */
export interface ServiceSpec {
  name: string;
  host: string;
  /** socketlab arguments, e.g. `echo --port 7007` (no leading `socketlab`). */
  run: string;
  /** wait for this regex on stdout instead of the standard ready line */
  ready?: string;
  /** a plain program (not socketlab), e.g. radvd; runner does not add --log-file */
  program?: boolean;
}

export interface StepSpec {
  name: string;
  host: string;
  /** a command line; a leading `socketlab` runs this package's CLI */
  run: string;
  /** what the learner should look at in the output */
  show?: string;
  /** keep running (e.g. `connect --hold`) while the checks run; stopped at teardown */
  background?: boolean;
  /** for background steps: wait until stdout matches this regex */
  until?: string;
  /** expected exit code of a foreground step; default 0 */
  exit?: number;
  /** seconds to wait after the step (a lease clock, TIME-WAIT ...) */
  wait?: number;
}

export const CHECK_KINDS = [
  'listening',
  'established-pairs',
  'sockets',
  'ephemeral-source',
  'log-event',
  'command',
  'capture',
] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

interface CheckBase {
  kind: CheckKind;
  /** what this check means, in the course's words; generated when omitted */
  name?: string;
  /** what to look at when the check fails */
  hint: string;
  host?: string;
}

/** "tcp/7007 is LISTEN, held by socketlab-echo" */
export interface ListeningCheck extends CheckBase {
  kind: 'listening';
  proto: 'tcp' | 'udp';
  port: Templated<number>;
  process?: string;
  /** true: assert that nothing listens there */
  absent?: boolean;
}

/** "3 ESTABLISHED pairs share server port 7007" */
export interface EstablishedPairsCheck extends CheckBase {
  kind: 'established-pairs';
  port: Templated<number>;
  count?: Templated<number>;
  min?: Templated<number>;
}

/** Sockets in a state on a port, e.g. TIME-WAIT left behind by the active closer. */
export interface SocketsCheck extends CheckBase {
  kind: 'sockets';
  proto: 'tcp' | 'udp';
  port: Templated<number>;
  state: string;
  count?: Templated<number>;
  min?: Templated<number>;
  max?: Templated<number>;
}

/** Every client source port a service logged lies in the client host's ephemeral range. */
export interface EphemeralSourceCheck extends CheckBase {
  kind: 'ephemeral-source';
  service: string;
  event?: string;
  /** the host whose ephemeral range applies (the client's); default: the check's host */
  client?: string;
  min?: Templated<number>;
}

/** Log records of a service with `event` and fields matching `where` (value or /regex/). */
export interface LogEventCheck extends CheckBase {
  kind: 'log-event';
  service: string;
  event: string;
  where?: Record<string, Templated<string | number | boolean>>;
  count?: Templated<number>;
  min?: Templated<number>;
  max?: Templated<number>;
}

/** A command's exit code and output. */
export interface CommandCheck extends CheckBase {
  kind: 'command';
  run: string;
  exit?: number;
  'stdout-matches'?: string;
  'stdout-not-matches'?: string;
}

/** What `socketlab capture` (a service of the lab) saw: segment kinds in order. */
export interface CaptureCheck extends CheckBase {
  kind: 'capture';
  service: string;
  /** a shorthand for SYN, SYN-ACK, ACK */
  handshake?: boolean;
  /** segment kinds that must appear in this order, e.g. [FIN, ACK] */
  sequence?: string[];
}

export type CheckSpec =
  | ListeningCheck
  | EstablishedPairsCheck
  | SocketsCheck
  | EphemeralSourceCheck
  | LogEventCheck
  | CommandCheck
  | CaptureCheck;

export interface LabSpec {
  name: string;
  title: string;
  /** the course-notes topic this lab makes visible */
  topic: string;
  summary?: string;
  /** needs root even on localhost (tcpdump, ports below 1024) */
  root?: boolean;
  /** files of the lab folder copied into the run dir before services start (so steps may edit them) */
  files: string[];
  /** default values for `${name}` placeholders; `--var name=value` overrides */
  vars: Record<string, string>;
  hosts: HostSpec[];
  segments: SegmentSpec[];
  routes: RouteSpec[];
  services: ServiceSpec[];
  steps: StepSpec[];
  checks: CheckSpec[];
  /** where the file was read from */
  file: string;
  dir: string;
}

/** True when the lab needs network namespaces (root). */
export function needsRoot(spec: Pick<LabSpec, 'hosts' | 'root'>): boolean {
  return spec.root === true || spec.hosts.some((h) => h.kind === 'netns');
}

/** One validation problem: a field path and what is wrong with it. */
export interface SchemaIssue {
  path: (string | number)[];
  message: string;
}

/** `hosts[1].name` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const NAME_RE = /^[a-z][a-z0-9-]{0,14}$/;
const TEMPLATE_RE = /\$\{[a-zA-Z0-9_.-]+\}/;

class Validator {
  readonly issues: SchemaIssue[] = [];
  fail(path: (string | number)[], message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  obj(v: unknown, path: (string | number)[], allowed: readonly string[]): Obj | undefined {
    if (!isObj(v)) return this.fail(path, `must be a mapping (key: value), got ${describe(v)}`);
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.fail([...path, k], `unknown field; expected one of ${allowed.join(', ')}`);
    }
    return v;
  }

  str(o: Obj, key: string, path: (string | number)[], opts: { required?: boolean; re?: RegExp; reWhy?: string } = {}): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) return opts.required ? this.fail([...path, key], 'is required') : undefined;
    if (typeof v !== 'string' || v.trim() === '') return this.fail([...path, key], `must be a non-empty string, got ${describe(v)}`);
    if (opts.re && !opts.re.test(v)) return this.fail([...path, key], `${JSON.stringify(v)} ${opts.reWhy ?? `must match ${opts.re}`}`);
    return v;
  }

  /** a string or a list of strings joined by spaces (YAML folded commands) */
  command(o: Obj, key: string, path: (string | number)[], required = true): string | undefined {
    const v = o[key];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.map(String).join(' ');
    if (typeof v === 'number') return String(v);
    return this.str(o, key, path, { required });
  }

  int(o: Obj, key: string, path: (string | number)[], min: number, max: number, required = false): Templated<number> | undefined {
    const v = o[key];
    if (v === undefined || v === null) return required ? this.fail([...path, key], 'is required') : undefined;
    if (typeof v === 'string' && TEMPLATE_RE.test(v)) return v;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      return this.fail([...path, key], `must be an integer from ${min} to ${max} (or a \${var}), got ${describe(v)}`);
    }
    return v;
  }

  bool(o: Obj, key: string, path: (string | number)[]): boolean | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return this.fail([...path, key], `must be true or false, got ${describe(v)}`);
    return v;
  }

  regex(o: Obj, key: string, path: (string | number)[]): string | undefined {
    const s = this.str(o, key, path);
    if (s === undefined) return undefined;
    try {
      new RegExp(s, 'm');
    } catch (err) {
      return this.fail([...path, key], `is not a valid regular expression: ${(err as Error).message}`);
    }
    return s;
  }

  list(o: Obj, key: string, path: (string | number)[], required: boolean): unknown[] {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.fail([...path, key], 'is required (a list)');
      return [];
    }
    if (!Array.isArray(v)) {
      this.fail([...path, key], `must be a list, got ${describe(v)}`);
      return [];
    }
    return v;
  }

  oneOf<T extends string>(o: Obj, key: string, path: (string | number)[], values: readonly T[], required: boolean): T | undefined {
    const v = o[key];
    if (v === undefined) return required ? this.fail([...path, key], `is required; one of ${values.join(', ')}`) : undefined;
    if (typeof v !== 'string' || !values.includes(v as T)) {
      return this.fail([...path, key], `must be one of ${values.join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Segment kinds a capture check can name (what flagsKind() in checks.ts reads from tcpdump's flags). */
const SEGMENT_KINDS: readonly string[] = ['SYN', 'SYN-ACK', 'ACK', 'DATA', 'FIN', 'RST'];

const CHECK_FIELDS: Record<CheckKind, readonly string[]> = {
  listening: ['proto', 'port', 'process', 'absent'],
  'established-pairs': ['port', 'count', 'min'],
  sockets: ['proto', 'port', 'state', 'count', 'min', 'max'],
  'ephemeral-source': ['service', 'event', 'client', 'min'],
  'log-event': ['service', 'event', 'where', 'count', 'min', 'max'],
  command: ['run', 'exit', 'stdout-matches', 'stdout-not-matches'],
  capture: ['service', 'handshake', 'sequence'],
};

/**
 * Validates a parsed lab file. Returns the spec and the list of issues (empty when valid); every
 * issue has the path of the field at fault so the loader can point at its line.
 */
export function validateLab(raw: unknown, file: string, dir: string): { spec?: LabSpec; issues: SchemaIssue[] } {
  const v = new Validator();
  const top = v.obj(raw, [], ['name', 'title', 'topic', 'summary', 'root', 'files', 'vars', 'hosts', 'segments', 'routes', 'services', 'steps', 'checks']);
  if (!top) return { issues: v.issues };

  const name = v.str(top, 'name', [], { required: true, re: /^[0-9]{2}-[a-z0-9-]+$/, reWhy: 'must look like 02-socket-pairs (two digits, dash, lowercase words)' });
  const title = v.str(top, 'title', [], { required: true });
  const topic = v.str(top, 'topic', [], { required: true });
  const summary = v.str(top, 'summary', []);
  const root = v.bool(top, 'root', []);
  const files: string[] = [];
  v.list(top, 'files', [], false).forEach((f, i) => {
    if (typeof f !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(f)) v.fail(['files', i], `must be a file name inside the lab folder (no path), got ${describe(f)}`);
    else files.push(f);
  });

  const vars: Record<string, string> = {};
  if (top.vars !== undefined) {
    const vo = v.obj(top.vars, ['vars'], Object.keys(isObj(top.vars) ? top.vars : {}));
    for (const [k, val] of Object.entries(vo ?? {})) {
      if (!/^[a-zA-Z][a-zA-Z0-9_]*$/.test(k)) v.fail(['vars', k], 'variable names are letters, digits and _');
      else if (typeof val !== 'string' && typeof val !== 'number') v.fail(['vars', k], `must be a string or number, got ${describe(val)}`);
      else vars[k] = String(val);
    }
  }

  const hosts: HostSpec[] = [];
  v.list(top, 'hosts', [], true).forEach((h, i) => {
    const p = ['hosts', i];
    const o = v.obj(h, p, ['name', 'kind', 'forwarding', 'ephemeral-range']);
    if (!o) return;
    const hn = v.str(o, 'name', p, { required: true, re: NAME_RE, reWhy: 'must be a short lowercase name ([a-z][a-z0-9-], at most 15 characters)' });
    const kind = v.oneOf(o, 'kind', p, ['localhost', 'netns'] as const, true);
    const forwarding = v.bool(o, 'forwarding', p);
    let ephemeralRange: [number, number] | undefined;
    if (o['ephemeral-range'] !== undefined) {
      const r = o['ephemeral-range'];
      if (!Array.isArray(r) || r.length !== 2 || !r.every((n) => Number.isInteger(n) && n >= 1 && n <= 65535) || r[0] > r[1]) {
        v.fail([...p, 'ephemeral-range'], 'must be [first, last] ports with first <= last, e.g. [40000, 40009]');
      } else ephemeralRange = [r[0], r[1]];
      if (kind === 'localhost') v.fail([...p, 'ephemeral-range'], "can only be set on a netns host (it would change this machine's own range)");
    }
    if (hn && hosts.some((x) => x.name === hn)) v.fail([...p, 'name'], `"${hn}" is already used by another host`);
    if (hn && kind) hosts.push({ name: hn, kind, ...(forwarding !== undefined && { forwarding }), ...(ephemeralRange && { ephemeralRange }) });
  });
  const kinds = new Set(hosts.map((h) => h.kind));
  if (kinds.size > 1) v.fail(['hosts'], 'mixes localhost and netns hosts; a lab runs either on this machine or in namespaces');
  if (kinds.has('localhost') && hosts.length > 1) v.fail(['hosts'], 'a localhost lab has exactly one host (this machine)');
  const hostNames = new Set(hosts.map((h) => h.name));
  const hostRef = (o: Obj, key: string, p: (string | number)[], required: boolean): string | undefined => {
    const hn = v.str(o, key, p, { required });
    if (hn === undefined) return hosts.length === 1 && !required ? hosts[0]!.name : undefined;
    if (!hostNames.has(hn)) return v.fail([...p, key], `no host named "${hn}" (hosts: ${[...hostNames].join(', ') || 'none'})`);
    return hn;
  };

  const segments: SegmentSpec[] = [];
  v.list(top, 'segments', [], false).forEach((s, i) => {
    const p = ['segments', i];
    const o = v.obj(s, p, ['name', 'members']);
    if (!o) return;
    const sn = v.str(o, 'name', p, { required: true, re: NAME_RE, reWhy: 'must be a short lowercase name' });
    const members: SegmentSpec['members'] = [];
    v.list(o, 'members', p, true).forEach((m, j) => {
      const mp = [...p, 'members', j];
      const mo = v.obj(m, mp, ['host', 'address']);
      if (!mo) return;
      const host = hostRef(mo, 'host', mp, true);
      const address = v.str(mo, 'address', mp, { re: /^[0-9a-fA-F.:]+\/\d{1,3}$/, reWhy: 'must be an address with a prefix length, e.g. 10.0.1.1/24' });
      if (host) members.push({ host, ...(address && { address }) });
    });
    if (sn) segments.push({ name: sn, members });
  });
  if (kinds.has('localhost') && segments.length > 0) v.fail(['segments'], 'only netns labs have segments');

  const routes: RouteSpec[] = [];
  v.list(top, 'routes', [], false).forEach((r, i) => {
    const p = ['routes', i];
    const o = v.obj(r, p, ['host', 'to', 'via']);
    if (!o) return;
    const host = hostRef(o, 'host', p, true);
    const to = v.str(o, 'to', p, { required: true });
    const via = v.str(o, 'via', p, { required: true });
    if (host && to && via) routes.push({ host, to, via });
  });

  const services: ServiceSpec[] = [];
  v.list(top, 'services', [], false).forEach((s, i) => {
    const p = ['services', i];
    const o = v.obj(s, p, ['name', 'host', 'run', 'ready', 'program']);
    if (!o) return;
    const sn = v.str(o, 'name', p, { required: true, re: NAME_RE, reWhy: 'must be a short lowercase name' });
    const host = hostRef(o, 'host', p, false);
    const run = v.command(o, 'run', p);
    const ready = v.regex(o, 'ready', p);
    const program = v.bool(o, 'program', p);
    if (run && /^socketlab\s/.test(run) && !program) v.fail([...p, 'run'], 'is socketlab arguments without the leading "socketlab" (e.g. "echo --port 7007")');
    if (program && !ready) v.fail([...p, 'ready'], 'is required for a program service (a regex on its output that says it is up)');
    if (sn && services.some((x) => x.name === sn)) v.fail([...p, 'name'], `"${sn}" is already used by another service`);
    if (sn && host && run) services.push({ name: sn, host, run, ...(ready && { ready }), ...(program && { program }) });
  });
  const serviceNames = new Set(services.map((s) => s.name));
  const serviceRef = (o: Obj, p: (string | number)[]): string | undefined => {
    const sn = v.str(o, 'service', p, { required: true });
    if (sn !== undefined && !serviceNames.has(sn)) return v.fail([...p, 'service'], `no service named "${sn}" (services: ${[...serviceNames].join(', ') || 'none'})`);
    return sn;
  };

  const steps: StepSpec[] = [];
  v.list(top, 'steps', [], false).forEach((s, i) => {
    const p = ['steps', i];
    const o = v.obj(s, p, ['name', 'host', 'run', 'show', 'background', 'until', 'exit', 'wait']);
    if (!o) return;
    const sn = v.str(o, 'name', p, { required: true });
    const host = hostRef(o, 'host', p, false);
    const run = v.command(o, 'run', p);
    const show = v.str(o, 'show', p);
    const background = v.bool(o, 'background', p);
    const until = v.regex(o, 'until', p);
    const exit = exitCode(v, o, p);
    const wait = o.wait;
    if (wait !== undefined && (typeof wait !== 'number' || wait < 0 || wait > 120)) v.fail([...p, 'wait'], 'must be seconds from 0 to 120');
    if (until && !background) v.fail([...p, 'until'], 'only applies to a background step');
    if (sn && host && run) {
      steps.push({
        name: sn, host, run,
        ...(show && { show }), ...(background && { background }), ...(until && { until }),
        ...(typeof exit === 'number' && { exit }), ...(typeof wait === 'number' && { wait }),
      });
    }
  });

  const checks: CheckSpec[] = [];
  v.list(top, 'checks', [], true).forEach((c, i) => {
    const p = ['checks', i];
    if (!isObj(c)) return void v.fail(p, `must be a mapping (key: value), got ${describe(c)}`);
    const kind = v.oneOf(c, 'kind', p, CHECK_KINDS, true);
    if (!kind) return;
    const o = v.obj(c, p, ['kind', 'name', 'hint', 'host', ...CHECK_FIELDS[kind]]);
    if (!o) return;
    const base = { kind, hint: v.str(o, 'hint', p, { required: true }) ?? '', ...(o.name !== undefined && { name: v.str(o, 'name', p) }), host: hostRef(o, 'host', p, false) };
    const count = (k: string) => v.int(o, k, p, 0, 100000);
    const port = () => v.int(o, 'port', p, 0, 65535, true);
    switch (kind) {
      case 'listening':
        checks.push({ ...base, kind, proto: v.oneOf(o, 'proto', p, ['tcp', 'udp'] as const, true)!, port: port()!, ...(o.process !== undefined && { process: v.str(o, 'process', p) }), ...(o.absent !== undefined && { absent: v.bool(o, 'absent', p) }) } as ListeningCheck);
        break;
      case 'established-pairs':
        if (o.count === undefined && o.min === undefined) v.fail(p, 'established-pairs needs count or min');
        checks.push({ ...base, kind, port: port()!, count: count('count'), min: count('min') } as EstablishedPairsCheck);
        break;
      case 'sockets': {
        // a misspelt state (ESTABLISH, FIN_WAIT1 read as FIN-WAIT1) matched no row: "count: 0" passed on anything
        let state = v.str(o, 'state', p, { required: true });
        if (state !== undefined) {
          try {
            state = parseStateArg(state);
          } catch (err) {
            state = v.fail([...p, 'state'], (err as Error).message);
          }
        }
        checks.push({ ...base, kind, proto: v.oneOf(o, 'proto', p, ['tcp', 'udp'] as const, true)!, port: port()!, state: state!, count: count('count'), min: count('min'), max: count('max') } as SocketsCheck);
        break;
      }
      case 'ephemeral-source': {
        const client = o.client !== undefined ? hostRef(o, 'client', p, true) : undefined;
        checks.push({ ...base, kind, service: serviceRef(o, p)!, event: v.str(o, 'event', p), client, min: count('min') } as EphemeralSourceCheck);
        break;
      }
      case 'log-event': {
        let where: LogEventCheck['where'];
        if (o.where !== undefined) {
          const wo = v.obj(o.where, [...p, 'where'], isObj(o.where) ? Object.keys(o.where) : []);
          for (const [k, val] of Object.entries(wo ?? {})) {
            if (!['string', 'number', 'boolean'].includes(typeof val)) v.fail([...p, 'where', k], `must be a value or a /regex/, got ${describe(val)}`);
            else if (typeof val === 'string' && /^\/.*\/$/.test(val)) {
              try {
                new RegExp(val.slice(1, -1));
              } catch (err) {
                v.fail([...p, 'where', k], `is not a valid regular expression: ${(err as Error).message}`);
              }
            }
          }
          where = wo as LogEventCheck['where'];
        }
        checks.push({ ...base, kind, service: serviceRef(o, p)!, event: v.str(o, 'event', p, { required: true })!, where, count: count('count'), min: count('min'), max: count('max') } as LogEventCheck);
        break;
      }
      case 'command':
        checks.push({ ...base, kind, run: v.command(o, 'run', p)!, exit: exitCode(v, o, p), 'stdout-matches': v.regex(o, 'stdout-matches', p), 'stdout-not-matches': v.regex(o, 'stdout-not-matches', p) } as CommandCheck);
        break;
      case 'capture': {
        const seq = o.sequence;
        // an empty want list (handshake: false, sequence: []) would pass on any capture, even an empty one
        if (seq !== undefined && (!Array.isArray(seq) || seq.length === 0 || !seq.every((x) => typeof x === 'string' && SEGMENT_KINDS.includes(x.toUpperCase())))) {
          v.fail([...p, 'sequence'], `must be a non-empty list of segment kinds (${SEGMENT_KINDS.join(', ')}), e.g. [SYN, SYN-ACK, ACK]`);
        }
        if (o.handshake !== true && seq === undefined) v.fail(p, 'capture needs handshake: true or a sequence');
        if (o.handshake === true && seq !== undefined) v.fail(p, 'capture takes handshake: true or a sequence, not both (add SYN, SYN-ACK, ACK to the sequence)');
        checks.push({ ...base, kind, service: serviceRef(o, p)!, handshake: v.bool(o, 'handshake', p), sequence: seq as string[] | undefined } as CaptureCheck);
        break;
      }
    }
  });
  if (checks.length === 0 && !v.issues.some((x) => x.path[0] === 'checks')) v.fail(['checks'], 'a lab needs at least one check');

  if (v.issues.length > 0) return { issues: v.issues };
  return {
    spec: { name: name!, title: title!, topic: topic!, ...(summary && { summary }), ...(root && { root }), files, vars, hosts, segments, routes, services, steps, checks: checks.map(stripUndefined), file, dir },
    issues: [],
  };
}

/** An expected exit code: a plain number (the runner compares it as is; a `${var}` here was dropped or never matched). */
function exitCode(v: Validator, o: Obj, p: (string | number)[]): number | undefined {
  const exit = v.int(o, 'exit', p, 0, 255);
  if (typeof exit === 'string') return v.fail([...p, 'exit'], `must be a number from 0 to 255, got ${describe(exit)} (\${var} is not supported here)`);
  return exit;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, val]) => val !== undefined)) as T;
}
