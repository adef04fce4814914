import { sum8 } from '../../../protocols/bytes.ts';
import { buildForwardRequest, encodeGdw376 } from '../../../protocols/gdw376/index.ts';
import { isMeterProtocolName, type MeterProtocolName, meterProtocol } from '../../../protocols/registry.ts';
import {
  type Bad,
  caseFields,
  gradeRule,
  hexToken,
  isObject,
  loadCaseFolders,
  readRoleCaseFile,
  SILENCE_GRADES,
} from '../data-cases.ts';
import {
  compileGdw376,
  type Gdw376Extra,
  type Gdw376Token,
  type Gdw376Values,
  gdw376Bytes,
  matchesGdw376,
  terminalBytes,
} from '../gdw376-pattern.ts';
import { addressBytes } from '../meter/meter-wire.ts';
import type { Verdict } from '../runner.ts';
import type { Grade } from '../types.ts';
import type { ConcentratorCase } from './concentrator-cases.ts';
import { type ConcentratorCaseContext, isResponse } from './concentrator-context.ts';

/**
 * Concentrator cases as data (the meter, master and relay roles' request/expected-answer files, for a 376.1
 * terminal): what meterlab, as the master station, sends, and the answer the concentrator must give as a
 * spaced-hex frame pattern with wildcards and placeholders, so a user adds cases for a terminal's quirks without
 * code (`--cases-dir DIR`).
 *
 * File: `{ "role": "concentrator", "protocol": "gdw376", "cases": [ … ] }`; each case:
 * - `id`, `title`, `clause` (and `reason` when the clause is field practice);
 * - `meters`: `"cjt188"` or `"dlt645"` when the case only holds for meters of that protocol (skipped otherwise);
 * - `send`: what the master sends, either
 *   - `{ "forward": { "meter", "port", "request", "frameTimeout" } }`: an AFN 10H F1 transparent forward
 *     (docs/gdw376.md §3.4) built by meterlab: `meter` is `"{meter}"` (the first of `--meters`), `"{absent}"`
 *     (a meter not behind the concentrator) or an address; `port` is `"{port}"` (`--forward-port`, the
 *     default), `"{absentPort}"` (`--absent-port`) or 1–31; `request` the meter frame to forward (hex with
 *     `{ADDR}` and `{CS}`; default: the meter protocol's everyday read); `frameTimeout` seconds 1–127
 *     (default `--frame-timeout`); or
 *   - a frame pattern to send as written (tokens `{L}`, `{L1}`, `{A}`, `{SEQ:x}`, `{CS}`, gdw376-pattern.ts);
 * - `expect`: the pattern of the concentrator's first response (an uplink frame with PRM = 0) after it, or
 *   `null` when it must send none; tokens of gdw376-pattern.ts, with `{PORT}`, `{ADDR}`, `{K}` and `{MCS}` for a
 *   forward;
 * - `nonStrict`, `unimplemented`: lists of `{ "expect": …, "why": … }` graded so instead of failing;
 * - `silence`: `{ "grade": …, "why": … }`: the grade when no response comes (default fail, pass when `expect` is
 *   null). A forward's response is awaited for its frame timeout plus `--reply-wait`; a raw frame's for
 *   `--reply-wait`.
 * Built-in cases: `fixtures/conformance/gdw376-concentrator/` (a folder of their own: the meter role reads the
 * top level of fixtures/conformance/ and refuses other roles' files).
 * @packageDocumentation
 */

/** The built-in concentrator data cases. */
export const BUILTIN_CONCENTRATOR_CASES_DIR = new URL(
  '../../../fixtures/conformance/gdw376-concentrator/',
  import.meta.url,
).pathname;

/** A meter frame to forward: hex bytes, the meter's address, its checksum. */
type MeterToken = { kind: 'byte'; value: number } | { kind: 'addr' } | { kind: 'cs' };

/** An AFN 10H F1 forward, as a case gives it. */
interface ForwardSpec {
  meter: '{meter}' | '{absent}' | string;
  port: '{port}' | '{absentPort}' | number;
  request?: MeterToken[];
  frameTimeoutS?: number;
}

/** One data case as read from a file, checked. */
export interface ConcentratorDataCaseSpec {
  id: string;
  title: string;
  clause: string;
  reason?: string;
  meters?: MeterProtocolName;
  send: { forward: ForwardSpec } | { frame: Gdw376Token[] };
  expect: Gdw376Token[] | null;
  alternatives: { grade: Grade; tokens: Gdw376Token[]; why: string }[];
  silence: { grade: Grade; why: string };
}

const KEYS = new Set([
  'id',
  'title',
  'clause',
  'reason',
  'meters',
  'send',
  'expect',
  'nonStrict',
  'unimplemented',
  'silence',
]);
const FORWARD_KEYS = new Set(['meter', 'port', 'request', 'frameTimeout']);
const FORWARD_EXTRAS: readonly Gdw376Extra[] = ['port', 'addr', 'k', 'mcs'];

/**
 * The concentrator data cases in every `*.json` of `dirs` (other roles' files are skipped).
 * @throws ConformanceError CONFORM_BAD_CASE_FILE naming the file and the JSON path (with the case's id).
 */
export function loadConcentratorDataCases(dirs: readonly string[]): ConcentratorCase[] {
  return loadCaseFolders(dirs, loadConcentratorCaseFile);
}

/** The concentrator cases of one file (none when the file is for another role). */
export function loadConcentratorCaseFile(file: string): ConcentratorCase[] {
  const read = readRoleCaseFile(file, 'concentrator', ['gdw376'], '$');
  if (read === undefined) return [];
  return read.cases.map((c, i) => dataCase(checkSpec(c, `$.cases[${i}]`, read.bad), read.origin));
}

/** Checks one case. @throws via `bad`, naming the JSON path and, when it has one, the case's id. */
export function checkSpec(value: unknown, at: string, fileBad: Bad): ConcentratorDataCaseSpec {
  const { c, bad, path } = caseFields(value, at, fileBad, KEYS);
  for (const key of ['id', 'title', 'clause'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '') throw bad(path(`.${key}`), 'must be a non-empty string');
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(c.id as string))
    throw bad(path('.id'), 'letters, digits, ".", "-" and "_" only');
  if (c.reason !== undefined && typeof c.reason !== 'string') throw bad(path('.reason'), 'must be a string');
  if (c.meters !== undefined && !isMeterProtocolName(c.meters))
    throw bad(path('.meters'), `must be "cjt188" or "dlt645", got ${JSON.stringify(c.meters)}`);
  const send = checkSend(c.send, path('.send'), bad);
  const extras = 'forward' in send ? FORWARD_EXTRAS : [];
  const pattern = (value: unknown, where: string) => {
    if (typeof value !== 'string' || value.trim() === '') throw bad(where, 'must be a frame pattern');
    try {
      return compileGdw376(value, where, bad, { extras });
    } catch (error) {
      // {PORT} {ADDR} {K} {MCS} exist for forwards only: say so rather than "not a hex byte".
      const word = /"(\{(?:PORT|ADDR|K|MCS)\})"/.exec((error as Error).message)?.[1];
      if (word && extras.length === 0)
        throw bad(where, `${word} names a forward's field; this case sends a frame`);
      throw error;
    }
  };
  if (!('expect' in c)) throw bad(path('.expect'), 'is required: a frame pattern, or null');
  const expect = c.expect === null ? null : pattern(c.expect, path('.expect'));
  const alternatives: ConcentratorDataCaseSpec['alternatives'] = [];
  for (const key of ['nonStrict', 'unimplemented'] as const) {
    const list = c[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw bad(path(`.${key}`), 'must be a list of {"expect", "why"}');
    list.forEach((alt: unknown, i: number) => {
      const where = path(`.${key}[${i}]`);
      if (!isObject(alt) || typeof alt.why !== 'string')
        throw bad(where, 'must be {"expect": pattern, "why": text}');
      alternatives.push({
        grade: key === 'nonStrict' ? 'non-strict' : 'unimplemented',
        tokens: pattern(alt.expect, `${where}.expect`),
        why: alt.why,
      });
    });
  }
  const silenceDefault = { grade: (expect === null ? 'pass' : 'fail') as Grade, why: '' };
  const spec: ConcentratorDataCaseSpec = {
    id: c.id as string,
    title: c.title as string,
    clause: c.clause as string,
    send,
    expect,
    alternatives,
    silence: gradeRule(c.silence, SILENCE_GRADES, silenceDefault, path('.silence'), bad),
  };
  if (typeof c.reason === 'string') spec.reason = c.reason;
  if (c.meters !== undefined) spec.meters = c.meters as MeterProtocolName;
  return spec;
}

function checkSend(value: unknown, where: string, bad: Bad): ConcentratorDataCaseSpec['send'] {
  if (typeof value === 'string') return { frame: compileGdw376(value, where, bad, { send: true }) };
  if (!isObject(value) || !isObject(value.forward) || Object.keys(value).length !== 1) {
    throw bad(where, 'must be {"forward": {"meter", "port", …}} or a frame pattern to send');
  }
  const f = value.forward;
  const at = `${where}.forward`;
  for (const key of Object.keys(f)) {
    if (!FORWARD_KEYS.has(key))
      throw bad(`${at}.${key}`, `unknown field (fields: ${[...FORWARD_KEYS].join(', ')})`);
  }
  const meter = f.meter;
  if (
    typeof meter !== 'string' ||
    !(meter === '{meter}' || meter === '{absent}' || /^\d{1,14}$/.test(meter))
  ) {
    throw bad(`${at}.meter`, 'must be "{meter}", "{absent}" or a meter address (digits)');
  }
  const port = f.port ?? '{port}';
  if (
    !(port === '{port}' || port === '{absentPort}') &&
    !(typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 31)
  ) {
    throw bad(`${at}.port`, 'must be "{port}", "{absentPort}" or a port number 1–31');
  }
  const forward: ForwardSpec = { meter, port: port as ForwardSpec['port'] };
  if (f.request !== undefined) {
    if (typeof f.request !== 'string' || f.request.trim() === '')
      throw bad(`${at}.request`, 'must be a meter frame (hex, {ADDR}, {CS})');
    forward.request = compileMeterFrame(f.request, `${at}.request`, bad);
  }
  if (f.frameTimeout !== undefined) {
    const t = f.frameTimeout;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 127)
      throw bad(`${at}.frameTimeout`, 'must be whole seconds 1–127 (the forward carries 7 bits)');
    forward.frameTimeoutS = t;
  }
  return { forward };
}

function compileMeterFrame(pattern: string, where: string, bad: Bad): MeterToken[] {
  const tokens: MeterToken[] = [];
  for (const word of pattern.trim().split(/\s+/)) {
    const t = hexToken(word);
    if (t?.kind === 'byte') tokens.push(t);
    else if (word === '{ADDR}') tokens.push({ kind: 'addr' });
    else if (word === '{CS}') tokens.push({ kind: 'cs' });
    else throw bad(where, `"${word}" is not a hex byte, {ADDR} or {CS} (a frame to send says every byte)`);
  }
  return tokens;
}

/** The meter frame's bytes, {CS} the sum from its first 68H (CJ/T 188 and DL/T 645 alike). */
function meterFrameBytes(tokens: readonly MeterToken[], addr: Uint8Array): Uint8Array {
  const out: number[] = [];
  let csAt = -1;
  for (const t of tokens) {
    if (t.kind === 'byte') out.push(t.value);
    else if (t.kind === 'addr') out.push(...addr);
    else {
      csAt = out.length;
      out.push(0);
    }
  }
  const bytes = Uint8Array.from(out);
  if (csAt >= 0) bytes[csAt] = sum8(bytes, Math.max(0, bytes.indexOf(0x68)), csAt);
  return bytes;
}

function dataCase(spec: ConcentratorDataCaseSpec, origin: string): ConcentratorCase {
  const info = { id: spec.id, title: spec.title, clause: spec.clause, origin };
  const run = (ctx: ConcentratorCaseContext) => runDataCase(spec, ctx);
  return spec.reason === undefined ? { ...info, run } : { ...info, reason: spec.reason, run };
}

/** The address a forward names. */
function meterOf(f: ForwardSpec, ctx: ConcentratorCaseContext): string | undefined {
  if (f.meter === '{absent}') return ctx.absentMeter();
  const address = f.meter === '{meter}' ? ctx.config.meters[0] : f.meter;
  const digits = meterProtocol(ctx.config.meterProtocol).addressDigits;
  return address?.padStart(digits, '0');
}

async function runDataCase(spec: ConcentratorDataCaseSpec, ctx: ConcentratorCaseContext): Promise<Verdict> {
  const { session, config } = ctx;
  if (spec.meters !== undefined && spec.meters !== config.meterProtocol) {
    return {
      grade: 'skipped',
      message: `the case is for ${spec.meters} meters; these are ${config.meterProtocol}`,
    };
  }
  const t = ctx.terminal;
  if (!t) {
    return {
      grade: 'skipped',
      message: 'the concentrator address is unknown: it sent no login and --a1/--a2 were not given',
    };
  }
  const pseq = session.nextPseq();
  const v: Gdw376Values = { a: terminalBytes(t.a1, t.a2), pseq };
  let bytes: Uint8Array;
  let label: string;
  let waitMs = config.replyWaitMs;
  if ('forward' in spec.send) {
    const f = spec.send.forward;
    const address = meterOf(f, ctx);
    if (address === undefined)
      return { grade: 'skipped', message: 'no meter behind the concentrator was named (--meters)' };
    const port = f.port === '{port}' ? config.port : f.port === '{absentPort}' ? config.absentPort : f.port;
    const addr = addressBytes(config.meterProtocol, address);
    const frameTimeoutS = f.frameTimeoutS ?? config.frameTimeoutS;
    const content = f.request
      ? meterFrameBytes(f.request, addr)
      : meterProtocol(config.meterProtocol).buildReadRequest({ address });
    bytes = encodeGdw376(
      buildForwardRequest({
        ...t,
        seq: pseq,
        port,
        serial: { baud: config.meterBaud, parity: 'even', dataBits: 8, stopBits: 1 },
        frameTimeout: { value: frameTimeoutS, unit: 's' },
        byteTimeout: 10,
        content,
      }),
    );
    Object.assign(v, { port, addr });
    label = `AFN 10H F1 forward to meter ${address} on port ${port}`;
    waitMs += frameTimeoutS * 1000;
  } else {
    bytes = gdw376Bytes(spec.send.frame, v);
    label = "the case's frame";
  }
  const from = session.mark;
  if (!(await session.sendBytes(bytes, label))) {
    return { grade: 'skipped', message: 'no connection to the concentrator to send on' };
  }
  const heard = await session.waitFor(isResponse, waitMs, from, `answer to SEQ ${pseq}`);
  if (!heard) {
    if (spec.expect === null)
      return { grade: 'pass', message: 'the concentrator sent no response, as expected' };
    const why = spec.silence.why ? `: ${spec.silence.why}` : '';
    return { grade: spec.silence.grade, message: `no response within ${Math.round(waitMs)} ms${why}` };
  }
  if (spec.expect === null) return { grade: 'fail', message: 'the concentrator responded where it must not' };
  if (matchesGdw376(spec.expect, heard.raw, v)) {
    return { grade: 'pass', message: 'the response matches the expected pattern' };
  }
  session.trace.note(`expected: ${patternText(spec.expect)}`);
  for (const alt of spec.alternatives) {
    if (matchesGdw376(alt.tokens, heard.raw, v)) return { grade: alt.grade, message: alt.why };
  }
  return { grade: 'fail', message: 'the response matches neither the expected pattern nor a tolerated form' };
}

/** A compiled pattern written back, for the trace. */
function patternText(tokens: readonly Gdw376Token[]): string {
  return tokens
    .map((t) => {
      switch (t.kind) {
        case 'byte':
          return t.value.toString(16).toUpperCase().padStart(2, '0');
        case 'any':
          return '*';
        case 'rest':
          return '...';
        case 'l':
          return t.id === 2 ? '{L}' : '{L1}';
        case 'seq':
          return `{SEQ:${t.high.toString(16).toUpperCase()}}`;
        default:
          return `{${t.kind.toUpperCase()}}`;
      }
    })
    .join(' ');
}
