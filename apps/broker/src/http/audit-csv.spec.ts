import { stringify } from 'csv-stringify/sync';
import { CSV_OPTIONS } from './audit-export';

/** One CSV record of the audit export with `actor` set to `value`, the other columns fixed. */
function actorCell(value: unknown): string {
  const text = stringify([{ seq: 7, id: 'e', actor: value, data: '{}' }], { ...CSV_OPTIONS, header: false });
  const fields = text.replace(/\r?\n$/, '').split(',');
  return fields.slice(7, fields.length - 3).join(',');
}

describe('audit CSV options', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+SUM(1)', "'+SUM(1)"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', "\"'\rcmd\""],
    ['\uFF1D1+1', "'\uFF1D1+1"],
  ])('should prefix %j with a single quote', (value, expected) => {
    expect(actorCell(value)).toBe(expected);
  });

  it.each([
    ['alice', 'alice'],
    ['a=b', 'a=b'],
    ['gcp:repo:acme/app', 'gcp:repo:acme/app'],
  ])('should leave %j as it is', (value, expected) => {
    expect(actorCell(value)).toBe(expected);
  });

  it('should leave a negative number alone: only text can be a formula', () => {
    expect(stringify([{ seq: -1 }], { ...CSV_OPTIONS, header: false }).startsWith('-1,')).toBe(true);
  });
});
