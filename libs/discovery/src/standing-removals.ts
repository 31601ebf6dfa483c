import { randomUUID } from 'node:crypto';
import {
  AuditEventInput,
  AuditEventType,
  Clock,
  DiscoveryFinding,
  DiscoveryStore,
  DomainError,
  StandingAccessInventory,
  StandingRemoval,
  StandingRemovals,
  StoredRemoval,
} from '@jit/domain';
import { Actor, hasRole, requireRole } from '@jit/grants';
import { PolicySource } from '@jit/policy';
import { RetrySettings, withRetry } from '@jit/resilience';
import { stageEvents } from './discovery-scanner';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RemovalOptions {
  /** Approvals a removal needs (JIT_DISCOVERY_REMOVAL_APPROVALS). */
  approvals: number;
  /** A rules-file group whose approvers may decide removals besides admins. */
  approverGroup?: string;
  retry: RetrySettings;
}

export function assertId(id: string, field = 'id'): string {
  if (!UUID.test(id)) throw DomainError.validation([{ field, message: 'must be a UUID' }]);
  return id.toLowerCase();
}

const noSuchRemoval = (id: string) => new DomainError('not_found', `no removal ${id}`, [{ field: 'id', message: 'no such removal' }]);
const noSuchFinding = (id: string) => new DomainError('not_found', `no finding ${id}`, [{ field: 'id', message: 'no such finding' }]);

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).slice(0, 1000);
}

/**
 * Removal of a standing assignment (docs/discovery.md, "Removal"): asked by an admin (or by an
 * access review, through the `StandingRemovals` port, with its origin), approved like a grant by
 * people other than the requester (admins, or approvers of the configured group of the rules
 * file), then applied through the cloud's inventory; every step audited, and restorable by an
 * admin from what was stored with the finding.
 */
export class StandingRemovalService implements StandingRemovals {
  constructor(
    private readonly store: DiscoveryStore,
    private readonly inventories: readonly StandingAccessInventory[],
    private readonly policies: PolicySource,
    private readonly clock: Clock,
    private readonly chained: () => void,
    private readonly options: RemovalOptions,
  ) {}

  /** An admin asks for a removal through the API. */
  async requestAsAdmin(actor: Actor, findingId: string, justification: string): Promise<StoredRemoval> {
    requireRole(actor, 'admin');
    return this.requestRemoval(assertId(findingId), { actor: actor.subject, justification, origin: 'discovery' });
  }

  /** `StandingRemovals.request`: reviews call this once their decision is made (origin `review:<id>`). */
  async request(findingId: string, by: { actor: string; justification: string; origin: string }): Promise<StandingRemoval> {
    const id = assertId(findingId, 'findingId');
    // Idempotent per (finding, origin): a review re-applying a decision (its first attempt stopped
    // after the removal was stored) gets that removal back, not a second one or a refusal.
    const earlier = (await this.store.removalsOf(id)).find((r) => r.origin === by.origin && (r.state === 'pending_approval' || r.state === 'approved' || r.state === 'applied'));
    if (earlier) return earlier;
    return this.requestRemoval(id, by);
  }

  async get(id: string): Promise<StandingRemoval | null> {
    return UUID.test(id) ? this.store.getRemoval(id.toLowerCase()) : null;
  }

  /** A removal with its approvals, for admins and auditors. */
  async read(actor: Actor, id: string): Promise<StoredRemoval> {
    requireRole(actor, 'admin', 'auditor', 'approver');
    const removal = await this.store.getRemoval(assertId(id));
    if (!removal || !this.mayRead(actor, removal)) throw noSuchRemoval(id);
    return removal;
  }

  private mayRead(actor: Actor, _removal: StoredRemoval): boolean {
    return hasRole(actor, 'admin', 'auditor') || this.inApproverGroup(actor);
  }

  private inApproverGroup(actor: Actor): boolean {
    const group = this.options.approverGroup;
    return !!group && hasRole(actor, 'approver') && this.policies.current.groupsOf(actor).has(group);
  }

  private async requestRemoval(findingId: string, by: { actor: string; justification: string; origin: string }): Promise<StoredRemoval> {
    const finding = await this.store.getFinding(findingId);
    if (!finding) throw noSuchFinding(findingId);
    if (finding.status !== 'open') {
      throw new DomainError('invalid_state', `the finding is ${finding.status}: only an open finding's assignment can be removed`, [{ field: 'id', message: `is ${finding.status}` }]);
    }
    if (!finding.removable) {
      throw new DomainError('invalid_state', `the ${finding.cloud} inventory cannot remove ${finding.access.type} assignments`, [{ field: 'id', message: 'not removable' }]);
    }
    this.inventoryOf(finding);
    const justification = by.justification.trim();
    if (!justification) throw DomainError.validation([{ field: 'justification', message: 'is required' }]);
    const now = this.clock.now();
    const { id: _id, privileged: _p, reasons: _r, status: _s, firstSeenAt: _f, lastSeenAt: _l, resolvedAt: _x, ...listed } = finding;
    const removal: StoredRemoval = {
      id: randomUUID(),
      findingId,
      state: 'pending_approval',
      requestedBy: by.actor,
      justification,
      origin: by.origin,
      createdAt: now,
      updatedAt: now,
      lastError: null,
      approvals: [],
      required: this.options.approvals,
      assignment: { ...listed, brokerOwned: false },
      decidedBy: null,
      appliedAt: null,
      restoredAt: null,
    };
    const stored = await this.store.insertRemoval(removal, stageEvents([this.event('discovery.removal_requested', finding, removal, by.actor, { justification, origin: by.origin, required: removal.required })], now));
    if (!stored) {
      throw new DomainError('invalid_state', 'this finding already has a removal pending, approved or applied', [{ field: 'id', message: 'removal exists' }], { findingId });
    }
    this.chained();
    return stored;
  }

  /** One approval; the one that reaches the count applies the removal in the cloud, in this request. */
  async approve(actor: Actor, id: string, comment: string | null): Promise<StoredRemoval> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const removal = await this.forDecision(actor, id);
      if (removal.approvals.some((a) => a.by === actor.subject)) {
        throw new DomainError('invalid_state', 'you already approved this removal', [{ field: 'id', message: 'already approved by you' }]);
      }
      const now = this.clock.now();
      const approvals = [...removal.approvals, { by: actor.subject, at: now, comment }];
      const final = approvals.length >= removal.required;
      const finding = await this.findingOf(removal);
      const event = this.event('discovery.removal_approved', finding, removal, actor.subject, { comment, received: approvals.length, required: removal.required, final });
      const next = await this.store.transitionRemoval(
        removal.id,
        'pending_approval',
        final ? 'approved' : 'pending_approval',
        { approvals, decidedBy: final ? actor.subject : null, now, approvalCount: removal.approvals.length },
        stageEvents([event], now),
      );
      if (!next) continue;
      this.chained();
      return final ? this.apply(next, finding) : next;
    }
    throw new DomainError('invalid_state', 'the removal changed while approving; try again', [{ field: 'id', message: 'contended' }]);
  }

  async deny(actor: Actor, id: string, comment: string): Promise<StoredRemoval> {
    const removal = await this.forDecision(actor, id);
    const now = this.clock.now();
    const finding = await this.findingOf(removal);
    const next = await this.store.transitionRemoval(
      removal.id,
      'pending_approval',
      'denied',
      { decidedBy: actor.subject, now, approvalCount: removal.approvals.length },
      stageEvents([this.event('discovery.removal_denied', finding, removal, actor.subject, { comment })], now),
    );
    if (!next) throw new DomainError('invalid_state', 'the removal changed while denying; try again', [{ field: 'id', message: 'contended' }]);
    this.chained();
    return next;
  }

  /** Puts a removed assignment back (admins), as the inventory listed it. */
  async restore(actor: Actor, id: string, justification: string | null): Promise<StoredRemoval> {
    requireRole(actor, 'admin');
    const removal = await this.store.getRemoval(assertId(id));
    if (!removal) throw noSuchRemoval(id);
    if (removal.state !== 'applied') {
      throw new DomainError('invalid_state', `the removal is ${removal.state}: only an applied removal can be restored`, [{ field: 'state', message: `is ${removal.state}` }]);
    }
    const finding = await this.findingOf(removal);
    const inventory = this.inventoryOf(finding);
    await withRetry(this.options.retry, (signal) => inventory.restore(removal.assignment, signal)).catch((e: unknown) => {
      throw new DomainError('provider_rejected', `the assignment could not be restored: ${message(e)}`, [], { removalId: removal.id });
    });
    const now = this.clock.now();
    const next = await this.store.transitionRemoval(
      removal.id,
      'applied',
      'restored',
      { restoredAt: now, now },
      stageEvents([this.event('discovery.restored', finding, removal, actor.subject, { justification })], now),
    );
    if (!next) throw new DomainError('invalid_state', 'the removal changed while restoring; try again', [{ field: 'id', message: 'contended' }]);
    this.chained();
    return next;
  }

  /** Removals of a finding, newest first. */
  async ofFinding(findingId: string): Promise<StoredRemoval[]> {
    return this.store.removalsOf(findingId);
  }

  private async apply(removal: StoredRemoval, finding: DiscoveryFinding): Promise<StoredRemoval> {
    const inventory = this.inventoryOf(finding);
    let error: string | null = null;
    try {
      await withRetry(this.options.retry, (signal) => inventory.remove(removal.assignment, signal));
    } catch (e) {
      error = message(e);
    }
    const now = this.clock.now();
    const next = await this.store.transitionRemoval(
      removal.id,
      'approved',
      error ? 'failed' : 'applied',
      error ? { lastError: error, now } : { appliedAt: now, now },
      stageEvents([this.event(error ? 'discovery.removal_failed' : 'discovery.removal_applied', finding, removal, removal.decidedBy ?? removal.requestedBy, error ? { error } : {})], now),
    );
    this.chained();
    return next ?? removal;
  }

  private async forDecision(actor: Actor, id: string): Promise<StoredRemoval> {
    if (!hasRole(actor, 'admin') && !this.inApproverGroup(actor)) {
      throw new DomainError('forbidden', `removals are decided by admins${this.options.approverGroup ? ` or approvers of group ${this.options.approverGroup}` : ''}`, [
        { field: 'Authorization', message: 'role' },
      ]);
    }
    const removal = await this.store.getRemoval(assertId(id));
    if (!removal) throw noSuchRemoval(id);
    if (removal.state !== 'pending_approval') {
      throw new DomainError('invalid_state', `the removal is ${removal.state}, not waiting for approval`, [{ field: 'state', message: `is ${removal.state}` }]);
    }
    if (removal.requestedBy === actor.subject) {
      throw new DomainError('forbidden', 'requesters can never approve or deny their own removal', [{ field: 'id', message: 'is your own request' }]);
    }
    return removal;
  }

  private async findingOf(removal: StoredRemoval): Promise<DiscoveryFinding> {
    const finding = await this.store.getFinding(removal.findingId);
    if (!finding) throw noSuchFinding(removal.findingId);
    return finding;
  }

  private inventoryOf(finding: DiscoveryFinding): StandingAccessInventory {
    const inventory = this.inventories.find((i) => i.cloud === finding.cloud);
    if (!inventory) {
      throw new DomainError('invalid_state', `${finding.cloud} is not configured on this broker: its assignments cannot be changed`, [{ field: 'id', message: 'cloud not configured' }]);
    }
    return inventory;
  }

  private event(type: AuditEventType, f: DiscoveryFinding, r: StoredRemoval, actor: string, data: Record<string, unknown>): AuditEventInput {
    return {
      type,
      grantId: null,
      cloud: f.cloud,
      principal: f.principal.id,
      actor,
      data: { removalId: r.id, findingId: f.id, key: f.key, scope: f.scope, access: { type: f.access.type, name: f.access.name, id: f.access.id ?? null }, origin: r.origin, ...data },
    };
  }
}
