import { DataSource } from 'typeorm';
import { AuditCheckpoint, AuditCheckpointStore } from '@jit/domain';

interface CheckpointRow {
  seq: string;
  hash: string;
  signed_at: Date;
  key_id: string;
  signature: string;
}

const toCheckpoint = (r: CheckpointRow): AuditCheckpoint => ({
  seq: Number(r.seq),
  hash: r.hash,
  signedAt: new Date(r.signed_at),
  keyId: r.key_id,
  signature: r.signature,
});

/** Signed audit checkpoints on PostgreSQL (or the embedded PGlite), beside the chain they sign. */
export class PostgresAuditCheckpointStore extends AuditCheckpointStore {
  constructor(private readonly db: DataSource) {
    super();
  }

  async add(c: AuditCheckpoint): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (seq) DO NOTHING RETURNING seq`,
      [c.seq, c.hash, c.signedAt, c.keyId, c.signature],
    );
    return rows.length === 1;
  }

  async latest(): Promise<AuditCheckpoint | null> {
    const [row]: CheckpointRow[] = await this.db.query(`SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`);
    return row ? toCheckpoint(row) : null;
  }

  async list(afterSeq: number, limit: number): Promise<AuditCheckpoint[]> {
    const rows: CheckpointRow[] = await this.db.query(`SELECT * FROM audit_checkpoints WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit]);
    return rows.map(toCheckpoint);
  }

  async unpublished(sink: string, limit: number): Promise<AuditCheckpoint[]> {
    const rows: CheckpointRow[] = await this.db.query(
      `SELECT * FROM audit_checkpoints WHERE published -> $1::text IS NULL ORDER BY seq LIMIT $2`,
      [sink, limit],
    );
    return rows.map(toCheckpoint);
  }

  async markPublished(seq: number, sink: string, at: Date): Promise<void> {
    await this.db.query(`UPDATE audit_checkpoints SET published = published || jsonb_build_object($2::text, $3::text) WHERE seq = $1`, [
      seq,
      sink,
      at.toISOString(),
    ]);
  }
}
