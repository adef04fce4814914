/**
 * `npm run bench -- codec [--frames N] [--seed S]`: how fast the framers turn a long byte stream of mixed
 * valid frames (CJ/T 188, DL/T 645, Q/GDW 376.1, with FE preambles) in random chunks into frames.
 *  (a) framing + checksum: find each frame's envelope (start, length, checksum, end) without decoding fields;
 *  (b) full decode: FrameAccumulator + decodeAuto (what `meterlab decode` runs), every field decoded;
 *  baseline: a plain Buffer.indexOf(0x16) scan over the same bytes (the "stop at the first 16H" reader §8 warns
 *  about) — the floor any framer is compared with.
 */
import fc from 'fast-check';
import { decodeAuto } from '../protocols/auto.ts';
import { sum8 } from '../protocols/bytes.ts';
import { cjt188FrameArb } from '../protocols/cjt188/arbitraries.ts';
import { encodeCjt188 } from '../protocols/cjt188/index.ts';
import type { FrameDecoder } from '../protocols/decode-result.ts';
import { dlt645FrameArb } from '../protocols/dlt645/arbitraries.ts';
import { encodeDlt645 } from '../protocols/dlt645/index.ts';
import { ProtocolError } from '../protocols/errors.ts';
import { FrameAccumulator } from '../protocols/framer.ts';
import { gdw376FrameArb } from '../protocols/gdw376/arbitraries.ts';
import { encodeGdw376 } from '../protocols/gdw376/index.ts';
import { bestOf, round } from './stats.ts';

interface Stream {
  bytes: Buffer;
  chunks: Buffer[];
  frames: { cjt188: number; dlt645: number; gdw376: number };
}

function buildStream(count: number, seed: number): Stream {
  const pick = fc.sample(fc.integer({ min: 0, max: 2 }), { seed, numRuns: count });
  const per = [0, 0, 0];
  for (const p of pick) per[p]++;
  const cjt = fc.sample(cjt188FrameArb, { seed: seed + 1, numRuns: per[0] }).map(encodeCjt188);
  const dlt = fc.sample(dlt645FrameArb, { seed: seed + 2, numRuns: per[1] }).map(encodeDlt645);
  const gdw = fc.sample(gdw376FrameArb, { seed: seed + 3, numRuns: per[2] }).map(encodeGdw376);
  const queues = [cjt, dlt, gdw];
  const parts = pick.map((p) => queues[p].pop()!);
  const bytes = Buffer.concat(parts);
  const sizes = fc.sample(fc.integer({ min: 1, max: 512 }), {
    seed: seed + 4,
    numRuns: Math.ceil(bytes.length / 8),
  });
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const end = Math.min(bytes.length, at + sizes[i % sizes.length]);
    chunks.push(bytes.subarray(at, end));
    at = end;
  }
  return { bytes, chunks, frames: { cjt188: per[0], dlt645: per[1], gdw376: per[2] } };
}

/**
 * Envelope-only decoder for the three 68H-framed protocols: start, length, checksum and end byte, no fields.
 * It mirrors the header layouts the codecs document (REFERENCE §1.2, §2.1, §3.1) but decodes nothing else.
 */
const envelope: FrameDecoder<number> = (buf) => {
  let p = 0;
  while (p < buf.length && buf[p] === 0xfe) p++;
  if (p >= buf.length) return { kind: 'need-more' };
  if (buf[p] !== 0x68) return { kind: 'error', error: new ProtocolError('NO_START', 'junk'), skip: p + 1 };
  let from: number;
  let total: number;
  if (buf.length >= p + 6 && buf[p + 5] === 0x68 && buf[p + 1] === buf[p + 3] && buf[p + 2] === buf[p + 4]) {
    const len = (buf[p + 1] | (buf[p + 2] << 8)) >> 2; // 376.1: CS over user data only
    from = p + 6;
    total = len + 8;
    if (buf.length < p + total) return { kind: 'need-more' };
    return check(buf, p, from, p + 6 + len, total);
  }
  if (buf.length < p + 11) return { kind: 'need-more' };
  if (buf[p + 7] === 0x68) {
    total = 12 + buf[p + 9]; // DL/T 645
  } else {
    total = 13 + buf[p + 10]; // CJ/T 188
  }
  if (buf.length < p + total) return { kind: 'need-more' };
  return check(buf, p, p, p + total - 2, total);
};

function check(buf: Uint8Array, p: number, from: number, csAt: number, total: number) {
  if (sum8(buf, from, csAt) !== buf[csAt] || buf[p + total - 1] !== 0x16) {
    return { kind: 'error' as const, error: new ProtocolError('BAD_CHECKSUM', 'bad frame'), skip: p + 1 };
  }
  return { kind: 'frame' as const, frame: total, consumed: p + total };
}

function runFramer(stream: Stream, decode: FrameDecoder<unknown>): number {
  const acc = new FrameAccumulator(decode, { maxBufferedBytes: 65536 });
  let frames = 0;
  for (const chunk of stream.chunks) for (const e of acc.push(chunk)) if (e.kind === 'frame') frames++;
  for (const e of acc.flush()) if (e.kind === 'frame') frames++;
  return frames;
}

export async function main(args: string[]): Promise<void> {
  const count = Number(args[args.indexOf('--frames') + 1]) || 50_000;
  const seed = Number(args[args.indexOf('--seed') + 1]) || 1;
  const stream = buildStream(count, seed);
  const mb = stream.bytes.length / 1e6;
  console.log(
    `stream: ${count} frames (${JSON.stringify(stream.frames)}), ${round(mb, 2)} MB in ${stream.chunks.length} chunks of 1–512 bytes`,
  );

  let found = 0;
  const baselineMs = bestOf(() => {
    found = 0;
    for (const chunk of stream.chunks) {
      for (let at = chunk.indexOf(0x16); at >= 0; at = chunk.indexOf(0x16, at + 1)) found++;
    }
  });
  let envelopes = 0;
  const envelopeMs = bestOf(() => {
    envelopes = runFramer(stream, envelope);
  });
  let decoded = 0;
  const decodeMs = bestOf(() => {
    decoded = runFramer(stream, decodeAuto);
  }, 3);
  // Auto-detection across three 68H-framed protocols is ambiguous for a few frames in a random stream (a
  // DL/T 645 frame can also be a valid CJ/T 188 frame); the counts show how many were read as another layout.
  console.log(`frames found: envelope ${envelopes}, full decode ${decoded}, of ${count} sent`);

  const row = (name: string, ms: number, frames: number) => ({
    name,
    ms: round(ms),
    framesPerSec: Math.round((frames / ms) * 1000),
    mbPerSec: round(mb / (ms / 1000)),
    vsBaseline: round(ms / baselineMs, 1),
  });
  const rows = [
    row('baseline Buffer.indexOf(0x16)', baselineMs, count),
    row('(a) framing + checksum', envelopeMs, count),
    row('(b) full decode', decodeMs, count),
  ];
  console.table(rows);
  console.log(
    `(baseline counted ${found} 16H bytes: more than the ${count} frames, which is why it is not a framer)`,
  );
  console.log(
    JSON.stringify({ bench: 'codec', frames: count, bytes: stream.bytes.length, seed, results: rows }),
  );
}
