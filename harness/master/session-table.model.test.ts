import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConcentratorAddress } from './concentrator-id.ts';
import { SessionTable } from './session-table.ts';

// Model-based test of the session table (STYLE.md habit 8): the model keeps, per concentrator, only who owns it
// and when it was last heard from; "online" is derived from that and the clock.

const PERIOD = 1000;
const MISSED = 3;
const LIMIT = PERIOD * MISSED;
const IDS = ['017102082', '017100001', '440401633'] as const;
const CONNECTIONS = [1, 2, 3] as const;

interface ModelRow {
  owner: number | undefined;
  lastSeen: number;
}
interface Model {
  now: number;
  rows: Map<string, ModelRow>;
}
type Real = SessionTable;

function modelOnline(m: Model, id: string): boolean {
  const row = m.rows.get(id);
  return row !== undefined && row.owner !== undefined && m.now - row.lastSeen <= LIMIT;
}

function addr(id: string) {
  return parseConcentratorAddress(id)!;
}

function checkAll(m: Model, r: Real): void {
  for (const id of IDS) {
    expect(r.isOnline(id, m.now)).toBe(modelOnline(m, id));
  }
}

/** Login and heartbeat-from-a-non-owner share one rule: the connection takes the session over. */
function takeOver(m: Model, id: string, conn: number, result: ReturnType<Real['login']>): void {
  const before = m.rows.get(id);
  const previous = before?.owner;
  expect(result.cameOnline).toBe(!modelOnline(m, id));
  expect(result.replacedConnection).toBe(previous !== undefined && previous !== conn ? previous : undefined);
  expect(result.session?.state).toBe('online');
  expect(result.session?.connection).toBe(conn);
  m.rows.set(id, { owner: conn, lastSeen: m.now });
}

class LoginCommand implements fc.Command<Model, Real> {
  constructor(
    readonly id: string,
    readonly conn: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    takeOver(m, this.id, this.conn, r.login(addr(this.id), this.conn, m.now));
    checkAll(m, r);
  }
  toString(): string {
    return `login(${this.id} on #${this.conn})`;
  }
}

class HeartbeatCommand implements fc.Command<Model, Real> {
  constructor(
    readonly id: string,
    readonly conn: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const ownsLive = modelOnline(m, this.id) && m.rows.get(this.id)?.owner === this.conn;
    const result = r.heartbeat(addr(this.id), this.conn, m.now);
    if (ownsLive) {
      expect(result.implicitLogin).toBeUndefined();
      expect(result.cameOnline).toBe(false);
      m.rows.get(this.id)!.lastSeen = m.now;
    } else {
      expect(result.implicitLogin).toBe(true);
      takeOver(m, this.id, this.conn, result);
    }
    checkAll(m, r);
  }
  toString(): string {
    return `heartbeat(${this.id} on #${this.conn})`;
  }
}

class SeenCommand implements fc.Command<Model, Real> {
  constructor(
    readonly id: string,
    readonly conn: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const ownsLive = modelOnline(m, this.id) && m.rows.get(this.id)?.owner === this.conn;
    expect(r.seen(addr(this.id), this.conn, m.now)).toBe(ownsLive);
    if (ownsLive) m.rows.get(this.id)!.lastSeen = m.now;
    checkAll(m, r);
  }
  toString(): string {
    return `frame(${this.id} on #${this.conn})`;
  }
}

class LogoutCommand implements fc.Command<Model, Real> {
  constructor(
    readonly id: string,
    readonly conn: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const row = m.rows.get(this.id);
    const result = r.logout(addr(this.id), this.conn, m.now);
    if (row?.owner === this.conn) {
      expect(result?.offlineReason).toBe('logout');
      row.owner = undefined;
    } else {
      expect(result).toBeUndefined();
    }
    checkAll(m, r);
  }
  toString(): string {
    return `logout(${this.id} on #${this.conn})`;
  }
}

class DisconnectCommand implements fc.Command<Model, Real> {
  constructor(readonly conn: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const expected = IDS.filter((id) => m.rows.get(id)?.owner === this.conn);
    const gone = r.disconnected(this.conn, m.now);
    expect(gone.map((s) => s.id).sort()).toEqual([...expected].sort());
    for (const s of gone) {
      expect(s.offlineReason).toBe(modelOnline(m, s.id) ? 'disconnected' : 'heartbeat-timeout');
      m.rows.get(s.id)!.owner = undefined;
    }
    checkAll(m, r);
  }
  toString(): string {
    return `close(#${this.conn})`;
  }
}

class AdvanceCommand implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    m.now += this.ms;
    checkAll(m, r);
  }
  toString(): string {
    return `advance(${this.ms} ms)`;
  }
}

class ExpireCommand implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const expected = IDS.filter((id) => m.rows.get(id)?.owner !== undefined && !modelOnline(m, id));
    const gone = r.expire(m.now);
    expect(gone.map((s) => s.id).sort()).toEqual([...expected].sort());
    for (const id of expected) m.rows.get(id)!.owner = undefined;
    const next = r.nextExpiry();
    const owned = IDS.flatMap((id) => {
      const row = m.rows.get(id);
      return row?.owner !== undefined ? [row.lastSeen + LIMIT] : [];
    });
    expect(next).toBe(owned.length ? Math.min(...owned) : undefined);
    checkAll(m, r);
  }
  toString(): string {
    return 'expire()';
  }
}

class CheckOnlineCommand implements fc.Command<Model, Real> {
  constructor(readonly id: string) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    expect(r.isOnline(this.id, m.now)).toBe(modelOnline(m, this.id));
    const snap = r.get(this.id);
    expect(snap === undefined).toBe(!m.rows.has(this.id));
    if (snap) expect(snap.lastSeenAt).toBe(m.rows.get(this.id)!.lastSeen);
  }
  toString(): string {
    return `checkOnline(${this.id})`;
  }
}

const idArb = fc.constantFrom(...IDS);
const connArb = fc.constantFrom(...CONNECTIONS);
const commandsArb = fc.commands(
  [
    fc.tuple(idArb, connArb).map(([id, c]) => new LoginCommand(id, c)),
    fc.tuple(idArb, connArb).map(([id, c]) => new HeartbeatCommand(id, c)),
    fc.tuple(idArb, connArb).map(([id, c]) => new SeenCommand(id, c)),
    fc.tuple(idArb, connArb).map(([id, c]) => new LogoutCommand(id, c)),
    connArb.map((c) => new DisconnectCommand(c)),
    // Whole half-periods hit the exact silence limit often, where an off-by-one would hide.
    fc
      .oneof(fc.constantFrom(PERIOD / 2, PERIOD, 1.5 * PERIOD), fc.integer({ min: 0, max: 2 * PERIOD }))
      .map((ms) => new AdvanceCommand(ms)),
    fc.constant(new ExpireCommand()),
    idArb.map((id) => new CheckOnlineCommand(id)),
  ],
  { maxCommands: 60 },
);

describe('SessionTable (model-based)', () => {
  it('agrees with the model on who is online after any sequence of login, heartbeat, logout, close and time', () => {
    fc.assert(
      fc.property(commandsArb, (cmds) => {
        const model: Model = { now: 0, rows: new Map() };
        const real = new SessionTable({ heartbeatPeriodMs: PERIOD, missedHeartbeats: MISSED });
        fc.modelRun(() => ({ model, real }), cmds);
      }),
    );
  });
});
