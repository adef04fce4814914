import { describe, expect, it } from 'vitest';
import { CLOSE_SLOW_READER, ClientSession, type ClientSocketLike } from './client-session.ts';
import type { RelayLogEntry } from './log.ts';
import type { UpstreamAnswer, UpstreamRead } from './master-link.ts';

class FakeSocket implements ClientSocketLike {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: unknown[] = [];
  closedWith: [number | undefined, string | undefined] | undefined;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closedWith = [code, reason];
    this.readyState = 2;
  }
}

function session(
  socket: FakeSocket,
  answer: (req: UpstreamRead) => Promise<UpstreamAnswer>,
  maxInFlight = 10,
) {
  const logs: RelayLogEntry[] = [];
  const s = new ClientSession({
    clientId: 1,
    remote: 'test',
    socket,
    read: (req) => ({ result: answer(req), shared: false, sharers: 1, leave: () => {} }),
    maxInFlight,
    maxBufferedBytes: 1000,
    log: (e) => logs.push(e),
  });
  return { s, logs };
}

const reading = (req: UpstreamRead): UpstreamAnswer => ({
  type: 'reading',
  id: 'u1',
  concentrator: req.concentrator,
  meter: req.meter,
  value: 1,
  unit: 'm3',
});

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('ClientSession', () => {
  it('closes a slow reader with 1013 and drops the answer instead of buffering it', async () => {
    const socket = new FakeSocket();
    const { s, logs } = session(socket, async (req) => reading(req));
    s.handle('{"type":"read","id":"a","concentrator":"101","meter":"1"}');
    await flush();
    expect(socket.sent).toHaveLength(1);
    socket.bufferedAmount = 1001;
    s.handle('{"type":"read","id":"b","concentrator":"101","meter":"1"}');
    await flush();
    expect(socket.sent).toHaveLength(1);
    expect(socket.closedWith?.[0]).toBe(CLOSE_SLOW_READER);
    expect(logs.some((e) => e.event === 'slow-client')).toBe(true);
    expect(s.open).toBe(false);
    // Nothing more is read from it either.
    s.handle('{"type":"read","id":"c","concentrator":"101","meter":"1"}');
    await flush();
    expect(socket.sent).toHaveLength(1);
  });

  it('drops (and logs) answers for a client that has gone', async () => {
    const socket = new FakeSocket();
    let release: () => void = () => {};
    const { s, logs } = session(
      socket,
      (req) =>
        new Promise((resolve) => {
          release = () => resolve(reading(req));
        }),
    );
    s.handle('{"type":"read","id":"a","concentrator":"101","meter":"1"}');
    s.closed();
    release();
    await flush();
    expect(socket.sent).toEqual([]);
    expect(logs.some((e) => e.event === 'answer-dropped')).toBe(true);
    expect(s.inFlight).toBe(0);
  });

  it('answers legacy QUEUE_FULL in the legacy shape', async () => {
    const socket = new FakeSocket();
    const { s } = session(socket, () => new Promise(() => {}), 1);
    const legacy =
      '{"ModuleName":"ClickToCopy","Content":{"ConcentratorNo":"101","WaterMtrAddress":"101001"}}';
    s.handle(legacy);
    s.handle(legacy);
    await flush();
    // Issue 14 item 1: the flat legacy shape (it was the request's envelope with Content.Error).
    expect(socket.sent).toEqual([
      {
        ConcentratorNo: '101',
        WaterMtrAddress: '101001',
        AccumVal: null,
        IsDownCommand: true,
        ErrorCode: 'QUEUE_FULL',
        ErrorMsg: expect.stringContaining('maxInFlightPerClient'),
      },
    ]);
  });

  it('leaves the reads it still waits for when its client goes, and only those (issue 13 item 5)', async () => {
    const socket = new FakeSocket();
    const left: string[] = [];
    const releases = new Map<string, () => void>();
    const s = new ClientSession({
      clientId: 1,
      remote: 'test',
      socket,
      read: (req) => ({
        result: new Promise<UpstreamAnswer>((resolve) =>
          releases.set(req.meter, () => resolve(reading(req))),
        ),
        shared: false,
        sharers: 1,
        leave: () => left.push(req.meter),
      }),
      maxInFlight: 10,
      maxBufferedBytes: 1000,
      log: () => {},
    });
    for (const meter of ['1', '2', '3']) {
      s.handle(`{"type":"read","id":"r${meter}","concentrator":"101","meter":"${meter}"}`);
    }
    releases.get('2')?.();
    await flush();
    s.closed();
    s.closed();
    expect(left.sort()).toEqual(['1', '3']);
  });
});
