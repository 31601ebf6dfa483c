import { CountedFaults, Countdown, FaultCounters } from '@jit/sim-kit';

/** Faults the next API calls answer with (the token endpoint is never faulted). */
export interface SimFaults extends CountedFaults {
  /** The next N calls answer 429 with Retry-After. */
  throttle?: number;
  /** The next N calls answer 503. */
  serverError?: number;
  /** The next N calls that name a principal answer as Entra does right after the principal was created. */
  notFoundReplication?: number;
  /** Retry-After value of the 429s, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Also send `retry-after-ms` (some Azure services do); unset by default, like ARM and Graph. */
  retryAfterMs?: number;
}

/** The shared counters, plus Entra's replication delay and the 429's Retry-After headers. */
export class SimFaultPlan extends FaultCounters {
  private readonly notFoundReplication = new Countdown();
  retryAfterSeconds = 1;
  retryAfterMs: number | undefined;

  apply(f: SimFaults): void {
    this.set(f);
    if (f.notFoundReplication !== undefined) this.notFoundReplication.set(f.notFoundReplication);
    if (f.retryAfterSeconds !== undefined) this.retryAfterSeconds = f.retryAfterSeconds;
    if ('retryAfterMs' in f) this.retryAfterMs = f.retryAfterMs;
  }

  /** Consumed only by calls that reference a principal. */
  takeReplicationMiss(): boolean {
    return this.notFoundReplication.take();
  }

  throttleHeaders(): Record<string, string> {
    const h: Record<string, string> = { 'Retry-After': String(this.retryAfterSeconds) };
    if (this.retryAfterMs !== undefined) h['retry-after-ms'] = String(this.retryAfterMs);
    return h;
  }
}
