import { hexToBytes } from '../../../protocols/bytes.ts';
import {
  AFN_CLASS1_DATA,
  AFN_CONFIRM,
  AFN_FORWARD,
  buildDataRequest,
  buildForwardRequest,
  type Gdw376Frame,
  type Gdw376TimeLabel,
} from '../../../protocols/gdw376/index.ts';
import { meterProtocol } from '../../../protocols/registry.ts';
import type { ConformanceCase, Verdict } from '../runner.ts';
import { type ConcentratorCaseContext, isHeartbeat, isLogin, isResponse } from './concentrator-context.ts';
import type { ConfirmForm, HeardFrame } from './concentrator-session.ts';

/**
 * The cases of the concentrator role (issue 11): meterlab is the master station, the device under test is a
 * Q/GDW 376.1 terminal. Clauses cite the project's notes on the standard (docs/gdw376.md, with their public
 * sources); the standard's text was not available, so where a case checks what real master stations need
 * rather than what a text says, the clause is "field practice" with the reason.
 * @packageDocumentation
 */

export type ConcentratorCase = ConformanceCase<ConcentratorCaseContext>;

const pass = (message: string): Verdict => ({ grade: 'pass', message });
const fail = (message: string): Verdict => ({ grade: 'fail', message });
const skipped = (message: string): Verdict => ({ grade: 'skipped', message });

function kase(
  id: string,
  title: string,
  clause: string,
  run: (ctx: ConcentratorCaseContext) => Promise<Verdict>,
  reason?: string,
): ConcentratorCase {
  return reason === undefined
    ? { id, title, clause, origin: 'code', run }
    : { id, title, clause, reason, origin: 'code', run };
}

const hex = (n: number, width = 2) => n.toString(16).toUpperCase().padStart(width, '0');

/** The first login of the run (or skipped, in server mode, when the concentrator sends none). */
async function firstLogin(ctx: ConcentratorCaseContext): Promise<HeardFrame | Verdict> {
  const { session, config } = ctx;
  const wait = config.mode === 'connect' ? Math.min(config.linkWaitMs, 3000) : config.linkWaitMs;
  const login = await session.waitFor(isLogin, wait, 0, 'login (AFN 02H F1)');
  if (login) return login;
  if (config.mode === 'connect') {
    return skipped('the concentrator is in server mode and sent no login, so there is nothing to judge');
  }
  const drop = session.drops[0];
  if (drop) {
    return fail(`no login frame could be read: the first bytes were dropped (${drop.code}: ${drop.reason})`);
  }
  return fail(`no login within ${config.linkWaitMs} ms of the connection`);
}

/** A login-frame check: runs `judge` on the first login. */
function loginCase(
  id: string,
  title: string,
  clause: string,
  judge: (h: HeardFrame, ctx: ConcentratorCaseContext) => Verdict,
): ConcentratorCase {
  return kase(id, title, clause, async (ctx) => {
    const login = await firstLogin(ctx);
    return 'grade' in login ? login : judge(login, ctx);
  });
}

/** Problems of the SEQ of a terminal-initiated single frame that wants a confirm. */
function seqProblems(f: Gdw376Frame): string[] {
  const p: string[] = [];
  if (!f.seq.fir || !f.seq.fin)
    p.push(`FIR/FIN ${Number(f.seq.fir)}/${Number(f.seq.fin)}, expected 1/1 (single frame)`);
  if (!f.seq.con) p.push('CON is 0: the frame does not ask for the confirm the master sends');
  if (f.seq.tpv !== (f.aux.tp !== undefined)) p.push('TpV does not match the presence of Tp');
  return p;
}

/** Waits for the next heartbeat after log position `from` on the current connection. */
function nextHeartbeat(ctx: ConcentratorCaseContext, from: number, waitMs = ctx.heartbeatWaitMs) {
  return ctx.session.waitFor(isHeartbeat, waitMs, from, 'heartbeat (AFN 02H F3)');
}

/** Restores confirms in F1 and waits for the link to be up again (after cases that disturb it). */
async function restore(ctx: ConcentratorCaseContext): Promise<void> {
  ctx.session.loginConfirm = 'F1';
  ctx.session.heartbeatConfirm = 'F1';
  if (!(await ctx.session.waitOnline(ctx.config.linkWaitMs)))
    ctx.session.trace.note('the link did not come back');
}

/**
 * A confirm form is accepted when, after a heartbeat answered in that form, the next link check is a heartbeat
 * about one period later on the same connection: not a resend (sooner), not a login (a reconnect).
 */
async function confirmFormCase(ctx: ConcentratorCaseContext, form: ConfirmForm): Promise<Verdict> {
  const period = ctx.heartbeatMs;
  if (period === undefined)
    return skipped('the heartbeat period is unknown (give --heartbeat, or run C376-2.2)');
  if (!(await ctx.session.waitOnline(ctx.config.linkWaitMs)))
    return skipped('the concentrator is not logged in');
  const { session } = ctx;
  session.heartbeatConfirm = form;
  try {
    const confirmed = await nextHeartbeat(ctx, session.mark);
    if (!confirmed) return fail(`no heartbeat within ${Math.round(ctx.heartbeatWaitMs)} ms`);
    session.trace.note(
      `heartbeat SEQ ${confirmed.frame.seq.seq} answered with ${form}; watching what follows`,
    );
    session.heartbeatConfirm = 'F1';
    const next = await session.waitFor(
      (h) => isHeartbeat(h) || isLogin(h),
      ctx.heartbeatWaitMs,
      confirmed.index + 1,
      'further link check',
    );
    if (!next)
      return fail(
        `nothing followed the ${form}-confirmed heartbeat within ${Math.round(ctx.heartbeatWaitMs)} ms`,
      );
    const gap = Math.round(next.at - confirmed.at);
    if (isLogin(next) || next.connection !== confirmed.connection) {
      return {
        grade: 'fail',
        message: `after the ${form} confirm it logged in again ${gap} ms later: the confirm was not taken`,
      };
    }
    if (gap < 0.75 * period) {
      return {
        grade: 'fail',
        message: `it sent another heartbeat ${gap} ms after the ${form}-confirmed one (period ${period} ms): a resend, the confirm was not taken`,
      };
    }
    return pass(`confirm ${form} taken: the next heartbeat came ${gap} ms later, on the same connection`);
  } finally {
    session.heartbeatConfirm = 'F1';
  }
}

/** Sends `frame` and waits for the first response after it (PRM = 0 uplink). */
async function request(
  ctx: ConcentratorCaseContext,
  frame: Gdw376Frame,
  waitMs: number,
  label?: string,
): Promise<{ sentAt: number; reply: HeardFrame | undefined }> {
  const from = ctx.session.mark;
  const sentAt = ctx.session.clock.now();
  if (!(await ctx.session.send(frame, label))) return { sentAt, reply: undefined };
  const reply = await ctx.session.waitFor(isResponse, waitMs, from, `answer to SEQ ${frame.seq.seq}`);
  return { sentAt, reply };
}

/** AFN 0C F2 for p0 (the terminal's clock): a request every terminal answers at once, with data or a deny. */
function clockRequest(ctx: ConcentratorCaseContext, t: { a1: string; a2: number }): Gdw376Frame {
  return buildDataRequest({
    ...t,
    seq: ctx.session.nextPseq(),
    afn: AFN_CLASS1_DATA,
    units: [{ pn: [0], fn: [2] }],
  });
}

interface ForwardOptions {
  address: string;
  port?: number;
  baud?: number;
  tp?: Gdw376TimeLabel;
}

/** An AFN 10 F1 forward of the meter protocol's everyday read to `address`. */
function forwardRead(ctx: ConcentratorCaseContext, t: { a1: string; a2: number }, o: ForwardOptions) {
  const meterRequest = meterProtocol(ctx.config.meterProtocol).buildReadRequest({ address: o.address });
  const frame = buildForwardRequest({
    ...t,
    seq: ctx.session.nextPseq(),
    port: o.port ?? ctx.config.port,
    serial: { baud: o.baud ?? ctx.config.meterBaud, parity: 'even', dataBits: 8, stopBits: 1 },
    frameTimeout: { value: ctx.config.frameTimeoutS, unit: 's' },
    byteTimeout: 10,
    content: meterRequest,
    tp: o.tp,
  });
  return { frame, meterRequest };
}

/** What the forward of a read got back: a meter reply, no reply (k = 0), a deny, or nothing. */
type ForwardOutcome =
  | { kind: 'reply'; heard: HeardFrame; content: Uint8Array }
  | { kind: 'empty'; heard: HeardFrame }
  | { kind: 'deny'; heard: HeardFrame }
  | { kind: 'other'; heard: HeardFrame }
  | { kind: 'none' };

async function forward(ctx: ConcentratorCaseContext, t: { a1: string; a2: number }, o: ForwardOptions) {
  const { frame, meterRequest } = forwardRead(ctx, t, o);
  const wait = ctx.config.frameTimeoutS * 1000 + ctx.config.replyWaitMs;
  const { sentAt, reply } = await request(ctx, frame, wait, 'forward');
  const outcome = forwardOutcome(reply);
  return { frame, meterRequest, sentAt, outcome };
}

function forwardOutcome(reply: HeardFrame | undefined): ForwardOutcome {
  if (!reply) return { kind: 'none' };
  const f = reply.frame;
  if (
    f.afn === AFN_CONFIRM &&
    f.units.some(
      (u) =>
        u.body.kind === 'deny-all' || (u.body.kind === 'confirm-items' && u.body.items.some((i) => !i.ok)),
    )
  ) {
    return { kind: 'deny', heard: reply };
  }
  const body = f.units[0]?.body;
  if (f.afn === AFN_FORWARD && body?.kind === 'forward-reply') {
    return body.content === ''
      ? { kind: 'empty', heard: reply }
      : { kind: 'reply', heard: reply, content: hexToBytes(body.content) };
  }
  return { kind: 'other', heard: reply };
}

/** Problems of a forward reply's header against its request (C, AFN, SEQ echo, port echo). */
function forwardReplyProblems(request: Gdw376Frame, reply: HeardFrame, port: number): string[] {
  const f = reply.frame;
  const p: string[] = [];
  if (f.control.dir !== 'up' || f.control.prm || f.control.fn !== 8) {
    p.push(`C=${hex(f.control.raw)}, expected 88 or A8 (uplink response, user data)`);
  }
  if (f.seq.seq !== request.seq.seq)
    p.push(`RSEQ ${f.seq.seq}, expected the request's PSEQ ${request.seq.seq}`);
  const body = f.units[0]?.body;
  if (body?.kind === 'forward-reply' && body.port !== port)
    p.push(`port ${body.port} in the reply, expected ${port}`);
  return p;
}

function describeOutcome(o: ForwardOutcome): string {
  switch (o.kind) {
    case 'none':
      return 'no answer';
    case 'empty':
      return 'an AFN 10H F1 reply with k = 0 (no meter reply)';
    case 'deny':
      return 'a deny (AFN 00H)';
    case 'reply':
      return `an AFN 10H F1 reply carrying ${o.content.length} meter byte(s)`;
    case 'other':
      return `an unexpected frame (AFN ${hex(o.heard.frame.afn)}H)`;
  }
}

/** The terminal's address, or a skip when no login told it and none was given. */
function terminalOf(ctx: ConcentratorCaseContext): { a1: string; a2: number } | Verdict {
  return (
    ctx.terminal ??
    skipped('the concentrator address is unknown: it sent no login and --a1/--a2 were not given')
  );
}

/** The time label of a request sent now (docs/gdw376.md §3.1 AUX: PFC, send time DD hh:mm:ss, delay). */
function timeLabelNow(ctx: ConcentratorCaseContext, pfc: number): Gdw376TimeLabel {
  const d = new Date(ctx.session.clock.now() + ctx.config.utcOffsetMinutes * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return {
    pfc,
    sendTime: `${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`,
    delayMinutes: 5,
  };
}

const S35 = 'Q/GDW 1376.1 link check AFN 02H (docs/gdw376.md §3.5)';

/** Every concentrator case, in id order. */
export function concentratorCases(): ConcentratorCase[] {
  return [
    loginCase(
      'C376-1.1',
      'Login frame: L field, both copies, protocol id',
      'Q/GDW 1376.1 frame format: L twice, equal; D15–D2 user-data length, D1–D0 protocol id 2 (docs/gdw376.md §3.1)',
      (h) => {
        const r = h.raw;
        const l1 = r[1] | (r[2] << 8);
        const l2 = r[3] | (r[4] << 8);
        const problems: string[] = [];
        if (l1 !== l2) problems.push(`L copies differ (${hex(l1, 4)} / ${hex(l2, 4)})`);
        if (l1 >> 2 !== r.length - 8)
          problems.push(`L says ${l1 >> 2} user-data bytes, ${r.length - 8} came`);
        if (problems.length > 0) return fail(problems.join('; '));
        if ((l1 & 3) === 1) {
          return {
            grade: 'non-strict',
            message:
              'protocol id 1 (Q/GDW 130-2005) instead of 2: masters that accept both read it, strict ones refuse',
          };
        }
        return pass(`L ${hex(r[1])} ${hex(r[2])} twice: ${l1 >> 2} user-data bytes, protocol id 2`);
      },
    ),
    loginCase(
      'C376-1.2',
      'Login frame: control field C9, AFN 02H F1 for p0',
      'Q/GDW 1376.1 control field (DIR 1, PRM 1, function 9 link test) and AFN 02H F1 (docs/gdw376.md §3.2, §3.5)',
      (h) => {
        const f = h.frame;
        const p: string[] = [];
        if (f.control.raw !== 0xc9) p.push(`C=${hex(f.control.raw)}, expected C9 (uplink, PRM 1, link test)`);
        const unit = f.units[0];
        if (f.units.length !== 1 || unit.pn.join() !== '0' || unit.fn.join() !== '1') {
          p.push(
            `data units ${f.units.map((u) => `p${u.pn.join(',')} F${u.fn.join(',')}`).join(' ')}, expected p0 F1`,
          );
        }
        return p.length ? fail(p.join('; ')) : pass('C=C9, AFN 02H, p0 F1');
      },
    ),
    loginCase(
      'C376-1.3',
      'Login frame: address A1, A2, A3',
      'Q/GDW 1376.1 address field: A1 BCD area code, A2 terminal address 1–65535, A3 group flag 0 (docs/gdw376.md §3.1)',
      (h, ctx) => {
        const f = h.frame;
        const p: string[] = [];
        if (!/^\d{4}$/.test(f.a1)) p.push(`A1 "${f.a1}" is not 4 BCD digits`);
        if (f.a2 === 0) p.push('A2 is 0, which is no terminal address');
        if (f.a3.group) p.push('A3 has the group flag set in a login');
        if (ctx.config.a1 !== undefined && f.a1 !== ctx.config.a1)
          p.push(`A1 ${f.a1}, expected ${ctx.config.a1}`);
        if (ctx.config.a2 !== undefined && f.a2 !== ctx.config.a2)
          p.push(`A2 ${f.a2}, expected ${ctx.config.a2}`);
        return p.length ? fail(p.join('; ')) : pass(`A1 ${f.a1}, A2 ${f.a2}, MSA ${f.a3.msa}`);
      },
    ),
    loginCase(
      'C376-1.4',
      'Login frame: SEQ with FIR, FIN and CON',
      'Q/GDW 1376.1 SEQ: a single frame has FIR = FIN = 1; a login asks for a confirm, CON = 1 (docs/gdw376.md §3.1, §3.5)',
      (h) => {
        const p = seqProblems(h.frame);
        return p.length
          ? fail(p.join('; '))
          : pass(`SEQ ${hex(h.raw[13])}: FIR FIN CON, PSEQ ${h.frame.seq.seq}`);
      },
    ),
    kase('C376-2.1', 'Heartbeat frame: C9, AFN 02H F3, CON', S35, async (ctx) => {
      if (!(await ctx.session.waitOnline(ctx.config.linkWaitMs)))
        return skipped('the concentrator is not logged in');
      const hb = await nextHeartbeat(ctx, 0, ctx.heartbeatWaitMs);
      if (!hb) return fail('no heartbeat after the login');
      const f = hb.frame;
      const p = seqProblems(f);
      if (f.control.raw !== 0xc9) p.push(`C=${hex(f.control.raw)}, expected C9`);
      const t = ctx.terminal;
      if (t && (f.a1 !== t.a1 || f.a2 !== t.a2))
        p.push(`address ${f.a1}/${f.a2} is not the login's ${t.a1}/${t.a2}`);
      return p.length ? fail(p.join('; ')) : pass(`heartbeat SEQ ${hex(hb.raw[13])}, C9, p0 F3`);
    }),
    kase(
      'C376-2.2',
      'Heartbeat period as configured',
      'Q/GDW 1376.1 AFN 04H F1 heartbeat period; the terminal sends F3 every period (docs/gdw376.md §3.4, §3.5)',
      async (ctx) => {
        const { session, config } = ctx;
        if (!(await session.waitOnline(config.linkWaitMs)))
          return skipped('the concentrator is not logged in');
        const wait = config.heartbeatMs === undefined ? config.linkWaitMs : 2 * config.heartbeatMs + 1000;
        const a = await nextHeartbeat(ctx, session.mark, wait);
        if (!a) return fail(`no heartbeat within ${wait} ms`);
        const b = await session.waitFor(
          (h) => isHeartbeat(h) && h.connection === a.connection,
          wait,
          a.index + 1,
          'second heartbeat',
        );
        if (!b) return fail(`one heartbeat, then none within ${wait} ms`);
        const interval = Math.round(b.at - a.at);
        ctx.observedHeartbeatMs = interval;
        const p = config.heartbeatMs;
        if (p === undefined) {
          return { grade: 'info', message: `heartbeat every ${interval} ms (give --heartbeat to judge it)` };
        }
        const off = Math.abs(interval - p);
        if (off <= Math.max(0.1 * p, 250)) return pass(`heartbeat every ${interval} ms (configured ${p} ms)`);
        if (off <= 0.5 * p) {
          return {
            grade: 'non-strict',
            message: `heartbeat every ${interval} ms, configured ${p} ms (off by more than 10 %)`,
          };
        }
        return fail(`heartbeat every ${interval} ms, configured ${p} ms`);
      },
    ),
    kase(
      'C376-2.3',
      'Heartbeat clock (2013 form)',
      'Q/GDW 1376.1-2013 AFN 02H F3 with the terminal clock in data format A.1 (docs/gdw376.md §3.4)',
      async (ctx) => {
        const hb = await nextHeartbeat(ctx, 0);
        if (!hb) return skipped('no heartbeat');
        const body = hb.frame.units[0]?.body;
        if (body?.kind !== 'heartbeat' || body.clock === undefined) {
          return { grade: 'info', message: 'the 2009 form: the heartbeat carries no clock' };
        }
        const local = Date.parse(`${body.clock.replace(' ', 'T')}Z`);
        const t = local - ctx.config.utcOffsetMinutes * 60_000;
        const off = Math.round((t - hb.at) / 1000);
        if (!Number.isFinite(off)) return fail(`the clock "${body.clock}" is no date`);
        if (Math.abs(off) > 300) {
          return {
            grade: 'non-strict',
            message: `the heartbeat clock ${body.clock} is ${off} s off the master's (UTC${ctx.config.utcOffsetMinutes >= 0 ? '+' : ''}${ctx.config.utcOffsetMinutes / 60}): the master may have to set it`,
          };
        }
        return pass(`heartbeat carries the clock ${body.clock} (${off} s off the master's)`);
      },
    ),
    kase(
      'C376-3.1',
      'Confirm F1 (all confirmed) is taken',
      'Q/GDW 1376.1 AFN 00H F1 answers a link check (docs/gdw376.md §3.5, vector Q10)',
      async (ctx) => confirmFormCase(ctx, 'F1'),
    ),
    kase(
      'C376-3.2',
      'Confirm F3 (per item) is taken',
      'Q/GDW 1376.1 AFN 00H F3: AFN 02H, then DA DT ERR per item (docs/gdw376.md §3.5)',
      async (ctx) => confirmFormCase(ctx, 'F3'),
    ),
    kase(
      'C376-3.3',
      'Non-standard F3 confirm (DT 03 00) is tolerated',
      'field practice',
      async (ctx) => {
        const v = await confirmFormCase(ctx, 'F3-nonstandard');
        if (v.grade === 'fail') {
          return { grade: 'non-strict', message: `${v.message} (strictly right, but such masters exist)` };
        }
        return v;
      },
      'KSY separateConfirm.3761 (vector Q5) writes the F3 DT as 03 00; terminals that take it work with such masters (docs/gdw376.md §3.5)',
    ),
    kase(
      'C376-4.1',
      'PSEQ advances from one link check to the next',
      'Q/GDW 1376.1 SEQ D3–D0: the initiator numbers each new frame, PSEQ + 1 modulo 16 (docs/gdw376.md §3.1)',
      async (ctx) => {
        const { session } = ctx;
        let frames = session.heard.filter((h) => isLogin(h) || isHeartbeat(h));
        if (frames.length < 3) {
          await nextHeartbeat(ctx, session.mark);
          await nextHeartbeat(ctx, session.mark);
          frames = session.heard.filter((h) => isLogin(h) || isHeartbeat(h));
        }
        const recent = frames.slice(-6);
        const caseStart = session.clock.now() - session.trace.elapsedMs;
        for (const h of recent) if (h.at < caseStart) session.cite(h);
        if (recent.length < 2) return skipped('fewer than two link checks heard');
        const seqs = recent.map((h) => h.frame.seq.seq);
        const steps = seqs.slice(1).map((s, i) => (s - seqs[i] + 16) & 15);
        if (steps.some((s) => s === 0)) {
          return {
            grade: 'non-strict',
            message: `PSEQ ${seqs.join(', ')}: repeats, so a confirm cannot be matched to its frame (masters that echo SEQ still work)`,
          };
        }
        return pass(`PSEQ ${seqs.join(', ')}${steps.every((s) => s === 1) ? '' : ' (not always + 1)'}`);
      },
    ),
    kase(
      'C376-4.2',
      'A response echoes the request PSEQ as RSEQ',
      'Q/GDW 1376.1 SEQ: RSEQ of a response = PSEQ of its request (docs/gdw376.md §3.1; masters match by SEQ, docs/field-notes.md §8)',
      async (ctx) => {
        const t = terminalOf(ctx);
        if ('grade' in t) return t;
        const results: string[] = [];
        for (let i = 0; i < 2; i++) {
          const frame = clockRequest(ctx, t);
          const { reply } = await request(ctx, frame, ctx.config.replyWaitMs, 'AFN 0CH F2 (terminal clock)');
          if (!reply)
            return fail(
              `no answer (data or deny) to AFN 0CH F2 SEQ ${frame.seq.seq} within ${ctx.config.replyWaitMs} ms`,
            );
          if (reply.frame.seq.seq !== frame.seq.seq) {
            return fail(`answer to PSEQ ${frame.seq.seq} carries RSEQ ${reply.frame.seq.seq}`);
          }
          results.push(`PSEQ ${frame.seq.seq} → RSEQ ${reply.frame.seq.seq}`);
        }
        return pass(results.join(', '));
      },
    ),
    kase(
      'C376-5.1',
      'AFN 10H F1 forward to a known meter: the meter reply comes back',
      'Q/GDW 1376.1 AFN 10H F1 transparent forwarding: port, length k, the meter reply (docs/gdw376.md §3.4)',
      async (ctx) => {
        const t = terminalOf(ctx);
        if ('grade' in t) return t;
        const address = ctx.config.meters[0];
        if (address === undefined) return skipped('no meter behind the concentrator was named (--meters)');
        const { frame, meterRequest, outcome } = await forward(ctx, t, { address });
        if (outcome.kind !== 'reply')
          return fail(`expected the meter's reply, got ${describeOutcome(outcome)}`);
        const p = forwardReplyProblems(frame, outcome.heard, ctx.config.port);
        const judged = meterProtocol(ctx.config.meterProtocol).judgeReply(meterRequest, outcome.content);
        if (!judged.ok) p.push(`the embedded frame is not the meter's answer: ${judged.message}`);
        else if (judged.reading.address !== address)
          p.push(`the embedded reply is from ${judged.reading.address}`);
        return p.length
          ? fail(p.join('; '))
          : pass(`meter ${address} answered through port ${ctx.config.port}`);
      },
    ),
    kase(
      'C376-5.2',
      'AFN 10H F1 forward: the reading is the meter’s',
      'Q/GDW 1376.1 AFN 10H F1: the reply carries the meter frame unchanged (docs/gdw376.md §3.4)',
      async (ctx) => {
        const t = terminalOf(ctx);
        if ('grade' in t) return t;
        const address = ctx.config.meters[0];
        if (address === undefined) return skipped('no meter behind the concentrator was named (--meters)');
        const { meterRequest, sentAt, outcome } = await forward(ctx, t, { address });
        if (outcome.kind !== 'reply') return skipped(`no meter reply to judge (${describeOutcome(outcome)})`);
        const judged = meterProtocol(ctx.config.meterProtocol).judgeReply(meterRequest, outcome.content);
        if (!judged.ok || typeof judged.reading.value !== 'number') {
          return skipped(
            `the embedded frame carries no reading (${judged.ok ? 'no value' : judged.message})`,
          );
        }
        const value = judged.reading.value;
        const model = ctx.config.readings;
        if (!model) {
          return {
            grade: 'info',
            message: `reading ${value} ${judged.reading.unit} (meterlab does not serve the meters: --meters-on)`,
          };
        }
        const low = model.readingAt(address, sentAt);
        const high = model.readingAt(address, outcome.heard.at);
        if (value < low - 0.005 || value > high + 0.005) {
          return fail(
            `reading ${value}, but meter ${address} read ${low === high ? low : `${low}..${high}`} at the time`,
          );
        }
        return pass(`reading ${value} ${judged.reading.unit}, as served`);
      },
    ),
    kase(
      'C376-5.3',
      'Forward to an absent meter: answered with k = 0 after the frame timeout',
      'field practice',
      async (ctx) => {
        const t = terminalOf(ctx);
        if ('grade' in t) return t;
        const address = ctx.absentMeter();
        const { frame, sentAt, outcome } = await forward(ctx, t, { address });
        if (outcome.kind === 'none') {
          return fail(
            `no answer within the frame timeout (${ctx.config.frameTimeoutS} s) + ${ctx.config.replyWaitMs} ms`,
          );
        }
        if (outcome.kind === 'deny') {
          return {
            grade: 'non-strict',
            message: 'denied (AFN 00H) instead of k = 0: masters read both as a silent meter',
          };
        }
        if (outcome.kind !== 'empty')
          return fail(`expected k = 0 for meter ${address}, got ${describeOutcome(outcome)}`);
        const p = forwardReplyProblems(frame, outcome.heard, ctx.config.port);
        const took = Math.round(outcome.heard.at - sentAt);
        return p.length ? fail(p.join('; ')) : pass(`k = 0 for the absent meter ${address} after ${took} ms`);
      },
      'the sources show the k field but none states the k = 0 rule in words; meterlab master reads k = 0 as METER_TIMEOUT (docs/gdw376.md §3.4 "Silence")',
    ),
    kase(
      'C376-5.4',
      'Forward on a port the concentrator does not have: denied',
      'Q/GDW 1376.1 AFN 00H F2 deny for a request that cannot be served (docs/gdw376.md §3.4)',
      async (ctx) => {
        const t = terminalOf(ctx);
        if ('grade' in t) return t;
        const port = ctx.config.absentPort;
        const { outcome } = await forward(ctx, t, {
          address: ctx.config.meters[0] ?? ctx.absentMeter(),
          port,
        });
        if (outcome.kind === 'deny') return pass(`port ${port} denied`);
        if (outcome.kind === 'empty') {
          return {
            grade: 'non-strict',
            message: `answered k = 0 on port ${port}: the master cannot tell a bad port from a silent meter`,
          };
        }
        return fail(`expected a deny for port ${port}, got ${describeOutcome(outcome)}`);
      },
    ),
    kase(
      'C376-5.5',
      'Forward control word is obeyed (baud rate)',
      'Q/GDW 1376.1 AFN 10H F1 control word: baud, stop bits, parity, data bits of the forward (docs/gdw376.md §3.4)',
      async (ctx) => {
        const t = terminalOf(ctx);
        if ('grade' in t) return t;
        const address = ctx.config.meters[0];
        if (address === undefined) return skipped('no meter behind the concentrator was named (--meters)');
        const baud = ctx.config.meterBaud === 9600 ? 2400 : 9600;
        const { outcome } = await forward(ctx, t, { address, baud });
        if (outcome.kind === 'empty' || outcome.kind === 'deny') {
          return pass(
            `forward at ${baud} bit/s to meters on ${ctx.config.meterBaud} bit/s: ${describeOutcome(outcome)}`,
          );
        }
        if (outcome.kind === 'reply') {
          return {
            grade: 'non-strict',
            message: `asked for ${baud} bit/s, yet the meter on ${ctx.config.meterBaud} bit/s answered: the control word is ignored (works while masters send the meters' own settings)`,
          };
        }
        return fail(`expected k = 0 or a deny, got ${describeOutcome(outcome)}`);
      },
    ),
    kase(
      'C376-6.1',
      'One frame per TCP segment',
      'field practice',
      async (ctx) => {
        const t = terminalOf(ctx);
        if ('grade' in t) return t;
        const { session } = ctx;
        const from = session.mark;
        const a = clockRequest(ctx, t);
        const b = clockRequest(ctx, t);
        await session.send(a, 'first of two requests sent together');
        await session.send(b, 'second');
        await session.waitFor(isResponse, ctx.config.replyWaitMs, from, 'first answer');
        await session.waitFor(
          (h) => isResponse(h) && h.frame.seq.seq === b.seq.seq,
          ctx.config.replyWaitMs,
          from,
          'second answer',
        );
        await session.sleep(100);
        const merged = session.heard.filter((h) => h.framesInRead > 1);
        if (merged.length > 0) {
          const caseStart = session.clock.now() - session.trace.elapsedMs;
          for (const h of merged.slice(0, 4)) if (h.at < caseStart) session.cite(h);
          const reads = new Set(merged.map((h) => `${h.connection}:${h.at}`)).size;
          return fail(
            `${merged.length} frames came ${merged[0].framesInRead} to a socket read (${reads} read(s)): masters that take a read as one frame drop the link`,
          );
        }
        const answers = session.heard.filter((h) => h.index >= from && isResponse(h)).length;
        if (answers < 2) return skipped(`only ${answers} answer(s) to two requests sent together`);
        return pass(`${session.heard.length} frames heard in the run, each in a read of its own`);
      },
      'TMNL 1.x validates each socket read as exactly one frame and closes the socket otherwise (docs/gdw376.md §3.7, docs/field-notes.md §8)',
    ),
    kase(
      'C376-6.2',
      'Request with password PW and time label Tp is answered',
      'Q/GDW 1376.1 AUX: PW in AFN 10H requests, Tp when SEQ TpV = 1 (docs/gdw376.md §3.1)',
      async (ctx) => {
        const t = terminalOf(ctx);
        if ('grade' in t) return t;
        const address = ctx.config.meters[0] ?? ctx.absentMeter();
        const tp = timeLabelNow(ctx, 0x5a);
        const { frame, outcome } = await forward(ctx, t, { address, tp });
        if (outcome.kind === 'none') return fail('a forward with PW and a current Tp got no answer');
        if (outcome.kind === 'deny') return fail('a forward with PW and a current Tp was denied');
        if (outcome.kind === 'other')
          return fail(`expected the forward reply, got ${describeOutcome(outcome)}`);
        const p = forwardReplyProblems(frame, outcome.heard, ctx.config.port);
        if (p.length) return fail(p.join('; '));
        const echoed = outcome.heard.frame.aux.tp;
        return pass(
          `answered (${describeOutcome(outcome)})${echoed ? `, Tp PFC ${echoed.pfc} in the reply` : ''}`,
        );
      },
    ),
    kase(
      'C376-7.1',
      'Relogin after the master closes the connection',
      'Q/GDW 1376.1 link management: the terminal reconnects and logs in again (docs/gdw376.md §3.5; DESIGN "reconnect with back-off")',
      async (ctx) => {
        const { session, config } = ctx;
        if (config.mode === 'connect') {
          await session.hangUp();
          await session.connect();
          const t = terminalOf(ctx);
          if ('grade' in t) return t;
          const { reply } = await request(ctx, clockRequest(ctx, t), config.replyWaitMs);
          return reply
            ? pass('took a new connection and answered on it')
            : fail('no answer on a new connection');
        }
        if (!(await session.waitOnline(config.linkWaitMs)))
          return skipped('the concentrator is not logged in');
        const before = session.current?.id ?? 0;
        const closedAt = session.clock.now();
        await session.hangUp();
        const login = await session.waitFor(
          (h) => isLogin(h) && h.connection > before,
          config.linkWaitMs,
          session.mark,
          'login on a new connection',
        );
        if (!login) return fail(`no new connection and login within ${config.linkWaitMs} ms of the close`);
        return pass(
          `logged in again on a new connection ${Math.round(login.at - closedAt)} ms after the close`,
        );
      },
    ),
    kase(
      'C376-7.2',
      'Heartbeats not confirmed: resend, then reconnect and log in',
      'Q/GDW 1376.1 AFN 04H F1 response timeout and resend count (docs/gdw376.md §3.4, §3.7)',
      async (ctx) => {
        const { session, config } = ctx;
        if (config.mode === 'connect')
          return skipped('server mode: the concentrator sends no heartbeat to confirm');
        if (!(await session.waitOnline(config.linkWaitMs)))
          return skipped('the concentrator is not logged in');
        const from = session.mark;
        const started = session.clock.now();
        session.heartbeatConfirm = 'none';
        try {
          const login = await session.waitFor(isLogin, config.linkWaitMs, from, 'relogin');
          const unconfirmed = session.heard.filter(
            (h) => h.index >= from && isHeartbeat(h) && (!login || h.index < login.index),
          );
          if (login) {
            return pass(
              `${unconfirmed.length} heartbeat(s) unconfirmed, then a new login ${Math.round(login.at - started)} ms after confirms stopped`,
            );
          }
          if (unconfirmed.length >= 2) {
            return {
              grade: 'non-strict',
              message: `${unconfirmed.length} heartbeats unconfirmed and no relogin within ${config.linkWaitMs} ms: a half-open link goes unnoticed`,
            };
          }
          return fail(
            `fell silent once confirms stopped (${unconfirmed.length} heartbeat(s) in ${config.linkWaitMs} ms)`,
          );
        } finally {
          await restore(ctx);
        }
      },
    ),
    kase(
      'C376-7.3',
      'Login not confirmed: retries with a back-off',
      'Q/GDW 1376.1 AFN 04H F1 response timeout and resend count (docs/gdw376.md §3.4); reconnect back-off (field practice)',
      async (ctx) => {
        const { session, config } = ctx;
        if (config.mode === 'connect') return skipped('server mode: the concentrator does not log in');
        if (!(await session.waitOnline(config.linkWaitMs)))
          return skipped('the concentrator is not logged in');
        session.loginConfirm = 'none';
        try {
          const from = session.mark;
          await session.hangUp();
          const logins: HeardFrame[] = [];
          const deadline = session.clock.now() + config.linkWaitMs;
          while (logins.length < 3 && session.clock.now() < deadline) {
            const next = await session.waitFor(
              isLogin,
              deadline - session.clock.now(),
              logins.at(-1) ? logins[logins.length - 1].index + 1 : from,
              'login retry',
            );
            if (!next) break;
            logins.push(next);
          }
          if (logins.length < 2)
            return fail(
              `${logins.length} login(s) and no retry within ${config.linkWaitMs} ms of an unconfirmed login`,
            );
          const gaps = logins.slice(1).map((h, i) => Math.round(h.at - logins[i].at));
          const text = `logins ${gaps.map((g) => `+${g} ms`).join(', ')} apart`;
          if (gaps.some((g) => g < config.minRetryGapMs))
            return fail(`${text}: faster than one per ${config.minRetryGapMs} ms floods the master`);
          if (gaps.length > 1 && gaps[gaps.length - 1] < 0.8 * gaps[0]) {
            return { grade: 'non-strict', message: `${text}: the retries come faster, not slower` };
          }
          return pass(text);
        } finally {
          await restore(ctx);
        }
      },
    ),
  ];
}
