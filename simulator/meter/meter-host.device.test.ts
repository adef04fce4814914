import { describe, expect, it } from 'vitest';
import { createPtyPair, SerialLink } from '../link/index.ts';
import { Cjt188Meter } from './cjt188-meter.ts';
import { ConsumptionModel } from './consumption.ts';
import { MeterHost } from './meter-host.ts';

// The meters' end of a socat pty pair goes away under a MeterHost: socat ends, e.g. because the other end was
// closed first while `sim` stops (the concentrator's end closes, socat sees EOF and exits). The link reports the
// loss as an 'error' event; a host must hear it — an 'error' event nobody listens to ends a Node process with a
// stack trace (CI stop 18: "while stopping: …/ttyV1 went away while open (bad file descriptor)").

describe('MeterHost on a device that goes away', () => {
  it('hears the link error, logs it as a bus error, and closes without an unhandled error', async () => {
    const pair = await createPtyPair();
    const lines: string[] = [];
    const link = new SerialLink({ path: pair.paths[1] });
    const host = await MeterHost.start({
      link,
      meters: [new Cjt188Meter({ address: '00000000101001', model: new ConsumptionModel({ seed: 1 }) })],
      log: (line) => lines.push(line),
    });
    const closed = new Promise<void>((resolve) => link.once('close', () => resolve()));
    process.kill(pair.pid, 'SIGKILL');
    await closed;
    expect(lines.join('\n')).toMatch(/went away while open/);
    await host.close();
    await pair.close();
  });

  it('without a log it still listens, so the loss cannot end the process', async () => {
    const pair = await createPtyPair();
    const link = new SerialLink({ path: pair.paths[1] });
    const host = await MeterHost.start({
      link,
      meters: [new Cjt188Meter({ address: '00000000101001', model: new ConsumptionModel({ seed: 1 }) })],
    });
    expect(link.listenerCount('error')).toBeGreaterThan(0);
    const closed = new Promise<void>((resolve) => link.once('close', () => resolve()));
    process.kill(pair.pid, 'SIGKILL');
    await closed;
    await host.close();
    expect(link.listenerCount('error')).toBe(0);
    await pair.close();
  });
});
