/**
 * Correlation ids for a {@link RequestWindow}: where they come from and how many there are. The window asks for
 * the next id that is neither in flight nor quarantined; the space decides the order (cyclic SEQ, an ever-growing
 * counter, or the one slot of a half-duplex bus). See README.md in this folder for why quarantine matters.
 */
export interface IdSpace<Id> {
  /** How many distinct ids exist (`Infinity` for a counter); the window may not be larger. */
  readonly size: number;
  /**
   * The next id for which `busy(id)` is false, or `undefined` when every id is busy. Called only when the window
   * has a free slot; an id it returns is used at once.
   */
  take(busy: (id: Id) => boolean): Id | undefined;
  /** What the ids look like, for error messages (e.g. `SEQ 0–15`). */
  readonly description: string;
}

/**
 * Q/GDW 1376.1 SEQ: ids `0 … size-1` handed out cyclically, continuing after the last one handed out and skipping
 * busy ones — the PSEQ counter of the master station (docs: 376.1 SEQ field, a 4-bit counter, so `size` is 16).
 */
export function sequenceIds(size: number): IdSpace<number> {
  if (!Number.isInteger(size) || size < 1) {
    throw new TypeError(`sequenceIds: "size" must be an integer >= 1, got ${String(size)}`);
  }
  let next = 0;
  return {
    size,
    description: `SEQ 0–${size - 1}`,
    take(busy) {
      for (let i = 0; i < size; i++) {
        const id = (next + i) % size;
        if (!busy(id)) {
          next = (id + 1) % size;
          return id;
        }
      }
      return undefined;
    },
  };
}

/**
 * Request ids `"1"`, `"2"`, … that never repeat (within 2^53 requests), for a hop that names its own requests
 * (the relay's upstream ids). Nothing is ever busy, but the window still quarantines timed-out ones so that a late
 * answer is recognised as late rather than unknown.
 */
export function counterIds(): IdSpace<string> {
  let n = 0;
  return {
    size: Number.POSITIVE_INFINITY,
    description: 'request ids 1, 2, …',
    take(busy) {
      // A counter id is never reused, so `busy` is false in practice; the bound only keeps a bug from spinning.
      for (let i = 0; i < 1024; i++) {
        n += 1;
        const id = String(n);
        if (!busy(id)) return id;
      }
      return undefined;
    },
  };
}

/**
 * One id for a half-duplex bus: one request at a time, and after a timeout the bus stays reserved until the late
 * answer arrives or the quarantine passes (a meter still talking would collide with the next request).
 */
export function singleId(): IdSpace<'only'> {
  return {
    size: 1,
    description: 'one request at a time',
    take(busy) {
      return busy('only') ? undefined : 'only';
    },
  };
}
