import { type Command, Option } from 'commander';
import { FRAMINGS, type Framing } from '../../harness/recording/format.ts';
import { IMPORT_FORMATS, type ImportFormat, importToFile } from '../../harness/recording/import/index.ts';

/** `meterlab import --from socat|sscom|hex|pcap FILE --out s.jsonl`. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      'turn a field log (socat -x -v dump, serial-assistant log, hex lines, pcap/pcapng) into a recording',
    )
    .argument('<file>', 'the log or capture to read')
    .addOption(
      new Option('--from <format>', 'what the file is').choices(IMPORT_FORMATS).makeOptionMandatory(),
    )
    .requiredOption('--out <file>', 'recording to write (replaced if it exists)')
    .addOption(
      new Option('--framing <f>', 'how to cut the streams into frames').choices(FRAMINGS).default('auto'),
    )
    .addHelpText(
      'after',
      `
Formats:
  socat  what "socat -x -v ADDR1 ADDR2" writes to stderr (> = ADDR1 to ADDR2, < = back)
  sscom  serial-assistant lines "[14:22:01.123]发→◇68 10 … 16 □" / "[…]收←◆…" (or TX/RX)
  hex    one chunk per line: [12:00:01.250] [>|<] 68 10 44 …   (# starts a comment)
  pcap   a pcap or pcapng capture of TCP: one link per connection, streams put back in order

Example:
  socat -x -v /dev/ttyUSB0,b2400,raw PTY,link=/tmp/meter,raw 2> field.dump
  meterlab import --from socat field.dump --out field.jsonl && meterlab decode --recording field.jsonl`,
    )
    .action((file: string, flags: { from: ImportFormat; out: string; framing: Framing }) => {
      const session = importToFile(flags.from, file, flags.out, flags.framing);
      process.stderr.write(
        `imported ${session.chunks.length} chunks on ${session.links.length} link(s) from ${file} into ${flags.out}\n`,
      );
    });
}
