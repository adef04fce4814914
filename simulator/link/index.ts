/**
 * Byte links: one `Link` interface over serial devices, socat pty pairs, in-memory pairs and TCP, with
 * serial settings, wire-time arithmetic and one error class with stable codes.
 */
export { LinkError, type LinkErrorCode } from './errors.ts';
export type { Link, LinkEvents } from './link.ts';
export { createMemoryPair, MemoryLink, type MemoryPair, type MemoryPairOptions } from './memory-pair.ts';
export { createLink, type LinkFor, type LinkSpec, openLink } from './open-link.ts';
export { createPtyPair, type PtyPair, type PtyPairEvents, type PtyPairOptions } from './pty-pair.ts';
export {
  SerialLink,
  type SerialLinkOptions,
  type SerialPortFactory,
  type SerialPortFactoryOptions,
  type SerialPortLike,
} from './serial-link.ts';
export {
  bitsPerChar,
  DEFAULT_METER_SERIAL,
  formatSerialSettings,
  type SerialSettings,
  validateSerialSettings,
  wireTimeMs,
} from './serial-settings.ts';
export {
  TcpClientLink,
  type TcpClientLinkOptions,
  type TcpServerEvents,
  TcpServerLink,
  type TcpServerLinkOptions,
} from './tcp-link.ts';
