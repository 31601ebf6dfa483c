import { backoffMs } from './backoff';

describe('backoffMs', () => {
  it('should double the step per attempt and keep at least half of it', () => {
    expect(backoffMs(1, () => 0)).toBe(500);
    expect(backoffMs(1, () => 1)).toBe(1000);
    expect(backoffMs(3, () => 0)).toBe(2000);
    expect(backoffMs(3, () => 1)).toBe(4000);
  });

  it('should never exceed the cap however many attempts failed', () => {
    expect(backoffMs(50, () => 1, 1000, 60_000)).toBe(60_000);
    expect(backoffMs(50, () => 0, 1000, 60_000)).toBe(30_000);
  });
});
