import { DomainError, Grant, GrantFilter, GrantRepository, Page, GRANT_ID_PATTERN } from '@jit/domain';
import { PolicySource } from '@jit/policy';
import { Actor, hasRole, requireRole } from './actor';
import { grantVisibility, mayRead } from './approval-eligibility';

/** One grant, if the actor may read it (see `grantVisibility`); any other looks absent (404). */
export class GetGrantUseCase {
  constructor(
    private readonly store: GrantRepository,
    private readonly policies: PolicySource,
  ) {}

  async execute(actor: Actor, id: string): Promise<Grant> {
    if (!GRANT_ID_PATTERN.test(id)) throw DomainError.validation([{ field: 'id', message: 'must be a grant id (UUID)' }]);
    const grant = await this.store.findById(id.toLowerCase());
    if (!grant || !mayRead(grantVisibility(actor, this.policies.current), grant)) {
      throw new DomainError('not_found', `no grant ${id}`, [{ field: 'id', message: 'no such grant' }]);
    }
    return grant;
  }
}

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
