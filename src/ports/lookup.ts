import { invalidArgument } from '../errors.js';
import {
  classifyPort, courseTable, EPHEMERAL_EXPLANATION, hostEphemeralRange, IANA_DYNAMIC, inRange, lookupPort, lookupService,
  parsePort, PORT_RANGES, type EphemeralRange, type PortCategory, type Transport,
} from './registry.js';

/** One answer of `socketlab ports`: the shape of each `ports[]` entry in its --json output. */
export interface PortReport {
  port: number;
  category: PortCategory;
  protocols: Transport[];
  service: string | null;
  description: string | null;
  inCourseTable: boolean;
  /** Where the course notes say otherwise about this port, and what really holds (else absent). */
  notesDiffer?: string;
  inHostEphemeralRange: boolean;
  inIanaDynamicRange: boolean;
}

/** `socketlab ports --json`: `{ ports, ranges, ephemeral }`. */
export interface PortsReport {
  ports: PortReport[];
  ranges: typeof PORT_RANGES;
  ephemeral: { host: EphemeralRange | null; iana: EphemeralRange; explanation: string };
}

/** Resolves `443`, `https`, `dns` ... to a report; throws a LabError (exit 2) saying why not. */
export function resolvePortQuery(query: string): PortReport {
  const q = query.trim();
  if (/^[-+]?[\d.]+$/.test(q)) return reportFor(parsePort(q));
  if (!/^[a-z0-9][a-z0-9._+-]*$/i.test(q)) throw invalidArgument(`"${query}" is neither a port number (0-65535) nor a service name`);
  const entry = lookupService(q);
  if (!entry) {
    throw invalidArgument(`unknown service "${query}": not in the course's port table nor in /etc/services; try a port number or a name such as https, ssh, domain`);
  }
  return reportFor(entry.port);
}

export function reportFor(port: number): PortReport {
  const e = lookupPort(port);
  return {
    port,
    category: classifyPort(port),
    protocols: e?.protocols ?? [],
    service: e?.name ?? null,
    description: e?.description ?? null,
    inCourseTable: e?.course ?? false,
    ...(e?.notesDiffer ? { notesDiffer: e.notesDiffer } : {}),
    inHostEphemeralRange: inRange(port, hostEphemeralRange()),
    inIanaDynamicRange: inRange(port, IANA_DYNAMIC),
  };
}

export function portsReport(queries: string[]): PortsReport {
  const ports = queries.length > 0 ? queries.map(resolvePortQuery) : courseTable().map((e) => reportFor(e.port));
  return {
    ports,
    ranges: PORT_RANGES,
    ephemeral: { host: hostEphemeralRange() ?? null, iana: IANA_DYNAMIC, explanation: EPHEMERAL_EXPLANATION },
  };
}
