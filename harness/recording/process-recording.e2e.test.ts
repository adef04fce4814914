import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Recording, readRecording } from './reader.ts';
import { CliProcess, PROCESS_TEST_TIMEOUT_MS, runCli } from './testing/cli-process.ts';
import { cjt188Meters, cjt188Poll, ptyPairsClosedAfterEach, startMaster } from './testing/processes.ts';

// `--record FILE` on meters, poll, sim, master and relay: each a separate process, talking over a real socat pty
// pair or real TCP, each writing its own recording; the recordings are read back and checked against each other
// and against what the processes printed.

const SCENARIO = fileURLToPath(new URL('../../fixtures/recordings/chain-scenario.json', import.meta.url));
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meterlab-record-'));
});

// Registered before the pty pairs' hook, so it runs after it: the folder goes once every process has stopped.
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const pair = ptyPairsClosedAfterEach();

/** `dir summary` of every frame of a recording, in order. */
function frames(recording: Recording): string[] {
  return recording.records.flatMap((r) => (r.type === 'frame' ? [`${r.dir} ${r.summary}`] : []));
}

/** The bytes of one direction of a link, chunks put together. */
function bytesOf(recording: Recording, link: string, dir: 'ab' | 'ba'): string {
  return recording.records
    .flatMap((r) => (r.type === 'chunk' && r.link === link && r.dir === dir ? [r.hex] : []))
    .join('');
}

describe('--record on meters and poll (serial, a real pty pair)', () => {
  it(
    'each side records the same bytes, in its own direction, with the reading poll printed',
    async () => {
      const p = await pair();
      const metersFile = join(dir, 'meters.jsonl');
      const pollFile = join(dir, 'poll.jsonl');
      const meters = cjt188Meters(p.paths[1], '101001', '--seed', '5', '--record', metersFile);
      await meters.waitFor(/\bserving 1 cjt188 meter/);
      const poll = await cjt188Poll(p.paths[0], '101001', '--json', '--record', pollFile);
      expect(poll.code).toBe(0);
      const value = JSON.parse(poll.out[0]).reading.value as number;
      expect(await meters.stop()).toBe(0);

      const polled = await readRecording(pollFile);
      const served = await readRecording(metersFile);
      for (const r of [polled, served]) {
        expect(r.warnings).toEqual([]);
        expect(r.records.at(-1)).toMatchObject({ type: 'event', event: 'end' });
        expect(r.links.get('bus')).toMatchObject({ kind: 'serial', settings: '2400 8E1' });
      }
      expect(polled.header.source).toBe('meterlab poll');
      expect(polled.links.get('bus')?.b).toBe(p.paths[0]);
      // poll sends (ab) the request and hears (ba) the reply; the meters hear (ba) it and send (ab) the reply.
      expect(frames(polled)).toEqual([
        expect.stringMatching(/^ab cjt188 request read DI 901F addr 00000000101001/),
        expect.stringMatching(new RegExp(`^ba cjt188 reply read-reply .*= ${value} m3`)),
      ]);
      expect(frames(served)).toEqual([
        expect.stringMatching(/^ba cjt188 request read DI 901F addr 00000000101001/),
        expect.stringMatching(new RegExp(`^ab cjt188 reply read-reply .*= ${value} m3`)),
      ]);
      expect(bytesOf(polled, 'bus', 'ab')).toBe(bytesOf(served, 'bus', 'ba'));
      expect(bytesOf(polled, 'bus', 'ba')).toBe(bytesOf(served, 'bus', 'ab'));
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

describe('meterlab decode --recording --follow', () => {
  it(
    'prints each frame of a recording while meters --record is still writing it, and ends at its end line',
    async () => {
      const p = await pair();
      const file = join(dir, 'live.jsonl');
      const meters = cjt188Meters(p.paths[1], '101001', '--record', file);
      await meters.waitFor(/\bserving 1 cjt188 meter/);
      const follow = new CliProcess(['decode', '--recording', file, '--follow']);
      const poll = await cjt188Poll(p.paths[0], '101001', '--json');
      expect(poll.code).toBe(0);
      const value = JSON.parse(poll.out[0]).reading.value as number;
      // Printed while the recording is still open: the reply as meters sent it (ab), decoded.
      await follow.waitFor(/"dir":"ab","summary":"cjt188 reply read-reply/);
      expect(follow.child.exitCode).toBe(null);
      const reply = follow.out.map((l) => JSON.parse(l)).find((l) => l.dir === 'ab');
      expect(reply).toMatchObject({ link: 'bus', body: { data: { current: { value } } } });
      expect(await meters.stop()).toBe(0);
      // The end line closes the follow by itself.
      expect(await follow.exited).toBe(0);
      expect(follow.out.map((l) => JSON.parse(l).dir)).toEqual(['ba', 'ab']);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

describe('--record on sim, master and relay (real TCP and WebSocket)', () => {
  it(
    'a point-read through the relay is in all three recordings: NDJSON at the relay, 376.1 at sim and master',
    async () => {
      const files = {
        sim: join(dir, 'sim.jsonl'),
        master: join(dir, 'master.jsonl'),
        relay: join(dir, 'relay.jsonl'),
      };
      const { master, listen, api } = await startMaster(SCENARIO, '--record', files.master);
      const sim = new CliProcess([
        'sim',
        '--scenario',
        SCENARIO,
        '--master',
        `127.0.0.1:${listen}`,
        '--status-interval',
        '0',
        '--record',
        files.sim,
      ]);
      await master.waitFor(/\blogin 017102082/);
      const relay = new CliProcess([
        'relay',
        '--listen',
        '127.0.0.1:0',
        '--master',
        `127.0.0.1:${api}`,
        '--record',
        files.relay,
      ]);
      const [, url] = await relay.waitFor(/relay listening on (ws:\/\/[\d.]+:\d+)/);
      const read = await runCli(['read', '--relay', url, '-c', '101', '-m', '101001', '--json']);
      expect(read.code).toBe(0);
      const value = JSON.parse(read.out[0]).value as number;
      expect(await relay.stop()).toBe(0);
      expect(await sim.stop()).toBe(0);
      expect(await master.stop()).toBe(0);

      const atSim = await readRecording(files.sim);
      const atMaster = await readRecording(files.master);
      const atRelay = await readRecording(files.relay);
      for (const r of [atSim, atMaster, atRelay]) {
        expect(r.warnings).toEqual([]);
        expect(r.records.at(-1)).toMatchObject({ type: 'event', event: 'end' });
      }
      // The concentrator's link: it sends (ab) the login and the forward reply, hears (ba) the forward.
      expect(atSim.links.get('up1')).toMatchObject({ kind: 'tcp', a: 'meterlab sim' });
      expect(frames(atSim)[0]).toMatch(/^ab gdw376 up prm AFN 02H login F1/);
      expect(frames(atSim)).toContainEqual(
        expect.stringMatching(/^ba gdw376 down prm AFN 10H forward-request F1 .*addr 00000000101001/),
      );
      expect(frames(atSim)).toContainEqual(
        expect.stringMatching(new RegExp(`^ab gdw376 up .*forward-reply .*= ${value} m3`)),
      );
      // The master's side of the same connection: the other way round, the same bytes.
      expect(atMaster.links.get('conn1')).toMatchObject({ kind: 'tcp', a: 'meterlab master' });
      expect(frames(atMaster)[0]).toMatch(/^ba gdw376 up prm AFN 02H login F1/);
      const forward = (r: Recording, link: string, dir: 'ab' | 'ba') =>
        r.records.find(
          (x) => x.type === 'frame' && x.link === link && x.dir === dir && /AFN 10H/.test(x.summary),
        );
      expect(forward(atMaster, 'conn1', 'ab')).toMatchObject({
        hex: (forward(atSim, 'up1', 'ba') as { hex: string }).hex,
      });
      // The relay's link to the master's client API: the read request out (ab) and the reading back (ba).
      expect(atRelay.links.get('master1')).toMatchObject({
        kind: 'tcp',
        a: 'meterlab relay',
        b: `127.0.0.1:${api}`,
      });
      const ndjson = atRelay.records.filter((r) => r.type === 'frame');
      expect(ndjson.map((r) => r.type === 'frame' && `${r.dir} ${r.protocol}`)).toContain('ab point-read');
      const reading = ndjson.find((r) => r.type === 'frame' && r.dir === 'ba' && /reading/.test(r.summary));
      expect(reading && reading.type === 'frame' && Buffer.from(reading.hex, 'hex').toString()).toContain(
        `"value":${value}`,
      );
      // The master's side of that client-API connection: the request heard (ba), the reading sent (ab).
      expect(atMaster.links.get('client1')).toMatchObject({ kind: 'tcp', a: 'meterlab master' });
      const answered = atMaster.records.find(
        (r) => r.type === 'frame' && r.link === 'client1' && r.dir === 'ab' && /reading/.test(r.summary),
      );
      expect(answered && answered.type === 'frame' && Buffer.from(answered.hex, 'hex').toString()).toContain(
        `"value":${value}`,
      );
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
