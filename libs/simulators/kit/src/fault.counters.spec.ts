import { Countdown, FaultCounters } from './fault.counters';

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
