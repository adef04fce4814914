import { ProtocolError } from '../../../protocols/errors.ts';
import {
  type AnyPointReadMessage,
  READ_ERROR_CODES,
  type ReadError,
  type Reading,
  validatePointReadMessage,
} from '../../../protocols/point-read/index.ts';
import type { ConformanceCase, Verdict } from '../runner.ts';
import type { ReceivedMessage, RelayConnection } from './relay-connection.ts';
import type { RelayCaseContext } from './relay-context.ts';

/**
 * The relay role's cases (issue 11): the point-read WebSocket endpoint — meterlab's relay or the user's — is the
 * device under test and the suite is its client. Every case opens its own connection(s), so one case's
 * leftovers never land in another's trace.
 *
 * Sources: the point-read message format documented in the README ("Command line", "Legacy point-read shapes",
 * "Text heartbeat") and protocols/point-read/types.ts; the relay's documented refusals and close codes
 * (harness/relay/README.md); RFC 6455 for ping/pong frames, close codes and the opening handshake.
 * @packageDocumentation
 */

export type RelayCase = ConformanceCase<RelayCaseContext>;

const V1 =
  'meterlab point-read v1: README "Command line" (point-read messages), protocols/point-read/types.ts';
const V1_ERRORS = 'meterlab point-read v1 error codes: protocols/point-read/types.ts READ_ERROR_CODES';
const LEGACY = 'README "Legacy point-read shapes" (the original system\'s flat ClickToCopyModel)';
const HEARTBEAT = 'README "Text heartbeat" (the original .NET clients\' text Ping/Pong)';
const RELAY_DOC = 'harness/relay/README.md "Messages"';
const AUTH =
  'RFC 6455 §4.1 (a status other than 101 fails the connection), RFC 7235 §3.1 (401); harness/relay/README.md "Close codes and HTTP statuses"';

/** An object message's fields, or undefined. */
function objectOf(m: ReceivedMessage | undefined): Record<string, unknown> | undefined {
  const j = m?.json;
  return typeof j === 'object' && j !== null && !Array.isArray(j)
    ? (j as Record<string, unknown>)
    : undefined;
}

/** The answer validated against the documented v1 format (no unknown fields), or the problem in words. */
function v1(m: ReceivedMessage): { ok: true; message: AnyPointReadMessage } | { ok: false; problem: string } {
  if (m.json === undefined)
    return { ok: false, problem: `not JSON: ${JSON.stringify(m.text ?? '(binary)')}` };
  try {
    return { ok: true, message: validatePointReadMessage(m.json) };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, problem: error.message };
    throw error;
  }
}

const hasId = (id: string) => (m: ReceivedMessage) => objectOf(m)?.id === id;
const isObjectAnswer = (m: ReceivedMessage) => objectOf(m) !== undefined;

function isDocumentedCode(code: unknown): boolean {
  return typeof code === 'string' && (READ_ERROR_CODES as readonly string[]).includes(code);
}

const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

/** Opens the case's connection, or ends the case skipped (the endpoint would not take the suite's connection). */
async function connected(ctx: RelayCaseContext, label?: string): Promise<RelayConnection | Verdict> {
  const c = await ctx.connect(label);
  return c ?? { grade: 'skipped', message: 'the endpoint did not accept the connection (see the trace)' };
}

function isVerdict<T extends object>(x: T | Verdict): x is Verdict {
  return 'grade' in x;
}

/**
 * Opens the case's connection, sends the suite's read (`--concentrator`, `--meter`) under `id` and waits for its
 * first object answer; or the verdict that ends the case (skipped: no connection; fail: no answer in time).
 */
async function answerToRead(ctx: RelayCaseContext, id: string): Promise<ReceivedMessage | Verdict> {
  const c = await connected(ctx);
  if (isVerdict(c)) return c;
  const { concentrator, meter, readTimeoutMs } = ctx.config;
  c.send(read(id, concentrator, meter));
  const m = await c.waitFor(isObjectAnswer, readTimeoutMs, 'answer to the read');
  return m ?? { grade: 'fail', message: `no answer to the read within ${readTimeoutMs} ms` };
}

function read(id: string, concentrator: string, meter: string) {
  return { type: 'read', id, concentrator, meter };
}

/** Whether an answer is for `concentrator`/`meter`, as far as it says (the master may left-pad the meter). */
function answersMeter(answer: Reading | ReadError, concentrator: string, meter: string): boolean {
  if (answer.concentrator !== undefined && answer.concentrator !== concentrator) return false;
  if (answer.meter === undefined) return true; // an error may leave it out
  return answer.meter === meter || answer.meter.replace(/^0+/, '') === meter.replace(/^0+/, '');
}

/** Judges the error answer of a refused request: `code` expected, optionally the id echoed. */
function judgeRefusal(
  m: ReceivedMessage | undefined,
  c: RelayConnection,
  expected: { code: string; id?: string; what: string },
): Verdict {
  if (m === undefined) {
    return c.closed
      ? {
          grade: 'non-strict',
          message: `${expected.what}: the endpoint closed the connection (${c.closed.code}) instead of answering ${expected.code}; a client must reconnect`,
        }
      : { grade: 'fail', message: `${expected.what}: no answer (a client waits for ever)` };
  }
  const checked = v1(m);
  if (!checked.ok)
    return {
      grade: 'fail',
      message: `${expected.what}: the answer is not a valid error message: ${checked.problem}`,
    };
  const a = checked.message;
  if (!('type' in a) || a.type !== 'error') {
    return {
      grade: 'fail',
      message: `${expected.what}: answered with a "${'type' in a ? a.type : 'legacy'}" message, not an error`,
    };
  }
  if (expected.id !== undefined && a.id !== expected.id) {
    return {
      grade: 'non-strict',
      message: `${expected.what}: refused with ${a.code} but without the request's id ${JSON.stringify(expected.id)}; a client cannot tell which request failed`,
    };
  }
  if (a.code !== expected.code) {
    return {
      grade: 'non-strict',
      message: `${expected.what}: refused with ${a.code}, documented is ${expected.code}`,
    };
  }
  return {
    grade: 'pass',
    message: `${expected.what}: refused with ${a.code}${expected.id ? ' under its id' : ''}`,
  };
}

function stillOpen(c: RelayConnection): boolean {
  return c.closed === undefined && c.ws.readyState === c.ws.OPEN;
}

const cases: RelayCase[] = [
  {
    id: 'RLY-1.1',
    title: "A v1 read is answered under the request's id",
    clause: V1,
    origin: 'code',
    async run(ctx) {
      const m = await answerToRead(ctx, 'rly-1.1');
      if (isVerdict(m)) return m;
      const o = objectOf(m);
      if (o?.id !== 'rly-1.1') {
        return {
          grade: 'fail',
          message: `the answer carries ${o?.id === undefined ? 'no id' : `id ${JSON.stringify(o.id)}`}, not the request's "rly-1.1"`,
        };
      }
      if (o.type !== 'reading' && o.type !== 'error') {
        return {
          grade: 'fail',
          message: `answered under the id with type ${JSON.stringify(o.type)}, not "reading" or "error"`,
        };
      }
      return { grade: 'pass', message: `answered "${o.type}" under the request's id` };
    },
  },
  {
    id: 'RLY-1.2',
    title: 'A reading has the documented fields (value, unit, the meter asked for, no unknown fields)',
    clause: V1,
    origin: 'code',
    async run(ctx) {
      const m = await answerToRead(ctx, 'rly-1.2');
      if (isVerdict(m)) return m;
      const { concentrator, meter } = ctx.config;
      const checked = v1(m);
      if (!checked.ok)
        return { grade: 'fail', message: `the answer is not a valid v1 message: ${checked.problem}` };
      const a = checked.message;
      if ('type' in a && a.type === 'error') {
        return {
          grade: 'skipped',
          message: `meter ${meter} did not read (${a.code}: ${a.message}); give a meter that answers (--concentrator, --meter)`,
        };
      }
      if (!('type' in a) || a.type !== 'reading') {
        return { grade: 'fail', message: 'the answer to a v1 read is not a "reading" or "error"' };
      }
      if (!answersMeter(a, concentrator, meter)) {
        return {
          grade: 'fail',
          message: `the reading is for ${a.concentrator}/${a.meter}, not the ${concentrator}/${meter} asked for`,
        };
      }
      return {
        grade: 'pass',
        message: `reading ${a.value} ${a.unit} for ${a.concentrator}/${a.meter}, every field as documented`,
      };
    },
  },
  {
    id: 'RLY-1.3',
    title: 'A read that cannot be served is an error with a documented code, under its id',
    clause: V1_ERRORS,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      const { absentConcentrator, readTimeoutMs } = ctx.config;
      c.send(read('rly-1.3', absentConcentrator, '1'));
      const m = await c.waitFor(isObjectAnswer, readTimeoutMs, 'answer to the read');
      if (!m)
        return {
          grade: 'fail',
          message: `no answer within ${readTimeoutMs} ms to a read of an unknown concentrator`,
        };
      const checked = v1(m);
      const o = objectOf(m);
      if (!checked.ok) {
        return {
          grade: 'fail',
          message: `the answer is not a valid v1 message${o?.code !== undefined ? ` (code ${JSON.stringify(o.code)})` : ''}: ${checked.problem}`,
        };
      }
      const a = checked.message;
      if (!('type' in a) || a.type !== 'error') {
        return {
          grade: 'fail',
          message: `a read of unknown concentrator "${absentConcentrator}" was answered with a ${'type' in a ? a.type : 'legacy message'}`,
        };
      }
      if (a.id !== 'rly-1.3') return { grade: 'fail', message: "the error does not carry the request's id" };
      if (!isDocumentedCode(a.code)) {
        return {
          grade: UPPER_SNAKE.test(a.code) ? 'non-strict' : 'fail',
          message: `code ${a.code} is not one of the documented codes (${READ_ERROR_CODES.join(', ')})`,
        };
      }
      return { grade: 'pass', message: `error ${a.code} under the request's id` };
    },
  },
  {
    id: 'RLY-1.4',
    title: 'An id of 128 characters with non-ASCII text and quotes is echoed exactly',
    clause: V1,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      const head = '点抄/"1" ';
      const id = head + 'x'.repeat(128 - head.length);
      const { absentConcentrator, timeoutMs, readTimeoutMs } = ctx.config;
      c.send(read(id, absentConcentrator, '1'));
      const m = await c.waitFor(isObjectAnswer, Math.max(timeoutMs, readTimeoutMs), 'answer');
      if (!m) return { grade: 'fail', message: 'no answer to the read' };
      const got = objectOf(m)?.id;
      if (got === id) return { grade: 'pass', message: 'the id came back exactly' };
      return {
        grade: 'fail',
        message: `the id came back as ${got === undefined ? 'nothing' : JSON.stringify(got)}`,
      };
    },
  },
  {
    id: 'RLY-2.1',
    title: 'A legacy ClickToCopy request is answered with the flat model, AccumVal at the top level',
    clause: LEGACY,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      const { concentrator, meter, readTimeoutMs } = ctx.config;
      c.send({
        ModuleName: 'ClickToCopy',
        Content: { ConcentratorNo: concentrator, WaterMtrAddress: meter },
      });
      const m = await c.waitFor(isObjectAnswer, readTimeoutMs, 'answer to the ClickToCopy request');
      if (!m) return { grade: 'fail', message: `no answer within ${readTimeoutMs} ms` };
      return judgeLegacy(objectOf(m) ?? {}, concentrator, meter, 'reading');
    },
  },
  {
    id: 'RLY-2.2',
    title: 'A failed legacy read is the flat model with AccumVal null, ErrorCode and ErrorMsg',
    clause: LEGACY,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      const { absentConcentrator, readTimeoutMs } = ctx.config;
      c.send({
        ModuleName: 'ClickToCopy',
        Content: { ConcentratorNo: absentConcentrator, WaterMtrAddress: '1' },
      });
      const m = await c.waitFor(isObjectAnswer, readTimeoutMs, 'answer to the ClickToCopy request');
      if (!m) return { grade: 'fail', message: `no answer within ${readTimeoutMs} ms` };
      return judgeLegacy(objectOf(m) ?? {}, absentConcentrator, '1', 'failure');
    },
  },
  {
    id: 'RLY-3.1',
    title: 'Text that is not JSON is answered BAD_JSON and the connection stays open',
    clause: RELAY_DOC,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      c.send('{"type":"read",');
      const m = await c.waitFor(isObjectAnswer, ctx.config.timeoutMs, 'answer to the bad JSON');
      const verdict = judgeRefusal(m, c, { code: 'BAD_JSON', what: 'bad JSON' });
      if (verdict.grade !== 'pass') return verdict;
      if (!stillOpen(c))
        return { grade: 'non-strict', message: `answered BAD_JSON, then closed (${c.closed?.code})` };
      // The session survived: a following request is still read and answered.
      c.send({ type: 'read', id: 'rly-3.1' });
      const next = await c.waitFor(hasId('rly-3.1'), ctx.config.timeoutMs, 'answer after the bad JSON');
      if (!next)
        return {
          grade: 'fail',
          message: 'BAD_JSON was answered, but nothing after it: the session is stuck',
        };
      return { grade: 'pass', message: 'answered BAD_JSON; the connection stayed open and kept answering' };
    },
  },
  {
    id: 'RLY-3.2',
    title: 'A message of an unknown type is refused BAD_REQUEST under its id',
    clause: RELAY_DOC,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      c.send({ type: 'read-everything', id: 'rly-3.2' });
      const m = await c.waitFor(isObjectAnswer, ctx.config.timeoutMs, 'answer to the unknown type');
      return judgeRefusal(m, c, {
        code: 'BAD_REQUEST',
        id: 'rly-3.2',
        what: 'unknown type "read-everything"',
      });
    },
  },
  {
    id: 'RLY-3.3',
    title: 'A read with an invalid field is refused BAD_REQUEST under its id, naming the field',
    clause: RELAY_DOC,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      c.send(read('rly-3.3', ctx.config.concentrator, '10x'));
      const m = await c.waitFor(isObjectAnswer, ctx.config.timeoutMs, 'answer to the invalid read');
      const verdict = judgeRefusal(m, c, { code: 'BAD_REQUEST', id: 'rly-3.3', what: 'meter "10x"' });
      if (verdict.grade === 'pass' && !/meter/i.test(String(objectOf(m)?.message))) {
        return {
          grade: 'non-strict',
          message: 'refused BAD_REQUEST, but the message does not name the field "meter"',
        };
      }
      return verdict;
    },
  },
  {
    id: 'RLY-3.4',
    title: 'A binary message is refused (BAD_REQUEST, or close 1003)',
    clause: `${RELAY_DOC}; RFC 6455 §7.4.1 (1003)`,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      c.sendBinary(
        new TextEncoder().encode(JSON.stringify(read('rly-3.4', ctx.config.concentrator, ctx.config.meter))),
      );
      const m = await c.waitFor(isObjectAnswer, ctx.config.timeoutMs, 'answer to the binary message');
      if (!m && c.closed?.code === 1003)
        return { grade: 'pass', message: 'closed with 1003 (cannot accept binary data)' };
      const o = objectOf(m);
      if (o?.type === 'reading') {
        return { grade: 'non-strict', message: 'a binary frame was read as a text request and answered' };
      }
      return judgeRefusal(m, c, { code: 'BAD_REQUEST', what: 'binary message' });
    },
  },
  {
    id: 'RLY-4.1',
    title: 'A second read with an id already in flight is refused; the first is answered once',
    clause: RELAY_DOC,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      const { concentrator, meter, readTimeoutMs } = ctx.config;
      c.send(read('rly-4.1', concentrator, meter));
      c.send(read('rly-4.1', concentrator, meter));
      const mine = () => c.received.filter(hasId('rly-4.1')).map((m) => objectOf(m) ?? {});
      await c.until(() => mine().length >= 2, readTimeoutMs, 'second answer');
      const answers = mine();
      const refusals = answers.filter((a) => a.type === 'error' && a.code === 'BAD_REQUEST');
      if (answers.length < 2) {
        return {
          grade: 'fail',
          message: `${answers.length} answer(s) to two reads under one id: one was never answered`,
        };
      }
      if (refusals.length === 1)
        return { grade: 'pass', message: 'the duplicate was refused BAD_REQUEST; the read answered once' };
      if (refusals.length === 0) {
        return {
          grade: 'non-strict',
          message:
            'both reads were served under the same id; a client matching answers by id cannot tell them apart',
        };
      }
      return { grade: 'fail', message: 'both reads were refused' };
    },
  },
  {
    id: 'RLY-4.2',
    title: 'Several reads in flight on one connection are each answered once, under their own id',
    clause: V1,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      const { concentrator, meter, absentConcentrator, readTimeoutMs, concurrency } = ctx.config;
      const sent = new Map<string, { concentrator: string; meter: string }>();
      for (let i = 1; i <= concurrency; i++) {
        // Every third read fails at once; the others need the field: answers come back out of order.
        const target =
          i % 3 === 0 ? { concentrator: absentConcentrator, meter: String(i) } : { concentrator, meter };
        const id = `rly-4.2-${i}`;
        sent.set(id, target);
        c.send(read(id, target.concentrator, target.meter));
      }
      await c.until(() => c.received.length >= concurrency, readTimeoutMs, `${concurrency} answers`);
      const problems: string[] = [];
      const seen = new Map<string, number>();
      for (const m of c.received) {
        const checked = v1(m);
        if (!checked.ok) {
          problems.push(`invalid answer: ${checked.problem}`);
          continue;
        }
        const a = checked.message;
        if (
          !('type' in a) ||
          a.type === 'read' ||
          a.type === 'cancel' ||
          a.id === undefined ||
          !sent.has(a.id)
        ) {
          problems.push(`an answer under no id of ours: ${m.text ?? ''}`.slice(0, 200));
          continue;
        }
        seen.set(a.id, (seen.get(a.id) ?? 0) + 1);
        const want = sent.get(a.id) as { concentrator: string; meter: string };
        const wantError = want.concentrator === absentConcentrator;
        if (wantError && a.type !== 'error') problems.push(`${a.id} (unknown concentrator) got a reading`);
        if (!answersMeter(a, want.concentrator, want.meter)) {
          problems.push(
            `${a.id} asked ${want.concentrator}/${want.meter} and got ${a.concentrator}/${a.meter}`,
          );
        }
      }
      for (const id of sent.keys()) {
        const n = seen.get(id) ?? 0;
        if (n !== 1) problems.push(`${id} answered ${n} times`);
      }
      if (problems.length > 0) return { grade: 'fail', message: problems.slice(0, 4).join('; ') };
      return {
        grade: 'pass',
        message: `${concurrency} reads in flight, each answered once under its own id`,
      };
    },
  },
  {
    id: 'RLY-4.3',
    title: 'Ids belong to their connection: two connections using the same id each get their own answer',
    clause: V1,
    origin: 'code',
    async run(ctx) {
      const a = await connected(ctx, 'A');
      if (isVerdict(a)) return a;
      const b = await connected(ctx, 'B');
      if (isVerdict(b)) return b;
      const { concentrator, meter, absentConcentrator, readTimeoutMs } = ctx.config;
      a.send(read('same', concentrator, meter));
      b.send(read('same', absentConcentrator, '1'));
      const [ma, mb] = await Promise.all([
        a.waitFor(isObjectAnswer, readTimeoutMs, 'answer on A'),
        b.waitFor(isObjectAnswer, readTimeoutMs, 'answer on B'),
      ]);
      const oa = objectOf(ma);
      const ob = objectOf(mb);
      if (oa?.id !== 'same' || ob?.id !== 'same') {
        return {
          grade: 'fail',
          message: 'each connection should get one answer under id "same"; one did not',
        };
      }
      if (ob.type !== 'error')
        return { grade: 'fail', message: 'B (unknown concentrator) got a reading: the answers crossed' };
      if (oa.type === 'error' && oa.concentrator === absentConcentrator) {
        return { grade: 'fail', message: "A got B's error: the answers crossed" };
      }
      return { grade: 'pass', message: 'each connection got its own answer under the shared id' };
    },
  },
  {
    id: 'RLY-5.1',
    title: 'A message exactly at the size limit is accepted',
    clause: `${RELAY_DOC}; harness/relay/README.md "Close codes and HTTP statuses" (maxPayload)`,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      const { absentConcentrator, maxMessageBytes, readTimeoutMs } = ctx.config;
      c.send(padded(read('rly-5.1', absentConcentrator, '1'), maxMessageBytes));
      const m = await c.waitFor(hasId('rly-5.1'), readTimeoutMs, 'answer');
      if (m) return { grade: 'pass', message: `a ${maxMessageBytes}-byte message was read and answered` };
      if (c.closed) {
        return {
          grade: 'fail',
          message: `closed (${c.closed.code}) on a message of ${maxMessageBytes} bytes, within the limit`,
        };
      }
      return { grade: 'fail', message: `no answer to a ${maxMessageBytes}-byte message` };
    },
  },
  {
    id: 'RLY-5.2',
    title: 'A message over the size limit closes the connection with 1009',
    clause:
      'RFC 6455 §7.4.1 (1009: message too big); harness/relay/README.md "Close codes and HTTP statuses"',
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      const { absentConcentrator, maxMessageBytes, timeoutMs, readTimeoutMs } = ctx.config;
      c.send(padded(read('rly-5.2', absentConcentrator, '1'), maxMessageBytes + 1));
      await c.until(
        () => c.closed !== undefined || c.received.length > 0,
        Math.max(timeoutMs, readTimeoutMs),
        'close',
      );
      if (c.closed?.code === 1009)
        return { grade: 'pass', message: `closed with 1009 at ${maxMessageBytes + 1} bytes` };
      if (c.closed) {
        return { grade: 'non-strict', message: `closed with ${c.closed.code}, not 1009 (RFC 6455 §7.4.1)` };
      }
      const o = objectOf(c.received[0]);
      if (o === undefined || o.id === 'rly-5.2') {
        return {
          grade: 'fail',
          message: `a ${maxMessageBytes + 1}-byte message was ${o ? 'read and answered' : 'neither refused nor answered'}: the limit is not enforced`,
        };
      }
      return {
        grade: 'non-strict',
        message: `refused with an answer (${String(o.code ?? o.type)}) instead of closing with 1009`,
      };
    },
  },
  {
    id: 'RLY-6.1',
    title: 'A ping frame is answered with a pong carrying the same payload',
    clause: 'RFC 6455 §5.5.2, §5.5.3',
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      const payload = new TextEncoder().encode('meterlab-rly-6.1');
      c.ping(payload);
      const ok = await c.until(() => c.pongs.length > 0, ctx.config.timeoutMs, 'pong');
      if (!ok) return { grade: 'fail', message: 'no pong: a client with a heartbeat drops the connection' };
      const same = Buffer.from(c.pongs[0]).equals(Buffer.from(payload));
      return same
        ? { grade: 'pass', message: "pong with the ping's payload" }
        : { grade: 'fail', message: "the pong does not carry the ping's application data (RFC 6455 §5.5.3)" };
    },
  },
  {
    id: 'RLY-6.2',
    title: 'The text heartbeat Ping is answered with the text Pong',
    clause: HEARTBEAT,
    origin: 'code',
    async run(ctx) {
      const c = await connected(ctx);
      if (isVerdict(c)) return c;
      c.send('Ping');
      const m = await c.waitFor(() => true, ctx.config.timeoutMs, 'answer to Ping');
      if (m?.text === 'Pong') return { grade: 'pass', message: 'Pong' };
      if (m === undefined) {
        return {
          grade: 'fail',
          message: 'no answer to the text Ping: a client of the original kind drops the connection',
        };
      }
      if (objectOf(m)?.type === 'error') {
        return {
          grade: 'unimplemented',
          message: `the text Ping was refused as a request (${String(objectOf(m)?.code)})`,
        };
      }
      return { grade: 'fail', message: `answered ${JSON.stringify(m.text ?? '(binary)')}, not "Pong"` };
    },
  },
  {
    id: 'RLY-7.1',
    title: 'Without the token the upgrade is refused with HTTP 401',
    clause: AUTH,
    origin: 'code',
    run: (ctx) => refusal(ctx, 'none'),
  },
  {
    id: 'RLY-7.2',
    title: 'With a wrong token the upgrade is refused with HTTP 401',
    clause: AUTH,
    origin: 'code',
    run: (ctx) => refusal(ctx, 'wrong'),
  },
  {
    id: 'RLY-7.3',
    title: 'The token is accepted as an Authorization: Bearer header as well as in ?token=',
    clause: 'harness/relay/README.md (auth: bearer token in the header or ?token=); RFC 6750 §2.1',
    origin: 'code',
    async run(ctx) {
      if (ctx.config.token === undefined) return noToken();
      const c = ctx.open(undefined, 'header');
      const outcome = await c.opened(ctx.config.timeoutMs * 4);
      if (outcome.kind === 'open') return { grade: 'pass', message: 'the header token was accepted' };
      return {
        grade: 'non-strict',
        message: `the token in the Authorization header was not accepted (${outcome.kind === 'refused' ? `HTTP ${outcome.status}` : outcome.message}); only ?token= works, so header clients (the client library) cannot connect`,
      };
    },
  },
];

function noToken(): Verdict {
  return { grade: 'skipped', message: 'the target has no ?token=: give the token to test the refusals' };
}

async function refusal(ctx: RelayCaseContext, token: 'none' | 'wrong'): Promise<Verdict> {
  if (ctx.config.token === undefined) return noToken();
  const c = ctx.open(undefined, token);
  const outcome = await c.opened(ctx.config.timeoutMs * 4);
  const what = token === 'none' ? 'without a token' : 'with a wrong token';
  if (outcome.kind === 'open') return { grade: 'fail', message: `the connection ${what} was accepted` };
  if (outcome.kind === 'failed')
    return {
      grade: 'fail',
      message: `the connection ${what} failed without an HTTP answer: ${outcome.message}`,
    };
  if (outcome.status === 401) return { grade: 'pass', message: `refused ${what}: HTTP 401` };
  return {
    grade: 'non-strict',
    message: `refused ${what} with HTTP ${outcome.status}; 401 says the token is what is wrong (403 is for a forbidden origin)`,
  };
}

/** A JSON text of `message` padded with trailing spaces (JSON whitespace) to exactly `bytes` UTF-8 bytes. */
export function padded(message: unknown, bytes: number): string {
  const text = JSON.stringify(message);
  const length = Buffer.byteLength(text, 'utf8');
  return length >= bytes ? text : text + ' '.repeat(bytes - length);
}

/** Judges a legacy answer: flat ClickToCopyModel echoing the request, a reading or a failure. */
function judgeLegacy(
  o: Record<string, unknown>,
  concentrator: string,
  meter: string,
  want: 'reading' | 'failure',
): Verdict {
  if ('ModuleName' in o || 'Content' in o) {
    return {
      grade: 'fail',
      message:
        "answered in the request's envelope (ModuleName/Content); an old page reads AccumVal at the top level and gets nothing",
    };
  }
  if ('type' in o) {
    return {
      grade: 'fail',
      message: `answered with a v1 "${String(o.type)}" message (${String(o.code ?? '')}), not the legacy model`,
    };
  }
  if (o.ConcentratorNo !== concentrator || o.WaterMtrAddress !== meter) {
    return {
      grade: 'fail',
      message: `ConcentratorNo/WaterMtrAddress are ${JSON.stringify(o.ConcentratorNo)}/${JSON.stringify(o.WaterMtrAddress)}, not the request's ${concentrator}/${meter} as sent (the old page matches on them)`,
    };
  }
  const down = o.IsDownCommand === true;
  if (want === 'reading') {
    if (o.AccumVal === null && o.ErrorCode !== undefined) {
      return {
        grade: 'skipped',
        message: `meter ${meter} did not read (${String(o.ErrorCode)}); give a meter that answers`,
      };
    }
    if (typeof o.AccumVal !== 'number' || !Number.isFinite(o.AccumVal)) {
      return { grade: 'fail', message: `AccumVal is ${JSON.stringify(o.AccumVal)}, not a number` };
    }
    if (!down) return { grade: 'non-strict', message: 'AccumVal is there, but IsDownCommand is not true' };
    return { grade: 'pass', message: `flat model with AccumVal ${o.AccumVal}` };
  }
  if (typeof o.AccumVal === 'number')
    return { grade: 'fail', message: 'a read of an unknown concentrator got an AccumVal' };
  if (o.AccumVal !== null)
    return { grade: 'fail', message: `AccumVal is ${JSON.stringify(o.AccumVal)}, not null` };
  if (typeof o.ErrorMsg !== 'string')
    return { grade: 'non-strict', message: 'AccumVal null, but no ErrorMsg text' };
  if (!isDocumentedCode(o.ErrorCode)) {
    return {
      grade: 'non-strict',
      message: `ErrorCode ${JSON.stringify(o.ErrorCode)} is not one of the documented codes`,
    };
  }
  if (!down) return { grade: 'non-strict', message: 'IsDownCommand is not true' };
  return { grade: 'pass', message: `flat failure: ErrorCode ${String(o.ErrorCode)}, ErrorMsg given` };
}

/** The relay role's catalogue, in id order. */
export const CASES: readonly RelayCase[] = cases;
