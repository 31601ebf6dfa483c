import { jitteredBackoffMs } from './jittered.backoff';

describe(jitteredBackoffMs.name, () => {
  it('should double the ceiling per attempt and cap it', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 10].map((a) => jitteredBackoffMs(a, 100, 500, top))).toEqual([99, 199, 399, 499, 499]);
  });

  it('should spread delays down to zero (full jitter)', () => {
    expect(jitteredBackoffMs(3, 100, 5000, () => 0)).toBe(0);
    expect(jitteredBackoffMs(3, 100, 5000, () => 0.5)).toBe(200);
  });
});
