import { DomainError, GRANT_ID_PATTERN, Grant, GrantRepository } from '@jit/domain';
import { AccessPolicy } from '@jit/policy';
import { Actor, hasRole, readsAllGrants, requireRole } from './actor';

/**
 * Which grants an actor may read. Admins and auditors: all. Anyone else: their own requests,
 * plus, with the approver role, every grant whose rule named one of their groups (under the
 * rules in force now) as approvers, in any state: what their groups could decide. A grant
 * decided without approvers (automatic, break-glass) names no group and is nobody's but its
 * requester's. A requester who is also an approver sees the union.
 */
export type GrantVisibility = 'all' | { subject: string; groups: string[] };

export function grantVisibility(actor: Actor, policy: AccessPolicy): GrantVisibility {
  if (readsAllGrants(actor)) return 'all';
  return { subject: actor.subject, groups: hasRole(actor, 'approver') ? [...policy.groupsOf(actor)] : [] };
}

export function mayRead(visibility: GrantVisibility, grant: Grant): boolean {
  if (visibility === 'all' || grant.requestedBy === visibility.subject) return true;
  return grant.decision?.groups.some((g) => visibility.groups.includes(g)) ?? false;
}

/**
 * Who may decide a pending request: an approver (or admin) who is not its requester and who
 * belongs, under the rules in force now, to one of the groups its rule named. An approver
 * outside those groups is told the grant does not exist (404), as when reading it.
 */
export function assertMayDecide(actor: Actor, grant: Grant, policy: AccessPolicy): void {
  requireRole(actor, 'approver', 'admin');
  // A grant the approver may not read looks absent, as on GET: neither its state nor its rule's groups show.
  if (!mayRead(grantVisibility(actor, policy), grant)) {
    throw noSuchGrant(grant.id);
  }
  if (grant.state !== 'pending_approval' || !grant.decision || grant.decision.mode !== 'approvals') {
    throw new DomainError('invalid_state', `the grant is ${grant.state}, not waiting for approval`, [{ field: 'state', message: `is ${grant.state}` }], {
      grantId: grant.id,
      state: grant.state,
    });
  }
  if (grant.requestedBy === actor.subject) {
    throw new DomainError('forbidden', 'requesters can never approve or deny their own request', [{ field: 'id', message: 'is your own request' }], {
      grantId: grant.id,
    });
  }
  const groups = policy.groupsOf(actor);
  if (!grant.decision.groups.some((g) => groups.has(g))) {
    throw new DomainError(
      'forbidden',
      `approvers of this request must belong to one of the groups ${grant.decision.groups.join(', ')} (rule ${grant.decision.rule})`,
      [{ field: 'id', message: 'not an approver for this rule' }],
      { grantId: grant.id },
    );
  }
}

/**
 * The one answer for a grant that is absent or hidden from the actor, so that neither its body nor
 * its wording tells an outsider that a grant exists.
 */
export function noSuchGrant(id: string): DomainError {
  return new DomainError('not_found', `no grant ${id}`, [{ field: 'id', message: 'no such grant' }]);
}

/** The grant an approver acts on; a malformed id is a 400 naming the field, an unknown one a 404. */
export async function findForDecision(store: GrantRepository, id: string): Promise<Grant> {
  if (!GRANT_ID_PATTERN.test(id)) throw DomainError.validation([{ field: 'id', message: 'must be a grant id (UUID)' }]);
  const grant = await store.findById(id.toLowerCase());
  if (!grant) throw noSuchGrant(id);
  return grant;
}
