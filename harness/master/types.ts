import type { MeterProtocol, MeterStatus, ReadingUnit } from '../../protocols/point-read/index.ts';

/** A point-read as the master station takes it (the v1 `read` message without `type` and `id`). */
export interface PointReadRequest {
  /** A1 + A2 as 9 digits ("017102082") or an archive alias ("101"). */
  concentrator: string;
  /** 1–14 decimal digits; left-padded to 14 (CJ/T 188) or 12 (DL/T 645) digits. */
  meter: string;
  /** Meter protocol; taken from the archive when absent. */
  protocol?: MeterProtocol;
  /** Concentrator port 1–31; taken from the archive when absent. */
  port?: number;
}

/** A successful point-read: the fields of the v1 `reading` message without `type` and `id`. */
export interface MasterReading {
  /** The concentrator's 9-digit id (an alias in the request is resolved). */
  concentrator: string;
  /** The meter address as the meter gave it in its reply (14 or 12 digits). */
  meter: string;
  protocol: MeterProtocol;
  value: number;
  unit: ReadingUnit;
  /** The meter's clock, `YYYY-MM-DDTHH:mm:ss` (CJ/T 188 901F replies carry one). */
  meterTime?: string;
  status?: MeterStatus;
  /** Time from sending the forward request to its reply, ms. */
  latencyMs: number;
  /** When the reply arrived, ISO 8601 (from the master's clock). */
  readAt: string;
}
