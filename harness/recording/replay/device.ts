import type { Clock } from '../../../simulator/clock/index.ts';
import { realClock } from '../../../simulator/clock/index.ts';
import { type Link, TcpServerLink } from '../../../simulator/link/index.ts';
import { describeEndpoint, type Endpoint, linkFor } from '../endpoint.ts';
import { StreamFramer } from '../framing.ts';
import { ProcessRecording } from '../process-recording.ts';
import type { Recording } from '../reader.ts';
import type { RecordingSink } from '../writer.ts';
import { adjustReply, errorReplyFor } from './adjust.ts';
import { matchKey } from './compare.ts';
import { type Exchange, type ReplaySession, replaySession, sideOf } from './session.ts';

/** How replies are timed: as recorded after the request, at once, or at a speed-up (x2 = half the delay). */
export type ReplayTiming = 'recorded' | 'fast' | `x${number}`;

export function parseTiming(text: string): ReplayTiming {
  if (text === 'recorded' || text === 'fast') return text;
  const m = /^x(\d+(?:\.\d+)?)$/.exec(text);
  if (!m || Number(m[1]) <= 0)
    throw new TypeError(`--timing must be recorded, fast or xN (e.g. x2), got "${text}"`);
  return text as ReplayTiming;
}

function delay(timing: ReplayTiming, recordedMs: number): number {
  if (timing === 'fast') return 0;
  if (timing === 'recorded') return recordedMs;
  return recordedMs / Number(timing.slice(1));
}

export interface DeviceReplayOptions {
  recording: Recording;
  /** Which link of the recording to stand in for (default: the first with frames). */
  link?: string;
  port: Endpoint;
  timing?: ReplayTiming;
  /** What to do with a request that matches nothing recorded. @defaultValue 'silence' */
  unmatched?: 'silence' | 'error';
  clock?: Clock;
  /** A line per request answered or not. */
  onNote?: (line: string) => void;
  /** Record the run: the port's link is wrapped in a TapLink writing to this sink (`a` = the replay). */
  record?: RecordingSink;
}

export interface DeviceReplayReport {
  answered: number;
  unmatched: string[];
}

/**
 * Stands in for the recorded device on a serial port or TCP: each incoming request is matched to a recorded
 * one by its decoded fields without correlation numbers and times (so a new SER, PSEQ or Tp still matches),
 * and answered with the recorded reply adjusted to it ({@link adjustReply}). Among equal requests the recorded
 * answers are used in order, then again from the first. Frames the device sent before the first request (a
 * concentrator's login) are sent when the link opens or a connection arrives.
 */
export class DeviceReplay {
  readonly session: ReplaySession;
  readonly report: DeviceReplayReport = { answered: 0, unmatched: [] };
  readonly #options: DeviceReplayOptions;
  readonly #byKey = new Map<string, { exchanges: Exchange[]; next: number }>();
  #link: Link | undefined;
  #recording: ProcessRecording | undefined;

  constructor(options: DeviceReplayOptions) {
    this.#options = options;
    this.session = replaySession(options.recording, options.link);
    for (const e of this.session.exchanges) {
      const key = matchKey(e.request.decoded);
      const entry = this.#byKey.get(key) ?? { exchanges: [], next: 0 };
      entry.exchanges.push(e);
      this.#byKey.set(key, entry);
    }
  }

  get link(): Link | undefined {
    return this.#link;
  }

  async start(): Promise<void> {
    const base = linkFor(this.#options.port);
    const { record } = this.#options;
    this.#recording = record && new ProcessRecording(record, 'meterlab replay --as device');
    const link =
      this.#recording?.wrap(base, {
        name: this.session.link,
        peer: describeEndpoint(this.#options.port),
      }) ?? base;
    this.#link = link;
    let framer = new StreamFramer('auto');
    link.on('data', (bytes) => {
      for (const event of framer.push(bytes)) {
        if (event.kind !== 'frame') continue;
        // Only requests are answered: a master's confirm of the login we sent is an answer, not a request.
        const who = sideOf(event.decoded, event.protocol);
        if (who.side === 'driver' && who.initiates)
          void this.#answer(link, event.bytes, event.decoded, event.summary);
        else this.#note(`heard ${event.summary}`);
      }
    });
    link.on('error', (error) => this.#note(`${link.description}: ${error.message}`));
    if (base instanceof TcpServerLink) {
      base.events.on('connection', (remote) => {
        framer = new StreamFramer('auto');
        this.#note(`${remote} connected`);
        void this.#sendOpening(link);
      });
      await link.open();
    } else {
      await link.open();
      await this.#sendOpening(link);
    }
  }

  async #sendOpening(link: Link): Promise<void> {
    for (const frame of this.session.opening) {
      await link.write(frame.bytes).catch(() => undefined);
      this.#note(`sent ${frame.summary}`);
    }
  }

  async #answer(
    link: Link,
    bytes: Uint8Array,
    decoded: Record<string, unknown>,
    summary: string,
  ): Promise<void> {
    const entry = this.#byKey.get(matchKey(decoded));
    if (!entry) {
      this.report.unmatched.push(summary);
      const error = this.#options.unmatched === 'error' ? errorReplyFor(bytes, decoded) : undefined;
      this.#note(`UNMATCHED ${summary}: ${error ? 'error reply sent' : 'silence'}`);
      if (error) await link.write(error).catch(() => undefined);
      return;
    }
    const exchange = entry.exchanges[entry.next % entry.exchanges.length];
    entry.next++;
    this.report.answered++;
    const clock = this.#options.clock ?? realClock;
    let last = exchange.request.t;
    for (const reply of exchange.replies) {
      const wait = delay(this.#options.timing ?? 'recorded', reply.t - last);
      last = reply.t;
      if (wait > 0) await clock.sleep(wait);
      await link.write(adjustReply(bytes, decoded, reply.bytes)).catch(() => undefined);
    }
    this.#note(
      `${summary} -> ${exchange.replies.length === 0 ? 'silence (as recorded)' : exchange.replies.map((r) => r.summary).join('; ')}`,
    );
  }

  #note(line: string): void {
    this.#options.onNote?.(line);
  }

  async stop(): Promise<void> {
    await this.#link?.close();
    this.#recording?.close();
  }
}
