import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../protocols/bytes.ts';
import { LineClient } from '../master/testing/line-client.ts';
import { fromHex } from './format.ts';
import { decodeFrameBytes } from './framing.ts';
import { readRecording } from './reader.ts';
import { CliProcess, PROCESS_TEST_TIMEOUT_MS } from './testing/cli-process.ts';
import { cjt188Meters, ptyPairsClosedAfterEach, startMaster } from './testing/processes.ts';

// Whole path: every part a separate `meterlab` process, bytes over real socat ptys and real TCP sockets.

const SCENARIO = fileURLToPath(new URL('../../fixtures/recordings/chain-scenario.json', import.meta.url));
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meterlab-tap-'));
});

// Registered before the pty pairs' hook, so it runs after it: the folder goes once every process has stopped.
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const pair = ptyPairsClosedAfterEach();

describe('meterlab tap', () => {
  it(
    'sits between poll and meters on two pty pairs, forwards both ways and records each chunk and frame',
    async () => {
      const toPoll = await pair();
      const toMeters = await pair();
      const out = join(dir, 's.jsonl');
      const meters = cjt188Meters(toMeters.paths[1], '101001', '--seed', '3');
      const tap = new CliProcess([
        'tap',
        `serial:${toPoll.paths[1]}@2400-8E1`,
        `serial:${toMeters.paths[0]}`,
        '--out',
        out,
      ]);
      await tap.waitFor(/^tap: forwarding/);
      const poll = new CliProcess([
        'poll',
        '--port',
        toPoll.paths[0],
        '--protocol',
        'cjt188',
        '--meter',
        '101001',
        '--json',
        '--timeout',
        '3000',
      ]);
      expect(await poll.exited).toBe(0);
      const polled = JSON.parse(poll.out[0]);
      // The live line for the reply, printed before Ctrl-C.
      await tap.waitFor(/a->b cjt188 request read DI 901F addr 00000000101001/);
      await tap.waitFor(/b->a cjt188 reply read-reply .* = \d/);
      expect(await tap.stop('SIGINT')).toBe(0);
      await meters.stop();

      const recording = await readRecording(out);
      expect(recording.warnings).toEqual([]);
      expect(recording.header.links).toEqual([
        expect.objectContaining({ name: 'tap', kind: 'serial', settings: '2400 8E1' }),
      ]);
      const frames = recording.records.filter((r) => r.type === 'frame');
      expect(frames.map((f) => f.type === 'frame' && `${f.dir} ${f.protocol}`)).toEqual([
        'ab cjt188',
        'ba cjt188',
      ]);
      // The chunks of each direction put together are exactly the bytes poll sent and received.
      const bytesOf = (dir: 'ab' | 'ba') =>
        recording.records.flatMap((r) => (r.type === 'chunk' && r.dir === dir ? [r.hex] : [])).join('');
      expect(bytesOf('ab')).toBe(Buffer.from(hexToBytes(polled.sent)).toString('hex').toUpperCase());
      const reply = decodeFrameBytes(fromHex(frames[1].type === 'frame' ? frames[1].hex : ''));
      const data = (reply!.decoded.body as { data: { current: { value: number } } }).data;
      expect(data.current.value).toBe(polled.reading.value);
      expect(recording.records.at(-1)).toMatchObject({ type: 'event', event: 'end' });
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'proxies a concentrator to the master over TCP, one recorded link per connection',
    async () => {
      const out = join(dir, 'uplink.jsonl');
      const { master, listen: listenPort, api: apiPort } = await startMaster(SCENARIO);
      const tap = new CliProcess([
        'tap',
        'tcp-listen:127.0.0.1:0',
        `tcp:127.0.0.1:${listenPort}`,
        '--out',
        out,
        '--quiet',
      ]);
      const [, tapPort] = await tap.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
      const sim = new CliProcess([
        'sim',
        '--scenario',
        SCENARIO,
        '--master',
        `127.0.0.1:${tapPort}`,
        '--status-interval',
        '0',
      ]);
      await master.waitFor(/\blogin 017102082/);
      const client = await LineClient.connect(Number(apiPort));
      try {
        const answer = (await client.request({
          type: 'read',
          id: 'r1',
          concentrator: '101',
          meter: '101001',
        })) as {
          type: string;
          value: number;
        };
        expect(answer.type).toBe('reading');
        await sim.stop();
        await tap.waitFor(/conn1: .* disconnected/);
        expect(await tap.stop()).toBe(0);
        const recording = await readRecording(out);
        expect(recording.links.get('conn1')).toMatchObject({ kind: 'tcp', b: `tcp:127.0.0.1:${listenPort}` });
        const summaries = recording.records.flatMap((r) =>
          r.type === 'frame' ? [`${r.dir} ${r.summary}`] : [],
        );
        expect(summaries[0]).toMatch(/^ab gdw376 up prm AFN 02H login F1/);
        expect(summaries).toContainEqual(
          expect.stringMatching(
            /^ba gdw376 down prm AFN 10H forward-request F1 .*\[cjt188 request read DI 901F addr 00000000101001/,
          ),
        );
        expect(summaries).toContainEqual(
          expect.stringMatching(new RegExp(`^ab gdw376 up .*forward-reply .*= ${answer.value} m3`)),
        );
      } finally {
        client.socket.destroy();
        await master.stop();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
