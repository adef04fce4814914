/** Time for the simulator: one `Clock` interface, the real clock, and a virtual clock that tests advance. */
export type { Clock, TimerHandle } from './clock.ts';
export { realClock } from './real-clock.ts';
export { VirtualClock, type VirtualClockOptions } from './virtual-clock.ts';
