import { unitHash } from '../random.ts';

/**
 * The seeded consumption model of a simulated water meter. The reading at time t is a pure function of
 * (seed, meter address, t): a test or the harness computes what a read must return without asking the meter.
 *
 * Shape: each meter has a mean daily volume (0.15–0.90 m³, a household) and each local day varies around it.
 * Within a day, use follows a household profile (little at night, peaks at breakfast and in the evening).
 * The cumulative volume is computed in O(1) for any t with a telescoping sum, so a meter can be asked about
 * 2035 as cheaply as about today, and the reading never decreases.
 */

/** Relative water use per local hour 0..23: night trough, morning and evening peaks. */
const HOURLY_PROFILE = [
  0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 1.2, 2.4, 2.0, 1.1, 0.9, 1.0, 1.4, 1.0, 0.7, 0.7, 0.8, 1.1, 1.9, 2.2, 1.8,
  1.3, 0.8, 0.4,
];
const PROFILE_TOTAL = HOURLY_PROFILE.reduce((a, b) => a + b, 0);
/** CUMULATIVE[h] = share of a day's volume used before local hour h. */
const CUMULATIVE: number[] = [0];
for (const weight of HOURLY_PROFILE)
  CUMULATIVE.push(CUMULATIVE[CUMULATIVE.length - 1] + weight / PROFILE_TOTAL);

const DAY_MS = 86_400_000;
/** Day 0 of the model: readings count up from here (2020-01-01 local midnight). */
const MODEL_EPOCH_UTC_MS = Date.UTC(2020, 0, 1);
/** How much a day may differ from the meter's mean day: ±35 %. Must stay below 1 to keep days positive. */
const DAY_VARIATION = 0.35;

export interface ConsumptionModelOptions {
  /** The scenario seed. */
  seed: number;
  /**
   * Local time of the meters' households, minutes east of UTC; the daily profile and settlement days follow it.
   * @defaultValue 480 (China Standard Time, UTC+8)
   */
  utcOffsetMinutes?: number;
  /**
   * Day of the month on which the settlement-day (结算日) value is frozen, at local midnight.
   * @defaultValue 1
   */
  settlementDay?: number;
}

export interface MeterProfile {
  /** Reading at the model epoch, m³. */
  initial: number;
  /** Mean daily volume, m³. */
  daily: number;
}

/** The consumption of every meter of one scenario. Pure: no state beyond its options. */
export class ConsumptionModel {
  readonly seed: number;
  readonly utcOffsetMinutes: number;
  readonly settlementDay: number;

  constructor(options: ConsumptionModelOptions) {
    this.seed = options.seed;
    this.utcOffsetMinutes = options.utcOffsetMinutes ?? 480;
    this.settlementDay = options.settlementDay ?? 1;
    if (!Number.isInteger(this.settlementDay) || this.settlementDay < 1 || this.settlementDay > 28) {
      throw new TypeError(`"settlementDay" must be an integer 1..28, got ${String(options.settlementDay)}`);
    }
  }

  /** The per-meter constants drawn from the seed. */
  profile(meter: string): MeterProfile {
    return {
      initial: Math.floor(unitHash(this.seed, meter, 'initial') * 500_000) / 100,
      daily: 0.15 + unitHash(this.seed, meter, 'daily') * 0.75,
    };
  }

  /** Accumulated volume in m³ at time `t` (ms since the Unix epoch), floored to 0.01 m³ as a meter shows it. */
  readingAt(meter: string, t: number): number {
    return Math.floor(this.exactReadingAt(meter, t) * 100 + 1e-9) / 100;
  }

  /** The settlement-day value: the reading frozen at local midnight of the latest settlement day at or before t. */
  settlementReadingAt(meter: string, t: number): number {
    const local = new Date(t + this.utcOffsetMinutes * 60_000);
    let year = local.getUTCFullYear();
    let month = local.getUTCMonth();
    if (local.getUTCDate() < this.settlementDay) {
      month -= 1;
      if (month < 0) {
        month = 11;
        year -= 1;
      }
    }
    const frozenAt = Date.UTC(year, month, this.settlementDay) - this.utcOffsetMinutes * 60_000;
    return this.readingAt(meter, frozenAt);
  }

  /** The reading at the latest local midnight at or before t: the daily frozen value a concentrator keeps. */
  dailyFrozenAt(meter: string, t: number): number {
    const localDayStart = Math.floor((t + this.utcOffsetMinutes * 60_000) / DAY_MS) * DAY_MS;
    return this.readingAt(meter, localDayStart - this.utcOffsetMinutes * 60_000);
  }

  exactReadingAt(meter: string, t: number): number {
    const { initial, daily } = this.profile(meter);
    const localMs = t + this.utcOffsetMinutes * 60_000 - MODEL_EPOCH_UTC_MS;
    if (localMs <= 0) return initial;
    const day = Math.floor(localMs / DAY_MS);
    const hours = (localMs - day * DAY_MS) / 3_600_000;
    return (
      initial + this.#volumeBeforeDay(meter, daily, day) + this.#dayVolume(meter, daily, day) * share(hours)
    );
  }

  /** Volume of local day `d` (d ≥ 0): the mean, varied by the difference of two neighbouring day hashes. */
  #dayVolume(meter: string, daily: number, d: number): number {
    return daily * (1 + DAY_VARIATION * (this.#h(meter, d) - this.#h(meter, d - 1)));
  }

  /** Sum of the volumes of days 0..d-1; the hash differences telescope, so this is O(1). */
  #volumeBeforeDay(meter: string, daily: number, d: number): number {
    return daily * d + daily * DAY_VARIATION * (this.#h(meter, d - 1) - this.#h(meter, -1));
  }

  #h(meter: string, d: number): number {
    return unitHash(this.seed, meter, 'day', d);
  }
}

/** Share of a day's volume used in the first `hours` hours (0..24), linear within each hour. */
function share(hours: number): number {
  const h = Math.min(23, Math.floor(hours));
  return CUMULATIVE[h] + (CUMULATIVE[h + 1] - CUMULATIVE[h]) * (hours - h);
}
