import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../simulator/clock/virtual-clock.ts';
import { LinkError } from '../../simulator/link/errors.ts';
import { type ConformanceCase, runCases, selectCases } from './runner.ts';
import { Trace } from './trace.ts';

const ids = ['M188-1.1', 'M188-4.1', 'M188-4.2', 'M188-8.1', 'M188-10.1'].map((id) => ({ id }));

describe('selectCases', () => {
  it('selects by glob, excludes with !, and takes everything when only exclusions are given', () => {
    expect(selectCases(ids, 'M188-4.*').map((c) => c.id)).toEqual(['M188-4.1', 'M188-4.2']);
    expect(selectCases(ids, 'm188-1*').map((c) => c.id)).toEqual(['M188-1.1', 'M188-10.1']);
    expect(selectCases(ids, '!M188-8.*,!M188-4.?').map((c) => c.id)).toEqual(['M188-1.1', 'M188-10.1']);
    expect(selectCases(ids, 'M188-1.1, M188-8.1').map((c) => c.id)).toEqual(['M188-1.1', 'M188-8.1']);
    expect(selectCases(ids, undefined)).toHaveLength(5);
  });
});

describe('runCases', () => {
  const make = (id: string, run: ConformanceCase<null>['run']): ConformanceCase<null> => ({
    id,
    title: id,
    clause: 'test',
    origin: 'code',
    run,
  });
  const clock = new VirtualClock();
  const options = { context: null, clock, beginCase: () => new Trace(clock) };

  it('grades a case that throws as skipped with the error, and goes on', async () => {
    const results = await runCases(
      [
        make('A', async () => {
          throw new Error('harness bug');
        }),
        make('B', async () => ({ grade: 'pass', message: 'ok' })),
      ],
      options,
    );
    expect(results.map((r) => [r.id, r.grade, r.message])).toEqual([
      ['A', 'skipped', 'the case could not run: harness bug'],
      ['B', 'pass', 'ok'],
    ]);
    expect(results[0].trace[0].text).toMatch(/^case stopped: Error: harness bug/);
  });

  it('stops the run when the link to the device fails', async () => {
    const run = runCases(
      [
        make('A', async () => {
          throw new LinkError('LINK_CLOSED', 'gone');
        }),
      ],
      options,
    );
    await expect(run).rejects.toBeInstanceOf(LinkError);
  });

  it('starts no further case once aborted', async () => {
    const controller = new AbortController();
    const results = await runCases(
      [
        make('A', async () => {
          controller.abort();
          return { grade: 'pass', message: 'ok' };
        }),
        make('B', async () => ({ grade: 'pass', message: 'ok' })),
      ],
      { ...options, signal: controller.signal },
    );
    expect(results.map((r) => r.id)).toEqual(['A']);
  });
});
