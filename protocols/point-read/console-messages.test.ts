import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { consoleMessageArb, fleetAnswerArb } from './console-arbitraries.ts';
import {
  encodeConsoleMessage,
  frameHex,
  isConsoleMessageType,
  isConsoleRequest,
  MAX_FRAME_HEX_BYTES,
  parseConsoleMessage,
  validateConsoleMessage,
} from './console-messages.ts';

const j = (v: unknown) => JSON.stringify(v);
const concentrator = {
  id: '017102082',
  alias: '101',
  a1: '0171',
  a2: 2082,
  online: true,
  lastHeartbeatAt: '2026-12-05T09:00:00.000Z',
  ports: [{ port: 1, meters: [{ address: '101001', protocol: 'cjt188', kind: 'cold-water', valve: true }] }],
};
const fleet = { type: 'fleet', id: 'f1', total: 1, offset: 0, concentrators: [concentrator] };
const frame = {
  type: 'frame',
  id: 's1',
  at: '2026-12-05T09:00:00.123Z',
  concentrator: '017102082',
  direction: 'down',
  afn: 16,
  seq: 3,
  hex: '68 32 00 32 00 68',
  summary: 'AFN 10H F1 port 1 → CJ/T 188 read 901F 00000000101001',
  meter: '00000000101001',
  port: 1,
};

describe('validateConsoleMessage: valid messages', () => {
  const rows: [string, unknown][] = [
    ['a fleet request', { type: 'fleet', id: 'f1' }],
    ['a paged fleet request', { type: 'fleet', id: 'f1', offset: 100, limit: 100 }],
    ['a fleet answer', fleet],
    [
      'a fleet answer with an offline concentrator never heard from',
      { ...fleet, concentrators: [{ id: '000100001', a1: '0001', a2: 1, online: false, ports: [] }] },
    ],
    ['a valve request', { type: 'valve', id: 'v1', concentrator: '101', meter: '101001', action: 'close' }],
    [
      'a valve status',
      {
        type: 'valve-status',
        id: 'v1',
        concentrator: '101',
        meter: '101001',
        valve: 'closed',
        batteryLow: false,
        latencyMs: 310,
        at: '2026-12-05T09:00:00.123Z',
      },
    ],
    ['a subscription to every frame', { type: 'subscribe', id: 's1', stream: 'frames' }],
    [
      'a subscription to one meter',
      { type: 'subscribe', id: 's1', stream: 'frames', concentrator: '101', meter: '101001' },
    ],
    ['a subscription ack', { type: 'subscribed', id: 's1', stream: 'frames' }],
    ['a frame event', frame],
    [
      'an empty uplink frame event',
      { ...frame, direction: 'up', hex: '', seq: undefined, meter: undefined, port: undefined },
    ],
    ['an unsubscribe', { type: 'unsubscribe', id: 's1' }],
    ['an unsubscribed', { type: 'unsubscribed', id: 's1' }],
  ];
  for (const [name, value] of rows) {
    it(`accepts ${name}`, () => {
      const expected = JSON.parse(j(value));
      expect(validateConsoleMessage(JSON.parse(j(value)))).toEqual(expected);
      expect(parseConsoleMessage(j(value))).toEqual(expected);
    });
  }

  it('tells requests from answers', () => {
    expect(isConsoleRequest(validateConsoleMessage({ type: 'fleet', id: 'f' }))).toBe(true);
    expect(isConsoleRequest(validateConsoleMessage(fleet))).toBe(false);
    expect(isConsoleRequest(validateConsoleMessage(frame))).toBe(false);
    expect(isConsoleMessageType('valve')).toBe(true);
    expect(isConsoleMessageType('read')).toBe(false);
  });
});

describe('validateConsoleMessage: invalid messages name the field', () => {
  const rows: [string, unknown, string][] = [
    ['a non-object', [1], 'must be a JSON object, got an array'],
    ['an unknown type', { type: 'flet', id: 'x' }, 'unknown "type": "flet"'],
    ['a fleet request with a misspelt field', { type: 'fleet', id: 'f', limt: 3 }, 'unknown field "limt"'],
    ['a fleet page too large', { type: 'fleet', id: 'f', limit: 1001 }, '"limit" must be an integer 1–1000'],
    ['a negative offset', { type: 'fleet', id: 'f', offset: -1 }, '"offset" must be an integer'],
    [
      'a concentrator whose id is not A1+A2',
      { ...fleet, concentrators: [{ ...concentrator, id: '017102083' }] },
      '"concentrators[0].id" "017102083" is not A1 + A2 (017102082)',
    ],
    [
      'a meter with a bad address',
      {
        ...fleet,
        concentrators: [
          {
            ...concentrator,
            ports: [{ port: 1, meters: [{ address: '10x', protocol: 'cjt188', kind: 'gas', valve: true }] }],
          },
        ],
      },
      '"concentrators[0].ports[0].meters[0].address" must be 1–14 decimal digits',
    ],
    [
      'a meter kind in capitals',
      {
        ...fleet,
        concentrators: [
          {
            ...concentrator,
            ports: [{ port: 1, meters: [{ address: '1', protocol: 'cjt188', kind: 'Gas', valve: true }] }],
          },
        ],
      },
      '"concentrators[0].ports[0].meters[0].kind" must be a meter kind',
    ],
    [
      'a port outside 1–31',
      { ...fleet, concentrators: [{ ...concentrator, ports: [{ port: 32, meters: [] }] }] },
      '"concentrators[0].ports[0].port" must be an integer 1–31',
    ],
    [
      'a fleet answer without total',
      { type: 'fleet', id: 'f', offset: 0, concentrators: [] },
      'missing "total"',
    ],
    [
      'a valve action that is not open or close',
      { type: 'valve', id: 'v', concentrator: '101', meter: '1', action: 'toggle' },
      '"action" must be one of "open", "close", got "toggle"',
    ],
    [
      'a valve request without a meter',
      { type: 'valve', id: 'v', concentrator: '101', action: 'open' },
      'missing "meter"',
    ],
    [
      'a valve status with an unknown state',
      { type: 'valve-status', id: 'v', concentrator: '101', meter: '1', valve: 'half' },
      '"valve" must be one of "open", "closed", "abnormal"',
    ],
    [
      'a subscription to an unknown stream',
      { type: 'subscribe', id: 's', stream: 'reads' },
      '"stream" must be one of "frames"',
    ],
    [
      'a subscription with a bad meter filter',
      { type: 'subscribe', id: 's', stream: 'frames', meter: 'abc' },
      '"meter" must be 1–14 decimal digits',
    ],
    [
      'an unsubscribe with extra fields',
      { type: 'unsubscribe', id: 's', stream: 'frames' },
      'unknown field "stream"',
    ],
    ['a frame with lower-case hex', { ...frame, hex: '68 aa' }, '"hex" must be up to 4096 bytes'],
    ['a frame with an AFN above 255', { ...frame, afn: 256 }, '"afn" must be an integer 0–255'],
    ['a frame with a SEQ above 15', { ...frame, seq: 16 }, '"seq" must be an integer 0–15'],
    [
      'a frame with an alias for a concentrator',
      { ...frame, concentrator: '101' },
      '"concentrator" must be A1+A2',
    ],
    [
      'a frame with a long summary',
      { ...frame, summary: 'x'.repeat(513) },
      '"summary" is 513 characters, more than 512',
    ],
    ['a frame going sideways', { ...frame, direction: 'left' }, '"direction" must be one of "down", "up"'],
  ];
  for (const [name, value, problem] of rows) {
    it(`rejects ${name}`, () => {
      let caught: unknown;
      try {
        validateConsoleMessage(value);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ProtocolError);
      expect((caught as ProtocolError).code).toBe('BAD_MESSAGE');
      expect((caught as ProtocolError).message).toContain(problem);
    });
  }

  it('rejects text that is not JSON with BAD_JSON', () => {
    expect(() => parseConsoleMessage('{"type":')).toThrow(expect.objectContaining({ code: 'BAD_JSON' }));
  });
});

describe('frameHex', () => {
  it('writes upper-case pairs separated by spaces', () => {
    expect(frameHex(Uint8Array.of(0x68, 0x0a, 0xff))).toEqual({ hex: '68 0A FF', truncated: false });
    expect(frameHex(new Uint8Array(0))).toEqual({ hex: '', truncated: false });
  });
  it(`cuts at ${MAX_FRAME_HEX_BYTES} bytes and says so`, () => {
    const { hex, truncated } = frameHex(new Uint8Array(MAX_FRAME_HEX_BYTES + 1));
    expect(truncated).toBe(true);
    expect(hex.split(' ')).toHaveLength(MAX_FRAME_HEX_BYTES);
    expect(() => validateConsoleMessage({ ...frame, hex, truncated })).not.toThrow();
  });
});

describe('console messages: properties', () => {
  it('round-trips every message through its encoding', () => {
    fc.assert(
      fc.property(consoleMessageArb, (msg) => {
        const text = encodeConsoleMessage(msg);
        expect(text).not.toContain('\n');
        expect(parseConsoleMessage(text)).toEqual(msg);
        expect(encodeConsoleMessage(parseConsoleMessage(text))).toBe(text);
      }),
    );
  });

  it('gives one encoding whatever the key order of the input', () => {
    fc.assert(
      fc.property(consoleMessageArb, fc.infiniteStream(fc.double()), (msg, noise) => {
        const shuffle = (value: unknown): unknown => {
          if (Array.isArray(value)) return value.map(shuffle);
          if (value === null || typeof value !== 'object') return value;
          const entries = Object.entries(value).map(([k, v]) => [k, shuffle(v)] as const);
          const it = noise[Symbol.iterator]();
          entries.sort(() => (it.next().value as number) - 0.5);
          return Object.fromEntries(entries);
        };
        expect(encodeConsoleMessage(validateConsoleMessage(shuffle(msg)))).toBe(encodeConsoleMessage(msg));
      }),
    );
  });

  it('refuses any unknown field, at the top and inside the fleet', () => {
    fc.assert(
      fc.property(consoleMessageArb, fc.stringMatching(/^[a-z]{1,8}X$/), (msg, key) => {
        expect(() => validateConsoleMessage({ ...msg, [key]: 1 })).toThrow(`unknown field "${key}"`);
      }),
    );
    fc.assert(
      fc.property(
        fleetAnswerArb.filter((a) => a.concentrators.length > 0),
        (answer) => {
          const bad = { ...answer, concentrators: [{ ...answer.concentrators[0], extraX: true }] };
          expect(() => validateConsoleMessage(bad)).toThrow('unknown field "concentrators[0].extraX"');
        },
      ),
    );
  });

  it('never throws anything but a ProtocolError, whatever the JSON', () => {
    const typed = fc.record(
      {
        type: fc.constantFrom(
          'fleet',
          'valve',
          'valve-status',
          'subscribe',
          'subscribed',
          'frame',
          'unsubscribe',
        ),
        id: fc.oneof(fc.string(), fc.integer()),
        concentrators: fc.array(fc.jsonValue(), { maxLength: 3 }),
        concentrator: fc.jsonValue(),
        meter: fc.jsonValue(),
        hex: fc.jsonValue(),
        afn: fc.jsonValue(),
      },
      { requiredKeys: ['type'] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), typed), (value) => {
        try {
          validateConsoleMessage(value);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});
