import { CountedFaults, Countdown, FaultCounters } from '@jit/sim-kit';
import { GoogleApiError } from './google-api.error';

export interface FaultPlan extends CountedFaults {
  /** The next N API calls answer 429 RESOURCE_EXHAUSTED. */
  throttle?: number;
  /** The next N API calls answer a 5xx (`serverErrorStatus`, default 503 UNAVAILABLE). */
  serverError?: number;
  serverErrorStatus?: 500 | 503;
  /** The next N `setIamPolicy` calls find that another writer changed the policy since it was read. */
  conflict?: number;
}

/** The shared counters as Google API errors, plus write conflicts; each setting replaces the previous one of its kind. */
export class FaultInjector extends FaultCounters {
  private serverErrorStatus: 500 | 503 = 503;
  private readonly conflicts = new Countdown();

  apply(plan: FaultPlan): void {
    this.set(plan);
    if (plan.serverErrorStatus !== undefined) this.serverErrorStatus = plan.serverErrorStatus;
    if (plan.conflict !== undefined) this.conflicts.set(plan.conflict);
  }

  /** The fault this call answers with, if any. */
  next(): GoogleApiError | null {
    switch (this.take()) {
      case 'throttle':
        return new GoogleApiError(
          'RESOURCE_EXHAUSTED',
          "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute' of service 'cloudresourcemanager.googleapis.com'.",
        );
      case 'server-error':
        return this.serverErrorStatus === 500
          ? new GoogleApiError('INTERNAL', 'Internal error encountered.')
          : new GoogleApiError('UNAVAILABLE', 'The service is currently unavailable.');
      case undefined:
        return null;
    }
  }

  takeConflict(): boolean {
    return this.conflicts.take();
  }
}
