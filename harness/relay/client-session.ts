/**
 * One WebSocket client of the relay: reads its messages, starts (or joins) reads, and sends each answer back
 * under the client's own id — or, for a legacy ClickToCopy request, in the flat legacy shape the original
 * system answered with (README "Legacy point-read shapes"). A text `Ping` is answered `Pong`.
 *
 * Robustness rules (DESIGN.md "Errors and data"): a bad message gets an `error` message naming the problem and
 * the connection stays open; every accepted read gets exactly one answer while the client is connected.
 *
 * Cancel (issue 13): `{"type":"cancel","id":…}` for one of the client's own v1 reads in flight answers that read at
 * once, as its one answer, `error` CANCELLED, and leaves its (possibly shared) read exactly as a departing client
 * does, so a read nobody else wants is withdrawn (read-coalescer.ts; the master link drops it if still queued,
 * else tells the master). The field's answer, if it still comes, is dropped. A cancel naming no read in flight
 * (unknown, already answered, already cancelled) gets `error` BAD_REQUEST naming the id in its message but without
 * an `id` key: an `error` under that id would look like a second answer to the read.
 *
 * Backpressure policy: a client can only make the relay send by asking, and it may have at most
 * `maxInFlight` reads outstanding, but a client that asks and never reads its socket would still make the
 * relay's send buffer grow for ever. So before each answer the session looks at the socket's
 * `bufferedAmount`; above `maxBufferedBytes` the client is a slow reader: the answer is dropped (logged as
 * `answer-dropped`), the connection is closed with 1013 "Try Again Later" and nothing more is sent or read on
 * it. A browser page reading normally never comes near the limit (answers are ~200 bytes; the default limit
 * is 1 MiB, thousands of unread answers).
 */
import { ProtocolError } from '../../protocols/errors.ts';
import {
  type ConsoleMessage,
  type ConsoleRequest,
  isConsoleMessageType,
  isConsoleRequest,
  validateConsoleMessage,
} from '../../protocols/point-read/console-messages.ts';
import {
  decodePointReadMessage,
  encodePointReadMessage,
  isLegacyClickToCopy,
  isLegacyMessage,
  isLegacyRequest,
  type LegacyAnswer,
  type LegacyClickToCopy,
  type PointReadMessage,
  type ReadError,
  readErrorFromProtocolError,
  toLegacyAnswer,
} from '../../protocols/point-read/index.ts';
import { type RelayLogger, SILENT } from './log.ts';
import type { UpstreamAnswer, UpstreamRead } from './master-link.ts';
import type { CoalescedRead } from './read-coalescer.ts';
import { replyId } from './reply-id.ts';

/** The part of a `ws` WebSocket the session uses (so the policy can be tested with a fake). */
export interface ClientSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** The text heartbeat a client may send, and the relay's answer (README "Text heartbeat"). */
export const TEXT_PING = 'Ping';
export const TEXT_PONG = 'Pong';

/** `WebSocket.OPEN`. */
const OPEN = 1;

/** Close code for a slow reader: RFC 6455 registry 1013 "Try Again Later". */
export const CLOSE_SLOW_READER = 1013;

export interface ClientSessionOptions {
  /** Connection number, for logs. */
  clientId: number;
  /** Peer address, for logs. */
  remote: string;
  socket: ClientSocketLike;
  /**
   * Starts or joins a field read. A reading it settles with is sent on without being validated again, so it must
   * already be a valid message: the master link's NDJSON decoder checks every answer from the master.
   */
  read: (req: UpstreamRead) => CoalescedRead<UpstreamAnswer>;
  /** Most reads this client may have outstanding; one more is answered QUEUE_FULL at once. */
  maxInFlight: number;
  /** Send-buffer limit beyond which the client is closed as a slow reader (see the module comment). */
  maxBufferedBytes: number;
  log: RelayLogger;
  /** Where the console's requests go (fleet, valve, subscribe, unsubscribe); absent: they are refused. */
  console?: { send(request: ConsoleRequest): void };
  /** Clock for the per-read latency in the log. @defaultValue Date.now */
  now?: () => number;
}

/** A v1 read in flight: what was asked, how to leave it, and whether it was already answered by a cancel. */
interface ReadInFlight {
  readonly req: UpstreamRead;
  readonly leave: () => void;
  done: boolean;
}

/** What a request is answered in: v1 under the client's id, or the legacy shape echoing its request. */
type AnswerForm = { kind: 'v1'; id: string } | { kind: 'legacy'; request: LegacyClickToCopy };

export class ClientSession {
  readonly clientId: number;
  /** False once the socket closed, or the session closed it: answers still arriving are dropped. */
  #open = true;
  readonly #o: ClientSessionOptions;
  /** The v1 reads in flight by the client's id, so that a `cancel` can find and answer one. */
  readonly #v1InFlight = new Map<string, ReadInFlight>();
  /** How to leave each read in flight, so that a client that goes away withdraws the reads only it wanted. */
  readonly #leaves = new Set<() => void>();
  #inFlight = 0;
  readonly #now: () => number;
  /**
   * Whether to log every read (`read-start`, `read`). Building those two entries costs more than the rest of
   * the session's bookkeeping of a read, and with the default silent logger nobody reads them.
   */
  readonly #logReads: boolean;

  constructor(options: ClientSessionOptions) {
    this.#o = options;
    this.clientId = options.clientId;
    this.#now = options.now ?? Date.now;
    this.#logReads = options.log !== SILENT;
  }

  /** Reads of this client waiting for their answer. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether the session still sends answers. */
  get open(): boolean {
    return this.#open;
  }

  /**
   * The socket is gone: answers still to come are dropped (and logged), and the client leaves every read it has in
   * flight — a read nobody else shares is withdrawn, so it is not sent to the field when it was still waiting
   * (issue 13 item 5). Idempotent.
   */
  closed(): void {
    this.#open = false;
    const leaves = [...this.#leaves];
    this.#leaves.clear();
    for (const leave of leaves) leave();
  }

  /** Handles one WebSocket message. Never throws. */
  handle(data: string | Buffer, isBinary = false): void {
    if (!this.#open) return;
    if (isBinary) {
      this.#send(
        {
          type: 'error',
          code: 'BAD_REQUEST',
          message: 'binary frames are not accepted; send JSON text frames',
        },
        'BAD_REQUEST',
      );
      return;
    }
    const text = typeof data === 'string' ? data : data.toString('utf8');
    if (text === TEXT_PING) {
      // The text heartbeat of clients built like the original .NET ones (README "Text heartbeat"): exactly
      // `Ping` is answered `Pong`, besides the WebSocket ping/pong frames (RFC 6455 §5.5.2–5.5.3) ws answers itself.
      if (this.#canSend('Pong')) this.#o.socket.send(TEXT_PONG);
      return;
    }
    const decoded = decodePointReadMessage(text);
    if (!decoded.ok) {
      // Console messages are not point-read messages; only a refused line is looked at again, so reads pay
      // nothing for the console.
      if (decoded.error.code === 'BAD_MESSAGE' && this.#consoleRequest(text)) return;
      const echoed = decoded.id === undefined ? undefined : replyId(decoded.id);
      const answer = readErrorFromProtocolError(decoded.error, echoed?.id);
      if (echoed?.note) answer.message = `${answer.message} ${echoed.note}`;
      this.#log('warn', 'bad-message', `client #${this.clientId}: ${answer.code}: ${answer.message}`, {
        code: answer.code,
      });
      this.#send(answer, answer.code);
      return;
    }
    const msg = decoded.message;
    if (isLegacyMessage(msg)) {
      if (!isLegacyClickToCopy(msg)) {
        this.#reject(
          undefined,
          isLegacyRequest(msg)
            ? 'the flat ClickToCopyModel is the clientserver link\'s form; send {"ModuleName":"ClickToCopy","Content":{"ConcentratorNo":…,"WaterMtrAddress":…}}'
            : 'a legacy answer (with "AccumVal" or "Error") is not a request',
        );
        return;
      }
      this.#start(
        { concentrator: msg.Content.ConcentratorNo, meter: msg.Content.WaterMtrAddress },
        { kind: 'legacy', request: msg },
      );
      return;
    }
    if (msg.type === 'cancel') {
      this.#cancel(msg.id);
      return;
    }
    if (msg.type !== 'read') {
      this.#reject(
        msg.id,
        `the relay accepts "read" and "cancel" requests (and legacy ClickToCopy), not "${msg.type}"`,
      );
      return;
    }
    if (this.#v1InFlight.has(msg.id)) {
      this.#reject(
        msg.id,
        `a read with id ${JSON.stringify(msg.id)} is already in flight on this connection`,
      );
      return;
    }
    const req: UpstreamRead = { concentrator: msg.concentrator, meter: msg.meter };
    if (msg.protocol !== undefined) req.protocol = msg.protocol;
    if (msg.port !== undefined) req.port = msg.port;
    this.#start(req, { kind: 'v1', id: msg.id });
  }

  /**
   * Sends a console answer or frame event from the master under the same slow-reader rule as read answers.
   * The master's line was validated by the ConsoleUpstream.
   */
  sendConsole(message: ConsoleMessage | ReadError): void {
    if (this.#canSend(message.type === 'error' ? message.code : message.type)) {
      this.#o.socket.send(JSON.stringify(message));
    }
  }

  /** Passes a console request on; false when the text is not a console message (or there is no console). */
  #consoleRequest(text: string): boolean {
    const upstream = this.#o.console;
    if (!upstream) return false;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return false;
    }
    if (!isConsoleMessageType((value as { type?: unknown } | null)?.type)) return false;
    let message: ConsoleMessage;
    try {
      message = validateConsoleMessage(value);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      const id = (value as { id?: unknown }).id;
      const type = String((value as { type: string }).type);
      const named = new ProtocolError(error.code, `not a valid "${type}" request: ${error.message}`);
      const echoed = typeof id === 'string' ? replyId(id) : undefined;
      const answer = readErrorFromProtocolError(named, echoed?.id);
      if (echoed?.note) answer.message = `${answer.message} ${echoed.note}`;
      this.#send(answer, answer.code);
      return true;
    }
    if (!isConsoleRequest(message)) {
      this.#reject(message.id, `a "${message.type}" message is not a request`);
      return true;
    }
    upstream.send(message);
    return true;
  }

  /** The client withdraws its v1 read `id` (see the module comment). */
  #cancel(id: string): void {
    const read = this.#v1InFlight.get(id);
    if (!read) {
      this.#reject(
        undefined,
        `cancel: no read with id ${JSON.stringify(id)} is in flight on this connection (already answered, already cancelled, or never sent)`,
      );
      return;
    }
    // Answered here and now: whatever the field says later is dropped by onAnswer (read.done), so the read keeps
    // exactly one answer however the cancel and the reading cross.
    read.done = true;
    this.#v1InFlight.delete(id);
    this.#leaves.delete(read.leave);
    this.#inFlight -= 1;
    read.leave();
    const { concentrator, meter } = read.req;
    if (this.#logReads) {
      this.#log('info', 'read-cancelled', `client #${this.clientId} cancelled ${concentrator}/${meter}`, {
        id,
        concentrator,
        meter,
      });
    }
    this.#answer({ kind: 'v1', id }, read.req, {
      type: 'error',
      id,
      code: 'CANCELLED',
      // The master's wording for its own CANCELLED (README "origin and cancel"); the relay answers at once, before
      // it can know whether the read had already left for the concentrator.
      message: `the client cancelled the read; meter ${meter} of concentrator ${concentrator} is withdrawn (not sent to the field unless it had already gone)`,
    });
  }

  #reject(id: string | undefined, problem: string): void {
    const answer: ReadError = { type: 'error', code: 'BAD_REQUEST', message: problem };
    if (id !== undefined) answer.id = id;
    this.#log('warn', 'bad-message', `client #${this.clientId}: BAD_REQUEST: ${problem}`, {
      code: 'BAD_REQUEST',
    });
    this.#send(answer, 'BAD_REQUEST');
  }

  #start(req: UpstreamRead, form: AnswerForm): void {
    if (this.#inFlight >= this.#o.maxInFlight) {
      this.#answer(form, req, {
        type: 'error',
        code: 'QUEUE_FULL',
        message: `this connection already has ${this.#inFlight} reads in flight (maxInFlightPerClient); wait for answers`,
      });
      return;
    }
    const started = this.#logReads ? this.#now() : 0;
    this.#inFlight += 1;
    const { result, shared, sharers, leave } = this.#o.read(req);
    this.#leaves.add(leave);
    let tracked: ReadInFlight | undefined;
    if (form.kind === 'v1') {
      tracked = { req, leave, done: false };
      this.#v1InFlight.set(form.id, tracked);
    }
    if (this.#logReads) {
      this.#log(
        'info',
        'read-start',
        `client #${this.clientId} asks ${req.concentrator}/${req.meter}${shared ? ` (joins the read in flight, ×${sharers})` : ''}`,
        {
          id: form.kind === 'v1' ? form.id : undefined,
          legacy: form.kind === 'legacy',
          concentrator: req.concentrator,
          meter: req.meter,
          shared,
        },
      );
    }
    const onAnswer = (answer: UpstreamAnswer): void => {
      if (tracked?.done) return; // cancelled by the client: it already had its one answer
      this.#inFlight -= 1;
      this.#leaves.delete(leave);
      if (form.kind === 'v1') this.#v1InFlight.delete(form.id);
      if (this.#logReads) {
        const ms = this.#now() - started;
        const outcome = answer.type === 'reading' ? `${answer.value} ${answer.unit}` : answer.code;
        this.#log(
          'info',
          'read',
          `client #${this.clientId} read ${req.concentrator}/${req.meter}${shared ? ` (shared ×${sharers})` : ''}: ${outcome} in ${ms} ms`,
          {
            client: this.clientId,
            id: form.kind === 'v1' ? form.id : undefined,
            legacy: form.kind === 'legacy',
            concentrator: req.concentrator,
            meter: req.meter,
            shared,
            outcome: answer.type === 'reading' ? 'reading' : answer.code,
            ms,
          },
        );
      }
      this.#answer(form, req, answer);
    };
    result.then(onAnswer, (error: unknown) =>
      onAnswer({
        // MasterLink never rejects; this only keeps the one-answer promise if that ever changes.
        type: 'error',
        code: 'BAD_REPLY',
        message: `internal error: ${error instanceof Error ? error.message : String(error)}`,
      }),
    );
  }

  /** Sends the answer under the requester's own identity. */
  #answer(form: AnswerForm, req: UpstreamRead, answer: UpstreamAnswer): void {
    if (form.kind === 'legacy') {
      this.#send(toLegacyAnswer(answer, form.request), answer.type === 'reading' ? 'reading' : answer.code);
      return;
    }
    if (answer.type === 'reading') {
      // The master link validated this reading as it arrived (the codec gives its keys in the canonical order)
      // and form.id is the client's own validated id: encoding it again would only repeat those checks.
      if (this.#canSend('reading')) this.#o.socket.send(JSON.stringify({ ...answer, id: form.id }));
      return;
    }
    const error: ReadError = {
      type: 'error',
      id: form.id,
      code: answer.code,
      message: answer.message,
      concentrator: answer.concentrator ?? req.concentrator,
      meter: answer.meter ?? req.meter,
    };
    // The master's precise reason (ADDRESS_MISMATCH with both addresses, ABNORMAL_REPLY with the status word …)
    // reaches the client unchanged; the legacy form above has no room for it.
    if (answer.detail !== undefined) error.detail = answer.detail;
    this.#send(error, answer.code);
  }

  #send(msg: PointReadMessage | LegacyAnswer, what: string): void {
    if (!this.#canSend(what)) return;
    let text: string;
    try {
      text = encodePointReadMessage(msg);
    } catch {
      // Only a master answer the codec accepted but cannot re-encode could get here; send it as it is.
      text = JSON.stringify(msg);
    }
    this.#o.socket.send(text);
  }

  /**
   * Whether an answer (`what`, for the log) may be sent now. False when the client is gone, or when it is a slow
   * reader, which this closes (see the module comment).
   */
  #canSend(what: string): boolean {
    const socket = this.#o.socket;
    if (!this.#open || socket.readyState !== OPEN) {
      this.#open = false;
      this.#log('info', 'answer-dropped', `client #${this.clientId} is gone; ${what} answer dropped`, {
        what,
      });
      return false;
    }
    if (socket.bufferedAmount > this.#o.maxBufferedBytes) {
      this.#open = false;
      const reason = `slow reader: ${socket.bufferedAmount} bytes unsent`;
      this.#log(
        'warn',
        'slow-client',
        `client #${this.clientId} (${this.#o.remote}) is not reading (${socket.bufferedAmount} bytes unsent > maxBufferedBytes ${this.#o.maxBufferedBytes}); ${what} answer dropped, closing with ${CLOSE_SLOW_READER}`,
        { buffered: socket.bufferedAmount, what },
      );
      socket.close(CLOSE_SLOW_READER, reason);
      return false;
    }
    return true;
  }

  #log(level: 'info' | 'warn', event: string, message: string, fields: Record<string, unknown>): void {
    this.#o.log({ level, event, message, fields: { client: this.clientId, ...fields } });
  }
}
