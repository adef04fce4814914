/**
 * Time for the whole code base: one `Clock` interface, the real clock (and its unref'd twin for embedded
 * libraries), a virtual clock that tests advance, and the one reconnect back-off.
 */

export { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.ts';
export type { Clock, TimerHandle } from './clock.ts';
export { realClock, unrefClock } from './real-clock.ts';
export { VirtualClock, type VirtualClockOptions } from './virtual-clock.ts';
