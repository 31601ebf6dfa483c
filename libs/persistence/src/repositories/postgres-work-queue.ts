import { DataSource } from 'typeorm';
import { Clock, CloudName, Grant, WorkQueue } from '@jit/domain';
import { GrantRow, grantColumns, toGrant } from '../mappers/grant-row.mapper';
import { pgPool } from '../pg-pool';

/** The sweeper's work queue on PostgreSQL (or the embedded PGlite): leases on grant rows and on broker_jobs. */
export class PostgresWorkQueue extends WorkQueue {
  /** The lease ends of claims whose answer never came (see claimDue), to be handed back. */
  private readonly unanswered = new Set<Date>();
  private lastLeaseEnd = 0;
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    /** This replica's lease owner id. */
    private readonly owner: string,
  ) {
    super();
  }

  async claimDue(owner: string, leaseMs: number, limit: number, cloud?: CloudName): Promise<Grant[]> {
    return this.claim(owner, leaseMs, [{ cloud: cloud ?? null, limit }]);
  }

  async claimDueByCloud(owner: string, leaseMs: number, limits: ReadonlyMap<CloudName, number>): Promise<Grant[]> {
    return this.claim(owner, leaseMs, [...limits].filter(([, limit]) => limit > 0).map(([cloud, limit]) => ({ cloud, limit })));
  }

  /**
   * One statement for every part (a cloud, or all clouds, and how many of its rows): a branch per
   * kind of work, each on its own partial index, most urgent first, under the part's LIMIT, which
   * stops reading (and locking) once the part is full; the parts as UNION ALL branches. So a
   * cycle costs one round trip, not one per cloud and kind (fifteen, mostly finding nothing).
   */
  private async claim(owner: string, leaseMs: number, parts: readonly { cloud: CloudName | null; limit: number }[]): Promise<Grant[]> {
    if (parts.length === 0) return [];
    const now = this.clock.now();
    // Distinct per claim, so a lost claim's rows are told from those of the claims before it.
    const leaseUntil = new Date(Math.max(now.getTime() + leaseMs, this.lastLeaseEnd + 1));
    this.lastLeaseEnd = leaseUntil.getTime();
    const kinds = [
      // A revoke recorded while provisioning, left undone by a replica that died after activating.
      `state = 'active' AND revoke_requested_at IS NOT NULL ORDER BY revoke_requested_at`,
      // Not those of the branch above: UNION ALL would return such a grant twice and the LIMIT
      // count it twice, so a full claim took fewer rows than it said (IDX_grants_due still serves it).
      `state = 'active' AND expires_at <= $1 AND revoke_requested_at IS NULL ORDER BY expires_at`,
      `state IN ('revoking','revoke_failed') AND next_attempt_at <= $1 ORDER BY next_attempt_at`,
      `state = 'provisioning' ORDER BY lease_until NULLS FIRST`,
      `state = 'pending_approval' AND approval_deadline <= $1 ORDER BY approval_deadline`,
    ];
    const params: unknown[] = [now, owner, leaseUntil];
    const due = parts
      .map(({ cloud, limit }, p) => {
        params.push(limit);
        const limitParam = `$${params.length}`;
        let cloudCondition = '';
        if (cloud) {
          params.push(cloud);
          cloudCondition = ` AND cloud = $${params.length}`;
        }
        // (A locking clause is not allowed on a UNION's own branches: each is a subquery of its branch.)
        const branches = kinds
          .map((condition, k) => `SELECT id FROM (SELECT id FROM grants
             WHERE (lease_until IS NULL OR lease_until <= $1)${cloudCondition} AND ${condition}
             LIMIT ${limitParam} FOR UPDATE SKIP LOCKED) AS p${p}k${k}`)
          .join(' UNION ALL ');
        return `(SELECT id FROM (${branches}) AS p${p} LIMIT ${limitParam})`;
      })
      .join(' UNION ALL ');
    // A named statement, so PostgreSQL plans it once per connection rather than every cycle (about
    // 2 ms for three clouds' fifteen branches): its text depends only on the parts' clouds, which
    // the name spells out. Its columns are named, not `*` (GRANT_COLUMN_NAMES).
    const { rows } = await pgPool(this.db)
      .query<GrantRow>({
        name: `jit_claim_due_${parts.map((p) => p.cloud ?? 'any').join('_')}`,
        text: `UPDATE grants SET lease_owner = $2, lease_until = $3
       WHERE id IN (${due})
       RETURNING ${grantColumns()}`,
        values: params,
      })
      .catch((e: unknown) => this.lost(leaseUntil, e));
    return rows.map(toGrant);
  }

  async releaseOwnLeases(): Promise<number> {
    const [, count]: [unknown[], number] = await this.db.query(
      `UPDATE grants SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 RETURNING id`,
      [this.owner],
    );
    await this.db.query(`UPDATE broker_jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1`, [this.owner]);
    return count;
  }

  async releaseClaims(ids: readonly string[]): Promise<number> {
    // Claims whose answer was lost are released with the rows named (see claimDue).
    const lost = [...this.unanswered];
    if (ids.length === 0 && lost.length === 0) return 0;
    const [, count]: [unknown[], number] = await this.db.query(
      `UPDATE grants SET lease_owner = NULL, lease_until = NULL
       WHERE lease_owner = $2 AND (id = ANY($1::uuid[]) OR lease_until = ANY($3::timestamptz[])) RETURNING id`,
      [ids, this.owner, lost],
    );
    for (const at of lost) this.unanswered.delete(at);
    return count;
  }

  /**
   * A claim statement failed: whether it took rows is unknown (the database may have committed
   * it and then gone away).
   * Either way they carry this claim's `lease_until`, which releaseClaims hands back.
   */
  private lost(leaseUntil: Date, error: unknown): never {
    this.unanswered.add(leaseUntil);
    throw error;
  }

  async nextDueAt(after: Date, horizonMs: number): Promise<Date | null> {
    const now = after;
    // One branch per kind of work claimDue takes, each on its partial index, plus the leases
    // that hold a row back (a claim in flight, a provisioning retry, a dead replica's claim).
    // Named, as the claim: about 2 ms to plan, once per connection instead of once per cycle.
    const { rows } = await pgPool(this.db).query<{ at: Date | null }>({
      name: 'jit_next_due_at',
      text: `SELECT min(at) AS at FROM (
         SELECT min(expires_at) AS at FROM grants WHERE state = 'active' AND expires_at > $1 AND expires_at <= $2
         UNION ALL
         SELECT min(next_attempt_at) FROM grants WHERE state IN ('revoking','revoke_failed') AND next_attempt_at > $1 AND next_attempt_at <= $2
         UNION ALL
         SELECT min(approval_deadline) FROM grants WHERE state = 'pending_approval' AND approval_deadline > $1 AND approval_deadline <= $2
         UNION ALL
         SELECT min(lease_until) FROM grants WHERE lease_until IS NOT NULL AND lease_until > $1 AND lease_until <= $2
       ) due`,
      values: [now, new Date(now.getTime() + horizonMs)],
    });
    return rows[0]?.at ?? null;
  }

  async claimJob(name: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const [rows]: [unknown[], number] = await this.db.query(
      `UPDATE broker_jobs SET lease_owner = $2, lease_until = $3, last_run_at = $4
       WHERE name = $1 AND (lease_until IS NULL OR lease_until <= $4) RETURNING name`,
      [name, this.owner, new Date(now.getTime() + leaseMs), now],
    );
    return rows.length === 1;
  }
}
