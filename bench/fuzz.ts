/**
 * `npm run fuzz -- --runs N [--seed S] [--only NAME]`: random and mutated inputs through every codec, every
 * framer and the point-read validator (issue 13, "Proof"). Mutations start from the shipped vectors
 * (fixtures/vectors/*.json): flipped, inserted, deleted and repeated bytes, cuts, splices and runs of 68H/FE.
 *
 * Prints, per target: inputs per second, the largest buffer a framer held, and every throw that is not a
 * ProtocolError (a decoder must never throw; a validator may throw only ProtocolError). Ends with one JSON line.
 * Exit status 1 when any such throw was found. Seeded: the same seed gives the same inputs.
 */
import { readFileSync } from 'node:fs';
import { decodeAuto } from '../protocols/auto.ts';
import { bytesToHex, hexToBytes } from '../protocols/bytes.ts';
import { decodeCjt188, encodeCjt188 } from '../protocols/cjt188/index.ts';
import { decodeDlt645, encodeDlt645 } from '../protocols/dlt645/index.ts';
import { ProtocolError } from '../protocols/errors.ts';
import { FrameAccumulator, type ResynchronisingDecoder } from '../protocols/framer.ts';
import { decodeGdw376, encodeGdw376 } from '../protocols/gdw376/index.ts';
import { parsePointReadMessage, validatePointReadMessage } from '../protocols/point-read/index.ts';
import { readFlags } from './flags.ts';

/** A small seeded generator (xorshift32): fast, and the same sequence for the same seed. */
export class Random {
  #x: number;
  constructor(seed: number) {
    this.#x = seed >>> 0 || 0x9e3779b9;
  }
  /** 0 ≤ n < max */
  int(max: number): number {
    let x = this.#x;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#x = x >>> 0;
    return this.#x % max;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }
}

/** The frames of the shipped vectors (valid and invalid), the seeds of every mutation. */
export function vectorFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (const name of ['cjt188', 'dlt645', 'gdw376']) {
    const url = new URL(`../fixtures/vectors/${name}.json`, import.meta.url);
    const file = JSON.parse(readFileSync(url, 'utf8')) as { vectors: { hex: string }[] };
    for (const v of file.vectors) frames.push(hexToBytes(v.hex));
  }
  return frames;
}

const SPECIAL = [0x68, 0xfe, 0x16, 0x00, 0xff, 0xaa, 0x33];

/** One input: random bytes, or a vector mutated one to four times. */
export function nextInput(random: Random, seeds: readonly Uint8Array[]): Uint8Array {
  if (random.int(4) === 0) {
    const out = new Uint8Array(random.int(300));
    for (let i = 0; i < out.length; i++)
      out[i] = random.int(3) === 0 ? random.pick(SPECIAL) : random.int(256);
    return out;
  }
  let bytes = Array.from(random.pick(seeds));
  for (let n = 1 + random.int(4); n > 0; n--) bytes = mutate(random, bytes, seeds);
  return Uint8Array.from(bytes);
}

function mutate(random: Random, bytes: number[], seeds: readonly Uint8Array[]): number[] {
  const at = random.int(bytes.length + 1);
  const value = random.int(2) === 0 ? random.pick(SPECIAL) : random.int(256);
  switch (random.int(8)) {
    case 0:
      if (at < bytes.length) bytes[at] = value;
      return bytes;
    case 1:
      if (at < bytes.length) bytes[at] ^= 1 << random.int(8);
      return bytes;
    case 2:
      bytes.splice(at, 0, value);
      return bytes;
    case 3:
      bytes.splice(at, 1 + random.int(4));
      return bytes;
    case 4:
      return bytes.slice(0, at);
    case 5:
      return [...bytes.slice(0, at), ...random.pick(seeds), ...bytes.slice(at)];
    case 6:
      return [
        ...bytes.slice(0, at),
        ...new Array<number>(1 + random.int(64)).fill(random.pick([0x68, 0xfe])),
        ...bytes.slice(at),
      ];
    default:
      return [...bytes, ...bytes.slice(0, at)];
  }
}

/** A throw that is not a ProtocolError: what the fuzz run is looking for. */
export interface Finding {
  target: string;
  input: string;
  error: string;
}

export interface TargetReport {
  target: string;
  inputs: number;
  inputsPerSecond: number;
  /** Framers only: the most bytes held at once. */
  largestBuffer?: number;
  findings: number;
}

export interface FuzzReport {
  seed: number;
  runs: number;
  targets: TargetReport[];
  findings: Finding[];
}

type Target = { name: string; run: (input: Uint8Array, random: Random) => number | undefined };

function decoderTarget<F>(
  name: string,
  decode: (buf: Uint8Array) => ReturnType<typeof decodeGdw376> | { kind: string },
  encode: ((frame: F) => Uint8Array) | undefined,
): Target {
  return {
    name,
    run(input) {
      const result = decode(input) as { kind: string; frame?: F; consumed?: number; skip?: number };
      if (result.kind === 'frame' && encode && result.frame) encode(result.frame);
      if (result.kind === 'frame' && !(result.consumed! > 0 && result.consumed! <= input.length)) {
        throw new Error(`consumed ${result.consumed} of ${input.length}`);
      }
      if (result.kind === 'error' && !(result.skip! >= 1)) throw new Error(`skip ${result.skip}`);
      return undefined;
    },
  };
}

function framerTarget<T>(name: string, decode: ResynchronisingDecoder<T>, maxBufferedBytes: number): Target {
  return {
    name,
    run(input, random) {
      const acc = new FrameAccumulator(decode, { maxBufferedBytes });
      let held = 0;
      let accounted = 0;
      for (let at = 0; at < input.length; ) {
        const end = Math.min(input.length, at + 1 + random.int(64));
        for (const e of acc.push(input.subarray(at, end)))
          accounted += e.kind === 'frame' ? e.raw.length : e.bytes.length;
        held = Math.max(held, acc.buffered);
        at = end;
      }
      for (const e of acc.flush()) accounted += e.kind === 'frame' ? e.raw.length : e.bytes.length;
      if (held > maxBufferedBytes) throw new Error(`held ${held} bytes, bound ${maxBufferedBytes}`);
      if (accounted !== input.length) throw new Error(`accounted for ${accounted} of ${input.length} bytes`);
      return held;
    },
  };
}

const latin1 = new TextDecoder('latin1');
const SAMPLE_MESSAGES = [
  '{"type":"read","id":"r1","concentrator":"101","meter":"101001"}',
  '{"type":"reading","id":"r1","concentrator":"101","meter":"101001","value":123.45,"unit":"m3","readAt":"2026-01-01T00:00:00Z"}',
  '{"type":"error","id":"r1","code":"METER_TIMEOUT","message":"no answer"}',
  '{"ModuleName":"ClickToCopy","Content":{"ConcentratorNo":"101","WaterMtrAddress":"101001"}}',
];

/** The point-read validator, on sample messages mutated as text and on random JSON values. */
const pointReadTarget: Target = {
  name: 'point-read',
  run(input, random) {
    const base = random.pick(SAMPLE_MESSAGES);
    const at = random.int(base.length);
    const text =
      base.slice(0, at) + latin1.decode(input.subarray(0, random.int(8))) + base.slice(at + random.int(4));
    try {
      parsePointReadMessage(text);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = [input.length, bytesToHex(input.subarray(0, 4))];
    }
    validatePointReadMessage(value);
    return undefined;
  },
};

export const TARGETS: readonly Target[] = [
  decoderTarget('cjt188', decodeCjt188, encodeCjt188),
  decoderTarget('dlt645', decodeDlt645, encodeDlt645),
  decoderTarget('gdw376', decodeGdw376, encodeGdw376),
  decoderTarget('auto', decodeAuto, undefined),
  framerTarget('cjt188 framer', decodeCjt188, 256),
  framerTarget('dlt645 framer', decodeDlt645, 512),
  framerTarget('gdw376 framer', decodeGdw376, 1024),
  framerTarget('auto framer', (buf: Uint8Array) => decodeAuto(buf), 1024),
  pointReadTarget,
];

/** Runs `runs` inputs through each target (or the one named `only`); never throws for what it finds. */
export function runFuzz(options: { runs: number; seed: number; only?: string }): FuzzReport {
  const seeds = vectorFrames();
  const report: FuzzReport = { seed: options.seed, runs: options.runs, targets: [], findings: [] };
  for (const target of TARGETS) {
    if (options.only && target.name !== options.only) continue;
    const random = new Random(options.seed);
    let largest: number | undefined;
    let findings = 0;
    const started = performance.now();
    for (let i = 0; i < options.runs; i++) {
      const input = nextInput(random, seeds);
      try {
        const held = target.run(input, random);
        if (held !== undefined) largest = Math.max(largest ?? 0, held);
      } catch (error) {
        if (error instanceof ProtocolError) continue;
        findings++;
        if (report.findings.length < 20) {
          report.findings.push({ target: target.name, input: bytesToHex(input), error: String(error) });
        }
      }
    }
    const seconds = (performance.now() - started) / 1000;
    report.targets.push({
      target: target.name,
      inputs: options.runs,
      inputsPerSecond: Math.round(options.runs / Math.max(seconds, 1e-6)),
      ...(largest === undefined ? {} : { largestBuffer: largest }),
      findings,
    });
  }
  return report;
}

/**
 * What junk costs each framer, in µs of wall time per byte of a 1 MB stream pushed in 4 KB chunks (issue 13,
 * item 1): a run of 68H, random bytes, and 376.1 headers (`68 FD FF FD FF 68`) that each claim 16383 bytes.
 * Before the start finders and running sums: 9–15 µs per byte of 68H, 12 µs per byte of such headers.
 */
export function junkCost(megabytes = 1): { framer: string; input: string; microsPerByte: number }[] {
  const n = megabytes * 1024 * 1024;
  const random = new Random(1);
  const inputs: [string, (i: number) => number][] = [
    ['68H run', () => 0x68],
    ['random', () => random.int(256)],
    ['376.1 headers claiming 16383 bytes', (i) => [0x68, 0xfd, 0xff, 0xfd, 0xff, 0x68][i % 6]],
  ];
  const framers: [string, ResynchronisingDecoder<unknown>][] = [
    ['gdw376', decodeGdw376 as ResynchronisingDecoder<unknown>],
    ['dlt645', decodeDlt645 as ResynchronisingDecoder<unknown>],
    ['cjt188', decodeCjt188 as ResynchronisingDecoder<unknown>],
  ];
  const rows: { framer: string; input: string; microsPerByte: number }[] = [];
  for (const [input, fill] of inputs) {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = fill(i);
    for (const [framer, decode] of framers) {
      const acc = new FrameAccumulator(decode, { maxBufferedBytes: 16391 });
      const started = performance.now();
      for (let at = 0; at < n; at += 4096) acc.push(bytes.subarray(at, at + 4096));
      acc.flush();
      rows.push({ framer, input, microsPerByte: ((performance.now() - started) * 1000) / n });
    }
  }
  return rows;
}

export async function main(args: string[]): Promise<void> {
  let runs = 10_000;
  let seed = Date.now() % 2147483647;
  let only: string | undefined;
  readFlags(args, (flag, value) => {
    if (flag === '--runs') runs = Math.floor(value.positive());
    else if (flag === '--seed') seed = Math.floor(value.positive());
    else if (flag === '--only') only = value.text();
    else return false;
    return true;
  });
  if (!only) {
    console.log('junk through the framers (1 MB in 4 KB chunks, µs per byte):');
    for (const r of junkCost())
      console.log(`  ${r.framer.padEnd(7)} ${r.input.padEnd(36)} ${r.microsPerByte.toFixed(3)}`);
  }
  console.log(`fuzz: ${runs} inputs per target, seed ${seed} (replay with --seed ${seed})`);
  const report = runFuzz({ runs, seed, only });
  for (const t of report.targets) {
    const held = t.largestBuffer === undefined ? '' : `, largest buffer ${t.largestBuffer} bytes`;
    console.log(
      `${t.target.padEnd(14)} ${String(t.inputsPerSecond).padStart(9)} inputs/s${held}, ${t.findings} non-ProtocolError throws`,
    );
  }
  for (const f of report.findings) console.log(`FOUND ${f.target}: ${f.error}\n  input: ${f.input}`);
  console.log(JSON.stringify(report));
  if (report.findings.length > 0) process.exitCode = 1;
}
