import { parseRetryAfter, retryAfterFromHeaders } from './retry-after';

describe(parseRetryAfter.name, () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('should read delay-seconds and an HTTP date', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 2 ', now)).toBe(2_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
  });

  it('should answer 0 for a date in the past and nothing for what it cannot read', () => {
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect([parseRetryAfter(null, now), parseRetryAfter('', now), parseRetryAfter('soon', now), parseRetryAfter('-5', now)]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe(retryAfterFromHeaders.name, () => {
  it('should prefer the millisecond headers to Retry-After', () => {
    const headers = new Headers({ 'retry-after': '10', 'x-ms-retry-after-ms': '250' });
    expect(retryAfterFromHeaders((n) => headers.get(n))).toBe(250);
    expect(retryAfterFromHeaders((n) => new Headers({ 'retry-after': '3' }).get(n))).toBe(3000);
    expect(retryAfterFromHeaders((n) => new Headers({ 'retry-after': new Date(10_000).toUTCString() }).get(n), 4_000)).toBe(6_000);
    expect(retryAfterFromHeaders(() => null)).toBeUndefined();
  });
});
