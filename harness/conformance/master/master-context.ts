import { concatBytes, hexToBytes } from '../../../protocols/bytes.ts';
import {
  AFN_CONFIRM,
  AFN_LINK_CHECK,
  buildForwardReply,
  buildHeartbeat,
  buildLogin,
  type Gdw376Frame,
  type Gdw376SerialSettings,
} from '../../../protocols/gdw376/index.ts';
import { type MeterProtocolName, meterProtocol } from '../../../protocols/registry.ts';
import type { Clock, TimerHandle } from '../../../simulator/clock/clock.ts';
import { LinkError } from '../../../simulator/link/errors.ts';
import { TcpClientLink } from '../../../simulator/link/tcp-link.ts';
import { ConsumptionModel } from '../../../simulator/meter/consumption.ts';
import { createMeter, type SimulatedMeter } from '../../../simulator/meter/create-meter.ts';
import type { MeterSpec } from '../../../simulator/scenario/types.ts';
import { Trace } from '../trace.ts';
import type { TraceEntry } from '../types.ts';
import { ConcentratorProbe, type HeardFrame, hex2 } from './concentrator-probe.ts';
import type { MasterTrigger, TriggerOutput } from './trigger.ts';

/**
 * What every master-station case gets: the suite's settings, a way to open simulated concentrator connections
 * to the master under test, the judge of a confirm, and (active cases) the forward exchange started by the
 * user's trigger, answered by a simulated meter with a known reading.
 * @packageDocumentation
 */

/** A simulated meter behind the simulated concentrator. */
export interface MasterSuiteMeter {
  /** Full address (14 digits CJ/T 188, 12 DL/T 645). */
  address: string;
  protocol: MeterProtocolName;
  /** Concentrator port the meter hangs on (1–31). */
  port: number;
  /** Serial settings the master should ask for in the forward control word. */
  serial: Gdw376SerialSettings;
}

/** Settings of a master suite run. */
export interface MasterSuiteConfig {
  host: string;
  port: number;
  /** Area code of the simulated concentrator, 4 digits. */
  a1: string;
  /** Terminal address 1–65535. */
  a2: number;
  /** How long to wait for a confirm before calling it missing, ms. */
  confirmTimeoutMs: number;
  /** A confirm later than this is non-strict (it came, but terminals may already have resent), ms. */
  confirmLimitMs: number;
  /** The heartbeat period the simulated concentrator claims and keeps, ms. */
  heartbeatPeriodMs: number;
  /** How long a silent logged-in connection is watched for the master to close it, ms. */
  idleLimitMs: number;
  /** How long after the trigger starts a forward request must arrive, ms. */
  forwardWaitMs: number;
  meter: MasterSuiteMeter;
  /** Starts a read at the master (active cases); absent, they are skipped. */
  trigger?: MasterTrigger;
  /** Ctrl-C: waits end at once and a running trigger is stopped. */
  signal?: AbortSignal;
}

/** A confirm judged: what is fatal, what real terminals tolerate, and the form in words. */
export interface ConfirmJudgement {
  /** Problems no terminal can live with (wrong address, SEQ not echoed, a deny). */
  fatal: string[];
  /** Deviations terminals tolerate (docs/field-notes.md §8). */
  deviations: string[];
  /** E.g. `AFN 00 F1 (all confirmed), C=0B`. */
  form: string;
}

/** The forward exchange of the active cases. */
export interface ForwardExchange {
  /** The forward request the master sent, if one came. */
  request?: HeardFrame;
  /** The simulated meter's answer forwarded back (its bytes), and the reading it carries. */
  meterReply?: Uint8Array;
  reading?: number;
  /** What the trigger command did. */
  trigger: TriggerOutput;
  /** How long the trigger ran, ms. */
  triggerMs?: number;
  /** Time from the trigger start to the forward request, ms. */
  forwardAfterMs?: number;
  /** The trace entries of the exchange, for the cases that reuse it. */
  entries: TraceEntry[];
  /** The case that ran it. */
  recordedBy: string;
}

/** How a forward is answered in an exchange. */
export type ForwardAnswerMode = 'meter' | 'stray-then-meter';

/** The context of a master-station case. */
export class MasterCaseContext {
  readonly config: MasterSuiteConfig;
  readonly clock: Clock;
  #trace: Trace;
  readonly #probes = new Set<ConcentratorProbe>();
  readonly #timers = new Set<TimerHandle>();
  #connections = 0;
  #sharedForward: Promise<ForwardExchange> | undefined;
  readonly #model = new ConsumptionModel({ seed: 1376 });

  constructor(config: MasterSuiteConfig, clock: Clock) {
    this.config = config;
    this.clock = clock;
    this.#trace = new Trace(clock);
  }

  get trace(): Trace {
    return this.#trace;
  }

  /** Starts the evidence of a new case; connections and timers of the last case are gone by now. */
  beginCase(): Trace {
    this.#trace = new Trace(this.clock);
    return this.#trace;
  }

  /** Closes every connection and timer a case left (between cases and at the end). */
  async endCase(): Promise<void> {
    for (const t of this.#timers) this.clock.clearTimeout(t);
    this.#timers.clear();
    const probes = [...this.#probes];
    this.#probes.clear();
    await Promise.all(probes.map((p) => p.close()));
  }

  /** `0171/2082`. */
  get terminal(): string {
    return `${this.config.a1}/${this.config.a2}`;
  }

  /** The 9-digit id meterlab (and many platforms) name the concentrator by: A1 + A2 in 5 digits. */
  get concentratorId(): string {
    return `${this.config.a1}${String(this.config.a2).padStart(5, '0')}`;
  }

  /**
   * Opens a new simulated concentrator connection to the master, for terminal `a2` (the configured one by
   * default). @throws LinkError when it cannot connect.
   */
  async connect(a2 = this.config.a2): Promise<ConcentratorProbe> {
    const n = ++this.#connections;
    const link = new TcpClientLink({
      host: this.config.host,
      port: this.config.port,
      connectTimeoutMs: 5000,
    });
    try {
      await link.open();
    } catch (error) {
      if (error instanceof LinkError) this.#trace.note(`connection #${n}: ${error.message}`);
      throw error;
    }
    const probe = new ConcentratorProbe({
      link,
      name: `conc ${this.config.a1}/${a2} #${n}`,
      a2,
      clock: this.clock,
      trace: () => this.#trace,
      signal: this.config.signal,
    });
    this.#probes.add(probe);
    this.#trace.note(`${probe.name}: connected to ${this.config.host}:${this.config.port}`);
    return probe;
  }

  /** The address fields of a simulated concentrator's frames, with `seq`. */
  frameOptions(seq: number, a2 = this.config.a2): { a1: string; a2: number; seq: number } {
    return { a1: this.config.a1, a2, seq };
  }

  /** A login (AFN 02 F1) of the probe's terminal with its next PSEQ. */
  login(probe: ConcentratorProbe): Gdw376Frame {
    return buildLogin(this.frameOptions(probe.nextSeq(), probe.a2));
  }

  /** A heartbeat (AFN 02 F3), with the 2013 clock when `clock` is true. */
  heartbeat(probe: ConcentratorProbe, clock = false): Gdw376Frame {
    const options = this.frameOptions(probe.nextSeq(), probe.a2);
    return clock
      ? buildHeartbeat({ ...options, clock: localClock(this.clock.now()) })
      : buildHeartbeat(options);
  }

  /**
   * Sends `frame` and waits for the master's AFN 00 answer (any address: a confirm for another terminal is a
   * fatal finding, not a reason to keep waiting). Resolves the answer and its delay.
   */
  async exchangeConfirm(
    probe: ConcentratorProbe,
    frame: Gdw376Frame,
  ): Promise<{ answer?: HeardFrame; delayMs?: number; sentAt: number }> {
    const { at } = await probe.send(frame);
    const answer = await probe.waitFor(
      (f) => f.afn === AFN_CONFIRM,
      this.config.confirmTimeoutMs,
      `AFN 00 answer to ${what(frame)}`,
    );
    return answer ? { answer, delayMs: answer.at - at, sentAt: at } : { sentAt: at };
  }

  /** Connects and logs in; the login's answer (undefined when none came). */
  async loggedIn(
    a2 = this.config.a2,
  ): Promise<{ probe: ConcentratorProbe; answer?: HeardFrame; login: Gdw376Frame }> {
    const probe = await this.connect(a2);
    const login = this.login(probe);
    const { answer } = await this.exchangeConfirm(probe, login);
    return { probe, answer, login };
  }

  /**
   * Judges the master's answer to the uplink link check `request` (docs/gdw376.md §3.5; docs/field-notes.md §8
   * for what terminals tolerate).
   */
  judgeConfirm(request: Gdw376Frame, answer: Gdw376Frame): ConfirmJudgement {
    const fatal: string[] = [];
    const deviations: string[] = [];
    const unit = answer.units[0];
    const body = unit?.body;
    const fn = request.units[0]?.fn[0] ?? 0;
    let form = `AFN 00 ${unit ? `F${unit.fn.join(',F')}` : '(no data unit)'}, C=${hex2(answer.control.raw)}`;
    if (answer.control.dir !== 'down') fatal.push('it is an uplink frame (DIR = 1)');
    if (answer.a1 !== request.a1 || answer.a2 !== request.a2) {
      fatal.push(`it is addressed to ${answer.a1}/${answer.a2}, not to ${request.a1}/${request.a2}`);
    }
    if (answer.seq.seq !== request.seq.seq) {
      fatal.push(`RSEQ ${answer.seq.seq} does not echo the PSEQ ${request.seq.seq} of the request`);
    }
    if (!body) fatal.push('it has no data unit');
    else if (body.kind === 'deny-all') fatal.push('it is a deny (AFN 00 F2)');
    else if (body.kind === 'confirm-all') form = `AFN 00 F1 (all confirmed), C=${hex2(answer.control.raw)}`;
    else if (body.kind === 'confirm-items') {
      form = `AFN 00 F3 (per item${body.nonStandard ? ', DT written 03 00' : ''}), C=${hex2(answer.control.raw)}`;
      const item = body.items.find((i) => i.fn.includes(fn));
      if (body.afn !== AFN_LINK_CHECK) fatal.push(`its items answer AFN ${hex2(body.afn)}H, not 02H`);
      if (!item) deviations.push(`no item for F${fn} (a tolerant terminal takes it as a confirm)`);
      else if (!item.ok) fatal.push(`the item for F${fn} has ERR ${item.err} (denied)`);
      if (body.nonStandard)
        deviations.push('the F3 DT is written 03 00 (the number 3) instead of the bit mask 04 00');
    } else fatal.push(`its data is ${body.kind}, not a confirm`);
    if (answer.control.dir === 'down') {
      if (answer.control.prm) deviations.push('PRM is set (a confirm is a response, PRM = 0)');
      if (answer.control.fn !== 11 && answer.control.fn !== 0) {
        deviations.push(
          `function code ${answer.control.fn} (C=${hex2(answer.control.raw)}); 11 (0B) or 0 (00) expected`,
        );
      }
    }
    if (answer.seq.con) deviations.push('CON is set on a confirm (a confirm asks for no confirm)');
    if (answer.protocolId !== 2) deviations.push(`protocol id ${answer.protocolId} in L (2 = Q/GDW 376.1)`);
    return { fatal, deviations, form };
  }

  /**
   * The simulated meter behind the concentrator, on a seeded consumption model (same seed, same figures), its
   * reading shifted by `offset` (the stray reply of G376M-7.7 comes from such a twin).
   */
  makeMeter(offset = 0): SimulatedMeter {
    const m = this.config.meter;
    const spec: MeterSpec = {
      address: m.address,
      protocol: m.protocol,
      kind: meterProtocol(m.protocol).defaultKind,
      quirks: {},
      faults: [],
      valve: 'open',
      batteryLow: false,
    };
    const meter = createMeter(spec, { model: this.#model, clock: this.clock, seed: 1376 });
    meter.baseOffset = offset;
    return meter;
  }

  /** Keeps `probe` alive with heartbeats at the configured period until the case ends. */
  keepAlive(probe: ConcentratorProbe): void {
    const beat = () => {
      if (probe.closed) return;
      void probe.send(this.heartbeat(probe)).catch(() => undefined);
      this.#timers.add(this.clock.setTimeout(beat, this.config.heartbeatPeriodMs));
    };
    this.#timers.add(this.clock.setTimeout(beat, this.config.heartbeatPeriodMs));
  }

  /**
   * The forward exchange shared by the active cases that only look at the request (G376M-7.1–7.6): run once,
   * by whichever of them runs first; the others get a copy of its trace.
   */
  async sharedForward(caseId: string): Promise<ForwardExchange> {
    const first = this.#sharedForward === undefined;
    this.#sharedForward ??= this.forwardExchange(caseId, 'meter');
    const exchange = await this.#sharedForward;
    if (!first) {
      this.#trace.note(
        `the exchange below was recorded by ${exchange.recordedBy} (one read serves these cases)`,
      );
      for (const e of exchange.entries) this.#trace.entries.push({ ...e });
    }
    return exchange;
  }

  /**
   * Logs a concentrator in, runs the trigger, answers the forward request with the simulated meter (after a
   * stray reply with another SEQ and a different reading in mode `stray-then-meter`), and waits for the trigger.
   * @throws Error when no trigger is configured (the case is then skipped by the runner).
   */
  async forwardExchange(caseId: string, mode: ForwardAnswerMode): Promise<ForwardExchange> {
    const probe = await this.#activeProbe();
    return this.#read(probe, caseId, mode);
  }

  /**
   * Two reads on one connection: the first answered by the meter, the second with the meter silent (the
   * concentrator forwards an empty reply, docs/gdw376.md §3.4). Resolves both exchanges.
   */
  async silentExchange(caseId: string): Promise<{ first: ForwardExchange; silent: ForwardExchange }> {
    const probe = await this.#activeProbe();
    const first = await this.#read(probe, caseId, 'meter');
    this.#trace.note('now the meter stays silent: the forward is answered with k = 0');
    const silent = await this.#read(probe, caseId, 'silent');
    return { first, silent };
  }

  async #activeProbe(): Promise<ConcentratorProbe> {
    if (!this.config.trigger)
      throw new Error('no --trigger command: the active cases need one to start a read');
    const { probe, answer } = await this.loggedIn();
    if (!answer) this.#trace.note('the login was not confirmed; the read is tried all the same');
    this.keepAlive(probe);
    return probe;
  }

  async #read(
    probe: ConcentratorProbe,
    caseId: string,
    mode: ForwardAnswerMode | 'silent',
  ): Promise<ForwardExchange> {
    const trigger = this.config.trigger;
    if (!trigger) throw new Error('no --trigger command: the active cases need one to start a read');
    const firstEntry = this.#trace.entries.length;
    const meter = this.makeMeter();
    const exchange: Omit<ForwardExchange, 'trigger' | 'entries'> = { recordedBy: caseId };
    const started = this.clock.now();
    let gotForward: () => void = () => undefined;
    const forwardSeen = new Promise<void>((resolve) => {
      gotForward = resolve;
    });
    probe.onForward = async (heard) => {
      if (exchange.request) {
        this.#trace.note('another forward request: answered like the first');
      } else {
        exchange.request = heard;
        exchange.forwardAfterMs = heard.at - started;
        gotForward();
      }
      const body = heard.frame.units.find((u) => u.body.kind === 'forward-request')?.body;
      if (body?.kind !== 'forward-request') return;
      const content = hexToBytes(body.content);
      const reply = mode === 'silent' ? new Uint8Array(0) : answerOf(meter, content, this.clock.now());
      if (!exchange.meterReply) {
        exchange.meterReply = reply;
        exchange.reading = readingOf(this.config.meter, content, reply);
      }
      if (mode === 'stray-then-meter') {
        const stale = answerOf(this.makeMeter(11.11), content, this.clock.now());
        const strayRequest = {
          ...heard.frame,
          seq: { ...heard.frame.seq, seq: (heard.frame.seq.seq + 8) & 0x0f },
        };
        this.#trace.note('first a stray forward reply with another SEQ and a different reading');
        await probe.send(buildForwardReply(strayRequest, { content: stale }));
        await probe.sleep(50);
      }
      await probe.send(buildForwardReply(heard.frame, { content: reply }));
    };
    const vars = {
      meter: this.config.meter.address,
      concentrator: this.concentratorId,
      a1: this.config.a1,
      a2: String(this.config.a2),
      port: String(this.config.meter.port),
      protocol: this.config.meter.protocol,
    };
    this.#trace.note(`trigger: ${trigger.describe(vars)}`);
    const running = trigger.run(vars, this.config.signal);
    const waited = await Promise.race([
      running.then(() => 'trigger-ended' as const),
      forwardSeen.then(() => 'forward' as const),
      new Promise<'timeout'>((resolve) =>
        this.#timers.add(this.clock.setTimeout(() => resolve('timeout'), this.config.forwardWaitMs)),
      ),
    ]);
    if (waited === 'timeout')
      this.#trace.add('silence', `no forward request within ${this.config.forwardWaitMs} ms`);
    const output = await running;
    probe.onForward = undefined;
    const triggerMs = this.clock.now() - started;
    this.#trace.note(
      `trigger ended: exit ${output.exitCode ?? output.signal ?? '?'}; stdout ${JSON.stringify(clip(output.stdout))}` +
        (output.stderr.trim() ? `; stderr ${JSON.stringify(clip(output.stderr))}` : ''),
    );
    return { ...exchange, trigger: output, triggerMs, entries: this.#trace.entries.slice(firstEntry) };
  }
}

/** What `meter` sends back for `content`, as the bytes a concentrator returns (empty: it stayed silent). */
function answerOf(meter: SimulatedMeter, content: Uint8Array, now: number): Uint8Array {
  const decoded = meterProtocol(meter.protocol).decode(content);
  if (decoded.kind !== 'frame') return new Uint8Array(0);
  return concatBytes(meter.respondToFrame(decoded.frame, now).map((t) => t.bytes));
}

/** The reading in a meter reply to `request`, as the registry's judge reads it. */
function readingOf(m: MasterSuiteMeter, request: Uint8Array, reply: Uint8Array): number | undefined {
  try {
    const judged = meterProtocol(m.protocol).judgeReply(request, reply);
    return judged.ok && typeof judged.reading.value === 'number' ? judged.reading.value : undefined;
  } catch {
    return undefined;
  }
}

function what(frame: Gdw376Frame): string {
  const body = frame.units[0]?.body.kind ?? 'frame';
  return `the ${body} (SEQ ${frame.seq.seq})`;
}

function clip(text: string): string {
  const t = text.trim();
  return t.length > 300 ? `${t.slice(0, 297)}...` : t;
}

/** "YYYY-MM-DD hh:mm:ss" at UTC+8 (the terminals' usual zone) for the 2013 heartbeat clock. */
function localClock(now: number): string {
  return new Date(now + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}
