import { describe, expect, it } from 'vitest';
import { nextInput, Random, runFuzz, TARGETS, vectorFrames } from './fuzz.ts';

// CI's short seeded fuzz run (issue 13, "Proof"): FC_SEED (vitest.config.ts) seeds it like the property tests.
const seed = Number(process.env.FC_SEED) || 1;

describe(`npm run fuzz, a short run (seed ${seed})`, () => {
  it('finds no throw that is not a ProtocolError in any codec, framer or the point-read validator', () => {
    const report = runFuzz({ runs: 2000, seed });
    expect(report.targets.map((t) => t.target)).toEqual(TARGETS.map((t) => t.name));
    expect(report.findings).toEqual([]);
    for (const t of report.targets) {
      if (t.largestBuffer !== undefined) expect(t.largestBuffer).toBeLessThanOrEqual(1024);
    }
  });

  it('is reproducible: the same seed gives the same inputs', () => {
    const seeds = vectorFrames();
    const a = new Random(seed);
    const b = new Random(seed);
    for (let i = 0; i < 100; i++) expect(nextInput(a, seeds)).toEqual(nextInput(b, seeds));
  });
});
