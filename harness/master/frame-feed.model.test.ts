import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildReadRequest, encodeCjt188 } from '../../protocols/cjt188/index.ts';
import {
  buildForwardRequest,
  buildLogin,
  decodeGdw376Frame,
  encodeGdw376,
} from '../../protocols/gdw376/index.ts';
import type { FrameEvent } from '../../protocols/point-read/console-messages.ts';
import { validateConsoleMessage } from '../../protocols/point-read/console-messages.ts';
import { FrameFeed, type PassingFrame } from './frame-feed.ts';

const CONCENTRATORS = [
  { id: '017102082', a1: '0171', a2: 2082 },
  { id: '017100003', a1: '0171', a2: 3 },
];
const METERS = ['101001', '101002'];

function forward(c: (typeof CONCENTRATORS)[number], meter: string | undefined): PassingFrame {
  const frame =
    meter === undefined
      ? buildLogin({ a1: c.a1, a2: c.a2, seq: 0 })
      : buildForwardRequest({
          a1: c.a1,
          a2: c.a2,
          seq: 5,
          port: 1,
          content: encodeCjt188(buildReadRequest(meter.padStart(14, '0'), '901F')),
        });
  const raw = encodeGdw376(frame);
  return { at: 1_764_900_000_000, direction: 'down', concentrator: c.id, raw, frame: decodeGdw376Frame(raw) };
}

interface Model {
  subs: Map<string, { concentrator?: string; meter?: string; slow: boolean }>;
}
interface Real {
  feed: FrameFeed;
  owners: object[];
  received: Map<string, FrameEvent[]>;
  dropped: string[];
  slow: Set<string>;
}
const MAX = 3;
const key = (owner: number, id: string) => `${owner}#${id}`;

class Subscribe implements fc.Command<Model, Real> {
  constructor(
    readonly owner: number,
    readonly id: string,
    readonly concentrator: string | undefined,
    readonly meter: string | undefined,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const k = key(this.owner, this.id);
    const filter = { concentrator: this.concentrator, meter: this.meter };
    const outcome = r.feed.subscribe(
      r.owners[this.owner],
      this.id,
      filter,
      (event) => {
        r.received.get(k)?.push(event);
        return !r.slow.has(k);
      },
      (reason) => r.dropped.push(`${k}:${reason}`),
    );
    if (m.subs.has(k)) expect(outcome).toBe('SUBSCRIPTION_EXISTS');
    else if (m.subs.size >= MAX) expect(outcome).toBe('TOO_MANY_SUBSCRIPTIONS');
    else {
      expect(outcome).toBe('subscribed');
      m.subs.set(k, { ...filter, slow: false });
      r.received.set(k, []);
      r.slow.delete(k);
    }
    expect(r.feed.size).toBe(m.subs.size);
  }
  toString = () => `subscribe(${this.owner}, ${this.id}, ${this.concentrator ?? '*'}, ${this.meter ?? '*'})`;
}

class Unsubscribe implements fc.Command<Model, Real> {
  constructor(
    readonly owner: number,
    readonly id: string,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const k = key(this.owner, this.id);
    expect(r.feed.unsubscribe(r.owners[this.owner], this.id)).toBe(m.subs.has(k));
    m.subs.delete(k);
    expect(r.feed.size).toBe(m.subs.size);
  }
  toString = () => `unsubscribe(${this.owner}, ${this.id})`;
}

class FallBehind implements fc.Command<Model, Real> {
  constructor(
    readonly owner: number,
    readonly id: string,
  ) {}
  check = (m: Readonly<Model>) => m.subs.has(key(this.owner, this.id));
  run(m: Model, r: Real): void {
    const k = key(this.owner, this.id);
    m.subs.get(k)!.slow = true;
    r.slow.add(k);
  }
  toString = () => `fallBehind(${this.owner}, ${this.id})`;
}

class CloseOwner implements fc.Command<Model, Real> {
  constructor(readonly owner: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    r.feed.closeOwner(r.owners[this.owner]);
    for (const k of [...m.subs.keys()]) if (k.startsWith(`${this.owner}#`)) m.subs.delete(k);
    expect(r.feed.size).toBe(m.subs.size);
  }
  toString = () => `closeOwner(${this.owner})`;
}

class Publish implements fc.Command<Model, Real> {
  constructor(
    readonly concentrator: number,
    readonly meter: string | undefined,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const c = CONCENTRATORS[this.concentrator];
    const before = new Map([...r.received].map(([k, v]) => [k, v.length]));
    const droppedBefore = r.dropped.length;
    r.feed.publish(forward(c, this.meter));
    const expectedDrops: string[] = [];
    for (const [k, sub] of m.subs) {
      const takes =
        (sub.concentrator === undefined || sub.concentrator === c.id) &&
        (sub.meter === undefined || sub.meter.replace(/^0+/, '') === this.meter);
      const got = r.received.get(k)!.length - (before.get(k) ?? 0);
      expect(got, `${k} gets the frame`).toBe(takes ? 1 : 0);
      if (takes) {
        const event = r.received.get(k)!.at(-1)!;
        expect(event.id).toBe(k.slice(k.indexOf('#') + 1));
        expect(event.concentrator).toBe(c.id);
        expect(validateConsoleMessage(event)).toEqual(event);
        if (sub.slow) expectedDrops.push(`${k}:SLOW_SUBSCRIBER`);
      }
    }
    expect(r.dropped.slice(droppedBefore).sort()).toEqual(expectedDrops.sort());
    for (const d of expectedDrops) m.subs.delete(d.slice(0, d.lastIndexOf(':')));
    expect(r.feed.size).toBe(m.subs.size);
  }
  toString = () => `publish(${CONCENTRATORS[this.concentrator].id}, ${this.meter ?? 'login'})`;
}

describe('FrameFeed (model-based)', () => {
  it('delivers each frame to exactly the subscriptions whose filter takes it, and drops those that fall behind', () => {
    const owner = fc.integer({ min: 0, max: 1 });
    const id = fc.constantFrom('s1', 's2');
    const commands = [
      fc
        .tuple(
          owner,
          id,
          fc.option(fc.constantFrom(...CONCENTRATORS.map((c) => c.id)), { nil: undefined }),
          fc.option(fc.constantFrom(...METERS, '00000101001'), { nil: undefined }),
        )
        .map(([o, i, c, mt]) => new Subscribe(o, i, c, mt)),
      fc.tuple(owner, id).map(([o, i]) => new Unsubscribe(o, i)),
      fc.tuple(owner, id).map(([o, i]) => new FallBehind(o, i)),
      owner.map((o) => new CloseOwner(o)),
      fc
        .tuple(fc.integer({ min: 0, max: 1 }), fc.option(fc.constantFrom(...METERS), { nil: undefined }))
        .map(([c, mt]) => new Publish(c, mt)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { size: '+1' }), (cmds) => {
        const model: Model = { subs: new Map() };
        const real: Real = {
          feed: new FrameFeed({ maxSubscriptions: MAX }),
          owners: [{}, {}],
          received: new Map(),
          dropped: [],
          slow: new Set(),
        };
        fc.modelRun(() => ({ model, real }), cmds);
      }),
    );
  });
});

describe('FrameFeed', () => {
  it('does no work without subscribers, and survives a sink that throws', () => {
    const feed = new FrameFeed();
    feed.publish(forward(CONCENTRATORS[0], '101001'));
    const drops: string[] = [];
    feed.subscribe(
      {},
      's',
      {},
      () => {
        throw new Error('socket gone');
      },
      (reason) => drops.push(reason),
    );
    expect(() => feed.publish(forward(CONCENTRATORS[0], '101001'))).not.toThrow();
    expect(drops).toEqual(['SLOW_SUBSCRIBER']);
    expect(feed.size).toBe(0);
  });

  it('matches a meter filter with or without leading zeros', () => {
    const feed = new FrameFeed();
    const got: FrameEvent[] = [];
    feed.subscribe(
      {},
      's',
      { meter: '00000101001' },
      (e) => got.push(e) > 0,
      () => {},
    );
    feed.publish(forward(CONCENTRATORS[0], '101001'));
    feed.publish(forward(CONCENTRATORS[0], '101002'));
    expect(got.map((e) => e.meter)).toEqual(['00000000101001']);
    expect(got[0]).toMatchObject({ type: 'frame', id: 's', direction: 'down', afn: 0x10, seq: 5, port: 1 });
  });

  it('refuses a bad limit', () => {
    expect(() => new FrameFeed({ maxSubscriptions: 0 })).toThrow(
      '"maxSubscriptions" must be a positive integer',
    );
  });
});
