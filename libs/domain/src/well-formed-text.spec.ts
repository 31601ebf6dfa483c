import { illFormedTextPath, isWellFormed, toWellFormed, toWellFormedDeep } from './well-formed-text';

describe('well-formed text', () => {
  it('should tell lone surrogates from pairs', () => {
    expect(isWellFormed('a🚀b')).toBe(true);
    expect(isWellFormed('\ud83d\ude80')).toBe(true);
    expect(isWellFormed('\ud800')).toBe(false);
    expect(isWellFormed('\ude80\ud83d')).toBe(false);
    expect(toWellFormed('a\ud800b')).toBe('a\ufffdb');
  });

  it('should name the first ill-formed string or key by its path', () => {
    expect(illFormedTextPath({ a: [1, 'x', { b: '\udc00' }] })).toBe('a[2].b');
    expect(illFormedTextPath({ a: { ['k\ud800']: 1 } })).toBe('a.k\ufffd');
    expect(illFormedTextPath('\ud800')).toBe('(body)');
    expect(illFormedTextPath({ a: ['ok', 'é'], n: 1, z: null })).toBeNull();
  });

  it('should copy a value with every string and key made well-formed, keeping dates and numbers', () => {
    const at = new Date(0);
    const copy = toWellFormedDeep({ ['k\ud800']: ['\udc00', 1, { at }], n: null });

    expect(copy).toEqual({ ['k\ufffd']: ['\ufffd', 1, { at }], n: null });
    expect((copy['k\ufffd' as 'k\ud800'][2] as { at: Date }).at).toBe(at);
    expect(illFormedTextPath(copy)).toBeNull();
  });
});
