import { buildValveRequest, type Cjt188DiOrder, encodeCjt188 } from '../../../protocols/cjt188/index.ts';
import {
  buildReadRequest as buildDlt645Read,
  buildTimeSync,
  encodeDlt645,
} from '../../../protocols/dlt645/index.ts';
import { otherAddress } from '../../../simulator/meter/meter-base.ts';
import type { ConformanceCase, Verdict } from '../runner.ts';
import { hex, type MeterCaseContext } from './meter-context.ts';
import type { HeardFrame } from './meter-session.ts';
import { describeMeterFrame, frameStart, type MeterSuiteProtocol } from './meter-wire.ts';

/**
 * The behavioural cases of the meter role (issue 11): what cannot be written as one request and one expected
 * reply — silence, preambles, chunking, junk, timing, echo rules, state changes. The request/reply cases live
 * as data in fixtures/conformance/. Clauses cite the standard's topic and where the fact was established
 * (docs/cjt188.md, docs/dlt645.md: the project.s protocol notes with their public sources); the standard texts were
 * not available, so "field practice" marks what real peers do rather than what a text says.
 * @packageDocumentation
 */

export type MeterCase = ConformanceCase<MeterCaseContext>;

const pass = (message: string): Verdict => ({ grade: 'pass', message });
const fail = (message: string): Verdict => ({ grade: 'fail', message });

function meterCase(
  id: string,
  title: string,
  clause: string,
  run: (ctx: MeterCaseContext) => Promise<Verdict>,
  reason?: string,
): MeterCase {
  return reason === undefined
    ? { id, title, clause, origin: 'code', run }
    : { id, title, clause, reason, origin: 'code', run };
}

/** Judges the everyday read: pass when answered properly, fail with what was wrong. */
async function readCase(ctx: MeterCaseContext, options: Parameters<MeterCaseContext['read']>[0] = {}) {
  const { outcome, ser } = await ctx.read(options);
  const problems = ctx.readProblems(outcome.reply, ser);
  return problems.length === 0
    ? pass(`answered: ${short(outcome.reply)}`)
    : fail(`expected a normal read reply: ${problems.join('; ')}`);
}

/** The request must get no answer at all; a good request afterwards must, or the silence proves nothing. */
async function silenceCase(
  ctx: MeterCaseContext,
  bytes: Uint8Array,
  what: string,
  label?: string,
): Promise<Verdict> {
  const outcome = await ctx.session.exchange(bytes, { label, settleMs: 0 });
  if (outcome.reply) return fail(`answered ${what}: ${short(outcome.reply)}`);
  if (!(await ctx.stillAnswers())) {
    return {
      grade: 'skipped',
      message: 'the meter did not answer a good request afterwards either, so its silence proves nothing',
    };
  }
  return pass(`stayed silent for ${what}, and answered the good request that followed`);
}

/** Reads with each preamble length; returns the counts that were not answered properly. */
async function unansweredPreambles(ctx: MeterCaseContext, counts: readonly number[]): Promise<number[]> {
  const missed: number[] = [];
  for (const preamble of counts) {
    const { outcome, ser } = await ctx.read({ preamble });
    if (ctx.readProblems(outcome.reply, ser).length > 0) missed.push(preamble);
  }
  return missed;
}

function short(heard: HeardFrame | undefined): string {
  if (!heard) return 'nothing';
  const text = describeMeterFrame(heard.frame);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

/** Cases both meter protocols share, numbered alike (M188-x.y / M645-x.y). */
function sharedCases(p: MeterSuiteProtocol): MeterCase[] {
  const std = p === 'cjt188' ? 'CJ/T 188-2004' : 'DL/T 645-2007';
  const ref = p === 'cjt188' ? 'docs/cjt188.md §1' : 'docs/dlt645.md §2';
  const id = (n: string) => `${p === 'cjt188' ? 'M188' : 'M645'}-${n}`;
  const fe = p === 'cjt188' ? { usual: [2, 3, 4], short: [0, 1] } : { usual: [1, 2, 3, 4], short: [0] };
  return [
    meterCase(
      id('1.1'),
      p === 'cjt188' ? 'Read current data 901F' : 'Read forward active energy 00010000',
      p === 'cjt188'
        ? `${std} read data C=01H, reply C=81H with DI SER and the 901F layout (docs/cjt188.md §1.5, §1.8)`
        : `${std} read data C=11H, reply C=91H with DI and value (docs/dlt645.md §2.2, §2.3)`,
      (ctx) => readCase(ctx),
    ),
    meterCase(
      id('3.2'),
      'One reply per request',
      `${std} master/slave exchange: one request, one reply (${ref}.2) / field practice`,
      async (ctx) => {
        const { bytes, ser } = ctx.readRequest();
        const settleMs = Math.max(500, 3 * ctx.session.wireTimeMs(64));
        const outcome = await ctx.session.exchange(bytes, { settleMs });
        const problems = ctx.readProblems(outcome.reply, ser);
        if (problems.length > 0)
          return { grade: 'skipped', message: `no proper reply: ${problems.join('; ')}` };
        if (outcome.extra.length > 0) {
          return fail(
            `sent ${outcome.extra.length} more frame(s) within ${settleMs} ms after its reply; a master that ` +
              'matches replies in order takes the extra one as the answer to its next request',
          );
        }
        return pass(`one reply, then nothing for ${settleMs} ms`);
      },
      'masters correlate a meter reply with the last request; a second copy is read as the next answer',
    ),
    meterCase(
      id('4.1'),
      'Silent for another address',
      `${std} address field: only the addressed meter answers (${p === 'cjt188' ? 'docs/cjt188.md §1.4' : 'docs/dlt645.md §2.1'})`,
      (ctx) => {
        const other = otherAddress(ctx.config.address);
        return silenceCase(ctx, ctx.readRequest({ address: other }).bytes, `a read to address ${other}`);
      },
    ),
    meterCase(
      id('4.3'),
      'Silent for a bad checksum',
      `${std} CS: sum from 68H to the last DATA byte mod 256; a frame that fails it is discarded (${ref}.2)`,
      (ctx) => {
        const bytes = ctx.readRequest().bytes;
        bytes[bytes.length - 2] = (bytes[bytes.length - 2] + 1) & 0xff;
        return silenceCase(
          ctx,
          bytes,
          'a read whose checksum is off by one',
          `the everyday read with CS off by one (${hex(bytes[bytes.length - 2])})`,
        );
      },
    ),
    meterCase(
      id('4.4'),
      'Silent for a truncated request',
      `${std} frame ends with CS and 16H (${ref}.2); a cut frame is not acted on`,
      (ctx) => {
        const full = ctx.readRequest().bytes;
        const bytes = full.slice(0, full.length - 2);
        return silenceCase(
          ctx,
          bytes,
          'a read cut before its CS and end byte',
          'the everyday read without CS and 16H',
        );
      },
    ),
    meterCase(
      id('5.1'),
      `Preamble of ${fe.usual[0]}–4 FE answered`,
      p === 'cjt188'
        ? `${std} wake-up preamble 0–4 FE (docs/cjt188.md §1.1: PAGE-US "唤醒符:0~4个FE"); masters send 2–4`
        : `${std} 1–4 FE before a request to wake the meter (docs/dlt645.md §2.1, RSDLT)`,
      async (ctx) => {
        const missed = await unansweredPreambles(ctx, fe.usual);
        return missed.length === 0
          ? pass(`answered with ${fe.usual.join(', ')} FE`)
          : fail(`no proper reply with ${missed.join(', ')} FE before the frame`);
      },
    ),
    meterCase(
      id('5.2'),
      `Preamble of ${fe.short.join(' or ')} FE answered`,
      p === 'cjt188'
        ? `${std} wake-up preamble 0–4 FE (docs/cjt188.md §1.1, PAGE-US)`
        : `field practice: DL/T 645 requests carry 1–4 FE (docs/dlt645.md §2.1)`,
      async (ctx) => {
        const missed = await unansweredPreambles(ctx, fe.short);
        return missed.length === 0
          ? pass(`answered with ${fe.short.join(' and ')} FE`)
          : {
              grade: 'non-strict',
              message:
                `no proper reply with ${missed.join(' or ')} FE; masters in the field send ` +
                `${fe.usual[0]}–4, so they reach it, but a reader that sends none does not`,
            };
      },
      p === 'cjt188'
        ? 'KINGDA sends 2, AIXI 3, SYN and NGGW 4 FE (docs/cjt188.md §1.1): a meter that needs a wake-up still works with them'
        : 'masters send 1–4 FE; some readers send none',
    ),
    meterCase(
      id('6.1'),
      'Request split in 3 chunks, 40 ms apart',
      'field practice: USB adapters and radio modules deliver a frame in pieces; the receiver frames by 68H/L, not by pause',
      async (ctx) => {
        const { bytes, ser } = ctx.readRequest();
        const third = Math.ceil(bytes.length / 3);
        const outcome = await ctx.session.exchange(bytes, { chunks: [third, third], gapMs: 40, settleMs: 0 });
        const problems = ctx.readProblems(outcome.reply, ser);
        return problems.length === 0
          ? pass('answered the request that arrived in 3 pieces')
          : fail(`expected a normal read reply: ${problems.join('; ')}`);
      },
      'pymodbus framer tests (whole, split, byte by byte); a meter must not reset its receiver at a 40 ms pause',
    ),
    meterCase(
      id('6.2'),
      'Request byte by byte, 10 ms apart',
      'field practice: a slow master or a converter sends one byte at a time',
      async (ctx) => {
        const { bytes, ser } = ctx.readRequest();
        const outcome = await ctx.session.exchange(bytes, { chunks: 'bytes', gapMs: 10, settleMs: 0 });
        const problems = ctx.readProblems(outcome.reply, ser);
        return problems.length === 0
          ? pass(`answered the request sent as ${bytes.length} single bytes`)
          : fail(`expected a normal read reply: ${problems.join('; ')}`);
      },
      'pymodbus framer tests send byte by byte; the gaps are well inside the inter-byte pauses meters allow',
    ),
    meterCase(
      id('6.3'),
      'Junk before the frame',
      `${std} a receiver scans forward to the first 68H (${p === 'cjt188' ? 'docs/cjt188.md §1.1' : 'docs/dlt645.md §2.1'})`,
      async (ctx) => {
        const { bytes, ser } = ctx.readRequest();
        const junk = Uint8Array.of(0x00, 0x3c, 0x5a, 0x7e, 0x11);
        const withJunk = new Uint8Array(junk.length + bytes.length);
        withJunk.set(junk);
        withJunk.set(bytes, junk.length);
        const outcome = await ctx.session.exchange(withJunk, {
          settleMs: 0,
          label: '5 junk bytes (00 3C 5A 7E 11), then the everyday read',
        });
        const problems = ctx.readProblems(outcome.reply, ser);
        return problems.length === 0
          ? pass('skipped the junk and answered the frame after it')
          : fail(`expected a normal read reply: ${problems.join('; ')}`);
      },
    ),
    meterCase(
      id('7.1'),
      'Wildcard address answered from its own address',
      p === 'cjt188'
        ? `${std} all-AA wildcard address (docs/cjt188.md §1.4: AIXI, KINGDA accept it as their own)`
        : `${std} wildcard address AAAAAAAAAAAA (docs/dlt645.md §2.1, D3)`,
      async (ctx) => {
        const { bytes, ser } = ctx.wildcardReadRequest();
        const outcome = await ctx.session.exchange(bytes, { settleMs: 0 });
        if (!outcome.reply) {
          return {
            grade: 'unimplemented',
            message:
              'no answer to the wildcard address: reading a lone meter without its address will not work',
          };
        }
        const problems = ctx.readProblems(outcome.reply, ser);
        return problems.length === 0
          ? pass(`answered from its own address ${ctx.config.address}`)
          : fail(`expected a normal read reply from its own address: ${problems.join('; ')}`);
      },
    ),
    meterCase(
      id('10.1'),
      'Reply time within the limit',
      p === 'dlt645'
        ? `${std} slave reply delay (commonly quoted as 20 ms ≤ Tr ≤ 500 ms; text not available to verify) / field practice`
        : 'field practice: masters and concentrators wait about 500 ms–2 s for a meter; the limit is --reply-limit',
      async (ctx) => {
        const limit = ctx.config.replyLimitMs;
        let worst = 0;
        for (let i = 0; i < 3; i++) {
          const { bytes, ser } = ctx.readRequest();
          const outcome = await ctx.session.exchange(bytes, { settleMs: 0 });
          const reply = outcome.reply;
          const problems = ctx.readProblems(reply, ser);
          if (!reply || problems.length > 0) {
            return fail(
              `read ${i + 1} of 3 got no proper reply within ${ctx.session.timeoutMs} ms: ${problems.join('; ')}`,
            );
          }
          const wire = ctx.session.wireTimeMs(bytes.length) + ctx.session.wireTimeMs(reply.raw.length);
          const replyTime = reply.at - outcome.startedAt - wire;
          ctx.session.trace.note(
            `read ${i + 1}: ${(reply.at - outcome.startedAt).toFixed(1)} ms from write to whole reply, ` +
              `${wire.toFixed(1)} ms of it wire time (${bytes.length} + ${reply.raw.length} bytes): reply time ${replyTime.toFixed(1)} ms`,
          );
          worst = Math.max(worst, replyTime);
        }
        return worst <= limit
          ? pass(`reply time at most ${worst.toFixed(1)} ms (limit ${limit} ms, wire time excluded)`)
          : fail(`reply time up to ${worst.toFixed(1)} ms, over the ${limit} ms limit (wire time excluded)`);
      },
      'reply time = write start to whole reply, minus the wire time of both frames at the link speed',
    ),
  ];
}

/** The CJ/T 188 cases only that protocol has: DI byte orders, SER, meter type, valve. */
function cjt188Cases(): MeterCase[] {
  const orderCase = (n: string, order: Cjt188DiOrder, wire: string) =>
    meterCase(
      `M188-2.${n}`,
      `Request with DI ${order === 'low-first' ? 'low' : 'high'} byte first (${wire}) answered`,
      'CJ/T 188-2004 DI byte order: both occur in the field (docs/cjt188.md §1.6: BLOG-SC, AIXI, TMNL low first; BLOG-JY, NGGW 2004 high first)',
      async (ctx) => {
        const { outcome, ser } = await ctx.read({ diOrder: order });
        const problems = ctx.readProblems(outcome.reply, ser);
        if (problems.length === 0) return pass(`answered: ${short(outcome.reply)}`);
        if (outcome.reply && outcome.reply.frame.control === 0x81) {
          return fail(`answered, but not properly: ${problems.join('; ')}`);
        }
        const other: Cjt188DiOrder = order === 'low-first' ? 'high-first' : 'low-first';
        ctx.session.trace.note(`check: is the DI understood in the other order (${other})?`);
        const again = await ctx.read({ diOrder: other });
        if (ctx.readProblems(again.outcome.reply, again.ser).length === 0) {
          return {
            grade: 'non-strict',
            message:
              `no proper reply with DI ${wire} (${problems.join('; ')}), but answers DI sent ${other}: ` +
              'masters configured per meter (as meterlab poll --di-order is) read it; others do not',
          };
        }
        return fail(`answers the DI in neither order: ${problems.join('; ')}`);
      },
    );
  return [
    orderCase('1', 'low-first', '1F 90'),
    orderCase('2', 'high-first', '90 1F'),
    meterCase(
      'M188-2.3',
      'DI byte order of the reply: echoed or fixed',
      'CJ/T 188-2004 DI byte order (docs/cjt188.md §1.6: parsers accept both orders; a meter either echoes the request or keeps one order)',
      async (ctx) => {
        const seen: Record<string, Cjt188DiOrder | undefined> = {};
        for (const order of ['low-first', 'high-first'] as const) {
          const { outcome, ser } = await ctx.read({ diOrder: order });
          const reply = outcome.reply;
          if (!reply || ctx.readProblems(reply, ser).length > 0) continue;
          const body = reply.frame.body;
          if ('diOrder' in body) seen[order] = body.diOrder;
        }
        const low = seen['low-first'];
        const high = seen['high-first'];
        if (!low || !high) {
          return {
            grade: 'skipped',
            message:
              'the meter did not answer both orders (see M188-2.1, M188-2.2), so its echo rule cannot be told',
          };
        }
        if (low === 'low-first' && high === 'high-first') return pass("echoes the request's DI byte order");
        if (low === high)
          return pass(`always answers with the DI ${low} (a fixed order, tolerated by parsers)`);
        return fail(
          `answers a low-first DI high first and a high-first DI low first: it swaps the order it was sent, ` +
            'which matches neither rule a master can be configured for',
        );
      },
    ),
    meterCase(
      'M188-3.1',
      'SER echoed in the reply',
      "CJ/T 188-2004 DATA = DI SER …; the meter echoes the master's SER (docs/cjt188.md §1.6: KINGDA copies ask->DataHead.SER)",
      async (ctx) => {
        const wrong: string[] = [];
        for (const ser of [0x00, 0xa7, 0xff]) {
          // Listen a while after each reply, so a stray extra frame (M188-3.2's business) is not taken for
          // the answer to the next SER.
          const outcome = await ctx.session.exchange(ctx.readRequest({ ser }).bytes, { settleMs: 300 });
          const body = outcome.reply?.frame.body;
          if (!outcome.reply) wrong.push(`SER ${hex(ser)}: no reply`);
          else if (!body || !('ser' in body)) wrong.push(`SER ${hex(ser)}: reply has no SER`);
          else if (body.ser !== ser) wrong.push(`SER ${hex(ser)} answered with SER ${hex(body.ser)}`);
        }
        return wrong.length === 0 ? pass('echoed SER 00, A7 and FF') : fail(wrong.join('; '));
      },
    ),
    meterCase(
      'M188-4.2',
      'Silent for another meter type',
      'CJ/T 188-2004 T: a meter answers its own type or the AA wildcard (docs/cjt188.md §1.3; KINGDA)',
      (ctx) => {
        const own = ctx.config.meterType;
        const other = own >= 0x10 && own <= 0x19 ? 0x30 : 0x10;
        return silenceCase(
          ctx,
          ctx.readRequest({ meterType: other }).bytes,
          `a read with T=${hex(other)} (the meter is T=${hex(own)})`,
        );
      },
    ),
    valveCase('1', 'close'),
    valveCase('2', 'open'),
  ];
}

function valveCase(n: string, command: 'open' | 'close'): MeterCase {
  const want = command === 'open' ? 'open' : 'closed';
  return meterCase(
    `M188-8.${n}`,
    `Valve ${command}, then ST shows it ${want}`,
    `CJ/T 188-2004 valve control C=04H DI A017 (${command === 'open' ? '55H' : '99H'}), reply C=84H; ST D1 D0 valve state (docs/cjt188.md §1.10, §1.11)`,
    async (ctx) => {
      const ser = ctx.nextSer();
      const frame = buildValveRequest(ctx.config.address, command, {
        ser,
        meterType: ctx.config.meterType,
        diOrder: ctx.config.diOrder,
      });
      const outcome = await ctx.session.exchange(encodeCjt188(frame), { settleMs: 0 });
      const reply = outcome.reply?.frame;
      if (!reply)
        return { grade: 'unimplemented', message: `no answer to valve ${command}: no valve control?` };
      if (reply.protocol !== 'cjt188') return fail('answered with a frame of another protocol');
      if (reply.control === 0xc4) {
        return {
          grade: 'unimplemented',
          message: `refused valve ${command} with an error reply (C4): no valve?`,
        };
      }
      const problems: string[] = [];
      if (reply.control !== 0x84) problems.push(`C=${hex(reply.control)}, expected 84`);
      if (reply.address !== ctx.config.address) problems.push(`reply from ${reply.address}`);
      const body = reply.body;
      if (body.kind !== 'write-reply') problems.push(`DATA is ${body.kind}, not a write reply`);
      else {
        if (body.di !== 'A017') problems.push(`DI ${body.di}, expected A017`);
        if (body.ser !== ser) problems.push(`SER ${hex(body.ser)}, expected ${hex(ser)}`);
        if (body.status && body.status.valve !== want) {
          problems.push(`the write reply's ST says the valve is ${body.status.valve}`);
        }
      }
      if (problems.length > 0) return fail(`valve ${command} reply: ${problems.join('; ')}`);
      ctx.session.trace.note(`check: the next read's ST must show the valve ${want}`);
      const read = await ctx.read();
      const r = read.outcome.reply?.frame;
      if (r?.protocol !== 'cjt188' || r.body.kind !== 'read-reply') {
        return {
          grade: 'skipped',
          message: 'valve command accepted, but the read that should show it got no proper reply',
        };
      }
      const data = r.body.data;
      if (data.type !== 'water' && data.type !== 'heat') return fail(`read payload ${data.type} has no ST`);
      return data.status.valve === want
        ? pass(`valve ${command} acknowledged (C=84) and ST ${data.status.raw} shows it ${want}`)
        : fail(`valve ${command} acknowledged, but ST ${data.status.raw} says ${data.status.valve}`);
    },
  );
}

/** The DL/T 645 cases only that protocol has: the +33H transform and broadcast time sync. */
function dlt645Cases(): MeterCase[] {
  return [
    meterCase(
      'M645-2.1',
      'Reply DATA carries +33H',
      'DL/T 645-2007 DATA is sent with 33H added to every byte (docs/dlt645.md §2.1: RSDLT, NGGW; D5)',
      async (ctx) => {
        const { outcome } = await ctx.read();
        const reply = outcome.reply;
        if (!reply) return { grade: 'skipped', message: 'no reply to the everyday read' };
        const raw = reply.raw;
        const p = frameStart(raw);
        const length = raw[p + 9];
        const data = raw.subarray(p + 10, p + 10 + length);
        const di = [0x33, 0x33, 0x34, 0x33];
        if (length >= 4 && di.every((b, i) => data[i] === b)) {
          const values = Array.from(data.subarray(4), (b) => (b - 0x33) & 0xff);
          const bcd = values.every((v) => v >> 4 <= 9 && (v & 0x0f) <= 9);
          return bcd
            ? pass('DI 00010000 came back as 33 33 34 33 and the value is BCD after -33H')
            : fail('DI carries +33H, but the value bytes are not BCD after -33H');
        }
        if (length >= 4 && [0x00, 0x00, 0x01, 0x00].every((b, i) => data[i] === b)) {
          return fail('DATA came back without +33H (DI 00 00 01 00 on the wire)');
        }
        return fail(`DATA does not start with the requested DI + 33H (33 33 34 33)`);
      },
    ),
    meterCase(
      'M645-8.1',
      'Broadcast time sync: no reply, clock set',
      'DL/T 645-2007 broadcast time sync C=08H to 999999999999, DATA ss mm hh DD MM YY, no reply (docs/dlt645.md §2.1, §2.2, D24)',
      async (ctx) => {
        const clock = ctx.session.clock;
        const shiftMs = 120_000;
        const target = new Date(clock.now() + shiftMs);
        const sync = encodeDlt645(buildTimeSync(target, { utcOffsetMinutes: ctx.config.utcOffsetMinutes }));
        const outcome = await ctx.session.exchange(sync, { settleMs: 0 });
        if (outcome.reply) return fail(`answered a broadcast time sync: ${short(outcome.reply)}`);
        const meterTime = await readMeterTime(ctx);
        // restore: the meter's clock back to now (best effort, no reply expected)
        const restore = encodeDlt645(
          buildTimeSync(new Date(clock.now()), { utcOffsetMinutes: ctx.config.utcOffsetMinutes }),
        );
        await ctx.session.exchange(restore, { settleMs: 0, timeoutMs: 200 });
        if (meterTime === undefined) {
          return {
            grade: 'skipped',
            message: 'stayed silent, but its clock (04000101, 04000102) could not be read to check the sync',
          };
        }
        const expected = meterTime.readAt + shiftMs;
        const off = (meterTime.value - expected) / 1000;
        return Math.abs(off) <= 10
          ? pass(`stayed silent and its clock moved to the synced time (${off.toFixed(0)} s off)`)
          : fail(
              `stayed silent, but its clock is ${off.toFixed(0)} s from the synced time: the sync was ignored`,
            );
      },
      'the sync moves the clock by 2 minutes (meters commonly refuse larger broadcast steps) and moves it back',
    ),
  ];
}

/** Reads DL/T 645 04000101 (date) and 04000102 (time); the meter's time as epoch ms (its local zone applied). */
async function readMeterTime(ctx: MeterCaseContext): Promise<{ value: number; readAt: number } | undefined> {
  const values: string[] = [];
  let readAt = 0;
  for (const di of ['04000101', '04000102']) {
    const bytes = encodeDlt645(buildDlt645Read(ctx.config.address, di));
    const outcome = await ctx.session.exchange(bytes, { settleMs: 0 });
    const f = outcome.reply?.frame;
    if (f?.protocol !== 'dlt645' || f.body.kind !== 'read-reply' || typeof f.body.value !== 'string') {
      return undefined;
    }
    values.push(f.body.value);
    readAt = ctx.session.clock.now();
  }
  const local = Date.parse(`${values[0]}T${values[1]}Z`);
  if (!Number.isFinite(local)) return undefined;
  return { value: local - ctx.config.utcOffsetMinutes * 60_000, readAt };
}

/** Every code case of the meter role for `protocol`, in id order. */
export function meterCodeCases(protocol: MeterSuiteProtocol): MeterCase[] {
  const own = protocol === 'cjt188' ? cjt188Cases() : dlt645Cases();
  return sortById([...sharedCases(protocol), ...own]);
}

/** Sorts cases by id, numerically within each dotted part (M188-10.1 after M188-9.1). */
export function sortById<T extends { id: string }>(cases: T[]): T[] {
  const key = (id: string) =>
    id.split(/[-.]/).map((part) => (/^\d+$/.test(part) ? part.padStart(4, '0') : part));
  return cases.sort((a, b) => {
    const ka = key(a.id);
    const kb = key(b.id);
    for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
      const x = ka[i] ?? '';
      const y = kb[i] ?? '';
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
}
