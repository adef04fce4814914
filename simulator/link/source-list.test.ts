import { describe, expect, it } from 'vitest';
import { isSourceSpec, SourceList } from './source-list.ts';

describe('isSourceSpec', () => {
  it('accepts addresses and CIDR blocks whose prefix fits the family', () => {
    for (const ok of ['10.0.0.7', '192.168.1.0/24', '0.0.0.0/0', '::1', 'fd00::/8', '2001:db8::/128']) {
      expect(isSourceSpec(ok), ok).toBe(true);
    }
  });
  it('refuses names, bad prefixes and non-strings', () => {
    for (const bad of ['localhost', '10.0.0.7/33', '::1/129', '10.0.0.0/8/1', '10.0.0.0/x', '', 7, null]) {
      expect(isSourceSpec(bad), String(bad)).toBe(false);
    }
  });
});

describe('SourceList', () => {
  const list = new SourceList(['10.1.0.0/16', '127.0.0.1', 'fd00::/8']);
  it('allows addresses inside its entries, IPv4-mapped IPv6 as IPv4', () => {
    expect(list.allows('10.1.200.3')).toBe(true);
    expect(list.allows('127.0.0.1')).toBe(true);
    expect(list.allows('::ffff:127.0.0.1')).toBe(true);
    expect(list.allows('fd00::42')).toBe(true);
  });
  it('refuses addresses outside them and anything that is not an IP address', () => {
    expect(list.allows('10.2.0.1')).toBe(false);
    expect(list.allows('127.0.0.2')).toBe(false);
    expect(list.allows('fe80::1')).toBe(false);
    expect(list.allows('not-an-ip')).toBe(false);
  });
});
