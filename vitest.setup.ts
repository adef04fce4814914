import fc from 'fast-check';

const seed = Number(process.env.FC_SEED);
fc.configureGlobal({
  seed: Number.isFinite(seed) ? seed : undefined,
  numRuns: process.env.FC_NUM_RUNS ? Number(process.env.FC_NUM_RUNS) : 100,
  // Never let a property hang a test: fast-check stops shrinking or running and reports instead.
  interruptAfterTimeLimit: 20_000,
});
