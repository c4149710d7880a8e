import { LabError } from '../errors.js';
import { filterSockets, parseToolOutput, toolArgs } from '../netstat/sockets.js';
import type { ListSocketsOptions, SocketRecord } from '../netstat/types.js';
import type { LabHost } from './backend.js';

/** A host's socket table read by `ss` run on the host itself (containers: the image has iproute2). */
export async function socketsViaExec(host: Pick<LabHost, 'name' | 'exec'>, opts: ListSocketsOptions): Promise<SocketRecord[]> {
  const argv = ['ss', ...toolArgs('ss', Boolean(opts.processes))];
  const r = await host.exec(argv, { timeoutMs: opts.timeoutMs ?? 10_000, env: { LC_ALL: 'C' } });
  if (r.code !== 0) throw new LabError('LAB_ERR_INTERNAL', `"${argv.join(' ')}" on ${host.name} failed (exit ${r.code ?? 'timeout'}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  return filterSockets(parseToolOutput('ss', r.stdout).records, opts);
}

/** The socket table of HOST, whichever backend it is on. */
export function hostSockets(host: LabHost, opts: ListSocketsOptions): Promise<SocketRecord[]> {
  return host.sockets ? host.sockets(opts) : socketsViaExec(host, opts);
}
