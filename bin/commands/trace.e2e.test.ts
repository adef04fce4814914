import { afterEach, describe, expect, it } from 'vitest';
import {
  CliProcess,
  PROCESS_TEST_TIMEOUT_MS,
  runCli,
  stopAll,
} from '../../harness/recording/testing/cli-process.ts';
import { createPtyPair, type PtyPair } from '../../simulator/link/index.ts';

// Issue 14 item 11 the way a user meets it: `meterlab meters --trace` on one end of a real pty pair, `meterlab
// poll` on the other asking a meter that is not there and one that is. Before --trace the meters ignored the first
// request in silence; now the log says what was heard and why each meter stayed quiet. Every log line of the
// long-running command starts with a timestamp that carries its UTC offset.

let pair: PtyPair | undefined;
afterEach(async () => {
  await stopAll();
  await pair?.close();
  pair = undefined;
});

const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d /;

describe('meterlab meters --trace', () => {
  it(
    'prints every frame heard with each meter’s verdict, and timestamps its lines with their offset',
    async () => {
      pair = await createPtyPair();
      const meters = new CliProcess([
        'meters',
        '--port',
        pair.paths[1],
        '--protocol',
        'cjt188',
        '--meters',
        '101001',
        '--trace',
      ]);
      const [serving] = await meters.waitFor(/serving 1 cjt188 meter/);
      expect(meters.err.find((l) => l.includes(serving))).toMatch(STAMP);

      const absent = await runCli([
        'poll',
        '--port',
        pair.paths[0],
        '--protocol',
        'cjt188',
        '--meter',
        '101009',
        '--timeout',
        '500',
        '--retries',
        '0',
      ]);
      expect(absent.code).toBe(1);
      await meters.waitFor(/00000000101001 ignores it: other address 00000000101009/);

      const present = await runCli([
        'poll',
        '--port',
        pair.paths[0],
        '--protocol',
        'cjt188',
        '--meter',
        '101001',
      ]);
      expect(present.code).toBe(0);
      await meters.waitFor(/00000000101001 answers/);
      expect(meters.err.filter((l) => l.includes('trace heard')).every((l) => STAMP.test(l))).toBe(true);
      expect(await meters.stop()).toBe(0);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
