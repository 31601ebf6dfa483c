import { DomainError, Grant, GrantFilter, GrantStore, Page, GRANT_ID_PATTERN } from '@jit/domain';
import { Actor, readsAllGrants } from './actor';

/** One grant, if the actor may see it; requesters see only their own (others look absent). */
export class GetGrantUseCase {
  constructor(private readonly store: GrantStore) {}

  async execute(actor: Actor, id: string): Promise<Grant> {
    if (!GRANT_ID_PATTERN.test(id)) throw DomainError.validation([{ field: 'id', message: 'must be a grant id (UUID)' }]);
    const grant = await this.store.findById(id.toLowerCase());
    if (!grant || (!readsAllGrants(actor) && grant.requestedBy !== actor.subject)) {
      throw new DomainError('not_found', `no grant ${id}`, [{ field: 'id', message: 'no such grant' }]);
    }
    return grant;
  }
}

export class ListGrantsUseCase {
  constructor(private readonly store: GrantStore) {}

  async execute(actor: Actor, filter: GrantFilter, limit: number, cursor: string | null): Promise<Page<Grant>> {
    if (!readsAllGrants(actor)) {
      if (filter.requester && filter.requester !== actor.subject) {
        throw new DomainError('forbidden', 'requesters can list only their own grants', [{ field: 'requester', message: 'not you' }]);
      }
      filter = { ...filter, requester: actor.subject };
    }
    return this.store.list(filter, limit, cursor);
  }
}
