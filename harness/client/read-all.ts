import type { MeterProtocol, ReadErrorDetail, Reading } from '../../protocols/point-read/index.ts';
import { PointReadError } from './errors.ts';
import { formatLatency, summariseLatency } from './latency.ts';
import type { PointReadClient } from './point-read-client.ts';

/**
 * One meter to read: the concentrator id or alias, and the meter address; with its protocol and port when the
 * caller knows them, so a master without an archive entry for the meter can still read it.
 */
export interface ReadTarget {
  concentrator: string;
  meter: string;
  protocol?: MeterProtocol;
  port?: number;
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
        const reading = await client.read(target.concentrator, target.meter, {
          ...(target.protocol === undefined ? {} : { protocol: target.protocol }),
          ...(target.port === undefined ? {} : { port: target.port }),
        });
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

/** The end-of-run table: one line per meter, then the latency summary. */
export function formatReadTable(outcomes: readonly ReadOutcome[]): string {
  const rows = outcomes.map((o) => [
    o.target.concentrator,
    o.target.meter,
    o.reading ? o.reading.value.toFixed(2) : `ERROR ${errorName(o.error)}`,
    o.reading ? o.reading.unit : '',
    `${o.latencyMs.toFixed(1)} ms`,
  ]);
  const header = ['concentrator', 'meter', 'value', 'unit', 'round trip'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 2 || i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const ok = outcomes.filter((o) => o.reading);
  const failed = outcomes.filter((o) => o.error);
  // Failed reads are counted apart: a timeout's latency is the timeout, not a measure of the chain.
  const failures =
    failed.length === 0
      ? ''
      : `; ${failed.length} failed (${formatLatency(summariseLatency(failed.map((o) => o.latencyMs)))})`;
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${ok.length} of ${outcomes.length} read; latency ${formatLatency(summariseLatency(ok.map((o) => o.latencyMs)))}${failures}`,
    // issue 14 item 9: say what the number is. The client cannot see inside the chain, so it cannot split it.
    'round trip: from the read leaving this client to its answer, including time queued behind other reads at the master and at the concentrator port',
  ].join('\n');
}

/** `BAD_REPLY`, or `BAD_REPLY/ADDRESS_MISMATCH` when the detail names a more precise reason. */
function errorName(error: ReadOutcome['error']): string {
  const reason = error?.detail?.reason;
  return reason === undefined || reason === error?.code ? `${error?.code}` : `${error?.code}/${reason}`;
}
