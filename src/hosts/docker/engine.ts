import Docker from 'dockerode';
import { LabError } from '../../errors.js';

/** Label on every container and network socketlab creates; `docker clean` removes by it. */
export const LAB_LABEL = 'socketlab.lab';
/** The oldest Engine API the backend is written for: Debian bookworm's docker.io 20.10. */
export const MIN_API = '1.41';

/** Where the engine is, for messages: DOCKER_HOST or the default socket. */
export function engineAddress(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** Turns a connection failure into one line that says what to do. */
export function engineError(err: unknown): LabError {
  const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
  const where = engineAddress();
  if (e.code === 'EACCES' || e.code === 'EPERM') {
    return new LabError(
      'LAB_ERR_DOCKER_UNAVAILABLE',
      `no permission to use the Docker engine at ${where}: add yourself to the docker group (sudo usermod -aG docker $USER, then log in again) or run as root`,
    );
  }
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH' || e.code === 'ETIMEDOUT' || e.code === 'ECONNRESET') {
    return new LabError(
      'LAB_ERR_DOCKER_UNAVAILABLE',
      `no Docker engine at ${where} (${e.code}): install it (Debian: apt-get install docker.io) and start it (systemctl start docker), or set DOCKER_HOST`,
    );
  }
  return new LabError('LAB_ERR_DOCKER', `Docker engine at ${where}: ${e.json?.message ?? e.message}`, {}, { cause: err });
}

/** A client for the engine DOCKER_HOST names (dockerode reads it), checked with a ping and pinned to API 1.41. */
export async function connectEngine(): Promise<Docker> {
  // Options merge with what DOCKER_HOST etc. say. Requests in the 1.41 dialect: newer engines
  // still accept it, and nothing newer slips in by accident.
  const docker = new Docker({ version: `v${MIN_API}` });
  try {
    await docker.ping();
  } catch (err) {
    throw engineError(err);
  }
  return docker;
}

/** The HTTP status of a failed engine request (404: no such image/container/network). */
export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}
