import { RecordingError } from '../errors.ts';
import type { Direction, RecordedLink } from '../format.ts';
import type { ImportedSession } from './imported.ts';

/**
 * Importers for the text logs field engineers bring: `socat -x -v` dumps, serial-assistant logs (SSCOM and
 * the tools that copy its format) and plain hex lines. Each reads the whole text, and the first line it cannot
 * read is one RecordingError BAD_IMPORT naming the file and line: nothing is skipped silently.
 */

function link(a: string, b: string, settings = ''): RecordedLink {
  return { name: 'log', kind: 'unknown', settings, a, b, framing: 'auto' };
}

function bad(file: string, line: number, why: string): never {
  throw new RecordingError('BAD_IMPORT', `${file}:${line}: ${why}`);
}

/** Splits text into lines, numbered from 1, without their line ends. */
function lines(text: string): string[] {
  return text.split(/\r?\n/);
}

const SOCAT_HEADER =
  /^([<>]) (\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s+length=(\d+) from=(\d+) to=(\d+)$/;

/**
 * A `socat -x -v` dump (what socat writes to stderr): per transfer a header line
 * `> 2026/12/05 10:28:57.000237971  length=20 from=0 to=19`, hex lines ` fe fe 68 …  ..h.` (16 bytes each,
 * the hex in columns 1–48, a text rendering after) and `--`. `>` is data from socat's first address to its
 * second (`ab`), `<` back (`ba`). socat 1.7/1.8 prints the microseconds zero-padded to nine digits
 * (`.000237971` is 237971 µs, checked against a real run in text-logs.test.ts), so a nine-digit fraction
 * below 1,000,000 is read as microseconds. A dump made with `-v` alone (text, not hex) is refused: it
 * cannot give the bytes back exactly.
 */
export function importSocat(text: string, file: string): ImportedSession {
  const chunks: ImportedSession['chunks'] = [];
  let start: number | undefined;
  let current: { t: number; dir: Direction; length: number; hex: string[]; line: number } | undefined;
  const finish = (at: number) => {
    if (!current) return;
    if (current.hex.length !== current.length) {
      bad(
        file,
        current.line,
        `the transfer says length=${current.length} but ${current.hex.length} bytes follow (line ${at} ends it)`,
      );
    }
    chunks.push({
      t: current.t,
      link: 'log',
      dir: current.dir,
      bytes: Uint8Array.from(current.hex.map((h) => parseInt(h, 16))),
    });
    current = undefined;
  };
  const all = lines(text);
  all.forEach((line, i) => {
    const n = i + 1;
    if (line === '--') {
      finish(n);
      return;
    }
    const header = SOCAT_HEADER.exec(line);
    if (header) {
      finish(n);
      const [, arrow, y, mo, d, h, mi, s, frac = '0', length] = header;
      const fraction = frac.length === 9 && Number(frac) < 1e6 ? Number(frac) / 1e6 : Number(`0.${frac}`);
      const epoch = new Date(+y, +mo - 1, +d, +h, +mi, +s).getTime() + fraction * 1000;
      start ??= epoch;
      current = {
        t: epoch - start,
        dir: arrow === '>' ? 'ab' : 'ba',
        length: Number(length),
        hex: [],
        line: n,
      };
      return;
    }
    if (current && line.startsWith(' ')) {
      const bytes = line.slice(1, 49).trim().split(/\s+/);
      if (!bytes.every((b) => /^[0-9a-f]{2}$/i.test(b))) {
        bad(
          file,
          n,
          'expected a hex line of `socat -x` (" fe fe 68 …"); was the dump made with -v alone? use socat -x -v',
        );
      }
      current.hex.push(...bytes);
      return;
    }
    if (line.trim() === '' && (i === all.length - 1 || !current)) return;
    bad(
      file,
      n,
      current
        ? 'expected a hex line or "--"'
        : 'expected a socat -x -v transfer header ("> 2026/12/05 10:28:57.000237971  length=20 from=0 to=19")',
    );
  });
  finish(all.length);
  if (chunks.length === 0) bad(file, 1, 'no transfers found: is this a socat -x -v dump?');
  return {
    source: 'import socat',
    startEpochMs: start ?? 0,
    links: [link("socat's first address (>)", "socat's second address (<)")],
    chunks,
  };
}

const SSCOM_LINE = /^\[(\d\d):(\d\d):(\d\d)[.,:](\d{3})\]\s*(发|收|TX|RX)\s*[→←]?\s*[◇◆]?\s*(.*?)\s*□?\s*$/;

/**
 * A serial-assistant log as SSCOM and its many copies write it: `[14:22:01.123]发→◇68 10 … 16 □` for what the
 * PC sent (`ab`: a = the PC running the assistant) and `[14:22:01.456]收←◆68 … 16 □` for what it received
 * (`ba`); some versions write TX/RX instead of 发/收. The log has times of day only: the date is taken from
 * `date` (the caller passes the file's modification day). A line the tool writes between frames with no
 * direction marker, or with bytes that are not hex, is refused with its line number.
 */
export function importSscom(text: string, file: string, date: Date): ImportedSession {
  const chunks: ImportedSession['chunks'] = [];
  let start: number | undefined;
  lines(text).forEach((line, i) => {
    if (line.trim() === '') return;
    const m = SSCOM_LINE.exec(line);
    if (!m) bad(file, i + 1, 'expected a serial-assistant line such as "[14:22:01.123]发→◇68 10 … 16 □"');
    const [, h, mi, s, ms, marker, hex] = m;
    const bytes = parseHexBytes(hex, file, i + 1);
    const epoch = new Date(date.getFullYear(), date.getMonth(), date.getDate(), +h, +mi, +s, +ms).getTime();
    start ??= epoch;
    // A log that runs past midnight: times of day wrap, the recording's time does not go back.
    const t = epoch - start < 0 ? epoch - start + 86_400_000 : epoch - start;
    chunks.push({ t, link: 'log', dir: marker === '发' || marker === 'TX' ? 'ab' : 'ba', bytes });
  });
  if (chunks.length === 0) bad(file, 1, 'no lines found: is this a serial-assistant log?');
  return {
    source: 'import sscom',
    startEpochMs: start ?? 0,
    links: [link('serial assistant (发/TX)', 'device (收/RX)')],
    chunks,
  };
}

const HEX_LINE =
  /^\s*(?:\[?(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6}))?\]?\s+)?(?:(>|<|->|<-|TX|RX|tx|rx)\s*:?\s*)?([0-9A-Fa-f]{2}(?:[\s,:-]*[0-9A-Fa-f]{2})*)\s*$/;

/**
 * Plain hex lines, one chunk each: `68 10 44 …`, optionally preceded by a time of day (`12:00:01.250` or in
 * brackets) and a direction (`>`/`->`/`TX` = `ab`, `<`/`<-`/`RX` = `ba`; none = `ab`). `#` starts a comment
 * line. Times of day are placed on `date`, as for serial-assistant logs.
 */
export function importHex(text: string, file: string, date: Date): ImportedSession {
  const chunks: ImportedSession['chunks'] = [];
  let start: number | undefined;
  let last = 0;
  lines(text).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const m = HEX_LINE.exec(line);
    if (!m)
      bad(file, i + 1, 'expected hex bytes, optionally after a time (12:00:01.250) and a direction (> or <)');
    const [, h, mi, s, frac, arrow, hex] = m;
    if (h !== undefined) {
      const epoch =
        new Date(date.getFullYear(), date.getMonth(), date.getDate(), +h, +mi, +s).getTime() +
        Number(`0.${frac ?? 0}`) * 1000;
      start ??= epoch;
      last = Math.max(last, epoch - start);
    }
    const dir: Direction = arrow && /^(<|<-|RX|rx)$/.test(arrow) ? 'ba' : 'ab';
    chunks.push({ t: last, link: 'log', dir, bytes: parseHexBytes(hex, file, i + 1) });
  });
  if (chunks.length === 0) bad(file, 1, 'no hex lines found');
  return {
    source: 'import hex',
    startEpochMs: start ?? date.getTime(),
    links: [link('sender (>)', 'receiver (<)')],
    chunks,
  };
}

function parseHexBytes(text: string, file: string, line: number): Uint8Array {
  const digits = text.replace(/[\s,:-]/g, '');
  if (digits.length === 0 || digits.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(digits)) {
    bad(file, line, `"${text.slice(0, 40)}" is not whole hex bytes`);
  }
  return new Uint8Array(Buffer.from(digits, 'hex'));
}
