/** Stable error codes; scripts and lab files may match on them. */
export const ErrorCodes = {
  LAB_ERR_INVALID_ARGUMENT: 2,
  LAB_ERR_PORT_IN_USE: 1,
  LAB_ERR_PRIVILEGED_PORT: 1,
  LAB_ERR_BAD_HOST: 1,
  LAB_ERR_NEEDS_ROOT: 2,
  LAB_ERR_ZONE_FILE: 1,
  LAB_ERR_LAB_FILE: 2,
  /** a lab could not be brought up (a service did not start, a step could not run) */
  LAB_ERR_LAB_RUN: 2,
  LAB_ERR_TIMEOUT: 1,
  LAB_ERR_CONNECT: 1,
  LAB_ERR_VERIFY: 1,
  LAB_ERR_TOOL_MISSING: 2,
  LAB_ERR_HOST_NETWORK: 2,
  LAB_ERR_NETNS: 1,
  LAB_ERR_DHCP: 1,
  /** the loaded node-dhcp is not the patched one (installed without its patch) */
  LAB_ERR_DHCP_CODEC: 1,
  LAB_ERR_DNS: 1,
  LAB_ERR_LEASE_FILE: 1,
  LAB_ERR_INTERNAL: 1,
  /** no Docker engine, or no permission on its socket */
  LAB_ERR_DOCKER_UNAVAILABLE: 2,
  /** an image is missing or unusable (base without Node 20.19+) */
  LAB_ERR_DOCKER_IMAGE: 2,
  /** the engine refused or failed a request */
  LAB_ERR_DOCKER: 1,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/**
 * The one error type socketlab throws on purpose. `message` says what went wrong, where, and what
 * to do; the CLI prints it (no stack) and exits with `exitCode`.
 */
export class LabError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
    this.exitCode = ErrorCodes[code];
    this.details = details;
  }
}

/** Bad command-line input: exit code 2, like commander's own usage errors. */
export function invalidArgument(message: string, details: Record<string, unknown> = {}): LabError {
  return new LabError('LAB_ERR_INVALID_ARGUMENT', message, details);
}

export function isLabError(err: unknown): err is LabError {
  return err instanceof LabError;
}

/** Node's system errors carry `code`/`syscall`; narrow without `any`. */
export interface SystemError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
}

export function asSystemError(err: unknown): SystemError {
  return (err instanceof Error ? err : new Error(String(err))) as SystemError;
}
