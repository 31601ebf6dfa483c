/**
 * How a delay is spread. `full`: anywhere in [0, step) (AWS Architecture Blog, "Exponential
 * Backoff and Jitter"), for callers that collided on one resource and must not collide again.
 * `equal`: half the step fixed, half random, so a retry never comes back at once.
 */
export type Jitter = 'full' | 'equal';

export interface BackoffOptions {
  /** The first step; doubled per attempt. */
  baseMs: number;
  /** The longest step. */
  capMs: number;
  jitter: Jitter;
}

/** The wait before retry number `attempt` (1 for the first retry): exponential, capped, jittered. */
export function backoffMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return options.jitter === 'full' ? Math.floor(random() * step) : Math.round(step / 2 + random() * (step / 2));
}
