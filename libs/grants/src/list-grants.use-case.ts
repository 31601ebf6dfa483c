import { DomainError, Grant, GrantFilter, GrantRepository, Page } from '@jit/domain';
import { PolicySource } from '@jit/policy';
import { Actor, hasRole, requireRole } from './actor';
import { grantVisibility } from './approval-eligibility';

export type ListGrantsFilter = Omit<GrantFilter, 'awaitingDecisionBy' | 'visibleTo'> & { awaiting?: 'me' };

/** Grants the actor may read (see `grantVisibility`), narrowed in the query so pages stay full. */
export class ListGrantsUseCase {
  constructor(
    private readonly store: GrantRepository,
    private readonly policies: PolicySource,
  ) {}

  async execute(actor: Actor, query: ListGrantsFilter, limit: number, cursor: string | null): Promise<Page<Grant>> {
    const { awaiting, ...rest } = query;
    let filter: GrantFilter = rest;
    if (awaiting === 'me') {
      requireRole(actor, 'approver', 'admin');
      // Group membership as approvals check it: the token's groups plus the rules in force now.
      const groups = this.policies.current.groupsOf(actor);
      // A request is listed while a step is still open to one of these groups (the query checks it).
      filter = { ...filter, awaitingDecisionBy: { subject: actor.subject, groups: [...groups] } };
      return this.store.list(filter, limit, cursor);
    }
    const visibility = grantVisibility(actor, this.policies.current);
    if (visibility !== 'all') {
      // An approver may narrow what they see to one requester; a requester sees only themselves.
      if (filter.requester && filter.requester !== actor.subject && !hasRole(actor, 'approver')) {
        throw new DomainError('forbidden', 'requesters can list only their own grants', [{ field: 'requester', message: 'not you' }]);
      }
      filter = { ...filter, visibleTo: visibility };
    }
    return this.store.list(filter, limit, cursor);
  }
}
