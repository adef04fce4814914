import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildHeartbeat,
  buildLogin,
  decodeGdw376Frame,
  encodeGdw376,
  type Gdw376Frame,
} from '../../../protocols/gdw376/index.ts';
import { TcpClientLink } from '../../../simulator/link/index.ts';
import { readRecording } from '../reader.ts';
import { parseRules } from './compare.ts';
import { replayAsDriver } from './driver.ts';

// Replay as driver of a 376.1 recording against a concentrator that connects to it (tcp-listen, real TCP on
// 127.0.0.1): the concentrator's own frames are answered, not counted as replies.

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/recordings/${name}`, import.meta.url));
const links: TcpClientLink[] = [];
afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
});

describe('replayAsDriver with a concentrator that speaks first', () => {
  it('confirms its login as recorded and a heartbeat the recording lacks with AFN 00 F1, RSEQ = its PSEQ', async () => {
    const recording = await readRecording(fixture('tcp-376.jsonl'));
    const notes: string[] = [];
    let listening: (port: number) => void;
    const port = new Promise<number>((resolve) => {
      listening = resolve;
    });
    const run = replayAsDriver({
      recording,
      target: { kind: 'tcp-listen', host: '127.0.0.1', port: 0 },
      rules: parseRules('value,time'),
      timeoutMs: 200,
      openingTimeoutMs: 10_000,
      onNote: (line) => {
        notes.push(line);
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
        if (m) listening(Number(m[1]));
      },
    });
    const concentrator = new TcpClientLink({ host: '127.0.0.1', port: await port });
    links.push(concentrator);
    const heard: Gdw376Frame[] = [];
    let buffered = new Uint8Array(0);
    concentrator.on('data', (bytes) => {
      // Whole frames only: each answer is written with one write, but TCP may join two.
      buffered = Uint8Array.from([...buffered, ...bytes]);
      while (buffered.length >= 8 && buffered.length >= ((buffered[1] | (buffered[2] << 8)) >> 2) + 8) {
        const length = ((buffered[1] | (buffered[2] << 8)) >> 2) + 8;
        heard.push(decodeGdw376Frame(buffered.subarray(0, length)));
        buffered = buffered.subarray(length);
      }
    });
    await concentrator.open();
    await concentrator.write(encodeGdw376(buildLogin({ a1: '0171', a2: 2082, seq: 5 })));
    await concentrator.write(encodeGdw376(buildHeartbeat({ a1: '0171', a2: 2082, seq: 6 })));
    // Nobody answers the forwards: each is reported missing, after its 200 ms.
    const differences = await run;
    expect(differences.map((d) => d.kind)).toEqual(['missing', 'missing', 'missing']);
    const confirms = heard.filter((f) => f.afn === 0);
    expect(confirms.map((f) => [f.seq.seq, f.units[0].body.kind, f.control.raw])).toEqual([
      [5, 'confirm-all', 0x0b],
      [6, 'confirm-all', 0x0b],
    ]);
    expect(notes).toContainEqual(expect.stringMatching(/login F1 .*: answered as recorded$/));
    expect(notes).toContainEqual(expect.stringMatching(/heartbeat F3 .*: confirmed \(AFN 00 F1\)$/));
    // Then the recorded forwards, as recorded.
    expect(heard.filter((f) => f.afn === 0x10).map((f) => f.seq.seq)).toEqual([0, 1, 2]);
  });
});
