import type { MeterProtocolName } from '../../../protocols/registry.ts';
import type { ConsumptionModel } from '../../../simulator/meter/index.ts';
import { otherAddress } from '../../../simulator/meter/meter-base.ts';
import type { ConcentratorSession, HeardFrame } from './concentrator-session.ts';

/**
 * What every concentrator case gets: the master-side session, the run's settings, and what earlier cases
 * learnt (the terminal's address from its login, the heartbeat period measured).
 * @packageDocumentation
 */

/** Settings of a concentrator suite run. */
export interface ConcentratorSuiteConfig {
  /** `listen`: the concentrator dials in (client mode); `connect`: meterlab dials the concentrator (server mode). */
  mode: 'listen' | 'connect';
  /** The heartbeat period the concentrator is configured with, ms; undefined: measured and reported. */
  heartbeatMs?: number;
  /** Longest wait for a login, a reconnect or a heartbeat beyond its period, ms. */
  linkWaitMs: number;
  /** The concentrator's RS-485 port the meters are on (AFN 10 F1 port). */
  port: number;
  /** A port number the concentrator does not have. */
  absentPort: number;
  /** Meters behind the concentrator (full addresses); the first is read. */
  meters: string[];
  meterProtocol: MeterProtocolName;
  /** The meters' consumption model when meterlab serves them (their readings are known); else undefined. */
  readings?: ConsumptionModel;
  /** Baud rate of the meters' line (the control word of the forwards). */
  meterBaud: number;
  /** Frame-wait timeout written into forwards, seconds (docs/gdw376.md §3.4). */
  frameTimeoutS: number;
  /** How long after a request (beyond its frame timeout, for forwards) its answer may take, ms. */
  replyWaitMs: number;
  /** Retries closer together than this are a flood, ms. */
  minRetryGapMs: number;
  /** The terminal clock's UTC offset, minutes (heartbeat clock and Tp). */
  utcOffsetMinutes: number;
  /** The concentrator's address when known beforehand (needed in connect mode). */
  a1?: string;
  a2?: number;
}

/** The context of a concentrator case. */
export class ConcentratorCaseContext {
  readonly session: ConcentratorSession;
  readonly config: ConcentratorSuiteConfig;
  /** Heartbeat period measured by C376-2.2, ms. */
  observedHeartbeatMs: number | undefined;

  constructor(session: ConcentratorSession, config: ConcentratorSuiteConfig) {
    this.session = session;
    this.config = config;
  }

  /** The terminal's address: from its latest login, else from the settings. */
  get terminal(): { a1: string; a2: number } | undefined {
    const login = [...this.session.heard].reverse().find((h) => isLogin(h));
    if (login) return { a1: login.frame.a1, a2: login.frame.a2 };
    if (this.config.a1 !== undefined && this.config.a2 !== undefined) {
      return { a1: this.config.a1, a2: this.config.a2 };
    }
    return undefined;
  }

  /** The heartbeat period to judge against: configured, else measured. */
  get heartbeatMs(): number | undefined {
    return this.config.heartbeatMs ?? this.observedHeartbeatMs;
  }

  /** How long to wait for the next heartbeat. */
  get heartbeatWaitMs(): number {
    const p = this.heartbeatMs;
    return p === undefined ? this.config.linkWaitMs : Math.min(this.config.linkWaitMs, p) + p / 2 + 500;
  }

  /** A meter address that is not behind the concentrator (for the silent-meter forward). */
  absentMeter(): string {
    const digits = this.config.meterProtocol === 'dlt645' ? 12 : 14;
    let address = this.config.meters[0] ?? '9'.repeat(digits);
    do address = otherAddress(address);
    while (this.config.meters.includes(address));
    return address;
  }
}

export function isLinkCheck(h: HeardFrame, fn: number): boolean {
  const f = h.frame;
  return f.afn === 0x02 && f.control.dir === 'up' && f.control.prm && f.units.some((u) => u.fn.includes(fn));
}

export const isLogin = (h: HeardFrame): boolean => isLinkCheck(h, 1);
export const isHeartbeat = (h: HeardFrame): boolean => isLinkCheck(h, 3);

/** An uplink response (PRM = 0) other than a link check: what a request is answered with. */
export function isResponse(h: HeardFrame): boolean {
  return h.frame.control.dir === 'up' && !h.frame.control.prm;
}
