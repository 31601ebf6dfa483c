import { DataSource } from 'typeorm';
import { AuditEvent, Clock, CursorOutcome, NotificationCursorStore } from '@jit/domain';
import { AuditRow, toAuditEvent } from '../mappers/audit-row.mapper';

/** Notification cursors on PostgreSQL (or the embedded PGlite), beside the audit log they read. */
export class PostgresNotificationCursorStore extends NotificationCursorStore {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {
    super();
  }

  async claim(webhook: string, owner: string, leaseMs: number, startAt: 'end' | 'start' = 'end'): Promise<number | null> {
    const now = this.clock.now();
    // A conflicting row is updated only when its lease is free, lapsed or already ours; otherwise
    // RETURNING yields nothing. A new row starts at the end of the log (no backfill) or, for
    // `start`, before the first event still stored (an archived prefix is not there to send).
    const first = startAt === 'start' ? `(SELECT coalesce(min(seq) - 1, 0) FROM audit_events)` : `(SELECT coalesce(max(seq), 0) FROM audit_events)`;
    const rows: { last_seq: string }[] = await this.db.query(
      `INSERT INTO notification_cursors AS c (webhook, last_seq, lease_owner, lease_until, updated_at)
       VALUES ($1, ${first}, $2, $3, $4)
       ON CONFLICT (webhook) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until
       WHERE c.lease_until IS NULL OR c.lease_until < $4 OR c.lease_owner = $2
       RETURNING c.last_seq`,
      [webhook, owner, new Date(now.getTime() + leaseMs), now],
    );
    return rows[0] ? Number(rows[0].last_seq) : null;
  }

  async advance(webhook: string, owner: string, seq: number, outcome: CursorOutcome, count = 1): Promise<void> {
    await this.db.query(
      `UPDATE notification_cursors
       SET last_seq = $3, delivered = delivered + $4, failed = failed + $5, updated_at = $6
       WHERE webhook = $1 AND lease_owner = $2 AND last_seq < $3`,
      [webhook, owner, seq, outcome === 'delivered' ? count : 0, outcome === 'failed' ? count : 0, this.clock.now()],
    );
  }

  async release(webhook: string, owner: string): Promise<void> {
    await this.db.query(
      `UPDATE notification_cursors SET lease_owner = NULL, lease_until = NULL WHERE webhook = $1 AND lease_owner = $2`,
      [webhook, owner],
    );
  }

  async eventsAfter(seq: number, types: readonly string[], limit: number): Promise<AuditEvent[]> {
    const rows: AuditRow[] = await this.db.query(
      `SELECT * FROM audit_events WHERE seq > $1 AND type = ANY($2) ORDER BY seq LIMIT $3`,
      [seq, [...types], limit],
    );
    return rows.map(toAuditEvent);
  }
}
