import { DatabaseError } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { Clock, Grant, GrantWrite, StagedAuditEvent } from '@jit/domain';
import { GrantRow, toGrant } from '../mappers/grant-row.mapper';
import { idempotencyConflict } from './postgres-grant.repository';
import { WRITE_BATCH_SQL, writeBatchParams } from './grant-write-batch.statement';

/** node-postgres' client as the pool hands it out. */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: (GrantRow & { w__: number })[] }>;
}

/** Grant writes (with their events) sent as one statement at most; a larger queue goes out in several. */
export const MAX_BATCH = 64;
/**
 * Batch statements in flight at once: the next batch forms while this one runs. One, since the
 * writers no longer wait for a chaining round (docs/benchmarks.md, "Writers off the chaining
 * round"): bench:profile at 16 and 64 connections sent 0.49 and 0.13 write statements per grant
 * with one in flight, against 0.72 and 0.26 with two and 1.09 and 0.43 with four, and spent the
 * least CPU per grant. The cost: a statement waiting on a row lock (another replica's write of
 * the same grant, a deadlock until it is resolved) holds back this replica's other writes.
 */
export const MAX_IN_FLIGHT = 1;
/** Further tries of a statement chosen as a deadlock's victim or failed on serialization (nothing of it was stored). */
const CONFLICT_RETRIES = 2;

interface Pending {
  write: GrantWrite;
  events: readonly StagedAuditEvent[];
  resolve(row: Grant | null): void;
  reject(e: unknown): void;
}

/** Upper bounds of the writes-per-statement buckets in `WriteBatchStats.sizes`. */
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64] as const;

/** What the group commit did since it was made: each statement is one commit round trip. */
export interface WriteBatchStats {
  /** Statements sent (each commits on its own), retries included. */
  statements: number;
  /** Writes they carried. */
  writes: number;
  /** Statements by writes carried: `sizes[k]` counts those with at most `BATCH_SIZE_BUCKETS[k]` (and more than the bucket before). */
  sizes: number[];
  /** Statements in flight now, and the most at once so far. */
  inFlight: number;
  maxInFlight: number;
  /** Writes waiting for a statement now (none in flight has room, or their grant is being written). */
  queued: number;
}

export interface WriteBatchOptions {
  /** Writes per statement at most (default `MAX_BATCH`). */
  maxBatch?: number;
  /** Statements in flight at once (default `MAX_IN_FLIGHT`). */
  maxInFlight?: number;
}

/**
 * Group commit for `PostgresUnitOfWork.write`: writes that arrive while earlier ones are in flight
 * are sent together as one statement (`WRITE_BATCH_SQL`: every insert, every guarded transition and
 * every write's events into audit_staged, each event taken only if its own write stored a row), which
 * PostgreSQL runs atomically in a transaction of its own: one round trip and one WAL flush for
 * the lot. Each write still stands or falls with its own events; a write whose guard fails
 * resolves null and stages nothing, as alone. A write of a grant another statement in flight is
 * writing waits for it (two changes of one row in one statement are not ordered), and a statement the database refuses
 * (a reused Idempotency-Key, an event it cannot store) is retried write by write, so the error
 * reaches only the write that caused it. Each batch locks the grants it changes in id order, so
 * batches of two replicas take their row locks in one order; a write alone that still loses to a deadlock
 * (or a serialization failure) is tried again, twice at most.
 */
export class PostgresGrantWriteBatch {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  /** Grants written by the statements in flight: a later write of one waits for them, as it would for the row lock. */
  private readonly writing = new Set<string>();
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly counts = { statements: 0, writes: 0, sizes: BATCH_SIZE_BUCKETS.map(() => 0), maxInFlight: 0 };

  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly owner: string,
    options: WriteBatchOptions = {},
  ) {
    this.maxBatch = positive(options.maxBatch ?? MAX_BATCH, 'maxBatch');
    this.maxInFlight = positive(options.maxInFlight ?? MAX_IN_FLIGHT, 'maxInFlight');
  }

  stats(): WriteBatchStats {
    return { ...this.counts, sizes: [...this.counts.sizes], inFlight: this.inFlight, queued: this.queue.length };
  }

  write(write: GrantWrite, events: readonly StagedAuditEvent[]): Promise<Grant | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, events, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch: Pending[] = [];
      const ids: string[] = [];
      for (let i = 0; i < this.queue.length && batch.length < this.maxBatch; ) {
        const id = grantIdOf(this.queue[i].write);
        if (this.writing.has(id)) {
          i++;
          continue;
        }
        this.writing.add(id);
        ids.push(id);
        batch.push(...this.queue.splice(i, 1));
      }
      // Whatever is left waits for a grant written now.
      if (batch.length === 0) return;
      this.inFlight++;
      this.counts.maxInFlight = Math.max(this.counts.maxInFlight, this.inFlight);
      void this.send(batch).finally(() => {
        for (const id of ids) this.writing.delete(id);
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    try {
      const rows = await this.run(batch);
      batch.forEach((p, i) => p.resolve(rows[i]));
    } catch (e) {
      if (batch.length > 1 && refusedStatement(e)) {
        // Nothing of the statement was stored: each write again on its own, so only its own error reaches it.
        await Promise.all(batch.map((p) => this.runAlone(p).then((row) => p.resolve(row), (err: unknown) => p.reject(this.describe(p, err)))));
      } else if (batch.length === 1 && conflict(e)) {
        const [p] = batch;
        await this.runAlone(p, CONFLICT_RETRIES - 1).then((row) => p.resolve(row), (err: unknown) => p.reject(this.describe(p, err)));
      } else {
        for (const p of batch) p.reject(this.describe(p, e));
      }
    }
  }

  /** One write as a statement of its own, tried again up to `retries` times while it loses to a deadlock or a serialization conflict. */
  private async runAlone(p: Pending, retries = CONFLICT_RETRIES): Promise<Grant | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        const [row] = await this.run([p]);
        return row;
      } catch (e) {
        if (attempt >= retries || !conflict(e)) throw e;
      }
    }
  }

  private describe(p: Pending, e: unknown): unknown {
    return p.write.op === 'insert' ? idempotencyConflict(e, p.write.idempotency) : e;
  }

  /** The batch as one statement; the row each write stored (null where its guard failed), in order. */
  private async run(batch: Pending[]): Promise<(Grant | null)[]> {
    this.counts.statements++;
    this.counts.writes += batch.length;
    const bucket = BATCH_SIZE_BUCKETS.findIndex((b) => batch.length <= b);
    this.counts.sizes[bucket === -1 ? BATCH_SIZE_BUCKETS.length - 1 : bucket]++;
    const params = writeBatchParams(batch, this.clock.now(), this.owner);
    // One text for every batch: parsed and planned once per connection (a named statement).
    const [client, release] = (await (this.db.driver as PostgresDriver).obtainMasterConnection()) as [PgClient, (e?: unknown) => void];
    let rows: (GrantRow & { w__: number })[];
    try {
      ({ rows } = await client.query({ name: 'jit_grant_write_batch', text: WRITE_BATCH_SQL, values: params }));
      release();
    } catch (e) {
      // A statement refused for its data (a value, a constraint, a deadlock) leaves the connection
      // as it was: it ran in a transaction of its own. On anything else the pool drops the
      // connection, and with it the prepared statement: a lost connection, a server shutting down,
      // or a prepared plan the database can no longer use.
      release(refusedForItsData(e) ? undefined : e);
      throw e;
    }
    const out: (Grant | null)[] = batch.map(() => null);
    for (const r of rows) out[r.w__] = toGrant(r);
    return out;
  }
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`write batch ${name} must be a positive integer, got ${n}`);
  return n;
}

function grantIdOf(w: GrantWrite): string {
  return w.op === 'insert' ? w.grant.id : w.id;
}

/** Rolled back as a deadlock's victim (40P01) or on a serialization failure (40001): nothing was stored, and the same statement may well pass now. */
function conflict(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}

/**
 * The database refused the statement itself (a value it cannot store, a constraint, a name it
 * does not know, or it was rolled back as a deadlock's victim), so nothing of it was stored and
 * each write can be tried again alone. A lost connection is not: the statement may have committed.
 */
function refusedStatement(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|40|42)/.test(code);
}

/** PostgreSQL refused the statement for its data (classes 22, 23, 40), not for its connection or its plan. */
function refusedForItsData(e: unknown): boolean {
  return e instanceof DatabaseError && typeof e.code === 'string' && /^(22|23|40)/.test(e.code);
}
