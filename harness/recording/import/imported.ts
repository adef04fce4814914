import type { Direction, Framing, RecordedLink } from '../format.ts';
import { Recorder } from '../recorder.ts';
import type { RecordingSink } from '../writer.ts';

/** What every importer produces: links and the chunks on them, with times from the file. */
export interface ImportedSession {
  /** "import socat", "import sscom", "import hex", "import pcap". */
  source: string;
  /** Epoch ms of the first timestamp in the file (t = 0), or 0 when the file has none. */
  startEpochMs: number;
  links: RecordedLink[];
  /** In file order; `t` in ms since `startEpochMs`. */
  chunks: { t: number; link: string; dir: Direction; bytes: Uint8Array }[];
}

/** Writes an imported session as a recording: the chunks, and the frames the framers find in them. */
export function writeImported(session: ImportedSession, sink: RecordingSink, framing?: Framing): void {
  const links = framing ? session.links.map((l) => ({ ...l, framing })) : session.links;
  const recorder = new Recorder({ sink, source: session.source, links, startEpochMs: session.startEpochMs });
  let t = 0;
  for (const c of session.chunks) {
    t = Math.max(t, c.t);
    recorder.chunk(c.link, c.dir, c.bytes, c.t);
  }
  recorder.close(t);
}
