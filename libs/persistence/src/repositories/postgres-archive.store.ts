import { DataSource } from 'typeorm';
import { AuditCheckpoint, TERMINAL_STATES } from '@jit/domain';

/** One archived segment, as `audit_archives` records it. */
export interface ArchiveRecord {
  fromSeq: number;
  throughSeq: number;
  throughHash: string;
  events: number;
  grants: number;
  location: string;
  archivedAt: Date;
}

/**
 * What archival reads and removes (docs/audit.md, "Archival"): ended grants older than a
 * retention, and the audit events up to a signed checkpoint. Writing the archive files is the
 * caller's; these only remove what it has written.
 */
export class PostgresArchiveStore {
  constructor(private readonly db: DataSource) {}

  /** The lowest `seq` still stored, or null when no event is. */
  async firstSeq(): Promise<number | null> {
    const [row] = await this.db.query(`SELECT seq FROM audit_events ORDER BY seq LIMIT 1`);
    return row ? Number(row.seq) : null;
  }

  /**
   * Ended grants that ended (or, for those never started, last changed) before `cutoff`, as their
   * stored rows (JSON), keyset-paged by id.
   */
  async endedGrants(cutoff: Date, afterId: string | null, limit: number): Promise<{ id: string; row: Record<string, unknown> }[]> {
    const rows: { id: string; row: Record<string, unknown> }[] = await this.db.query(
      `SELECT g.id, row_to_json(g) AS row FROM grants g
       WHERE g.state = ANY($1) AND coalesce(g.ended_at, g.updated_at) < $2 AND ($3::uuid IS NULL OR g.id > $3)
       ORDER BY g.id LIMIT $4`,
      [TERMINAL_STATES, cutoff, afterId, limit],
    );
    return rows;
  }

  /** Removes the given grants if they are still ended; returns how many went. */
  async removeGrants(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [, removed]: [unknown, number] = await this.db.query(`DELETE FROM grants WHERE id = ANY($1) AND state = ANY($2)`, [ids, TERMINAL_STATES]);
    return removed;
  }

  /**
   * Removes every event up to `through` (a signed checkpoint, which stays as the chain's new
   * anchor) and records the segment, in one transaction that names the checkpoint to the
   * append-only trigger. Refuses when the stored event at `through` does not have its hash.
   */
  async removeEventsThrough(through: AuditCheckpoint, record: Omit<ArchiveRecord, 'throughSeq' | 'throughHash'>): Promise<number> {
    return this.db.transaction(async (m) => {
      const [at] = await m.query(`SELECT hash FROM audit_events WHERE seq = $1`, [through.seq]);
      if (!at || at.hash !== through.hash) throw new Error(`event ${through.seq} does not have the checkpoint's hash: nothing removed`);
      await m.query(`SELECT set_config('jit.audit_archive_through', $1, true)`, [String(through.seq)]);
      const [, removed]: [unknown, number] = await m.query(`DELETE FROM audit_events WHERE seq <= $1`, [through.seq]);
      await m.query(`SELECT set_config('jit.audit_archive_through', '', true)`);
      await m.query(
        `INSERT INTO audit_archives (through_seq, through_hash, from_seq, events, grants, location, archived_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [through.seq, through.hash, record.fromSeq, record.events, record.grants, record.location, record.archivedAt],
      );
      return removed;
    });
  }

  async archives(): Promise<ArchiveRecord[]> {
    const rows: Record<string, string | Date>[] = await this.db.query(`SELECT * FROM audit_archives ORDER BY through_seq`);
    return rows.map((r) => ({
      fromSeq: Number(r.from_seq),
      throughSeq: Number(r.through_seq),
      throughHash: r.through_hash as string,
      events: Number(r.events),
      grants: Number(r.grants),
      location: r.location as string,
      archivedAt: new Date(r.archived_at),
    }));
  }
}
