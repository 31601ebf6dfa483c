import { GoogleApiError } from './google-api.error';

export interface FaultPlan {
  /** The next N API calls answer 429 RESOURCE_EXHAUSTED. */
  throttle?: number;
  /** The next N API calls answer a 5xx (`serverErrorStatus`, default 503 UNAVAILABLE). */
  serverError?: number;
  serverErrorStatus?: 500 | 503;
  /** Every call waits this long before it is answered (0 turns it off). */
  latencyMs?: number;
  /** The next N `setIamPolicy` calls find that another writer changed the policy since it was read. */
  conflict?: number;
}

/** Counts down injected faults; each setting replaces the previous one of its kind. */
export class FaultInjector {
  private throttle = 0;
  private serverError = 0;
  private serverErrorStatus: 500 | 503 = 503;
  private conflicts = 0;
  latencyMs = 0;

  apply(plan: FaultPlan): void {
    if (plan.throttle !== undefined) this.throttle = plan.throttle;
    if (plan.serverError !== undefined) this.serverError = plan.serverError;
    if (plan.serverErrorStatus !== undefined) this.serverErrorStatus = plan.serverErrorStatus;
    if (plan.latencyMs !== undefined) this.latencyMs = plan.latencyMs;
    if (plan.conflict !== undefined) this.conflicts = plan.conflict;
  }

  /** The fault this call answers with, if any. */
  next(): GoogleApiError | null {
    if (this.throttle > 0) {
      this.throttle -= 1;
      return new GoogleApiError(
        'RESOURCE_EXHAUSTED',
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute' of service 'cloudresourcemanager.googleapis.com'.",
      );
    }
    if (this.serverError > 0) {
      this.serverError -= 1;
      return this.serverErrorStatus === 500
        ? new GoogleApiError('INTERNAL', 'Internal error encountered.')
        : new GoogleApiError('UNAVAILABLE', 'The service is currently unavailable.');
    }
    return null;
  }

  takeConflict(): boolean {
    if (this.conflicts === 0) return false;
    this.conflicts -= 1;
    return true;
  }
}
