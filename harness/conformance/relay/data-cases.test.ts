import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConformanceError } from '../errors.ts';
import { caseFileFolder, thrownBy } from '../testing/case-files.ts';
import { fillSend, loadRelayCaseFile, mismatchOf } from './data-cases.ts';
import { relayCatalogue } from './relay-suite.ts';

const { dir, file } = caseFileFolder('relay-cases-');

const V = { concentrator: '101', meter: '101001', absentConcentrator: 'meterlab-absent' };

const good = {
  id: 'X-1',
  title: 't',
  source: 's',
  send: '{"type":"read","id":"x","concentrator":"{concentrator}","meter":"{meter}"}',
  expect: { type: 'reading', id: 'x', value: '*number', '...': '*' },
};
const relayFile = (...cases: unknown[]) => ({ role: 'relay', protocol: 'point-read', cases });

describe('relay data cases: loader', () => {
  it('reads a good file into a case with its source and file', () => {
    const [c, ...rest] = loadRelayCaseFile(file('good.json', relayFile(good)));
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ id: 'X-1', title: 't', clause: 's', origin: 'good.json' });
  });

  it('refuses a malformed file with one error naming the file and the JSON path', () => {
    const cases: [unknown, RegExp][] = [
      ['{"role": "relay", "cases": [', /: file: not readable JSON/],
      [
        relayFile({ ...good, expect: { ...good.expect, value: '*num' } }),
        /\$\.cases\[0\]\.expect\.value \(case X-1\): "\*num" is not a wildcard/,
      ],
      [
        relayFile(good, { ...good, id: 'X-2', send: '{"meter":"{metre}"}' }),
        /\$\.cases\[1\]\.send \(case X-2\): unknown placeholder \{metre\}/,
      ],
      [
        relayFile({ ...good, clause: 'c' }),
        /\$\.cases\[0\]\.clause \(case X-1\): give "source" or "clause", not both/,
      ],
      [relayFile({ ...good, wait: 5 }), /\$\.cases\[0\]\.wait \(case X-1\): unknown field/],
      [relayFile({ ...good, expect: undefined }), /\$\.cases\[0\]\.expect \(case X-1\): is required/],
      [relayFile({ ...good, send: [] }), /\$\.cases\[0\]\.send \(case X-1\): must be the text of a message/],
      [
        relayFile({ ...good, expect: [{ a: ['...', 1] }] }),
        /\$\.cases\[0\]\.expect\[0\]\.a\[0\] \(case X-1\): "\.\.\." must be the last/,
      ],
      [
        relayFile({ ...good, mismatch: { grade: 'pass', why: '' } }),
        /\$\.cases\[0\]\.mismatch \(case X-1\): must be \{"grade": one of fail, non-strict/,
      ],
      [
        relayFile({ ...good, nonStrict: [{ why: 'w' }] }),
        /\$\.cases\[0\]\.nonStrict\[0\] \(case X-1\): must be \{"expect"/,
      ],
      [
        relayFile({ title: 't', source: 's', send: 'x', expect: null }),
        /\$\.cases\[0\]\.id: must be a non-empty string/,
      ],
      [{ role: 'relay', protocol: 'ndjson', cases: [] }, /\$\.protocol: must be "point-read"/],
    ];
    for (const [doc, message] of cases) {
      const path = file('bad.json', doc);
      const error = thrownBy(() => loadRelayCaseFile(path));
      expect(error, String(message)).toBeInstanceOf(ConformanceError);
      expect((error as ConformanceError).code).toBe('CONFORM_BAD_CASE_FILE');
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message.startsWith(`${path}: `)).toBe(true);
    }
  });

  it('skips files of other roles, adds --cases-dir cases to the built-in ones, and keeps ids unique', () => {
    const own = mkdtempSync(join(dir, 'own-'));
    writeFileSync(join(own, 'meter.json'), JSON.stringify({ role: 'meter', protocol: 'cjt188', cases: [] }));
    writeFileSync(join(own, 'vendor.json'), JSON.stringify(relayFile(good)));
    const catalogue = relayCatalogue({ casesDirs: [own] });
    const ids = catalogue.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['RLY-1.1', 'RLY-D1.1', 'RLY-D2.1', 'RLY-D3.1', 'X-1']));
    expect(catalogue.find((c) => c.id === 'RLY-D2.1')?.origin).toBe('relay-point-read.json');
    expect(relayCatalogue({ noBuiltinCases: true }).some((c) => c.id.startsWith('RLY-D'))).toBe(false);
    writeFileSync(join(own, 'twice.json'), JSON.stringify(relayFile(good)));
    expect(() => relayCatalogue({ casesDirs: [own] })).toThrow(/case id X-1 is defined twice/);
    expect(() => relayCatalogue({ casesDirs: [join(dir, 'nowhere')] })).toThrow(
      /cannot read the cases folder/,
    );
  });
});

describe('relay data cases: placeholders and patterns', () => {
  it('fills placeholders JSON-escaped inside the text to send', () => {
    expect(fillSend('{"c":"{concentrator}","m":"{meter}","a":"{absent}"}', V)).toBe(
      '{"c":"101","m":"101001","a":"meterlab-absent"}',
    );
    expect(JSON.parse(fillSend('{"m":"{meter}"}', { ...V, meter: '1"\\2' })).m).toBe('1"\\2');
  });

  it('matches wildcards, placeholders and "..."; names the first difference by its JSON path', () => {
    const reading = {
      type: 'reading',
      id: 'x',
      concentrator: '101',
      meter: '101001',
      value: 1.5,
      readAt: '2026-01-01T00:00:00Z',
    };
    const p = {
      type: 'reading',
      id: 'x',
      concentrator: '{concentrator}',
      meter: '{meter}',
      value: '*number',
      readAt: '*',
    };
    expect(mismatchOf(p, reading, V)).toBeUndefined();
    expect(mismatchOf(p, { ...reading, value: '1.5' }, V)).toBe('$.value: expected a number, got "1.5"');
    expect(mismatchOf(p, { ...reading, meter: '101002' }, V)).toBe(
      '$.meter: expected "101001", got "101002"',
    );
    const { readAt: _r, ...noTime } = reading;
    expect(mismatchOf(p, noTime, V)).toBe('$.readAt: expected a value, got nothing');
    expect(mismatchOf(p, { ...reading, unit: 'm3' }, V)).toBe('$: unexpected field unit');
    expect(mismatchOf({ ...p, '...': '*' }, { ...reading, unit: 'm3' }, V)).toBeUndefined();
    expect(mismatchOf({ a: [1, '...'] }, { a: [1, 2, 3] }, V)).toBeUndefined();
    expect(mismatchOf({ a: [1, 2] }, { a: [1, 2, 3] }, V)).toBe('$.a: expected 2 elements, got 3');
    expect(mismatchOf({ a: true }, { a: 'true' }, V)).toBe('$.a: expected true, got "true"');
    expect(mismatchOf('**x', '*x', V)).toBeUndefined();
    expect(mismatchOf('Pong', 'Pong', V)).toBeUndefined();
    expect(mismatchOf({ a: 1 }, 'Pong', V)).toBe('$: expected an object, got "Pong"');
  });
});
