/**
 * socketlab as a library: real servers and clients for integration tests, each bound (port 0
 * works), disposable (`await using`), silent unless given a pino logger, and observable through
 * `events`. Labs: `socketlab/lab`; namespaces: `socketlab/netns`.
 */
export { startEcho, startDnsServer, startDhcpServer, startDhcpRelay } from './servers.js';
export { connect, dnsQuery, dhcpClient } from './clients.js';
export { EventLog } from './events.js';
export { LabError, isLabError, ErrorCodes, type ErrorCode } from '../errors.js';
export type * from './types.js';
