import { confirmFor, encodeGdw376 } from '../../../protocols/gdw376/index.ts';
import type { Clock } from '../../../simulator/clock/index.ts';
import { realClock } from '../../../simulator/clock/index.ts';
import { type Link, TcpServerLink } from '../../../simulator/link/index.ts';
import { describeEndpoint, type Endpoint, linkFor } from '../endpoint.ts';
import { type StreamFrame, StreamFramer } from '../framing.ts';
import type { Recording } from '../reader.ts';
import { Recorder } from '../recorder.ts';
import { TapLink } from '../tap-link.ts';
import type { RecordingSink } from '../writer.ts';
import { adjustReply } from './adjust.ts';
import { type CompareRules, compareDecoded, type FieldDifference, matchKey, sideBySide } from './compare.ts';
import type { ReplayTiming } from './device.ts';
import { decodeRaw, type ReplayFrame, replaySession, sideOf } from './session.ts';

export interface DriverReplayOptions {
  recording: Recording;
  link?: string;
  target: Endpoint;
  rules: CompareRules;
  timing?: ReplayTiming;
  /** How long to wait for each recorded reply beyond its recorded delay. @defaultValue 2000 */
  timeoutMs?: number;
  clock?: Clock;
  onNote?: (line: string) => void;
  /** Re-record the run: the target link is wrapped in a {@link TapLink} writing to this sink. */
  record?: RecordingSink;
  /**
   * How long to wait for the device's opening frames (a concentrator connecting and logging in) before the
   * first request. @defaultValue 60000
   */
  openingTimeoutMs?: number;
}

export interface DriverDifference {
  request: string;
  /** `missing` — no reply where one was recorded; `extra` — a reply where the device was silent. */
  kind: 'fields' | 'missing' | 'extra';
  diffs: FieldDifference[];
  report: string;
}

/**
 * Plays the driving side of a recording against a device under test: each recorded request is sent as
 * recorded, the device's replies are collected (as many as were recorded, within the recorded delay plus
 * `timeoutMs`) and compared with the recorded ones field by field after decoding, under `rules`.
 * Resolves with the differences (empty: the device answers as it did).
 *
 * A device that speaks first is answered as the recording's driving side answered it: a concentrator's login,
 * heartbeat or logout (376.1 AFN 02) gets the recorded confirm of the same frame (matched like replay as device
 * matches requests), made right for it by {@link adjustReply} (RSEQ = its PSEQ, checksum recomputed); a frame
 * the recording has no answer for gets a plain AFN 00 F1 confirm (docs/gdw376.md §3.5) — an F3 confirm names the
 * item it confirms, so a recorded F3 confirm of a login is not reused for a heartbeat. Such frames are answered
 * whenever they come and are never counted as replies. Before the first request the driver waits for the
 * device's recorded opening (its login): with a `tcp-listen` target the device under test connects to us, as
 * a concentrator connects to its master.
 */
export async function replayAsDriver(options: DriverReplayOptions): Promise<DriverDifference[]> {
  const session = replaySession(options.recording, options.link);
  const clock = options.clock ?? realClock;
  const base = linkFor(options.target);
  let link: Link = base;
  let recorder: Recorder | undefined;
  if (options.record) {
    // `a` is this process (the driver), `b` the device under test, as for any process recording its own link.
    const original = options.recording.links.get(session.link);
    recorder = new Recorder({
      sink: options.record,
      source: `replay --as driver ${describeEndpoint(options.target)}`,
      links: [
        {
          name: session.link,
          kind: original?.kind ?? 'unknown',
          settings: original?.settings ?? '',
          a: 'meterlab replay',
          b: describeEndpoint(options.target),
          framing: original?.framing ?? 'auto',
        },
      ],
    });
    link = new TapLink(link, recorder, session.link);
  }
  const target: Link = link;
  const answers = new Map<string, ReplayFrame>();
  for (const { request, answer } of session.answers) {
    const key = matchKey(request.decoded);
    if (!answers.has(key)) answers.set(key, answer);
  }
  let initiated = 0;
  const answerDevice = (frame: StreamFrame) => {
    initiated++;
    const recorded = answers.get(matchKey(frame.decoded));
    let answer: Uint8Array | undefined;
    if (recorded) answer = adjustReply(frame.bytes, frame.decoded, recorded.bytes);
    else {
      const asked = decodeRaw(frame.bytes);
      if (asked?.protocol === 'gdw376') answer = encodeGdw376(confirmFor(asked));
    }
    options.onNote?.(
      `${frame.summary}: ${answer ? (recorded ? 'answered as recorded' : 'confirmed (AFN 00 F1)') : 'not answered'}`,
    );
    if (answer) target.write(answer).catch(() => undefined);
  };
  let framer = new StreamFramer('auto');
  if (base instanceof TcpServerLink) {
    base.events.on('connection', (remote) => {
      framer = new StreamFramer('auto');
      options.onNote?.(`${remote} connected`);
    });
  }
  // Drops count as replies too (a bad checksum where one was recorded is the same answer).
  const received: StreamFrame[] = [];
  let wake: (() => void) | undefined;
  link.on('data', (bytes) => {
    for (const e of framer.push(bytes)) {
      if (e.kind === 'frame') {
        const who = sideOf(e.decoded, e.protocol);
        if (who.side === 'device' && who.initiates) {
          answerDevice(e);
          continue;
        }
      }
      received.push(
        e.kind === 'frame'
          ? e
          : {
              kind: 'frame',
              protocol: 'drop',
              summary: `drop ${e.code}`,
              bytes: e.bytes,
              decoded: { drop: e.code },
            },
      );
    }
    wake?.();
  });
  // The device under test going away is said once; the next write fails on the closed link and ends the replay.
  link.on('error', (error) => options.onNote?.(`${link.description}: ${error.message}`));
  await link.open();
  const out: DriverDifference[] = [];
  try {
    if (base instanceof TcpServerLink) {
      options.onNote?.(`listening on ${base.host}:${base.address()?.port} for the device under test`);
    }
    // The device's opening (a login) comes before the first request, as it did when recorded.
    const opening = session.opening.filter((f) => f.initiates).length;
    const openingDeadline = clock.now() + (options.openingTimeoutMs ?? 60_000);
    while (initiated < opening && clock.now() < openingDeadline) {
      await new Promise<void>((resolve) => {
        const timer = clock.setTimeout(resolve, Math.min(200, Math.max(0, openingDeadline - clock.now())));
        wake = () => {
          clock.clearTimeout(timer);
          resolve();
        };
      });
    }
    if (initiated < opening) {
      options.onNote?.(
        `the device sent ${initiated} of the ${opening} opening frames recorded (${session.opening.map((f) => f.summary).join('; ')}) within ${options.openingTimeoutMs ?? 60_000} ms; playing the requests anyway`,
      );
    }
    let previous: number | undefined;
    for (const exchange of session.exchanges) {
      const gap = previous === undefined ? 0 : exchange.request.t - previous;
      previous = exchange.request.t;
      const timing = options.timing ?? 'fast';
      const wait = timing === 'fast' ? 0 : timing === 'recorded' ? gap : gap / Number(timing.slice(1));
      if (wait > 0) await clock.sleep(wait);
      received.length = 0;
      await link.write(exchange.request.bytes);
      const expected = exchange.replies;
      const recordedDelay = expected.length > 0 ? expected.at(-1)!.t - exchange.request.t : 0;
      const deadline = clock.now() + recordedDelay + (options.timeoutMs ?? 2000);
      while (received.length < Math.max(1, expected.length) && clock.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = clock.setTimeout(resolve, Math.min(50, deadline - clock.now()));
          wake = () => {
            clock.clearTimeout(timer);
            resolve();
          };
        });
      }
      const got = received.splice(0);
      const title = exchange.request.summary;
      for (let i = 0; i < Math.max(expected.length, got.length); i++) {
        const e = expected[i];
        const g = got[i];
        if (e && !g) {
          out.push({
            request: title,
            kind: 'missing',
            diffs: [],
            report: `${title}\n  recorded ${e.summary}\n  now      (no reply)`,
          });
        } else if (!e && g) {
          out.push({
            request: title,
            kind: 'extra',
            diffs: [],
            report: `${title}\n  recorded (no reply)\n  now      ${g.summary}`,
          });
        } else if (e && g) {
          const diffs = compareDecoded(e.decoded, g.decoded, options.rules);
          if (diffs.length > 0)
            out.push({ request: title, kind: 'fields', diffs, report: sideBySide(title, diffs) });
        }
      }
      options.onNote?.(`${title}: ${got.length} repl${got.length === 1 ? 'y' : 'ies'}`);
    }
  } finally {
    await link.close();
    recorder?.close();
  }
  return out;
}
