import { randomUUID } from 'node:crypto';
import {
  AuditChainStore,
  AuditEvent,
  AuditEventInput,
  AuditFilter,
  AuditHead,
  Clock,
  Page,
  Transaction,
  UnitOfWork,
  toWellFormedDeep,
} from '@jit/domain';
import { hashEvent } from './event-hash';

/**
 * The hash-chained audit log: appends events in the caller's transaction, each hashed onto the
 * one before under the chain head's row lock, and reads them back. One per process, since it
 * orders this process's appends (see `append`).
 */
export class AuditLog {
  /** Settles when the transaction now appending to the chain in this process has ended. */
  private headTurn: Promise<void> = Promise.resolve();
  /** Transactions that hold this process's turn at the head (until they end). */
  private readonly holding = new WeakSet<Transaction>();

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly chain: AuditChainStore,
    private readonly clock: Clock,
  ) {}

  /**
   * Chains `inputs` onto the head in `tx`, last in the transaction, under the head's row lock,
   * which is held until COMMIT. Within this process, transactions take their turn at the head in
   * memory first: sessions queued on the row lock (tuple and transactionid waits, each wake-up a
   * context switch) made one append cost ~3x a commit round trip, and every grant state change
   * waits for the head. The row lock still orders appends across replicas. The turn is released
   * when `tx` ends, committed or rolled back.
   */
  async append(tx: Transaction, inputs: readonly AuditEventInput[]): Promise<void> {
    if (inputs.length === 0) return;
    if (!this.holding.has(tx)) {
      this.holding.add(tx);
      const previous = this.headTurn;
      let release!: () => void;
      this.headTurn = new Promise<void>((r) => (release = r));
      tx.onEnd(release);
      await previous;
    }
    const head = await tx.auditChain.lockHead();
    let seq = head.seq;
    let prevHash = head.hash;
    const now = this.clock.now();
    const events: AuditEvent[] = [];
    // PostgreSQL stores a lone surrogate as U+FFFD (text) or refuses it (jsonb): hash exactly what is stored.
    for (const input of inputs.map(toWellFormedDeep)) {
      seq++;
      const event = { ...input, seq, id: randomUUID(), occurredAt: now, prevHash };
      const hash = hashEvent(event);
      events.push({ ...event, hash });
      prevHash = hash;
    }
    await tx.auditChain.append(events);
  }

  /** Records events not tied to a state change (reconciliation, policy decisions) in a transaction of their own. */
  async record(inputs: readonly AuditEventInput[]): Promise<void> {
    await this.unitOfWork.run((tx) => this.append(tx, inputs));
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
