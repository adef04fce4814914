/**
 * Valve control through the master (issue 12), as pure functions: the CJ/T 188 valve command to forward in a
 * 376.1 AFN 10H F1 frame, and the valve state read from what the concentrator brings back. No I/O.
 *
 * CJ/T 188 writes the valve with C = 04, DI A017 and one byte, 55H open / 99H close (docs/cjt188.md §1.11);
 * the meter answers C = 84 with `DI SER` and, in the BLOG-SC form the simulator uses, the status word ST
 * whose D1–D0 are the valve state (00 open, 01 closed, 11 abnormal, docs/cjt188.md §1.8). A reply without ST
 * (the KINGDA form) says only that the command was taken; the caller then reads the meter to learn the state.
 */

import { bytesToHex } from '../../protocols/bytes.ts';
import {
  buildValveRequest,
  CJT188_METER_TYPES,
  type Cjt188DiOrder,
  type Cjt188Frame,
  decodeCjt188,
  encodeCjt188,
} from '../../protocols/cjt188/index.ts';
import { FrameAccumulator } from '../../protocols/framer.ts';
import type { ValveAction } from '../../protocols/point-read/console-messages.ts';
import type { MeterProtocol, ReadErrorDetail, ValveState } from '../../protocols/point-read/index.ts';
import { MasterError } from './master-error.ts';

/** Meter kinds whose CJ/T 188 meters carry a valve: water and gas meters; heat meters and DL/T 645 have none. */
const VALVE_KINDS: readonly string[] = ['cold-water', 'hot-water', 'gas'];

/** CJ/T 188 meter type T of a kind (docs/cjt188.md §1.3), for the request's T byte. */
const METER_TYPE_OF_KIND: Readonly<Record<string, number>> = {
  'cold-water': CJT188_METER_TYPES.coldWater,
  'hot-water': CJT188_METER_TYPES.hotWater,
  heat: CJT188_METER_TYPES.heat,
  gas: CJT188_METER_TYPES.gas,
};

/** The kind the archive implies when it names none: CJ/T 188 meters are cold-water, DL/T 645 electricity. */
export function defaultMeterKind(protocol: MeterProtocol): string {
  return protocol === 'dlt645' ? 'electricity' : 'cold-water';
}

/** Whether a meter of this protocol and kind has a valve the master can drive. */
export function hasValve(protocol: MeterProtocol, kind: string): boolean {
  return protocol === 'cjt188' && VALVE_KINDS.includes(kind);
}

/** The valve command for the meter at `address` (14 digits), as bytes to forward. */
export function buildValveCommand(
  address: string,
  action: ValveAction,
  options: { kind?: string; diOrder?: Cjt188DiOrder } = {},
): Uint8Array {
  return encodeCjt188(
    buildValveRequest(address, action, {
      meterType: METER_TYPE_OF_KIND[options.kind ?? 'cold-water'] ?? CJT188_METER_TYPES.coldWater,
      diOrder: options.diOrder ?? 'low-first',
    }),
  );
}

/** What the meter said to a valve command. `valve` is absent when its reply carried no status word. */
export interface ValveReply {
  valve?: ValveState;
  batteryLow?: boolean;
}

/**
 * Reads the meter's answer to a valve command from the forward content.
 * @throws MasterError METER_TIMEOUT (empty content) or BAD_REPLY, with the detail a read's failure carries:
 * reason ADDRESS_MISMATCH (`expected`, `got`), ABNORMAL_REPLY (the meter refused: C = C4; `statusWord`),
 * BAD_CHECKSUM, or BAD_REPLY (no reply frame, another kind of reply), and the reply's bytes.
 */
export function decodeValveReply(address: string, content: Uint8Array, what: string): ValveReply {
  if (content.length === 0) {
    throw new MasterError(
      'METER_TIMEOUT',
      `${what} did not answer the valve command (the concentrator forwarded no reply)`,
      { reason: 'METER_TIMEOUT', protocol: 'cjt188', expected: address },
    );
  }
  // What the meter sent, for the error's detail (at most 512 bytes, as a read's detail).
  const facts = { protocol: 'cjt188', expected: address, reply: bytesToHex(content.subarray(0, 512)) };
  const reply = firstReply(content, what, facts);
  if (reply.address !== address) {
    throw new MasterError('BAD_REPLY', `${what}: the reply came from address ${reply.address}`, {
      ...facts,
      reason: 'ADDRESS_MISMATCH',
      got: reply.address,
    });
  }
  const body = reply.body;
  if (reply.abnormal || body.kind === 'error-reply') {
    const st = body.kind === 'error-reply' ? body.st : undefined;
    throw new MasterError(
      'BAD_REPLY',
      `${what} refused the valve command${st ? ` (ST ${st.raw}, valve ${st.valve})` : ''}`,
      {
        ...facts,
        reason: 'ABNORMAL_REPLY',
        ...(st && /^[0-9A-F]{4}$/.test(st.raw) ? { statusWord: st.raw } : {}),
        ...(st ? { meaning: `valve ${st.valve}${st.batteryLow ? ', battery low' : ''}` } : {}),
      },
    );
  }
  if (body.kind !== 'write-reply' || body.di !== 'A017') {
    throw new MasterError('BAD_REPLY', `${what} answered the valve command with a ${body.kind}`, {
      ...facts,
      reason: 'BAD_REPLY',
    });
  }
  return body.status === null ? {} : { valve: body.status.valve, batteryLow: body.status.batteryLow };
}

function firstReply(content: Uint8Array, what: string, facts: Omit<ReadErrorDetail, 'reason'>): Cjt188Frame {
  const acc = new FrameAccumulator<Cjt188Frame>(decodeCjt188, {
    maxBufferedBytes: Math.max(16, content.length),
  });
  const events = [...acc.push(content), ...acc.flush()];
  for (const e of events) if (e.kind === 'frame' && e.frame.direction === 'reply') return e.frame;
  const dropped = events.find((e) => e.kind === 'dropped' && e.error.code !== 'NO_START');
  if (dropped?.kind === 'dropped') {
    throw new MasterError('BAD_REPLY', `${what} answered with an unusable frame: ${dropped.error.message}`, {
      ...facts,
      reason: dropped.error.code === 'BAD_CHECKSUM' ? 'BAD_CHECKSUM' : 'BAD_REPLY',
    });
  }
  throw new MasterError('BAD_REPLY', `${what} answered with no reply frame`, {
    ...facts,
    reason: 'BAD_REPLY',
  });
}
