import { randomUUID } from 'node:crypto';
import {
  AuditChainStore,
  AuditEvent,
  AuditEventInput,
  AuditFilter,
  AuditHead,
  Clock,
  Grant,
  GrantWrite,
  LinkStagedEvents,
  Page,
  StagedAuditEvent,
  Transaction,
  UnitOfWork,
  toWellFormedDeep,
} from '@jit/domain';
import { AuditChainer, ChainingStats } from './audit-chainer';
import { hashEvent } from './event-hash';

/** Numbers the staged events after the head and hashes each onto the one before. */
export const linkStagedEvents: LinkStagedEvents = (head, staged) => {
  let seq = head.seq;
  let prevHash = head.hash;
  return staged.map((s) => {
    const event = { ...s, seq: ++seq, prevHash };
    const hash = hashEvent(event);
    prevHash = hash;
    return { ...event, hash };
  });
};

/**
 * The hash-chained audit log: stages events in the caller's transaction, chains them in rounds
 * after it commits, off the writer's path (docs/audit.md, "How the chain is written"), and reads
 * them back. One per process, since its chainer batches this process's commits.
 */
export class AuditLog {
  private readonly chainer: AuditChainer;
  /** Transactions already set to wait for their events to be chained. */
  private readonly waiting = new WeakSet<Transaction>();

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly chain: AuditChainStore,
    private readonly clock: Clock,
    /** Writers' chaining rounds begin at least this far apart (ms; `AuditChainer`'s `spacingMs`): 0 starts one after every commit. */
    chainSpacingMs = 0,
  ) {
    this.chainer = new AuditChainer(chain, linkStagedEvents, undefined, chainSpacingMs);
  }

  /**
   * Stages `inputs` in `tx`, so they commit or roll back with the state change; no shared row is
   * locked. Once `tx` commits, a chaining round is started (or the next one asked for), but the
   * caller does not wait for it: the events are durable in `audit_staged` from that commit on, and
   * readers that need them chained (`chained()`: the audit API, export, verify) wait for it
   * instead. Events of one transaction keep their order and stay together.
   */
  async append(tx: Transaction, inputs: readonly AuditEventInput[]): Promise<void> {
    if (inputs.length === 0) return;
    await tx.auditChain.stage(this.toStaged(inputs));
    if (this.waiting.has(tx)) return;
    this.waiting.add(tx);
    tx.afterCommit(async () => this.kick());
  }

  /**
   * A grant write and its events, committed together through `UnitOfWork.write` (one statement
   * on PostgreSQL, no transaction to open and close); resolves once that commit is durable, and,
   * like `append`, asks for a chaining round without waiting for it. The events are staged only
   * if the write stored a row.
   */
  async write(write: GrantWrite, inputs: readonly AuditEventInput[]): Promise<Grant | null> {
    const row = await this.unitOfWork.write(write, this.toStaged(inputs));
    if (row && inputs.length) this.kick();
    return row;
  }

  /** Records events not tied to a state change (reconciliation, policy decisions) in a transaction of their own. */
  async record(inputs: readonly AuditEventInput[]): Promise<void> {
    await this.unitOfWork.run((tx) => this.append(tx, inputs));
  }

  /**
   * Resolves once every event committed before the call, by this replica or any other, is chained
   * (rejects if the round fails): a round that begins after the call takes every committed staged
   * row. Readers that must see a change's events in the chain (read-your-writes) await it first.
   */
  chained(): Promise<void> {
    return this.chainer.settle();
  }

  /**
   * `chained()`, waited for at most `ms`, for readers that must answer even while chaining is
   * held up (another session holds the head's lock, or rounds fail): resolves with 0 once the
   * round is done, else with the events still staged, which the reader reports instead of
   * waiting. The round goes on after a timeout; later callers share it.
   */
  async chainedWithin(ms: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      const done = await Promise.race([this.chained().then(() => true, () => false), gaveUp]);
      return done ? 0 : await this.staged();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Asks for a chaining round for events just committed, without waiting for it. A failed round
   * leaves them staged, committed with their change: the timer (`startChaining`), the next kick
   * or a reader's `chained()` chains them. The state change itself succeeded.
   */
  private kick(): void {
    this.chainer.nudge();
  }

  /** Chaining rounds and events this process chained, for /metrics and the bench's commits-per-grant figures. */
  chainingStats(): ChainingStats {
    return this.chainer.stats();
  }

  /** Chains, every `intervalMs`, events no writer waited for (staged before a crash, or by a stopped replica). */
  startChaining(intervalMs: number, onError: (e: unknown) => void): void {
    this.chainer.start(intervalMs, onError);
  }

  /** Stops the timer and chains what is still staged. */
  stopChaining(): Promise<void> {
    return this.chainer.stop();
  }

  /** Events as staged: an id, one time for the batch, and text PostgreSQL stores as it is. */
  private toStaged(inputs: readonly AuditEventInput[]): StagedAuditEvent[] {
    const occurredAt = this.clock.now();
    // PostgreSQL stores a lone surrogate as U+FFFD (text) or refuses it (jsonb): stage, and so hash, exactly what is stored.
    return inputs.map((input) => ({ ...toWellFormedDeep(input), id: randomUUID(), occurredAt }));
  }

  /** How many committed events are not yet chained. */
  staged(): Promise<number> {
    return this.chain.stagedCount();
  }

  list(filter: AuditFilter, limit: number, cursor: string | null): Promise<Page<AuditEvent>> {
    return this.chain.list(filter, limit, cursor);
  }

  /** Every event in `seq` order, in pages, for export and verification. */
  stream(filter: AuditFilter, pageSize: number): AsyncIterable<AuditEvent[]> {
    return this.chain.stream(filter, pageSize);
  }

  head(): Promise<AuditHead> {
    return this.chain.head();
  }

  /**
   * The head once everything committed before the call is chained, for the checkpointer: a
   * checkpoint then covers every change answered before it. A failed round leaves the events
   * staged; the head is read as it is (the next checkpoint covers them).
   */
  async chainedHead(): Promise<AuditHead> {
    await this.chained().catch(() => undefined);
    return this.chain.head();
  }

  /** The highest `seq` stored, whether or not the chain head covers it. */
  maxSeq(): Promise<number> {
    return this.chain.maxSeq();
  }
}
export type { ChainingStats } from './audit-chainer';
