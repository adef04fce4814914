import { describe, expect, it } from 'vitest';
import { buildWriteReply, decodeCjt188Frame, encodeCjt188 } from '../../protocols/cjt188/index.ts';
import { buildForwardRequest, decodeGdw376Frame, encodeGdw376 } from '../../protocols/gdw376/index.ts';
import type { ConsoleMessage } from '../../protocols/point-read/console-messages.ts';
import { validateConsoleMessage } from '../../protocols/point-read/console-messages.ts';
import { type ReadError, validatePointReadMessage } from '../../protocols/point-read/index.ts';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { Archive } from './archive.ts';
import { ConsoleApi, type ConsoleHost, type ForwardTarget } from './console-api.ts';
import { MasterError } from './master-error.ts';
import type { MasterSession } from './master-station.ts';

const archive = new Archive({
  concentrators: [
    {
      id: '017102082',
      alias: '101',
      a1: '0171',
      a2: 2082,
      ports: [
        {
          port: 1,
          meters: [
            { address: '101001', protocol: 'cjt188' },
            { address: '101002', protocol: 'cjt188', kind: 'heat' },
          ],
        },
        { port: 2, meters: [{ address: '202020202020', protocol: 'dlt645' }] },
      ],
    },
    { id: '017100003', a1: '0171', a2: 3, ports: [] },
  ],
});

function session(id: string, a2: number, state: 'online' | 'offline', lastSeenAt: number): MasterSession {
  return {
    id,
    a1: id.slice(0, 4),
    a2,
    state,
    connection: 1,
    lastConnection: 1,
    loginAt: 0,
    lastSeenAt,
    heartbeats: 0,
    logins: 1,
  };
}

interface Harness {
  api: ConsoleApi;
  sent: (ConsoleMessage | ReadError)[];
  forwards: { target: ForwardTarget; content: Uint8Array }[];
  behind: { value: boolean };
  replyWith: { status: 'closed' | 'open' | null };
  /** When set, forwards wait for it and then fail as if the concentrator went offline. */
  hold: { value: Promise<void> | undefined };
}

function harness(options: { maxValvesPerConnection?: number; maxSubscriptions?: number } = {}): Harness & {
  session: ReturnType<ConsoleApi['open']>;
} {
  const clock = new VirtualClock({ start: Date.parse('2026-12-05T09:00:00Z') });
  const h: Harness = {
    api: undefined as unknown as ConsoleApi,
    sent: [],
    forwards: [],
    behind: { value: false },
    replyWith: { status: 'closed' },
    hold: { value: undefined },
  };
  const host: ConsoleHost = {
    archive,
    clock,
    sessions: () => [
      session('017102082', 2082, 'online', clock.now() - 5000),
      session('099900001', 1, 'offline', clock.now() - 600_000),
    ],
    forwardToMeter: async (target, content) => {
      h.forwards.push({ target, content });
      if (h.hold.value) {
        await h.hold.value;
        throw new MasterError('CONCENTRATOR_OFFLINE', `concentrator ${target.concentrator} is offline`);
      }
      const request = decodeCjt188Frame(content);
      const status = h.replyWith.status === null ? null : { valve: h.replyWith.status };
      return { content: encodeCjt188(buildWriteReply(request, status)), latencyMs: 301.4 };
    },
    pointRead: async (req) => ({
      concentrator: '017102082',
      meter: req.meter.padStart(14, '0'),
      protocol: 'cjt188',
      value: 1,
      unit: 'm3',
      status: { valve: 'open', batteryLow: true },
      latencyMs: 1,
      readAt: new Date(clock.now()).toISOString(),
    }),
  };
  h.api = new ConsoleApi(host, options);
  const s = h.api.open({
    send: (m) => {
      // Every message the master sends must be one the codecs accept as it is.
      expect(
        'type' in m && m.type === 'error' ? validatePointReadMessage(m) : validateConsoleMessage(m),
      ).toEqual(m);
      h.sent.push(m);
      return !h.behind.value;
    },
  });
  return { ...h, session: s };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ConsoleApi: fleet', () => {
  it('lists the archive, then concentrators that logged in unarchived, with online state and kinds', () => {
    const h = harness();
    h.session.handle({ type: 'fleet', id: 'f1' });
    const answer = h.sent[0];
    expect(answer).toMatchObject({ type: 'fleet', id: 'f1', total: 3, offset: 0 });
    const list = (answer as unknown as { concentrators: Record<string, unknown>[] }).concentrators;
    expect(list.map((c) => [c.id, c.alias, c.online, c.lastHeartbeatAt])).toEqual([
      ['017102082', '101', true, '2026-12-05T08:59:55.000Z'],
      ['017100003', undefined, false, undefined],
      ['099900001', undefined, false, '2026-12-05T08:50:00.000Z'],
    ]);
    expect(list[0].ports).toEqual([
      {
        port: 1,
        meters: [
          { address: '101001', protocol: 'cjt188', kind: 'cold-water', valve: true },
          { address: '101002', protocol: 'cjt188', kind: 'heat', valve: false },
        ],
      },
      {
        port: 2,
        meters: [{ address: '202020202020', protocol: 'dlt645', kind: 'electricity', valve: false }],
      },
    ]);
  });

  it('pages', () => {
    const h = harness();
    h.session.handle({ type: 'fleet', id: 'f', offset: 1, limit: 1 });
    expect(h.sent[0]).toMatchObject({ total: 3, offset: 1, concentrators: [{ id: '017100003' }] });
  });
});

describe('ConsoleApi: valve', () => {
  it('forwards the CJ/T 188 valve command to the archived port and answers the state the meter reports', async () => {
    const h = harness();
    h.session.handle({ type: 'valve', id: 'v1', concentrator: '101', meter: '101001', action: 'close' });
    await settle();
    expect(h.forwards).toHaveLength(1);
    expect(h.forwards[0].target).toMatchObject({ concentrator: '017102082', port: 1 });
    expect(decodeCjt188Frame(h.forwards[0].content).body).toMatchObject({
      di: 'A017',
      data: { command: 'close' },
    });
    expect(h.sent).toEqual([
      {
        type: 'valve-status',
        id: 'v1',
        concentrator: '101',
        meter: '101001',
        valve: 'closed',
        batteryLow: false,
        latencyMs: 301,
        at: '2026-12-05T09:00:00.000Z',
      },
    ]);
  });

  it('reads the meter when its reply carries no status word', async () => {
    const h = harness();
    h.replyWith.status = null;
    h.session.handle({ type: 'valve', id: 'v1', concentrator: '101', meter: '101001', action: 'open' });
    await settle();
    expect(h.sent[0]).toMatchObject({ type: 'valve-status', valve: 'open', batteryLow: true });
  });

  it('answers typed errors for meters without a valve, unknown meters and unknown concentrators', async () => {
    const h = harness();
    const rows: [string, string, string][] = [
      ['101', '101002', 'NO_VALVE'],
      ['101', '202020202020', 'NO_VALVE'],
      ['101', '999', 'UNKNOWN_METER'],
      ['102', '101001', 'UNKNOWN_CONCENTRATOR'],
      ['017100099', '101001', 'UNKNOWN_CONCENTRATOR'],
    ];
    for (const [concentrator, meter] of rows) {
      h.session.handle({
        type: 'valve',
        id: `${concentrator}/${meter}`,
        concentrator,
        meter,
        action: 'close',
      });
    }
    await settle();
    expect(h.forwards).toHaveLength(0);
    expect(h.sent.map((m) => [m.id, (m as ReadError).code])).toEqual(
      rows.map(([c, m, code]) => [`${c}/${m}`, code]),
    );
    expect((h.sent[1] as ReadError).message).toContain('DL/T 645 electricity meter, which has no valve');
  });

  it('passes on the master error of a failed forward, and refuses more than its limit in flight', async () => {
    const h = harness({ maxValvesPerConnection: 1 });
    let fail: () => void = () => {};
    h.hold.value = new Promise<void>((resolve) => {
      fail = resolve;
    });
    h.session.handle({ type: 'valve', id: 'a', concentrator: '101', meter: '101001', action: 'close' });
    h.session.handle({ type: 'valve', id: 'b', concentrator: '101', meter: '101001', action: 'close' });
    expect(h.sent).toEqual([expect.objectContaining({ id: 'b', code: 'BUSY', meter: '101001' })]);
    fail();
    await settle();
    expect(h.sent[1]).toMatchObject({ id: 'a', code: 'CONCENTRATOR_OFFLINE', concentrator: '101' });
    expect(h.session.valvesInFlight).toBe(0);
  });
});

describe('ConsoleApi: frame-log subscriptions', () => {
  const raw = encodeGdw376(
    buildForwardRequest({
      a1: '0171',
      a2: 2082,
      seq: 2,
      port: 1,
      content: '68 10 01 10 00 00 00 00 00 01 03 1F 90 00 C4 16',
    }),
  );
  const passing = {
    at: Date.parse('2026-12-05T09:00:01Z'),
    direction: 'down' as const,
    concentrator: '017102082',
    raw,
    frame: decodeGdw376Frame(raw),
  };

  it('acknowledges, delivers filtered frames, and unsubscribes', () => {
    const h = harness();
    h.session.handle({ type: 'subscribe', id: 's1', stream: 'frames', concentrator: '101' });
    h.session.handle({ type: 'subscribe', id: 's2', stream: 'frames', concentrator: '017100003' });
    expect(h.sent).toEqual([
      { type: 'subscribed', id: 's1', stream: 'frames' },
      { type: 'subscribed', id: 's2', stream: 'frames' },
    ]);
    h.api.frames.publish(passing);
    expect(h.sent[2]).toMatchObject({
      type: 'frame',
      id: 's1',
      concentrator: '017102082',
      afn: 16,
      seq: 2,
      port: 1,
    });
    expect(h.sent).toHaveLength(3);
    h.session.handle({ type: 'unsubscribe', id: 's1' });
    h.session.handle({ type: 'unsubscribe', id: 's1' });
    expect(h.sent.slice(3)).toEqual([
      { type: 'unsubscribed', id: 's1' },
      expect.objectContaining({ type: 'error', id: 's1', code: 'SUBSCRIPTION_CLOSED' }),
    ]);
  });

  it('refuses an unknown concentrator, a reused id and one subscription too many', () => {
    const h = harness({ maxSubscriptions: 1 });
    h.session.handle({ type: 'subscribe', id: 'x', stream: 'frames', concentrator: 'nope' });
    h.session.handle({ type: 'subscribe', id: 's', stream: 'frames' });
    h.session.handle({ type: 'subscribe', id: 's', stream: 'frames' });
    h.session.handle({ type: 'subscribe', id: 't', stream: 'frames' });
    expect(h.sent.map((m) => (m.type === 'error' ? m.code : m.type))).toEqual([
      'UNKNOWN_CONCENTRATOR',
      'subscribed',
      'SUBSCRIPTION_EXISTS',
      'TOO_MANY_SUBSCRIPTIONS',
    ]);
  });

  it('drops a subscriber that falls behind with SLOW_SUBSCRIBER, and ends subscriptions on close', () => {
    const h = harness();
    h.session.handle({ type: 'subscribe', id: 's', stream: 'frames' });
    h.behind.value = true;
    h.api.frames.publish(passing);
    h.api.frames.publish(passing);
    expect(h.sent.map((m) => (m.type === 'error' ? m.code : m.type))).toEqual([
      'subscribed',
      'frame',
      'SLOW_SUBSCRIBER',
    ]);
    expect(h.api.frames.size).toBe(0);
    h.behind.value = false;
    h.session.handle({ type: 'subscribe', id: 's', stream: 'frames' });
    expect(h.api.frames.size).toBe(1);
    h.session.close();
    expect(h.api.frames.size).toBe(0);
  });
});
