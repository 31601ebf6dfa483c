import { DomainError, Grant, GrantRepository, GRANT_ID_PATTERN } from '@jit/domain';
import { PolicySource } from '@jit/policy';
import { Actor } from './actor';
import { grantVisibility, mayRead, noSuchGrant } from './approval-eligibility';

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
      throw noSuchGrant(id);
    }
    return grant;
  }
}
