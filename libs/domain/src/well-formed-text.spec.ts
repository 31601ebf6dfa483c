import { ILL_FORMED, NOT_FINITE, NUL_CHARACTER, isWellFormed, toWellFormed, toWellFormedDeep, unstorableValue } from './well-formed-text';

describe('well-formed text', () => {
  it('should tell lone surrogates from pairs', () => {
    expect(isWellFormed('a🚀b')).toBe(true);
    expect(isWellFormed('\ud83d\ude80')).toBe(true);
    expect(isWellFormed('\ud800')).toBe(false);
    expect(isWellFormed('\ude80\ud83d')).toBe(false);
    expect(toWellFormed('a\ud800b')).toBe('a\ufffdb');
  });

  it('should name the first value PostgreSQL or the audit hash cannot take, by its path', () => {
    expect(unstorableValue({ a: [1, 'x', { b: '\udc00' }] })).toEqual({ field: 'a[2].b', message: ILL_FORMED });
    expect(unstorableValue({ a: { ['k\ud800']: 1 } })).toEqual({ field: 'a.k\ufffd', message: ILL_FORMED });
    expect(unstorableValue('\ud800')).toEqual({ field: '(body)', message: ILL_FORMED });
    expect(unstorableValue({ a: 'x\u0000' })).toEqual({ field: 'a', message: NUL_CHARACTER });
    expect(unstorableValue({ ['\u0000']: 1 })).toEqual({ field: '\u0000', message: NUL_CHARACTER });
    expect(unstorableValue(JSON.parse('{"p":{"n":[1e400]}}'))).toEqual({ field: 'p.n[0]', message: NOT_FINITE });
    expect(unstorableValue({ a: ['ok', 'é', '🚀'], n: -0, z: null, t: true })).toBeNull();
  });

  it('should refuse nesting deeper than the limit without walking it', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));

    expect(unstorableValue(deep, 3)).toEqual({ field: '[0][0][0]', message: 'nested deeper than 3 levels' });
    expect(unstorableValue([[['x']]], 3)).toBeNull();
  });

  it('should copy a value with every string and key made well-formed, keeping dates and numbers', () => {
    const at = new Date(0);
    const copy = toWellFormedDeep({ ['k\ud800']: ['\udc00', 1, { at }], n: null });

    expect(copy).toEqual({ ['k\ufffd']: ['\ufffd', 1, { at }], n: null });
    expect((copy['k\ufffd' as 'k\ud800'][2] as { at: Date }).at).toBe(at);
    expect(unstorableValue(copy)).toBeNull();
  });
});
