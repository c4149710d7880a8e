import { LabError, asSystemError } from './errors.js';
import { listSockets } from './netstat/sockets.js';

/**
 * Turns a failed bind/listen into a LabError that says what happened and what to do:
 * port in use (and who holds it, when `ss -p` can tell), a privileged port without privilege,
 * or an address that is not this machine's.
 */
export async function bindError(err: unknown, host: string, port: number, proto: 'tcp' | 'udp'): Promise<LabError> {
  const e = asSystemError(err);
  const where = `${proto}/${port} on ${host}`;
  switch (e.code) {
    case 'EADDRINUSE': {
      const holder = await whoHolds(port, proto);
      return new LabError(
        'LAB_ERR_PORT_IN_USE',
        `cannot listen on ${where}: the port is already in use${holder ? ` by ${holder}` : ''}. ` +
          `Stop that program, or pick another port with --port (0 lets the kernel choose).`,
        { host, port, proto, holder },
        { cause: err },
      );
    }
    case 'EACCES':
    case 'EPERM':
      return new LabError(
        'LAB_ERR_PRIVILEGED_PORT',
        port < 1024
          ? `cannot listen on ${where}: ports below 1024 are well-known (system) ports and on Linux need root or ` +
              `CAP_NET_BIND_SERVICE. Run with sudo, grant it (sudo setcap cap_net_bind_service=+ep "$(command -v node)"), ` +
              `or use a registered port such as 8920.`
          : `cannot listen on ${where}: permission denied (${e.message}).`,
        { host, port, proto },
        { cause: err },
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EINVAL':
      return new LabError(
        'LAB_ERR_BAD_HOST',
        `cannot listen on ${where}: "${host}" is not an address of this machine (${e.code}). ` +
          `Use 127.0.0.1 (loopback), ::1, 0.0.0.0 for every interface, or an address shown by "ip -brief addr".`,
        { host, port, proto },
        { cause: err },
      );
    default:
      return new LabError('LAB_ERR_INTERNAL', `cannot listen on ${where}: ${e.message}`, { host, port, proto }, { cause: err });
  }
}

/** `socketlab-echo (pid 1234)` for the socket holding the port, when the socket table says. */
async function whoHolds(port: number, proto: 'tcp' | 'udp'): Promise<string | undefined> {
  try {
    const rows = await listSockets({ tcp: proto === 'tcp', udp: proto === 'udp', listening: true, processes: true, port });
    const row = rows.find((r) => r.local.port === port && r.process && r.process.length > 0);
    const p = row?.process?.[0];
    return p ? `${p.name} (pid ${p.pid})` : undefined;
  } catch {
    return undefined;
  }
}
