import { BlockList, isIP } from 'node:net';

/**
 * Lists of IP sources (`10.0.0.7`, `192.168.1.0/24`, `fd00::/8`) that a TCP peer's remote address is checked
 * against: the master's `allowFrom` per concentrator. It lives here because `node:net` is imported only under
 * simulator/link/ (the README's layout section); Node's BlockList does the CIDR matching.
 */

/** Whether `source` is an IP address, or `address/prefix` with a prefix that fits the address family. */
export function isSourceSpec(source: unknown): source is string {
  if (typeof source !== 'string') return false;
  const [address, prefix, ...rest] = source.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** A set of sources checked with {@link SourceList.allows}; build it from entries {@link isSourceSpec} accepts. */
export class SourceList {
  readonly #list = new BlockList();

  constructor(sources: readonly string[]) {
    for (const source of sources) {
      const [address, prefix] = source.split('/');
      const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.#list.addAddress(address, type);
      else this.#list.addSubnet(address, Number(prefix), type);
    }
  }

  /**
   * Whether `host` (an IP address as a socket reports it) is in the list. An IPv4-mapped IPv6 address
   * (`::ffff:10.0.0.7`, what a dual-stack listener reports for an IPv4 peer) counts as its IPv4 address.
   */
  allows(host: string): boolean {
    const address = host.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const family = isIP(address);
    if (family === 0) return false;
    return this.#list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}
