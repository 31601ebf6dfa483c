import { Countdown, FaultCounters, seededRandom } from './fault.counters';

describe(Countdown.name, () => {
  it('should fail exactly the next N calls, and set rather than add', () => {
    const c = new Countdown();
    c.set(2);
    c.set(3);
    expect([c.take(), c.take(), c.take(), c.take()]).toEqual([true, true, true, false]);
  });

  it('should treat a fraction as the whole calls it covers and a negative count as none', () => {
    const c = new Countdown();
    c.set(1.9);
    expect([c.take(), c.take()]).toEqual([true, false]);
    c.set(-2);
    expect(c.take()).toBe(false);
  });
});

describe(FaultCounters.name, () => {
  it('should throttle before it answers with server errors, then let calls through', () => {
    const f = new FaultCounters();
    f.set({ serverError: 1, throttle: 2 });
    expect([f.take(), f.take(), f.take(), f.take()]).toEqual(['throttle', 'throttle', 'server-error', undefined]);
  });

  it('should change only the kinds a setting names', () => {
    const f = new FaultCounters();
    f.set({ throttle: 1, latencyMs: 40 });
    f.set({ serverError: 1 });
    expect([f.take(), f.take(), f.latencyMs]).toEqual(['throttle', 'server-error', 40]);
    f.set({ throttle: 0, latencyMs: -5 });
    expect([f.take(), f.latencyMs]).toEqual([undefined, 0]);
  });
});

describe('rate-based faults', () => {
  const draw = (f: FaultCounters, n: number) => Array.from({ length: n }, () => f.take());

  it('should fail about the given fraction of calls, throttling and server errors each at its rate', () => {
    const f = new FaultCounters();
    f.set({ rate: { throttle: 0.2, serverError: 0.25, seed: 7 } });
    const calls = draw(f, 20_000);
    const throttled = calls.filter((c) => c === 'throttle').length / calls.length;
    const serverErrors = calls.filter((c) => c === 'server-error').length / calls.length;
    // A server error is drawn among the calls not throttled: 0.8 * 0.25 = 0.2 of all calls.
    expect(throttled).toBeGreaterThan(0.18);
    expect(throttled).toBeLessThan(0.22);
    expect(serverErrors).toBeGreaterThan(0.18);
    expect(serverErrors).toBeLessThan(0.22);
  });

  it('should fail the same calls for the same seed, other calls for another seed', () => {
    const run = (seed: number) => {
      const f = new FaultCounters();
      f.set({ rate: { throttle: 0.3, serverError: 0.3, seed } });
      return draw(f, 200);
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it('should spend the counted faults first, clamp rates to 0..1, and stop at rate 0', () => {
    const f = new FaultCounters();
    f.set({ serverError: 2, rate: { throttle: 5, seed: 1 } });
    expect(draw(f, 4)).toEqual(['server-error', 'server-error', 'throttle', 'throttle']);
    f.set({ rate: { throttle: 0 } });
    expect(draw(f, 50).every((c) => c === undefined)).toBe(true);
    f.set({ rate: { serverError: -1, throttle: Number.NaN } });
    expect(draw(f, 50).every((c) => c === undefined)).toBe(true);
  });

  it('should draw uniformly from a seed', () => {
    const r = seededRandom(3);
    const xs = Array.from({ length: 10_000 }, r);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.filter((x) => x < 0.5).length).toBeGreaterThan(4_700);
    expect(xs.filter((x) => x < 0.5).length).toBeLessThan(5_300);
  });
});
