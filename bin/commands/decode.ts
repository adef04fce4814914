import { type Command, Option } from 'commander';
import {
  type AnyFrame,
  decodeAuto,
  describeFrame,
  PROTOCOL_NAMES,
  type ProtocolName,
} from '../../protocols/auto.ts';
import { bytesToHex } from '../../protocols/bytes.ts';
import { nextCjt188Start } from '../../protocols/cjt188/decode.ts';
import { nextDlt645Start } from '../../protocols/dlt645/decode.ts';
import {
  FrameAccumulator,
  type FramerEvent,
  type StartFinder,
  withStartFinder,
} from '../../protocols/framer.ts';
import { GDW376_MAX_FRAME_LENGTH, gdw376Header, nextGdw376Start } from '../../protocols/gdw376/frame.ts';
import { UsageError } from '../usage.ts';
import { HexTextDecoder, HexTextError } from './hex-text.ts';
import { decodeRecordingCommand } from './tap.ts';

interface DecodeFlags {
  protocol: 'auto' | ProtocolName;
  binary?: boolean;
  recording?: string;
  follow?: boolean;
}

/** Exit status of `meterlab decode` (documented in README "decode's exit status"). */
export const DECODE_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export function registerDecode(program: Command): void {
  program
    .command('decode')
    .description('decode frames given as hex (or read from stdin), one JSON object per frame or error')
    .argument('[hex...]', 'frame bytes as hex, spaces allowed; read from stdin when absent')
    .addOption(
      new Option('-p, --protocol <name>', 'protocol of the frames')
        .choices(['auto', ...PROTOCOL_NAMES])
        .default('auto'),
    )
    .option('--binary', 'stdin carries raw bytes instead of hex text (default: hex text)')
    .option(
      '--recording <file>',
      'decode every frame of a recording (JSON Lines) with time, link and direction',
    )
    .option('--follow', 'with --recording: keep reading a file that is still being written')
    .addHelpText(
      'after',
      `
Output: one line per frame, {"protocol":…, fields…, "hex":…}; bytes that form no valid frame print as
{"error":{"code":…,"message":…,"offset":…},"hex":…}. Input of any size is decoded as it streams in.

Exit status: 0 when at least one frame was found and nothing but junk (NO_START: line noise, stray bytes
around or between frames) was dropped; 1 when a candidate frame was corrupt (bad checksum, length, end byte,
a frame cut short …) or no frame was found at all; 2 for usage errors (an unknown option, input that is not hex).

Examples:
  meterlab decode 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16
  printf 'FE FE 68 ... 16 junk 68 ... 16' | meterlab decode --protocol cjt188
  meterlab decode --binary < capture.bin`,
    )
    .action(async (hex: string[], flags: DecodeFlags) => {
      if (flags.recording !== undefined)
        return decodeRecordingCommand(flags.recording, flags.follow === true);
      const session = new DecodeSession(flags.protocol);
      try {
        if (hex.length > 0) {
          const text = new HexTextDecoder();
          const bytes = text.push(hex.join(' '));
          text.end();
          await print(session.push(bytes));
        } else {
          await decodeStdin(session, flags.binary === true);
        }
      } catch (error) {
        if (error instanceof HexTextError) throw new UsageError(error.message);
        throw error;
      }
      await print(session.end());
      process.exitCode = session.exitCode;
    });
}

/** Reads stdin chunk by chunk through the framer, printing as it goes: memory does not grow with the input. */
async function decodeStdin(session: DecodeSession, binary: boolean): Promise<void> {
  const text = binary ? undefined : new HexTextDecoder();
  for await (const chunk of process.stdin) {
    const bytes = chunk as Buffer;
    await print(session.push(text ? text.push(bytes.toString('latin1')) : bytes));
  }
  text?.end();
}

/** Writes lines, waiting for stdout to drain when it is behind (a slow pipe must not make memory grow). */
async function print(lines: DecodeLine[]): Promise<void> {
  if (lines.length === 0) return;
  let out = '';
  for (const line of lines) out += `${JSON.stringify(line)}\n`;
  if (!process.stdout.write(out)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

export type DecodeLine =
  | (Record<string, unknown> & { protocol: ProtocolName; hex: string })
  | { error: { code: string; message: string; offset: number }; hex: string };

const START_FINDERS: Record<ProtocolName, StartFinder> = {
  cjt188: nextCjt188Start,
  dlt645: nextDlt645Start,
  gdw376: nextGdw376Start,
};

/**
 * A byte stream decoded as a framer on a live link would, chunk by chunk: frames and drops as {@link DecodeLine}s,
 * and what the exit status should be. Holds at most the longest frame (16391 bytes for 376.1) plus one drop run.
 */
export class DecodeSession {
  readonly #accumulator: FrameAccumulator<AnyFrame>;
  readonly #gdw376: boolean;
  #frames = 0;
  #corrupt = 0;

  constructor(protocol: 'auto' | ProtocolName) {
    const only = protocol === 'auto' ? PROTOCOL_NAMES : [protocol];
    this.#gdw376 = only.includes('gdw376');
    // A frame of any of the protocols could start where the first of their start finders says.
    const nextStart: StartFinder = (buf, from, context) => {
      let next = buf.length;
      for (const p of only) next = Math.min(next, START_FINDERS[p](buf, from, context, next));
      return next;
    };
    this.#accumulator = new FrameAccumulator(
      withStartFinder((buf, context) => decodeAuto(buf, only, context), nextStart),
      { maxBufferedBytes: GDW376_MAX_FRAME_LENGTH },
    );
  }

  push(bytes: Uint8Array): DecodeLine[] {
    return this.#lines(this.#accumulator.push(bytes));
  }

  end(): DecodeLine[] {
    return this.#lines(this.#accumulator.flush());
  }

  /** 0: frames and at most junk around them; 1: a corrupt candidate frame, or no frame at all. */
  get exitCode(): number {
    return this.#corrupt > 0 || this.#frames === 0 ? DECODE_EXIT.failed : DECODE_EXIT.ok;
  }

  #lines(events: FramerEvent<AnyFrame>[]): DecodeLine[] {
    const lines: DecodeLine[] = [];
    for (const event of events) {
      if (event.kind === 'frame') {
        this.#frames++;
        lines.push({ ...describeFrame(event.frame), hex: bytesToHex(event.raw) });
        continue;
      }
      const { error, bytes, offset } = event;
      // A 376.1 frame with a sound envelope whose user data does not fit the layout is still a frame: show its
      // header and data with a warning naming what did not fit (issue 14, item 4); bytes after it are junk.
      const header = this.#gdw376 && error.code !== 'NO_START' ? gdw376Header(bytes) : undefined;
      if (header) {
        this.#frames++;
        const { length, ...fields } = header;
        const warning = `the user data does not fit the expected layout (${error.code}): ${error.message}`;
        const hex = bytesToHex(bytes.subarray(0, length));
        lines.push({ protocol: 'gdw376', ...fields, units: [], warnings: [warning], hex });
        if (length < bytes.length) {
          const message = 'bytes after a frame where no frame can start';
          const junk = bytesToHex(bytes.subarray(length));
          lines.push({ error: { code: 'NO_START', message, offset: offset + length }, hex: junk });
        }
        continue;
      }
      // NO_START is junk: bytes where no frame can start (line noise, stray bytes, surplus preamble).
      if (error.code !== 'NO_START') this.#corrupt++;
      lines.push({ error: { code: error.code, message: error.message, offset }, hex: bytesToHex(bytes) });
    }
    return lines;
  }
}

/** Splits a whole byte string into frames and errors, exactly as a framer on a live link would. */
export function decodeStream(input: Uint8Array, protocol: 'auto' | ProtocolName): DecodeLine[] {
  const session = new DecodeSession(protocol);
  return session.push(input).concat(session.end());
}
