import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { type RelayLogEntry, throttleLog } from './log.ts';

const bad = (n: number): RelayLogEntry => ({
  level: 'warn',
  event: 'bad-message',
  message: `client #1: BAD_JSON ${n}`,
  fields: { code: 'BAD_JSON' },
});

describe('throttleLog', () => {
  it('passes one line per kind per window and then says how many more there were', () => {
    const clock = new VirtualClock();
    const lines: RelayLogEntry[] = [];
    const log = throttleLog<RelayLogEntry>((e) => lines.push(e), { clock, windowMs: 10_000 });
    for (let n = 0; n < 10_000; n++) log(bad(n));
    log({ level: 'warn', event: 'client-refused', message: 'refused 401', fields: { status: 401 } });
    log({ level: 'warn', event: 'client-refused', message: 'refused 503', fields: { status: 503 } });
    log({ level: 'info', event: 'read', message: 'a read' });
    log({ level: 'info', event: 'read', message: 'another read' });
    expect(lines.map((e) => e.message)).toEqual([
      'client #1: BAD_JSON 0',
      'refused 401',
      'refused 503',
      'a read',
      'another read',
    ]);
    clock.advance(10_000);
    expect(lines).toHaveLength(6);
    expect(lines[5]).toMatchObject({
      level: 'warn',
      event: 'bad-message',
      message: '… 9,999 more bad-message in the last 10 s',
      fields: { suppressed: 9999 },
    });
    // A new window opens with the next entry.
    log(bad(10_000));
    expect(lines[6].message).toBe('client #1: BAD_JSON 10000');
    log(bad(10_001));
    log.flush();
    expect(lines[7].message).toBe('… 1 more bad-message in the last 10 s');
    clock.advance(20_000);
    expect(lines).toHaveLength(8);
  });

  it('passes everything with a zero window and rejects a bad one', () => {
    const lines: RelayLogEntry[] = [];
    const log = throttleLog<RelayLogEntry>((e) => lines.push(e), { windowMs: 0 });
    for (let n = 0; n < 5; n++) log(bad(n));
    expect(lines).toHaveLength(5);
    expect(() => throttleLog(() => {}, { windowMs: -1 })).toThrow(/"windowMs"/);
  });
});
