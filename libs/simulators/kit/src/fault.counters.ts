import { setTimeout as sleep } from 'node:timers/promises';

/** The next N calls fail one way; `set` replaces the count (0 clears it), fractions and negatives round down to a count. */
export class Countdown {
  private left = 0;

  set(count: number): void {
    this.left = Math.max(0, Math.floor(count));
  }

  /** Consumes one pending failure; false when none is left. */
  take(): boolean {
    if (this.left <= 0) return false;
    this.left -= 1;
    return true;
  }
}

/** The faults every simulator takes: each setting replaces the previous one of its kind. */
export interface CountedFaults {
  /** The next N calls are throttled (each cloud answers with its own throttling error). */
  throttle?: number;
  /** The next N calls fail with the cloud's server error. */
  serverError?: number;
  /** Every call waits this long before it is answered (0 turns it off). */
  latencyMs?: number;
  /**
   * Rate-based faults, for chaos runs: each call (once the counted faults are spent) is throttled
   * with probability `throttle` and otherwise fails with a server error with probability
   * `serverError` (each 0..1, clamped; 0 turns it off). Drawn from a generator seeded by `seed`,
   * so a run with the same seed and the same calls fails the same calls.
   */
  rate?: { throttle?: number; serverError?: number; seed?: number };
}

/** A small seeded generator (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fraction = (p: number | undefined, was: number) => (p === undefined ? was : Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0);

export type CountedFault = 'throttle' | 'server-error' | undefined;

/** Throttling, server errors (counted or at a rate) and latency; a simulator adds its own kinds (conflicts, replication misses). */
export class FaultCounters {
  private readonly throttle = new Countdown();
  private readonly serverError = new Countdown();
  latencyMs = 0;
  private throttleRate = 0;
  private serverErrorRate = 0;
  private random: () => number = seededRandom(1);

  set(faults: CountedFaults): void {
    if (faults.throttle !== undefined) this.throttle.set(faults.throttle);
    if (faults.serverError !== undefined) this.serverError.set(faults.serverError);
    if (faults.latencyMs !== undefined) this.latencyMs = Math.max(0, faults.latencyMs);
    if (faults.rate) {
      this.throttleRate = fraction(faults.rate.throttle, this.throttleRate);
      this.serverErrorRate = fraction(faults.rate.serverError, this.serverErrorRate);
      if (faults.rate.seed !== undefined) this.random = seededRandom(faults.rate.seed);
    }
  }

  /** Consumes one pending fault for this call, throttling first; then draws the rate-based ones. */
  take(): CountedFault {
    if (this.throttle.take()) return 'throttle';
    if (this.serverError.take()) return 'server-error';
    if (this.throttleRate === 0 && this.serverErrorRate === 0) return undefined;
    if (this.random() < this.throttleRate) return 'throttle';
    if (this.random() < this.serverErrorRate) return 'server-error';
    return undefined;
  }

  /**
   * Waits `ms` (by default the injected latency) when it is positive. The wait does not hold the
   * process open: a call hanging for ten minutes must not keep a test run (or a stopping
   * sandbox) alive once everything else has closed.
   */
  async delay(ms: number = this.latencyMs): Promise<void> {
    if (ms > 0) await sleep(ms, undefined, { ref: false });
  }
}
