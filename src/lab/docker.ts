import { LabError } from '../errors.js';
import type { LabSpec } from './schema.js';

/** Writes compose.yaml and Dockerfile for a lab (filled in by a later slice). */
export function exportDocker(spec: LabSpec, dir: string): string[] {
  throw new LabError('LAB_ERR_LAB_RUN', `export of ${spec.name} to ${dir} is not built yet`);
}
