import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Archive, ArchiveError, archiveFromJson, loadArchiveFile } from './archive.ts';

const fleet = {
  concentrators: [
    {
      id: '017102082',
      alias: '101',
      a1: '0171',
      a2: 2082,
      ports: [{ port: 1, meters: [{ address: '00000000101001', protocol: 'cjt188' }] }],
    },
  ],
};

describe('Archive', () => {
  it('finds a concentrator by id or alias and a meter with or without leading zeros', () => {
    const a = new Archive(fleet);
    expect(a.concentrator('101')?.id).toBe('017102082');
    expect(a.concentrator('017102082')?.alias).toBe('101');
    expect(a.meter('017102082', '101001')).toEqual({
      concentratorId: '017102082',
      port: 1,
      protocol: 'cjt188',
    });
    expect(a.meter('017102082', '101002')).toBeUndefined();
  });

  it('checks a login source against allowFrom addresses and CIDR blocks, IPv4-mapped IPv6 included', () => {
    const a = new Archive({
      concentrators: [{ ...fleet.concentrators[0], allowFrom: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8'] }],
    });
    expect(a.allowsSource('017102082', '10.200.3.4')).toBe(true);
    expect(a.allowsSource('017102082', '::ffff:10.1.1.1')).toBe(true);
    expect(a.allowsSource('017102082', '192.168.1.7')).toBe(true);
    expect(a.allowsSource('017102082', 'fd12::1')).toBe(true);
    expect(a.allowsSource('017102082', '192.168.1.8')).toBe(false);
    expect(a.allowsSource('017102082', '127.0.0.1')).toBe(false);
    expect(a.allowsSource('017102082', 'not-an-address')).toBe(false);
    expect(a.allowsSource('099900001', '127.0.0.1')).toBe(true); // not archived: no list to check
    expect(new Archive(fleet).allowsSource('017102082', '127.0.0.1')).toBe(true);
  });

  it('names a bad allowFrom entry by JSON path', () => {
    const bad = {
      concentrators: [{ ...fleet.concentrators[0], allowFrom: ['10.0.0.0/33', 'host', '::1/129', 7] }],
    };
    expect(() => new Archive(bad)).toThrow(ArchiveError);
    try {
      new Archive(bad);
    } catch (error) {
      expect((error as ArchiveError).problems).toEqual([
        '/concentrators/0/allowFrom/0 must be an IP address or a CIDR block such as "10.0.0.0/8", got "10.0.0.0/33"',
        '/concentrators/0/allowFrom/1 must be an IP address or a CIDR block such as "10.0.0.0/8", got "host"',
        '/concentrators/0/allowFrom/2 must be an IP address or a CIDR block such as "10.0.0.0/8", got "::1/129"',
        '/concentrators/0/allowFrom/3 must be an IP address or a CIDR block such as "10.0.0.0/8", got 7',
      ]);
    }
    expect(
      () => new Archive({ concentrators: [{ ...fleet.concentrators[0], allowFrom: '10.0.0.1' }] }),
    ).toThrow(/allowFrom must be an array/);
  });

  it('names every bad field by JSON path', () => {
    const bad = {
      concentrators: [
        {
          id: '017102083',
          a1: '0171',
          a2: 2082,
          ports: [{ port: 40, meters: [{ address: 'x', protocol: 'mbus' }] }],
        },
      ],
    };
    try {
      new Archive(bad, 'fleet.json');
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ArchiveError);
      const problems = (err as ArchiveError).problems.join('\n');
      expect(problems).toMatch(/\/concentrators\/0\/id "017102083" is not A1 \+ A2/);
      expect(problems).toMatch(/\/concentrators\/0\/ports\/0\/port must be 1–31/);
      expect(problems).toMatch(/meters\/0\/address/);
      expect(problems).toMatch(/meters\/0\/protocol/);
    }
  });

  it('loads a fleet summary file as it is, and a scenario file through the scenario loader', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterlab-archive-'));
    const path = join(dir, 'fleet.json');
    writeFileSync(path, JSON.stringify(fleet));
    expect(loadArchiveFile(path).concentrator('101')?.a2).toBe(2082);
    const scenario = {
      name: 't',
      seed: 1,
      concentrators: [
        {
          a1: '0171',
          a2: 7,
          alias: 'x7',
          ports: [{ port: 2, meters: [{ address: '12', protocol: 'dlt645' }] }],
        },
      ],
    };
    const fromScenario = archiveFromJson(scenario, 'scenario.json');
    const where = fromScenario.meter('017100007', '12');
    expect(where?.port).toBe(2);
    expect(where?.protocol).toBe('dlt645');
    expect(where?.serial?.baudRate).toBe(2400);
  });

  it('carries each meter kind from a scenario or a fleet summary, and refuses a kind the protocol lacks', () => {
    const scenario = {
      concentrators: [
        {
          a1: '0171',
          a2: 8,
          ports: [{ port: 1, meters: [{ address: '1', kind: 'heat' }, { address: '2' }] }],
        },
      ],
    };
    const archive = archiveFromJson(scenario, 'scenario.json');
    expect(archive.meter('017100008', '1')?.kind).toBe('heat');
    expect(archive.meter('017100008', '2')?.kind).toBeUndefined();
    const again = new Archive(JSON.parse(JSON.stringify(archive.data)));
    expect(again.meter('017100008', '1')?.kind).toBe('heat');
    const bad = structuredClone(fleet);
    Object.assign(bad.concentrators[0].ports[0].meters[0], { kind: 'electricity' });
    expect(() => new Archive(bad)).toThrow(/meters\/0\/kind "electricity" is not a cjt188 meter/);
  });
});
