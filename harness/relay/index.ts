/**
 * The WebSocket relay: point-read JSON (v1 and legacy ClickToCopy) from browsers and scripts, forwarded to the
 * master station's client API over TCP as NDJSON. See `relay.ts` for the server and its limits.
 */
export { type AuthOptions, type AuthResult, checkUpgrade } from './auth.ts';
export { CLOSE_SLOW_READER } from './client-session.ts';
export { RelayError, type RelayErrorCode } from './errors.ts';
export {
  PEER_DRIVEN_EVENTS,
  type RelayLogEntry,
  type RelayLogger,
  type ThrottledLog,
  type ThrottleLogOptions,
  throttleLog,
} from './log.ts';
export {
  MasterLink,
  type MasterLinkEvents,
  type MasterLinkOptions,
  type MasterLinkState,
  type MasterProtocol,
  type UpstreamAnswer,
  type UpstreamRead,
} from './master-link.ts';
export { type CoalescedRead, ReadCoalescer, type ReadKeyParts, readKey } from './read-coalescer.ts';
export { DEFAULT_RELAY_PORT, Relay, type RelayEvents, type RelayOptions } from './relay.ts';
