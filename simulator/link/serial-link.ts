import { existsSync, realpathSync } from 'node:fs';
import { SerialPort } from 'serialport';
import type { Clock } from '../clock/clock.ts';
import { realClock } from '../clock/real-clock.ts';
import { EchoFilter } from './echo-filter.ts';
import { LinkError, messageOf } from './errors.ts';
import { LinkBase } from './link.ts';
import {
  formatSerialSettings,
  type SerialSettings,
  validateSerialSettings,
  wireTimeMs,
} from './serial-settings.ts';

/** What {@link SerialLink} passes to a {@link SerialPortFactory}: serialport's open options. */
export interface SerialPortFactoryOptions extends SerialSettings {
  path: string;
  lock: boolean;
  autoOpen: false;
}

type Callback = (error: Error | null | undefined) => void;

/**
 * The part of a serialport `SerialPort` (`SerialPortStream`) that {@link SerialLink} uses. Any
 * `SerialPortStream` fits, whatever its binding: the real one (`SerialPort`), `SerialPortMock`, or one with a
 * custom binding — the way node-serialport keeps hardware behind one binding interface.
 */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: Callback): void;
  write(data: Buffer, callback: Callback): boolean;
  drain(callback: Callback): void;
  set(options: { rts?: boolean; dtr?: boolean; brk?: boolean }, callback: Callback): void;
  close(callback: Callback): void;
  on(event: 'data' | 'error' | 'close', listener: (...args: never[]) => void): unknown;
  removeAllListeners(): unknown;
}

/** Makes the port a {@link SerialLink} drives; the default opens real devices through `serialport`. */
export type SerialPortFactory = (options: SerialPortFactoryOptions) => SerialPortLike;

/** Options for {@link SerialLink}. */
export interface SerialLinkOptions {
  /** Device path: `/dev/ttyUSB0`, `/dev/ttyS1`, one end of a pty pair, `COM3`. */
  path: string;
  /**
   * Line settings.
   * @defaultValue {@link DEFAULT_METER_SERIAL} (2400 8E1)
   */
  settings?: Partial<SerialSettings>;
  /**
   * Drop the adapter's echo of what we send: after each write, exactly the written bytes are expected back
   * first and removed. A mismatch or a missing echo emits a `'warning'` (`ECHO_MISMATCH`, `ECHO_MISSING`) and
   * stops filtering that write, so a genuine reply is never eaten. For half-duplex adapters that echo.
   * @defaultValue false
   */
  echoDiscard?: boolean;
  /**
   * How long after a write's last byte has left the wire its echo may still arrive (USB adapters hold
   * received bytes for their latency timer, 16 ms on FTDI by default).
   * @defaultValue 100
   */
  echoTimeoutMs?: number;
  /**
   * Drive the RS-485 transceiver's direction with RTS, for adapters without automatic direction control:
   * RTS is set before each write and cleared once the OS has drained the write *and* the write's wire time
   * (`wireTimeMs` from its start, on `clock`) has passed — USB adapters report drained while their own FIFO is
   * still shifting bytes out, and clearing RTS early cuts off the frame's last bytes.
   * `open()` puts RTS in the receive state first; a device that cannot drive RTS (a pty, some drivers) makes
   * `open()` reject with `LINK_UNSUPPORTED` rather than run a bus on which we would never be heard.
   * @defaultValue false
   */
  rtsDirection?: boolean;
  /**
   * Take an exclusive lock on the device so a second program cannot open it at the same time.
   * @defaultValue true
   */
  lock?: boolean;
  /**
   * How often (real time, ms) to check that the device path still exists while open; 0 turns it off. When
   * the other end of a pty pair dies, serialport 13 on Linux reads end-of-file in a tight loop instead of
   * reporting a disconnect, and a USB adapter's node vanishes on unplug; this check notices both, emits
   * `LINK_DISCONNECTED` and closes the port. Only runs for paths that existed when opened.
   * @defaultValue 250
   */
  presenceCheckMs?: number;
  /**
   * Clock for RTS timing and echo deadlines.
   * @defaultValue realClock
   */
  clock?: Clock;
  /**
   * Makes the underlying port; pass one built on `SerialPortMock` or another binding in tests.
   * @defaultValue a factory that creates serialport's `SerialPort`
   */
  portFactory?: SerialPortFactory;
}

/** A pseudo-terminal's device node is /dev/pts/N (Unix 98 ptys; socat's `link=` names are symlinks to one). */
export function isPseudoTerminal(path: string): boolean {
  try {
    return realpathSync(path).startsWith('/dev/pts/');
  } catch {
    return false;
  }
}

const defaultPortFactory: SerialPortFactory = (options) => new SerialPort(options);

/**
 * A serial device through `serialport`: a USB RS-485 adapter, an on-board UART, or one end of a pty pair.
 * Open errors name the path (`LINK_NOT_FOUND`, `LINK_BUSY`, `LINK_ACCESS_DENIED`); an adapter unplugged while
 * open gives an `'error'` (`LINK_DISCONNECTED`) then `'close'`.
 */
export class SerialLink extends LinkBase {
  readonly path: string;
  readonly settings: SerialSettings;
  readonly description: string;
  readonly #echoDiscard: boolean;
  readonly #echoTimeoutMs: number;
  readonly #rtsDirection: boolean;
  readonly #lock: boolean;
  readonly #presenceCheckMs: number;
  #presenceTimer: NodeJS.Timeout | undefined;
  readonly #clock: Clock;
  readonly #portFactory: SerialPortFactory;
  readonly #echo = new EchoFilter();
  #port: SerialPortLike | undefined;
  #closingPort = false;
  #pseudoTerminal = false;
  /** Writes run one at a time so RTS and echo bookkeeping belong to exactly one write. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: SerialLinkOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
    const {
      path,
      echoDiscard = false,
      echoTimeoutMs = 100,
      rtsDirection = false,
      lock = true,
      presenceCheckMs = 250,
      clock = realClock,
      portFactory = defaultPortFactory,
    } = options;
    if (typeof path !== 'string' || path.length === 0)
      throw new TypeError('"path" must be a non-empty string');
    if (typeof echoDiscard !== 'boolean') throw new TypeError('"echoDiscard" must be a boolean');
    if (typeof echoTimeoutMs !== 'number' || !Number.isFinite(echoTimeoutMs) || echoTimeoutMs < 0) {
      throw new TypeError(`"echoTimeoutMs" must be a number >= 0, got ${String(echoTimeoutMs)}`);
    }
    if (typeof rtsDirection !== 'boolean') throw new TypeError('"rtsDirection" must be a boolean');
    if (typeof lock !== 'boolean') throw new TypeError('"lock" must be a boolean');
    if (typeof presenceCheckMs !== 'number' || !Number.isFinite(presenceCheckMs) || presenceCheckMs < 0) {
      throw new TypeError(`"presenceCheckMs" must be a number >= 0, got ${String(presenceCheckMs)}`);
    }
    if (typeof portFactory !== 'function') throw new TypeError('"portFactory" must be a function');
    this.path = path;
    this.settings = validateSerialSettings(options.settings);
    this.description = path;
    this.#echoDiscard = echoDiscard;
    this.#echoTimeoutMs = echoTimeoutMs;
    this.#rtsDirection = rtsDirection;
    this.#lock = lock;
    this.#presenceCheckMs = presenceCheckMs;
    this.#clock = clock;
    this.#portFactory = portFactory;
  }

  protected async doOpen(): Promise<void> {
    const port = this.#portFactory({ path: this.path, ...this.settings, lock: this.#lock, autoOpen: false });
    try {
      await call((cb) => port.open(cb));
    } catch (error) {
      throw mapOpenError(error, this.path, this.settings);
    }
    if (this.#rtsDirection) {
      try {
        await setRts(port, false);
      } catch (error) {
        await call((cb) => port.close(cb)).catch(() => undefined);
        throw new LinkError(
          'LINK_UNSUPPORTED',
          `${this.path} cannot drive RTS for direction control (${messageOf(error)}); use an adapter with ` +
            'automatic direction control and open it without rtsDirection',
          { cause: error },
        );
      }
    }
    this.#port = port;
    this.#closingPort = false;
    this.#pseudoTerminal = isPseudoTerminal(this.path);
    this.#echo.abandon();
    port.on('data', (chunk: Buffer) =>
      this.#onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
    );
    port.on('error', (error: Error) => {
      if (this.isOpen) {
        this.emit(
          'error',
          new LinkError('LINK_WRITE_FAILED', `${this.path}: ${messageOf(error)}`, { cause: error }),
        );
      }
    });
    port.on('close', (error: Error | null) => {
      if (this.#closingPort || this.#port !== port) return;
      this.#port = undefined;
      this.#stopPresenceCheck();
      port.removeAllListeners();
      this.lost(
        new LinkError(
          'LINK_DISCONNECTED',
          `${this.path} went away while open${error ? ` (${messageOf(error)})` : ''}`,
          error ? { cause: error } : undefined,
        ),
      );
    });
    if (this.#presenceCheckMs > 0 && existsSync(this.path)) {
      this.#presenceTimer = setInterval(() => {
        if (existsSync(this.path) || this.#port !== port) return;
        this.#stopPresenceCheck();
        // Keep the port: doClose (run by lost) closes it, which also ends a spinning read.
        this.lost(
          new LinkError('LINK_DISCONNECTED', `${this.path} went away while open (device node removed)`),
        );
      }, this.#presenceCheckMs);
      // A watchdog alone must not keep the process alive.
      this.#presenceTimer.unref();
    }
  }

  /**
   * Whether the open device is a pseudo-terminal (one end of a socat pair, /dev/pts/N). Its line settings are
   * accepted but not enforced: a pty passes bytes at any speed and has no parity bit (issue 14 item 15).
   */
  get pseudoTerminal(): boolean {
    return this.#pseudoTerminal;
  }

  /**
   * The line settings as a user should read them: `2400 8E1`, or on a pty `2400 8E1 (not enforced: … is a
   * pseudo-terminal …)` so a log line does not claim what the device does not do.
   */
  describeSettings(): string {
    const text = formatSerialSettings(this.settings);
    if (!this.#pseudoTerminal) return text;
    return (
      `${text} not enforced: ${this.path} is a pseudo-terminal, which passes bytes at any speed and has no ` +
      'parity bit; meterlab still times frames as on the real line'
    );
  }

  #stopPresenceCheck(): void {
    if (this.#presenceTimer) clearInterval(this.#presenceTimer);
    this.#presenceTimer = undefined;
  }

  protected doWrite(bytes: Uint8Array): Promise<void> {
    const job = this.#queue.then(() => this.#writeNow(Uint8Array.from(bytes)));
    this.#queue = job.catch(() => undefined);
    return job;
  }

  async #writeNow(bytes: Uint8Array): Promise<void> {
    const port = this.#port;
    if (!port || !this.isOpen)
      throw new LinkError('LINK_CLOSED', `cannot write to ${this.path}: link closed`);
    if (bytes.length === 0) return;
    const wire = wireTimeMs(bytes.length, this.settings);
    try {
      if (this.#rtsDirection) await setRts(port, true);
      const start = this.#clock.now();
      if (this.#echoDiscard) {
        const deadline = start + wire + this.#echoTimeoutMs;
        this.#echo.expect(bytes, deadline);
        this.#clock.setTimeout(() => this.#expireEcho(), deadline - start);
      }
      await call((cb) => port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), cb));
      await call((cb) => port.drain(cb));
      if (this.#rtsDirection) {
        const remaining = start + wire - this.#clock.now();
        if (remaining > 0) await this.#clock.sleep(remaining);
        await setRts(port, false);
      }
    } catch (error) {
      if (error instanceof LinkError) throw error;
      if (!this.isOpen) {
        throw new LinkError('LINK_CLOSED', `write to ${this.path} cut short: link closed`, { cause: error });
      }
      throw new LinkError('LINK_WRITE_FAILED', `write to ${this.path} failed: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  #onData(chunk: Uint8Array): void {
    if (!this.#echoDiscard) {
      this.deliver(chunk);
      return;
    }
    const { pass, abandoned } = this.#echo.filter(chunk);
    if (abandoned > 0) {
      this.emit(
        'warning',
        new LinkError(
          'ECHO_MISMATCH',
          `${this.path}: received bytes that are not the echo of what we sent; stopped expecting ${abandoned} echo byte(s)`,
        ),
      );
    }
    this.deliver(pass);
  }

  #expireEcho(): void {
    const missing = this.#echo.expire(this.#clock.now());
    if (missing > 0 && this.isOpen) {
      this.emit(
        'warning',
        new LinkError(
          'ECHO_MISSING',
          `${this.path}: ${missing} echo byte(s) did not come back within ${this.#echoTimeoutMs} ms of the write; ` +
            'does this adapter echo?',
        ),
      );
    }
  }

  protected async doClose(): Promise<void> {
    const port = this.#port;
    this.#port = undefined;
    this.#stopPresenceCheck();
    this.#echo.abandon();
    if (!port) return;
    this.#closingPort = true;
    try {
      if (port.isOpen) await call((cb) => port.close(cb));
    } catch {
      // Closing a port whose device is gone fails; it is closed either way.
    } finally {
      port.removeAllListeners();
    }
  }
}

function call(fn: (cb: Callback) => unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    fn((error) => (error ? reject(error) : resolve()));
  });
}

/**
 * serialport's `set()` writes every modem flag at once (unset ones get defaults), so DTR and BRK are given
 * explicitly to leave them where an opened port has them.
 */
function setRts(port: SerialPortLike, rts: boolean): Promise<void> {
  return call((cb) => port.set({ rts, dtr: true, brk: false }, cb));
}

/**
 * serialport reports open failures as plain Errors with the OS text (no `code`), e.g.
 * "Error: No such file or directory, cannot open /dev/ttyUSB9" or "Error Resource temporarily unavailable
 * Cannot lock port", so the mapping goes by message.
 */
function mapOpenError(error: unknown, path: string, settings: SerialSettings): LinkError {
  const text = messageOf(error);
  const options = { cause: error };
  if (/no such file|ENOENT|cannot find the file|file not found/i.test(text) || !existsSync(path)) {
    return new LinkError('LINK_NOT_FOUND', `serial device ${path} does not exist (${text})`, options);
  }
  if (/permission denied|EACCES|EPERM/i.test(text)) {
    return new LinkError(
      'LINK_ACCESS_DENIED',
      `no permission to open ${path} (${text}); on Linux add your user to the "dialout" group`,
      options,
    );
  }
  // "Access denied" is what Windows says when another program has the COM port open.
  if (/cannot lock|resource temporarily unavailable|EBUSY|resource busy|access denied/i.test(text)) {
    return new LinkError(
      'LINK_BUSY',
      `serial device ${path} is in use by another program (${text})`,
      options,
    );
  }
  return new LinkError(
    'LINK_OPEN_FAILED',
    `cannot open ${path} at ${formatSerialSettings(settings)}: ${text}`,
    options,
  );
}
