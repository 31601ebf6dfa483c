import { DataSource, EntityManager } from 'typeorm';
import { AuditChainStore, AuditChainWrites, AuditEvent, AuditFilter, AuditHead, LinkStagedEvents, Page, StagedAuditEvent } from '@jit/domain';
import { decodeCursor, encodeCursor } from '../cursor';
import { SqlConditions } from '../sql-conditions';
import { AuditRow, toAuditEvent } from '../mappers/audit-row.mapper';
import { chainStagedEvents, countStagedEvents, stageAuditEvents } from './postgres-audit-chainer';

type AuditCursor = { s: number };

/**
 * How far an event's `occurred_at` may sit from its place in `seq` order: the time is taken in the
 * transaction that writes the event and the order is the chain's, so the two differ by a
 * transaction's length plus the clock skew between replicas (milliseconds to seconds). Time-bounded
 * reads narrow their `seq` range with it (see `queryAudit`); an hour is far beyond either.
 */
const OCCURRED_AT_SLACK = `interval '1 hour'`;
const isAuditCursor = (v: unknown): v is AuditCursor =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as AuditCursor).s) && (v as AuditCursor).s >= 0;

/** The hash-chained audit log's rows on PostgreSQL (or the embedded PGlite): the reads, and chaining staged events. */
export class PostgresAuditChainStore extends AuditChainStore {
  constructor(private readonly db: DataSource) {
    super();
  }

  async list(filter: AuditFilter, limit: number, cursor: string | null): Promise<Page<AuditEvent>> {
    const after = cursor ? decodeCursor(cursor, isAuditCursor).s : 0;
    const events = await this.queryAudit(filter, after, limit + 1);
    const items = events.slice(0, limit);
    return {
      items,
      nextCursor: events.length > limit ? encodeCursor({ s: items[items.length - 1].seq }) : null,
    };
  }

  /** Keyset pages of at most `pageSize` (`seq > last`): one short query each, no connection or snapshot held between pages. */
  async *stream(filter: AuditFilter, pageSize: number): AsyncIterable<AuditEvent[]> {
    let after = 0;
    for (;;) {
      const page = await this.queryAudit(filter, after, pageSize);
      if (page.length === 0) return;
      // Read before the page is handed out: the caller may empty it once it has used it.
      const last = page.length < pageSize;
      after = page[page.length - 1].seq;
      yield page;
      if (last) return;
    }
  }

  async head(): Promise<AuditHead> {
    const [row] = await this.db.query(`SELECT seq, hash FROM audit_chain_head WHERE id = 1`);
    return { seq: Number(row.seq), hash: row.hash };
  }

  async maxSeq(): Promise<number> {
    const [row] = await this.db.query(`SELECT coalesce(max(seq), 0) AS seq FROM audit_events`);
    return Number(row.seq);
  }

  chainStaged(link: LinkStagedEvents, limit: number): Promise<number> {
    return chainStagedEvents(this.db, link, limit);
  }

  stagedCount(): Promise<number> {
    return countStagedEvents(this.db);
  }

  private async queryAudit(filter: AuditFilter, afterSeq: number, limit: number): Promise<AuditEvent[]> {
    const q = new SqlConditions()
      .add('seq > ?', Math.max(afterSeq, filter.afterSeq ?? 0))
      .addIf('grant_id = ?', filter.grantId)
      .addIf('cloud = ?', filter.cloud)
      .addIf('principal = ?', filter.principal)
      .addIf('actor = ?', filter.actor)
      .addIf('type = ?', filter.type)
      .addIf('occurred_at >= ?', filter.from)
      .addIf('occurred_at < ?', filter.to);
    // A time window alone walked the primary key from seq 1, filtering every event before the window
    // (460,000 rows, 0.7-1.4 s at 1M events). Two probes of IDX_audit_occurredAt bound its seq range:
    // an event more than the slack before `from` precedes every event in the window, one more than
    // the slack after `to` follows them all (occurred_at follows seq to within OCCURRED_AT_SLACK).
    if (filter.from) {
      q.where.push(
        `seq > coalesce((SELECT seq FROM audit_events WHERE occurred_at < ${q.param(filter.from)}::timestamptz - ${OCCURRED_AT_SLACK}
          ORDER BY occurred_at DESC, seq DESC LIMIT 1), 0)`,
      );
    }
    if (filter.to) {
      q.where.push(
        `seq < coalesce((SELECT seq FROM audit_events WHERE occurred_at >= ${q.param(filter.to)}::timestamptz + ${OCCURRED_AT_SLACK}
          ORDER BY occurred_at, seq LIMIT 1), 9223372036854775807)`,
      );
    }
    const rows: AuditRow[] = await this.db.query(
      `SELECT * FROM audit_events ${q.clause()} ORDER BY seq LIMIT ${q.param(limit)}`,
      q.params,
    );
    const events = rows.map(toAuditEvent);
    // The driver's row array is emptied once mapped. Measured (--trace-gc) with the raw pg client as
    // with TypeORM: left as it was, about 30 % of what a page read allocated survived two scavenges
    // whatever the page size (100 or 10,000 rows), as if an object already in the old generation (in
    // the driver's query plumbing; not pinned down) still pointed at the array, so the export of 1M
    // events promoted about 1 GB of rows and the old generation grew to 200+ MB between full
    // collections. Emptied, promotion fell to about 15 KB per scavenge (docs/benchmarks.md, "Audit export").
    rows.length = 0;
    return events;
  }
}

/** The chain's rows in one transaction (`m`), for `PostgresUnitOfWork`: events are staged, and chained after the commit. */
export class PostgresAuditChainWrites implements AuditChainWrites {
  constructor(private readonly m: EntityManager) {}

  stage(events: readonly StagedAuditEvent[]): Promise<void> {
    return stageAuditEvents(this.m, events);
  }
}
