import { describe, expect, it } from 'vitest';
import { ReadCoalescer, readKey } from './read-coalescer.ts';

describe('ReadCoalescer', () => {
  it('runs one fetch for concurrent reads of one meter and gives every requester its result', async () => {
    let calls = 0;
    let release: (v: string) => void = () => {};
    const c = new ReadCoalescer((req: { concentrator: string; meter: string }) => {
      calls += 1;
      return new Promise<string>((resolve) => {
        release = (v) => resolve(`${req.meter}:${v}`);
      });
    });
    const a = c.read({ concentrator: '101', meter: '00000000101001' });
    const b = c.read({ concentrator: '101', meter: '101001' });
    expect([a.shared, b.shared, b.sharers]).toEqual([false, true, 2]);
    expect(c.size).toBe(1);
    await Promise.resolve();
    release('ok');
    expect(await a.result).toBe('00000000101001:ok');
    expect(await b.result).toBe('00000000101001:ok');
    expect(calls).toBe(1);
    expect(c.size).toBe(0);
    const again = c.read({ concentrator: '101', meter: '101001' });
    expect(again.shared).toBe(false);
    await Promise.resolve();
    release('fresh');
    expect(await again.result).toBe('101001:fresh');
    expect(calls).toBe(2);
  });

  it('keeps different concentrators, protocols and ports apart', () => {
    const base = { concentrator: '101', meter: '1' };
    const keys = new Set([
      readKey(base),
      readKey({ ...base, concentrator: '102' }),
      readKey({ ...base, protocol: 'dlt645' }),
      readKey({ ...base, port: 2 }),
      readKey({ ...base, meter: '2' }),
    ]);
    expect(keys.size).toBe(5);
    expect(readKey({ ...base, meter: '0000' })).toBe(readKey({ ...base, meter: '0' }));
  });

  it('forgets a read whose fetch rejected, and passes the rejection to every requester', async () => {
    const c = new ReadCoalescer(() => Promise.reject(new Error('boom')));
    const a = c.read({ concentrator: '1', meter: '1' });
    const b = c.read({ concentrator: '1', meter: '1' });
    await expect(a.result).rejects.toThrow('boom');
    await expect(b.result).rejects.toThrow('boom');
    expect(c.size).toBe(0);
  });
});
