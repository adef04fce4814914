import { bytesToHex, concatBytes, hexToBytes } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { byte } from './auxiliary-field.ts';
import { hex2 } from './control.ts';
import type {
  ForwardReplyBody,
  ForwardRequestBody,
  Gdw376ByteTimeout,
  Gdw376FrameTimeout,
  Gdw376SerialSettings,
} from './types.ts';

/** AFN 10: data forwarding; F1 = transparent forward (docs/gdw376.md §3.4). */
export const AFN_FORWARD = 0x10;

/** Baud rates by the control word's D7–D5 index (docs/gdw376.md §3.4; TMNL packs `baud<<5`). */
export const FORWARD_BAUDS: readonly number[] = [300, 600, 1200, 2400, 4800, 7200, 9600, 19200];

/**
 * The forward control word (docs/gdw376.md §3.4, TMNL `bits | parity<<2 | check<<3 | stop<<4 | baud<<5`):
 * D7–D5 baud index, D4 stop bits (0 = 1, 1 = 2), D3 parity enabled, D2 odd (1) / even (0), D1–D0 data bits − 5.
 * `6B` is 2400 8E1, the setting used across sources for DL/T 645 and CJ/T 188 meters (Q14).
 * Throws BAD_FIELD on a baud rate, data-bit or stop-bit count the word cannot hold.
 */
export function encodeForwardControl(serial: Gdw376SerialSettings): number {
  const baud = FORWARD_BAUDS.indexOf(serial.baud);
  if (baud < 0) {
    throw new ProtocolError('BAD_FIELD', `baud ${serial.baud} is not one of ${FORWARD_BAUDS.join(', ')}`);
  }
  if (!Number.isInteger(serial.dataBits) || serial.dataBits < 5 || serial.dataBits > 8) {
    throw new ProtocolError('BAD_FIELD', `dataBits ${serial.dataBits} is not 5–8`);
  }
  if (serial.stopBits !== 1 && serial.stopBits !== 2) {
    throw new ProtocolError('BAD_FIELD', `stopBits ${serial.stopBits} is not 1 or 2`);
  }
  const parity = serial.parity === 'none' ? 0 : serial.parity === 'even' ? 0b10 : 0b11;
  return (baud << 5) | ((serial.stopBits - 1) << 4) | (parity << 2) | (serial.dataBits - 5);
}

/** Reads the forward control word (see {@link encodeForwardControl}). With D3 clear, D2 is ignored. */
export function decodeForwardControl(word: number): Gdw376SerialSettings {
  return {
    baud: FORWARD_BAUDS[(word >> 5) & 7],
    parity: word & 0x08 ? (word & 0x04 ? 'odd' : 'even') : 'none',
    dataBits: (word & 3) + 5,
    stopBits: word & 0x10 ? 2 : 1,
  };
}

/** Reads the frame-wait timeout byte: D7 unit (1 = s, 0 = ms; docs/gdw376.md §3.4), D6–D0 value. */
export function decodeFrameTimeout(b: number): Gdw376FrameTimeout {
  return { value: b & 0x7f, unit: b & 0x80 ? 's' : 'ms' };
}

/** Writes the frame-wait timeout byte. Throws BAD_FIELD when `value` is not 0–127. */
export function encodeFrameTimeout(t: Gdw376FrameTimeout): number {
  if (!Number.isInteger(t.value) || t.value < 0 || t.value > 127) {
    throw new ProtocolError('BAD_FIELD', `frameTimeout.value ${t.value} is not 0–127`);
  }
  return (t.unit === 's' ? 0x80 : 0) | t.value;
}

/** Reads the byte-wait timeout: raw byte, read as units of 10 ms (see {@link Gdw376ByteTimeout}). */
export function decodeByteTimeout(b: number): Gdw376ByteTimeout {
  return { raw: b, ms: b * 10 };
}

/**
 * Reads an AFN 10 F1 request's data: port, control word, frame-wait timeout, byte-wait timeout, content length
 * k (2, LE), content (k). Returns the body and how many bytes it took. Throws BAD_FIELD when the data unit is
 * shorter than its own length field says.
 */
export function decodeForwardRequest(data: Uint8Array): { body: ForwardRequestBody; length: number } {
  if (data.length < 6) {
    throw new ProtocolError(
      'BAD_FIELD',
      `AFN 10 F1 request needs 6 bytes before its content, data unit has ${data.length}`,
    );
  }
  const k = data[4] | (data[5] << 8);
  if (data.length < 6 + k) {
    throw new ProtocolError(
      'BAD_FIELD',
      `forward content length says ${k} bytes, data unit has ${data.length - 6} after it`,
    );
  }
  const body: ForwardRequestBody = {
    kind: 'forward-request',
    port: data[0],
    serial: decodeForwardControl(data[1]),
    controlWord: data[1],
    frameTimeout: decodeFrameTimeout(data[2]),
    byteTimeout: decodeByteTimeout(data[3]),
    content: bytesToHex(data.subarray(6, 6 + k)),
  };
  return { body, length: 6 + k };
}

/**
 * Writes an AFN 10 F1 request's data. `controlWord` goes on the wire; `serial` must be its reading, and
 * `byteTimeout.ms` must be `raw × 10`; otherwise BAD_FIELD names both.
 */
export function encodeForwardRequest(body: ForwardRequestBody): Uint8Array {
  const word = byte(body.controlWord, 'controlWord');
  const read = decodeForwardControl(word);
  const s = body.serial;
  if (
    read.baud !== s.baud ||
    read.parity !== s.parity ||
    read.dataBits !== s.dataBits ||
    read.stopBits !== s.stopBits
  ) {
    throw new ProtocolError(
      'BAD_FIELD',
      `controlWord 0x${hex2(word)} means ${serialText(read)} but serial says ${serialText(s)}`,
    );
  }
  const bt = byte(body.byteTimeout.raw, 'byteTimeout.raw');
  if (body.byteTimeout.ms !== bt * 10) {
    throw new ProtocolError('BAD_FIELD', `byteTimeout.ms ${body.byteTimeout.ms} is not raw ${bt} × 10 ms`);
  }
  const content = hexToBytes(body.content);
  return concatBytes([
    Uint8Array.of(byte(body.port, 'port'), word, encodeFrameTimeout(body.frameTimeout), bt),
    length16(content.length),
    content,
  ]);
}

/** Reads an AFN 10 F1 reply's data: port, content length k (2, LE), content. Throws BAD_FIELD when short. */
export function decodeForwardReply(data: Uint8Array): { body: ForwardReplyBody; length: number } {
  if (data.length < 3) {
    throw new ProtocolError(
      'BAD_FIELD',
      `AFN 10 F1 reply needs 3 bytes before its content, data unit has ${data.length}`,
    );
  }
  const k = data[1] | (data[2] << 8);
  if (data.length < 3 + k) {
    throw new ProtocolError(
      'BAD_FIELD',
      `forward reply length says ${k} bytes, data unit has ${data.length - 3} after it`,
    );
  }
  return {
    body: { kind: 'forward-reply', port: data[0], content: bytesToHex(data.subarray(3, 3 + k)) },
    length: 3 + k,
  };
}

/** Writes an AFN 10 F1 reply's data. */
export function encodeForwardReply(body: ForwardReplyBody): Uint8Array {
  const content = hexToBytes(body.content);
  return concatBytes([Uint8Array.of(byte(body.port, 'port')), length16(content.length), content]);
}

/** "2400 8E1" style text of serial settings, for messages and logs. */
export function serialText(s: Gdw376SerialSettings): string {
  return `${s.baud} ${s.dataBits}${s.parity[0].toUpperCase()}${s.stopBits}`;
}

function length16(n: number): Uint8Array {
  if (n > 0xffff) throw new ProtocolError('TOO_LONG', `forward content of ${n} bytes exceeds 65535`);
  return Uint8Array.of(n & 0xff, n >> 8);
}
