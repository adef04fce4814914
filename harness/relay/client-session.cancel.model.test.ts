import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientSession, type ClientSocketLike } from './client-session.ts';
import type { UpstreamAnswer } from './master-link.ts';

// Model-based test of a browser's `cancel` (issue 13) with fc.scheduler deciding when each field read ends, so
// cancels cross readings in every order. The client sends reads r0, r1, … and cancels of any id (of a read in
// flight, answered, cancelled or never sent). The model, kept from what the client has seen so far, says what each
// message must produce at once: a cancel of a read still unanswered → that read's one answer, CANCELLED, and the
// read left (withdrawn) exactly once; any other cancel → one BAD_REQUEST without an `id` that names the id. At the
// end every read has exactly one answer, and no read that was answered by the field was ever left.

const MAX_IN_FLIGHT = 4;

interface Sent {
  type: string;
  id?: string;
  code?: string;
  message?: string;
}

class FakeSocket implements ClientSocketLike {
  readonly readyState = 1;
  readonly bufferedAmount = 0;
  readonly sent: Sent[] = [];
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Sent);
  }
  close(): void {}
}

type Action = { kind: 'read' } | { kind: 'cancel'; pick: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.constant<Action>({ kind: 'read' }), weight: 3 },
  { arbitrary: fc.nat(12).map((pick): Action => ({ kind: 'cancel', pick })), weight: 2 },
);

describe(`ClientSession cancel model (FC_SEED=${process.env.FC_SEED})`, () => {
  it('answers every read exactly once and each cancel at once, whatever crosses it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(actionArb, { maxLength: 30 }), async (s, actions) => {
        const socket = new FakeSocket();
        /** How often each read (by meter = read number) was left. */
        const left = new Map<number, number>();
        const session = new ClientSession({
          clientId: 1,
          remote: 'test',
          socket,
          read: (req) => ({
            // The field answers when the scheduler says so.
            result: s.schedule(
              Promise.resolve<UpstreamAnswer>({
                type: 'reading',
                id: 'u',
                concentrator: req.concentrator,
                meter: req.meter,
                value: Number(req.meter),
                unit: 'm3',
              }),
              `field answers ${req.meter}`,
            ),
            shared: false,
            sharers: 1,
            leave: () => left.set(Number(req.meter), (left.get(Number(req.meter)) ?? 0) + 1),
          }),
          maxInFlight: MAX_IN_FLIGHT,
          maxBufferedBytes: 1 << 20,
          log: () => {},
        });
        let reads = 0;
        const cancelledReads = new Set<number>();
        /** The answers seen for a read id so far (counted from the socket, i.e. what the client saw). */
        const answersFor = (id: string) => socket.sent.filter((m) => m.id === id).length;
        const inFlightSeen = () => {
          let n = 0;
          for (let k = 0; k < reads; k++) if (answersFor(`r${k}`) === 0) n++;
          return n;
        };
        s.scheduleSequence(
          actions.map((action) => ({
            label: action.kind === 'read' ? 'read' : `cancel #${action.pick}`,
            builder: async () => {
              const before = socket.sent.length;
              if (action.kind === 'read') {
                const k = reads++;
                const full = inFlightSeen() - 1 >= MAX_IN_FLIGHT;
                session.handle(
                  JSON.stringify({ type: 'read', id: `r${k}`, concentrator: '101', meter: String(k) }),
                );
                if (full) {
                  expect(socket.sent.slice(before)).toEqual([
                    expect.objectContaining({ id: `r${k}`, code: 'QUEUE_FULL' }),
                  ]);
                } else expect(socket.sent.length).toBe(before);
                return;
              }
              const k = action.pick;
              const id = `r${k}`;
              const waiting = k < reads && answersFor(id) === 0;
              session.handle(JSON.stringify({ type: 'cancel', id }));
              const produced = socket.sent.slice(before);
              expect(produced).toHaveLength(1);
              if (waiting) {
                expect(produced[0]).toMatchObject({ type: 'error', id, code: 'CANCELLED' });
                expect(produced[0].message).toContain('the client cancelled the read');
                cancelledReads.add(k);
              } else {
                expect(produced[0]).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
                expect(produced[0].id).toBeUndefined();
                expect(produced[0].message).toContain(JSON.stringify(id));
              }
              expect(session.inFlight).toBe(inFlightSeen());
            },
          })),
        );
        await s.waitAll();
        for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
        for (let k = 0; k < reads; k++) {
          expect([`r${k}`, answersFor(`r${k}`)]).toEqual([`r${k}`, 1]);
          // Left exactly once when cancelled, never when the field's answer came first.
          expect([k, left.get(k) ?? 0]).toEqual([k, cancelledReads.has(k) ? 1 : 0]);
        }
        expect(session.inFlight).toBe(0);
      }),
    );
  });
});
