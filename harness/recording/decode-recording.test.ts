import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../protocols/bytes.ts';
import { decodeRecording, type RecordingDecodeLine } from './decode-recording.ts';
import { Recorder } from './recorder.ts';
import { fileSink } from './writer.ts';

const READ = hexToBytes('FE FE FE FE 68 10 01 10 10 00 00 00 00 01 03 1F 90 00 4C 16');
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function recorderAt(file: string): Recorder {
  return new Recorder({
    sink: fileSink(file),
    source: 'test',
    links: [{ name: 'bus', kind: 'serial', settings: '2400 8E1', a: 'poll', b: 'meter', framing: 'auto' }],
  });
}

describe('decodeRecording', () => {
  it('prints each frame decoded again with time, link and direction, and each drop with its reason', async () => {
    dir = mkdtempSync(join(tmpdir(), 'meterlab-dec-'));
    const file = join(dir, 's.jsonl');
    const recorder = recorderAt(file);
    recorder.chunk('bus', 'ab', READ.subarray(0, 7), 1);
    recorder.chunk('bus', 'ab', READ.subarray(7), 2.5);
    recorder.chunk('bus', 'ba', hexToBytes('68 10 01'), 3);
    recorder.close(4);
    const lines: RecordingDecodeLine[] = [];
    const result = await decodeRecording(file, { out: (l) => lines.push(l) });
    expect(result).toEqual({ frames: 1, drops: 1 });
    expect(lines[0]).toMatchObject({
      t: 2.5,
      link: 'bus',
      dir: 'ab',
      protocol: 'cjt188',
      address: '00000000101001',
    });
    expect(lines[1]).toMatchObject({ t: 4, dir: 'ba', error: { code: 'TRUNCATED' }, hex: '681001' });
  });

  it('follows a file being written until its end line', async () => {
    dir = mkdtempSync(join(tmpdir(), 'meterlab-dec-'));
    const file = join(dir, 'live.jsonl');
    const recorder = recorderAt(file);
    const lines: RecordingDecodeLine[] = [];
    const following = decodeRecording(file, { follow: true, out: (l) => lines.push(l) });
    recorder.chunk('bus', 'ab', READ);
    const deadline = Date.now() + 10_000;
    while (lines.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(lines).toHaveLength(1);
    recorder.chunk('bus', 'ab', READ);
    recorder.close();
    await expect(following).resolves.toEqual({ frames: 2, drops: 0 });
  });
});
