import { describe, expect, it } from 'vitest';
import { SessionTable } from './session-table.ts';

const A = { a1: '0171', a2: 2082 };
const B = { a1: '0171', a2: 1 };

describe('SessionTable', () => {
  it('goes offline only after more than period × missed heartbeats of silence', () => {
    const t = new SessionTable({ heartbeatPeriodMs: 100, missedHeartbeats: 3 });
    t.login(A, 1, 0);
    expect(t.isOnline('017102082', 300)).toBe(true);
    expect(t.isOnline('017102082', 301)).toBe(false);
    expect(t.nextExpiry()).toBe(300);
    expect(t.expire(300)).toEqual([]);
    expect(t.expire(301).map((s) => s.offlineReason)).toEqual(['heartbeat-timeout']);
    expect(t.get('017102082')?.state).toBe('offline');
  });

  it('replaces the older connection on a second login and reports it', () => {
    const t = new SessionTable();
    t.login(A, 1, 0);
    const second = t.login(A, 2, 10);
    expect(second.replacedConnection).toBe(1);
    expect(second.cameOnline).toBe(false);
    expect(t.disconnected(1, 20)).toEqual([]);
    expect(t.isOnline('017102082', 20)).toBe(true);
  });

  it('accepts a reconnect after logout', () => {
    const t = new SessionTable();
    t.login(A, 1, 0);
    expect(t.logout(A, 1, 5)?.offlineReason).toBe('logout');
    expect(t.isOnline('017102082', 5)).toBe(false);
    const again = t.login(A, 3, 6);
    expect(again.cameOnline).toBe(true);
    expect(again.session?.logins).toBe(2);
  });

  it('forgets the oldest offline session at the limit and refuses when all are online', () => {
    const t = new SessionTable({ maxSessions: 1 });
    t.login(A, 1, 0);
    expect(t.login(B, 2, 1).session).toBeUndefined();
    t.logout(A, 1, 2);
    expect(t.login(B, 2, 3).session?.id).toBe('017100001');
    expect(t.get('017102082')).toBeUndefined();
    expect(t.size).toBe(1);
  });

  it('rejects a non-positive heartbeat period with a TypeError naming the option', () => {
    expect(() => new SessionTable({ heartbeatPeriodMs: 0 })).toThrow(/"heartbeatPeriodMs"/);
  });
});
