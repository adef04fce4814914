import { describe, expect, it } from 'vitest';
import { Withdrawal } from './withdrawal.ts';

describe('Withdrawal (a light AbortController)', () => {
  it('runs each listener once, in order, with aborted and reason set, as AbortController does', () => {
    for (const make of [() => new Withdrawal(), () => new AbortController()]) {
      const w = make();
      const heard: string[] = [];
      const removed = () => heard.push('removed');
      w.signal.addEventListener('abort', () => heard.push(`a ${w.signal.aborted}`), { once: true });
      w.signal.addEventListener('abort', removed, { once: true });
      w.signal.addEventListener('abort', () => heard.push('b'), { once: true });
      w.signal.removeEventListener('abort', removed);
      expect(w.signal.aborted).toBe(false);
      w.abort();
      w.abort();
      expect(heard).toEqual(['a true', 'b']);
      expect(w.signal.reason).toBeInstanceOf(DOMException);
      expect((w.signal.reason as DOMException).name).toBe('AbortError');
      w.signal.addEventListener('abort', () => heard.push('late'));
      expect(heard).toEqual(['a true', 'b']);
    }
  });

  it('keeps the reason it was given', () => {
    const w = new Withdrawal();
    const why = new Error('client left');
    w.abort(why);
    expect(w.signal.reason).toBe(why);
  });

  it('runs every listener even when one throws, then surfaces the error', () => {
    const w = new Withdrawal();
    const heard: number[] = [];
    w.signal.addEventListener('abort', () => {
      throw new Error('listener bug');
    });
    w.signal.addEventListener('abort', () => heard.push(2));
    expect(() => w.abort()).toThrow('listener bug');
    expect(heard).toEqual([2]);
  });
});
