/**
 * "Full jitter" exponential backoff: a random delay in [0, min(max, base * 2^(attempt-1))], so
 * replicas that collided on one policy's etag spread out instead of colliding again.
 */
export function jitteredBackoffMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
