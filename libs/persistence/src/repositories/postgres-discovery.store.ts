import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import {
  CloudName,
  DiscoveryFinding,
  DiscoveryFindingEvent,
  DiscoveryFindingFilter,
  DiscoveryScan,
  DiscoveryScanPart,
  DiscoveryStore,
  DiscoverySummaryRow,
  ELIGIBLE_ACCESS_TYPES,
  FindingStatus,
  JudgedAssignment,
  StagedAuditEvent,
  StandingAssignment,
  StandingRemovalState,
  StoredRemoval,
  toWellFormedDeep,
} from '@jit/domain';
import { SqlConditions } from '../sql-conditions';
import { stageAuditEvents } from './postgres-audit-chainer';

interface ScanRow {
  id: string;
  state: DiscoveryScan['state'];
  trigger: DiscoveryScan['trigger'];
  requested_by: string;
  created_at: Date;
  finished_at: Date | null;
  clouds: DiscoveryScan['clouds'];
}

interface PartRow {
  cloud: CloudName;
  part: string;
  cursor: string | null;
  state: DiscoveryScanPart['state'];
  pages: number;
  assignments: number;
  errors: number;
  last_error: string | null;
  updated_at: Date;
}

interface FindingRow {
  id: string;
  cloud: CloudName;
  key: string;
  privileged: boolean;
  reasons: string[];
  status: FindingStatus;
  first_seen_at: Date;
  last_seen_at: Date;
  resolved_at: Date | null;
  assignment: StandingAssignmentJson;
}

/** The assignment as stored (JSON): dates as strings. */
type StandingAssignmentJson = Omit<StandingAssignment, 'since' | 'lastUsedAt'> & { since: string | null; lastUsedAt: string | null };

interface RemovalRow {
  id: string;
  finding_id: string;
  state: StandingRemovalState;
  requested_by: string;
  justification: string;
  origin: string;
  created_at: Date;
  updated_at: Date;
  last_error: string | null;
  approvals: { by: string; at: string; comment: string | null }[];
  required: number;
  assignment: StandingAssignmentJson;
  decided_by: string | null;
  applied_at: Date | null;
  restored_at: Date | null;
}

const date = (v: string | null): Date | null => (v === null ? null : new Date(v));

function toAssignment(a: StandingAssignmentJson): StandingAssignment {
  return { ...a, since: date(a.since), lastUsedAt: date(a.lastUsedAt) };
}

function toFinding(r: FindingRow): DiscoveryFinding {
  const { brokerOwned: _b, ...assignment } = toAssignment(r.assignment);
  return {
    ...assignment,
    id: r.id,
    privileged: r.privileged,
    reasons: r.reasons,
    status: r.status,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    resolvedAt: r.resolved_at,
  };
}

function toRemoval(r: RemovalRow): StoredRemoval {
  return {
    id: r.id,
    findingId: r.finding_id,
    state: r.state,
    requestedBy: r.requested_by,
    justification: r.justification,
    origin: r.origin,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastError: r.last_error,
    approvals: r.approvals.map((a) => ({ by: a.by, at: new Date(a.at), comment: a.comment })),
    required: r.required,
    assignment: toAssignment(r.assignment),
    decidedBy: r.decided_by,
    appliedAt: r.applied_at,
    restoredAt: r.restored_at,
  };
}

/** A glob (`*`, `?`) as a LIKE pattern, its own `%`, `_` and `\` escaped. */
function likePattern(glob: string): string {
  return glob.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%').replace(/\?/g, '_');
}

const DAY_MS = 86_400_000;
/** A finding whose usage period (`$N` days or more) saw nothing used and no last use: unused for N days (GCP's policy insights). */
const UNUSED_IN_PERIOD =
  `(last_used_at IS NULL AND assignment->'usage'->'used' = '[]'::jsonb AND jsonb_typeof(assignment->'usage'->'periodDays') = 'number' ` +
  `AND (assignment->'usage'->>'periodDays')::numeric >= $N)`;
/**
 * "Never used" as far as N days go: a cloud that says never used within a tracking period shorter
 * than N days (GCP's insights cover at most 90) does not know about the days before it.
 */
const NEVER_USED_FOR =
  `(never_used AND NOT coalesce(jsonb_typeof(assignment->'usage'->'periodDays') = 'number' AND (assignment->'usage'->>'periodDays')::numeric < $N, false))`;

/** Discovery's scans, findings and removals on PostgreSQL (or the embedded PGlite). */
export class PostgresDiscoveryStore extends DiscoveryStore {
  constructor(private readonly db: DataSource) {
    super();
  }

  async createScan(scan: { id: string; trigger: 'manual' | 'schedule'; requestedBy: string; now: Date }): Promise<DiscoveryScan | null> {
    // The partial unique index lets one scan run at a time: a second insert while one runs does nothing.
    const rows: ScanRow[] = await this.db.query(
      `INSERT INTO discovery_scans (id, state, trigger, requested_by, created_at) VALUES ($1, 'running', $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING *`,
      [scan.id, scan.trigger, scan.requestedBy, scan.now],
    );
    return rows[0] ? { ...this.toScan(rows[0]), parts: [] } : null;
  }

  private toScan(r: ScanRow): Omit<DiscoveryScan, 'parts'> {
    return { id: r.id, state: r.state, trigger: r.trigger, requestedBy: r.requested_by, createdAt: r.created_at, finishedAt: r.finished_at, clouds: r.clouds };
  }

  private async withParts(row: ScanRow | undefined, m: EntityManager | DataSource = this.db): Promise<DiscoveryScan | null> {
    if (!row) return null;
    const parts: PartRow[] = await m.query(`SELECT * FROM discovery_scan_parts WHERE scan_id = $1 ORDER BY position`, [row.id]);
    return {
      ...this.toScan(row),
      parts: parts.map((p) => ({
        cloud: p.cloud,
        part: p.part,
        cursor: p.cursor,
        state: p.state,
        pages: p.pages,
        assignments: p.assignments,
        errors: p.errors,
        lastError: p.last_error,
        updatedAt: p.updated_at,
      })),
    };
  }

  async getScan(id: string): Promise<DiscoveryScan | null> {
    const rows: ScanRow[] = await this.db.query(`SELECT * FROM discovery_scans WHERE id = $1`, [id]);
    return this.withParts(rows[0]);
  }

  async runningScan(): Promise<DiscoveryScan | null> {
    const rows: ScanRow[] = await this.db.query(`SELECT * FROM discovery_scans WHERE state = 'running' ORDER BY created_at LIMIT 1`);
    return this.withParts(rows[0]);
  }

  async latestScan(): Promise<DiscoveryScan | null> {
    const rows: ScanRow[] = await this.db.query(`SELECT * FROM discovery_scans ORDER BY created_at DESC, id DESC LIMIT 1`);
    return this.withParts(rows[0]);
  }

  async claimLease(name: string, owner: string, ms: number, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO discovery_leases AS l (name, owner, lease_until) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
       WHERE l.owner = $2 OR l.lease_until < $4
       RETURNING name`,
      [name, owner, new Date(now.getTime() + ms), now],
    );
    return rows.length === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.db.query(`DELETE FROM discovery_leases WHERE name = $1 AND owner = $2`, [name, owner]);
  }

  async setParts(scanId: string, cloud: CloudName, outcome: { parts: string[] } | { error: string }, now: Date): Promise<void> {
    await this.db.transaction(async (m) => {
      const entry = 'parts' in outcome ? { cloud, listed: true, error: null } : { cloud, listed: false, error: outcome.error };
      await m.query(
        `UPDATE discovery_scans SET clouds = (SELECT coalesce(jsonb_agg(c), '[]') FROM jsonb_array_elements(clouds) c WHERE c->>'cloud' <> $2) || $3::jsonb WHERE id = $1`,
        [scanId, cloud, JSON.stringify([toWellFormedDeep(entry)])],
      );
      if (!('parts' in outcome)) return;
      const [{ n }]: { n: number }[] = await m.query(`SELECT count(*)::int AS n FROM discovery_scan_parts WHERE scan_id = $1`, [scanId]);
      let position = n;
      for (const part of [...new Set(outcome.parts)]) {
        await m.query(
          `INSERT INTO discovery_scan_parts (scan_id, cloud, part, state, position, updated_at) VALUES ($1, $2, $3, 'pending', $4, $5) ON CONFLICT DO NOTHING`,
          [scanId, cloud, part, position++, now],
        );
      }
    });
  }

  async savePage(scanId: string, cloud: CloudName, part: string, judged: JudgedAssignment[], cursor: string | null, now: Date): Promise<void> {
    // The last listing of a key in the page wins.
    const byKey = new Map(judged.map((j) => [j.assignment.key, j]));
    await this.db.transaction(async (m) => {
      const keys = [...byKey.keys()];
      const existing: { id: string; key: string; status: FindingStatus; privileged: boolean; reasons: string[] }[] = keys.length
        ? await m.query(`SELECT id, key, status, privileged, reasons FROM discovery_findings WHERE cloud = $1 AND key = ANY($2) FOR UPDATE`, [cloud, keys])
        : [];
      const known = new Map(existing.map((e) => [e.key, e]));
      const history: { findingId: string; change: string; detail: Record<string, unknown> }[] = [];
      for (const [key, j] of byKey) {
        const a = toWellFormedDeep(j.assignment);
        const values = [
          cloud,
          key,
          part,
          a.principal.id,
          a.principal.kind,
          a.principal.human,
          a.scope,
          a.access.type,
          a.access.name,
          j.privileged,
          JSON.stringify(j.reasons),
          now,
          scanId,
          a.lastUsedAt,
          a.neverUsed ?? false,
          JSON.stringify(a),
        ];
        const before = known.get(key);
        if (!before) {
          const id = randomUUID();
          await m.query(
            `INSERT INTO discovery_findings (id, cloud, key, part, principal_id, principal_kind, human, scope, access_type, access_name, privileged, reasons,
               status, first_seen_at, last_seen_at, last_scan_id, last_used_at, never_used, assignment)
             VALUES ($17, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, $12, $13, $14, $15, $16)`,
            [...values, id],
          );
          history.push({ findingId: id, change: 'opened', detail: { privileged: j.privileged, reasons: j.reasons } });
          continue;
        }
        await m.query(
          `UPDATE discovery_findings SET part = $3, principal_id = $4, principal_kind = $5, human = $6, scope = $7, access_type = $8, access_name = $9,
             privileged = $10, reasons = $11, status = 'open', resolved_at = NULL, last_seen_at = $12, last_scan_id = $13, last_used_at = $14,
             never_used = $15, assignment = $16
           WHERE cloud = $1 AND key = $2`,
          values,
        );
        if (before.status !== 'open') history.push({ findingId: before.id, change: 'reopened', detail: { was: before.status } });
        else if (before.privileged !== j.privileged || JSON.stringify(before.reasons) !== JSON.stringify(j.reasons)) {
          history.push({ findingId: before.id, change: 'changed', detail: { privileged: j.privileged, reasons: j.reasons, was: { privileged: before.privileged, reasons: before.reasons } } });
        }
      }
      if (cursor === null) {
        // The part is done: what it held before and no longer lists is gone from the cloud.
        // TypeORM answers an UPDATE with [rows, count].
        const [gone]: [{ id: string }[], number] = await m.query(
          `UPDATE discovery_findings SET status = 'resolved', resolved_at = $4
           WHERE cloud = $1 AND part = $2 AND status = 'open' AND last_scan_id IS DISTINCT FROM $3 RETURNING id`,
          [cloud, part, scanId, now],
        );
        for (const g of gone) history.push({ findingId: g.id, change: 'resolved', detail: {} });
      }
      for (const h of history) {
        await m.query(`INSERT INTO discovery_finding_history (finding_id, at, change, scan_id, detail) VALUES ($1, $2, $3, $4, $5)`, [
          h.findingId,
          now,
          h.change,
          scanId,
          JSON.stringify(h.detail),
        ]);
      }
      await m.query(
        `UPDATE discovery_scan_parts SET cursor = $4, state = CASE WHEN $4::text IS NULL THEN 'done' ELSE 'pending' END,
           pages = pages + 1, assignments = assignments + $5, updated_at = $6
         WHERE scan_id = $1 AND cloud = $2 AND part = $3`,
        [scanId, cloud, part, cursor, judged.length, now],
      );
    });
  }

  async failPart(scanId: string, cloud: CloudName, part: string, error: string, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE discovery_scan_parts SET state = 'failed', errors = errors + 1, last_error = $4, updated_at = $5 WHERE scan_id = $1 AND cloud = $2 AND part = $3`,
      [scanId, cloud, part, toWellFormedDeep(error), now],
    );
  }

  async finishScan(scanId: string, state: 'completed' | 'failed', now: Date, events: readonly StagedAuditEvent[]): Promise<DiscoveryScan | null> {
    return this.db.transaction(async (m) => {
      const [rows]: [ScanRow[], number] = await m.query(`UPDATE discovery_scans SET state = $2, finished_at = $3 WHERE id = $1 AND state = 'running' RETURNING *`, [scanId, state, now]);
      if (rows[0]) await stageAuditEvents(m, events);
      return this.withParts(rows[0], m);
    });
  }

  async getFinding(id: string): Promise<DiscoveryFinding | null> {
    const rows: FindingRow[] = await this.db.query(`SELECT * FROM discovery_findings WHERE id = $1`, [id]);
    return rows[0] ? toFinding(rows[0]) : null;
  }

  async listFindings(filter: DiscoveryFindingFilter, page: { after?: string; limit: number }, now: Date): Promise<DiscoveryFinding[]> {
    const c = new SqlConditions()
      .addIf('cloud = ?', filter.cloud)
      .addIf('privileged = ?', filter.privileged)
      .addIf('status = ?', filter.status)
      .addIf('principal_kind = ?', filter.principalKind)
      .addIf('human = ?', filter.human)
      .addIf(`scope ILIKE ? ESCAPE '\\'`, filter.scope === undefined ? undefined : likePattern(filter.scope))
      .addIf(`access_name ILIKE ? ESCAPE '\\'`, filter.access === undefined ? undefined : likePattern(filter.access))
      .addIf('id > ?', page.after);
    if (filter.unusedForDays !== undefined) {
      // Unused for N days: never used, last used before, or nothing used in a usage period of at least N days (GCP's insights).
      const days = c.param(filter.unusedForDays);
      c.add(`(${NEVER_USED_FOR.replace('$N', () => days)} OR last_used_at < ? OR ${UNUSED_IN_PERIOD.replace('$N', () => days)})`, new Date(now.getTime() - filter.unusedForDays * DAY_MS));
    }
    const rows: FindingRow[] = await this.db.query(`SELECT * FROM discovery_findings ${c.clause()} ORDER BY id LIMIT ${c.param(page.limit)}`, c.params);
    return rows.map(toFinding);
  }

  async findingHistory(id: string): Promise<DiscoveryFindingEvent[]> {
    const rows: { finding_id: string; at: Date; change: string; scan_id: string | null; detail: Record<string, unknown> }[] = await this.db.query(
      `SELECT * FROM discovery_finding_history WHERE finding_id = $1 ORDER BY id`,
      [id],
    );
    return rows.map((r) => ({ findingId: r.finding_id, at: r.at, change: r.change, scanId: r.scan_id, detail: r.detail }));
  }

  async summary(unusedForDays: number, now: Date): Promise<DiscoverySummaryRow[]> {
    // Standing privilege is held access: eligibility (PIM) to a privileged role is counted apart.
    const held = `privileged AND NOT (access_type = ANY($3::text[]))`;
    const rows: { cloud: CloudName; open: number; privileged: number; unused: number; humans: number; workloads: number; unknown: number; eligible: number }[] = await this.db.query(
      `SELECT cloud, count(*)::int AS open,
         count(*) FILTER (WHERE ${held})::int AS privileged,
         count(*) FILTER (WHERE ${held} AND (${NEVER_USED_FOR.replace('$N', () => '$2')} OR last_used_at < $1 OR ${UNUSED_IN_PERIOD.replace('$N', () => '$2')}))::int AS unused,
         count(*) FILTER (WHERE ${held} AND human IS TRUE)::int AS humans,
         count(*) FILTER (WHERE ${held} AND human IS FALSE)::int AS workloads,
         count(*) FILTER (WHERE ${held} AND human IS NULL)::int AS unknown,
         count(*) FILTER (WHERE privileged AND access_type = ANY($3::text[]))::int AS eligible
       FROM discovery_findings WHERE status = 'open' GROUP BY cloud ORDER BY cloud`,
      [new Date(now.getTime() - unusedForDays * DAY_MS), unusedForDays, [...ELIGIBLE_ACCESS_TYPES]],
    );
    return rows.map((r) => ({
      cloud: r.cloud,
      open: r.open,
      privileged: r.privileged,
      privilegedUnused: r.unused,
      privilegedHumans: r.humans,
      privilegedWorkloads: r.workloads,
      privilegedUnknown: r.unknown,
      eligiblePrivileged: r.eligible,
    }));
  }

  async insertRemoval(removal: StoredRemoval, events: readonly StagedAuditEvent[]): Promise<StoredRemoval | null> {
    return this.db.transaction(async (m) => {
      const r = toWellFormedDeep(removal);
      const rows: RemovalRow[] = await m.query(
        `INSERT INTO discovery_removals (id, finding_id, state, requested_by, justification, origin, created_at, updated_at, approvals, required, assignment)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, '[]', $8, $9)
         ON CONFLICT DO NOTHING RETURNING *`,
        [r.id, r.findingId, r.state, r.requestedBy, r.justification, r.origin, removal.createdAt, r.required, JSON.stringify(r.assignment)],
      );
      if (!rows[0]) return null;
      await stageAuditEvents(m, events);
      return toRemoval(rows[0]);
    });
  }

  async getRemoval(id: string): Promise<StoredRemoval | null> {
    const rows: RemovalRow[] = await this.db.query(`SELECT * FROM discovery_removals WHERE id = $1`, [id]);
    return rows[0] ? toRemoval(rows[0]) : null;
  }

  async removalsOf(findingId: string): Promise<StoredRemoval[]> {
    const rows: RemovalRow[] = await this.db.query(`SELECT * FROM discovery_removals WHERE finding_id = $1 ORDER BY created_at DESC, id`, [findingId]);
    return rows.map(toRemoval);
  }

  async transitionRemoval(
    id: string,
    from: StandingRemovalState,
    to: StandingRemovalState,
    patch: Partial<Pick<StoredRemoval, 'approvals' | 'decidedBy' | 'lastError' | 'appliedAt' | 'restoredAt'>> & { now: Date; approvalCount?: number },
    events: readonly StagedAuditEvent[],
  ): Promise<StoredRemoval | null> {
    return this.db.transaction(async (m) => {
      const c = new SqlConditions().add('id = ?', id).add('state = ?', from);
      if (patch.approvalCount !== undefined) c.add('jsonb_array_length(approvals) = ?', patch.approvalCount);
      const set = [`state = ${c.param(to)}`, `updated_at = ${c.param(patch.now)}`];
      if (patch.approvals) set.push(`approvals = ${c.param(JSON.stringify(toWellFormedDeep(patch.approvals)))}`);
      if (patch.decidedBy !== undefined) set.push(`decided_by = ${c.param(patch.decidedBy)}`);
      if (patch.lastError !== undefined) set.push(`last_error = ${c.param(patch.lastError === null ? null : toWellFormedDeep(patch.lastError))}`);
      if (patch.appliedAt !== undefined) set.push(`applied_at = ${c.param(patch.appliedAt)}`);
      if (patch.restoredAt !== undefined) set.push(`restored_at = ${c.param(patch.restoredAt)}`);
      const [rows]: [RemovalRow[], number] = await m.query(`UPDATE discovery_removals SET ${set.join(', ')} ${c.clause()} RETURNING *`, c.params);
      const row = rows[0];
      if (!row) return null;
      const mark = to === 'applied' ? { status: 'removed', resolvedAt: patch.now, change: 'removed' } : to === 'restored' ? { status: 'open', resolvedAt: null, change: 'restored' } : null;
      if (mark) {
        await m.query(`UPDATE discovery_findings SET status = $2, resolved_at = $3 WHERE id = $1`, [row.finding_id, mark.status, mark.resolvedAt]);
        await m.query(`INSERT INTO discovery_finding_history (finding_id, at, change, detail) VALUES ($1, $2, $3, $4)`, [
          row.finding_id,
          patch.now,
          mark.change,
          JSON.stringify({ removalId: row.id }),
        ]);
      }
      await stageAuditEvents(m, events);
      return toRemoval(row);
    });
  }
}
