import hdr from 'hdr-histogram-js';
import type { ReadErrorDetail, Reading } from '../../protocols/point-read/index.ts';
import { PointReadError } from './errors.ts';
import type { PointReadClient } from './point-read-client.ts';

/** One meter to read: the concentrator id or alias, and the meter address. */
export interface ReadTarget {
  concentrator: string;
  meter: string;
}

export interface ReadOutcome {
  target: ReadTarget;
  latencyMs: number;
  reading?: Reading;
  /** `detail`: the master's precise reason and facts, for remote METER_TIMEOUT and BAD_REPLY. */
  error?: { code: string; message: string; detail?: ReadErrorDetail };
}

export interface ReadAllOptions {
  /** Reads in flight at once. @defaultValue 16 */
  concurrency?: number;
  /** Called after every read (for a progress bar). */
  onProgress?: (done: number, total: number, outcome: ReadOutcome) => void;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Reads every target through the client, `concurrency` at a time; never rejects — failures are outcomes. */
export async function readAll(
  client: PointReadClient,
  targets: readonly ReadTarget[],
  options: ReadAllOptions = {},
): Promise<ReadOutcome[]> {
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`"concurrency" must be a positive integer, got ${String(concurrency)}`);
  }
  const outcomes: ReadOutcome[] = new Array(targets.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      const target = targets[index];
      const start = performance.now();
      let outcome: ReadOutcome;
      try {
        const reading = await client.read(target.concentrator, target.meter);
        outcome = { target, reading, latencyMs: performance.now() - start };
      } catch (err) {
        const e = err instanceof PointReadError ? err : new PointReadError('BAD_REQUEST', String(err));
        outcome = {
          target,
          error:
            e.detail === undefined
              ? { code: e.code, message: e.message }
              : { code: e.code, message: e.message, detail: e.detail },
          latencyMs: performance.now() - start,
        };
      }
      outcomes[index] = outcome;
      done += 1;
      options.onProgress?.(done, targets.length, outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  return outcomes;
}

/** p50/p95/p99 of the latencies, from an HDR histogram (1 µs to 10 min, 3 significant digits). */
export function summariseLatency(latenciesMs: readonly number[]): LatencySummary {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const ms of latenciesMs) histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  const at = (p: number) => (latenciesMs.length === 0 ? 0 : histogram.getValueAtPercentile(p) / 1000);
  const summary = {
    count: latenciesMs.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: latenciesMs.length === 0 ? 0 : histogram.maxValue / 1000,
  };
  histogram.destroy();
  return summary;
}

/** The end-of-run table: one line per meter, then the latency summary. */
export function formatReadTable(outcomes: readonly ReadOutcome[]): string {
  const rows = outcomes.map((o) => [
    o.target.concentrator,
    o.target.meter,
    o.reading ? o.reading.value.toFixed(2) : `ERROR ${errorName(o.error)}`,
    o.reading ? o.reading.unit : '',
    `${o.latencyMs.toFixed(1)} ms`,
  ]);
  const header = ['concentrator', 'meter', 'value', 'unit', 'latency'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 2 || i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const ok = outcomes.filter((o) => o.reading);
  const s = summariseLatency(ok.map((o) => o.latencyMs));
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${ok.length} of ${outcomes.length} read; latency p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`,
  ].join('\n');
}

/** `BAD_REPLY`, or `BAD_REPLY/ADDRESS_MISMATCH` when the detail names a more precise reason. */
function errorName(error: ReadOutcome['error']): string {
  const reason = error?.detail?.reason;
  return reason === undefined || reason === error?.code ? `${error?.code}` : `${error?.code}/${reason}`;
}
