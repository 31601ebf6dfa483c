import { AuditLog } from '@jit/audit';
import { DomainError, Grant, GrantChange, GrantCreated, GrantRepository, UnitOfWork } from '@jit/domain';
import { auditRecords } from './grant-audit';
import { LifecycleHooks } from './lifecycle-hooks';
import { nextWorkAt } from './next-work-at';

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
    const stored = await this.unitOfWork.run(async (tx) => {
      const row = await tx.grants.insert(created.grant, idempotency, leaseUntil);
      await this.audit.append(tx, auditRecords(created.events, created.grant));
      return row;
    }).catch((e: unknown) => this.failed(created.grant, e));
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
    const next = await this.unitOfWork.run(async (tx) => {
      const row = await tx.grants.transition(grant.id, from, grant.state, patch, change.expect, change.underLease && { underLease: true });
      if (row) await this.audit.append(tx, auditRecords(change.events, row));
      return row;
    }).catch((e: unknown) => this.failed(grant, e));
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
