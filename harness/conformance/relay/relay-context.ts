import type { Clock } from '../../../simulator/clock/clock.ts';
import type { Trace } from '../trace.ts';
import { RelayConnection } from './relay-connection.ts';

/**
 * What every relay case works with: the endpoint's address and token, the meter it should be able to read,
 * the waits, and a way to open traced connections that are all closed when the case ends.
 * @packageDocumentation
 */

/** The settings of a relay suite run. */
export interface RelaySuiteConfig {
  /** `ws://HOST:PORT[/PATH]` without the token. */
  baseUrl: string;
  /** The token of the target URL's `?token=`, when it had one. */
  token?: string;
  /** A concentrator (A1A2 or alias) the endpoint can read `meter` through. */
  concentrator: string;
  /** A meter that answers. */
  meter: string;
  /** A concentrator the endpoint does not know, for the failure cases. */
  absentConcentrator: string;
  /** Wait for answers the endpoint gives at once (bad input, pongs, upgrades), ms. */
  timeoutMs: number;
  /** Wait for the answer of a field read, ms. */
  readTimeoutMs: number;
  /** The endpoint's message size limit, bytes (meterlab's relay: maxPayload, 64 KiB). */
  maxMessageBytes: number;
  /** Reads put in flight at once by the concurrency case. */
  concurrency: number;
}

/** How a connection presents the token. */
export type TokenUse = 'as-given' | 'none' | 'wrong' | 'header';

export class RelayCaseContext {
  readonly config: RelaySuiteConfig;
  readonly clock: Clock;
  trace: Trace;
  readonly #open: RelayConnection[] = [];

  constructor(config: RelaySuiteConfig, clock: Clock, trace: Trace) {
    this.config = config;
    this.clock = clock;
    this.trace = trace;
  }

  /** The URL with the token in the query as the case wants it. */
  url(token: TokenUse = 'as-given'): string {
    const url = new URL(this.config.baseUrl);
    const t = this.config.token;
    if (token === 'as-given' && t !== undefined) url.searchParams.set('token', t);
    if (token === 'wrong') url.searchParams.set('token', `${t ?? ''}-wrong`);
    return url.toString();
  }

  /** Opens a connection and waits for the upgrade; `undefined` (with a note) when it was not accepted. */
  async connect(label?: string, token: TokenUse = 'as-given'): Promise<RelayConnection | undefined> {
    const c = this.open(label, token);
    const outcome = await c.opened(this.config.timeoutMs * 4);
    if (outcome.kind === 'open') return c;
    this.trace.note(
      outcome.kind === 'refused'
        ? `the endpoint refused the connection with HTTP ${outcome.status}`
        : `cannot connect: ${outcome.message}`,
    );
    return undefined;
  }

  /** Starts a connection without waiting (auth cases look at how the upgrade ends). */
  open(label?: string, token: TokenUse = 'as-given'): RelayConnection {
    const c = new RelayConnection({
      url: this.url(token),
      bearer: token === 'header' ? this.config.token : undefined,
      trace: this.trace,
      clock: this.clock,
      label,
    });
    this.#open.push(c);
    return c;
  }

  /** Closes every connection the case opened. */
  async endCase(): Promise<void> {
    const open = this.#open.splice(0);
    await Promise.all(open.map((c) => c.close()));
  }
}
