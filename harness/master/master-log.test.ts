import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { type MasterLogEntry, ThrottledLog } from './master-log.ts';

const entry = (event: MasterLogEntry['event'], n: number): MasterLogEntry => ({
  level: 'warn',
  event,
  message: `line ${n}`,
  fields: { n },
});

describe('ThrottledLog', () => {
  it('writes the first entry of a kind, then one "… N more" line when its window closes', () => {
    const clock = new VirtualClock();
    const lines: MasterLogEntry[] = [];
    const log = new ThrottledLog((e) => lines.push(e), clock, 10_000);
    for (let i = 0; i < 10_000; i++) log.log(entry('malformed', i));
    log.log(entry('before-login', 0));
    expect(lines.map((l) => l.message)).toEqual(['line 0', 'line 0']);
    clock.advance(10_000);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({
      event: 'suppressed',
      message: '… 9,999 more malformed in the last 10 s; latest: line 9999',
      fields: { of: 'malformed', count: 9999 },
    });
    log.log(entry('malformed', 1)); // a new window
    expect(lines).toHaveLength(4);
  });

  it('flushes pending summaries at once when asked (the station is stopping), and survives a throwing sink', () => {
    const clock = new VirtualClock();
    const lines: string[] = [];
    const log = new ThrottledLog((e) => {
      lines.push(e.message);
      throw new Error('sink bug');
    }, clock);
    log.log(entry('junk-limit', 1));
    log.log(entry('junk-limit', 2));
    log.flush();
    expect(lines).toEqual(['line 1', '… 1 more junk-limit in the last 10 s; latest: line 2']);
    clock.advance(20_000);
    expect(lines).toHaveLength(2);
  });
});
