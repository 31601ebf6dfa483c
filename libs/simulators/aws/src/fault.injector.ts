/** Faults a test asks for: counts of the next calls that fail, and a delay for every call while set. */
export interface FaultOptions {
  throttle?: number;
  serverError?: number;
  latencyMs?: number;
  /** Limits `latencyMs` to these actions (e.g. only `PutRolePolicy`, to lose a reply after the write landed). */
  latencyActions?: string[];
}

export type Fault = 'throttle' | 'server-error' | undefined;

export class FaultInjector {
  private throttle = 0;
  private serverError = 0;
  private latencyMs = 0;
  private latencyActions: string[] | undefined;

  /** Sets (not adds) each given field; `inject({ throttle: 0 })` clears pending throttling. */
  set(options: FaultOptions): void {
    if (options.throttle !== undefined) this.throttle = Math.max(0, Math.floor(options.throttle));
    if (options.serverError !== undefined) this.serverError = Math.max(0, Math.floor(options.serverError));
    if (options.latencyMs !== undefined) {
      this.latencyMs = Math.max(0, options.latencyMs);
      this.latencyActions = options.latencyActions;
    }
  }

  latencyFor(action: string): number {
    return !this.latencyActions || this.latencyActions.includes(action) ? this.latencyMs : 0;
  }

  /** Consumes one pending fault for this call, throttling first. */
  next(): Fault {
    if (this.throttle > 0) {
      this.throttle--;
      return 'throttle';
    }
    if (this.serverError > 0) {
      this.serverError--;
      return 'server-error';
    }
    return undefined;
  }
}
