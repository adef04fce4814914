import { fromHex, type RecordedLink, type RecordingRecord } from './format.ts';
import { decodeFrameBytes } from './framing.ts';
import { followRecording, RecordingLineReader, readBatches } from './reader.ts';

/** One output line of `meterlab decode --recording`: a frame decoded again, or a drop with its reason. */
export type RecordingDecodeLine =
  | ({ t: number; link: string; dir: string; summary: string; hex: string } & Record<string, unknown>)
  | { t: number; link: string; dir: string; error: { code: string; message: string }; hex: string };

/**
 * Every frame and drop of a recording, in file order, with time, link and direction: frames are decoded
 * again from their bytes (the full decoded fields, as `meterlab decode` prints them), drops keep their reason.
 * With `follow`, waits for more lines of a file still being written until its `end` line or `signal`.
 * Warnings (a cut last line) go to `warn`. Resolves with the number of drops seen.
 */
export async function decodeRecording(
  file: string,
  options: {
    follow?: boolean;
    signal?: AbortSignal;
    out: (line: RecordingDecodeLine) => void;
    warn?: (message: string) => void;
  },
): Promise<{ frames: number; drops: number }> {
  const links = new Map<string, RecordedLink>();
  let frames = 0;
  let drops = 0;
  const each = (record: RecordingRecord) => {
    if (record.type === 'header') for (const l of record.links) links.set(l.name, l);
    else if (record.type === 'link') links.set(record.link.name, record.link);
    else if (record.type === 'frame') {
      frames++;
      const { t, link, dir, summary, hex } = record;
      const frame = decodeFrameBytes(fromHex(hex), links.get(link)?.framing ?? 'auto');
      options.out({ t, link, dir, summary, ...(frame?.decoded ?? {}), hex });
    } else if (record.type === 'drop') {
      drops++;
      const { t, link, dir, hex } = record;
      options.out({ t, link, dir, error: { code: record.code, message: record.reason }, hex });
    }
  };
  if (options.follow) {
    for await (const batch of followRecording(file, { signal: options.signal })) batch.forEach(each);
  } else {
    const reader = new RecordingLineReader(file);
    for await (const batch of readBatches(file, reader)) batch.forEach(each);
    for (const w of reader.warnings) options.warn?.(w.message);
  }
  if (links.size === 0 && frames === 0 && drops === 0 && !options.follow) {
    // A header with no links and nothing in it is a valid, empty recording: say so rather than print nothing.
    options.warn?.(`${file}: the recording holds no frames`);
  }
  return { frames, drops };
}
