import { DataSource, EntityManager } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AuditEvent, CloudName, LinkStagedEvents, StagedAuditEvent } from '@jit/domain';

/** An audit_staged row as the driver returns it. */
interface StagedRow {
  id: string;
  tx: string;
  event_id: string;
  occurred_at: Date;
  type: string;
  grant_id: string | null;
  cloud: string | null;
  principal: string | null;
  actor: string;
  data: Record<string, unknown>;
}

/** node-postgres' client as the pool hands it out; a simple query of several statements answers with one result each. */
interface PgClient {
  query(text: string | { name: string; text: string; values: unknown[] }, values?: unknown[]): Promise<unknown>;
}

const STAGED_COLUMNS = 8;

/**
 * A round's second statement: `$1` the staged ids in chain order, `$2`-`$4` their seq, prev_hash
 * and hash, `$5`/`$6` the new head, `$7` how many rows must move, `$8` each event's time as node
 * read and hashed it (milliseconds; a staged time with finer digits would otherwise be stored
 * with digits the hash does not cover). Updates the head (one row) only if all of them did.
 */
const CHAIN_ROUND_SQL = `WITH link AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $8::timestamptz[]) AS l(staged_id, seq, prev_hash, hash, occurred_at)
  ), moved AS (
    DELETE FROM audit_staged s USING link l WHERE s.id = l.staged_id
    RETURNING l.seq, s.event_id, l.occurred_at, s.type, s.grant_id, s.cloud, s.principal, s.actor, s.data, l.prev_hash, l.hash
  ), chained AS (
    INSERT INTO audit_events (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash)
    SELECT * FROM moved ORDER BY seq
    RETURNING 1
  )
  UPDATE audit_chain_head SET seq = $5, hash = $6 WHERE id = 1 AND (SELECT count(*) FROM chained) = $7`;

const placeholders = (rows: number, width: number) =>
  Array.from({ length: rows }, (_, r) => `(${Array.from({ length: width }, (_, k) => `$${r * width + k + 1}`).join(',')})`).join(',');

/** Stages a transaction's events (`PostgresUnitOfWork`): one INSERT, no shared row touched. */
export async function stageAuditEvents(m: EntityManager, events: readonly StagedAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await m.query(
    `INSERT INTO audit_staged (event_id, occurred_at, type, grant_id, cloud, principal, actor, data) VALUES ${placeholders(events.length, STAGED_COLUMNS)}`,
    events.flatMap((e) => [e.id, e.occurredAt, e.type, e.grantId, e.cloud, e.principal, e.actor, JSON.stringify(e.data)]),
  );
}

/**
 * One chaining round on PostgreSQL: under the head's row lock (one chainer at a time across
 * replicas), takes the oldest staged rows that have committed, stores them linked onto the head,
 * and moves the head, in one transaction. Under READ COMMITTED the SELECT's snapshot is taken
 * after the lock is granted, so it sees every staging transaction that committed before; one that
 * commits later is taken by a later round and gets a later `seq`. No id is ever skipped: rows are
 * taken by what is visible, not by a high-water mark. A transaction that waited for another's row
 * lock stages after that one committed, so it follows it in the chain.
 */
export async function chainStagedEvents(db: DataSource, link: LinkStagedEvents, limit: number): Promise<number> {
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new Error(`chaining limit must be a positive integer, got ${limit}`);
  // Three round trips where TypeORM's transaction took five: BEGIN, the head's lock and the read of
  // the staged rows go as one simple query (no parameters), whose statements each take their own
  // snapshot, so the read sees every staging transaction committed before the lock was granted.
  // Every chainer takes the head's lock first, so the rows read stay there until this round
  // deletes them.
  const [client, release] = (await (db.driver as PostgresDriver).obtainMasterConnection()) as [PgClient, (e?: unknown) => void];
  let broken: unknown;
  try {
    const [, lock, taken] = (await client.query(
      `BEGIN; SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
       SELECT * FROM audit_staged ORDER BY id LIMIT ${limit}`,
    )) as [unknown, { rows: { seq: string; hash: string }[] }, { rows: StagedRow[] }];
    const rows = taken.rows;
    const [head] = lock.rows;
    if (rows.length === 0) {
      await client.query('COMMIT');
      return 0;
    }
    // A round commits synchronously, like every other write: a round lost in a database crash
    // after someone read its numbering would renumber those events, and an anchor taken from
    // that read would then show a break that is not tampering. One flush serves a whole round.
    // Staging order, one transaction's events together: transactions by their first id, then by id.
    const first = new Map<string, number>();
    for (const r of rows) first.set(r.tx, Math.min(first.get(r.tx) ?? Infinity, Number(r.id)));
    rows.sort((a, b) => first.get(a.tx)! - first.get(b.tx)! || Number(a.id) - Number(b.id));
    const events = link(
      { seq: Number(head.seq), hash: head.hash },
      rows.map((r) => ({
        id: r.event_id,
        occurredAt: r.occurred_at,
        type: r.type as AuditEvent['type'],
        grantId: r.grant_id,
        cloud: r.cloud as CloudName | null,
        principal: r.principal,
        actor: r.actor,
        data: r.data,
      })),
    );
    // One statement moves the rows and the head: the events are copied from their staged rows by
    // the database (no event's data goes back over the wire, nor is parsed again as jsonb), with the
    // numbering and hashes computed here, and the head moves only if every row taken was moved.
    // The text never changes, so it is parsed and planned once per connection (a named statement).
    const last = events[events.length - 1];
    const moved = (await client.query({
      name: 'jit_audit_chain_round',
      text: CHAIN_ROUND_SQL,
      values: [
        rows.map((r) => r.id), events.map((e) => e.seq), events.map((e) => e.prevHash), events.map((e) => e.hash),
        last.seq, last.hash, events.length, events.map((e) => e.occurredAt),
      ],
    })) as { rowCount: number | null };
    if (moved.rowCount !== 1) throw new Error(`chaining round: ${events.length} staged events taken, but not all of them could be moved; nothing was chained`);
    await client.query('COMMIT');
    return events.length;
  } catch (e) {
    broken = await client.query('ROLLBACK').then(() => undefined, (rollbackError: unknown) => rollbackError);
    throw e;
  } finally {
    // A connection that could not even roll back is dropped, not handed to the next caller.
    release(broken);
  }
}

export async function countStagedEvents(db: DataSource): Promise<number> {
  const [row] = await db.query(`SELECT count(*)::int AS n FROM audit_staged`);
  return row.n as number;
}
