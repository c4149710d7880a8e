import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabRun } from './runner.js';
import type { LabReport } from './output.js';
import type { LogRecord } from './checks.js';
import type { LabSpec } from './schema.js';
import { eventFields, eventLabel, eventTime } from './event-view.js';

/** One network event as the report draws it. */
export interface ReportEvent {
  t: number;
  label: string;
  fields: string;
  from: string;
  to: string;
  pair: string;
  transport: string;
  service: string;
  host: string;
}

/** A column of the ladder diagram: a host (by address), or one socket when all share 127.0.0.1. */
export interface Lane {
  key: string;
  title: string;
  subtitle: string;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function addressOf(endpoint: string): string {
  const m = /^\[(.*)\]:\d+$/.exec(endpoint) ?? /^(.*):\d+$/.exec(endpoint);
  return m ? m[1]! : endpoint;
}

/** Which lab host owns an address (from the lab's segments), for the lane titles. */
function hostOfAddress(spec: LabSpec): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of spec.segments) for (const mem of s.members) if (mem.address) m.set(mem.address.split('/')[0]!, mem.host);
  return m;
}

/**
 * Lanes and the lane of each endpoint. Several hosts: one lane per address (0.0.0.0 and
 * 255.255.255.255 get their own, as DHCP uses them). One address (localhost): one lane per socket.
 */
export function laneLayout(events: ReportEvent[], spec: LabSpec, serviceEndpoints: Map<string, string>): { lanes: Lane[]; laneOf: (endpoint: string) => string } {
  const hostByAddr = hostOfAddress(spec);
  const addrs = new Set(events.flatMap((e) => [addressOf(e.from), addressOf(e.to)]));
  const byAddress = addrs.size > 1;
  const laneOf = (endpoint: string): string => (byAddress ? addressOf(endpoint) : endpoint);
  const order: string[] = [];
  for (const e of events) for (const k of [laneOf(e.from), laneOf(e.to)]) if (!order.includes(k)) order.push(k);
  // servers' lanes to the right of the clients' lanes, as a ladder diagram is usually read
  const serviceHosts = new Set(spec.services.map((x) => x.host));
  const isServer = (k: string): boolean => (byAddress ? serviceHosts.has(hostByAddr.get(k) ?? '') : serviceEndpoints.has(k));
  order.sort((a, b) => Number(isServer(a)) - Number(isServer(b)));
  const lanes = order.map((key) => {
    if (byAddress) {
      const host = hostByAddr.get(key);
      const title = key === '0.0.0.0' ? 'no address yet' : key === '255.255.255.255' ? 'broadcast' : (host ?? key);
      return { key, title, subtitle: key };
    }
    const svc = serviceEndpoints.get(key);
    return { key, title: svc ? `${svc} (server)` : 'client socket', subtitle: key };
  });
  return { lanes, laneOf };
}

/** The events of a run in time order, with what the report shows of each. */
export function reportEvents(records: (LogRecord & { service: string; host: string })[]): ReportEvent[] {
  const t0 = records.length ? eventTime(records[0]!) : 0;
  return records.map((r) => ({
    t: (eventTime(r) - t0) / 1000,
    label: eventLabel(r),
    fields: eventFields(r),
    from: String(r.from),
    to: String(r.to),
    pair: String(r.pair ?? ''),
    transport: String(r.transport ?? ''),
    service: r.service,
    host: r.host,
  }));
}

const LANE_W = 190;
const ROW_H = 46;
const TOP = 64;

function ladderSvg(events: ReportEvent[], lanes: Lane[], laneOf: (e: string) => string): string {
  const width = Math.max(lanes.length * LANE_W + 40, 480);
  const height = TOP + events.length * ROW_H + 30;
  const x = (key: string): number => 20 + lanes.findIndex((l) => l.key === key) * LANE_W + LANE_W / 2;
  const parts: string[] = [];
  for (const l of lanes) {
    const lx = x(l.key);
    parts.push(`<g class="lane" data-lane="${esc(l.key)}"><text x="${lx}" y="20" class="lane-title">${esc(l.title)}</text><text x="${lx}" y="38" class="lane-sub">${esc(l.subtitle)}</text><line x1="${lx}" y1="${TOP - 16}" x2="${lx}" y2="${height - 10}" class="lifeline"/></g>`);
  }
  events.forEach((e, i) => {
    const y = TOP + i * ROW_H + 20;
    const x1 = x(laneOf(e.from));
    const x2 = x(laneOf(e.to));
    const cls = `event ${e.transport}`;
    const mid = (x1 + x2) / 2;
    const line = x1 === x2
      ? `<path d="M${x1} ${y - 8} h40 v16 h-40" class="arrow" marker-end="url(#head)"/>`
      : `<line x1="${x1}" y1="${y}" x2="${x2 + (x2 > x1 ? -4 : 4)}" y2="${y}" class="arrow" marker-end="url(#head)"/>`;
    parts.push(
      `<g class="${esc(cls)}" data-index="${i}" data-from="${esc(e.from)}" data-to="${esc(e.to)}"><title>${esc(`${e.label}\n${e.from} -> ${e.to}\n${e.fields}\nlogged by ${e.service} on ${e.host}, +${e.t.toFixed(3)} s`)}</title>` +
        `${line}<text x="${x1 === x2 ? x1 + 46 : mid}" y="${y - 6}" class="label${x1 === x2 ? ' self' : ''}">${esc(e.label)}</text>` +
        `<text x="${x1 === x2 ? x1 + 46 : mid}" y="${y + 14}" class="fields${x1 === x2 ? ' self' : ''}">${esc(e.fields.length > 70 ? `${e.fields.slice(0, 68)}…` : e.fields)}</text>` +
        `<text x="4" y="${y + 4}" class="time">+${e.t.toFixed(3)}</text></g>`,
    );
  });
  return `<svg id="ladder" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="sequence diagram of the lab's network events"><defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z"/></marker></defs>${parts.join('')}</svg>`;
}

/** Distinct socket pairs seen in the events, with their transport and how many events each. */
export function socketPairs(events: ReportEvent[]): { pair: string; transport: string; events: number; first: string; services: string[] }[] {
  const m = new Map<string, { pair: string; transport: string; events: number; first: string; services: string[] }>();
  for (const e of events) {
    if (!e.pair) continue;
    const key = `${e.transport} ${e.pair}`;
    const row = m.get(key) ?? { pair: e.pair, transport: e.transport, events: 0, first: e.label, services: [] };
    row.events++;
    if (!row.services.includes(e.service)) row.services.push(e.service);
    m.set(key, row);
  }
  return [...m.values()];
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1d2330}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde;padding-bottom:4px}
.topic{color:#556;margin:0 0 12px}.verdict{display:inline-block;padding:4px 10px;border-radius:4px;font-weight:600}
.pass{background:#e3f6e8;color:#13632d}.fail{background:#fde8e8;color:#9b1c1c}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef;vertical-align:top}
th{background:#f5f6fa;font-weight:600}code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}
.hint{color:#8a5a00}.diagram{overflow-x:auto;border:1px solid #e4e6ef;border-radius:6px;background:#fcfcfe}
svg text{font:12px system-ui,sans-serif;text-anchor:middle}svg .lane-title{font-weight:600;font-size:13px}
svg .lane-sub{fill:#667;font-family:ui-monospace,monospace;font-size:11px}svg .lifeline{stroke:#c5c9d9;stroke-dasharray:4 3}
svg .arrow{stroke:#2a5bd7;stroke-width:1.6;fill:none}svg .udp .arrow{stroke:#c05a00;stroke-dasharray:6 3}
svg marker path{fill:#2a5bd7}svg .label{font-weight:600}svg .fields{fill:#556;font-family:ui-monospace,monospace;font-size:10.5px}
svg .self{text-anchor:start}svg .time{text-anchor:start;fill:#99a;font-size:10px}
.legend span{margin-right:16px}.legend .tcp{color:#2a5bd7}.legend .udp{color:#c05a00}
`;

/** The whole page: header, ladder diagram, socket pairs, steps, checks with hints. Self-contained. */
export function renderReport(spec: LabSpec, report: LabReport, events: ReportEvent[], serviceEndpoints: Map<string, string>): string {
  const { lanes, laneOf } = laneLayout(events, spec, serviceEndpoints);
  const pairs = socketPairs(events);
  const failed = report.checks.filter((c) => !c.passed).length;
  const verdict = report.error ? `could not run: ${report.error}` : failed === 0 ? `all ${report.checks.length} checks passed` : `${failed} of ${report.checks.length} checks failed`;
  const ok = !report.error && failed === 0 && report.steps.every((s) => s.ok);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(`${spec.name}: ${spec.title}`)} — socketlab report</title><style>${CSS}</style></head>
<body>
<header><h1 id="lab-title">${esc(`${spec.name}: ${spec.title}`)}</h1><p class="topic">${esc(spec.topic)}</p>
<p><span id="verdict" class="verdict ${ok ? 'pass' : 'fail'}">${esc(verdict)}</span> <span class="mono">run ${esc(report.startedAt)}, ${(report.durationMs / 1000).toFixed(1)} s</span></p></header>
<section><h2>Sequence of network events (${events.length})</h2>
<p class="legend"><span class="tcp">── TCP</span><span class="udp">- - UDP</span> Built from the services' own log records (event, transport, from, to, pair); hover an arrow for all its fields.</p>
<div class="diagram">${events.length ? ladderSvg(events, lanes, laneOf) : '<p id="no-events">No network events were logged.</p>'}</div></section>
<section><h2>Socket pairs (${pairs.length})</h2>
<table id="pairs"><thead><tr><th>transport</th><th>socket pair (client &lt;-&gt; server)</th><th>first event</th><th>events</th><th>logged by</th></tr></thead><tbody>
${pairs.map((p) => `<tr><td>${esc(p.transport)}</td><td class="mono">${esc(p.pair)}</td><td>${esc(p.first)}</td><td>${p.events}</td><td>${esc(p.services.join(', '))}</td></tr>`).join('\n')}
</tbody></table></section>
<section><h2>Steps</h2><ol id="steps">
${report.steps.map((s) => `<li class="${s.ok ? 'ok' : 'failed'}"><strong>${esc(s.name)}</strong> <span class="mono">(on ${esc(s.host)})</span><br><code>$ ${esc(s.command)}</code>${s.ok ? '' : ` <span class="verdict fail">exit ${s.code}</span>`}${s.show ? `<br><span class="hint">look for: ${esc(s.show)}</span>` : ''}</li>`).join('\n')}
</ol></section>
<section><h2>Checks</h2>
<table id="checks"><thead><tr><th></th><th>check</th><th>seen</th><th>hint</th></tr></thead><tbody>
${report.checks.map((c) => `<tr class="${c.passed ? 'pass' : 'fail'}"><td><span class="verdict ${c.passed ? 'pass' : 'fail'}">${c.passed ? 'PASS' : 'FAIL'}</span></td><td>${esc(c.name)}</td><td class="mono">${esc(c.detail)}</td><td class="hint">${c.passed ? '' : esc(c.hint)}</td></tr>`).join('\n')}
</tbody></table></section>
<footer><p class="mono">socketlab lab run ${esc(spec.name)} --report</p></footer>
</body></html>
`;
}

/** Writes the HTML report of a finished run (before teardown: the logs are still there). */
export function writeReport(file: string, run: LabRun, report: LabReport): void {
  const events = reportEvents(run.allEvents());
  const serviceEndpoints = new Map<string, string>();
  for (const p of run.state.processes) {
    if (p.kind === 'service' && p.listening && p.listening.port > 0) {
      const a = p.listening.address.includes(':') ? `[${p.listening.address}]` : p.listening.address;
      serviceEndpoints.set(`${a}:${p.listening.port}`, p.name);
    }
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderReport(run.spec, report, events, serviceEndpoints));
}
