import { invalidArgument } from '../errors.js';
import type { BackendName, HostBackend } from './backend.js';
import { dockerBackend } from './docker/topology.js';
import { localBackend } from './local.js';
import { netnsBackend } from './netns.js';

export const BACKENDS: Record<BackendName, HostBackend> = { local: localBackend, netns: netnsBackend, docker: dockerBackend };

/** What `--backend` accepts: a backend, or `auto` (localhost or namespaces, by the lab's hosts). */
export type BackendChoice = BackendName | 'auto';

/** Parses `--backend`; anything else is bad input (exit 2). */
export function parseBackend(value: string): BackendChoice {
  if (value === 'auto' || value in BACKENDS) return value as BackendChoice;
  throw invalidArgument(`unknown backend "${value}": use local, netns, docker or auto`);
}
