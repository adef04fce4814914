import { hexToBytes } from '../../protocols/bytes.ts';
import {
  buildForwardReply,
  denyFor,
  type ForwardRequestBody,
  type Gdw376Frame,
  type Gdw376FrameTimeout,
} from '../../protocols/gdw376/index.ts';
import { ConcentratorError } from './errors.ts';
import type { MeterPort, PortForwardOutcome } from './meter-port.ts';

/**
 * AFN 10 F1 transparent forwarding (docs/gdw376.md §3.4): the request's meter frame goes out on the named
 * port with the named serial settings and timeouts, and the meter's reply comes back in an AFN 10 F1 reply
 * that echoes the request's SEQ (docs/field-notes.md §8: masters match replies by SEQ alone). A port the
 * concentrator does not have, or one whose queue is full, is answered with a deny (AFN 00 F2).
 */

/** What became of one forward; the concentrator reports it as its `'forward'` event. */
export interface ForwardRecord {
  port: number;
  /** The meter frame the master sent. */
  request: Uint8Array;
  /** The meter's reply as returned (empty when silent or denied). */
  reply: Uint8Array;
  /** The port's outcome, or `denied` with the reason in `note`. */
  outcome: PortForwardOutcome | 'denied';
  note?: string;
  /** Request SEQ (the reply carries the same). */
  seq: number;
  /** Clock times: when the port started on it (or the deny was made) and when it finished. */
  startedAt: number;
  endedAt: number;
}

/** The answer to send back, and what happened. */
export interface ForwardAnswer {
  answer: Gdw376Frame;
  record: ForwardRecord;
}

/** The frame-wait timeout in ms (docs/gdw376.md §3.4: D7 = 1 seconds, 0 milliseconds). */
export function frameTimeoutMs(t: Gdw376FrameTimeout): number {
  return t.unit === 's' ? t.value * 1000 : t.value;
}

/**
 * Runs the AFN 10 F1 unit `body` of `request` on `ports` and builds the reply. Never rejects: every failure
 * becomes a deny with a note.
 */
export async function answerForward(
  request: Gdw376Frame,
  body: ForwardRequestBody,
  ports: ReadonlyMap<number, MeterPort>,
  now: () => number,
): Promise<ForwardAnswer> {
  const content = hexToBytes(body.content);
  const base = { port: body.port, request: content, seq: request.seq.seq };
  const port = ports.get(body.port);
  if (!port) {
    const have = [...ports.keys()].join(', ') || 'none';
    return denied(request, base, `no port ${body.port} (ports: ${have})`, now());
  }
  try {
    const result = await port.forward(content, {
      serial: {
        baudRate: body.serial.baud,
        dataBits: body.serial.dataBits as 5 | 6 | 7 | 8,
        parity: body.serial.parity,
        stopBits: body.serial.stopBits as 1 | 2,
      },
      frameTimeoutMs: frameTimeoutMs(body.frameTimeout),
      byteTimeoutMs: body.byteTimeout.ms,
    });
    // `base`'s fields are listed, not spread: this runs for every forward (docs/performance.md).
    const record: ForwardRecord = {
      port: base.port,
      request: base.request,
      seq: base.seq,
      reply: result.reply,
      outcome: result.outcome,
      startedAt: result.startedAt,
      endedAt: result.endedAt,
    };
    if (result.note !== undefined) record.note = result.note;
    return { answer: buildForwardReply(request, { content: result.reply }), record };
  } catch (error) {
    const note =
      error instanceof ConcentratorError
        ? `${error.code}: ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error);
    return denied(request, base, note, now());
  }
}

/** A deny of `request` (AFN 00 F2), and its record. */
function denied(
  request: Gdw376Frame,
  base: Pick<ForwardRecord, 'port' | 'request' | 'seq'>,
  note: string,
  at: number,
): ForwardAnswer {
  return {
    answer: denyFor(request),
    record: { ...base, reply: new Uint8Array(0), outcome: 'denied', note, startedAt: at, endedAt: at },
  };
}
