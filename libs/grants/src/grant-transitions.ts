import { AuditLog } from '@jit/audit';
import { DomainError, Grant, GrantChange, GrantCreated, GrantEvent, GrantRepository, UnitOfWork } from '@jit/domain';
import { auditRecords } from './grant-audit';
import { LifecycleHooks } from './lifecycle-hooks';
import { nextWorkAt } from './next-work-at';

/**
 * Events that read, of the grant, only what the change itself sets or what no writer changes
 * without changing the state (ids, target, artifact name, `expiresAt`): built from the changed
 * grant, they equal those built from the row as stored, so the write and its events can be one
 * statement (`AuditLog.write`). The others (`approved` reads the approvals, `force_closed` the
 * last error, `failed` the revoke request, which another writer may have changed meanwhile; and
 * any type not listed here) are built from the stored row, inside a transaction.
 */
const FROM_CHANGE: ReadonlySet<GrantEvent['type']> = new Set<GrantEvent['type']>([
  'provisioned', 'activated', 'denied', 'revoke_requested', 'revoke_deferred', 'revoke_carried_out', 'ended', 'revoke_retried', 'revoke_failed',
]);
const eventsFromChange = (change: GrantChange) => change.events.every((e) => FROM_CHANGE.has(e.type));

/**
 * Stores what the grant's behaviour decided: the row and its audit events in one transaction,
 * guarded on the state (and approvals) the change started from, then tells the hooks (metrics,
 * the local sweeper's timer).
 */
export class GrantTransitions {
  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly grants: GrantRepository,
    private readonly audit: AuditLog,
    private readonly hooks: LifecycleHooks,
  ) {}

  /** A new grant with its first events; `leaseUntil` keeps the sweeper away while the caller provisions. */
  async create(created: GrantCreated, idempotency: { key: string; requestHash: string } | null, leaseUntil: Date | null): Promise<Grant> {
    // The row stored is the new grant itself, so its events are built from it before the write.
    const stored = await this.audit
      .write({ op: 'insert', grant: created.grant, idempotency, leaseUntil }, auditRecords(created.events, created.grant))
      .then((row) => row!)
      .catch((e: unknown) => this.failed(created.grant, e));
    // A grant stored to be provisioned at once is reported by the provisioning that follows.
    if (stored.state === 'pending_approval') {
      this.hooks.transitioned(stored.state);
      if (stored.approvalDeadline) this.hooks.workDue(stored, stored.approvalDeadline);
    }
    return stored;
  }

  /**
   * Applies a change if the grant is still where it started; null when another replica, request
   * or approver got there first. `leaseUntil` keeps (or takes) the row for this replica; without
   * it the change releases the row.
   */
  async apply(change: GrantChange, leaseUntil: Date | null = null): Promise<Grant | null> {
    const { grant, from } = change;
    const patch = leaseUntil ? { ...change.patch, leaseUntil } : change.patch;
    const write = { op: 'transition' as const, id: grant.id, from, to: grant.state, patch, expect: change.expect, options: change.underLease && { underLease: true } };
    const next = await (eventsFromChange(change)
      ? this.audit.write(write, auditRecords(change.events, grant))
      : this.unitOfWork.run(async (tx) => {
          const row = await tx.grants.transition(write.id, from, write.to, patch, write.expect, write.options);
          if (row) await this.audit.append(tx, auditRecords(change.events, row));
          return row;
        })
    ).catch((e: unknown) => this.failed(grant, e));
    if (next && next.state !== from) this.hooks.transitioned(next.state);
    const due = next && nextWorkAt(next, leaseUntil);
    if (next && due) this.hooks.workDue(next, due);
    return next;
  }

  /** Tells the hooks a write of `grant` failed (the local replica may hand its claim back), and fails with `error`. */
  private failed(grant: Grant, error: unknown): never {
    this.hooks.writeFailed(grant, error);
    throw error;
  }

  /** Applies a change, or, having lost the race, reports the grant as it is now. */
  async applyOrReload(change: GrantChange, leaseUntil: Date | null = null): Promise<Grant> {
    const next = (await this.apply(change, leaseUntil)) ?? (await this.grants.findById(change.grant.id));
    // Grants are never deleted; a row gone is a database someone edited by hand.
    if (!next) throw new DomainError('not_found', `grant ${change.grant.id} is gone`, [{ field: 'id', message: 'unknown' }]);
    return next;
  }
}
