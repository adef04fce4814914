/**
 * The web console's messages (issue 12), beside the point-read `read`: list the fleet, drive a meter's valve, and
 * follow the frame log. Pure codecs in the style of `validate.ts`: a parsed JSON value in, the message out with
 * its keys in the canonical order, or a ProtocolError BAD_MESSAGE naming the JSON path and the problem.
 *
 * | request                                                        | answer(s)                                      |
 * | -------------------------------------------------------------- | ---------------------------------------------- |
 * | `{"type":"fleet","id"[,"offset","limit"]}`                     | `{"type":"fleet","id","total","offset","concentrators":[…]}` |
 * | `{"type":"valve","id","concentrator","meter","action"}`        | `{"type":"valve-status","id","concentrator","meter","valve",…}` |
 * | `{"type":"subscribe","id","stream":"frames"[,"concentrator","meter"]}` | `{"type":"subscribed","id","stream"}`, then `{"type":"frame","id",…}` events |
 * | `{"type":"unsubscribe","id"}`                                  | `{"type":"unsubscribed","id"}`                 |
 *
 * Failures are the point-read `error` message (`{"type":"error","id","code","message"}`) with the codes of
 * {@link CONSOLE_ERROR_CODES}. A `fleet` request and its answer share the type; the answer is the one with
 * `concentrators`.
 */
import { ProtocolError } from '../errors.ts';
import * as f from './fields.ts';
import { METER_PROTOCOLS, type MeterProtocol, VALVE_STATES, type ValveState } from './types.ts';

/** Every `type` this module reads. */
export const CONSOLE_MESSAGE_TYPES = [
  'fleet',
  'valve',
  'valve-status',
  'subscribe',
  'subscribed',
  'frame',
  'unsubscribe',
  'unsubscribed',
] as const;
export type ConsoleMessageType = (typeof CONSOLE_MESSAGE_TYPES)[number];

/**
 * Error codes of the console's requests, beside the point-read ones (UNKNOWN_CONCENTRATOR, UNKNOWN_METER,
 * CONCENTRATOR_OFFLINE, METER_TIMEOUT, BAD_REPLY, BUSY, BAD_REQUEST keep their meanings):
 *
 * | code                   | meaning                                                                  |
 * | ---------------------- | ------------------------------------------------------------------------ |
 * | NO_VALVE               | a valve request for a meter that has no valve (DL/T 645, heat meters)    |
 * | SUBSCRIPTION_CLOSED    | `unsubscribe` of an id that names no open subscription                   |
 * | SUBSCRIPTION_EXISTS    | `subscribe` with the id of a subscription that is still open              |
 * | TOO_MANY_SUBSCRIPTIONS | the master's subscription limit is reached                               |
 * | SLOW_SUBSCRIBER        | the subscriber did not keep up; its subscription is closed (no more frames) |
 */
export const CONSOLE_ERROR_CODES = [
  'NO_VALVE',
  'SUBSCRIPTION_CLOSED',
  'SUBSCRIPTION_EXISTS',
  'TOO_MANY_SUBSCRIPTIONS',
  'SLOW_SUBSCRIBER',
] as const;
export type ConsoleErrorCode = (typeof CONSOLE_ERROR_CODES)[number];

/**
 * Meter kinds the fleet names (the scenario's kinds, docs/cjt188.md §1.3 for CJ/T 188 meter types). Decoding
 * also accepts any other lower-case kebab word of at most 32 characters, so a newer peer's kind is not
 * refused.
 */
export const METER_KINDS = ['cold-water', 'hot-water', 'gas', 'heat', 'electricity'] as const;
export type MeterKindName = (typeof METER_KINDS)[number] | (string & {});

/** Valve commands: CJ/T 188 write A017 with 55H (open) or 99H (close) (docs/cjt188.md §1.11). */
export const VALVE_ACTIONS = ['open', 'close'] as const;
export type ValveAction = (typeof VALVE_ACTIONS)[number];

/** Streams a client can subscribe to. */
export const CONSOLE_STREAMS = ['frames'] as const;
export type ConsoleStream = (typeof CONSOLE_STREAMS)[number];

/** Frame directions as the master sees them: `down` master → concentrator, `up` concentrator → master. */
export const FRAME_DIRECTIONS = ['down', 'up'] as const;
export type FrameDirection = (typeof FRAME_DIRECTIONS)[number];

/** Concentrators in one fleet answer, at most. @see FleetRequest.limit */
export const MAX_FLEET_PAGE = 1000;
/** Meters on one port of a fleet answer, at most (a 376.1 port's archive is far smaller in practice). */
export const MAX_METERS_PER_PORT = 4096;
/** Longest `summary` of a frame event, characters. */
export const MAX_SUMMARY_LENGTH = 512;
/** Most frame bytes in a frame event's `hex` (longer frames are cut and marked `truncated`). */
export const MAX_FRAME_HEX_BYTES = 4096;

/** List the concentrators the master knows (archive and sessions), a page at a time. */
export interface FleetRequest {
  type: 'fleet';
  id: string;
  /** First concentrator of the page (in the master's order). @defaultValue 0 */
  offset?: number;
  /** Concentrators in the page, 1–{@link MAX_FLEET_PAGE}. @defaultValue the master's page size (100) */
  limit?: number;
}

export interface FleetMeter {
  /** As the archive writes it (decimal digits). */
  address: string;
  protocol: MeterProtocol;
  kind: MeterKindName;
  /** Whether the meter has a valve the master can drive (a `valve` request for it is not NO_VALVE). */
  valve: boolean;
}

export interface FleetPort {
  /** Concentrator port 1–31 (Q/GDW 1376.1 AFN 10H F1 "终端通信端口号"). */
  port: number;
  meters: FleetMeter[];
}

export interface FleetConcentrator {
  /** A1 + A2, nine digits. */
  id: string;
  alias?: string;
  /** Area code, 4 digits. */
  a1: string;
  /** Terminal address 1–65535. */
  a2: number;
  /** Whether it has a live session with the master now. */
  online: boolean;
  /** When the master last heard from it (login, heartbeat or any frame), ISO 8601; absent if never. */
  lastHeartbeatAt?: string;
  ports: FleetPort[];
}

export interface FleetAnswer {
  type: 'fleet';
  id: string;
  /** Concentrators the master knows in all. */
  total: number;
  /** Index of the first concentrator of this page. */
  offset: number;
  concentrators: FleetConcentrator[];
}

/** Open or close a meter's valve: a 376.1 AFN 10 F1 forward of CJ/T 188 C=04 DI A017. */
export interface ValveRequest {
  type: 'valve';
  id: string;
  concentrator: string;
  meter: string;
  action: ValveAction;
}

/** The valve state the meter reported after the command (its ST word, CJ/T 188, docs/cjt188.md §1.8). */
export interface ValveStatus {
  type: 'valve-status';
  id: string;
  concentrator: string;
  meter: string;
  valve: ValveState;
  batteryLow?: boolean;
  /** Forward request to reply, ms. */
  latencyMs?: number;
  /** When the reply arrived, ISO 8601. */
  at?: string;
}

/** Follow the frames passing the master, optionally only one concentrator's or one meter's. */
export interface SubscribeRequest {
  type: 'subscribe';
  id: string;
  stream: ConsoleStream;
  /** Only frames of this concentrator (9-digit id or alias). */
  concentrator?: string;
  /** Only frames that carry this meter's frame (address digits, compared without leading zeros). */
  meter?: string;
}

/** The subscription is open; frame events with its id follow. */
export interface Subscribed {
  type: 'subscribed';
  id: string;
  stream: ConsoleStream;
}

/** One frame of the 376.1 chain as it passed the master, with the meter frame it carries, if any. */
export interface FrameEvent {
  type: 'frame';
  /** The subscription's id. */
  id: string;
  /** When the master sent or received it, ISO 8601. */
  at: string;
  /** A1 + A2, nine digits. */
  concentrator: string;
  direction: FrameDirection;
  /** Application function code AFN, 0–255 (e.g. 2 link check, 16 = 10H data forwarding). */
  afn: number;
  /** Sequence number PSEQ/RSEQ, 0–15 (docs/gdw376.md §3.2 SEQ), when the frame decoded. */
  seq?: number;
  /** The frame's bytes, upper-case hex separated by spaces (at most {@link MAX_FRAME_HEX_BYTES} bytes). */
  hex: string;
  /** True when `hex` was cut at {@link MAX_FRAME_HEX_BYTES} bytes. */
  truncated?: boolean;
  /** One line for humans, e.g. `AFN 10H F1 port 1 → CJ/T 188 read 901F 00000000101001`. */
  summary: string;
  /** The meter whose frame this one carries (AFN 10 forwards), as the meter frame writes it. */
  meter?: string;
  /** The concentrator port of a forward. */
  port?: number;
}

export interface UnsubscribeRequest {
  type: 'unsubscribe';
  id: string;
}

export interface Unsubscribed {
  type: 'unsubscribed';
  id: string;
}

/** Every console message, discriminated on `type` (a fleet answer is the `fleet` with `concentrators`). */
export type ConsoleMessage =
  | FleetRequest
  | FleetAnswer
  | ValveRequest
  | ValveStatus
  | SubscribeRequest
  | Subscribed
  | FrameEvent
  | UnsubscribeRequest
  | Unsubscribed;

/** The console's requests (what a browser sends). */
export type ConsoleRequest = FleetRequest | ValveRequest | SubscribeRequest | UnsubscribeRequest;

/** True when `type` is a console message type (so the caller hands the message to this module). */
export function isConsoleMessageType(type: unknown): type is ConsoleMessageType {
  return typeof type === 'string' && (CONSOLE_MESSAGE_TYPES as readonly string[]).includes(type);
}

/** True for the requests a client sends (as opposed to answers and events). */
export function isConsoleRequest(msg: ConsoleMessage): msg is ConsoleRequest {
  return (
    (msg.type === 'fleet' && !('concentrators' in msg)) ||
    msg.type === 'valve' ||
    msg.type === 'subscribe' ||
    msg.type === 'unsubscribe'
  );
}

/**
 * Checks a parsed JSON value and returns the console message it is, rebuilt with its keys in the canonical
 * order and absent optional fields left out. Unknown fields are refused, as in v1 point-read messages.
 * @throws ProtocolError BAD_MESSAGE naming the JSON path and the problem.
 */
export function validateConsoleMessage(value: unknown): ConsoleMessage {
  if (!f.isObject(value)) {
    throw new ProtocolError('BAD_MESSAGE', `a console message must be a JSON object, got ${f.show(value)}`);
  }
  const type = f.string(value, 'type', '');
  switch (type) {
    case 'fleet':
      return Object.hasOwn(value, 'concentrators') ? validateFleetAnswer(value) : validateFleetRequest(value);
    case 'valve':
      return validateValve(value);
    case 'valve-status':
      return validateValveStatus(value);
    case 'subscribe':
      return validateSubscribe(value);
    case 'subscribed':
      f.rejectUnknownKeys(value, '', ['type', 'id', 'stream'], 'a "subscribed" message');
      return { type: 'subscribed', id: f.requestId(value, 'id', ''), stream: stream(value, 'stream', '') };
    case 'frame':
      return validateFrame(value);
    case 'unsubscribe':
      f.rejectUnknownKeys(value, '', ['type', 'id'], 'an "unsubscribe" message');
      return { type: 'unsubscribe', id: f.requestId(value, 'id', '') };
    case 'unsubscribed':
      f.rejectUnknownKeys(value, '', ['type', 'id'], 'an "unsubscribed" message');
      return { type: 'unsubscribed', id: f.requestId(value, 'id', '') };
    default:
      throw new ProtocolError(
        'BAD_MESSAGE',
        `unknown "type": ${f.show(type)} (expected one of ${CONSOLE_MESSAGE_TYPES.map((t) => `"${t}"`).join(', ')})`,
      );
  }
}

/**
 * Parses one console message from JSON text.
 * @throws ProtocolError BAD_JSON (not JSON) or BAD_MESSAGE (see {@link validateConsoleMessage}).
 */
export function parseConsoleMessage(text: string): ConsoleMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(
      'BAD_JSON',
      `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return validateConsoleMessage(value);
}

/**
 * One line of JSON (no newline), keys in the canonical order; validated first, so it parses back equal.
 * @throws ProtocolError BAD_MESSAGE if `msg` is not a valid message.
 */
export function encodeConsoleMessage(msg: ConsoleMessage): string {
  return JSON.stringify(validateConsoleMessage(msg));
}

/** Upper-case hex, one space between bytes, as the frame log shows it; at most `maxBytes` bytes. */
export function frameHex(
  bytes: Uint8Array,
  maxBytes = MAX_FRAME_HEX_BYTES,
): { hex: string; truncated: boolean } {
  const n = Math.min(bytes.length, maxBytes);
  const parts: string[] = new Array(n);
  for (let i = 0; i < n; i++) parts[i] = HEX[bytes[i]];
  return { hex: parts.join(' '), truncated: bytes.length > maxBytes };
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

// ---- validators (fields in canonical order, so the first problem reported is the first in that order) ----

const protocol = f.oneOf(METER_PROTOCOLS);
const valve = f.oneOf(VALVE_STATES);
const action = f.oneOf(VALVE_ACTIONS);
const stream = f.oneOf(CONSOLE_STREAMS);
const direction = f.oneOf(FRAME_DIRECTIONS);

function setDefined<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}

function integer(min: number, max: number) {
  return (obj: f.JsonObject, key: string, base: string): number => {
    const value = obj[key];
    if (value === undefined) throw new ProtocolError('BAD_MESSAGE', `missing "${f.join(base, key)}"`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      f.fail(f.join(base, key), `must be an integer ${min}–${max}, got ${f.show(value)}`);
    }
    return value;
  };
}

function array(obj: f.JsonObject, key: string, base: string, max: number): unknown[] {
  const value = obj[key];
  if (!Array.isArray(value)) f.fail(f.join(base, key), `must be an array, got ${f.show(value)}`);
  if (value.length > max) f.fail(f.join(base, key), `has ${value.length} entries, more than ${max}`);
  return value;
}

function element(value: unknown, path: string): f.JsonObject {
  if (!f.isObject(value)) f.fail(path, `must be an object, got ${f.show(value)}`);
  return value;
}

const KIND = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function kind(obj: f.JsonObject, key: string, base: string): string {
  const value = f.string(obj, key, base);
  if (value.length > 32 || !KIND.test(value)) {
    f.fail(
      f.join(base, key),
      `must be a meter kind such as "cold-water" (lower-case words joined by "-"), got ${f.show(value)}`,
    );
  }
  return value;
}

const A1 = /^\d{4}$/;
const NINE_DIGITS = /^\d{9}$/;
const ALIAS = /^[0-9A-Za-z_.-]{1,32}$/;

function boundedText(max: number) {
  return (obj: f.JsonObject, key: string, base: string): string => {
    const value = f.string(obj, key, base);
    if (value.length > max) f.fail(f.join(base, key), `is ${value.length} characters, more than ${max}`);
    return value;
  };
}

const HEX_TEXT = /^(?:[0-9A-F]{2}(?: [0-9A-F]{2})*)?$/;

function hexText(obj: f.JsonObject, key: string, base: string): string {
  const value = f.string(obj, key, base);
  if (value.length > MAX_FRAME_HEX_BYTES * 3 - 1 || !HEX_TEXT.test(value)) {
    f.fail(
      f.join(base, key),
      `must be up to ${MAX_FRAME_HEX_BYTES} bytes as upper-case hex pairs separated by single spaces, got ${f.show(value)}`,
    );
  }
  return value;
}

function validateFleetRequest(o: f.JsonObject): FleetRequest {
  f.rejectUnknownKeys(o, '', ['type', 'id', 'offset', 'limit'], 'a "fleet" request');
  const msg: FleetRequest = { type: 'fleet', id: f.requestId(o, 'id', '') };
  setDefined(msg, 'offset', f.optional(o, 'offset', '', integer(0, Number.MAX_SAFE_INTEGER)));
  setDefined(msg, 'limit', f.optional(o, 'limit', '', integer(1, MAX_FLEET_PAGE)));
  return msg;
}

function validateFleetAnswer(o: f.JsonObject): FleetAnswer {
  f.rejectUnknownKeys(o, '', ['type', 'id', 'total', 'offset', 'concentrators'], 'a "fleet" answer');
  const id = f.requestId(o, 'id', '');
  const total = integer(0, Number.MAX_SAFE_INTEGER)(o, 'total', '');
  const offset = integer(0, Number.MAX_SAFE_INTEGER)(o, 'offset', '');
  const list = array(o, 'concentrators', '', MAX_FLEET_PAGE);
  const concentrators = list.map((c, i) =>
    validateFleetConcentrator(element(c, `concentrators[${i}]`), `concentrators[${i}]`),
  );
  return { type: 'fleet', id, total, offset, concentrators };
}

function validateFleetConcentrator(c: f.JsonObject, at: string): FleetConcentrator {
  f.rejectUnknownKeys(
    c,
    at,
    ['id', 'alias', 'a1', 'a2', 'online', 'lastHeartbeatAt', 'ports'],
    'a fleet concentrator',
  );
  const id = f.string(c, 'id', at);
  if (!NINE_DIGITS.test(id)) f.fail(f.join(at, 'id'), `must be A1+A2 as 9 digits, got ${f.show(id)}`);
  const alias = f.optional(c, 'alias', at, f.string);
  if (alias !== undefined && !ALIAS.test(alias)) {
    f.fail(f.join(at, 'alias'), `must be 1–32 characters [0-9A-Za-z_.-], got ${f.show(alias)}`);
  }
  const a1 = f.string(c, 'a1', at);
  if (!A1.test(a1)) f.fail(f.join(at, 'a1'), `must be 4 digits, got ${f.show(a1)}`);
  const a2 = integer(1, 65535)(c, 'a2', at);
  if (id !== `${a1}${String(a2).padStart(5, '0')}`) {
    f.fail(f.join(at, 'id'), `${f.show(id)} is not A1 + A2 (${a1}${String(a2).padStart(5, '0')})`);
  }
  const online = f.boolean(c, 'online', at);
  const lastHeartbeatAt = f.optional(c, 'lastHeartbeatAt', at, f.isoInstant);
  const ports = array(c, 'ports', at, 31).map((p, j) =>
    validateFleetPort(element(p, `${at}.ports[${j}]`), `${at}.ports[${j}]`),
  );
  return {
    id,
    ...(alias === undefined ? {} : { alias }),
    a1,
    a2,
    online,
    ...(lastHeartbeatAt === undefined ? {} : { lastHeartbeatAt }),
    ports,
  };
}

function validateFleetPort(p: f.JsonObject, at: string): FleetPort {
  f.rejectUnknownKeys(p, at, ['port', 'meters'], 'a fleet port');
  const port = f.port(p, 'port', at);
  const meters = array(p, 'meters', at, MAX_METERS_PER_PORT).map((m, k) => {
    const mat = `${at}.meters[${k}]`;
    const o = element(m, mat);
    f.rejectUnknownKeys(o, mat, ['address', 'protocol', 'kind', 'valve'], 'a fleet meter');
    return {
      address: f.meter(o, 'address', mat),
      protocol: protocol(o, 'protocol', mat),
      kind: kind(o, 'kind', mat),
      valve: f.boolean(o, 'valve', mat),
    };
  });
  return { port, meters };
}

function validateValve(o: f.JsonObject): ValveRequest {
  f.rejectUnknownKeys(o, '', ['type', 'id', 'concentrator', 'meter', 'action'], 'a "valve" request');
  return {
    type: 'valve',
    id: f.requestId(o, 'id', ''),
    concentrator: f.concentrator(o, 'concentrator', ''),
    meter: f.meter(o, 'meter', ''),
    action: action(o, 'action', ''),
  };
}

function validateValveStatus(o: f.JsonObject): ValveStatus {
  f.rejectUnknownKeys(
    o,
    '',
    ['type', 'id', 'concentrator', 'meter', 'valve', 'batteryLow', 'latencyMs', 'at'],
    'a "valve-status" message',
  );
  const msg: ValveStatus = {
    type: 'valve-status',
    id: f.requestId(o, 'id', ''),
    concentrator: f.concentrator(o, 'concentrator', ''),
    meter: f.meter(o, 'meter', ''),
    valve: valve(o, 'valve', ''),
  };
  setDefined(msg, 'batteryLow', f.optional(o, 'batteryLow', '', f.boolean));
  setDefined(msg, 'latencyMs', f.optional(o, 'latencyMs', '', f.nonNegative));
  setDefined(msg, 'at', f.optional(o, 'at', '', f.isoInstant));
  return msg;
}

function validateSubscribe(o: f.JsonObject): SubscribeRequest {
  f.rejectUnknownKeys(o, '', ['type', 'id', 'stream', 'concentrator', 'meter'], 'a "subscribe" request');
  const msg: SubscribeRequest = {
    type: 'subscribe',
    id: f.requestId(o, 'id', ''),
    stream: stream(o, 'stream', ''),
  };
  setDefined(msg, 'concentrator', f.optional(o, 'concentrator', '', f.concentrator));
  setDefined(msg, 'meter', f.optional(o, 'meter', '', f.meter));
  return msg;
}

function validateFrame(o: f.JsonObject): FrameEvent {
  f.rejectUnknownKeys(
    o,
    '',
    [
      'type',
      'id',
      'at',
      'concentrator',
      'direction',
      'afn',
      'seq',
      'hex',
      'truncated',
      'summary',
      'meter',
      'port',
    ],
    'a "frame" event',
  );
  const id = f.requestId(o, 'id', '');
  const at = f.isoInstant(o, 'at', '');
  const concentrator = f.string(o, 'concentrator', '');
  if (!NINE_DIGITS.test(concentrator)) {
    f.fail('concentrator', `must be A1+A2 as 9 digits, got ${f.show(concentrator)}`);
  }
  const dir = direction(o, 'direction', '');
  const afn = integer(0, 255)(o, 'afn', '');
  const seq = f.optional(o, 'seq', '', integer(0, 15));
  const hex = hexText(o, 'hex', '');
  const truncated = f.optional(o, 'truncated', '', f.boolean);
  const summary = boundedText(MAX_SUMMARY_LENGTH)(o, 'summary', '');
  const meter = f.optional(o, 'meter', '', f.meter);
  const port = f.optional(o, 'port', '', f.port);
  return {
    type: 'frame',
    id,
    at,
    concentrator,
    direction: dir,
    afn,
    ...(seq === undefined ? {} : { seq }),
    hex,
    ...(truncated === undefined ? {} : { truncated }),
    summary,
    ...(meter === undefined ? {} : { meter }),
    ...(port === undefined ? {} : { port }),
  };
}
