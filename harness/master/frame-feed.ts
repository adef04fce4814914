/**
 * The master's frame log as a stream (issue 12): every 376.1 frame that passes the master, down or up, is
 * published here, and each subscriber (a console page, through its client-API connection) gets the ones its
 * filter lets through as `frame` events.
 *
 * Why the chain never waits for a subscriber: `publish` is synchronous, does nothing when nobody subscribes, and
 * hands each event to a sink that only queues it on a socket. The sink says whether its subscriber is keeping
 * up (its unsent bytes are under a limit); one that is not is dropped from the stream at once and told why
 * (`SLOW_SUBSCRIBER`), so what a slow page costs is bounded by that limit, not by how long it stays slow.
 *
 * Limits (STYLE.md habit 3): `maxSubscriptions` subscriptions in all (64 by default); one more is refused
 * with TOO_MANY_SUBSCRIPTIONS.
 */
import type { Gdw376Frame } from '../../protocols/gdw376/index.ts';
import {
  type FrameDirection,
  type FrameEvent,
  frameHex,
} from '../../protocols/point-read/console-messages.ts';
import { describeGdw376Frame, describeUndecoded, type FrameDescription } from './frame-summary.ts';

/** One frame passing the master. */
export interface PassingFrame {
  /** When, ms since the epoch on the master's clock. */
  at: number;
  direction: FrameDirection;
  /** A1 + A2 as 9 digits (from the frame, or from the connection's session when it did not decode). */
  concentrator: string;
  raw: Uint8Array;
  /** The decoded frame; absent for bytes that did not decode. */
  frame?: Gdw376Frame;
}

/** Which frames a subscription wants; absent fields match every frame. */
export interface FrameFilter {
  /** A1 + A2 as 9 digits (aliases are resolved before subscribing). */
  concentrator?: string;
  /** Meter address digits; matches frames that carry this meter's frame, leading zeros ignored. */
  meter?: string;
}

/** Queues one event for the subscriber; returns false when the subscriber is not keeping up. */
export type FrameSink = (event: FrameEvent) => boolean;

/** Why a subscription ended without being asked to. */
export type DropReason = 'SLOW_SUBSCRIBER';

export type SubscribeOutcome = 'subscribed' | 'SUBSCRIPTION_EXISTS' | 'TOO_MANY_SUBSCRIPTIONS';

export interface FrameFeedOptions {
  /** Subscriptions at once, across all owners. @defaultValue 64 */
  maxSubscriptions?: number;
}

interface Subscription {
  filter: { concentrator?: string; meter?: string };
  sink: FrameSink;
  onDropped: (reason: DropReason) => void;
}

export class FrameFeed {
  readonly maxSubscriptions: number;
  /** owner (a connection) → subscription id → subscription */
  readonly #owners = new Map<object, Map<string, Subscription>>();
  #size = 0;

  /** @throws TypeError when `maxSubscriptions` is not a positive integer. */
  constructor(options: FrameFeedOptions = {}) {
    this.maxSubscriptions = options.maxSubscriptions ?? 64;
    if (!Number.isInteger(this.maxSubscriptions) || this.maxSubscriptions < 1) {
      throw new TypeError(
        `"maxSubscriptions" must be a positive integer, got ${String(options.maxSubscriptions)}`,
      );
    }
  }

  /** Open subscriptions. */
  get size(): number {
    return this.#size;
  }

  /**
   * Opens subscription `id` of `owner`. Ids are the owner's own (a client's request ids), so two connections
   * may use the same one. `onDropped` is called once if the feed ends the subscription itself.
   */
  subscribe(
    owner: object,
    id: string,
    filter: FrameFilter,
    sink: FrameSink,
    onDropped: (reason: DropReason) => void,
  ): SubscribeOutcome {
    const subs = this.#owners.get(owner);
    if (subs?.has(id)) return 'SUBSCRIPTION_EXISTS';
    if (this.#size >= this.maxSubscriptions) return 'TOO_MANY_SUBSCRIPTIONS';
    const normalised: Subscription['filter'] = {};
    if (filter.concentrator !== undefined) normalised.concentrator = filter.concentrator;
    if (filter.meter !== undefined) normalised.meter = stripZeros(filter.meter);
    const map = subs ?? new Map<string, Subscription>();
    map.set(id, { filter: normalised, sink, onDropped });
    this.#owners.set(owner, map);
    this.#size++;
    return 'subscribed';
  }

  /** Closes subscription `id` of `owner`; false when there is none (SUBSCRIPTION_CLOSED). */
  unsubscribe(owner: object, id: string): boolean {
    const subs = this.#owners.get(owner);
    if (!subs?.delete(id)) return false;
    this.#size--;
    if (subs.size === 0) this.#owners.delete(owner);
    return true;
  }

  /** True when `owner` has an open subscription. */
  owns(owner: object): boolean {
    return this.#owners.has(owner);
  }

  /** Closes every subscription of `owner` (its connection closed). */
  closeOwner(owner: object): void {
    const subs = this.#owners.get(owner);
    if (!subs) return;
    this.#size -= subs.size;
    this.#owners.delete(owner);
  }

  /**
   * Hands `frame` to every subscription whose filter takes it. Never throws and never waits: a sink that throws
   * or says it is behind is dropped.
   */
  publish(frame: PassingFrame): void {
    if (this.#size === 0) return;
    // Described once, only when some subscription takes the frame.
    let rest: EventRest | undefined;
    let description: FrameDescription | undefined;
    const describe = () => {
      description ??= frame.frame
        ? describeGdw376Frame(frame.frame)
        : describeUndecoded('bytes that did not decode');
      return description;
    };
    for (const [owner, subs] of this.#owners) {
      for (const [id, sub] of subs) {
        if (sub.filter.concentrator !== undefined && sub.filter.concentrator !== frame.concentrator) continue;
        if (sub.filter.meter !== undefined) {
          const meter = describe().meter;
          if (meter === undefined || stripZeros(meter) !== sub.filter.meter) continue;
        }
        rest ??= eventRest(frame, describe());
        let keepingUp: boolean;
        try {
          keepingUp = sub.sink({ type: 'frame', id, ...rest });
        } catch {
          keepingUp = false;
        }
        if (!keepingUp) {
          this.unsubscribe(owner, id);
          try {
            sub.onDropped('SLOW_SUBSCRIBER');
          } catch {
            // the owner's problem; the chain goes on
          }
        }
      }
    }
  }
}

type EventRest = Omit<FrameEvent, 'type' | 'id'>;

/** The event without `type` and `id`, keys in the canonical order of console-messages.ts. */
function eventRest(frame: PassingFrame, d: FrameDescription): EventRest {
  const { hex, truncated } = frameHex(frame.raw);
  return {
    at: new Date(frame.at).toISOString(),
    concentrator: frame.concentrator,
    direction: frame.direction,
    // Bytes that did not decode have no AFN; 0 with a summary saying so.
    afn: frame.frame?.afn ?? 0,
    ...(frame.frame ? { seq: frame.frame.seq.seq } : {}),
    hex,
    ...(truncated ? { truncated } : {}),
    summary: d.summary,
    ...(d.meter !== undefined && /^\d{1,14}$/.test(d.meter) ? { meter: d.meter } : {}),
    ...(d.port !== undefined ? { port: d.port } : {}),
  };
}

function stripZeros(address: string): string {
  return address.replace(/^0+(?=.)/, '');
}
