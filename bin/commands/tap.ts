import { type Command, Option } from 'commander';
import { decodeRecording } from '../../harness/recording/decode-recording.ts';
import { parseEndpoint } from '../../harness/recording/endpoint.ts';
import { FRAMINGS, type Framing } from '../../harness/recording/format.ts';
import type { RecordedEvent } from '../../harness/recording/recorder.ts';
import { Tap } from '../../harness/recording/tap.ts';
import { untilInterrupted } from './vport.ts';

interface TapFlags {
  out: string;
  quiet?: boolean;
  framing: Framing;
}

/** One printed line per frame or drop: time, link, direction, what it says. */
export function formatRecordedEvent(e: RecordedEvent): string {
  const arrow = e.dir === 'ab' ? 'a->b' : 'b->a';
  const what =
    e.event.kind === 'frame'
      ? e.event.summary
      : `DROP ${e.event.code}: ${e.event.reason} (${e.event.bytes.length} bytes)`;
  return `${(e.t / 1000).toFixed(3).padStart(9)} ${e.link} ${arrow} ${what}`;
}

/** `meterlab tap A B --out s.jsonl`. */
export function registerTap(program: Command): void {
  program
    .command('tap')
    .description(
      'forward bytes both ways between two endpoints and record every chunk and frame (JSON Lines)',
    )
    .argument('<a>', 'first endpoint: serial:PATH[@2400-8E1], tcp-listen:HOST:PORT or tcp:HOST:PORT')
    .argument('<b>', 'second endpoint: serial:PATH[@2400-8E1] or tcp:HOST:PORT')
    .requiredOption('--out <file>', 'recording to write (replaced if it exists)')
    .option('--quiet', 'do not print a decoded line per frame')
    .addOption(
      new Option('--framing <f>', 'how to cut the streams into frames').choices(FRAMINGS).default('auto'),
    )
    .addHelpText(
      'after',
      `
Ctrl-C stops the tap and closes the recording cleanly. With tcp-listen first, each accepted connection is
forwarded to b over its own connection and recorded as its own link (conn1, conn2 …), several
at once (up to 64; one more is closed at once with a note saying so).

Examples:
  meterlab tap serial:/dev/ttyUSB0@2400-8E1 serial:/tmp/vp/ttyV0 --out field.jsonl
  meterlab tap tcp-listen:127.0.0.1:5805 tcp:platform.example:5805 --out uplink.jsonl`,
    )
    .action(async (aText: string, bText: string, flags: TapFlags) => {
      const a = parseEndpoint(aText, 'a');
      const b = parseEndpoint(bText, 'b');
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const tap = await Tap.start({
        a,
        b,
        out: flags.out,
        framing: flags.framing,
        onFrame: flags.quiet ? undefined : (e) => out(formatRecordedEvent(e)),
        onNote: (line) => process.stderr.write(`tap: ${line}\n`),
      });
      const reason = await Promise.race([untilInterrupted(), tap.done]);
      await tap.stop(reason);
      const w = tap.recorder.writer;
      process.stderr.write(
        `tap: ${reason}; wrote ${w.bytesWritten} bytes to ${flags.out}${w.dropped > 0 ? ` (${w.dropped} records over the size bound not written)` : ''}\n`,
      );
    });
}

/**
 * `meterlab decode --recording FILE [--follow]` (hooked into decode.ts): one JSON line per frame or drop.
 * Exit status 1 when the recording holds drops, like `decode` on hex.
 */
export async function decodeRecordingCommand(file: string, follow: boolean): Promise<void> {
  const controller = new AbortController();
  if (follow) void untilInterrupted().then(() => controller.abort());
  const { drops } = await decodeRecording(file, {
    follow,
    signal: controller.signal,
    out: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
    warn: (message) => process.stderr.write(`meterlab: ${message}\n`),
  });
  if (drops > 0) process.exitCode = 1;
}
