import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** Requests to /console/auth/* per client address and window: a few people's sign-ins, not a flood. */
export const CONSOLE_AUTH_LIMIT = { points: 60, seconds: 60 } as const;

/**
 * The console's sign-in routes answer before anyone is authenticated and write to the database
 * (a sign-in attempt, a session), so the subject limits (SubjectRateLimitGuard) cannot key them:
 * they are counted per client address instead, with the same library (rate-limiter-flexible,
 * in memory, per replica, entries dropped when their window ends). The address is the socket's:
 * the broker trusts no X-Forwarded-For, so behind a proxy every client shares the proxy's budget.
 */
export class ConsoleClientLimiter {
  private readonly counter: RateLimiterMemory;

  constructor(readonly limit: { points: number; seconds: number } = CONSOLE_AUTH_LIMIT) {
    this.counter = new RateLimiterMemory({ points: limit.points, duration: limit.seconds });
  }

  /** Counts one request from `address`; the seconds to wait when it is over the limit, else undefined. */
  async take(address: string | undefined): Promise<number | undefined> {
    try {
      await this.counter.consume(address ?? 'unknown');
      return undefined;
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
    }
  }
}
