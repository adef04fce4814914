import { afterEach, describe, expect, it } from 'vitest';
import { MasterStation } from '../../harness/master/index.ts';
import { ConsumptionModel } from '../meter/index.ts';
import { fleetSummary, generateFleet, parseScenario, type Scenario } from '../scenario/index.ts';
import { Fleet, type FleetOptions } from './fleet.ts';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function startMaster(confirmForm: 'F1' | 'F3', scenario: (port: number) => Scenario) {
  // The archive must name the fleet's meters, so build the scenario once the master's port is known.
  const probe = new MasterStation({ listen: { port: 0 }, api: false });
  const { listen } = await probe.start();
  await probe.stop();
  const s = scenario(listen.port);
  const master = new MasterStation({
    listen: { port: listen.port },
    api: false,
    confirmForm,
    archive: fleetSummary(s),
    meterFrameTimeoutMs: 2000,
  });
  await master.start();
  cleanup.push(() => master.stop());
  return { master, scenario: s };
}

async function startFleet(options: FleetOptions) {
  const fleet = new Fleet(options);
  cleanup.push(() => fleet.stop());
  const all = new Promise<void>((resolve) => {
    const check = () => {
      if (fleet.status().online === options.scenario.concentrators.length) resolve();
    };
    fleet.on('online', check);
  });
  await fleet.start();
  await withTimeout(all, 10_000, 'fleet login');
  return fleet;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms),
    ),
  ]);
}

async function readAll(master: MasterStation, scenario: Scenario) {
  const model = new ConsumptionModel({ seed: scenario.seed });
  const reads = scenario.concentrators.flatMap((c) =>
    c.ports.flatMap((p) =>
      p.meters.map(async (m) => {
        const before = Date.now();
        const reading = await master.pointRead({ concentrator: c.id, meter: m.address });
        const after = Date.now();
        // The value the consumption model predicts for some moment of the read.
        const lo = model.readingAt(m.address, before);
        const hi = model.readingAt(m.address, after);
        expect(reading.value).toBeGreaterThanOrEqual(lo);
        expect(reading.value).toBeLessThanOrEqual(hi);
        expect(reading.meter).toBe(m.address);
      }),
    ),
  );
  await Promise.all(reads);
  return reads.length;
}

describe('Fleet with the real master station', () => {
  it('logs every concentrator in (F1 confirms) and every meter reads as the model predicts', async () => {
    const { master, scenario } = await startMaster('F1', (port) =>
      generateFleet({
        concentrators: 3,
        metersPerPort: 3,
        ports: 2,
        master: { host: '127.0.0.1', port },
        heartbeatSeconds: 60,
        seed: 42,
      }),
    );
    const fleet = await startFleet({ scenario });
    expect(master.sessions().filter((s) => s.state === 'online')).toHaveLength(3);
    expect(await readAll(master, scenario)).toBe(18);
    expect(fleet.status()).toMatchObject({ concentrators: 3, online: 3, meters: 18, forwards: 18 });
  });

  it('works with F3 confirms, DL/T 645 meters and shared meter devices', async () => {
    const { master, scenario } = await startMaster('F3', (port) =>
      generateFleet({
        concentrators: 2,
        metersPerPort: 4,
        protocol: 'dlt645',
        master: { host: '127.0.0.1', port },
        seed: 5,
      }),
    );
    await startFleet({ scenario, meterDevices: 'shared' });
    expect(await readAll(master, scenario)).toBe(8);
  });

  it('reconnects after the master drops the links and reads work again', async () => {
    const { master, scenario } = await startMaster('F1', (port) =>
      generateFleet({ concentrators: 2, metersPerPort: 2, master: { host: '127.0.0.1', port }, seed: 9 }),
    );
    const fleet = await startFleet({ scenario, session: { backoff: { initialMs: 50, maxMs: 200 } } });
    await readAll(master, scenario);
    const relogged = new Promise<void>((resolve) => {
      let n = 0;
      fleet.on('online', () => {
        if (++n === 2) resolve();
      });
    });
    await master.stop();
    const again = new MasterStation({
      listen: { port: scenario.concentrators[0].upstream.port },
      api: false,
      archive: fleetSummary(scenario),
      meterFrameTimeoutMs: 2000,
    });
    await again.start();
    cleanup.push(() => again.stop());
    await withTimeout(relogged, 10_000, 'relogin');
    expect(fleet.status().offline).toBe(2);
    expect(await readAll(again, scenario)).toBe(4);
  });

  it('reads meters behind a real socat pty pair', async () => {
    const { master, scenario } = await startMaster('F1', (port) =>
      parseScenario(
        {
          name: 'pty',
          seed: 3,
          master: { host: '127.0.0.1', port },
          concentrators: [
            {
              a1: '0001',
              a2: 1,
              ports: [
                { port: 1, link: { kind: 'pty' }, meters: [{ address: '101001' }, { address: '101002' }] },
                { port: 2, meters: [{ address: '102001', protocol: 'dlt645' }] },
              ],
            },
          ],
        },
        'test',
      ),
    );
    const fleet = await startFleet({ scenario });
    expect(fleet.status().ptys).toBe(1);
    expect(await readAll(master, scenario)).toBe(3);
  });
});
