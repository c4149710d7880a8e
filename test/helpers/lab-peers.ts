import { PEERS, type Peer } from './peer-table.js';
import { resolveLab } from '../../src/lab/loader.js';

/** `capture ...` as a service (a socketlab subcommand) or `socketlab capture ...` in a step runs tcpdump. */
const SOCKETLAB_CAPTURE = /(^|\bsocketlab\s+)capture(\s|$)/;

/** `tool` as a command word in a shell line: at the start, or after a space, `;`, `|`, `&`, `(`, or a quote. */
function commandWord(tool: string): RegExp {
  return new RegExp(`(^|[\\s;|&("'])${tool.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}(?=$|[\\s;|&)"'])`);
}

/** Every `run:` line and check kind of a lab, however the lab file's schema nests them. */
function walk(value: unknown, runs: string[], kinds: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) walk(v, runs, kinds);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'run' && typeof v === 'string') runs.push(v);
      else if (k === 'kind' && typeof v === 'string') kinds.add(v);
      else walk(v, runs, kinds);
    }
  }
}

/**
 * The peers a lab's commands use (steps, services, command checks), read from its lab file, so a lab
 * that starts using dig is skipped without dig with no edit here. Namespace labs need `ip`;
 * capture services and checks need tcpdump.
 */
export function labPeers(nameOrFile: string): Peer[] {
  const spec = resolveLab(nameOrFile);
  const runs: string[] = [];
  const kinds = new Set<string>();
  walk(spec, runs, kinds);
  const peers = new Set<Peer>();
  if (kinds.has('netns')) peers.add('ip');
  if (kinds.has('capture') || runs.some((r) => SOCKETLAB_CAPTURE.test(r))) peers.add('tcpdump');
  for (const tool of Object.keys(PEERS) as Peer[]) if (runs.some((r) => commandWord(tool).test(r))) peers.add(tool);
  return [...peers].sort();
}
