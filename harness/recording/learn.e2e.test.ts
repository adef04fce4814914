import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LineClient } from '../master/testing/line-client.ts';
import { CliProcess, PROCESS_TEST_TIMEOUT_MS, runCli, stopAll } from './testing/cli-process.ts';
import { startMaster } from './testing/processes.ts';

// learn → sim → point-read, each a separate `meterlab` process over real TCP: the look-alike fleet answers the
// readings the recording heard.

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/recordings/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'meterlab-learn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => stopAll());

describe('meterlab learn, then sim --scenario', () => {
  it(
    'serves each meter from its last recorded reading',
    async () => {
      const learned = join(dir, 'learned.json');
      const learn = await runCli(['learn', fixture('tcp-376.jsonl'), '--out', learned]);
      expect(learn.code).toBe(0);
      expect(learn.err.join('\n')).toMatch(/learned 1 concentrator\(s\), 3 meter\(s\)/);
      expect(JSON.parse(readFileSync(learned, 'utf8')).concentrators[0].ports[0].meters[0]).toMatchObject({
        address: '00000000101001',
        baseReading: 4914.06,
      });
      const { master, listen, api } = await startMaster(learned);
      const sim = new CliProcess([
        'sim',
        '--scenario',
        learned,
        '--master',
        `127.0.0.1:${listen}`,
        '--status-interval',
        '0',
      ]);
      await master.waitFor(/\blogin 017102082/);
      const client = await LineClient.connect(Number(api));
      try {
        const recorded: [string, number][] = [
          ['00000000101001', 4914.06],
          ['00000000101002', 3595.48],
          ['000000000042', 4174.07],
        ];
        for (const [meter, value] of recorded) {
          const answer = (await client.request({
            type: 'read',
            id: meter,
            concentrator: '017102082',
            meter,
          })) as {
            type: string;
            value: number;
          };
          expect(answer.type).toBe('reading');
          // The meters go on consuming from the recorded value: in the seconds since sim started the seed's model
          // adds at most 0.01 (one step of the display: at most 1.2 m³ a day, 0.01 in four minutes at the peak hour).
          expect(answer.value).toBeGreaterThanOrEqual(value);
          expect(answer.value).toBeLessThanOrEqual(Math.round((value + 0.01) * 100) / 100);
        }
      } finally {
        client.socket.destroy();
        await sim.stop();
        await master.stop();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
