import { type Command, Option } from 'commander';
import {
  type AnyFrame,
  decodeAuto,
  describeFrame,
  PROTOCOL_NAMES,
  type ProtocolName,
} from '../../protocols/auto.ts';
import { bytesToHex, hexToBytes } from '../../protocols/bytes.ts';
import { FrameAccumulator } from '../../protocols/framer.ts';
import { readStdin } from '../io.ts';
import { decodeRecordingCommand } from './tap.ts';

interface DecodeFlags {
  protocol: 'auto' | ProtocolName;
  binary?: boolean;
  recording?: string;
  follow?: boolean;
}

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
    .option('--binary', 'stdin carries raw bytes instead of hex text')
    .option(
      '--recording <file>',
      'decode every frame of a recording (JSON Lines) with time, link and direction',
    )
    .option('--follow', 'with --recording: keep reading a file that is still being written')
    .addHelpText(
      'after',
      `
Output: one line per frame, {"protocol":…, fields…, "hex":…}; bytes that form no valid frame print as
{"error":{"code":…,"message":…,"offset":…},"hex":…}. Exit status 1 when any bytes were dropped.

Examples:
  meterlab decode 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16
  printf 'FE FE 68 ... 16 junk 68 ... 16' | meterlab decode --protocol cjt188`,
    )
    .action(async (hex: string[], flags: DecodeFlags) => {
      if (flags.recording !== undefined)
        return decodeRecordingCommand(flags.recording, flags.follow === true);
      const input = hex.length > 0 ? hexToBytes(hex.join(' ')) : await readInput(flags.binary === true);
      const lines = decodeStream(input, flags.protocol);
      for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
      if (lines.some((l) => 'error' in l)) process.exitCode = 1;
    });
}

async function readInput(binary: boolean): Promise<Uint8Array> {
  const bytes = await readStdin();
  return binary ? bytes : hexToBytes(Buffer.from(bytes).toString('latin1'));
}

export type DecodeLine =
  | (Record<string, unknown> & { protocol: ProtocolName; hex: string })
  | { error: { code: string; message: string; offset: number }; hex: string };

/** Splits a byte stream into frames and errors, exactly as a framer on a live link would. */
export function decodeStream(input: Uint8Array, protocol: 'auto' | ProtocolName): DecodeLine[] {
  const only = protocol === 'auto' ? PROTOCOL_NAMES : [protocol];
  const accumulator = new FrameAccumulator<AnyFrame>((buf) => decodeAuto(buf, only), {
    maxBufferedBytes: Math.max(16, input.length + 1),
  });
  return [...accumulator.push(input), ...accumulator.flush()].map((event) =>
    event.kind === 'frame'
      ? { ...describeFrame(event.frame), hex: bytesToHex(event.raw) }
      : {
          error: { code: event.error.code, message: event.error.message, offset: event.offset },
          hex: bytesToHex(event.bytes),
        },
  );
}
