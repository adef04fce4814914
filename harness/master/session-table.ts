import { type ConcentratorAddress, formatConcentratorId } from './concentrator-id.ts';

/**
 * The master station's table of concentrator sessions, as pure state: no sockets, no timers. Every method takes
 * the current time, so the same calls give the same table (the target of the model-based test). Connections are
 * opaque numbers chosen by the caller.
 *
 * Rules (docs/gdw376.md §3.5 and docs/field-notes.md §8):
 * - login (AFN 02 F1) makes the session online on that connection; a second login of the same A1/A2 from another
 *   connection replaces the older one (docs/field-notes.md §8 "a second login … may replace the older
 *   socket");
 * - heartbeat (AFN 02 F3) keeps it online; a heartbeat from a connection that does not own an online session is
 *   taken as an implicit login (a terminal that reconnected and skipped login, or a master that restarted);
 * - any other frame from the owning connection counts as a sign of life;
 * - logout (AFN 02 F2) or the connection closing makes it offline at once;
 * - with no sign of life for more than `heartbeatPeriodMs × missedHeartbeats` it is offline (checked lazily by
 *   {@link SessionTable.isOnline} and recorded by {@link SessionTable.expire}).
 * Offline sessions stay in the table so that a read of a known concentrator says CONCENTRATOR_OFFLINE.
 */

/** Why a session is offline. */
export type OfflineReason = 'logout' | 'heartbeat-timeout' | 'disconnected';

/** One row of the table, as handed out (a copy). */
export interface SessionSnapshot extends ConcentratorAddress {
  /** A1 + A2 as 9 digits (see concentrator-id.ts). */
  id: string;
  state: 'online' | 'offline';
  /** The connection that owns the session; undefined once offline. */
  connection: number | undefined;
  /** The connection that owned it last, kept after it goes offline (to close a half-open socket). */
  lastConnection: number;
  /** Time of the latest (explicit or implicit) login. */
  loginAt: number;
  /** Time of the latest frame from the owning connection. */
  lastSeenAt: number;
  /** Heartbeats since the latest login. */
  heartbeats: number;
  /** Logins (explicit and implicit) since the session was first seen. */
  logins: number;
  offlineReason?: OfflineReason;
  offlineAt?: number;
}

export interface SessionTableOptions {
  /** Heartbeat period the concentrators are configured with (AFN 04 F1). @defaultValue 60000 */
  heartbeatPeriodMs?: number;
  /** Periods without a sign of life before a session is offline. @defaultValue 3 */
  missedHeartbeats?: number;
  /**
   * Most sessions held. When a new A1/A2 logs in at the limit the oldest offline session is forgotten; when all
   * are online the login is refused. @defaultValue 10000
   */
  maxSessions?: number;
}

/** What a login or heartbeat did. */
export interface SessionUpdate {
  /** The session after the update; undefined when the login was refused (table full of online sessions). */
  session: SessionSnapshot | undefined;
  /** The connection that owned the session before and no longer does (the caller should close it). */
  replacedConnection?: number;
  /** True when a heartbeat was taken as a login. */
  implicitLogin?: boolean;
  /** True when the session was not online before (first login or reconnect). */
  cameOnline: boolean;
}

export const DEFAULT_HEARTBEAT_PERIOD_MS = 60_000;
export const DEFAULT_MISSED_HEARTBEATS = 3;
export const DEFAULT_MAX_SESSIONS = 10_000;

interface Row extends SessionSnapshot {}

export class SessionTable {
  readonly heartbeatPeriodMs: number;
  readonly missedHeartbeats: number;
  readonly maxSessions: number;
  readonly #rows = new Map<string, Row>();

  constructor(options: SessionTableOptions = {}) {
    this.heartbeatPeriodMs = positive(
      'heartbeatPeriodMs',
      options.heartbeatPeriodMs,
      DEFAULT_HEARTBEAT_PERIOD_MS,
    );
    this.missedHeartbeats = positive('missedHeartbeats', options.missedHeartbeats, DEFAULT_MISSED_HEARTBEATS);
    this.maxSessions = positive('maxSessions', options.maxSessions, DEFAULT_MAX_SESSIONS);
  }

  /** How long a session may stay silent before it is offline. */
  get silenceLimitMs(): number {
    return this.heartbeatPeriodMs * this.missedHeartbeats;
  }

  /** An explicit login (AFN 02 F1) on `connection`. */
  login(address: ConcentratorAddress, connection: number, now: number): SessionUpdate {
    return this.#takeOver(address, connection, now, false);
  }

  /** A heartbeat (AFN 02 F3) on `connection`; from a non-owner it counts as a login. */
  heartbeat(address: ConcentratorAddress, connection: number, now: number): SessionUpdate {
    const row = this.#rows.get(formatConcentratorId(address.a1, address.a2));
    if (row && this.#liveOwner(row, connection, now)) {
      row.lastSeenAt = now;
      row.heartbeats++;
      return { session: { ...row }, cameOnline: false };
    }
    return this.#takeOver(address, connection, now, true);
  }

  /** Any other frame from `connection` for this A1/A2: a sign of life if the connection owns the session. */
  seen(address: ConcentratorAddress, connection: number, now: number): boolean {
    const row = this.#rows.get(formatConcentratorId(address.a1, address.a2));
    if (!row || !this.#liveOwner(row, connection, now)) return false;
    row.lastSeenAt = now;
    return true;
  }

  /** A logout (AFN 02 F2); ignored (undefined) unless `connection` owns an online session. */
  logout(address: ConcentratorAddress, connection: number, now: number): SessionSnapshot | undefined {
    const row = this.#rows.get(formatConcentratorId(address.a1, address.a2));
    if (row?.state !== 'online' || row.connection !== connection) return undefined;
    this.#setOffline(row, 'logout', now);
    return { ...row };
  }

  /** The connection closed: every session it owned goes offline (returned). */
  disconnected(connection: number, now: number): SessionSnapshot[] {
    const out: SessionSnapshot[] = [];
    for (const row of this.#rows.values()) {
      if (row.state === 'online' && row.connection === connection) {
        // A session already past its silence limit went offline for lack of heartbeats, not because of the close.
        this.#setOffline(row, this.#expired(row, now) ? 'heartbeat-timeout' : 'disconnected', now);
        out.push({ ...row });
      }
    }
    return out;
  }

  /** Records every online session past its silence limit as offline and returns them. */
  expire(now: number): SessionSnapshot[] {
    const out: SessionSnapshot[] = [];
    for (const row of this.#rows.values()) {
      if (row.state === 'online' && this.#expired(row, now)) {
        this.#setOffline(row, 'heartbeat-timeout', now);
        out.push({ ...row });
      }
    }
    return out;
  }

  /** Earliest time at which an online session will expire, or undefined when none is online. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const row of this.#rows.values()) {
      if (row.state !== 'online') continue;
      const at = row.lastSeenAt + this.silenceLimitMs;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** True when the session is online and not past its silence limit at `now` (even if expire() has not run). */
  isOnline(id: string, now: number): boolean {
    const row = this.#rows.get(id);
    return row !== undefined && row.state === 'online' && !this.#expired(row, now);
  }

  /** The session's row, or undefined when this id was never seen (or was forgotten). */
  get(id: string): SessionSnapshot | undefined {
    const row = this.#rows.get(id);
    return row && { ...row };
  }

  /** Every row, in order of first appearance. */
  list(): SessionSnapshot[] {
    return [...this.#rows.values()].map((row) => ({ ...row }));
  }

  get size(): number {
    return this.#rows.size;
  }

  #liveOwner(row: Row, connection: number, now: number): boolean {
    return row.state === 'online' && row.connection === connection && !this.#expired(row, now);
  }

  #expired(row: Row, now: number): boolean {
    return now - row.lastSeenAt > this.silenceLimitMs;
  }

  #takeOver(address: ConcentratorAddress, connection: number, now: number, implicit: boolean): SessionUpdate {
    const id = formatConcentratorId(address.a1, address.a2);
    let row = this.#rows.get(id);
    if (!row) {
      if (this.#rows.size >= this.maxSessions && !this.#evictOneOffline()) {
        return { session: undefined, cameOnline: false };
      }
      row = {
        id,
        a1: address.a1,
        a2: address.a2,
        state: 'offline',
        connection: undefined,
        lastConnection: connection,
        loginAt: now,
        lastSeenAt: now,
        heartbeats: 0,
        logins: 0,
      };
      this.#rows.set(id, row);
    }
    const wasOnline = row.state === 'online' && !this.#expired(row, now);
    const previous = row.state === 'online' ? row.connection : undefined;
    row.state = 'online';
    row.connection = connection;
    row.lastConnection = connection;
    row.loginAt = now;
    row.lastSeenAt = now;
    row.heartbeats = implicit ? 1 : 0;
    row.logins++;
    row.offlineReason = undefined;
    row.offlineAt = undefined;
    const update: SessionUpdate = { session: { ...row }, cameOnline: !wasOnline };
    if (previous !== undefined && previous !== connection) update.replacedConnection = previous;
    if (implicit) update.implicitLogin = true;
    return update;
  }

  #setOffline(row: Row, reason: OfflineReason, now: number): void {
    row.state = 'offline';
    row.connection = undefined;
    row.offlineReason = reason;
    row.offlineAt = now;
  }

  /** Forgets the offline session seen longest ago; false when every session is online. */
  #evictOneOffline(): boolean {
    let oldest: Row | undefined;
    for (const row of this.#rows.values()) {
      if (row.state === 'offline' && (!oldest || row.lastSeenAt < oldest.lastSeenAt)) oldest = row;
    }
    if (!oldest) return false;
    this.#rows.delete(oldest.id);
    return true;
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new TypeError(`"${name}" must be a positive integer, got ${String(value)}`);
  }
  return v;
}
