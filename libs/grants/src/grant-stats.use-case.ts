import { Clock, CloudName, DomainError, GrantStats, GrantStatsReader } from '@jit/domain';
import { Actor, requireRole } from './actor';

/** The widest range one read may cover: a year and a day, so a leap year's full year fits. */
export const MAX_STATS_RANGE_DAYS = 366;
/** The range when none is given: the last 30 days. */
export const DEFAULT_STATS_RANGE_DAYS = 30;

const DAY_MS = 86_400_000;

export interface GrantStatsRequest {
  from?: Date;
  to?: Date;
  cloud?: CloudName;
}

/** The aggregates with the range they cover (defaults filled in). */
export interface GrantStatsResult extends GrantStats {
  from: Date;
  to: Date;
  cloud: CloudName | null;
}

/**
 * Aggregates for the console's charts (grants per day, open grants, revocation lag, break-glass
 * uses, denials by rule): auditors and admins only, as they read every grant and the audit log.
 * Without `to` the range ends now; without `from` it starts 30 days before `to`.
 */
export class GrantStatsUseCase {
  constructor(
    private readonly reader: GrantStatsReader,
    private readonly clock: Clock,
  ) {}

  async execute(actor: Actor, request: GrantStatsRequest): Promise<GrantStatsResult> {
    requireRole(actor, 'auditor', 'admin');
    const to = request.to ?? this.clock.now();
    const from = request.from ?? new Date(to.getTime() - DEFAULT_STATS_RANGE_DAYS * DAY_MS);
    if (from.getTime() >= to.getTime()) {
      throw DomainError.validation([{ field: 'from', message: 'must be before to' }]);
    }
    if (to.getTime() - from.getTime() > MAX_STATS_RANGE_DAYS * DAY_MS) {
      throw DomainError.validation([{ field: 'from', message: `the range from..to may span at most ${MAX_STATS_RANGE_DAYS} days` }]);
    }
    const stats = await this.reader.read({ from, to, ...(request.cloud && { cloud: request.cloud }) });
    return { from, to, cloud: request.cloud ?? null, ...stats };
  }
}
