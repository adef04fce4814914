import { type AnyFrame, decodeEmbedded, type MeterFrame } from '../../protocols/auto.ts';
import { hexToBytes } from '../../protocols/bytes.ts';
import { parseScenario, type Scenario } from '../../simulator/scenario/index.ts';
import { fromHex } from './format.ts';
import type { Recording } from './reader.ts';
import { decodeRaw } from './replay/session.ts';

interface LearnedMeter {
  address: string;
  protocol: 'cjt188' | 'dlt645';
  kind: string;
  diOrder?: 'high-first' | 'low-first';
  preamble?: number;
  /** The value of the last reply that carried a reading (m³, or kWh for heat and electricity). */
  lastReading?: number;
  /** Its unit as the reply gave it ("m3", "kWh"). */
  lastUnit?: string;
}

interface LearnedConcentrator {
  a1: string;
  a2: number;
  heartbeats: number[];
  ports: Map<number, Map<string, LearnedMeter>>;
}

/**
 * A scenario from a recording, so `meterlab sim --scenario` serves look-alike devices: every meter heard
 * (directly on a serial link, or inside a 376.1 forward, with the port it was forwarded to) with its
 * protocol, kind (the CJ/T 188 meter type; DL/T 645 is electricity), the DI byte order and FE preamble count
 * of its replies; every concentrator (A1, A2) with the heartbeat period seen (the median gap between its
 * heartbeats; 60 s when fewer than two were recorded). Meters heard without a concentrator go on port 1 of a
 * concentrator named `learned` (A 0000/1). Each meter's last reading is its `baseReading`, so the look-alike
 * meter starts from the value the real one last gave (the seed's consumption adds to it from then on).
 * Validated with the scenario schema before it is returned.
 */
export function learnScenario(recording: Recording, name: string): Scenario {
  const concentrators = new Map<string, LearnedConcentrator>();
  const concentratorOf = (a1: string, a2: number) => {
    const key = `${a1}/${a2}`;
    let c = concentrators.get(key);
    if (!c) {
      c = { a1, a2, heartbeats: [], ports: new Map() };
      concentrators.set(key, c);
    }
    return c;
  };
  const note = (c: LearnedConcentrator, port: number, frame: MeterFrame) => {
    const meters = c.ports.get(port) ?? new Map<string, LearnedMeter>();
    c.ports.set(port, meters);
    const m = meters.get(frame.address) ?? {
      address: frame.address,
      protocol: frame.protocol,
      kind: frame.protocol === 'dlt645' ? 'electricity' : 'cold-water',
    };
    meters.set(frame.address, m);
    if (frame.direction !== 'reply') return;
    m.preamble = frame.preamble;
    const body = frame.body as unknown as Record<string, unknown>;
    if (frame.protocol === 'cjt188') {
      if (['cold-water', 'hot-water', 'gas', 'heat'].includes(frame.meterTypeName))
        m.kind = frame.meterTypeName;
      if (body.diOrder === 'high-first' || body.diOrder === 'low-first') m.diOrder = body.diOrder;
      const current = (body.data as { current?: { value: number; unit: string } } | undefined)?.current;
      if (current && Number.isFinite(current.value) && current.value >= 0) {
        m.lastReading = current.value;
        m.lastUnit = current.unit;
      }
    } else if (body.kind === 'read-reply' && typeof body.value === 'number' && body.value >= 0) {
      m.lastReading = body.value;
      m.lastUnit = String(body.unit ?? '');
    }
  };
  for (const r of recording.records) {
    if (r.type !== 'frame') continue;
    const frame: AnyFrame | undefined = decodeRaw(fromHex(r.hex));
    if (!frame) continue;
    if (frame.protocol === 'gdw376') {
      const c = concentratorOf(frame.a1, frame.a2);
      for (const unit of frame.units) {
        const body = unit.body;
        if (body.kind === 'heartbeat' && frame.control.dir === 'up') c.heartbeats.push(r.t);
        if ((body.kind === 'forward-request' || body.kind === 'forward-reply') && body.content !== '') {
          const embedded = decodeEmbedded(hexToBytes(body.content));
          if ('embedded' in embedded) note(c, body.port, embedded.embedded);
        }
      }
    } else {
      note(concentratorOf('0000', 1), 1, frame);
    }
  }
  const readings: string[] = [];
  const scenario = {
    name,
    description: '',
    seed: 1,
    concentrators: [...concentrators.values()]
      .filter((c) => c.ports.size > 0)
      .map((c) => ({
        a1: c.a1,
        a2: c.a2,
        ...(c.a1 === '0000' && c.a2 === 1 ? { alias: 'learned' } : {}),
        heartbeatSeconds: heartbeatSeconds(c.heartbeats),
        ports: [...c.ports].map(([port, meters]) => ({
          port,
          meters: [...meters.values()].map((m) => {
            if (m.lastReading !== undefined)
              readings.push(`${m.address} ${m.lastReading} ${m.lastUnit ?? ''}`.trim());
            return {
              address: m.address,
              protocol: m.protocol,
              kind: m.kind,
              ...(m.diOrder || m.preamble !== undefined
                ? {
                    quirks: {
                      ...(m.diOrder ? { diOrder: m.diOrder } : {}),
                      ...(m.preamble !== undefined ? { preamble: m.preamble } : {}),
                    },
                  }
                : {}),
              ...(m.lastReading !== undefined ? { baseReading: m.lastReading } : {}),
            };
          }),
        })),
      })),
  };
  scenario.description = `Learned from ${recording.file} (${recording.header.source}); each meter's baseReading is its last recorded reading${readings.length > 0 ? ` (${readings.join(', ')})` : ''}.`;
  // Validation by the scenario loader: a learned scenario is one `meterlab sim --scenario` accepts.
  parseScenario(scenario, `scenario learned from ${recording.file}`);
  return scenario as unknown as Scenario;
}

function heartbeatSeconds(times: number[]): number {
  if (times.length < 2) return 60;
  const gaps = times
    .slice(1)
    .map((t, i) => t - times[i])
    .sort((a, b) => a - b);
  return Math.max(1, Math.round(gaps[Math.floor(gaps.length / 2)] / 1000));
}
