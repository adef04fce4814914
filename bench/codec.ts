/**
 * `npm run bench -- codec [--frames N] [--seed S] [--only stream|json|frames|chain]`: what the codecs cost.
 *
 * stream — how fast the framers turn a long byte stream of mixed valid frames (CJ/T 188, DL/T 645,
 * Q/GDW 376.1, with FE preambles) in random chunks into frames.
 *  (a) framing + checksum: find each frame's envelope (start, length, checksum, end) without decoding fields;
 *  (b) full decode: FrameAccumulator + decodeAuto (what `meterlab decode` runs), every field decoded;
 *  baseline: a plain Buffer.indexOf(0x16) scan over the same bytes (the "stop at the first 16H" reader
 *  docs/field-notes.md §8 warns about) — the floor any framer is compared with.
 *
 * json — point-read messages as the chain sends them: decode (JSON.parse + validation) and encode (validation +
 * JSON.stringify) of a v1 read, reading and error, and one NDJSON line through encodeLine and NdjsonDecoder.
 *
 * frames — encode and decode of the frames of one point-read: the CJ/T 188 901F read request and its reply,
 * and the Q/GDW 376.1 AFN 10 F1 forward request and reply that carry them; and the DL/T 645 read of an
 * electricity meter (00010000, forward active energy) with its reply.
 *
 * chain — the codec calls one point-read makes at every hop (client, relay, master, concentrator, meter and
 * back), in order, with nothing else: the codec share of a read's CPU cost.
 *
 * json, frames and chain are timed in CPU time (process.cpuUsage, user + system), so other work on the machine
 * inflates them less than it does wall-clock figures; each is the best of several rounds.
 */
import fc from 'fast-check';
import { decodeAuto, decodeMeterAuto, type MeterFrame } from '../protocols/auto.ts';
import { hexToBytes, sum8 } from '../protocols/bytes.ts';
import { cjt188FrameArb } from '../protocols/cjt188/arbitraries.ts';
import {
  buildReadReply,
  buildReadRequest,
  type Cjt188Frame,
  type Cjt188ReadData,
  decodeCjt188,
  encodeCjt188,
  formatTime,
  makeStatus,
  parseDi,
  unitCode,
} from '../protocols/cjt188/index.ts';
import type { FrameDecoder } from '../protocols/decode-result.ts';
import { dlt645FrameArb } from '../protocols/dlt645/arbitraries.ts';
import {
  buildReadReply as buildDlt645ReadReply,
  buildReadRequest as buildDlt645ReadRequest,
  decodeDlt645,
  encodeDlt645,
} from '../protocols/dlt645/index.ts';
import { ProtocolError } from '../protocols/errors.ts';
import { FrameAccumulator } from '../protocols/framer.ts';
import { gdw376FrameArb } from '../protocols/gdw376/arbitraries.ts';
import {
  buildForwardReply,
  buildForwardRequest,
  decodeGdw376,
  encodeGdw376,
  type Gdw376Frame,
} from '../protocols/gdw376/index.ts';
import {
  type AnyPointReadMessage,
  decodePointReadMessage,
  encodeLine,
  encodePointReadMessage,
  NdjsonDecoder,
  type ReadError,
  type Reading,
  type ReadRequest,
} from '../protocols/point-read/index.ts';
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
 * It mirrors the header layouts the codecs document (docs/cjt188.md §1.2, docs/dlt645.md §2.1,
 * docs/gdw376.md §3.1) but decodes nothing else.
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

/** The stream section: framing and full decode of a long mixed byte stream. */
function streamSection(count: number, seed: number) {
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
  return { frames: count, bytes: stream.bytes.length, results: rows };
}

/** CPU time of this process so far, in microseconds (user + system, all threads). */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Calls `fn` in batches until `ms` of CPU time have passed; returns how many calls that took. */
function callFor(fn: () => void, ms: number): number {
  const start = cpuMicros();
  let calls = 0;
  while (cpuMicros() - start < ms * 1000) {
    for (let i = 0; i < 50; i++) fn();
    calls += 50;
  }
  return calls;
}

/**
 * CPU microseconds per call of `fn`: the best of `rounds` rounds of about `roundMs` each, after a warm-up long
 * enough for V8 to have optimised the code (its compiler threads count in the process's CPU time too). The
 * machine is shared, so the best round is the figure least disturbed by others.
 */
function cpuMicrosPerCall(fn: () => void, rounds = 5, roundMs = 200, warmUpMs = 500): number {
  callFor(fn, warmUpMs);
  const perRound = Math.max(50, Math.round((callFor(fn, 100) * roundMs) / 100));
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const start = cpuMicros();
    for (let i = 0; i < perRound; i++) fn();
    best = Math.min(best, (cpuMicros() - start) / perRound);
  }
  return best;
}

function opRow(name: string, fn: () => void) {
  const us = cpuMicrosPerCall(fn);
  return { name, usPerOp: round(us, 3), opsPerSec: Math.round(1e6 / us) };
}

// What the chain sends: a read as the client writes it, the reading the master answers with (every field the
// master fills), and a typical error.
const READ: ReadRequest = { type: 'read', id: 'r-000042', concentrator: '017102082', meter: '101001' };
const READING: Reading = {
  type: 'reading',
  id: 'r-000042',
  concentrator: '017102082',
  meter: '101001',
  value: 1234.56,
  unit: 'm3',
  meterTime: '2024-05-11T22:01:31',
  status: { valve: 'open', batteryLow: false },
  protocol: 'cjt188',
  latencyMs: 38,
  readAt: '2024-05-11T14:01:31.875Z',
};
const ERROR: ReadError = {
  type: 'error',
  id: 'r-000042',
  code: 'METER_TIMEOUT',
  message: 'meter 00000000101001 on 017102082 did not answer (the concentrator forwarded no reply)',
  concentrator: '017102082',
  meter: '101001',
};

/** Fails the bench loudly if a timed call did not do what it is supposed to (so a figure never lies). */
function expectThat(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench codec: ${what}`);
}

/** One timed operation of a section. */
export interface CodecCase {
  name: string;
  run: () => void;
}

/** The json section: point-read messages decoded and encoded. */
function jsonCases(): CodecCase[] {
  const cases: CodecCase[] = [];
  for (const [name, msg] of [
    ['read', READ],
    ['reading', READING],
    ['error', ERROR],
  ] as const) {
    const text = encodePointReadMessage(msg);
    expectThat(decodePointReadMessage(text).ok, `${name} does not decode`);
    cases.push({ name: `decode ${name}`, run: () => decodePointReadMessage(text) });
    cases.push({ name: `encode ${name}`, run: () => encodePointReadMessage(msg) });
  }
  const decoder = new NdjsonDecoder();
  expectThat(decoder.push(encodeLine(READING))[0]?.kind === 'message', 'NDJSON line does not decode');
  cases.push({
    name: 'NDJSON line: encodeLine + NdjsonDecoder (reading)',
    run: () => decoder.push(encodeLine(READING)),
  });
  return cases;
}

const CONCENTRATOR = { a1: '0171', a2: 2082, msa: 1 };
const METER = '00000000101001';

/** The 901F water reading a simulated meter answers with (as simulator/meter builds it). */
function waterReading(): Cjt188ReadData {
  const m3 = (value: number) => ({ value, unit: 'm3', unitCode: unitCode('m3') });
  return {
    type: 'water',
    current: m3(1234.56),
    settlement: m3(1200),
    time: formatTime(new Date(Date.UTC(2024, 4, 11, 14, 1, 31))),
    status: makeStatus({ valve: 'open', batteryLow: false }),
  };
}

function forwardContent(frame: Gdw376Frame): string {
  const body = frame.units[0].body;
  expectThat(body.kind === 'forward-request' || body.kind === 'forward-reply', 'not an AFN 10 F1 frame');
  return body.kind === 'forward-request' || body.kind === 'forward-reply' ? body.content : '';
}

/** The frames section: encode and decode of the frames one point-read sends. */
function framesCases(): CodecCase[] {
  const request = buildReadRequest(METER, '901F', { diOrder: 'low-first' });
  const requestBytes = encodeCjt188(request);
  const reply = buildReadReply(request, waterReading(), { address: METER, meterType: 0x10 });
  const replyBytes = encodeCjt188(reply);
  const forward = buildForwardRequest({ ...CONCENTRATOR, seq: 3, port: 1, content: requestBytes });
  const forwardBytes = encodeGdw376(forward);
  const forwardReply = buildForwardReply(forward, { content: replyBytes });
  const forwardReplyBytes = encodeGdw376(forwardReply);
  expectThat(decodeCjt188(replyBytes).kind === 'frame', 'CJ/T 188 reply does not decode');
  expectThat(decodeGdw376(forwardReplyBytes).kind === 'frame', 'AFN 10 F1 reply does not decode');
  // The DL/T 645 read the master sends an electricity meter: forward active total energy.
  const dltRequest = buildDlt645ReadRequest('000000101001', '00010000');
  const dltRequestBytes = encodeDlt645(dltRequest);
  const dltReply = buildDlt645ReadReply('000000101001', '00010000', 1234.56);
  const dltReplyBytes = encodeDlt645(dltReply);
  expectThat(decodeDlt645(dltReplyBytes).kind === 'frame', 'DL/T 645 reply does not decode');
  return [
    { name: 'CJ/T 188 read request encode', run: () => encodeCjt188(request) },
    { name: 'CJ/T 188 read request decode', run: () => decodeCjt188(requestBytes) },
    { name: 'CJ/T 188 901F reply encode', run: () => encodeCjt188(reply) },
    { name: 'CJ/T 188 901F reply decode', run: () => decodeCjt188(replyBytes) },
    { name: '376.1 AFN 10 F1 request encode', run: () => encodeGdw376(forward) },
    { name: '376.1 AFN 10 F1 request decode', run: () => decodeGdw376(forwardBytes) },
    { name: '376.1 AFN 10 F1 reply encode', run: () => encodeGdw376(forwardReply) },
    { name: '376.1 AFN 10 F1 reply decode', run: () => decodeGdw376(forwardReplyBytes) },
    { name: 'DL/T 645 read request encode', run: () => encodeDlt645(dltRequest) },
    { name: 'DL/T 645 read request decode', run: () => decodeDlt645(dltRequestBytes) },
    {
      name: 'DL/T 645 00010000 reply build + encode',
      run: () => encodeDlt645(buildDlt645ReadReply('000000101001', '00010000', 1234.56)),
    },
    { name: 'DL/T 645 00010000 reply decode', run: () => decodeDlt645(dltReplyBytes) },
  ];
}

/** Every frame a framer hands out for `bytes`, pushed as one chunk. */
function framesOf<T>(acc: FrameAccumulator<T>, bytes: Uint8Array): T[] {
  const out: T[] = [];
  for (const e of acc.push(bytes)) if (e.kind === 'frame') out.push(e.frame);
  return out;
}

/**
 * The codec calls of one point-read, hop by hop, as harness/ and simulator/ make them (long-lived framers on
 * sockets and meters, a fresh one per forwarded reply). Returns the reading the client gets.
 */
function makeChain() {
  const relayFromMaster = new NdjsonDecoder();
  const masterFromRelay = new NdjsonDecoder();
  const concentratorFromMaster = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 16_391 });
  const meterHears = new FrameAccumulator(decodeCjt188, { maxBufferedBytes: 512 });
  const masterFromConcentrator = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 16_391 });
  let seq = 0;
  return (id: string): AnyPointReadMessage => {
    // client → relay (WebSocket text)
    const clientText = encodePointReadMessage({ ...READ, id });
    const atRelay = decodePointReadMessage(clientText);
    if (!atRelay.ok || !('type' in atRelay.message) || atRelay.message.type !== 'read')
      throw new Error('read');
    const { concentrator, meter } = atRelay.message;
    // relay → master (NDJSON over TCP)
    const [atMaster] = masterFromRelay.push(encodeLine({ type: 'read', id, concentrator, meter }));
    if (atMaster?.kind !== 'message') throw new Error('master line');
    // master → concentrator: the meter frame in an AFN 10 F1 forward
    const meterRequest = encodeCjt188(buildReadRequest(METER, '901F', { diOrder: 'low-first' }));
    seq = (seq + 1) & 0x0f;
    const forward = encodeGdw376(
      buildForwardRequest({ ...CONCENTRATOR, seq, port: 1, content: meterRequest }),
    );
    const [atConcentrator] = framesOf(concentratorFromMaster, forward);
    // concentrator → meter → concentrator
    const [heard] = framesOf<Cjt188Frame>(meterHears, hexToBytes(forwardContent(atConcentrator)));
    const body = heard.body;
    if (body.kind !== 'read') throw new Error('meter request');
    expectThat(parseDi(body.di) === 0x901f, 'meter DI');
    const meterReply = encodeCjt188(
      buildReadReply(heard, waterReading(), { address: METER, meterType: 0x10 }),
    );
    const collector = new FrameAccumulator<MeterFrame>(decodeMeterAuto, { maxBufferedBytes: 512 });
    const [replied] = framesOf(collector, meterReply);
    if (replied?.protocol !== 'cjt188') throw new Error('meter reply');
    const answer = encodeGdw376(buildForwardReply(atConcentrator, { content: meterReply }));
    // master: the forward reply, then the meter frame in it (a fresh framer per reply, as decodeMeterReply)
    const [atMasterAgain] = framesOf(masterFromConcentrator, answer);
    const content = hexToBytes(forwardContent(atMasterAgain));
    const [meterFrame] = framesOf(
      new FrameAccumulator(decodeCjt188, { maxBufferedBytes: Math.max(16, content.length) }),
      content,
    );
    if (meterFrame.body.kind !== 'read-reply' || meterFrame.body.data.type !== 'water')
      throw new Error('reply');
    const { data } = meterFrame.body;
    const reading: Reading = {
      ...READING,
      id,
      value: data.current.value,
      meterTime: data.time?.replace(' ', 'T'),
      status: { valve: data.status.valve, batteryLow: data.status.batteryLow },
    };
    // master → relay → client
    const [atRelayAgain] = relayFromMaster.push(encodeLine(reading));
    if (atRelayAgain?.kind !== 'message') throw new Error('relay line');
    const atClient = decodePointReadMessage(encodePointReadMessage(atRelayAgain.message));
    if (!atClient.ok) throw new Error('client');
    return atClient.message;
  };
}

/** The chain section: one point-read's codec work at every hop. */
function chainCases(): CodecCase[] {
  const read = makeChain();
  const got = read('r-1');
  expectThat(JSON.stringify(got) === JSON.stringify({ ...READING, id: 'r-1' }), 'chain reading differs');
  let n = 0;
  return [{ name: 'one point-read, every hop', run: () => read(`r-${n++}`) }];
}

const SECTIONS = {
  json: { title: 'point-read JSON messages (CPU time per message):', cases: jsonCases },
  frames: { title: 'frames of one point-read (CPU time per frame):', cases: framesCases },
  chain: {
    title: 'codec work of one point-read through client, relay, master, concentrator and meter:',
    cases: chainCases,
  },
} as const;

/**
 * The timed operations of a CPU-timed section, to run them elsewhere too (such as two versions of the codecs
 * in one process, round by round, to compare them under the same load).
 */
export function codecCases(section: keyof typeof SECTIONS): CodecCase[] {
  return SECTIONS[section].cases();
}

function cpuSection(section: keyof typeof SECTIONS) {
  const rows = codecCases(section).map((c) => opRow(c.name, c.run));
  console.log(SECTIONS[section].title);
  console.table(rows);
  return rows;
}

export async function main(args: string[]): Promise<void> {
  const count = Number(args[args.indexOf('--frames') + 1]) || 50_000;
  const seed = Number(args[args.indexOf('--seed') + 1]) || 1;
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const run = (name: string) => only === undefined || only === name;
  const out: Record<string, unknown> = { bench: 'codec', seed };
  if (run('stream')) out.stream = streamSection(count, seed);
  for (const section of ['json', 'frames', 'chain'] as const) {
    if (run(section)) out[section] = cpuSection(section);
  }
  console.log(JSON.stringify(out));
}
