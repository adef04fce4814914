/** The RS-485 bus model: a half-duplex multi-drop segment with wire time, turnaround and collisions. */
export {
  type BusBridge,
  type BusBridgeOptions,
  type BusDevice,
  type BusEvents,
  BusPort,
  type Collision,
  Rs485Bus,
  type Rs485BusOptions,
  type Transmission,
} from './rs485-bus.ts';
