import { fromHex } from './format.ts';
import { decodeFrameBytes } from './framing.ts';
import type { Recording } from './reader.ts';
import { type CompareRules, compareDecoded, sideBySide } from './replay/compare.ts';

export interface RecordingDifference {
  /** "link tap, frame 3 (ab)". */
  where: string;
  report: string;
}

/**
 * The non-regression diff of two recordings: links are paired in the order they were declared, and on each
 * the frames of each direction in order; every pair is compared field by field after decoding, under `rules`.
 * A frame present in one recording only is a difference too. Times of frames are not compared (timing
 * differs on every run); drops are compared by their reason code.
 */
export function diffRecordings(a: Recording, b: Recording, rules: CompareRules): RecordingDifference[] {
  const out: RecordingDifference[] = [];
  const linksA = [...a.links.keys()];
  const linksB = [...b.links.keys()];
  for (let i = 0; i < Math.max(linksA.length, linksB.length); i++) {
    const la = linksA[i];
    const lb = linksB[i];
    if (la === undefined || lb === undefined) {
      out.push({ where: `link ${la ?? lb}`, report: `link ${la ?? lb} is only in ${la ? a.file : b.file}` });
      continue;
    }
    for (const dir of ['ab', 'ba'] as const) {
      const fa = framesOf(a, la, dir);
      const fb = framesOf(b, lb, dir);
      for (let n = 0; n < Math.max(fa.length, fb.length); n++) {
        const x = fa[n];
        const y = fb[n];
        const where = `link ${la}, ${dir} frame ${n + 1}`;
        if (!x || !y) {
          out.push({ where, report: `${where}: only in ${x ? a.file : b.file}: ${(x ?? y)!.summary}` });
          continue;
        }
        const diffs = compareDecoded(x.decoded, y.decoded, rules);
        if (diffs.length > 0) out.push({ where, report: sideBySide(`${where}: ${x.summary}`, diffs) });
      }
    }
  }
  return out;
}

function framesOf(recording: Recording, link: string, dir: 'ab' | 'ba') {
  const framing = recording.links.get(link)?.framing ?? 'auto';
  return recording.records.flatMap((r) => {
    if (r.link !== link || !('dir' in r) || r.dir !== dir) return [];
    if (r.type === 'frame') {
      return [{ summary: r.summary, decoded: decodeFrameBytes(fromHex(r.hex), framing)?.decoded ?? {} }];
    }
    if (r.type === 'drop') return [{ summary: `drop ${r.code}`, decoded: { drop: r.code } }];
    return [];
  });
}
