import { type AnyFrame, decodeAuto } from '../../../protocols/auto.ts';
import { RecordingError } from '../errors.ts';
import type { Direction } from '../format.ts';
import { fromHex } from '../format.ts';
import { decodeFrameBytes } from '../framing.ts';
import type { Recording } from '../reader.ts';

/** A recorded frame with what replay needs: bytes, time, decoded fields, and whose side sent it. */
export interface ReplayFrame {
  t: number;
  dir: Direction;
  bytes: Uint8Array;
  protocol: string;
  summary: string;
  /** Decoded as `decode` prints it (with a 376.1 forward's meter frame). */
  decoded: Record<string, unknown>;
  /** The driving side's request (meter request, 376.1 downlink, point-read request) or the device's frame. */
  side: 'driver' | 'device';
  /** A frame that asks for an answer (a request, a 376.1 PRM frame), as opposed to one that answers. */
  initiates: boolean;
}

/** One request of the driving side and the device's frames that followed it (none: the device was silent). */
export interface Exchange {
  request: ReplayFrame;
  replies: ReplayFrame[];
}

export interface ReplaySession {
  link: string;
  /** Frames the device sent before the first request (a concentrator's login). */
  opening: ReplayFrame[];
  exchanges: Exchange[];
  /**
   * The driving side's answers to frames the device started: a master's confirm of a concentrator's login or
   * heartbeat (376.1 AFN 00 to an AFN 02 frame). Replay as driver answers such frames the same way.
   */
  answers: { request: ReplayFrame; answer: ReplayFrame }[];
}

/** Which side a frame comes from, from what the protocol says about its direction. */
export function sideOf(
  decoded: Record<string, unknown>,
  protocol: string,
): { side: 'driver' | 'device'; initiates: boolean } {
  if (protocol === 'gdw376') {
    const control = decoded.control as { dir: string; prm: boolean };
    return { side: control.dir === 'down' ? 'driver' : 'device', initiates: control.prm };
  }
  if (protocol === 'point-read') {
    const request =
      decoded.type === 'read' ||
      ('ModuleName' in decoded &&
        !('AccumVal' in (decoded.Content as object)) &&
        !('Error' in (decoded.Content as object)));
    return { side: request ? 'driver' : 'device', initiates: request };
  }
  const request = decoded.direction === 'request';
  return { side: request ? 'driver' : 'device', initiates: request };
}

/**
 * The exchanges of one link of a recording: each request of the driving side with the device frames that came
 * after it until the next request. `link` defaults to the first link that has frames.
 * @throws RecordingError NOTHING_TO_REPLAY when the link has no request.
 */
export function replaySession(recording: Recording, link?: string): ReplaySession {
  const name = link ?? recording.records.find((r) => r.type === 'frame')?.link;
  if (name === undefined)
    throw new RecordingError('NOTHING_TO_REPLAY', `${recording.file}: no frames to replay`);
  const framing = recording.links.get(name)?.framing ?? 'auto';
  const opening: ReplayFrame[] = [];
  const exchanges: Exchange[] = [];
  const answers: ReplaySession['answers'] = [];
  let unanswered: ReplayFrame | undefined;
  let deviceDir: Direction | undefined;
  for (const r of recording.records) {
    if (r.type === 'frame' && r.link === name) {
      const bytes = fromHex(r.hex);
      const decoded = decodeFrameBytes(bytes, framing)?.decoded ?? {};
      const frame: ReplayFrame = {
        t: r.t,
        dir: r.dir,
        bytes,
        protocol: r.protocol,
        summary: r.summary,
        decoded,
        ...sideOf(decoded, r.protocol),
      };
      if (frame.side === 'driver' && frame.initiates) exchanges.push({ request: frame, replies: [] });
      else if (frame.side === 'driver' && unanswered) {
        answers.push({ request: unanswered, answer: frame });
        unanswered = undefined;
      } else if (frame.side === 'device') {
        if (frame.initiates) unanswered = frame;
        deviceDir ??= frame.dir;
        // The device's own requests after the opening (heartbeats, a logout) are not answers: not replayed.
        if (exchanges.length === 0) opening.push(frame);
        else if (!frame.initiates) exchanges.at(-1)!.replies.push(frame);
      }
    } else if (r.type === 'drop' && r.link === name && r.dir === deviceDir && exchanges.length > 0) {
      // What the device sent that formed no frame (a bad checksum, noise) is part of its answer: replayed as is.
      exchanges.at(-1)!.replies.push({
        t: r.t,
        dir: r.dir,
        bytes: fromHex(r.hex),
        protocol: 'drop',
        summary: `drop ${r.code}`,
        decoded: { drop: r.code },
        side: 'device',
        initiates: false,
      });
    }
  }
  if (exchanges.length === 0) {
    throw new RecordingError(
      'NOTHING_TO_REPLAY',
      `${recording.file}: link "${name}" holds no request of the driving side`,
    );
  }
  return { link: name, opening, exchanges, answers };
}

/** The plain decoded frame (not the printing form) of bytes, for adjusting and re-encoding a reply. */
export function decodeRaw(bytes: Uint8Array): AnyFrame | undefined {
  let at = 0;
  while (at < bytes.length) {
    const r = decodeAuto(bytes.subarray(at));
    if (r.kind === 'frame') return r.frame;
    if (r.kind === 'need-more') return undefined;
    at += r.skip;
  }
  return undefined;
}
