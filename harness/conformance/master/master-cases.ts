import { hexToBytes } from '../../../protocols/bytes.ts';
import {
  AFN_CONFIRM,
  AFN_FORWARD,
  buildLogout,
  encodeGdw376,
  type Gdw376Frame,
} from '../../../protocols/gdw376/index.ts';
import { meterProtocol } from '../../../protocols/registry.ts';
import { wireTimeMs } from '../../../simulator/link/serial-settings.ts';
import type { ConformanceCase, Verdict } from '../runner.ts';
import { type ConcentratorProbe, type HeardFrame, hex2, joinFrames } from './concentrator-probe.ts';
import type { ForwardExchange, MasterCaseContext } from './master-context.ts';
import { printedValues } from './trigger.ts';

/**
 * The cases of the master-station role (issue 11): meterlab plays a concentrator (with a simulated meter behind
 * it) logging in to the master under test. Passive cases (G376M-1 … 6) need nothing but the master's TCP
 * port; active cases (G376M-7) need a trigger that makes the master read the meter. Clauses cite the standard's
 * topic as the project's notes establish it (docs/gdw376.md; docs/field-notes.md §8 for what real masters and
 * terminals do), since the standard's text was not available.
 * @packageDocumentation
 */

export type MasterCase = ConformanceCase<MasterCaseContext>;

const STD = 'Q/GDW 1376.1';
const pass = (message: string): Verdict => ({ grade: 'pass', message });
const fail = (message: string): Verdict => ({ grade: 'fail', message });
const nonStrict = (message: string): Verdict => ({ grade: 'non-strict', message });
const skipped = (message: string): Verdict => ({ grade: 'skipped', message });

function masterCase(
  id: string,
  title: string,
  clause: string,
  run: (ctx: MasterCaseContext) => Promise<Verdict>,
  reason?: string,
): MasterCase {
  return reason === undefined
    ? { id, title, clause, origin: 'code', run }
    : { id, title, clause, reason, origin: 'code', run };
}

/**
 * The verdict on the answer to one link check: fail without an answer or with a fatal problem; with
 * `strictFields` false only those two matter (the fields are another case's business).
 */
function confirmVerdict(
  ctx: MasterCaseContext,
  what: string,
  request: Gdw376Frame,
  answer: HeardFrame | undefined,
  probe: ConcentratorProbe,
  strictFields = true,
): Verdict {
  if (!answer) {
    return fail(
      `${what} was not confirmed within ${ctx.config.confirmTimeoutMs} ms${probe.closed ? '; the master closed the connection' : ''}`,
    );
  }
  const j = ctx.judgeConfirm(request, answer.frame);
  if (j.fatal.length > 0) return fail(`${what} answered with ${j.form}, but ${j.fatal.join('; ')}`);
  if (strictFields && j.deviations.length > 0) {
    return nonStrict(
      `${what} was confirmed with ${j.form}; deviations terminals tolerate: ${j.deviations.join('; ')}`,
    );
  }
  return pass(`${what} was confirmed with ${j.form}`);
}

/** Active cases: the shared exchange, or a skip when it brought no forward request. */
async function withForward(
  ctx: MasterCaseContext,
  id: string,
  judge: (request: HeardFrame, exchange: ForwardExchange) => Verdict,
): Promise<Verdict> {
  if (!ctx.config.trigger) return skipped('needs --trigger: a command that makes the master read the meter');
  const exchange = await ctx.sharedForward(id);
  if (!exchange.request) {
    return id === 'G376M-7.1'
      ? fail(
          exchange.trigger.exitCode === 0 ||
            exchange.triggerMs === undefined ||
            exchange.triggerMs >= ctx.config.forwardWaitMs
            ? `no AFN 10 F1 forward request within ${ctx.config.forwardWaitMs} ms of starting the trigger${exitNote(exchange)}`
            : `no AFN 10 F1 forward request: the trigger ended after ${Math.round(exchange.triggerMs)} ms${exitNote(exchange)} without the master sending one`,
        )
      : skipped('the master sent no forward request (see G376M-7.1)');
  }
  return judge(exchange.request, exchange);
}

function exitNote(exchange: ForwardExchange): string {
  const t = exchange.trigger;
  return t.exitCode === 0 ? '' : ` (the trigger exited ${t.exitCode ?? t.signal})`;
}

function forwardBody(request: HeardFrame) {
  const unit = request.frame.units.find((u) => u.body.kind === 'forward-request');
  return unit?.body.kind === 'forward-request' ? { unit, body: unit.body } : undefined;
}

/** Whether the trigger printed the reading; the verdict. */
function valueVerdict(exchange: ForwardExchange, what: string): Verdict {
  const expected = exchange.reading;
  const out = exchange.trigger;
  if (expected === undefined)
    return skipped('the simulated meter gave no reading to compare (see the trace)');
  const values = printedValues(out.stdout);
  const match = values.some((v) => Math.abs(v - expected) < 0.005);
  if (match && out.exitCode === 0)
    return pass(`${what}: the trigger printed ${expected}, the simulated meter's reading`);
  if (out.exitCode !== 0) {
    return fail(
      `${what}: the trigger exited ${out.exitCode ?? out.signal} (the read failed); the meter reads ${expected}`,
    );
  }
  if (out.stdout.trim() === '') {
    return {
      grade: 'info',
      message: `${what}: the trigger printed nothing, so the value was not compared (${expected})`,
    };
  }
  return fail(
    `${what}: the trigger printed ${JSON.stringify(values.slice(0, 8))}, not the meter's reading ${expected}`,
  );
}

export const MASTER_CASES: readonly MasterCase[] = [
  masterCase(
    'G376M-1.1',
    'Login is confirmed',
    `${STD} AFN 02H F1 login, answered by AFN 00H (docs/gdw376.md §3.5)`,
    async (ctx) => {
      const { probe, answer, login } = await ctx.loggedIn();
      return confirmVerdict(ctx, 'the login', login, answer, probe, false);
    },
  ),
  masterCase(
    'G376M-1.2',
    'Login confirm: address, direction and SEQ echo',
    `${STD} frame: A1/A2 of the terminal, DIR = 0, RSEQ = the request's PSEQ (docs/gdw376.md §3.1, §3.5)`,
    async (ctx) => {
      const probe = await ctx.connect();
      // A PSEQ other than 0, so an answer that always says 0 is caught.
      probe.nextSeq();
      probe.nextSeq();
      const login = ctx.login(probe);
      const { answer } = await ctx.exchangeConfirm(probe, login);
      if (!answer) return skipped('the login was not confirmed at all (see G376M-1.1)');
      return confirmVerdict(ctx, 'the login', login, answer, probe, false);
    },
  ),
  masterCase(
    'G376M-1.3',
    'Login confirm form: F1, or F3 with the login item',
    `${STD} AFN 00H F1 all confirmed / F3 per item, C = 0BH or 00H, CON clear (docs/gdw376.md §3.5)`,
    async (ctx) => {
      const { probe, answer, login } = await ctx.loggedIn();
      if (!answer) return skipped('the login was not confirmed at all (see G376M-1.1)');
      return confirmVerdict(ctx, 'the login', login, answer, probe, true);
    },
  ),
  masterCase(
    'G376M-2.1',
    'Heartbeat without a clock is confirmed',
    `${STD} AFN 02H F3 heartbeat (the 2009 form, no data), answered like the login (docs/gdw376.md §3.5)`,
    async (ctx) => {
      const { probe, answer } = await ctx.loggedIn();
      if (!answer) return skipped('the login was not confirmed (see G376M-1.1)');
      const beat = ctx.heartbeat(probe);
      const r = await ctx.exchangeConfirm(probe, beat);
      return confirmVerdict(ctx, 'the heartbeat', beat, r.answer, probe);
    },
  ),
  masterCase(
    'G376M-2.2',
    'Heartbeat with the 2013 terminal clock is confirmed',
    `${STD}-2013 AFN 02H F3 with the terminal clock in data format A.1 (docs/gdw376.md §3.4, vector Q22-fixed)`,
    async (ctx) => {
      const { probe, answer } = await ctx.loggedIn();
      if (!answer) return skipped('the login was not confirmed (see G376M-1.1)');
      const beat = ctx.heartbeat(probe, true);
      const r = await ctx.exchangeConfirm(probe, beat);
      return confirmVerdict(ctx, 'the 2013 heartbeat', beat, r.answer, probe);
    },
  ),
  masterCase(
    'G376M-3.1',
    'Confirm comes promptly',
    'field practice',
    async (ctx) => {
      const probe = await ctx.connect();
      const login = ctx.login(probe);
      const { answer, delayMs } = await ctx.exchangeConfirm(probe, login);
      if (!answer || delayMs === undefined) {
        return fail(`no confirm within ${ctx.config.confirmTimeoutMs} ms`);
      }
      const ms = Math.round(delayMs);
      if (delayMs > ctx.config.confirmLimitMs) {
        return nonStrict(
          `the login was confirmed after ${ms} ms, over the ${ctx.config.confirmLimitMs} ms limit (--confirm-limit)`,
        );
      }
      return pass(`the login was confirmed after ${ms} ms (limit ${ctx.config.confirmLimitMs} ms)`);
    },
    'a terminal waits for the confirm its AFN 04H F1 response timeout (docs/gdw376.md §3.4) and then resends or ' +
      'reconnects; a late confirm costs resends and, at worst, the link',
  ),
  masterCase(
    'G376M-3.2',
    'A silent connection is closed, but not within one heartbeat period',
    `${STD} heartbeat period (AFN 04H F1) / field practice (docs/field-notes.md §8 idle sockets)`,
    async (ctx) => {
      const { probe, answer } = await ctx.loggedIn();
      if (!answer) return skipped('the login was not confirmed (see G376M-1.1)');
      const since = answer.at;
      const period = ctx.config.heartbeatPeriodMs;
      ctx.trace.note(`silent from now on; watching for ${ctx.config.idleLimitMs} ms`);
      const closed = await probe.waitClosed(ctx.config.idleLimitMs);
      if (!closed) {
        return nonStrict(
          `the master kept a silent connection open for ${ctx.config.idleLimitMs} ms (--idle-limit); half-open ` +
            'links pile up where nothing closes them',
        );
      }
      const after = Math.round((probe.closedAt ?? since) - since);
      if (after < period) {
        return fail(
          `the master closed the connection ${after} ms after the login, within one heartbeat period (${period} ms)`,
        );
      }
      return pass(
        `the master closed the silent connection after ${after} ms (heartbeat period ${period} ms)`,
      );
    },
    'a master must tolerate one heartbeat period of silence, and should close a link that stays silent longer ' +
      '(a dead GPRS link is often half-open: the terminal only reconnects once the master lets go)',
  ),
  masterCase(
    'G376M-4.1',
    'A second login from the same address on a new connection is confirmed',
    'field practice (docs/field-notes.md §8: a second login replaces the first)',
    async (ctx) => {
      const first = await ctx.loggedIn();
      if (!first.answer) return skipped('the first login was not confirmed (see G376M-1.1)');
      const { probe, answer, login } = await ctx.loggedIn();
      return confirmVerdict(ctx, 'the second login', login, answer, probe, false);
    },
    'a terminal whose link died half-open reconnects while the master still holds the old socket; refusing it ' +
      'locks the terminal out until the old socket times out',
  ),
  masterCase(
    'G376M-4.2',
    'The replaced connection is released',
    'field practice (docs/field-notes.md §8: the master destroys the old socket)',
    async (ctx) => {
      const first = await ctx.loggedIn();
      if (!first.answer) return skipped('the first login was not confirmed (see G376M-1.1)');
      const second = await ctx.loggedIn();
      if (!second.answer) return skipped('the second login was not confirmed (see G376M-4.1)');
      if (await first.probe.waitClosed(ctx.config.confirmTimeoutMs)) {
        return pass('the master closed the first connection when the same terminal logged in again');
      }
      const beat = ctx.heartbeat(second.probe);
      const r = await ctx.exchangeConfirm(second.probe, beat);
      if (!r.answer)
        return fail('after the second login the new connection is not served (heartbeat not confirmed)');
      return nonStrict(
        `the first connection is still open ${ctx.config.confirmTimeoutMs} ms after the second login; the new one ` +
          'works, but the master holds a socket the terminal has abandoned',
      );
    },
  ),
  masterCase(
    'G376M-4.3',
    'Two terminals at once: each is confirmed with its own address on its own connection',
    `${STD} address field A1/A2 (docs/gdw376.md §3.1): a master serves many terminals, one connection each`,
    async (ctx) => {
      const other = (ctx.config.a2 % 65535) + 1;
      const a = await ctx.connect();
      const b = await ctx.connect(other);
      const loginA = ctx.login(a);
      const loginB = ctx.login(b);
      // Both logins in flight together, then a heartbeat from each: the answers must not cross.
      const [la, lb] = await Promise.all([ctx.exchangeConfirm(a, loginA), ctx.exchangeConfirm(b, loginB)]);
      const beatB = ctx.heartbeat(b);
      const beatA = ctx.heartbeat(a);
      const [hb, ha] = await Promise.all([ctx.exchangeConfirm(b, beatB), ctx.exchangeConfirm(a, beatA)]);
      const verdicts = [
        confirmVerdict(ctx, `the login of ${ctx.config.a1}/${ctx.config.a2}`, loginA, la.answer, a, false),
        confirmVerdict(ctx, `the login of ${ctx.config.a1}/${other}`, loginB, lb.answer, b, false),
        confirmVerdict(ctx, `the heartbeat of ${ctx.config.a1}/${other}`, beatB, hb.answer, b, false),
        confirmVerdict(ctx, `the heartbeat of ${ctx.config.a1}/${ctx.config.a2}`, beatA, ha.answer, a, false),
      ];
      const failed = verdicts.filter((v) => v.grade !== 'pass');
      if (failed.length > 0) return fail(failed.map((v) => v.message).join('; '));
      return pass(`terminals ${ctx.config.a2} and ${other} were each confirmed with their own address`);
    },
  ),
  masterCase(
    'G376M-5.1',
    'Logout is confirmed',
    `${STD} AFN 02H F2 logout (docs/gdw376.md §3.5, vector Q3)`,
    async (ctx) => {
      const { probe, answer } = await ctx.loggedIn();
      if (!answer) return skipped('the login was not confirmed (see G376M-1.1)');
      const logout = buildLogout(ctx.frameOptions(probe.nextSeq()));
      const r = await ctx.exchangeConfirm(probe, logout);
      return confirmVerdict(ctx, 'the logout', logout, r.answer, probe, false);
    },
  ),
  masterCase(
    'G376M-6.1',
    'A login split across TCP segments is understood',
    `${STD} frame length L (docs/gdw376.md §3.1: a receiver cuts frames out of the byte stream by L)`,
    async (ctx) => {
      const probe = await ctx.connect();
      const login = ctx.login(probe);
      const bytes = encodeGdw376(login);
      await probe.sendSplit(bytes, [3, 9, 15], 30, 'login');
      const answer = await probe.waitFor(
        (f) => f.afn === AFN_CONFIRM,
        ctx.config.confirmTimeoutMs,
        'confirm',
      );
      return confirmVerdict(ctx, 'the login sent in 4 segments', login, answer, probe, false);
    },
  ),
  masterCase(
    'G376M-6.2',
    'Two frames in one TCP segment are both understood',
    `${STD} frame length L (docs/gdw376.md §3.1) / field practice (docs/gdw376.md §3.7: kernels merge segments)`,
    async (ctx) => {
      const probe = await ctx.connect();
      const login = ctx.login(probe);
      const beat = ctx.heartbeat(probe);
      await probe.sendBytes(joinFrames([login, beat]), 'login and heartbeat in one write');
      const a = await probe.waitFor(
        (f) => f.afn === AFN_CONFIRM && f.seq.seq === login.seq.seq,
        ctx.config.confirmTimeoutMs,
        'login confirm',
      );
      const b = await probe.waitFor(
        (f) => f.afn === AFN_CONFIRM && f.seq.seq === beat.seq.seq,
        ctx.config.confirmTimeoutMs,
        'heartbeat confirm',
      );
      if (!a || !b) {
        const missing = [!a && 'the login', !b && 'the heartbeat'].filter(Boolean).join(' and ');
        return fail(
          `${missing} of the coalesced pair ${!a && !b ? 'were' : 'was'} not confirmed${probe.closed ? '; the master closed the connection' : ''}`,
        );
      }
      return pass('both frames of one segment were confirmed');
    },
    "a terminal cannot keep two frames apart on the wire: its TCP stack or the master host's kernel merges them",
  ),
  masterCase(
    'G376M-6.3',
    'Junk before a login does not lose the login',
    `${STD} frame start 68H / field practice (line noise on GPRS modems)`,
    async (ctx) => {
      const probe = await ctx.connect();
      const login = ctx.login(probe);
      const junk = hexToBytes('00 FF 68 16 41 54 0D 0A');
      const bytes = new Uint8Array(junk.length + encodeGdw376(login).length);
      bytes.set(junk);
      bytes.set(encodeGdw376(login), junk.length);
      await probe.sendBytes(bytes, 'junk (a stray 68H, an AT command) then the login, in one write');
      const answer = await probe.waitFor(
        (f) => f.afn === AFN_CONFIRM,
        ctx.config.confirmTimeoutMs,
        'confirm',
      );
      if (!answer && probe.closed) {
        return nonStrict(
          'the master closed the connection on the junk; the terminal must reconnect to log in',
        );
      }
      return confirmVerdict(ctx, 'the login after junk', login, answer, probe, false);
    },
    'GPRS modems put AT chatter and noise on the link; a master that resynchronises keeps the terminal, one ' +
      'that drops the link makes it reconnect',
  ),
  masterCase(
    'G376M-7.1',
    'A read starts an AFN 10H F1 forward request to the terminal',
    `${STD} AFN 10H F1 transparent forwarding, downlink, PRM = 1, p0 F1, A1/A2 of the terminal (docs/gdw376.md §3.4)`,
    (ctx) =>
      withForward(ctx, 'G376M-7.1', (request, exchange) => {
        const f = request.frame;
        const problems: string[] = [];
        if (f.control.dir !== 'down') problems.push('DIR = 1 (uplink)');
        if (!f.control.prm) problems.push('PRM = 0 (a request is PRM = 1)');
        if (f.a1 !== ctx.config.a1 || f.a2 !== ctx.config.a2) {
          problems.push(`addressed to ${f.a1}/${f.a2}, not ${ctx.terminal}`);
        }
        if (f.afn !== AFN_FORWARD || !forwardBody(request)) problems.push('no AFN 10H F1 p0 data unit');
        if (problems.length > 0) return fail(`the forward request is wrong: ${problems.join('; ')}`);
        return pass(
          `AFN 10H F1 to ${ctx.terminal} (C=${hex2(f.control.raw)}, SEQ ${f.seq.seq}) ${Math.round(exchange.forwardAfterMs ?? 0)} ms after the trigger started`,
        );
      }),
  ),
  masterCase(
    'G376M-7.2',
    "The forward names the meter's port",
    `${STD} AFN 10H F1 terminal port number 1–31 (docs/gdw376.md §3.4)`,
    (ctx) =>
      withForward(ctx, 'G376M-7.2', (request) => {
        const port = forwardBody(request)?.body.port;
        if (port !== ctx.config.meter.port) {
          return fail(`the forward goes to port ${port}, the meter is on port ${ctx.config.meter.port}`);
        }
        return pass(`port ${port}`);
      }),
  ),
  masterCase(
    'G376M-7.3',
    "The forward control word sets the meter's line",
    `${STD} AFN 10H F1 control word: baud D7–D5, stop D4, parity D3–D2, data bits D1–D0 (docs/gdw376.md §3.4)`,
    (ctx) =>
      withForward(ctx, 'G376M-7.3', (request) => {
        const b = forwardBody(request)?.body;
        if (!b) return skipped('no forward unit');
        const want = ctx.config.meter.serial;
        const got = b.serial;
        const line = (s: typeof want) => `${s.baud} ${s.dataBits}${s.parity[0].toUpperCase()}${s.stopBits}`;
        if (
          got.baud !== want.baud ||
          got.parity !== want.parity ||
          got.dataBits !== want.dataBits ||
          got.stopBits !== want.stopBits
        ) {
          return fail(
            `control word ${hex2(b.controlWord)} = ${line(got)}; the meter's line is ${line(want)}`,
          );
        }
        return pass(`control word ${hex2(b.controlWord)} = ${line(got)}`);
      }),
  ),
  masterCase(
    'G376M-7.4',
    'The forward timeouts leave the meter time to answer',
    `${STD} AFN 10H F1 frame-wait (D7 unit) and byte-wait timeouts (docs/gdw376.md §3.4, §3.7)`,
    (ctx) =>
      withForward(ctx, 'G376M-7.4', (request) => {
        const b = forwardBody(request)?.body;
        if (!b) return skipped('no forward unit');
        const frameMs = b.frameTimeout.unit === 's' ? b.frameTimeout.value * 1000 : b.frameTimeout.value;
        const settings = {
          baudRate: b.serial.baud,
          dataBits: 8,
          parity: b.serial.parity,
          stopBits: b.serial.stopBits === 2 ? 2 : 1,
        } as const;
        const content = hexToBytes(b.content);
        // Request out, a long reply (64 bytes) back, plus the meter's turnaround: less than this, no meter answers.
        const needMs = Math.ceil(wireTimeMs(content.length + 64, settings) + 50);
        const text = `frame-wait ${b.frameTimeout.value}${b.frameTimeout.unit === 's' ? ' s' : ' (D7 = 0)'}, byte-wait ${b.byteTimeout.raw} (${b.byteTimeout.ms} ms)`;
        if (frameMs < needMs)
          return fail(`${text}: a meter at ${b.serial.baud} bit/s needs about ${needMs} ms`);
        if (b.byteTimeout.raw === 0)
          return fail(`${text}: a byte-wait of 0 ends the meter's reply after its first byte`);
        if (b.frameTimeout.unit === 'ms') {
          return nonStrict(
            `${text}: D7 = 0 is read as ms by some terminals and 10 ms by others (docs/gdw376.md §3.4)`,
          );
        }
        return pass(text);
      }),
  ),
  masterCase(
    'G376M-7.5',
    'The forwarded frame reads the meter',
    `${STD} AFN 10H F1 content (docs/gdw376.md §3.4) carrying a CJ/T 188 / DL/T 645 read request (docs/cjt188.md §1, docs/dlt645.md §2)`,
    (ctx) =>
      withForward(ctx, 'G376M-7.5', (request) => {
        const b = forwardBody(request)?.body;
        if (!b) return skipped('no forward unit');
        const m = ctx.config.meter;
        const proto = meterProtocol(m.protocol);
        const decoded = proto.decode(hexToBytes(b.content));
        if (decoded.kind !== 'frame') {
          return fail(
            `the content is not a ${proto.title} frame (${decoded.kind === 'error' ? decoded.error.message : 'incomplete'})`,
          );
        }
        const frame = decoded.frame;
        if (frame.direction !== 'request')
          return fail(`the content is a ${proto.title} reply, not a request`);
        if (frame.address !== m.address)
          return fail(`the content is addressed to meter ${frame.address}, not ${m.address}`);
        const reply = ctx.makeMeter().respondToFrame(frame);
        if (reply.length === 0)
          return fail(`meter ${m.address} would not answer the forwarded ${proto.title} frame`);
        return pass(`a ${proto.title} request to ${frame.address} that the meter answers`);
      }),
  ),
  masterCase(
    'G376M-7.6',
    "The reading the master reports is the meter's",
    `${STD} AFN 10H F1 reply: port, length k, the meter's answer, RSEQ = PSEQ (docs/gdw376.md §3.4)`,
    (ctx) =>
      withForward(ctx, 'G376M-7.6', (_request, exchange) => valueVerdict(exchange, 'answered in order')),
  ),
  masterCase(
    'G376M-7.7',
    'A forward reply with another SEQ is not taken for the answer',
    'field practice (docs/field-notes.md §8: replies are matched by SEQ)',
    async (ctx) => {
      if (!ctx.config.trigger)
        return skipped('needs --trigger: a command that makes the master read the meter');
      const exchange = await ctx.forwardExchange('G376M-7.7', 'stray-then-meter');
      if (!exchange.request) return skipped('the master sent no forward request (see G376M-7.1)');
      return valueVerdict(exchange, 'after a stray reply with another SEQ');
    },
    'a late reply to an earlier forward carries its old SEQ; a master that takes the first reply that comes ' +
      'reports the earlier reading as this one',
  ),
  masterCase(
    'G376M-7.8',
    'A silent meter is reported as a failed read, not with a reading',
    `${STD} AFN 10H F1 reply with content length k = 0 (docs/gdw376.md §3.4 silence) / field practice`,
    async (ctx) => {
      if (!ctx.config.trigger)
        return skipped('needs --trigger: a command that makes the master read the meter');
      const { first, silent } = await ctx.silentExchange('G376M-7.8');
      if (!first.request || first.reading === undefined) {
        return skipped('the first read did not reach the meter (see G376M-7.1)');
      }
      if (!silent.request) return skipped('the second read sent no forward request');
      const out = silent.trigger;
      const json = /"(?:value|AccumVal)"\s*:\s*-?\d/.test(out.stdout);
      const stale = printedValues(out.stdout).some(
        (v) => Math.abs(v - (first.reading ?? Number.NaN)) < 0.005,
      );
      if (json || stale) {
        return fail(
          `the meter did not answer, yet the trigger printed ${JSON.stringify(out.stdout.trim().slice(0, 160))}` +
            `${stale ? ` (the earlier reading ${first.reading})` : ''}`,
        );
      }
      return pass(
        `the silent meter's read ended with exit ${out.exitCode ?? out.signal} and no reading` +
          `${out.stderr.trim() ? `: ${out.stderr.trim().slice(0, 120)}` : ''}`,
      );
    },
    'the terminal reports a meter that stayed silent with an empty reply; a platform that shows the last known ' +
      'value instead bills a reading that was never taken',
  ),
];

/** Sorted by id, numerically within each group. */
export function masterCatalogue(): MasterCase[] {
  return [...MASTER_CASES].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}
