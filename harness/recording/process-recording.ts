import { formatSerialSettings, type Link } from '../../simulator/link/index.ts';
import type { Framing, RecordedLink } from './format.ts';
import { Recorder } from './recorder.ts';
import { TapLink } from './tap-link.ts';
import { fileSink, type RecordingSink } from './writer.ts';

/** How a process names one of its links in its recording. */
export interface OwnLink {
  /**
   * Name in the recording. A name already used gets a number (`conn`, `conn2` …); a `prefix` always does
   * (`up1`, `up2` …, one per connection).
   */
  name?: string;
  prefix?: string;
  /** What end `b` is (the device, the peer); the link's description when not given. */
  peer?: string;
  framing?: Framing;
}

/**
 * The recording of a process's own links (`--record FILE` on `meters`, `poll`, `sim`, `master`, `relay`): each
 * link the process opens is wrapped in a {@link TapLink} and declared in the recording when it is open, end `a`
 * being the process and `b` the device or peer (README "Recordings"). Lines reach the file as they happen, so a
 * process killed without warning leaves a recording that lacks only its `end` line.
 */
export class ProcessRecording {
  readonly recorder: Recorder;
  readonly #process: string;
  readonly #used = new Map<string, number>();

  /** @param process what records, as the header's `source` and every link's `a` ("meterlab poll"). */
  constructor(sink: RecordingSink, process: string) {
    this.#process = process;
    this.recorder = new Recorder({ sink, source: process, links: [] });
  }

  /** Records into `file` (replaced if it exists). */
  static toFile(file: string, process: string): ProcessRecording {
    return new ProcessRecording(fileSink(file), process);
  }

  /** Wraps `link` so that everything on it is recorded; the process then uses the returned Link. */
  wrap(link: Link, own: OwnLink = {}): TapLink {
    const settings = link.settings;
    const recorded: RecordedLink = {
      name: this.#name(own),
      kind: settings ? 'serial' : 'tcp',
      settings: settings ? formatSerialSettings(settings) : `tcp ${link.description}`,
      a: this.#process,
      b: own.peer ?? link.description,
      framing: own.framing ?? 'auto',
    };
    return new TapLink(link, this.recorder, recorded);
  }

  /** A `wrapLink`-style function for code that makes its links itself (a master's accepted connections). */
  wrapper(own: OwnLink): (link: Link) => Link {
    return (link) => this.wrap(link, own);
  }

  /** Flushes the frames still being assembled, writes the `end` line and closes the file. Harmless twice. */
  close(): void {
    this.recorder.close();
  }

  #name(own: OwnLink): string {
    const base = own.prefix ?? own.name ?? 'link';
    const n = (this.#used.get(base) ?? 0) + 1;
    this.#used.set(base, n);
    if (own.prefix !== undefined) return `${base}${n}`;
    return n === 1 ? base : `${base}${n}`;
  }
}
