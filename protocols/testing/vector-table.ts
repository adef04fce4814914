import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../bytes.ts';
import type { FrameDecoder } from '../decode-result.ts';
import type { ProtocolErrorCode } from '../errors.ts';
import { FrameAccumulator } from '../framer.ts';

/**
 * One row of a vector file in fixtures/vectors/ (STYLE.md habit 5). A positive row has `expect` (a subset of the
 * decoded frame); a negative row has `code` (the ProtocolError code the decoder must give).
 */
export interface VectorRow {
  id: string;
  source: string;
  meaning: string;
  /** Clause of the standard or section of the reference the row pins down. */
  spec?: string;
  hex: string;
  checksumValid: boolean;
  expect?: Record<string, unknown>;
  code?: ProtocolErrorCode;
}

export interface VectorFile {
  protocol: string;
  note: string;
  vectors: VectorRow[];
}

export interface VectorCodec<T> {
  decode: FrameDecoder<T>;
  encode: (frame: T) => Uint8Array;
}

/** Reads a vector file from fixtures/vectors/ (relative to the repository root). */
export function loadVectors(name: string): VectorFile {
  const url = new URL(`../../fixtures/vectors/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as VectorFile;
}

/**
 * Turns every row into the four checks of the mqtt-packet quartet: decode matches and consumes every byte;
 * encode reproduces the bytes (compared as hex); decode(encode(frame)) is the frame; the streaming framer
 * finds the same frame. Negative rows check the error code, in the decoder and in the framer's drop report.
 */
export function describeVectors<T>(file: VectorFile, codec: VectorCodec<T>): void {
  describe(`${file.protocol} vectors`, () => {
    for (const row of file.vectors) {
      const bytes = hexToBytes(row.hex);
      if (row.code) {
        it(`${row.id} gives ${row.code}: ${row.meaning} (${row.source})`, () => {
          const result = codec.decode(bytes);
          expect(result.kind).toBe('error');
          if (result.kind === 'error') expect(result.error.code).toBe(row.code);
          const events = new FrameAccumulator(codec.decode, { maxBufferedBytes: 65536 }).push(bytes);
          expect(events.some((e) => e.kind === 'frame')).toBe(false);
          expect(events.some((e) => e.kind === 'dropped' && e.error.code === row.code)).toBe(true);
        });
        continue;
      }
      it(`${row.id} decodes, encodes and frames: ${row.meaning} (${row.source})`, () => {
        const result = codec.decode(bytes);
        if (result.kind !== 'frame') throw new Error(`expected a frame, got ${JSON.stringify(result)}`);
        expect(result.consumed).toBe(bytes.length);
        expect(result.frame).toMatchObject(row.expect ?? {});
        expect(bytesToHex(codec.encode(result.frame))).toBe(bytesToHex(bytes));
        const again = codec.decode(codec.encode(result.frame));
        expect(again.kind === 'frame' && again.frame).toEqual(result.frame);
        const acc = new FrameAccumulator(codec.decode, { maxBufferedBytes: 65536 });
        const events = [...acc.push(bytes), ...acc.flush()];
        expect(events).toHaveLength(1);
        expect(events[0].kind === 'frame' && events[0].frame).toEqual(result.frame);
      });
    }
  });
}
