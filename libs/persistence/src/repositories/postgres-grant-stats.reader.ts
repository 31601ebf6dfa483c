import { DataSource } from 'typeorm';
import {
  CloudName,
  DenialReason,
  GRANT_STATES,
  GrantState,
  GrantStats,
  GrantStatsQuery,
  GrantStatsReader,
  REVOCATION_LAG_BUCKETS,
  TERMINAL_STATES,
} from '@jit/domain';
import { SqlConditions } from '../sql-conditions';

/** States that are not terminal, inlined so the planner can use the partial indexes on open grants. */
const OPEN_STATES = GRANT_STATES.filter((s) => !TERMINAL_STATES.includes(s))
  .map((s) => `'${s}'`)
  .join(',');

/**
 * Counts per UTC calendar day (`YYYY-MM-DD`, whatever the session's time zone) and `columns`:
 * grouped on the truncated timestamp, so the text is formatted once per group, not per row.
 */
const perUtcDay = (columns: string, from: string) =>
  `SELECT to_char(day, 'YYYY-MM-DD') AS day, ${columns}, count FROM (
     SELECT date_trunc('day', created_at AT TIME ZONE 'UTC') AS day, ${columns}, count(*)::int AS count ${from} GROUP BY day, ${columns}
   ) per_day ORDER BY per_day.day, ${columns}`;

/**
 * One `count(*) FILTER` per histogram bucket (upper bounds inclusive, the last one open), from
 * the numeric constants of `REVOCATION_LAG_BUCKETS`, so the histogram is one pass in one row.
 */
const LAG_BUCKET_COLUMNS = [...REVOCATION_LAG_BUCKETS, null]
  .map((upTo, i) => {
    const above = i === 0 ? null : REVOCATION_LAG_BUCKETS[i - 1];
    const conditions = [above === null ? null : `s > ${above}`, upTo === null ? null : `s <= ${upTo}`].filter(Boolean).join(' AND ');
    return `count(*) FILTER (WHERE ${conditions})::int AS b${i}`;
  })
  .join(', ');

/** The range and cloud conditions on one table's columns, with fresh parameters. */
function within(q: GrantStatsQuery, time: string, cloud = 'cloud'): SqlConditions {
  return new SqlConditions().add(`${time} >= ?`, q.from).add(`${time} < ?`, q.to).addIf(`${cloud} = ?`, q.cloud);
}

/**
 * The console's aggregates in SQL (GROUP BY, FILTER, percentile_cont), each on an index of its
 * range (AddGrantStatsIndexes), so a year of 100,000 grants is read as index ranges, not rows
 * shipped to the broker (figures in docs/console-insights.md). The five queries run side by side on the pool.
 */
export class PostgresGrantStatsReader extends GrantStatsReader {
  constructor(private readonly db: DataSource) {
    super();
  }

  async read(q: GrantStatsQuery): Promise<GrantStats> {
    const [perDay, openNow, revocationLag, breakGlass, denials] = await Promise.all([
      this.perDay(q),
      this.openNow(q),
      this.revocationLag(q),
      this.breakGlass(q),
      this.denials(q),
    ]);
    return { perDay, openNow, revocationLag, breakGlass, denials };
  }

  private async perDay(q: GrantStatsQuery): Promise<GrantStats['perDay']> {
    const c = within(q, 'created_at');
    return this.db.query(perUtcDay('cloud, kind', `FROM grants ${c.clause()}`), c.params);
  }

  private async openNow(q: GrantStatsQuery): Promise<GrantStats['openNow']> {
    const c = new SqlConditions().addIf('cloud = ?', q.cloud);
    c.where.push(`state IN (${OPEN_STATES})`);
    const rows: { cloud: CloudName; state: GrantState; count: number }[] = await this.db.query(
      `SELECT cloud, state, count(*)::int AS count FROM grants ${c.clause()} GROUP BY 1, 2 ORDER BY 1, 2`,
      c.params,
    );
    return rows;
  }

  private async revocationLag(q: GrantStatsQuery): Promise<GrantStats['revocationLag']> {
    const c = within(q, 'expires_at');
    c.where.push(`state = 'expired'`);
    // Both percentiles from one sort of the lags.
    const [row]: (Record<string, number | null> & { p: [number, number] | null })[] = await this.db.query(
      `SELECT count(*)::int AS count, percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY s) AS p, max(s) AS max,
         ${LAG_BUCKET_COLUMNS}
       FROM (SELECT EXTRACT(EPOCH FROM ended_at - expires_at)::float8 AS s FROM grants ${c.clause()}) lag`,
      c.params,
    );
    return {
      count: row.count ?? 0,
      p50Seconds: row.p?.[0] ?? null,
      p95Seconds: row.p?.[1] ?? null,
      maxSeconds: row.max,
      buckets: [...REVOCATION_LAG_BUCKETS, null].map((upToSeconds, i) => ({ upToSeconds, count: row[`b${i}`] ?? 0 })),
    };
  }

  private async breakGlass(q: GrantStatsQuery): Promise<GrantStats['breakGlass']> {
    const c = within(q, 'created_at');
    // The expression of the partial index IDX_grants_break_glass, written the same way.
    c.where.push(`(decision->>'mode') = 'break_glass'`);
    const [perDay, latest] = await Promise.all([
      this.db.query<GrantStats['breakGlass']['perDay']>(perUtcDay('cloud', `FROM grants ${c.clause()}`), c.params),
      this.db.query<GrantStats['breakGlass']['latest']>(
        `SELECT id AS "grantId", requested_by AS "requestedBy", cloud, kind, created_at AS "createdAt" FROM grants ${c.clause()}
         ORDER BY created_at DESC, id DESC LIMIT ${GrantStatsReader.LATEST_BREAK_GLASS}`,
        c.params,
      ),
    ]);
    return { total: perDay.reduce((n, d) => n + d.count, 0), perDay, latest };
  }

  private async denials(q: GrantStatsQuery): Promise<GrantStats['denials']> {
    const grants = within(q, 'ended_at');
    grants.where.push(`state = 'denied'`);
    const refused = within(q, 'occurred_at');
    refused.where.push(`type = 'policy.denied'`);
    const [ended, policy]: { rule: string | null; reason: DenialReason; count: number }[][] = await Promise.all([
      this.db.query(
        `SELECT decision->>'rule' AS rule, end_reason AS reason, count(*)::int AS count FROM grants ${grants.clause()} GROUP BY 1, 2`,
        grants.params,
      ),
      this.db.query(
        `SELECT data->>'rule' AS rule, 'policy' AS reason, count(*)::int AS count FROM audit_events ${refused.clause()} GROUP BY 1`,
        refused.params,
      ),
    ]);
    return [...policy, ...ended].sort((a, b) => b.count - a.count || (a.rule ?? '').localeCompare(b.rule ?? '') || a.reason.localeCompare(b.reason));
  }
}
