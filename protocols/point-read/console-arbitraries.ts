import fc from 'fast-check';
import { concentratorArb, meterArb, readAtArb, requestIdArb } from './arbitraries.ts';
import {
  CONSOLE_STREAMS,
  type ConsoleMessage,
  type FleetAnswer,
  type FleetConcentrator,
  type FleetRequest,
  type FrameEvent,
  MAX_SUMMARY_LENGTH,
  METER_KINDS,
  type SubscribeRequest,
  VALVE_ACTIONS,
  type ValveRequest,
  type ValveStatus,
} from './console-messages.ts';
import { METER_PROTOCOLS, VALVE_STATES } from './types.ts';

/** Property-test arbitraries for `console-messages.ts` (fast-check is a dev dependency: not in the barrel). */

const a1Arb = fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0'));
const a2Arb = fc.integer({ min: 1, max: 65535 });
const kindArb = fc.oneof(
  fc.constantFrom(...METER_KINDS),
  fc.stringMatching(/^[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,6}){0,3}$/),
);

export const fleetConcentratorArb: fc.Arbitrary<FleetConcentrator> = fc
  .record(
    {
      a1: a1Arb,
      a2: a2Arb,
      alias: fc.stringMatching(/^[0-9A-Za-z_.-]{1,32}$/),
      online: fc.boolean(),
      lastHeartbeatAt: readAtArb,
      ports: fc.array(
        fc.record({
          port: fc.integer({ min: 1, max: 31 }),
          meters: fc.array(
            fc.record({
              address: meterArb,
              protocol: fc.constantFrom(...METER_PROTOCOLS),
              kind: kindArb,
              valve: fc.boolean(),
            }),
            { maxLength: 4 },
          ),
        }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['a1', 'a2', 'online', 'ports'] },
  )
  .map(({ a1, a2, alias, online, lastHeartbeatAt, ports }) => ({
    id: `${a1}${String(a2).padStart(5, '0')}`,
    ...(alias === undefined ? {} : { alias }),
    a1,
    a2,
    online,
    ...(lastHeartbeatAt === undefined ? {} : { lastHeartbeatAt }),
    ports,
  }));

export const fleetRequestArb: fc.Arbitrary<FleetRequest> = fc.record(
  {
    type: fc.constant('fleet' as const),
    id: requestIdArb,
    offset: fc.nat(),
    limit: fc.integer({ min: 1, max: 1000 }),
  },
  { requiredKeys: ['type', 'id'] },
);

export const fleetAnswerArb: fc.Arbitrary<FleetAnswer> = fc.record({
  type: fc.constant('fleet' as const),
  id: requestIdArb,
  total: fc.nat(),
  offset: fc.nat(),
  concentrators: fc.array(fleetConcentratorArb, { maxLength: 4 }),
});

export const valveRequestArb: fc.Arbitrary<ValveRequest> = fc.record({
  type: fc.constant('valve' as const),
  id: requestIdArb,
  concentrator: concentratorArb,
  meter: meterArb,
  action: fc.constantFrom(...VALVE_ACTIONS),
});

export const valveStatusArb: fc.Arbitrary<ValveStatus> = fc.record(
  {
    type: fc.constant('valve-status' as const),
    id: requestIdArb,
    concentrator: concentratorArb,
    meter: meterArb,
    valve: fc.constantFrom(...VALVE_STATES),
    batteryLow: fc.boolean(),
    latencyMs: fc.double({ min: 0, max: 1e7, noNaN: true }).map((v) => (v === 0 ? 0 : v)),
    at: readAtArb,
  },
  { requiredKeys: ['type', 'id', 'concentrator', 'meter', 'valve'] },
);

export const subscribeRequestArb: fc.Arbitrary<SubscribeRequest> = fc.record(
  {
    type: fc.constant('subscribe' as const),
    id: requestIdArb,
    stream: fc.constantFrom(...CONSOLE_STREAMS),
    concentrator: concentratorArb,
    meter: meterArb,
  },
  { requiredKeys: ['type', 'id', 'stream'] },
);

const hexArb = fc
  .uint8Array({ maxLength: 64 })
  .map((b) => Array.from(b, (x) => x.toString(16).toUpperCase().padStart(2, '0')).join(' '));

export const frameEventArb: fc.Arbitrary<FrameEvent> = fc.record(
  {
    type: fc.constant('frame' as const),
    id: requestIdArb,
    at: readAtArb,
    concentrator: fc.tuple(a1Arb, a2Arb).map(([a1, a2]) => `${a1}${String(a2).padStart(5, '0')}`),
    direction: fc.constantFrom('down' as const, 'up' as const),
    afn: fc.integer({ min: 0, max: 255 }),
    seq: fc.integer({ min: 0, max: 15 }),
    hex: hexArb,
    truncated: fc.boolean(),
    summary: fc.string({ maxLength: MAX_SUMMARY_LENGTH }),
    meter: meterArb,
    port: fc.integer({ min: 1, max: 31 }),
  },
  { requiredKeys: ['type', 'id', 'at', 'concentrator', 'direction', 'afn', 'hex', 'summary'] },
);

/** Every console message. */
export const consoleMessageArb: fc.Arbitrary<ConsoleMessage> = fc.oneof(
  fleetRequestArb,
  fleetAnswerArb,
  valveRequestArb,
  valveStatusArb,
  subscribeRequestArb,
  fc.record({
    type: fc.constant('subscribed' as const),
    id: requestIdArb,
    stream: fc.constant('frames' as const),
  }),
  frameEventArb,
  fc.record({ type: fc.constant('unsubscribe' as const), id: requestIdArb }),
  fc.record({ type: fc.constant('unsubscribed' as const), id: requestIdArb }),
);
