import { CountedFaults, FaultCounters } from '@jit/sim-kit';

/** Faults a test asks for: counts of the next calls that fail, and a delay for every call while set. */
export interface FaultOptions extends CountedFaults {
  /** Limits `latencyMs` to these actions (e.g. only `PutRolePolicy`, to lose a reply after the write landed). */
  latencyActions?: string[];
}

/** The shared counters, plus latency limited to some awsQuery actions. */
export class FaultInjector extends FaultCounters {
  private latencyActions: string[] | undefined;

  /** Sets (not adds) each given field; `inject({ throttle: 0 })` clears pending throttling. */
  override set(options: FaultOptions): void {
    super.set(options);
    if (options.latencyMs !== undefined) this.latencyActions = options.latencyActions;
  }

  latencyFor(action: string): number {
    return !this.latencyActions || this.latencyActions.includes(action) ? this.latencyMs : 0;
  }
}
