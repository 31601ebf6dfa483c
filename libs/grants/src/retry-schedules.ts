import { BackoffOptions } from '@jit/resilience';

/**
 * Fast retries of a failed revocation, before the grant becomes `revoke_failed`: 1 s doubling
 * to 5 min, equal jitter (half the step fixed, half random), so grants that failed together
 * spread out but none comes back at once.
 */
export const REVOKE_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 5 * 60_000, jitter: 'equal' };

/**
 * Retries of a grant call inside the requester's HTTP request: 200 ms doubling, never more
 * than 2 s apart (a longer Retry-After is cut to 2 s), equal jitter.
 */
export const REQUEST_BACKOFF: BackoffOptions = { baseMs: 200, capMs: 2_000, jitter: 'equal' };
