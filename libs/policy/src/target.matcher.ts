import { MatchRelation, Principal, Target, TargetKinds, matchPatterns } from '@jit/domain';
import { TargetMatcher } from './access-policy.schema';

/**
 * Whether one of a rule's matchers covers (allow rules) or touches (the deny-list) a requested
 * target: the principal here, the kind's own fields by the kind's descriptor (`rules.matches`).
 */
export function matchTarget(kinds: TargetKinds, m: TargetMatcher, principal: Principal, target: Target, relation: MatchRelation): boolean {
  if (m.kind !== target.kind) return false;
  const kind = kinds.get(target.kind);
  if (m.principalTypes && !m.principalTypes.includes(principal.type)) return false;
  if (m.principals) {
    // Case-insensitive everywhere: Entra ids are GUIDs, IAM names and GCP member emails ignore case.
    const id = kind.rules.canonicalPrincipal ? kind.rules.canonicalPrincipal(principal.id) : principal.id;
    if (!matchPatterns(m.principals, id, true, relation)) return false;
  }
  return kind.rules.matches(m, target, relation);
}
