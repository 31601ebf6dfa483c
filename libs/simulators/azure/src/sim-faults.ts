/** Faults the next API calls answer with (the token endpoint is never faulted). */
export interface SimFaults {
  /** The next N calls answer 429 with Retry-After. */
  throttle?: number;
  /** The next N calls answer 503. */
  serverError?: number;
  /** Every call waits this long before it is handled. */
  latencyMs?: number;
  /** The next N calls that name a principal answer as Entra does right after the principal was created. */
  notFoundReplication?: number;
  /** Retry-After value of the 429s, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Also send `retry-after-ms` (some Azure services do); unset by default, like ARM and Graph. */
  retryAfterMs?: number;
}

export class SimFaultPlan {
  throttle = 0;
  serverError = 0;
  latencyMs = 0;
  notFoundReplication = 0;
  retryAfterSeconds = 1;
  retryAfterMs: number | undefined;

  apply(f: SimFaults): void {
    if (f.throttle !== undefined) this.throttle = f.throttle;
    if (f.serverError !== undefined) this.serverError = f.serverError;
    if (f.latencyMs !== undefined) this.latencyMs = f.latencyMs;
    if (f.notFoundReplication !== undefined) this.notFoundReplication = f.notFoundReplication;
    if (f.retryAfterSeconds !== undefined) this.retryAfterSeconds = f.retryAfterSeconds;
    if ('retryAfterMs' in f) this.retryAfterMs = f.retryAfterMs;
  }

  takeThrottle(): boolean {
    if (this.throttle <= 0) return false;
    this.throttle--;
    return true;
  }

  takeServerError(): boolean {
    if (this.serverError <= 0) return false;
    this.serverError--;
    return true;
  }

  /** Consumed only by calls that reference a principal. */
  takeReplicationMiss(): boolean {
    if (this.notFoundReplication <= 0) return false;
    this.notFoundReplication--;
    return true;
  }

  throttleHeaders(): Record<string, string> {
    const h: Record<string, string> = { 'Retry-After': String(this.retryAfterSeconds) };
    if (this.retryAfterMs !== undefined) h['retry-after-ms'] = String(this.retryAfterMs);
    return h;
  }
}
