import { RecordingError } from '../errors.ts';
import type { Direction, RecordedLink } from '../format.ts';
import type { ImportedSession } from './imported.ts';

/**
 * A small pcap / pcapng reader and TCP reassembler, written here rather than taken from npm: the readers on
 * the registry are either classic-pcap only and unmaintained for a decade (`pcap-parser` 0.2.1), pcapng only
 * with one release (`pcap-ng-parser` 1.0.0), or a native libpcap binding for live capture (`pcap`, needs a
 * compiler and libpcap headers). Reading the two file formats and TCP/IP headers is ~250 lines with no
 * dependency (formats: the pcap and pcapng drafts of the IETF OPSAWG, tcpdump's LINKTYPE list).
 *
 * Link types: Ethernet (1, what `tcpdump -i lo` writes on Linux), BSD loopback (0), raw IP (101, 228, 229),
 * Linux cooked SLL (113) and SLL2 (276, `tcpdump -i any`). IPv4 and IPv6 (no extension headers), TCP only;
 * packets of other protocols (ARP, UDP …) are counted and named in the source line, not recorded.
 * Each TCP connection becomes one link (`tcp1`, `tcp2` … in order of first packet): `a` is the client (the
 * sender of the SYN, or of the first packet when the capture began mid-connection). Each direction is put
 * back in sequence order: a retransmitted segment, or the part of one already delivered, is not delivered
 * twice; a segment after a gap is held until the gap is filled (or, if the capture never fills it, delivered
 * at the end in sequence order).
 */
export function importPcap(bytes: Uint8Array, file: string): ImportedSession {
  const packets = readCapture(bytes, file);
  const connections = new Map<string, Connection>();
  const order: Connection[] = [];
  let ignored = 0;
  let start: number | undefined;
  const chunks: ImportedSession['chunks'] = [];
  for (const p of packets) {
    const seg = tcpSegment(p.data, p.linkType);
    if (!seg) {
      ignored++;
      continue;
    }
    start ??= p.epochMs;
    const t = p.epochMs - start;
    const fwd = `${seg.src}>${seg.dst}`;
    const rev = `${seg.dst}>${seg.src}`;
    let conn = connections.get(fwd) ?? connections.get(rev);
    if (!conn || (seg.syn && !seg.ack && conn.closed)) {
      conn = {
        name: `tcp${order.length + 1}`,
        client: seg.src,
        server: seg.dst,
        next: {},
        held: { ab: [], ba: [] },
        closed: false,
      };
      connections.set(fwd, conn);
      connections.delete(rev);
      order.push(conn);
    }
    const dir: Direction = seg.src === conn.client ? 'ab' : 'ba';
    if (seg.syn) {
      conn.next[dir] = (seg.seq + 1) >>> 0;
      continue;
    }
    if (seg.fin || seg.rst) conn.closed = true;
    if (seg.payload.length === 0) continue;
    conn.next[dir] ??= seg.seq;
    conn.held[dir].push({ seq: seg.seq, payload: seg.payload, t });
    deliver(conn, dir, chunks, t);
  }
  for (const conn of order) {
    for (const dir of ['ab', 'ba'] as const) {
      // What is still held sits after a gap the capture never filled: deliver it in order rather than lose it.
      conn.held[dir].sort((x, y) => (x.seq - y.seq) | 0);
      for (const h of conn.held[dir]) {
        conn.next[dir] = h.seq;
        conn.held[dir] = [h];
        deliver(conn, dir, chunks, h.t);
      }
    }
  }
  if (order.length === 0) {
    throw new RecordingError(
      'BAD_PCAP',
      `${file}: no TCP packets in the capture (${packets.length} packets of other kinds)`,
    );
  }
  chunks.sort((x, y) => x.t - y.t);
  const links: RecordedLink[] = order.map((c) => ({
    name: c.name,
    kind: 'tcp',
    settings: `tcp ${c.client} -> ${c.server}`,
    a: c.client,
    b: c.server,
    framing: 'auto',
  }));
  return {
    source: `import pcap${ignored > 0 ? ` (${ignored} packets that are not TCP over IP not recorded)` : ''}`,
    startEpochMs: start ?? 0,
    links,
    chunks,
  };
}

interface Connection {
  name: string;
  client: string;
  server: string;
  next: Partial<Record<Direction, number>>;
  held: Record<Direction, { seq: number; payload: Uint8Array; t: number }[]>;
  closed: boolean;
}

/** Delivers held segments that continue the stream, trimming what was already delivered. */
function deliver(conn: Connection, dir: Direction, chunks: ImportedSession['chunks'], now: number): void {
  const held = conn.held[dir];
  for (;;) {
    const next = conn.next[dir]!;
    const i = held.findIndex((h) => ((h.seq - next) | 0) <= 0);
    if (i < 0) return;
    const [h] = held.splice(i, 1);
    const already = (next - h.seq) | 0;
    if (already >= h.payload.length) continue; // a retransmission of bytes already delivered
    const fresh = h.payload.subarray(already);
    // Timed when the stream could be read that far: a segment that came early waits for the gap before it.
    chunks.push({ t: Math.max(h.t, now), link: conn.name, dir, bytes: fresh });
    conn.next[dir] = (next + fresh.length) >>> 0;
  }
}

interface Packet {
  epochMs: number;
  linkType: number;
  data: Uint8Array;
}

const SUPPORTED = new Map<number, string>([
  [0, 'BSD loopback'],
  [1, 'Ethernet'],
  [101, 'raw IP'],
  [113, 'Linux cooked (SLL)'],
  [228, 'raw IPv4'],
  [229, 'raw IPv6'],
  [276, 'Linux cooked v2 (SLL2)'],
]);

function badPcap(file: string, why: string): never {
  throw new RecordingError('BAD_PCAP', `${file}: ${why}`);
}

/** Every packet of a pcap or pcapng file, with its time and link type. */
export function readCapture(bytes: Uint8Array, file: string): Packet[] {
  if (bytes.length < 24) badPcap(file, 'too short to be a pcap or pcapng capture');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic === 0x0a0d0d0a) return readPcapng(view, file);
  let little: boolean;
  let nano: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) [little, nano] = [false, magic === 0xa1b23c4d];
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) [little, nano] = [true, magic === 0x4d3cb2a1];
  else return badPcap(file, 'not a pcap or pcapng capture (unknown magic number)');
  const linkType = view.getUint32(20, little) & 0xffff;
  checkLinkType(linkType, file);
  const packets: Packet[] = [];
  let at = 24;
  let n = 0;
  while (at < bytes.length) {
    n++;
    if (at + 16 > bytes.length)
      badPcap(file, `packet ${n} is cut short (the capture ends inside its header)`);
    const sec = view.getUint32(at, little);
    const frac = view.getUint32(at + 4, little);
    const caplen = view.getUint32(at + 8, little);
    if (at + 16 + caplen > bytes.length)
      badPcap(file, `packet ${n} is cut short (${caplen} bytes announced)`);
    packets.push({
      epochMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3),
      linkType,
      data: bytes.subarray(at + 16, at + 16 + caplen),
    });
    at += 16 + caplen;
  }
  return packets;
}

function checkLinkType(linkType: number, file: string): void {
  if (!SUPPORTED.has(linkType)) {
    badPcap(
      file,
      `link type ${linkType} carries no TCP/IP this reader knows; supported: ${[...SUPPORTED].map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
  }
}

function readPcapng(view: DataView, file: string): Packet[] {
  const packets: Packet[] = [];
  let little = true;
  let interfaces: { linkType: number; unitsPerSec: number }[] = [];
  let at = 0;
  let n = 0;
  while (at < view.byteLength) {
    n++;
    if (at + 12 > view.byteLength) badPcap(file, `block ${n} is cut short`);
    const type = view.getUint32(at, little);
    if (type === 0x0a0d0d0a) {
      const bom = view.getUint32(at + 8, true);
      if (bom === 0x1a2b3c4d) little = true;
      else if (bom === 0x4d3c2b1a) little = false;
      else badPcap(file, `block ${n}: bad byte-order magic in the section header`);
      interfaces = [];
    }
    const length = view.getUint32(at + 4, little);
    if (length < 12 || length % 4 !== 0 || at + length > view.byteLength)
      badPcap(file, `block ${n} is cut short or has a bad length (${length})`);
    if (type === 1) {
      const linkType = view.getUint16(at + 8, little);
      checkLinkType(linkType, file);
      interfaces.push({ linkType, unitsPerSec: tsResolution(view, at + 16, at + length - 4, little) });
    } else if (type === 6) {
      const iface = interfaces[view.getUint32(at + 8, little)];
      if (!iface) badPcap(file, `block ${n}: a packet on an interface the capture never described`);
      const ts = view.getUint32(at + 12, little) * 2 ** 32 + view.getUint32(at + 16, little);
      const caplen = view.getUint32(at + 20, little);
      if (28 + caplen > length) badPcap(file, `block ${n}: packet longer than its block`);
      const data = new Uint8Array(view.buffer, view.byteOffset + at + 28, caplen);
      packets.push({ epochMs: (ts / iface.unitsPerSec) * 1000, linkType: iface.linkType, data });
    }
    at += length;
  }
  return packets;
}

/** The if_tsresol option (code 9) of an interface block: units per second, 10^6 when absent. */
function tsResolution(view: DataView, from: number, to: number, little: boolean): number {
  let at = from;
  while (at + 4 <= to) {
    const code = view.getUint16(at, little);
    const len = view.getUint16(at + 2, little);
    if (code === 0) break;
    if (code === 9 && len >= 1) {
      const v = view.getUint8(at + 4);
      return v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    }
    at += 4 + Math.ceil(len / 4) * 4;
  }
  return 1e6;
}

interface TcpSegment {
  src: string;
  dst: string;
  seq: number;
  syn: boolean;
  ack: boolean;
  fin: boolean;
  rst: boolean;
  payload: Uint8Array;
}

/** The TCP segment in a captured packet, or undefined for anything else. */
function tcpSegment(data: Uint8Array, linkType: number): TcpSegment | undefined {
  let ip: Uint8Array;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (linkType) {
    case 1: {
      if (data.length < 14) return undefined;
      let type = view.getUint16(12);
      let off = 14;
      while ((type === 0x8100 || type === 0x88a8) && data.length >= off + 4) {
        type = view.getUint16(off + 2);
        off += 4;
      }
      if (type !== 0x0800 && type !== 0x86dd) return undefined;
      ip = data.subarray(off);
      break;
    }
    case 0:
      ip = data.subarray(4);
      break;
    case 113:
      if (data.length < 16) return undefined;
      ip = data.subarray(16);
      break;
    case 276:
      if (data.length < 20) return undefined;
      ip = data.subarray(20);
      break;
    default:
      ip = data;
  }
  if (ip.length < 20) return undefined;
  const ipView = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
  const version = ip[0] >> 4;
  let src: string;
  let dst: string;
  let tcp: Uint8Array;
  if (version === 4) {
    const ihl = (ip[0] & 0x0f) * 4;
    const total = ipView.getUint16(2);
    if (ip[9] !== 6 || ihl < 20 || total < ihl) return undefined;
    src = ip.subarray(12, 16).join('.');
    dst = ip.subarray(16, 20).join('.');
    tcp = ip.subarray(ihl, Math.min(total, ip.length));
  } else if (version === 6) {
    if (ip.length < 40 || ip[6] !== 6) return undefined;
    const payloadLength = ipView.getUint16(4);
    src = `[${ipv6(ip.subarray(8, 24))}]`;
    dst = `[${ipv6(ip.subarray(24, 40))}]`;
    tcp = ip.subarray(40, Math.min(40 + payloadLength, ip.length));
  } else {
    return undefined;
  }
  if (tcp.length < 20) return undefined;
  const tcpView = new DataView(tcp.buffer, tcp.byteOffset, tcp.byteLength);
  const dataOffset = (tcp[12] >> 4) * 4;
  const flags = tcp[13];
  return {
    src: `${src}:${tcpView.getUint16(0)}`,
    dst: `${dst}:${tcpView.getUint16(2)}`,
    seq: tcpView.getUint32(4),
    syn: (flags & 0x02) !== 0,
    ack: (flags & 0x10) !== 0,
    fin: (flags & 0x01) !== 0,
    rst: (flags & 0x04) !== 0,
    payload: tcp.subarray(Math.min(dataOffset, tcp.length)),
  };
}

function ipv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':');
}
