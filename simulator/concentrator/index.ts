/**
 * The simulated concentrator: Q/GDW 376.1 upstream (client or server mode, login, heartbeat, reconnect with
 * back-off), RS-485 meter ports with a one-at-a-time queue, AFN 10 F1 transparent forwarding, and polling.
 */
export {
  Concentrator,
  type ConcentratorCounters,
  type ConcentratorEvents,
  type ConcentratorOptions,
  type HandledFrame,
  rejectedHeader,
} from './concentrator.ts';
export { ConcentratorError, type ConcentratorErrorCode } from './errors.ts';
export { answerForward, type ForwardAnswer, type ForwardRecord, frameTimeoutMs } from './forwarding.ts';
export {
  busTransport,
  type LinkTransportOptions,
  type LinkTransportStatus,
  linkTransport,
  MeterPort,
  type MeterPortOptions,
  type MeterPortTransport,
  type PortForwardOptions,
  type PortForwardOutcome,
  type PortForwardResult,
} from './meter-port.ts';
export {
  type MeterRecord,
  type PolledMeter,
  type PollRound,
  PollSchedule,
  type PollScheduleOptions,
  readingOf,
  readRequest,
} from './poll-schedule.ts';
export {
  type BackoffOptions,
  DEFAULT_CONFIRM_TIMEOUT_MS,
  UPSTREAM_BACKOFF,
  UpstreamSession,
  type UpstreamSessionEvents,
  type UpstreamSessionOptions,
  type UpstreamState,
} from './upstream-session.ts';
