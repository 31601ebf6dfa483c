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
}

export type CountedFault = 'throttle' | 'server-error' | undefined;

/** Throttling, server errors and latency; a simulator adds its own kinds (conflicts, replication misses). */
export class FaultCounters {
  private readonly throttle = new Countdown();
  private readonly serverError = new Countdown();
  latencyMs = 0;

  set(faults: CountedFaults): void {
    if (faults.throttle !== undefined) this.throttle.set(faults.throttle);
    if (faults.serverError !== undefined) this.serverError.set(faults.serverError);
    if (faults.latencyMs !== undefined) this.latencyMs = Math.max(0, faults.latencyMs);
  }

  /** Consumes one pending fault for this call, throttling first. */
  take(): CountedFault {
    if (this.throttle.take()) return 'throttle';
    if (this.serverError.take()) return 'server-error';
    return undefined;
  }

  /** Waits `ms` (by default the injected latency) when it is positive. */
  async delay(ms: number = this.latencyMs): Promise<void> {
    if (ms > 0) await sleep(ms);
  }
}
