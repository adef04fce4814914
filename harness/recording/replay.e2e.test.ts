import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LineClient } from '../master/testing/line-client.ts';
import { diffRecordings } from './diff.ts';
import { readRecording } from './reader.ts';
import { parseRules } from './replay/compare.ts';
import { CliProcess, PROCESS_TEST_TIMEOUT_MS } from './testing/cli-process.ts';
import {
  cjt188Meters,
  cjt188Poll,
  ptyPairsClosedAfterEach,
  replayDriver,
  startMaster,
} from './testing/processes.ts';

// The checked-in recordings replayed both ways against meterlab's own parts, each a separate process, over a
// real socat pty pair or real TCP.

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/recordings/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'meterlab-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pair = ptyPairsClosedAfterEach();

describe('replay of the pty recordings', () => {
  it(
    'stands in for the meters: poll reads the recorded values, a recorded fault sequence included',
    async () => {
      const p = await pair();
      const device = new CliProcess([
        'replay',
        fixture('pty-cjt188.jsonl'),
        '--as',
        'device',
        '--port',
        `serial:${p.paths[1]}`,
        '--timing',
        'fast',
      ]);
      await device.waitFor(/^replay: standing in/);
      const read = (meter: string) => cjt188Poll(p.paths[0], meter, '--json', '--timeout', '3000');
      const [a, b] = [await read('101001'), await read('101002')];
      expect(JSON.parse(a.out[0]).reading.value).toBe(4914.06);
      expect(JSON.parse(b.out[0]).reading.value).toBe(3595.48);
      const unknown = await cjt188Poll(p.paths[0], '101009', '--timeout', '300', '--retries', '0');
      expect(unknown.code).toBe(1);
      await device.waitFor(/^UNMATCHED cjt188 request read DI 901F addr 00000000101009/);
      expect(await device.stop()).toBe(1); // an unmatched request is reported in the exit status
      await device.waitFor(/^replay: answered 2, unmatched 1$/);

      const faults = new CliProcess([
        'replay',
        fixture('pty-faults.jsonl'),
        '--as',
        'device',
        '--port',
        `serial:${p.paths[1]}`,
        '--timing',
        'fast',
      ]);
      await faults.waitFor(/^replay: standing in/);
      const poll = () => cjt188Poll(p.paths[0], '101001', '--json', '--timeout', '500', '--retries', '3');
      // Recorded: a good read, then bad checksum, silence, bad checksum, then a good read again.
      const first = await poll();
      expect(JSON.parse(first.out[0])).toMatchObject({ attempts: 1, reading: { value: 4914.06 } });
      const retried = await poll();
      expect(retried.code).toBe(0);
      expect(JSON.parse(retried.out[0])).toMatchObject({ attempts: 4, reading: { value: 4914.06 } });
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'plays poll against meters of another seed: the difference names exactly the value fields',
    async () => {
      const p = await pair();
      const meters = cjt188Meters(p.paths[1], '101001,101002', '--seed', '77');
      await meters.waitFor(/./);
      const run = await replayDriver(fixture('pty-cjt188.jsonl'), `serial:${p.paths[0]}`, '--ignore', 'time');
      expect(run.code).toBe(1);
      const rows = run.out.filter((l) => /^ {2}body\./.test(l)).map((l) => l.trim().split(/\s+/)[0]);
      expect(rows.length).toBeGreaterThan(0);
      expect(new Set(rows)).toEqual(new Set(['body.data.current.value', 'body.data.settlement.value']));
      // A fresh meter: the first run closed the valve, as the recorded session did.
      await meters.stop();
      const fresh = cjt188Meters(p.paths[1], '101001,101002', '--seed', '77');
      await fresh.waitFor(/./);
      const same = await replayDriver(
        fixture('pty-cjt188.jsonl'),
        `serial:${p.paths[0]}`,
        '--ignore',
        'time,value',
      );
      expect(same.out.at(-1)).toBe('same replies as recorded');
      expect(same.code).toBe(0);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'plays the faults session against meters with the same fault plan: the same answers, faults included',
    async () => {
      const p = await pair();
      const meters = cjt188Meters(p.paths[1], '101001', '--faults', 'bad-checksum@every:2,silence@every:3');
      await meters.waitFor(/./);
      const run = await replayDriver(
        fixture('pty-faults.jsonl'),
        `serial:${p.paths[0]}`,
        '--ignore',
        'time,value',
        '--timeout',
        '800',
      );
      expect(run.out.at(-1)).toBe('same replies as recorded');
      expect(run.code).toBe(0);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

describe('replay of the TCP recording', () => {
  it(
    'stands in for the concentrator at a real master: logs in and answers its forwards with the recorded readings',
    async () => {
      const { master, listen, api } = await startMaster(fixture('chain-scenario.json'));
      const device = new CliProcess([
        'replay',
        fixture('tcp-376.jsonl'),
        '--as',
        'device',
        '--port',
        `tcp:127.0.0.1:${listen}`,
        '--timing',
        'fast',
      ]);
      await master.waitFor(/\blogin 017102082/);
      const client = await LineClient.connect(Number(api));
      try {
        const water = await client.request({ type: 'read', id: 'x1', concentrator: '101', meter: '101002' });
        expect(water).toMatchObject({ type: 'reading', id: 'x1', value: 3595.48 });
        const power = await client.request({
          type: 'read',
          id: 'x2',
          concentrator: '101',
          meter: '000000000042',
        });
        expect(power).toMatchObject({ type: 'reading', value: 4174.07, unit: 'kWh' });
      } finally {
        client.socket.destroy();
        await device.stop();
        await master.stop();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

describe('replay of 376.1 sessions', () => {
  it(
    'plays the master of the TCP recording at a concentrator that connects to it: login confirmed, forwards compared',
    async () => {
      const run = async (ignore: string) => {
        const driver = new CliProcess([
          'replay',
          fixture('tcp-376.jsonl'),
          '--as',
          'driver',
          '--target',
          'tcp-listen:127.0.0.1:0',
          '--ignore',
          ignore,
        ]);
        const [, port] = await driver.waitFor(/listening on 127\.0\.0\.1:(\d+) for the device under test/);
        const sim = new CliProcess([
          'sim',
          '--scenario',
          fixture('chain-scenario.json'),
          '--master',
          `127.0.0.1:${port}`,
          '--status-interval',
          '0',
          '--verbose',
        ]);
        const code = await driver.exited;
        // The concentrator was confirmed by the recorded confirm and stayed online for the three forwards.
        await driver.waitFor(/login F1 .*: answered as recorded/);
        await sim.stop();
        return { code, out: driver.out, err: driver.err };
      };
      const same = await run('value,time');
      expect(same.out.at(-1)).toBe('same replies as recorded');
      expect(same.code).toBe(0);
      // The readings move with the clock since the recording was made: only the value fields differ.
      const moved = await run('time');
      expect(moved.code).toBe(1);
      const rows = moved.out.filter((l) => /^ {2}units\./.test(l)).map((l) => l.trim().split(/\s+/)[0]);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row).toMatch(/\.(value|settlement\.value|current\.value)$/);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'stands in for the concentrator of a master-side recording (master --record): the same readings again',
    async () => {
      const recorded = join(dir, 'master-side.jsonl');
      const masterOfChain = async (record?: string) => {
        const { master, listen, api } = await startMaster(
          fixture('chain-scenario.json'),
          ...(record ? ['--record', record] : []),
        );
        return { master, listen, api: Number(api) };
      };
      const readBoth = async (api: number) => {
        const client = await LineClient.connect(api);
        try {
          const water = await client.request({ type: 'read', id: 'w', concentrator: '101', meter: '101002' });
          const power = await client.request({ type: 'read', id: 'p', concentrator: '101', meter: '42' });
          return [water, power] as { value: number }[];
        } finally {
          client.socket.destroy();
        }
      };
      const first = await masterOfChain(recorded);
      const sim = new CliProcess([
        'sim',
        '--scenario',
        fixture('chain-scenario.json'),
        '--master',
        `127.0.0.1:${first.listen}`,
        '--status-interval',
        '0',
      ]);
      await first.master.waitFor(/\blogin 017102082/);
      const live = await readBoth(first.api);
      await sim.stop();
      await first.master.stop();

      const second = await masterOfChain();
      const device = new CliProcess([
        'replay',
        recorded,
        '--as',
        'device',
        '--port',
        `tcp:127.0.0.1:${second.listen}`,
        '--timing',
        'fast',
      ]);
      await second.master.waitFor(/\blogin 017102082/);
      const replayed = await readBoth(second.api);
      expect(replayed.map((r) => r.value)).toEqual(live.map((r) => r.value));
      // The master's confirm of the login is heard, not answered; both forwards matched.
      await device.waitFor(/^heard gdw376 down resp AFN 00H confirm/);
      expect(await device.stop()).toBe(0);
      await device.waitFor(/^replay: answered 2, unmatched 0$/);
      await second.master.stop();
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

describe('replay of the public master-station session', () => {
  it(
    "plays both sides against each other over TCP: the master's quirks (C=0B confirms, PW and Tp, EC) survive",
    async () => {
      const file = fixture('public-master-quirks.jsonl');
      const deviceRecording = join(dir, 'public-device.jsonl');
      const device = new CliProcess([
        'replay',
        file,
        '--as',
        'device',
        '--port',
        'tcp-listen:127.0.0.1:0',
        '--timing',
        'fast',
        '--record',
        deviceRecording,
      ]);
      const [, port] = await device.waitFor(/on 127\.0\.0\.1:(\d+); Ctrl-C stops/);
      const rerecorded = join(dir, 'public-driver.jsonl');
      const strict = await replayDriver(file, `tcp:127.0.0.1:${port}`, '--record', rerecorded);
      // The device echoes the request's Tp (docs/gdw376.md §3.1), where the published reply carried its own:
      // the only difference is the reply's send time.
      expect(strict.code).toBe(1);
      const rows = strict.out.filter((l) => /^ {2}\S+\./.test(l)).map((l) => l.trim().split(/\s+/)[0]);
      expect(rows).toEqual(['aux.tp.sendTime']);
      expect(strict.err.join('\n')).toMatch(/login F1 .*: answered as recorded/);
      expect(strict.err.join('\n')).toMatch(/heartbeat F3 .*: answered as recorded/);
      const again = await readRecording(rerecorded);
      const frames = again.records.flatMap((r) => (r.type === 'frame' ? [r] : []));
      // What the driver sent: the published confirm (C=0B) for the login, then the forward with PW and Tp.
      expect(frames.filter((f) => f.dir === 'ab').map((f) => f.hex.slice(12, 14))).toEqual([
        '0B',
        '0B',
        '4B',
      ]);
      const reply = frames.find((f) => f.dir === 'ba' && /forward-reply/.test(f.summary));
      expect(reply?.summary).toMatch(/= 6\.78 kWh/);
      // EC 4F 00 kept, then the request's Tp (PFC 00, 23:51:13 on the 21st as 13 51 23 21, delay 5), CS, end.
      expect(reply?.hex).toMatch(/4F00001351232105[0-9A-F]{2}16$/);

      const lenient = await replayDriver(file, `tcp:127.0.0.1:${port}`, '--ignore', 'time');
      expect(lenient.out.at(-1)).toBe('same replies as recorded');
      expect(lenient.code).toBe(0);
      expect(await device.stop()).toBe(0);
      await device.waitFor(/^replay: answered 2, unmatched 0$/);
      // The device's own recording of both runs: it sent login, heartbeat and the forward reply each time.
      const atDevice = await readRecording(deviceRecording);
      expect(atDevice.records.at(-1)).toMatchObject({ type: 'event', event: 'end' });
      const sent = atDevice.records.flatMap((r) => (r.type === 'frame' && r.dir === 'ab' ? [r.summary] : []));
      expect(sent.map((s) => s.replace(/ seq .*/, ''))).toEqual(
        Array(2)
          .fill([
            'gdw376 up prm AFN 02H login F1',
            'gdw376 up prm AFN 02H heartbeat F3',
            'gdw376 up resp AFN 10H forward-reply F1',
          ])
          .flat(),
      );
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

describe('meterlab diff', () => {
  it('finds nothing between a recording and itself, and the value fields between two sessions', async () => {
    const a = await readRecording(fixture('pty-cjt188.jsonl'));
    expect(diffRecordings(a, a, parseRules(''))).toEqual([]);
    const faults = await readRecording(fixture('pty-faults.jsonl'));
    const differences = diffRecordings(a, faults, parseRules('seq'));
    expect(differences.length).toBeGreaterThan(0);
  });
});
