/** A simulated fleet: concentrators, ports, buses, meters and pty pairs built from a scenario. */
export {
  Fleet,
  type FleetEvents,
  type FleetOptions,
  type FleetStatus,
  type MeterDevices,
  type PortStatusEvent,
} from './fleet.ts';
export { MeterGroup } from './meter-group.ts';
