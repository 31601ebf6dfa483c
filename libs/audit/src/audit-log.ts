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
import { AuditChainer } from './audit-chainer';
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
 * The hash-chained audit log: stages events in the caller's transaction, chains them right after
 * it commits (docs/audit.md, "How the chain is written"), and reads them back. One per process,
 * since its chainer batches this process's commits.
 */
export class AuditLog {
  private readonly chainer: AuditChainer;
  /** Transactions already set to wait for their events to be chained. */
  private readonly waiting = new WeakSet<Transaction>();

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly chain: AuditChainStore,
    private readonly clock: Clock,
  ) {
    this.chainer = new AuditChainer(chain, linkStagedEvents);
  }

  /**
   * Stages `inputs` in `tx`, so they commit or roll back with the state change; no shared row is
   * locked. Once `tx` commits, its unit of work returns only after a chaining round has given
   * them their `seq` and hashes, so the caller (and whoever it answers) reads them in the log.
   * Events of one transaction keep their order and stay together.
   */
  async append(tx: Transaction, inputs: readonly AuditEventInput[]): Promise<void> {
    if (inputs.length === 0) return;
    await tx.auditChain.stage(this.toStaged(inputs));
    if (this.waiting.has(tx)) return;
    this.waiting.add(tx);
    // A failed round leaves the events staged, committed with their change: the timer
    // (`startChaining`) or the next round chains them. The state change itself succeeded.
    tx.afterCommit(() => this.chainer.settle().catch(() => undefined));
  }

  /**
   * A grant write and its events, committed together through `UnitOfWork.write` (one statement
   * on PostgreSQL, no transaction to open and close); like `append`, resolves only once a
   * chaining round has chained the events. The events are staged only if the write stored a row.
   */
  async write(write: GrantWrite, inputs: readonly AuditEventInput[]): Promise<Grant | null> {
    const row = await this.unitOfWork.write(write, this.toStaged(inputs));
    // As after append's commit: a failed round leaves the events staged for the next one.
    if (row && inputs.length) await this.chainer.settle().catch(() => undefined);
    return row;
  }

  /** Records events not tied to a state change (reconciliation, policy decisions) in a transaction of their own. */
  async record(inputs: readonly AuditEventInput[]): Promise<void> {
    await this.unitOfWork.run((tx) => this.append(tx, inputs));
  }

  /** Resolves once every event committed before the call is chained (rejects if the round fails). */
  chained(): Promise<void> {
    return this.chainer.settle();
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

  /** The highest `seq` stored, whether or not the chain head covers it. */
  maxSeq(): Promise<number> {
    return this.chain.maxSeq();
  }
}
