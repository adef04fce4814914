/**
 * `npm run bench -- recording [--records N] [--pcap-mb M] [--chunks K]`: what the recording format costs.
 * 1. Write N chunk records (one write per line, as the recorder does) and read them back with the reader,
 *    next to a bare JSON.stringify / JSON.parse of the same records in the same run.
 * 2. Import a synthetic pcap of M MB (Ethernet/IPv4/TCP segments carrying 376.1 forwards on 16 connections).
 * 3. A tap's added latency per forwarded chunk on pty pairs: writer → pair → tap → pair → reader, against
 *    writer → pair → reader, K chunks each, p50/p99 of the one-way time.
 * Prints figures and one JSON line; passes or fails on nothing.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChunkRecord } from '../harness/recording/format.ts';
import { importPcap } from '../harness/recording/import/pcap.ts';
import { readBatches } from '../harness/recording/reader.ts';
import { Tap } from '../harness/recording/tap.ts';
import { fileSink, RecordingWriter } from '../harness/recording/writer.ts';
import { createPtyPair, type Link, SerialLink } from '../simulator/link/index.ts';
import { readFlags } from './flags.ts';
import { percentile, round } from './stats.ts';

const REQUEST_HEX = 'FEFEFEFE68100110100000000001031F90004C16';
const LINK = { name: 'bus', kind: 'serial', settings: '2400 8E1', a: 'a', b: 'b', framing: 'auto' } as const;

export async function main(args: string[]): Promise<void> {
  let records = 1_000_000;
  let pcapMb = 100;
  let chunks = 1000;
  readFlags(args, (flag, value) => {
    if (flag === '--records') records = Math.round(value.positive());
    else if (flag === '--pcap-mb') pcapMb = value.positive();
    else if (flag === '--chunks') chunks = Math.round(value.positive());
    else return false;
    return true;
  });
  const dir = mkdtempSync(join(tmpdir(), 'meterlab-bench-rec-'));
  try {
    const format = await formatFigures(dir, records);
    console.log(
      `format: ${records} records, ${round(format.mb)} MB — write ${round(format.writePerS)} records/s (${round(format.writeMBps)} MB/s), read ${round(format.readPerS)} records/s (${round(format.readMBps)} MB/s); bare JSON.stringify ${round(format.bareStringifyPerS)}/s, JSON.parse ${round(format.bareParsePerS)}/s`,
    );
    const pcap = pcapFigures(pcapMb);
    console.log(
      `pcap import: ${round(pcap.mb)} MB, ${pcap.packets} packets in ${round(pcap.ms)} ms — ${round(pcap.MBps)} MB/s`,
    );
    const tap = await tapFigures(dir, chunks);
    console.log(
      `tap latency per chunk on ptys: bare p50 ${round(tap.bare.p50, 3)} / p99 ${round(tap.bare.p99, 3)} ms; through a tap p50 ${round(tap.tapped.p50, 3)} / p99 ${round(tap.tapped.p99, 3)} ms`,
    );
    console.log(JSON.stringify({ bench: 'recording', format, pcap, tap }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function formatFigures(dir: string, n: number) {
  const record = (i: number): ChunkRecord => ({
    type: 'chunk',
    t: i * 0.137,
    link: 'bus',
    dir: i % 2 ? 'ba' : 'ab',
    hex: REQUEST_HEX,
  });
  const file = join(dir, 'w.jsonl');
  let t0 = performance.now();
  const writer = new RecordingWriter(
    fileSink(file),
    { start: '2026-12-05T00:00:00.000+00:00', source: 'bench', links: [LINK] },
    { maxBytes: 2 ** 40 },
  );
  for (let i = 0; i < n; i++) writer.write(record(i));
  writer.close(n);
  const writeMs = performance.now() - t0;
  const mb = statSync(file).size / 1e6;
  t0 = performance.now();
  let read = 0;
  for await (const batch of readBatches(file)) read += batch.length;
  const readMs = performance.now() - t0;
  t0 = performance.now();
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify(record(i)));
  const stringifyMs = performance.now() - t0;
  t0 = performance.now();
  for (const line of lines) JSON.parse(line);
  const parseMs = performance.now() - t0;
  return {
    mb,
    read,
    writePerS: n / (writeMs / 1000),
    writeMBps: mb / (writeMs / 1000),
    readPerS: n / (readMs / 1000),
    readMBps: mb / (readMs / 1000),
    bareStringifyPerS: n / (stringifyMs / 1000),
    bareParsePerS: n / (parseMs / 1000),
  };
}

/** A pcap of forwards on 16 connections, each direction in sequence, built in memory. */
function syntheticPcap(mb: number): Uint8Array {
  const payload = Buffer.from('683200320068C97101220800027000000100D816'.repeat(8), 'hex');
  const packetLength = 16 + 14 + 20 + 20 + payload.length;
  const count = Math.ceil((mb * 1e6) / packetLength);
  const out = Buffer.alloc(24 + count * packetLength);
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(65535, 16);
  out.writeUInt32LE(1, 20);
  const seq = new Uint32Array(32);
  let at = 24;
  for (let i = 0; i < count; i++) {
    const conn = i % 16;
    const back = (i >> 4) % 2;
    const data = packetLength - 16;
    out.writeUInt32LE(1_700_000_000 + Math.floor(i / 1000), at);
    out.writeUInt32LE((i % 1000) * 1000, at + 4);
    out.writeUInt32LE(data, at + 8);
    out.writeUInt32LE(data, at + 12);
    const p = at + 16;
    out.writeUInt16BE(0x0800, p + 12);
    out[p + 14] = 0x45;
    out.writeUInt16BE(40 + payload.length, p + 16);
    out[p + 23] = 6;
    out.set([127, 0, 0, 1, 127, 0, 0, 1], p + 26);
    out.writeUInt16BE(back ? 9093 : 40000 + conn, p + 34);
    out.writeUInt16BE(back ? 40000 + conn : 9093, p + 36);
    const s = conn * 2 + back;
    out.writeUInt32BE(seq[s], p + 38);
    seq[s] += payload.length;
    out[p + 46] = 5 << 4;
    out[p + 47] = 0x18;
    payload.copy(out, p + 54);
    at += packetLength;
  }
  return out;
}

function pcapFigures(mb: number) {
  const pcap = syntheticPcap(mb);
  const t0 = performance.now();
  const session = importPcap(pcap, 'synthetic.pcap');
  const ms = performance.now() - t0;
  return { mb: pcap.length / 1e6, packets: session.chunks.length, ms, MBps: pcap.length / 1e6 / (ms / 1000) };
}

/** One-way times of `n` chunks written on `from` and read on `to`, one at a time. */
async function oneWay(from: Link, to: Link, n: number): Promise<number[]> {
  const times: number[] = [];
  const chunk = Buffer.from(REQUEST_HEX, 'hex');
  for (let i = 0; i < n; i++) {
    let got = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const on = (b: Uint8Array) => {
        got += b.length;
        if (got >= chunk.length) {
          to.off('data', on);
          resolve();
        }
      };
      to.on('data', on);
      void from.write(chunk);
    });
    times.push(performance.now() - t0);
  }
  return times;
}

async function tapFigures(dir: string, n: number) {
  const one = await createPtyPair();
  const two = await createPtyPair();
  const links: Link[] = [];
  const open = async (path: string) => {
    const l = new SerialLink({ path });
    await l.open();
    links.push(l);
    return l;
  };
  try {
    const w = await open(one.paths[0]);
    const r = await open(one.paths[1]);
    const bare = await oneWay(w, r, n);
    await r.close();
    const tap = await Tap.start({
      a: {
        kind: 'serial',
        path: one.paths[1],
        settings: { baudRate: 2400, dataBits: 8, parity: 'even', stopBits: 1 },
      },
      b: {
        kind: 'serial',
        path: two.paths[0],
        settings: { baudRate: 2400, dataBits: 8, parity: 'even', stopBits: 1 },
      },
      out: join(dir, 'tap.jsonl'),
    });
    const end = await open(two.paths[1]);
    const tapped = await oneWay(w, end, n);
    await tap.stop();
    const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });
    return { chunks: n, bare: stats(bare), tapped: stats(tapped) };
  } finally {
    for (const l of links) await l.close().catch(() => undefined);
    await one.close();
    await two.close();
  }
}
