/**
 * The master station (front-end, the seed system's "clientserver"): accepts concentrators over Q/GDW 376.1,
 * tracks their sessions, and serves point-reads (CJ/T 188 / DL/T 645 through AFN 10 F1) to NDJSON clients.
 */
export {
  Archive,
  type ArchiveConcentrator,
  type ArchiveData,
  ArchiveError,
  type ArchiveMeter,
  type ArchivePort,
  type ArchiveSerial,
  archiveFromJson,
  loadArchiveFile,
  type MeterLocation,
  validateArchive,
} from './archive.ts';
export {
  type ClientApiOptions,
  ClientApiServer,
  IDLE_TIMEOUT_CODE,
  type PointReadContext,
  type PointReadHandler,
} from './client-api.ts';
export {
  ConcentratorConnection,
  type ConcentratorConnectionOptions,
  type ConfirmForm,
  DEFAULT_MAX_JUNK_BYTES,
  type ForwardOptions,
  type ForwardReply,
  type JunkLimitEvent,
} from './concentrator-connection.ts';
export {
  type ConcentratorAddress,
  formatConcentratorId,
  parseConcentratorAddress,
} from './concentrator-id.ts';
export { FairQueue, type FairQueueOptions } from './fair-queue.ts';
export { DEFAULT_MAX_LOGINS_PER_MINUTE, hostOf, LoginRate } from './login-rate.ts';
export { MASTER_ERROR_CODES, MasterError, type MasterErrorCode } from './master-error.ts';
export {
  DEFAULT_LOG_THROTTLE_MS,
  type MasterLogEntry,
  type MasterLogEvent,
  type MasterLogger,
  SILENT_MASTER_LOG,
  ThrottledLog,
} from './master-log.ts';
export {
  type ConcentratorDroppedEvent,
  type ConcentratorFrameEvent,
  frameTimeoutFor,
  type ListenAddress,
  LOGIN_POLICIES,
  type LoginEvent,
  type LoginPolicy,
  type LoginRefusedEvent,
  type MasterAddresses,
  type MasterSession,
  MasterStation,
  type MasterStationOptions,
  READ_POLICIES,
  type ReadPolicy,
} from './master-station.ts';
export {
  ADDRESS_DIGITS,
  buildMeterRequest,
  CJT188_READ_DI,
  DLT645_READ_DI,
  decodeMeterReply,
  MeterReadError,
  type MeterRequestOptions,
  type MeterValue,
  meterAddressFor,
} from './point-read.ts';
export { PortScheduler, type PortSchedulerOptions } from './port-scheduler.ts';
export {
  DEFAULT_HEARTBEAT_PERIOD_MS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MISSED_HEARTBEATS,
  type OfflineReason,
  type SessionSnapshot,
  SessionTable,
  type SessionTableOptions,
  type SessionUpdate,
} from './session-table.ts';
export type { MasterReading, PointReadRequest } from './types.ts';
