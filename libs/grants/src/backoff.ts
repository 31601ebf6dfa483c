/** First retry delay of a failed revocation. */
export const REVOKE_BACKOFF_BASE_MS = 1_000;
/** Longest delay between fast retries, before the grant becomes `revoke_failed`. */
export const REVOKE_BACKOFF_CAP_MS = 5 * 60_000;

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries of
 * many grants that failed together spread out but never come back at once.
 */
export function backoffMs(attempt: number, random: () => number = Math.random, base = REVOKE_BACKOFF_BASE_MS, cap = REVOKE_BACKOFF_CAP_MS): number {
  const step = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}
