import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimit } from '@jit/config';
import { formatIsoDuration } from '@jit/domain';
import { Actor } from '@jit/grants';
import { BrokerMetrics } from '@jit/observability';
import { IS_PUBLIC } from './auth/auth.decorators';
import { PolicyController } from './policy.controller';

export type RateLimitName = 'writes' | 'dry_runs';

/** Methods that change nothing are not limited here. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A subject went over one of its limits; the request was refused before anything ran. */
export class RateLimitExceeded extends Error {
  constructor(
    readonly limitName: RateLimitName,
    readonly limit: RateLimit,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `more than ${limit.points} ${limitName === 'writes' ? 'writes' : 'dry runs'} per ${formatIsoDuration(limit.seconds)} from this token subject ` +
        `(${limit.setting}); retry in ${retryAfterSeconds} s`,
    );
  }

  /** The limit as the 429 problem names it. */
  get problemExtension() {
    return { limit: { name: this.limitName, setting: this.limit.setting, requests: this.limit.points, period: formatIsoDuration(this.limit.seconds) } };
  }
}

/**
 * Fixed-window counters per token subject, in this replica's memory: n replicas let a subject
 * through n times the figures. The PostgreSQL store was not used: it would add a write to every
 * request on the database whose audit head already serialises grant changes, and on the
 * embedded database (one connection) it would queue behind them; and a limiter that fails
 * with the database would refuse the requests that should be answered 503.
 */
export class SubjectRateLimiter {
  private readonly limiters: Record<RateLimitName, { limit: RateLimit; counter: RateLimiterMemory }>;

  constructor(
    limits: { writes: RateLimit; dryRuns: RateLimit },
    private readonly metrics: BrokerMetrics,
  ) {
    const make = (limit: RateLimit) => ({ limit, counter: new RateLimiterMemory({ points: limit.points, duration: limit.seconds }) });
    this.limiters = { writes: make(limits.writes), dry_runs: make(limits.dryRuns) };
  }

  /** Counts one request of `subject`; throws RateLimitExceeded past the limit (refused requests count too). */
  async take(name: RateLimitName, subject: string): Promise<void> {
    const { limit, counter } = this.limiters[name];
    try {
      await counter.consume(subject);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      this.metrics.rateLimited.inc({ limit: name });
      throw new RateLimitExceeded(name, limit, Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)));
    }
  }
}

/** Runs after TokenAuthGuard (registered after it), so the limit is keyed by an authenticated subject. */
@Injectable()
export class SubjectRateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: SubjectRateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<{ method: string; actor?: Actor }>();
    if (READ_METHODS.has(request.method)) return true;
    if (!request.actor) throw new Error('SubjectRateLimitGuard ran before authentication');
    const dryRun = context.getClass() === PolicyController && context.getHandler() === PolicyController.prototype.evaluate;
    await this.limiter.take(dryRun ? 'dry_runs' : 'writes', request.actor.subject);
    return true;
  }
}
