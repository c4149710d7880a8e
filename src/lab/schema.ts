/**
 * The lab file: what a lab is made of (hosts, services, steps, checks), defined once with zod. The
 * types below are inferred from it, labs/lab.schema.json is generated from it (npm run build), and
 * its errors name the field path (`hosts[1].name: ...`); the loader adds the file and the line.
 * Field shapes are checked first; names that refer to other parts of the file (a service's host,
 * a check's service) are checked once the shapes are right.
 */
import * as z from 'zod';
import {
  bool, commandLine, describeValue, dictionary, exitCode, fieldIssues, hostRef, labRefs, list, mapping, oneOf, regex, shortName, text,
  type SchemaIssue,
} from './fields.js';
import { CHECK_KINDS, CHECK_SCHEMAS, type CheckSpec } from './checks/index.js';
import { taskSchema, type TaskSpec } from './tasks.js';
import { questionSchema, type QuestionSpec } from './questions.js';
import { variantsField, variantVars } from './variants.js';
import { bindSpec, labVars } from './bind.js';

export { formatPath, type SchemaIssue } from './fields.js';
export type { CheckSpec } from './checks/index.js';

/** A value that may still hold `${var}` placeholders, resolved when the lab runs. */
export type Templated<T> = T | string;

const PORT_RANGE = 'must be [first, last] ports with first <= last, e.g. [40000, 40009]';
const rangePort = z.number({ error: PORT_RANGE }).int({ error: PORT_RANGE }).min(1, { error: PORT_RANGE }).max(65535, { error: PORT_RANGE });

const host = mapping({
  name: shortName('must be a short lowercase name ([a-z][a-z0-9-], at most 15 characters)'),
  kind: oneOf(['localhost', 'netns']).describe('localhost: this machine, no root. netns: a network namespace (root)'),
  forwarding: bool().describe('route between its segments (a router)').optional(),
  'ephemeral-range': z
    .tuple([rangePort, rangePort], { error: PORT_RANGE })
    .refine(([first, last]) => first <= last, { error: PORT_RANGE })
    .describe("this host's ephemeral port range (ip_local_port_range), e.g. [40000, 40009]")
    .optional(),
})
  .superRefine((h, ctx) => {
    if (h.kind === 'localhost' && h['ephemeral-range']) {
      ctx.addIssue({ code: 'custom', path: ['ephemeral-range'], message: "can only be set on a netns host (it would change this machine's own range)", input: h });
    }
  })
  .transform(({ 'ephemeral-range': ephemeralRange, ...h }) => ({ ...h, ...(ephemeralRange && { ephemeralRange }) }));

const segment = mapping({
  name: shortName(),
  members: list(
    mapping({
      host: hostRef('a host on this segment'),
      address: text({ re: /^([0-9a-fA-F.:]|\$\{[a-zA-Z0-9_.-]+\})+\/(\d{1,3}|\$\{[a-zA-Z0-9_.-]+\})$/, why: 'must be an address with a prefix length, e.g. 10.0.1.1/24 or ${lan.1}/24' })
        .describe('its address with prefix length (${var}s allowed: ${lan.1}/24); omitted: it gets one by DHCP or SLAAC').optional(),
      mac: text({ re: /^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$/, why: 'must be a unicast MAC, six hex pairs with an even first byte, e.g. 02:00:00:00:01:0a' })
        .describe("this interface's fixed MAC (captures and questions get stable answers); omitted: a random one").optional(),
    }),
    { required: true },
  ),
});

const route = mapping({ host: hostRef('the host that gets the route'), to: text().describe('a prefix or default'), via: text().describe('the next hop') });

/** A long-running socketlab command; the runner waits for its `socketlab-x listening on` line. */
const service = mapping({
  name: shortName(),
  host: hostRef('the host it runs on; default: the only host').optional(),
  run: commandLine().describe('socketlab arguments, e.g. echo --port 7007 (no leading socketlab)'),
  ready: regex().describe('wait for this regex on stdout instead of the standard ready line').optional(),
  program: bool().describe('a plain program (not socketlab), e.g. radvd; the runner does not add --log-file').optional(),
}).superRefine((s, ctx) => {
  if (/^socketlab\s/.test(s.run) && !s.program) ctx.addIssue({ code: 'custom', path: ['run'], message: 'is socketlab arguments without the leading "socketlab" (e.g. "echo --port 7007")', input: s.run });
  if (s.program && !s.ready) ctx.addIssue({ code: 'custom', path: ['ready'], message: 'is required for a program service (a regex on its output that says it is up)', input: s });
});

const WAIT = 'must be seconds from 0 to 120';
const step = mapping({
  name: text(),
  host: hostRef('the host it runs on; default: the only host').optional(),
  run: commandLine().describe('a command line; a leading socketlab runs this package\'s CLI'),
  show: text().describe('what the learner should look at in the output').optional(),
  background: bool().describe('keep running (e.g. connect --hold) while the checks run; stopped at teardown').optional(),
  until: regex().describe('for background steps: wait until stdout matches this regex').optional(),
  exit: exitCode().describe('expected exit code of a foreground step; default 0').optional(),
  wait: z.number({ error: WAIT }).min(0, { error: WAIT }).max(120, { error: WAIT }).describe('seconds to wait after the step (a lease clock, TIME-WAIT ...)').optional(),
}).superRefine((s, ctx) => {
  if (s.until && !s.background) ctx.addIssue({ code: 'custom', path: ['until'], message: 'only applies to a background step', input: s.until });
});

const kindNames = CHECK_KINDS.map((k) => k.schema.shape.kind.value);
const check = z.discriminatedUnion('kind', CHECK_SCHEMAS, {
  error: (iss) => {
    const o = iss.input;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return `must be a mapping (key: value), got ${describeValue(o)}`;
    const kind = (o as Record<string, unknown>).kind;
    return kind === undefined ? `is required; one of ${kindNames.join(', ')}` : `must be one of ${kindNames.join(', ')}, got ${describeValue(kind)}`;
  },
});

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const fileName = z.string({ error: (iss) => `must be a file name inside the lab folder (no path), got ${describeValue(iss.input)}` })
  .regex(FILE_NAME, { error: (iss) => `must be a file name inside the lab folder (no path), got ${describeValue(iss.input)}` });

const varValue = z.union([z.string(), z.number()], { error: (iss) => `must be a string or number, got ${describeValue(iss.input)}` }).transform(String);
const task = taskSchema(check);

/** The lab file as written (before names are resolved). */
const labFields = mapping({
  name: text({ re: /^[0-9]{2}-[a-z0-9-]+$/, why: 'must look like 02-socket-pairs (two digits, dash, lowercase words)' }).describe('the lab directory name, e.g. 02-socket-pairs'),
  title: text(),
  topic: text().describe('the course-notes topic this lab makes visible'),
  summary: text().optional(),
  root: bool().describe('needs root even on localhost (tcpdump, ports below 1024)').optional(),
  files: list(fileName).describe('files of the lab folder copied into the run dir before services start (so steps may edit them)').default([]),
  vars: dictionary(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), varValue, 'variable names are letters, digits and _')
    .describe('default values for ${name} placeholders; --var name=value overrides').default({}),
  hosts: list(host, { required: true }).min(1, { error: 'a lab needs at least one host' }),
  segments: list(segment).default([]),
  routes: list(route).default([]),
  services: list(service).default([]),
  steps: list(step).default([]),
  checks: list(check, { required: true }).min(1, { error: 'a lab needs at least one check' }),
  tasks: list(task).describe('what the student must do, each proved by checks of the kernel and the traffic').default([]),
  questions: list(questionSchema).describe("questions whose right answers come from this run's events and sockets").default([]),
  variants: variantsField(),
});

type LabFields = z.output<typeof labFields>;
type Path = (string | number)[];

/**
 * Checks what JSON Schema cannot say: names that refer to hosts and services exist, names are
 * unique, hosts are all local or all namespaces. Fills the only host in where a host is omitted.
 */
function link(lab: LabFields, ctx: z.RefinementCtx) {
  const fail = (path: Path, message: string): void => void ctx.addIssue({ code: 'custom', path, message, input: undefined });
  const hostNames = new Set<string>();
  lab.hosts.forEach((h, i) => {
    if (hostNames.has(h.name)) fail(['hosts', i, 'name'], `"${h.name}" is already used by another host`);
    hostNames.add(h.name);
  });
  const kinds = new Set(lab.hosts.map((h) => h.kind));
  if (kinds.size > 1) fail(['hosts'], 'mixes localhost and netns hosts; a lab runs either on this machine or in namespaces');
  if (kinds.has('localhost') && lab.hosts.length > 1) fail(['hosts'], 'a localhost lab has exactly one host (this machine)');
  if (kinds.has('localhost') && lab.segments.length > 0) fail(['segments'], 'only netns labs have segments');
  const serviceNames = new Set<string>();
  lab.services.forEach((s, i) => {
    if (serviceNames.has(s.name)) fail(['services', i, 'name'], `"${s.name}" is already used by another service`);
    serviceNames.add(s.name);
  });

  const known = { host: hostNames, service: serviceNames };
  const refersTo = (schema: z.ZodType, value: unknown, path: Path): void => {
    const ref = labRefs.get(schema)?.ref;
    if (ref && typeof value === 'string' && !known[ref].has(value)) {
      fail(path, `no ${ref} named "${value}" (${ref}s: ${[...known[ref]].join(', ') || 'none'})`);
    }
  };
  const refs = (shape: z.ZodRawShape, o: Record<string, unknown>, path: Path): void => {
    for (const [key, s] of Object.entries(shape)) refersTo((s instanceof z.ZodOptional ? s.unwrap() : s) as z.ZodType, o[key], [...path, key]);
  };
  lab.segments.forEach((s, i) => s.members.forEach((m, j) => refs(segment.shape.members.element.shape, m, ['segments', i, 'members', j])));
  lab.routes.forEach((r, i) => refs(route.shape, r, ['routes', i]));
  lab.services.forEach((s, i) => refs(service.shape, s, ['services', i]));
  lab.steps.forEach((s, i) => refs(step.shape, s, ['steps', i]));
  const checkRefs = (c: CheckSpec, path: Path): void => refs(CHECK_KINDS.find((k) => k.schema.shape.kind.value === c.kind)!.schema.shape, c, path);
  lab.checks.forEach((c, i) => checkRefs(c, ['checks', i]));
  const ids = (items: { id: string }[], field: string): void => {
    const seen = new Set<string>();
    items.forEach((x, i) => {
      if (seen.has(x.id)) fail([field, i, 'id'], `"${x.id}" is already used by another ${field.slice(0, -1)}`);
      seen.add(x.id);
    });
  };
  ids(lab.tasks, 'tasks');
  ids(lab.questions, 'questions');
  lab.tasks.forEach((t, i) => {
    t.checks.forEach((c, j) => checkRefs(c, ['tasks', i, 'checks', j]));
    t.fault?.run?.forEach((r, j) => refersTo(hostRef(''), r.host, ['tasks', i, 'fault', 'run', j, 'host']));
  });
  lab.questions.forEach((q, i) => {
    const [kind, a] = Object.entries(q.answer as Record<string, unknown>)[0]!;
    if (typeof a !== 'object' || a === null) return;
    const o = a as Record<string, unknown>;
    if (typeof o.service === 'string' && !serviceNames.has(o.service)) fail(['questions', i, 'answer', kind, 'service'], `no service named "${o.service}" (services: ${[...serviceNames].join(', ') || 'none'})`);
    if (typeof o.host === 'string' && !hostNames.has(o.host)) fail(['questions', i, 'answer', kind, 'host'], `no host named "${o.host}" (hosts: ${[...hostNames].join(', ')})`);
  });
  for (const name of Object.keys(lab.variants)) {
    if (lab.vars[name] === undefined) fail(['variants', name], `varies "${name}", which has no default under vars (the run without --seed uses it)`);
  }
  // the topology as the default run and a seeded run build it: every ${var} there must be known
  if (Object.keys(lab.variants).every((n) => lab.vars[n] !== undefined)) {
    for (const [what, vars] of [['', () => labVars(lab)], [' (with --seed 1)', () => labVars(lab, variantVars(lab.variants, 1, lab.vars))]] as const) {
      try {
        bindSpec(lab, vars());
      } catch (err) {
        const msg = (err as Error).message;
        fail([/^routes/.test(msg) ? 'routes' : /^segments/.test(msg) ? 'segments' : 'variants'], `${msg}${what}`);
        break;
      }
    }
  }

  // a service or step without a host runs on the only one; with several hosts it must say which
  const only = lab.hosts.length === 1 ? lab.hosts[0]!.name : undefined;
  const hosted = (c: CheckSpec): CheckSpec => (c.host === undefined && only !== undefined ? { ...c, host: only } : c);
  const placed = <T extends { host?: string | undefined }>(items: T[], field: string): (T & { host: string })[] =>
    items.map((x, i) => {
      if (x.host === undefined && only === undefined) fail([field, i, 'host'], `is required when the lab has more than one host (hosts: ${[...hostNames].join(', ')})`);
      return { ...x, host: x.host ?? only ?? '' };
    });
  return {
    ...lab,
    services: placed(lab.services, 'services'),
    steps: placed(lab.steps, 'steps'),
    checks: lab.checks.map(hosted),
    tasks: lab.tasks.map((t): TaskSpec => ({ ...t, checks: t.checks.map(hosted) })),
    questions: lab.questions as QuestionSpec[],
  };
}

/** The lab file: its fields, then its cross-references. */
export const labSchema = labFields.transform(link);

export type HostSpec = LabFields['hosts'][number];
export type SegmentSpec = LabFields['segments'][number];
export type RouteSpec = LabFields['routes'][number];
export type ServiceSpec = z.output<typeof labSchema>['services'][number];
export type StepSpec = z.output<typeof labSchema>['steps'][number];

/** A lab as the runner uses it, with where its file was read from. */
export type LabSpec = z.output<typeof labSchema> & { file: string; dir: string };

/** True when the lab needs network namespaces (root). */
export function needsRoot(spec: Pick<LabSpec, 'hosts' | 'root'>): boolean {
  return spec.root === true || spec.hosts.some((h) => h.kind === 'netns');
}

/**
 * Validates a parsed lab file. Returns the spec and the list of issues (empty when valid); every
 * issue has the path of the field at fault so the loader can point at its line.
 */
export function validateLab(raw: unknown, file: string, dir: string): { spec?: LabSpec; issues: SchemaIssue[] } {
  const r = labSchema.safeParse(raw);
  if (!r.success) return { issues: fieldIssues(r.error) };
  return { spec: { ...r.data, file, dir }, issues: [] };
}

/** labs/lab.schema.json: the lab file for editors (yaml-language-server) and other tools. */
export function labJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(labSchema, { target: 'draft-7', io: 'input' });
  return {
    $schema: schema.$schema,
    title: 'socketlab lab file',
    description: 'A lab: hosts, services, steps and checks (generated from src/lab/schema.ts by npm run build; do not edit).',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

/** The text of labs/lab.schema.json, as the build writes it. */
export const labJsonSchemaText = (): string => `${JSON.stringify(labJsonSchema(), null, 2)}\n`;
