import { run } from '../core/process.js';
import { parseSs } from '../netstat/ss-parse.js';
import { formatEndpoint } from '../socket-pair.js';

/** A change of one TCP socket's kernel state, as `ss -tan` shows it. */
export interface TcpStateChange {
  host: string;
  local: string;
  remote: string;
  /** SYN-SENT, ESTABLISHED, FIN-WAIT-1 ... or CLOSED once ss no longer lists the socket */
  state: string;
}

/** One poll's table, keyed by `local remote`, listening sockets left out. Pure. */
export function tcpTable(ssText: string): Map<string, { local: string; remote: string; state: string }> {
  const m = new Map<string, { local: string; remote: string; state: string }>();
  for (const r of parseSs(ssText, { defaultProto: 'tcp' }).records) {
    if (r.state === 'LISTEN') continue;
    const local = formatEndpoint(r.local);
    const remote = formatEndpoint(r.remote);
    m.set(`${local} ${remote}`, { local, remote, state: r.state });
  }
  return m;
}

/** What changed between two polls of one host: new states, and CLOSED for sockets gone. Pure. */
export function diffTables(host: string, before: Map<string, { local: string; remote: string; state: string }>, after: Map<string, { local: string; remote: string; state: string }>): TcpStateChange[] {
  const out: TcpStateChange[] = [];
  for (const [k, v] of after) if (before.get(k)?.state !== v.state) out.push({ host, ...v });
  for (const [k, v] of before) if (!after.has(k)) out.push({ host, local: v.local, remote: v.remote, state: 'CLOSED' });
  return out;
}

/**
 * Polls `ss -tan` in each host's network namespace (or on this machine) every intervalMs while the run
 * lasts; a state that lives shorter than one interval can be missed (ss has no event feed).
 * `keep` filters the sockets that belong to the lab (localhost labs: the services' ports).
 */
export function pollTcpStates(opts: {
  /** prefix: the argv that enters the host's network namespace (none: this machine's own) */
  hosts: { host: string; prefix?: string[] }[];
  intervalMs?: number;
  keep?: (local: string, remote: string) => boolean;
  onChange: (c: TcpStateChange) => void;
}): { stop(): Promise<void>; polls(): number } {
  const tables = new Map<string, Map<string, { local: string; remote: string; state: string }>>();
  let stopped = false;
  let polls = 0;
  let running: Promise<void> = Promise.resolve();
  const one = async (h: { host: string; prefix?: string[] }): Promise<void> => {
    const r = await run([...(h.prefix ?? []), 'ss', '-tanH'], { timeoutMs: 5_000, killSignal: 'SIGTERM', group: false });
    if (r.code !== 0 || r.error || stopped) return;
    let now = tcpTable(r.stdout);
    if (opts.keep) now = new Map([...now].filter(([, v]) => opts.keep!(v.local, v.remote)));
    for (const c of diffTables(h.host, tables.get(h.host) ?? new Map(), now)) opts.onChange(c);
    tables.set(h.host, now);
  };
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const started = Date.now();
      await Promise.all(opts.hosts.map(one));
      polls++;
      await new Promise((r) => setTimeout(r, Math.max(20, (opts.intervalMs ?? 200) - (Date.now() - started))));
    }
  };
  running = loop();
  return {
    polls: () => polls,
    async stop() {
      stopped = true;
      await running;
    },
  };
}
