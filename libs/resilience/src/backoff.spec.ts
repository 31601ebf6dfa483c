import { backoffMs } from './backoff';

describe(backoffMs.name, () => {
  const equal = { baseMs: 1000, capMs: 5 * 60_000, jitter: 'equal' as const };
  const full = { baseMs: 100, capMs: 500, jitter: 'full' as const };

  it('should double an equal-jitter step per attempt and keep at least half of it', () => {
    expect([backoffMs(1, equal, () => 0), backoffMs(1, equal, () => 1), backoffMs(3, equal, () => 0), backoffMs(3, equal, () => 1)]).toEqual([500, 1000, 2000, 4000]);
  });

  it('should never exceed the cap however many attempts failed', () => {
    expect(backoffMs(50, { ...equal, capMs: 60_000 }, () => 1)).toBe(60_000);
    expect(backoffMs(50, { ...equal, capMs: 60_000 }, () => 0)).toBe(30_000);
    expect([1, 2, 3, 4, 10].map((a) => backoffMs(a, full, () => 0.999999))).toEqual([99, 199, 399, 499, 499]);
  });

  it('should spread full-jitter delays down to zero', () => {
    expect(backoffMs(3, { ...full, capMs: 5000 }, () => 0)).toBe(0);
    expect(backoffMs(3, { ...full, capMs: 5000 }, () => 0.5)).toBe(200);
  });
});
